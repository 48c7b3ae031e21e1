// Host-side control of the Ascend C CPU emulator: launching a kernel over blockDim emulated AIV
// cores, registering global memory, choosing the SoC and the auto-sync setting, and reading the
// per-core trace. Every launch runs with every rule on: there is no lighter mode.
// This is project API (not part of Ascend C); kernel code never includes it.
#ifndef ASCENDC_CPU_RUNTIME_H
#define ASCENDC_CPU_RUNTIME_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ascendc_cpu/platform.h"

// The trailing default argument of every emulated API that issues an instruction.
#define ASCENDC_CPU_HERE ::ascendc_cpu::SourceLocation::Here()

namespace ascendc_cpu {

// One DMA instruction as issued (DataCopy / DataCopyPad), in issue order.
struct DmaOp {
    const char *direction = "";  // "GM->UB", "UB->GM" or "UB->UB"
    const char *api = "";        // "DataCopy" or "DataCopyPad"
    uint64_t bytes = 0;          // data bytes moved (without padding); 0 for a no-op
    uint32_t bursts = 0;         // blockCount (1 for the contiguous forms)
    uint32_t burstBytes = 0;     // data bytes per burst (blockLen in bytes)
};

// Where a kernel called an emulated Ascend C API: every API that issues an instruction takes it as
// a trailing default argument (ASCENDC_CPU_HERE), so the call site's file and line are recorded
// without any change to the kernel source (GCC and Clang evaluate __builtin_FILE/__builtin_LINE
// in a default argument at the call site).
struct SourceLocation {
    const char *file = "";
    uint32_t line = 0;
    static SourceLocation Here(const char *file = __builtin_FILE(), uint32_t line = __builtin_LINE())
    {
        SourceLocation here;
        here.file = file;
        here.line = line;
        return here;
    }
};

// What kind of instruction an InstrRecord is (the pipe it runs on follows from it).
enum class InstrKind : uint8_t {
    kDmaGmToUb,      // DataCopy / DataCopyPad GM->UB (MTE2)
    kDmaUbToGm,      // DataCopy / DataCopyPad UB->GM (MTE3)
    kDmaUbToUb,      // DataCopy UB->UB
    kScalarGmRead,   // GlobalTensor::GetValue
    kScalarGmWrite,  // GlobalTensor::SetValue
    kScalarUbRead,   // LocalTensor::GetValue
    kScalarUbWrite,  // LocalTensor::SetValue, the scalar stores of CreateVecIndex on dav-c220
    kVector,         // one vector instruction (Duplicate, Adds, Add, Cast, CreateVecIndex's Adds)
    kSetFlag,        // SetFlag, and the S->V fence inside CreateVecIndex on dav-c220
    kWaitFlag,       // WaitFlag, likewise
    kPipeBarrier,    // PipeBarrier, including those inside CreateVecIndex on dav-c220
    kQueue,          // AllocTensor, EnQue, DeQue, FreeTensor
};

// One instruction as issued, attributed to the kernel call that issued it (LaunchConfig::
// collectInstructions). An API that issues several instructions (CreateVecIndex on dav-c220)
// yields several records with the same `where` and `api`.
struct InstrRecord {
    SourceLocation where;    // the kernel's call
    const char *api = "";    // the Ascend C API called: "DataCopyPad", "Adds", "CreateVecIndex", ...
    const char *note = "";   // flags: the HardEvent ("MTE2_V"; "fence" inside an API); barriers: the pipe;
                             // queues: "AllocTensor", "EnQue", "DeQue", "FreeTensor"
    InstrKind kind = InstrKind::kVector;
    uint32_t bursts = 0;      // DMA: blockCount (0 for a no-op)
    uint32_t burstBytes = 0;  // DMA: data bytes per burst
    uint64_t bytes = 0;       // DMA: data bytes (no padding); vector: destination bytes; scalar: element bytes
    uint64_t srcPitch = 0;    // DMA: bytes from one burst's start to the next, source side
    uint64_t dstPitch = 0;    // DMA: likewise, destination side
    uint32_t padBytes = 0;    // DMA GM->UB: left + right padding bytes per burst
    uint32_t elementBytes = 0;  // vector: destination element size (bytes / elementBytes = count)
    int32_t id = -1;          // flags: the event id
};

// Instructions one core issued through the emulated API, counted per kind. The kernel's own register arithmetic and control flow are invisible to the
// emulator and not counted.
struct InstructionCounters {
    // Scalar unit (PIPE_S): element accesses through LocalTensor::GetValue/SetValue (UB) and
    // GlobalTensor::GetValue/SetValue (GM, through the data cache). On dav-c220 the scalar stores
    // CreateVecIndex makes for its first 32 B count as scalarUbWrites.
    uint64_t scalarUbReads = 0;
    uint64_t scalarUbWrites = 0;
    uint64_t scalarGmReads = 0;
    uint64_t scalarGmWrites = 0;
    // Vector unit (PIPE_V): instructions issued (Duplicate, Adds, the vector part of CreateVecIndex
    // as the SoC's implementation issues it) and their repeats (256 B of destination each, rounded up).
    uint64_t vectorOps = 0;
    uint64_t vectorRepeats = 0;
    // Synchronisation: explicit SetFlag / WaitFlag (including the fence inside CreateVecIndex on
    // dav-c220), PipeBarrier, and queue operations (AllocTensor, EnQue, DeQue, FreeTensor).
    uint64_t setFlags = 0;
    uint64_t waitFlags = 0;
    uint64_t pipeBarriers = 0;
    uint64_t queueOps = 0;

