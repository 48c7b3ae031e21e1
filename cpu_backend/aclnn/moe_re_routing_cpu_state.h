// Process-wide settings of the CPU backend (set through moe_re_routing_cpu.h) as the aclnn entry
// points read them, and the per-thread report of the last run.
#ifndef MOE_RE_ROUTING_CPU_STATE_H
#define MOE_RE_ROUTING_CPU_STATE_H

#include <string>
#include <vector>

#include "ascendc_cpu/runtime.h"
#include "moe_re_routing_host.h"
#include "moe_re_routing_tiling_data.h"

namespace moe_re_routing {
namespace cpu {

Platform CurrentPlatform();

struct TraceSettings {
    bool enabled = false;
    std::string chromeTracePath;  // empty: no Chrome trace file
};
TraceSettings CurrentTrace();

// What MoeReRoutingCpuLastRunJson() reports about a run. Recorded on every run, formatted as
// JSON only when asked for (formatting costs about a microsecond, a large share of a small call).
struct LastRun {
    MoeReRoutingTilingData tiling{};
    uint32_t blockDim = 0;
    uint32_t platformUbBytes = 0;
    bool sequential = false;
    bool traced = false;
    std::vector<ascendc_cpu::CoreTrace> cores;  // filled when traced
};

// Replaces the calling thread's last run (cores are taken over).
void SetLastRun(const MoeReRoutingTilingData &tiling, const ascendc_cpu::LaunchConfig &config,
                std::vector<ascendc_cpu::CoreTrace> *cores);

}  // namespace cpu
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_CPU_STATE_H
