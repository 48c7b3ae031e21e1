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

// Fast mode's forwarded copy: UB [ub, ub + bytes) holds, as far as the kernel can tell, the GM
// bytes [gm, gm + bytes) as they were when the GM->UB DataCopyPad was issued; the copy itself has
// not been done (see "Forwarded copies" in docs/cpu_backend.md).
struct UbMirror {
    uint8_t *ub;
    const uint8_t *gm;
    uint64_t bytes;
};
constexpr uint32_t kMaxMirrors = 8;

// Everything one emulated core owns while it runs one block.
struct CoreContext {
    uint32_t blockIdx = 0;
    uint32_t blockDim = 1;
    bool checked = true;  // Mode::kChecked: per-byte work (poison, GM regions, hazards) enabled
    Arch arch = Arch::kDavC220;
    uint8_t *ubBase = nullptr;
    uint32_t ubBytes = 0;
    uint32_t ubTop = 0;        // first UB byte not owned by a live TPipe
    uint32_t ubHighWater = 0;  // highest byte offset ever allocated
    uint64_t tilingKey = 0;
    void *currentPipe = nullptr;  // AscendC::TPipe* of the most recently constructed live pipe

    // Hazard checker (checked mode): shadow[b] = (seq << 2) | writer unit of UB byte b's last
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

    // Forwarded copies (fast mode only): entries [0, liveMirrors) are live, pairwise disjoint in UB.
    // Every access path tests liveMirrors first, so with none live (always in checked mode) the
    // cost is that one branch.
    UbMirror mirrors[kMaxMirrors];
    uint32_t liveMirrors = 0;
    uint64_t forwardedIn = 0;   // GM->UB DataCopyPads recorded as mirrors (for tests)
    uint64_t forwardedOut = 0;  // UB->GM DataCopyPads done GM->GM from a mirror
    uint64_t materialised = 0;  // mirrors copied into UB after all

    // Trace.
    uint64_t bytesIn = 0;
    uint64_t bytesOut = 0;
    uint64_t dmaOps = 0;
    InstructionCounters counts;
    std::vector<DmaOp> *dmaLog = nullptr;     // non-null when the launch collects a trace
    std::vector<DmaEvent> *events = nullptr;  // non-null when a Chrome trace is recorded
    double launchStartUs = 0.0;

