// The time model of a vector-core kernel run (docs/time_model.md): a modelled Atlas A2 time from
// the emulator's per-core trace, and msprof-shaped profile directories built from it. Nothing here
// is measured on an NPU: every time is *modelled*.
#ifndef MOE_RE_ROUTING_TIME_MODEL_H
#define MOE_RE_ROUTING_TIME_MODEL_H

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ascendc_cpu/runtime.h"
#include "moe_re_routing_cpu.h"

namespace moe_re_routing {
namespace model {

// What the model reads of one emulated core's trace (docs/time_model.md, "What the model reads"):
// the one place a CoreTrace becomes model input (the library, the calibration tool and tests).
inline MoeReRoutingModelCore FromTrace(const ascendc_cpu::CoreTrace &t)
{
    MoeReRoutingModelCore c{};
    c.bytesIn = static_cast<double>(t.bytesIn);
    c.bytesOut = static_cast<double>(t.bytesOut);
    for (const ascendc_cpu::DmaOp &d : t.dma) {
        if (d.bytes == 0) {
            continue;  // a documented no-op
        }
        if (std::strcmp(d.direction, "GM->UB") == 0) {
            c.dmaInOps += 1.0;
        } else if (std::strcmp(d.direction, "UB->GM") == 0) {
            c.dmaOutOps += 1.0;
        }
    }
    c.gmScalarOps = static_cast<double>(t.scalarGmReads + t.scalarGmWrites);
    c.scalarUbOps = static_cast<double>(t.scalarUbReads + t.scalarUbWrites);
    c.vectorOps = static_cast<double>(t.vectorOps);
    return c;
}

// The kernel's modelled time in microseconds (params: MOE_RE_ROUTING_MODEL_PARAM_COUNT values in
// the order of MoeReRoutingModelParameters); perCore (may be null) receives one entry per core.
double Evaluate(const MoeReRoutingModelCore *cores, int32_t coreNum, const double *params,
                MoeReRoutingModelCoreTime *perCore);

// The calibrated parameters (time_model_fit.inc).
const double *FittedParameters();

// The clock assumed for Atlas A2 AI cores, used only to express modelled times as cycles
// (OpBasicInfo's Current/Rated Freq, aiv_total_cycles, the simulator tree's cycles).
constexpr int kAssumedFreqMhz = 1800;

// Modelled microseconds as whole cycles at kAssumedFreqMhz (rounded to nearest).
int64_t UsToCycles(double us);
// A core's modelled cycles, the model's core time in whole cycles: each pipe's time rounded to
// cycles, then SCALAR + max(VECTOR, MTE2, MTE3) (PipeUtilization's aiv_total_cycles; the
// simulator tree's per-pipe cycles add up to exactly these).
int64_t CoreCycles(const MoeReRoutingModelCoreTime &time);

// The pipes the model prices, in the order of the profile's lanes. FLOWCTRL holds the
// synchronisation instructions (flags, barriers, queue operations), which the model prices at 0.
enum class ModelPipe : uint8_t { kScalar, kVector, kMte2, kMte3, kFlowCtrl, kCount };
const char *ModelPipeName(ModelPipe pipe);  // "SCALAR", "VECTOR", "MTE2", "MTE3", "FLOWCTRL"

// The model applied to one instruction (docs/profiling.md): the pipe it occupies and its modelled
// busy time in microseconds with `params` (null = the fitted ones). Per core, the costs of all
// instructions on a pipe add up to that pipe's term of Evaluate (MTE2 = dma_in_ops * dma_us +
// bytes_in / core_gbps, ...), because each priced instruction is exactly one unit of the counts
// FromTrace reads.
struct InstructionCost {
    ModelPipe pipe;
    double us;
};
InstructionCost PriceInstruction(const ascendc_cpu::InstrRecord &record, const double *params);

// What a profile needs to know about the run.
struct ProfileRun {
    std::string opName = "MoeReRouting";
    std::string shapeText;  // e.g. "tokens [1024,512] FLOAT16, counts [8,8] INT32, scales [1024]"
    uint32_t blockDim = 0;
    uint32_t platformCores = 0;    // AIV cores the tiling planned for
    uint32_t platformUbBytes = 0;  // UB per core the tiling planned for
    std::vector<ascendc_cpu::CoreTrace> cores;
    bool simulator = false;  // also write simulator/ (needs CoreTrace::instructions; simulator_profile.h)
};

// Writes <dir>/OPPROF_<timestamp>_<id>/ (OpBasicInfo.csv, PipeUtilization.csv, trace.json,
// README.txt) for one run, times from the model with the fitted parameters. Returns the directory
// written, or "" (with *error set) when it could not be written.
std::string WriteProfile(const std::string &dir, const ProfileRun &run, std::string *error);

// The profile directory for aclnn calls: MoeReRoutingCpuSetProfileDir, initially the environment
// variable MOE_RE_ROUTING_PROFILE_DIR. "" = off.
std::string CurrentProfileDir();

// Records what MoeReRoutingCpuLastProfilePath() reports on the calling thread.
void SetLastProfilePath(const std::string &path);

}  // namespace model
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_TIME_MODEL_H
