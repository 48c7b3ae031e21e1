// The emulator's per-core state and the library entry points the kernel headers call. Internal:
// kernel code never names anything in ascendc_cpu::detail.
#ifndef ASCENDC_CPU_KERNEL_CORE_H
#define ASCENDC_CPU_KERNEL_CORE_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ascendc_cpu/kernel/types.h"
#include "ascendc_cpu/runtime.h"

#if defined(__GNUC__)
#define ASCENDC_CPU_PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define ASCENDC_CPU_PRINTF_LIKE(fmt, args)
#endif

namespace ascendc_cpu {
namespace detail {

// Units whose ordering the hazard checker models. Writers of UB: scalar, vector, MTE2.
// Readers of UB: scalar, vector, MTE3.
enum Unit : uint8_t { kScalar = 0, kVector = 1, kMte2 = 2, kMte3 = 3, kUnitCount = 4 };

// Units that read UB (MTE2 only writes it), indexed for CoreContext::readShadow.
constexpr int kReaderCount = 3;
constexpr Unit kReaders[kReaderCount] = {kScalar, kVector, kMte3};
constexpr int kReaderOf[kUnitCount] = {0, 1, -1, 2};

constexpr int kEventIdCount = 8;
constexpr int kHardEventCount = static_cast<int>(AscendC::HardEvent::MAX);
constexpr uint32_t kMaxBuffersPerPipe = 64;
constexpr uint32_t kUbAlign = 32;

struct DmaEvent {
    double startUs;
    double durationUs;
    uint64_t bytes;
    const char *direction;  // "GM->UB", "UB->GM", "UB->UB"
    uint32_t bursts;
    uint32_t burstBytes;
};

struct FlagSlot {
    bool set = false;
    uint64_t snapshot[kUnitCount] = {};  // producer's knowledge when SetFlag was issued
};

class TPipeState;

// Everything one emulated core owns while it runs one block.
struct CoreContext {
    uint32_t blockIdx = 0;
    uint32_t blockDim = 1;
    Arch arch = Arch::kDavC220;
    // PIPE_V order rule (ASCENDC_CPU_AUTO_SYNC=off on dav-c220): a vector instruction that reads or
    // overwrites UB an earlier vector instruction wrote or read needs a PipeBarrier<PIPE_V> (or an
    // ordering through another unit) between them. vectorInstructionStart is the first sequence
    // number of the vector instruction being issued: records from it on are its own operands.
    bool vectorOrderRule = false;
    uint64_t vectorInstructionStart = 0;
    uint8_t *ubBase = nullptr;
    uint32_t ubBytes = 0;
    uint32_t ubTop = 0;        // first UB byte not owned by a live TPipe
    uint32_t ubHighWater = 0;  // highest byte offset ever allocated
    uint64_t tilingKey = 0;
    // TILING_KEY_IS of this block: how many keys it tested, the first few of them, and whether one
    // was the launch's key (a kernel that tests keys but has none for the launch's cannot run).
    uint32_t tilingKeysTested = 0;
    uint64_t testedTilingKeys[4] = {};
    bool tilingKeyMatched = false;
    void *currentPipe = nullptr;  // AscendC::TPipe* of the most recently constructed live pipe

    // Hazard checker: shadow[b] = (seq << 2) | writer unit of UB byte b's last
    // write, 0 when never written. readShadow[r * shadowPlane + b] = seq of the last read of byte b by
    // reader r (kReaderOf: S 0, V 1, MTE3 2; MTE2 never reads UB). known[c][p]: unit c has seen
    // unit p's operations up to sequence number known[c][p].
    uint64_t *shadow = nullptr;
    uint64_t *readShadow = nullptr;
    size_t shadowPlane = 0;
    uint64_t seq = 0;
    uint64_t known[kUnitCount][kUnitCount] = {};

    // Reused across blocks: every slot is clear whenever flagsSet is 0 (a block cannot end with a
    // slot set without a rule violation), so a new block only needs flagsSet == 0.
    FlagSlot flags[kHardEventCount][kEventIdCount];
    uint32_t flagsSet = 0;  // SetFlags not yet waited for

