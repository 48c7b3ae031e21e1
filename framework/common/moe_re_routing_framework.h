// What the framework adapters (framework/onnxruntime/, framework/mindspore/) share: the three
// operators they expose (MoeReRouting; MoeReRoutingV2, which adds the optional weight pair;
// MoeReRoutingWithCapacity, V2 on fixed per-rank slots of num_max_tokens_per_rank rows), the
// output shapes and dtypes from the inputs (op_host's inference), and one call of either operator
// on host memory through its aclnn API. Compiled into each adapter library (the MindSpore one with
// the old std::string ABI), together with op_host/moe_re_routing_infer.cpp, so nothing here
// crosses a library boundary except the aclnn C API.
// Output rules: docs/spec.md (the operator contract).
#ifndef MOE_RE_ROUTING_FRAMEWORK_H
#define MOE_RE_ROUTING_FRAMEWORK_H

#include <cstdint>
#include <string>
#include <vector>

namespace moe_re_routing {
namespace framework {

// Every call works on the nine tensors of MoeReRoutingV2, in the order of
// aclnnMoeReRoutingV2GetWorkspaceSize: the inputs, then the outputs. MoeReRouting is the same
// without the weight pair (kWeights, kPermuteWeights stay absent); MoeReRoutingWithCapacity has the
// same nine (its rows are N * num_max_tokens_per_rank).
enum Slot : int {
    kTokens = 0,          // tokens [A, H]
    kCounts = 1,          // expert_token_num_per_rank [N, E]
    kScales = 2,          // per_token_scales (optional) [A] or [A, S]
    kWeights = 3,         // expert_topk_weight (optional, V2) [A, 1] or [A]
    kPermuteTokens = 4,   // permute_tokens
    kPermuteScales = 5,   // permute_per_token_scales
    kPermuteIdx = 6,      // permute_token_idx
    kExpertTokenNum = 7,  // expert_token_num
    kPermuteWeights = 8,  // permute_topk_weight (optional, V2)
    kSlotCount = 9,
};
constexpr int kInputSlots = 4;   // slots [0, 4) are inputs
constexpr int kOutputSlots = 5;  // slots [4, 9) are outputs
constexpr int32_t kAbsent = -1;  // dtype of an absent optional tensor

extern const char *const kSlotNames[kSlotCount];  // "tokens", ..., "permute_topk_weight"

// One of the three operators: its name, how many of the inputs and outputs it has (a framework's
// input i is slot i, its output o is slot kInputSlots + o).
struct OpSpec {
    const char *name;  // "MoeReRouting", "MoeReRoutingV2", "MoeReRoutingWithCapacity"
    int inputCount;    // 3, 4, 4
    int outputCount;   // 4, 5, 5
    bool v2;           // has the weight pair (runs aclnnMoeReRoutingV2 unless `capacity`)
    bool capacity;     // runs aclnnMoeReRoutingWithCapacity (Attributes' capacity pair applies)
};
extern const OpSpec kMoeReRouting;
extern const OpSpec kMoeReRoutingV2;
extern const OpSpec kMoeReRoutingWithCapacity;

// The operator attributes (defaults: the OpDef's). numMaxTokensPerRank and restore are
// MoeReRoutingWithCapacity's only (ignored by the other two); numMaxTokensPerRank 0 is "not given",
// which the operator rejects naming num_max_tokens_per_rank.
struct Attributes {
    int64_t expertTokenNumType = 1;  // 1 count, 0 cumsum
    int64_t idxType = 0;             // 0 gather, 1 scatter
    int64_t numMaxTokensPerRank = 0;
    bool restore = false;
};

constexpr int OutputSlot(int output)
{
    return kInputSlots + output;
}

struct Tensor {
    int32_t dtype = kAbsent;    // aclDataType, or kAbsent
    std::vector<int64_t> dims;  // elements per dimension (-1: unknown, during shape inference only)
    void *data = nullptr;       // host memory
};

// The output slots' dtypes and shapes from the input slots': op_host's InferOutputs (the one rule,
// moe_re_routing_host.h). permute_topk_weight is present iff expert_topk_weight is. Never fails:
// for inputs the operator rejects it still fills its best guess (A = tokens' first dimension or 0,
// E = the counts' last dimension or 1), so that the run reaches the aclnn checks and reports their
// message and status.
void InferOutputs(Tensor tensors[kSlotCount]);

// Runs `op` on host buffers. Returns the aclnn status; on failure *message is
// "<STATUS NAME> (<code>): <aclGetRecentErrMsg()>". The CPU backend runs the buffers in place
// (MoeReRoutingCpuRunHost / MoeReRoutingCpuRunHostV2 / MoeReRoutingCpuRunHostWithCapacity); with
// MOE_RE_ROUTING_FRAMEWORK_DEVICE_COPY (the CANN build) they are copied to device memory
// (aclrtMalloc/aclrtMemcpy), run with the two aclnn phases of aclnnMoeReRouting,
// aclnnMoeReRoutingV2 or aclnnMoeReRoutingWithCapacity on a stream, and the outputs copied back.
// MoeReRouting ignores the weight slots.
int32_t Run(const OpSpec &op, const Tensor tensors[kSlotCount], const Attributes &attrs, std::string *message);

}  // namespace framework
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_FRAMEWORK_H