    uint64_t ScalarOps() const { return scalarUbReads + scalarUbWrites + scalarGmReads + scalarGmWrites; }
};

// Per-core record of one launch (LaunchConfig::collectTrace).
struct CoreTrace : InstructionCounters {
    uint64_t bytesIn = 0;      // GM -> UB bytes
    uint64_t bytesOut = 0;     // UB -> GM bytes
    uint64_t dmaOps = 0;       // DataCopy / DataCopyPad instructions
    uint64_t ubHighWater = 0;  // highest UB byte offset allocated by TPipe::InitBuffer
    double seconds = 0.0;      // wall time of this block on the CPU
    std::vector<DmaOp> dma;    // every DMA instruction of the block, in issue order
    std::vector<InstrRecord> instructions;  // LaunchConfig::collectInstructions: every instruction, in issue order
};

// The SoC launches default to (LaunchConfig): ASCENDC_CPU_SOC=<name> when the process starts (the
// way a CPU-debug test links tikicpulib::<SocVersion> for the official library), else kDefaultSoc.
// A name is a kSocPlatforms entry or a toolkit SoC version of its family ("Ascend910B2",
// "Ascend950PR_9599": FindSocByVersion). SelectSoc(name) changes it for launches made afterwards;
// it returns false and changes nothing for an unknown name.
const SocPlatform &SelectedSoc();
bool SelectSoc(const char *name);

struct LaunchConfig {
    uint32_t blockDim = 1;
    // UB per emulated core: by default what the selected SoC leaves a kernel, so a kernel that
    // initialises more than that aborts (see ascendc_cpu/platform.h).
    uint32_t ubBytes = SelectedSoc().UsableUbBytes();
    bool sequential = false;            // run blocks one after another on the calling thread
    bool collectTrace = false;          // fill LaunchResult::cores
    bool collectInstructions = false;   // with collectTrace: also CoreTrace::instructions (profiles)
    std::string chromeTracePath;        // when non-empty, write a Chrome trace JSON of DMA ops per core
    Arch arch = SelectedSoc().arch;     // whose API implementation and documented rules apply
    // The tiling key TILING_KEY_IS sees; unset: the one ICPU_SET_TILING_KEY set on the launching
    // thread (0 if none).
    std::optional<uint64_t> tilingKey;
};

struct LaunchResult {
    std::vector<CoreTrace> cores;  // one per block when collectTrace
};

// Runs `body` once per block index in [0, blockDim), each with its own UB, pipe and flag state,
// on the emulator's thread pool (or sequentially). A rule violation inside a block prints a
// message naming the rule, the API and the values to stderr and terminates the process with a
// non-zero exit (std::abort semantics): it is a kernel bug, not a user error.
void Launch(const LaunchConfig &config, const std::function<void()> &body, LaunchResult *result);

// Global memory known to the emulator. GmAlloc registers its allocations; callers that pass
// their own host buffers as GM (the aclnn CPU backend) register them for the launch.
void RegisterGm(const void *base, size_t bytes);
void UnregisterGm(const void *base);

// RAII helper for RegisterGm/UnregisterGm.
class ScopedGm {
public:
    ScopedGm(const void *base, size_t bytes) : base_(base) { RegisterGm(base, bytes); }
    ~ScopedGm() { UnregisterGm(base_); }
    ScopedGm(const ScopedGm &) = delete;
    ScopedGm &operator=(const ScopedGm &) = delete;

private:
    const void *base_;
};

// Compiler auto-sync, as the kernel would be built: on (the default: CANN builds custom operators
// with --cce-auto-sync=on) or off. Off models a kernel built without compiler-inserted
// synchronisation: on dav-c220 a vector instruction that reads or overwrites UB an earlier vector
// instruction wrote or read then needs PipeBarrier<PIPE_V> (or PIPE_ALL, or an ordering through
// another unit) between them, and the emulator aborts with the rule "PIPE_V order" when it is
// missing. dav-3510 orders PIPE_V in hardware, so the setting changes nothing there. Cross-unit
// synchronisation (SetFlag/WaitFlag, queues) is always checked: auto-sync does not excuse it here.
// Default from env ASCENDC_CPU_AUTO_SYNC=on|off; applies to launches made afterwards.
void SetAutoSync(bool on);
bool GetAutoSync();

// Process-wide settings: thread count from env ASCENDC_CPU_THREADS (default: hardware concurrency).
void SetThreadCount(uint32_t threads);
uint32_t GetThreadCount();

}  // namespace ascendc_cpu

#endif  // ASCENDC_CPU_RUNTIME_H