    // Resets everything a block starts from, except the flag slots (see flagsSet). The runtime
    // reuses one CoreContext per thread (and nesting depth) instead of allocating one per block.
    void BeginBlock()
    {
        blockIdx = 0;
        blockDim = 1;
        checked = true;
        arch = Arch::kDavC220;
        ubBase = nullptr;
        ubBytes = 0;
        ubTop = 0;
        ubHighWater = 0;
        tilingKey = 0;
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
        liveMirrors = 0;
        forwardedIn = 0;
        forwardedOut = 0;
        materialised = 0;
        bytesIn = 0;
        bytesOut = 0;
        dmaOps = 0;
        counts = InstructionCounters{};
        dmaLog = nullptr;
        events = nullptr;
        launchStartUs = 0.0;
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

// ---- hazard checker (call only when core.checked) ----
// A write by `unit`: aborts on a write-after-write or write-after-read hazard, then records it.
void NoteUbWrite(CoreContext &core, Unit unit, const void *address, size_t bytes, const char *api);
// A read by `unit`: aborts on a read-after-write hazard, then records it.
void CheckUbRead(CoreContext &core, Unit unit, const void *address, size_t bytes, const char *api);
// An instruction issued by the scalar unit to `unit` starts after everything the scalar unit has
// already waited for.
void IssueTo(CoreContext &core, Unit unit);
// SetFlag immediately followed by WaitFlag from `producer` to `consumer`, inside an API's
// implementation (no event slot is taken; counted as one SetFlag and one WaitFlag).
void FenceUnits(CoreContext &core, Unit producer, Unit consumer);

// ---- counters (both modes) ----
// One vector instruction writing `bytes` of destination: its repeats are 256 B each.
inline void CountVector(CoreContext &core, uint64_t bytes)
{
    ++core.counts.vectorOps;
    core.counts.vectorRepeats += (bytes + 255) / 256;
}

// ---- forwarded copies (fast mode) ----
// Performs the pending GM->UB copy of every mirror overlapping UB [address, address + bytes) and
// drops those mirrors: called before anything but the forwarded UB->GM DataCopyPad touches UB.
void MaterialiseUbSlow(CoreContext &core, const void *address, size_t bytes);
// The same for every mirror whose GM source overlaps [address, address + bytes): called before this
// core writes GM, so a mirror keeps the GM contents of its issue time.
void MaterialiseGmWriteSlow(CoreContext &core, const void *address, size_t bytes);
// Forgets the mirrors inside UB [address, address + bytes) without copying (FreeTensor).
void DropUbMirrorsSlow(CoreContext &core, const void *address, size_t bytes);
// Materialises every live mirror (TPipe::Reset, end of block).
void MaterialiseAllMirrors(CoreContext &core);

inline void MaterialiseUb(CoreContext &core, const void *address, size_t bytes)
{
    if (core.liveMirrors != 0) {
        MaterialiseUbSlow(core, address, bytes);
    }
}
inline void MaterialiseGmWrite(CoreContext &core, const void *address, size_t bytes)
{
    if (core.liveMirrors != 0) {
        MaterialiseGmWriteSlow(core, address, bytes);
    }
}
inline void DropUbMirrors(CoreContext &core, const void *address, size_t bytes)
{
    if (core.liveMirrors != 0) {
        DropUbMirrorsSlow(core, address, bytes);
    }
}

// ---- GM ----
// Checked mode: [address, address + bytes) must lie inside one registered GM region.
void CheckGmRegistered(const void *address, size_t bytes, const char *api);

// ---- UB bounds and alignment (both modes) ----
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

// `forwardable`: the instruction is a DataCopyPad, whose single-block unpadded form fast mode may
// forward (see MaterialiseUb); DataCopy always copies.
void DmaGmToUb(CoreContext &core, const char *api, const UbOperand &dst, const GmOperand &src, const DmaLayout &layout,
               const PadFill &pad, bool forwardable = false);
void DmaUbToGm(CoreContext &core, const char *api, const GmOperand &dst, const UbOperand &src, const DmaLayout &layout,
               bool forwardable = false);
void DmaUbToUb(CoreContext &core, const char *api, const UbOperand &dst, const UbOperand &src, const DmaLayout &layout);

// DataCopy with a byte count that is not a multiple of 32: checked mode aborts, fast mode warns once.
uint32_t RoundDownDataCopyBytes(const CoreContext &core, const char *direction, uint64_t count, uint32_t elementBytes);

// ---- GM scalar access ----
void GmOutOfBounds(const char *api, const void *address, size_t bytes, const void *tensorBegin, const void *tensorEnd);

// ---- DataCopyPad positions (both modes) ----
// The documented positions of DataCopyPad's UB operand on the core's architecture: GM->UB into
// VECIN/VECOUT (also VECCALC on dav-3510), UB->GM from VECIN/VECOUT.
void CheckPadPosition(const CoreContext &core, const char *api, AscendC::TPosition position, bool intoUb);

// ---- flags ----
void SetFlagImpl(AscendC::HardEvent event, int32_t eventId);
void WaitFlagImpl(AscendC::HardEvent event, int32_t eventId);
void PipeBarrierImpl(pipe_t pipe);

// ---- tiling ----
uint64_t CurrentTilingKey();
void SetHostTilingKey(uint64_t key);
void CopyTilingData(void *dst, size_t bytes, const void *tiling, const char *api);

}  // namespace detail
}  // namespace ascendc_cpu

#endif  // ASCENDC_CPU_KERNEL_CORE_H
