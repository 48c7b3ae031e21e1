// What the framework adapters (framework/onnxruntime/, framework/mindspore/) share: the output
// shapes and dtypes of MoeReRouting from its inputs (op_host's inference), and one call of the operator on host memory
// through the aclnn API. Compiled into each adapter library (the MindSpore one with the old
// std::string ABI), together with op_host/moe_re_routing_infer.cpp, so nothing here crosses a
// library boundary except the aclnn C API.
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

struct Tensor {
    int32_t dtype = kAbsent;    // aclDataType, or kAbsent
    std::vector<int64_t> dims;  // elements per dimension (-1: unknown, during shape inference only)
    void *data = nullptr;       // host memory
};

// Output dtypes and shapes from the inputs' (inputs[0..2]): op_host's InferOutputs (the one rule,
// moe_re_routing_host.h) on these vectors. Never fails: for inputs the operator rejects it still
// returns its best guess (A = tokens' first dimension or 0, E = the counts' last dimension or 1),
// so that the run reaches the aclnn checks and reports their message and status.
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
