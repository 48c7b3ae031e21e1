// The msprof op simulator look-alike (docs/profiling.md): per core, instruction and kernel source
// line, the time model (time_model.h) applied to every instruction the emulator recorded. Every
// figure it writes is *modelled*, never measured.
#ifndef MOE_RE_ROUTING_SIMULATOR_PROFILE_H
#define MOE_RE_ROUTING_SIMULATOR_PROFILE_H

#include <cstdint>
#include <string>
#include <vector>

#include "time_model.h"

namespace moe_re_routing {
namespace model {

// Whether profiled aclnn calls also write simulator/: MoeReRoutingCpuSetProfileSimulator, initially
// the environment variable MOE_RE_ROUTING_PROFILE_SIMULATOR (set and not "0": on).
bool ProfileSimulatorEnabled();

// The directory of block `block` as A2/A3 name it: two vector cores per AI core, so block b is
// "core<b/2>.veccore<b%2>".
std::string SimulatorCoreName(uint32_t block);

// A recorded source file as the profile names it: relative to the source tree the library was
// built from ("op_kernel/moe_re_routing.cpp"), or as recorded when it lies elsewhere.
std::string SourceName(const char *file);

// One core's instructions priced by the model, in issue order: cycles[i] are whole modelled cycles
// of record i (per pipe, rounded cumulatively so that they add up to exactly UsToCycles of the
// pipe's term of Evaluate).
struct PricedCore {
    std::vector<InstructionCost> costs;
    std::vector<int64_t> cycles;
    int64_t pipeCycles[static_cast<int>(ModelPipe::kCount)] = {};
};

// Prices `trace.instructions` with the fitted parameters; `time` is the core's Evaluate result.
// False (with *error) when the records do not add up to the model's pipe times (a record missing).
bool PriceCore(const ascendc_cpu::CoreTrace &trace, const MoeReRoutingModelCoreTime &time, PricedCore *priced,
               std::string *error);

// Writes <opprofDir>/simulator/ (see docs/profiling.md): per core core<i>.veccore<j>/ with
// core<i>.veccore<j>_code_exe.csv, core<i>.veccore<j>_instr_exe.csv and trace.json, and a summary
// trace.json and README.txt. `times`: Evaluate's per-core result; taskUs, hbmUs: the kernel's
// modelled duration and its HBM-bound term.
bool WriteSimulatorTree(const std::string &opprofDir, const ProfileRun &run,
                        const std::vector<MoeReRoutingModelCoreTime> &times, double taskUs, double hbmUs,
                        std::string *error);

}  // namespace model
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_SIMULATOR_PROFILE_H
