// Shape and dtype inference of MoeReRouting for the CANN graph: the CANN shapes translated for
// op_host's InferOutputs (moe_re_routing_host.h, the one output rule: permute_tokens = tokens'
// shape; permute_per_token_scales = scales' shape or [A]; permute_token_idx = [A];
// expert_token_num = [E]) and back.
//
// Dynamic shapes: a dimension may be unknown (-1) and a whole shape may be of unknown rank ([-2]).
// Unknown dimensions flow into the outputs unchanged; an input of unknown rank is accepted (its
// rank is checked once known, at tiling): permute_tokens and scales then keep the unknown rank,
// while permute_token_idx and expert_token_num, always 1-D, become [-1]. A known rank other than
// 2 for tokens or expert_token_num_per_rank, or other than 1 or 2 for per_token_scales, is
// reported with the node name and fails.
#include <string>

#include "graph/types.h"
#include "moe_re_routing_cann.h"
#include "moe_re_routing_cann_log.h"
#include "moe_re_routing_host.h"

namespace ge {

using moe_re_routing::kInExpertTokenNumPerRank;
using moe_re_routing::kInExpertTopkWeight;
using moe_re_routing::kOutPermuteTopkWeight;
using moe_re_routing::kInPerTokenScales;
using moe_re_routing::kInTokens;
using moe_re_routing::kOutExpertTokenNum;
using moe_re_routing::kOutPermutePerTokenScales;
using moe_re_routing::kOutPermuteTokenIdx;
using moe_re_routing::kOutPermuteTokens;
using moe_re_routing::ReportCannError;

namespace {

constexpr const char *kInferShape = "InferShape";

// The two dtypes inference sets itself (permute_per_token_scales without scales, the index) have
// the same values as ge::DataType and aclDataType.
static_assert(ge::DT_FLOAT == 0 && ge::DT_INT32 == 3, "ge::DataType and aclDataType disagree on FLOAT or INT32");

// A CANN shape as op_host's inference reads it: null = absent optional input, [-2] = unknown rank,
// -1 = unknown dimension (ge::UNKNOWN_DIM equals moe_re_routing::kUnknownDim).
static_assert(ge::UNKNOWN_DIM == moe_re_routing::kUnknownDim, "unknown-dimension markers disagree");
moe_re_routing::ShapeDtype ToShapeDtype(const gert::Shape *shape)
{
    moe_re_routing::ShapeDtype s;
    if (shape == nullptr) {
        return s;
    }
    s.present = true;
    s.rankKnown = !(shape->GetDimNum() == 1 && shape->GetDim(0) == ge::UNKNOWN_DIM_NUM);
    s.dimNum = static_cast<uint32_t>(shape->GetDimNum());  // more than kMaxDims: reported by InferOutputs
    for (uint32_t i = 0; s.rankKnown && i < s.dimNum && i < moe_re_routing::kMaxDims; ++i) {
        s.dims[i] = shape->GetDim(i);
    }
    return s;
}

void ToShape(const moe_re_routing::ShapeDtype &s, gert::Shape *shape)
{
    if (!s.rankKnown) {
        shape->SetDimNum(1);
        shape->SetDim(0, ge::UNKNOWN_DIM_NUM);
        return;
    }
    shape->SetDimNum(s.dimNum);
    for (uint32_t i = 0; i < s.dimNum; ++i) {
        shape->SetDim(i, s.dims[i]);
    }
}

moe_re_routing::ShapeDtype DtypeOnly(ge::DataType dtype)
{
    moe_re_routing::ShapeDtype s;
    s.present = true;
    s.dtype = static_cast<int32_t>(dtype);
    s.rankKnown = false;
    return s;
}

// InferShape of MoeReRouting, or of MoeReRoutingV2 (`v2`: the optional weight pair too).
ge::graphStatus InferShape(gert::InferShapeContext *context, bool v2)
{
    if (context == nullptr) {
        return ge::GRAPH_FAILED;
    }
    const gert::Shape *tokens = context->GetInputShape(kInTokens);
    const gert::Shape *counts = context->GetInputShape(kInExpertTokenNumPerRank);
    const gert::Shape *scales = context->GetOptionalInputShape(kInPerTokenScales);
    const gert::Shape *weights = v2 ? context->GetOptionalInputShape(kInExpertTopkWeight) : nullptr;
    gert::Shape *permuteTokens = context->GetOutputShape(kOutPermuteTokens);
    gert::Shape *permuteScales = context->GetOutputShape(kOutPermutePerTokenScales);
    gert::Shape *permuteIdx = context->GetOutputShape(kOutPermuteTokenIdx);
    gert::Shape *expertTokenNum = context->GetOutputShape(kOutExpertTokenNum);
    if (tokens == nullptr || counts == nullptr || permuteTokens == nullptr || permuteScales == nullptr ||
        permuteIdx == nullptr || expertTokenNum == nullptr) {
        ReportCannError(context, kInferShape, "the framework passed no shape for a required input or an output");
        return ge::GRAPH_FAILED;
    }
    moe_re_routing::InferInputs in;
    in.tokens = ToShapeDtype(tokens);
    in.expertTokenNumPerRank = ToShapeDtype(counts);
    in.perTokenScales = ToShapeDtype(scales);
    in.expertTopkWeight = ToShapeDtype(weights);
    moe_re_routing::InferredOutputs out;
    const moe_re_routing::Result r = moe_re_routing::InferOutputs(in, &out);
    if (!r.ok()) {
        ReportCannError(context, kInferShape, r.message);
        return ge::GRAPH_FAILED;
    }
    ToShape(out.permuteTokens, permuteTokens);
    ToShape(out.permutePerTokenScales, permuteScales);
    ToShape(out.permuteTokenIdx, permuteIdx);
    ToShape(out.expertTokenNum, expertTokenNum);
    if (out.permuteTopkWeight.present) {
        gert::Shape *permuteWeights = context->GetOutputShape(kOutPermuteTopkWeight);
        if (permuteWeights == nullptr) {
            ReportCannError(context, kInferShape, "expert_topk_weight is given but the graph has no permute_topk_weight");
            return ge::GRAPH_FAILED;
        }
        ToShape(out.permuteTopkWeight, permuteWeights);
    }
    return ge::GRAPH_SUCCESS;
}

ge::graphStatus InferDataType(gert::InferDataTypeContext *context, bool v2)
{
    if (context == nullptr) {
        return ge::GRAPH_FAILED;
    }
    // Shapes do not matter here: the rule gives each output's dtype from the inputs' alone (ranks
    // unknown). ge::DataType values are passed through; the two inference sets itself agree with
    // aclDataType (static_asserts above).
    const ge::DataType scales = context->GetOptionalInputDataType(kInPerTokenScales);
    const ge::DataType weights = v2 ? context->GetOptionalInputDataType(kInExpertTopkWeight) : ge::DT_UNDEFINED;
    moe_re_routing::InferInputs in;
    in.tokens = DtypeOnly(context->GetInputDataType(kInTokens));
    in.expertTokenNumPerRank = DtypeOnly(context->GetInputDataType(kInExpertTokenNumPerRank));
    if (scales != ge::DT_UNDEFINED) {
        in.perTokenScales = DtypeOnly(scales);
    }
    if (weights != ge::DT_UNDEFINED) {
        in.expertTopkWeight = DtypeOnly(weights);
    }
    moe_re_routing::InferredOutputs out;
    (void)moe_re_routing::InferOutputs(in, &out);  // every input present: cannot fail
    context->SetOutputDataType(kOutPermuteTokens, static_cast<ge::DataType>(out.permuteTokens.dtype));
    context->SetOutputDataType(kOutPermutePerTokenScales, static_cast<ge::DataType>(out.permutePerTokenScales.dtype));
    context->SetOutputDataType(kOutPermuteTokenIdx, static_cast<ge::DataType>(out.permuteTokenIdx.dtype));
    context->SetOutputDataType(kOutExpertTokenNum, static_cast<ge::DataType>(out.expertTokenNum.dtype));
    if (out.permuteTopkWeight.present) {
        context->SetOutputDataType(kOutPermuteTopkWeight, static_cast<ge::DataType>(out.permuteTopkWeight.dtype));
    }
    return ge::GRAPH_SUCCESS;
}

}  // namespace

ge::graphStatus InferShapeMoeReRouting(gert::InferShapeContext *context) { return InferShape(context, false); }
ge::graphStatus InferDataTypeMoeReRouting(gert::InferDataTypeContext *context) { return InferDataType(context, false); }
ge::graphStatus InferShapeMoeReRoutingV2(gert::InferShapeContext *context) { return InferShape(context, true); }
ge::graphStatus InferDataTypeMoeReRoutingV2(gert::InferDataTypeContext *context)
{
    return InferDataType(context, true);
}

}  // namespace ge
