// Process-wide settings of the CPU backend (set through moe_re_routing_cpu.h) as the aclnn entry
// points read them, and the per-thread report of the last run.
#ifndef MOE_RE_ROUTING_CPU_STATE_H
#define MOE_RE_ROUTING_CPU_STATE_H

#include <cstdint>
#include <string>
#include <vector>

#include "ascendc_cpu/platform.h"
#include "ascendc_cpu/runtime.h"
#include "emulator_plugin.h"
#include "moe_re_routing_host.h"
#include "moe_re_routing_tiling_data.h"

namespace moe_re_routing {
namespace cpu {

// The SoC platform the emulator engine tiles for, with the name reports give it: a SoC of the
// table (ascendc_cpu/platform.h) or "custom" (numbers set by hand).
struct RunPlatform {
    Platform platform;
    const char *name = "";  // static storage: a table name or a literal
    ascendc_cpu::Arch arch = ascendc_cpu::kDefaultSoc.arch;
};

// The platform of an emulator run started now (MoeReRoutingCpuSelectPlatform / SetPlatform).
RunPlatform CurrentPlatform();

// Emulator threads (MoeReRoutingCpuSetThreads; 0: the emulator's default).
uint32_t EmulatorThreads();

struct TraceSettings {
    bool enabled = false;
    std::string chromeTracePath;  // empty: no Chrome trace file
};
TraceSettings CurrentTrace();

// What MoeReRoutingCpuLastRunJson() reports about a run. Recorded on every run, formatted as
// JSON only when asked for (formatting costs about a microsecond, a large share of a small call).
struct LastRun {
    bool emulated = false;  // false: the native implementation ran (tiling and cores are empty)
    Problem problem;        // native runs
    uint32_t threads = 0;   // native runs: threads the call was split over
    MoeReRoutingTilingData tiling{};
    MoeReRoutingTilingReport report;
    uint32_t blockDim = 0;
    uint32_t platformUbBytes = 0;
    uint32_t platformCores = 0;
    const char *platformName = "";
    bool sequential = false;
    bool traced = false;
    std::vector<ascendc_cpu::CoreTrace> cores;  // filled when traced
};

// Replaces the calling thread's last run with an emulator run (cores are taken over).
void SetLastRun(const MoeReRoutingTilingData &tiling, const MoeReRoutingTilingReport &report,
                const RunPlatform &platform, const emulator::LaunchSettings &config,
                std::vector<ascendc_cpu::CoreTrace> *cores);

// Replaces the calling thread's last run with a native run split over `threads`.
void SetLastNativeRun(const Problem &problem, uint32_t threads);

}  // namespace cpu
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_CPU_STATE_H
