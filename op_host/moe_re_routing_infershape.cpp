// Shape and dtype inference of MoeReRouting for the CANN graph (see docs/spec.md, "Inputs" and
// "Outputs"): permute_tokens = tokens' shape; permute_per_token_scales = scales' shape or [A];
// permute_token_idx = [A]; expert_token_num = [E].
#include "moe_re_routing_cann.h"

namespace ge {

using moe_re_routing::kInExpertTokenNumPerRank;
using moe_re_routing::kInPerTokenScales;
using moe_re_routing::kInTokens;
using moe_re_routing::kOutExpertTokenNum;
using moe_re_routing::kOutPermutePerTokenScales;
using moe_re_routing::kOutPermuteTokenIdx;
using moe_re_routing::kOutPermuteTokens;

namespace {
constexpr size_t kTokensRank = 2;
constexpr size_t kCountsRank = 2;
}  // namespace

ge::graphStatus InferShapeMoeReRouting(gert::InferShapeContext *context)
{
    const gert::Shape *tokens = context->GetInputShape(kInTokens);
    const gert::Shape *counts = context->GetInputShape(kInExpertTokenNumPerRank);
    const gert::Shape *scales = context->GetOptionalInputShape(kInPerTokenScales);
    gert::Shape *permuteTokens = context->GetOutputShape(kOutPermuteTokens);
    gert::Shape *permuteScales = context->GetOutputShape(kOutPermutePerTokenScales);
    gert::Shape *permuteIdx = context->GetOutputShape(kOutPermuteTokenIdx);
    gert::Shape *expertTokenNum = context->GetOutputShape(kOutExpertTokenNum);
    if (tokens == nullptr || counts == nullptr || permuteTokens == nullptr || permuteScales == nullptr ||
        permuteIdx == nullptr || expertTokenNum == nullptr || tokens->GetDimNum() != kTokensRank ||
        counts->GetDimNum() != kCountsRank) {
        return ge::GRAPH_FAILED;
    }
    const int64_t tokenNum = tokens->GetDim(0);
    *permuteTokens = *tokens;
    if (scales != nullptr && scales->GetDimNum() > 0) {
        *permuteScales = *scales;
    } else {
        permuteScales->SetDimNum(1);
        permuteScales->SetDim(0, tokenNum);
    }
    permuteIdx->SetDimNum(1);
    permuteIdx->SetDim(0, tokenNum);
    expertTokenNum->SetDimNum(1);
    expertTokenNum->SetDim(0, counts->GetDim(1));
    return ge::GRAPH_SUCCESS;
}

ge::graphStatus InferDataTypeMoeReRouting(gert::InferDataTypeContext *context)
{
    const ge::DataType scales = context->GetOptionalInputDataType(kInPerTokenScales);
    context->SetOutputDataType(kOutPermuteTokens, context->GetInputDataType(kInTokens));
    context->SetOutputDataType(kOutPermutePerTokenScales, scales != ge::DT_UNDEFINED ? scales : ge::DT_FLOAT);
    context->SetOutputDataType(kOutPermuteTokenIdx, ge::DT_INT32);
    context->SetOutputDataType(kOutExpertTokenNum, context->GetInputDataType(kInExpertTokenNumPerRank));
    return ge::GRAPH_SUCCESS;
}

}  // namespace ge
