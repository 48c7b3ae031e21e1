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

// The platform a run uses, with the name reports give it: a SoC of the table
// (ascendc_cpu/platform.h), "custom" (numbers set by hand) or "host" (the host-sized platform).
struct RunPlatform {
    Platform platform;
    const char *name = "";  // static storage: a table name or a literal
    ascendc_cpu::Arch arch = ascendc_cpu::kDefaultSoc.arch;  // the SoC's (host: the default SoC's)
};

// The platform of a run started now: the selected one, or under the automatic selection (the
// default) the host-sized platform in fast mode and the SoC platform in checked mode or when
// `profiling` (the run writes a profile, which models the NPU).
RunPlatform CurrentPlatform(bool profiling = false);

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
    uint32_t platformCores = 0;
    const char *platformName = "";
    bool sequential = false;
    bool traced = false;
    std::vector<ascendc_cpu::CoreTrace> cores;  // filled when traced
};

// Replaces the calling thread's last run (cores are taken over).
void SetLastRun(const MoeReRoutingTilingData &tiling, const RunPlatform &platform,
                const ascendc_cpu::LaunchConfig &config, std::vector<ascendc_cpu::CoreTrace> *cores);

}  // namespace cpu
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_CPU_STATE_H
