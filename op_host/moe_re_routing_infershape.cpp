// Shape and dtype inference of MoeReRouting for the CANN graph (docs/spec.md, "Inputs" and
// "Outputs"): permute_tokens = tokens' shape; permute_per_token_scales = scales' shape or [A];
// permute_token_idx = [A]; expert_token_num = [E].
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

namespace ge {

using moe_re_routing::kInExpertTokenNumPerRank;
using moe_re_routing::kInPerTokenScales;
using moe_re_routing::kInTokens;
using moe_re_routing::kOutExpertTokenNum;
using moe_re_routing::kOutPermutePerTokenScales;
using moe_re_routing::kOutPermuteTokenIdx;
using moe_re_routing::kOutPermuteTokens;
using moe_re_routing::ReportCannError;

namespace {

constexpr size_t kTokensRank = 2;
constexpr size_t kCountsRank = 2;
constexpr const char *kInferShape = "InferShape";

// [-2]: the rank itself is not known yet.
bool IsUnknownRank(const gert::Shape &shape)
{
    return shape.GetDimNum() == 1 && shape.GetDim(0) == ge::UNKNOWN_DIM_NUM;
}

void SetVector(gert::Shape *shape, int64_t length)
{
    shape->SetDimNum(1);
    shape->SetDim(0, length);
}

ge::graphStatus RankError(const gert::InferShapeContext *context, const char *name, const char *expected,
                          size_t actual)
{
    ReportCannError(context, kInferShape,
                    std::string(name) + " must be " + expected + ", got rank " + std::to_string(actual));
    return ge::GRAPH_FAILED;
}

}  // namespace

ge::graphStatus InferShapeMoeReRouting(gert::InferShapeContext *context)
{
    if (context == nullptr) {
        return ge::GRAPH_FAILED;
    }
    const gert::Shape *tokens = context->GetInputShape(kInTokens);
    const gert::Shape *counts = context->GetInputShape(kInExpertTokenNumPerRank);
    const gert::Shape *scales = context->GetOptionalInputShape(kInPerTokenScales);
    gert::Shape *permuteTokens = context->GetOutputShape(kOutPermuteTokens);
    gert::Shape *permuteScales = context->GetOutputShape(kOutPermutePerTokenScales);
    gert::Shape *permuteIdx = context->GetOutputShape(kOutPermuteTokenIdx);
    gert::Shape *expertTokenNum = context->GetOutputShape(kOutExpertTokenNum);
    if (tokens == nullptr || counts == nullptr || permuteTokens == nullptr || permuteScales == nullptr ||
        permuteIdx == nullptr || expertTokenNum == nullptr) {
        ReportCannError(context, kInferShape, "the framework passed no shape for a required input or an output");
        return ge::GRAPH_FAILED;
    }
    const bool tokensRankKnown = !IsUnknownRank(*tokens);
    const bool countsRankKnown = !IsUnknownRank(*counts);
    if (tokensRankKnown && tokens->GetDimNum() != kTokensRank) {
        return RankError(context, "tokens", "2-D [A, H]", tokens->GetDimNum());
    }
    if (countsRankKnown && counts->GetDimNum() != kCountsRank) {
        return RankError(context, "expert_token_num_per_rank", "2-D [N, E]", counts->GetDimNum());
    }
    if (scales != nullptr && !IsUnknownRank(*scales) && scales->GetDimNum() != 1 && scales->GetDimNum() != 2) {
        return RankError(context, "per_token_scales", "1-D [A] or 2-D [A, S]", scales->GetDimNum());
    }

    const int64_t tokenNum = tokensRankKnown ? tokens->GetDim(0) : ge::UNKNOWN_DIM;  // A, may be -1
    *permuteTokens = *tokens;  // [A, H], unknown dims and unknown rank alike
    if (scales != nullptr) {
        *permuteScales = *scales;
    } else {
        SetVector(permuteScales, tokenNum);  // absent scales: [A] FLOAT zeros
    }
    SetVector(permuteIdx, tokenNum);
    SetVector(expertTokenNum, countsRankKnown ? counts->GetDim(1) : ge::UNKNOWN_DIM);  // [E]
    return ge::GRAPH_SUCCESS;
}

ge::graphStatus InferDataTypeMoeReRouting(gert::InferDataTypeContext *context)
{
    if (context == nullptr) {
        return ge::GRAPH_FAILED;
    }
    const ge::DataType scales = context->GetOptionalInputDataType(kInPerTokenScales);
    context->SetOutputDataType(kOutPermuteTokens, context->GetInputDataType(kInTokens));
    context->SetOutputDataType(kOutPermutePerTokenScales, scales != ge::DT_UNDEFINED ? scales : ge::DT_FLOAT);
    context->SetOutputDataType(kOutPermuteTokenIdx, ge::DT_INT32);
    context->SetOutputDataType(kOutExpertTokenNum, context->GetInputDataType(kInExpertTokenNumPerRank));
    return ge::GRAPH_SUCCESS;
}

}  // namespace ge
