// The native CPU implementation of MoeReRouting: what libmoe_re_routing runs by default (engine
// "native"). Plain row-block copies on host memory, the destination rows split over threads with
// the kernel's own split (op_kernel/moe_re_routing_split.h). The Ascend C kernel on the emulator is
// the other engine; the test suites hold both against an independent reference, bit-exact.
#ifndef MOE_RE_ROUTING_NATIVE_H
#define MOE_RE_ROUTING_NATIVE_H

#include <cstdint>

#include "moe_re_routing_host.h"

namespace moe_re_routing {
namespace native {

// The tensors of one call, in host memory, laid out as docs/spec.md describes. The aclnn API takes
// any address, so none of them needs to be aligned to its element size.
struct Buffers {
    const uint8_t *tokens = nullptr;          // [A, tokenRowBytes]
    const void *counts = nullptr;             // [N, E] int32 or int64 (problem.countBytes)
    const uint8_t *scales = nullptr;          // [A, scaleRowBytes], null when absent
    uint8_t *permuteTokens = nullptr;         // [A, tokenRowBytes]
    uint8_t *permuteScales = nullptr;         // [A, outScaleRowBytes]
    void *permuteTokenIdx = nullptr;          // [A] int32
    void *expertTokenNum = nullptr;           // [E], dtype of the counts
    const uint8_t *weights = nullptr;         // [A, weightRowBytes] (MoeReRoutingV2), null when absent
    uint8_t *permuteWeights = nullptr;        // [A, weightRowBytes], null when absent
};

// Bytes a thread should move at least before a call is split over more threads: below it the
// hand-off costs more than the copy saves.
inline constexpr int64_t kMinBytesPerThread = 512 * 1024;


// Runs `problem` (checked by CheckArgs) on `buffers`. The counts are read again here, since they may
// have changed since CheckCountValues; counts that are negative or do not sum to A fail with
// kErrParamInvalid before any output byte is written. Returns the status with its message.
Result Run(const Problem &problem, const Buffers &buffers);

// Bytes one call of `problem` reads and writes (what kMinBytesPerThread is compared with).
int64_t MovedBytes(const Problem &problem);

// Threads Run may use for one call of `problem` (1 for small problems; at most ThreadCount()).
uint32_t PartsFor(const Problem &problem);

}  // namespace native
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_NATIVE_H
