// Process-wide settings of the CPU backend (set through moe_re_routing_cpu.h) as the aclnn entry
// points read them, and the per-thread report of the last run.
#ifndef MOE_RE_ROUTING_CPU_STATE_H
#define MOE_RE_ROUTING_CPU_STATE_H

#include <string>

#include "moe_re_routing_host.h"

namespace moe_re_routing {
namespace cpu {

Platform CurrentPlatform();

struct TraceSettings {
    bool enabled = false;
    std::string chromeTracePath;  // empty: no Chrome trace file
};
TraceSettings CurrentTrace();

// Replaces the calling thread's MoeReRoutingCpuLastRunJson().
void SetLastRunJson(std::string json);

}  // namespace cpu
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_CPU_STATE_H