    // Trace.
    uint64_t bytesIn = 0;
    uint64_t bytesOut = 0;
    uint64_t dmaOps = 0;
    InstructionCounters counts;
    std::vector<DmaOp> *dmaLog = nullptr;     // non-null when the launch collects a trace
    std::vector<DmaEvent> *events = nullptr;  // non-null when a Chrome trace is recorded
    double launchStartUs = 0.0;
    // Instruction records (LaunchConfig::collectInstructions): the kernel call being executed, set
    // by every instruction-issuing API on entry, and the log its instructions go to.
    SourceLocation site;
    const char *siteApi = "";
    std::vector<InstrRecord> *instrLog = nullptr;

    // Resets everything a block starts from, except the flag slots (see flagsSet). The runtime
    // reuses one CoreContext per thread (and nesting depth) instead of allocating one per block.
    void BeginBlock()
    {
        blockIdx = 0;
        blockDim = 1;
        arch = Arch::kDavC220;
        vectorOrderRule = false;
        vectorInstructionStart = 0;
        ubBase = nullptr;
        ubBytes = 0;
        ubTop = 0;
        ubHighWater = 0;
        tilingKey = 0;
        tilingKeysTested = 0;
        tilingKeyMatched = false;
        currentPipe = nullptr;
        shadow = nullptr;
        readShadow = nullptr;
        shadowPlane = 0;
        seq = 0;
        for (auto &row : known) {
            for (uint64_t &value : row) {
                value = 0;
            }
        }
        bytesIn = 0;
        bytesOut = 0;
        dmaOps = 0;
        counts = InstructionCounters{};
        dmaLog = nullptr;
        events = nullptr;
        launchStartUs = 0.0;
        site = SourceLocation{};
        siteApi = "";
        instrLog = nullptr;
    }

