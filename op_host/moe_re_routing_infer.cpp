// Output shape and dtype inference of MoeReRouting (pure: no CANN types). The rule is documented
// at InferOutputs in moe_re_routing_host.h; docs/spec.md, "Outputs", is the contract.
#include <algorithm>
#include <cstdint>
#include <string>

#include "moe_re_routing_dtypes.h"
#include "moe_re_routing_host.h"

namespace moe_re_routing {
namespace {

constexpr int32_t kFloatCode = DtypeCode("FLOAT");  // permute_per_token_scales without scales
constexpr int32_t kInt32Code = DtypeCode("INT32");  // permute_token_idx
static_assert(kFloatCode >= 0 && kInt32Code >= 0, "FLOAT and INT32 are in the dtype table");

std::string ShapeText(const ShapeDtype &t)
{
    std::string s = "[";
    const uint32_t shown = std::min(t.dimNum, kMaxDims);
    for (uint32_t i = 0; i < shown; ++i) {
        s += (i ? ", " : "") + std::to_string(t.dims[i]);
    }
    return s + (shown < t.dimNum ? ", ...]" : "]");
}

// A required input must be present; a known rank must be one of `ranks` (and at most kMaxDims).
Result CheckInput(const ShapeDtype &t, const char *name, bool required, uint32_t rankLow, uint32_t rankHigh,
                  const char *layout)
{
    if (!t.present) {
        return required ? Result{kErrParamNullptr, std::string(name) + " is null but is required"} : Result{};
    }
    if (!t.rankKnown) {
        return Result{};
    }
    if (t.dimNum > kMaxDims) {
        return Result{kErrParamInvalid, std::string(name) + " has " + std::to_string(t.dimNum) +
                                            " dimensions, more than " + std::to_string(kMaxDims)};
    }
    if (t.dimNum < rankLow || t.dimNum > rankHigh) {
        return Result{kErrParamInvalid, std::string(name) + " must be " + layout + " but has shape " + ShapeText(t)};
    }
    return Result{};
}

// A 1-D output of `length` and `dtype`.
ShapeDtype Vector(int64_t length, int32_t dtype)
{
    ShapeDtype v;
    v.present = true;
    v.dtype = dtype;
    v.dimNum = 1;
    v.dims[0] = length;
    return v;
}

// An output that copies an input's shape and dtype (an unknown rank stays unknown).
ShapeDtype Like(const ShapeDtype &t)
{
    ShapeDtype o = t;
    o.present = true;
    o.dimNum = std::min(t.dimNum, kMaxDims);
    return o;
}

}  // namespace

Result InferOutputs(const InferInputs &inputs, InferredOutputs *outputs)
{
    const ShapeDtype &tokens = inputs.tokens;
    const ShapeDtype &counts = inputs.expertTokenNumPerRank;
    const ShapeDtype &scales = inputs.perTokenScales;
    const ShapeDtype &weights = inputs.expertTopkWeight;
    // A: tokens' first dimension; E: the counts' last one. Unknown with an unknown rank; for a 0-D
    // input (rejected below) the guesses 0 and 1.
    const int64_t tokenNum = !tokens.rankKnown ? kUnknownDim : tokens.dimNum > 0 ? tokens.dims[0] : 0;
    const int64_t expertNum =
        !counts.rankKnown ? kUnknownDim : counts.dimNum > 0 ? counts.dims[std::min(counts.dimNum, kMaxDims) - 1] : 1;

    InferredOutputs out;
    out.permuteTokens = Like(tokens);
    out.permutePerTokenScales = scales.present ? Like(scales) : Vector(tokenNum, kFloatCode);
    out.permuteTokenIdx = Vector(tokenNum, kInt32Code);
    out.expertTokenNum = Vector(expertNum, counts.dtype);
    if (weights.present) {
        out.permuteTopkWeight = Like(weights);
    }
    *outputs = out;

    Result r;
    if (!(r = CheckInput(tokens, "tokens", true, 2, 2, "2-D [A, H]")).ok() ||
        !(r = CheckInput(counts, "expert_token_num_per_rank", true, 2, 2, "2-D [N, E]")).ok() ||
        !(r = CheckInput(scales, "per_token_scales", false, 1, 2, "1-D [A] or 2-D [A, S]")).ok() ||
        !(r = CheckInput(weights, "expert_topk_weight", false, 1, 2, "[A, 1] or [A]")).ok()) {
        return r;
    }
    return Result{};
}

}  // namespace moe_re_routing
