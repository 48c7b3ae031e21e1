// MoeReRoutingInferOutputs (moe_re_routing_cpu.h): op_host's output inference (InferOutputs in
// moe_re_routing_host.h, the one output rule) for language bindings, on flat int64 arrays.
#include <cstdint>
#include <exception>
#include <string>

#include "acl_cpu_internal.h"
#include "moe_re_routing_cpu.h"
#include "moe_re_routing_host.h"

namespace moe_re_routing {
namespace {

static_assert(MOE_RE_ROUTING_MAX_DIMS == kMaxDims, "MOE_RE_ROUTING_MAX_DIMS and op_host's kMaxDims disagree");
static_assert(MOE_RE_ROUTING_INFER_SLOT == 2 + kMaxDims, "an output slot is {dtype, dimNum, dims[kMaxDims]}");
static_assert(MOE_RE_ROUTING_INFER_OUTPUTS_LEN == 5 * MOE_RE_ROUTING_INFER_SLOT,
              "five output slots: the four outputs and MoeReRoutingV2's permute_topk_weight");

constexpr int64_t kUnknownRank = -1;  // dimNum of an input or output whose rank is not known

aclnnStatus Fail(const Result &result)
{
    acl_cpu::SetRecentError(static_cast<int32_t>(result.Kind()), result.message);
    return result.status;
}

// Reads one input {dtype, dimNum, dims...} at desc[*at] ({-1, 0}: absent); advances *at.
Result ReadInput(const int64_t *desc, int64_t descLen, int64_t *at, const char *name, ShapeDtype *out)
{
    const std::string where = std::string("MoeReRoutingInferOutputs: inputs ");
    if (*at + 2 > descLen) {
        return Result{kErrParamInvalid, where + "end before " + name};
    }
    const int64_t dtype = desc[*at];
    const int64_t dimNum = desc[*at + 1];
    *at += 2;
    if (dtype == kUnknownDtype && dimNum == 0) {
        return Result{};  // absent: {-1, 0} (InferOutputs reports a required input missing)
    }
    if (dtype != static_cast<int32_t>(dtype)) {
        return Result{kErrParamInvalid, where + "give " + name + " the dtype code " + std::to_string(dtype) +
                                            ", outside aclDataType",
                      ErrorKind::kType};
    }
    out->present = true;
    out->dtype = static_cast<int32_t>(dtype);
    if (dimNum == kUnknownRank) {
        out->rankKnown = false;
        return Result{};
    }
    if (dimNum < 0 || dimNum > descLen - *at) {
        return Result{kErrParamInvalid, where + "give " + name + " " + std::to_string(dimNum) +
                                            " dimensions, but " + std::to_string(descLen - *at) + " values follow"};
    }
    out->dimNum = static_cast<uint32_t>(dimNum);  // more than kMaxDims: InferOutputs says so
    for (int64_t d = 0; d < dimNum; ++d) {
        if (desc[*at + d] < kUnknownDim) {
            return Result{kErrParamInvalid, std::string(name) + " has dimension " + std::to_string(desc[*at + d]) +
                                                " but dimensions must be >= 0 (or -1: not known)"};
        }
        if (d < static_cast<int64_t>(kMaxDims)) {
            out->dims[d] = desc[*at + d];
        }
    }
    *at += dimNum;
    return Result{};
}

void WriteOutput(const ShapeDtype &s, int64_t *slot)
{
    if (!s.present) {  // permute_topk_weight without expert_topk_weight: {-1, 0, 0...}
        slot[0] = kUnknownDtype;
        for (uint32_t i = 1; i < MOE_RE_ROUTING_INFER_SLOT; ++i) {
            slot[i] = 0;
        }
        return;
    }
    slot[0] = s.dtype;
    slot[1] = s.rankKnown ? static_cast<int64_t>(s.dimNum) : kUnknownRank;
    for (uint32_t i = 0; i < kMaxDims; ++i) {
        slot[2 + i] = s.rankKnown && i < s.dimNum ? s.dims[i] : 0;
    }
}

}  // namespace
}  // namespace moe_re_routing

extern "C" aclnnStatus MoeReRoutingInferOutputs(const int64_t *inputs, int64_t inputsLen, int64_t *outputs)
{
    using namespace moe_re_routing;
    acl_cpu::ClearRecentError();
    if (inputs == nullptr || outputs == nullptr) {
        return Fail(Result{kErrParamNullptr, std::string("MoeReRoutingInferOutputs: ") +
                                                 (inputs == nullptr ? "inputs" : "outputs") + " is null"});
    }
    try {
        InferInputs in;
        int64_t at = 0;
        Result r;
        if (!(r = ReadInput(inputs, inputsLen, &at, "tokens", &in.tokens)).ok() ||
            !(r = ReadInput(inputs, inputsLen, &at, "expert_token_num_per_rank", &in.expertTokenNumPerRank))
                 .ok() ||
            !(r = ReadInput(inputs, inputsLen, &at, "per_token_scales", &in.perTokenScales)).ok() ||
            (at < inputsLen &&  // MoeReRoutingV2's optional fourth input
             !(r = ReadInput(inputs, inputsLen, &at, "expert_topk_weight", &in.expertTopkWeight)).ok())) {
            return Fail(r);
        }
        if (at != inputsLen) {
            return Fail(Result{kErrParamInvalid, "MoeReRoutingInferOutputs: inputs hold " + std::to_string(inputsLen) +
                                                     " values but the tensors use " + std::to_string(at)});
        }
        InferredOutputs out;
        if (!(r = InferOutputs(in, &out)).ok()) {
            return Fail(r);  // nothing written
        }
        WriteOutput(out.permuteTokens, outputs);
        WriteOutput(out.permutePerTokenScales, outputs + MOE_RE_ROUTING_INFER_SLOT);
        WriteOutput(out.permuteTokenIdx, outputs + 2 * MOE_RE_ROUTING_INFER_SLOT);
        WriteOutput(out.expertTokenNum, outputs + 3 * MOE_RE_ROUTING_INFER_SLOT);
        WriteOutput(out.permuteTopkWeight, outputs + 4 * MOE_RE_ROUTING_INFER_SLOT);
        return kSuccess;
    } catch (const std::exception &e) {  // bad_alloc of a message: nothing escapes a C API
        return Fail(Result{kErrInner, std::string("MoeReRoutingInferOutputs: ") + e.what()});
    }
}
