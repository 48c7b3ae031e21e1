// A small fork-join pool for the native implementation: the caller and up to `threads - 1`
// persistent workers each run one part of a job. One job runs at a time; a caller that finds the
// pool busy (another application thread is inside a call) runs its parts itself instead of
// waiting, so concurrent calls never block each other.
#ifndef MOE_RE_ROUTING_NATIVE_PARALLEL_H
#define MOE_RE_ROUTING_NATIVE_PARALLEL_H

#include <cstdint>
#include <functional>

namespace moe_re_routing {
namespace native {

// Threads a job may use (the caller included); 0 = the hardware concurrency. Changing it stops the
// workers; they are started again on the next parallel job.
void SetThreadCount(uint32_t threads);
uint32_t ThreadCount();

// Runs part(0) .. part(parts - 1), each exactly once, and returns when all have finished. parts
// <= ThreadCount() run concurrently (the caller runs part 0); more parts, or a busy pool, run one
// after another on the caller. `part` must not throw.
void RunParts(uint32_t parts, const std::function<void(uint32_t)> &part);

}  // namespace native
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_NATIVE_PARALLEL_H
