// What the framework adapters (framework/onnxruntime/, framework/mindspore/) share: the output
// shapes and dtypes of MoeReRouting from its inputs, and one call of the operator on host memory
// through the aclnn API. Compiled into each adapter library (the MindSpore one with the old
// std::string ABI), so nothing here crosses a library boundary except the aclnn C API.
// Output rules: docs/spec.md (the operator contract).
#ifndef MOE_RE_ROUTING_FRAMEWORK_H
#define MOE_RE_ROUTING_FRAMEWORK_H

#include <cstdint>
#include <string>
#include <vector>

namespace moe_re_routing {
namespace framework {

constexpr int kInputCount = 3;   // tokens, expert_token_num_per_rank, per_token_scales (optional)
constexpr int kOutputCount = 4;  // permute_tokens, permute_per_token_scales, permute_token_idx, expert_token_num
constexpr int kTensorCount = kInputCount + kOutputCount;
constexpr int kScalesInput = 2;
constexpr int32_t kAbsent = -1;  // dtype of an absent optional input

constexpr int32_t kAclFloat = 0;  // aclDataType values (acl_base.h)
constexpr int32_t kAclInt32 = 3;

struct Tensor {
    int32_t dtype = kAbsent;    // aclDataType, or kAbsent
    std::vector<int64_t> dims;  // elements per dimension (-1: unknown, during shape inference only)
    void *data = nullptr;       // host memory
};

// Output dtypes and shapes from the inputs' (inputs[0..2]). Never fails: for inputs the operator
// rejects it still returns some shape (A = tokens' first dimension or 0, E = the counts' last
// dimension or 1), so that the run reaches the aclnn checks and reports their message.
void InferOutputs(const Tensor inputs[kInputCount], Tensor outputs[kOutputCount]);

// Runs MoeReRouting on host buffers (inputs then outputs, in the order of
// aclnnMoeReRoutingGetWorkspaceSize). Returns the aclnn status; on failure *message is
// "<STATUS NAME> (<code>): <aclGetRecentErrMsg()>". The CPU backend runs the buffers in place
// (MoeReRoutingCpuRunHost); with MOE_RE_ROUTING_FRAMEWORK_DEVICE_COPY (the CANN build) they are
// copied to device memory (aclrtMalloc/aclrtMemcpy), run with the two aclnn phases on a stream, and
// the outputs copied back.
int32_t Run(const Tensor tensors[kTensorCount], int64_t expertTokenNumType, int64_t idxType, std::string *message);

}  // namespace framework
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_FRAMEWORK_H