    // Clears every flag slot (after a block left by an exception).
    void ClearFlags()
    {
        for (auto &row : flags) {
            for (FlagSlot &slot : row) {
                slot.set = false;
            }
        }
        flagsSet = 0;
    }
};

// The core running on this thread, or nullptr outside a launch.
CoreContext *CurrentCore();
// The current core; a rule violation naming `api` when called outside a launch.
CoreContext &RequireCore(const char *api);

// Prints "ascendc_cpu: rule violated: <rule>: <details> (core N)" and aborts.
[[noreturn]] void Violation(const char *rule, const char *format, ...) ASCENDC_CPU_PRINTF_LIKE(2, 3);

// ---- hazard checker ----
// A write by `unit`: aborts on a write-after-write or write-after-read hazard, then records it.
void NoteUbWrite(CoreContext &core, Unit unit, const void *address, size_t bytes, const char *api);
// A read by `unit`: aborts on a read-after-write hazard, then records it.
void CheckUbRead(CoreContext &core, Unit unit, const void *address, size_t bytes, const char *api);
// An instruction issued by the scalar unit to `unit` starts after everything the scalar unit has
// already waited for.
void IssueTo(CoreContext &core, Unit unit);
// Starts one vector instruction: it is issued after everything the scalar unit has waited for, and
// its operands' records (from here on) are not ordered against each other by the PIPE_V order rule.
void BeginVectorInstruction(CoreContext &core);
// SetFlag immediately followed by WaitFlag from `producer` to `consumer`, inside an API's
// implementation (no event slot is taken; counted as one SetFlag and one WaitFlag).
void FenceUnits(CoreContext &core, Unit producer, Unit consumer);

// ---- instruction records (LaunchConfig::collectInstructions) ----
// The kernel called `api` at `where`: the instructions it issues are attributed to that call.
inline void EnterApi(CoreContext &core, const char *api, const SourceLocation &where)
{
    core.site = where;
    core.siteApi = api;
}
inline void EnterApi(CoreContext *core, const char *api, const SourceLocation &where)
{
    if (core != nullptr) {
        EnterApi(*core, api, where);
    }
}
// Logs one instruction of the current call when the launch records instructions.
inline void RecordInstr(CoreContext &core, InstrKind kind, uint64_t bytes = 0, const char *note = "", int32_t id = -1)
{
    if (core.instrLog != nullptr) {
        InstrRecord record;
        record.where = core.site;
        record.api = core.siteApi;
        record.note = note;
        record.kind = kind;
        record.bytes = bytes;
        record.id = id;
        core.instrLog->push_back(record);
    }
}

// ---- counters ----
// One vector instruction writing `bytes` of destination in elements of `elementBytes`: its repeats
// are 256 B each.
inline void CountVector(CoreContext &core, uint64_t bytes, uint32_t elementBytes)
{
    ++core.counts.vectorOps;
    core.counts.vectorRepeats += (bytes + 255) / 256;
    RecordInstr(core, InstrKind::kVector, bytes);
    if (core.instrLog != nullptr) {
        core.instrLog->back().elementBytes = elementBytes;
    }
}

// ---- GM ----
// [address, address + bytes) must lie inside one registered GM region.
void CheckGmRegistered(const void *address, size_t bytes, const char *api);

// ---- UB bounds and alignment ----
inline void CheckUbAligned(const CoreContext &core, const void *address, const char *api, const char *operand)
{
    const uintptr_t offset = reinterpret_cast<uintptr_t>(address) - reinterpret_cast<uintptr_t>(core.ubBase);
    if (offset % kUbAlign != 0) {
        Violation("UB alignment", "%s %s operand at UB offset %llu is not 32-byte aligned", api, operand,
                  static_cast<unsigned long long>(offset));
    }
}

void UbOutOfBounds(const CoreContext &core, const char *api, const void *begin, size_t bytes,
                   const uint8_t *bufferBegin, const uint8_t *bufferEnd);

inline void CheckUbRange(const CoreContext &core, const char *api, const void *begin, size_t bytes,
                         const uint8_t *bufferBegin, const uint8_t *bufferEnd)
{
    const uint8_t *first = static_cast<const uint8_t *>(begin);
    if (first < bufferBegin || first > bufferEnd || bytes > static_cast<size_t>(bufferEnd - first)) {
        UbOutOfBounds(core, api, begin, bytes, bufferBegin, bufferEnd);
    }
}

// ---- DMA engine ----
// A transfer of blockCount blocks of blockBytes each. Pitches are the distance between the starts
// of consecutive blocks; the UB footprint of one block includes padding and the 32 B round-up.
struct DmaLayout {
    uint32_t blockCount = 0;
    uint32_t blockBytes = 0;
    uint64_t srcPitch = 0;
    uint64_t dstPitch = 0;
    uint32_t ubBlockFootprint = 0;  // bytes one block occupies in UB
    uint32_t leftPadBytes = 0;      // GM->UB only: data starts this far into the UB block
    uint32_t rightPadBytes = 0;     // GM->UB only
};

struct UbOperand {
    uint8_t *address;
    const uint8_t *bufferBegin;
    const uint8_t *bufferEnd;
};

struct GmOperand {
    uint8_t *address;
    const uint8_t *tensorBegin;  // SetGlobalBuffer address
    const uint8_t *tensorEnd;    // nullptr when SetGlobalBuffer got no size
};

struct PadFill {
    bool enabled = false;
    uint32_t elementBytes = 1;
    uint8_t element[8] = {};
};

void DmaGmToUb(CoreContext &core, const char *api, const UbOperand &dst, const GmOperand &src, const DmaLayout &layout,
               const PadFill &pad);
void DmaUbToGm(CoreContext &core, const char *api, const GmOperand &dst, const UbOperand &src, const DmaLayout &layout);
void DmaUbToUb(CoreContext &core, const char *api, const UbOperand &dst, const UbOperand &src, const DmaLayout &layout);

// The bytes DataCopy moves for `count` elements; a byte count that is not a multiple of 32 (which
// the hardware would silently round down) aborts.
uint32_t DataCopyBytes(const char *direction, uint64_t count, uint32_t elementBytes);

// ---- GM scalar access ----
void GmOutOfBounds(const char *api, const void *address, size_t bytes, const void *tensorBegin, const void *tensorEnd);

// ---- DataCopyPad positions ----
// The documented positions of DataCopyPad's UB operand on the core's architecture: GM->UB into
// VECIN/VECOUT (also VECCALC on dav-3510), UB->GM from VECIN/VECOUT.
void CheckPadPosition(const CoreContext &core, const char *api, AscendC::TPosition position, bool intoUb);

// ---- flags ----
void SetFlagImpl(AscendC::HardEvent event, int32_t eventId);
void WaitFlagImpl(AscendC::HardEvent event, int32_t eventId);
void PipeBarrierImpl(pipe_t pipe);

// ---- tiling ----
// TILING_KEY_IS(key): whether `key` is the launch's tiling key; remembers the test for the block end.
bool TilingKeyIs(uint64_t key);
void SetHostTilingKey(uint64_t key);
void CopyTilingData(void *dst, size_t bytes, const void *tiling, const char *api);

}  // namespace detail
}  // namespace ascendc_cpu

#endif  // ASCENDC_CPU_KERNEL_CORE_H
