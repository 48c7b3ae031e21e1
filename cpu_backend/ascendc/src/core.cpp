// Rule reporting, the hazard checker, flags, block index and tiling helpers.
#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "ascendc_cpu/kernel/core.h"
#include "ascendc_cpu/kernel/sync.h"
#include "internal.h"

namespace ascendc_cpu {
namespace detail {
namespace {

thread_local CoreContext *t_currentCore = nullptr;
thread_local uint64_t t_hostTilingKey = 0;

const char *const kUnitNames[kUnitCount] = {"S", "V", "MTE2", "MTE3"};
constexpr uint8_t kUnmodelled = 0xff;

const char *const kHardEventNames[] = {
    "MTE2_MTE1", "MTE1_MTE2", "MTE1_M",    "M_MTE1",    "MTE2_V",    "V_MTE2",   "MTE3_V",   "V_MTE3",
    "M_V",       "V_M",       "V_V",       "MTE3_MTE1", "MTE1_MTE3", "MTE1_V",   "MTE2_M",   "M_MTE2",
    "V_MTE1",    "M_FIX",     "FIX_M",     "MTE3_MTE2", "MTE2_MTE3", "S_V",      "V_S",      "S_MTE2",
    "MTE2_S",    "S_MTE3",    "MTE3_S",    "MTE2_FIX",  "FIX_MTE2",  "FIX_S",    "M_S",      "FIX_MTE3",
    "MTE1_FIX",  "FIX_MTE1",  "FIX_FIX",
};
static_assert(sizeof(kHardEventNames) / sizeof(kHardEventNames[0]) == kHardEventCount, "HardEvent names");

// pipe_t names for instruction records (PipeBarrier<pipe>).
const char *PipeName(pipe_t pipe)
{
    static const char *const kNames[] = {"PIPE_S",    "PIPE_V",    "PIPE_M",   "PIPE_MTE1",
                                         "PIPE_MTE2", "PIPE_MTE3", "PIPE_ALL", "PIPE_FIX"};
    return static_cast<size_t>(pipe) < sizeof(kNames) / sizeof(kNames[0]) ? kNames[pipe] : "?";
}

uint8_t UnitFromName(const char *name, size_t length)
{
    for (uint8_t unit = 0; unit < kUnitCount; ++unit) {
        if (std::strlen(kUnitNames[unit]) == length && std::strncmp(kUnitNames[unit], name, length) == 0) {
            return unit;
        }
    }
    return kUnmodelled;  // M, MTE1, FIX: pipes a vector-only kernel does not use
}

// Producer and consumer unit of every HardEvent, parsed once from its name "<producer>_<consumer>".
struct EventUnitTable {
    uint8_t producer[kHardEventCount];
    uint8_t consumer[kHardEventCount];
    EventUnitTable()
    {
        for (int event = 0; event < kHardEventCount; ++event) {
            const char *name = kHardEventNames[event];
            const char *separator = std::strchr(name, '_');
            producer[event] = UnitFromName(name, static_cast<size_t>(separator - name));
            consumer[event] = UnitFromName(separator + 1, std::strlen(separator + 1));
        }
    }
};

const EventUnitTable kEventUnits;

void EventUnits(AscendC::HardEvent event, uint8_t *producer, uint8_t *consumer)
{
    *producer = kEventUnits.producer[static_cast<int>(event)];
    *consumer = kEventUnits.consumer[static_cast<int>(event)];
}

FlagSlot &CheckedSlot(CoreContext &core, AscendC::HardEvent event, int32_t eventId, const char *api)
{
    const int index = static_cast<int>(event);
    if (index < 0 || index >= kHardEventCount) {
        Violation("flag", "%s with an unknown HardEvent %d", api, index);
    }
    if (eventId < 0 || eventId >= kEventIdCount) {
        Violation("flag", "%s<HardEvent::%s> event id %d outside 0..7", api, kHardEventNames[index], eventId);
    }
    if (eventId >= 6) {
        Violation("flag", "%s<HardEvent::%s> event id %d is reserved (ids 6 and 7 are reserved; use 0..5)", api,
                  kHardEventNames[index], eventId);
    }
    return core.flags[index][eventId];
}

}  // namespace

CoreContext *CurrentCore() { return t_currentCore; }

CoreContext *SwapCurrentCore(CoreContext *core)
{
    CoreContext *previous = t_currentCore;
    t_currentCore = core;
    return previous;
}

CoreContext &RequireCore(const char *api)
{
    if (t_currentCore == nullptr) {
        Violation("block index", "%s called outside a kernel launch (no emulated core on this thread)", api);
    }
    return *t_currentCore;
}

double NowUs()
{
    static const auto origin = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - origin).count();
}

void Violation(const char *rule, const char *format, ...)
{
    static std::mutex reportMutex;
    char details[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(details, sizeof(details), format, args);
    va_end(args);
    char where[48];
    if (t_currentCore != nullptr) {
        std::snprintf(where, sizeof(where), "core %u", t_currentCore->blockIdx);
    } else {
        std::snprintf(where, sizeof(where), "host");
    }
    {
        std::lock_guard<std::mutex> lock(reportMutex);
        std::fprintf(stderr, "ascendc_cpu: rule violated: %s: %s (%s)\n", rule, details, where);
        std::fflush(stderr);
    }
    std::abort();
}

void UbOutOfBounds(const CoreContext &core, const char *api, const void *begin, size_t bytes,
                   const uint8_t *bufferBegin, const uint8_t *bufferEnd)
{
    const auto offset = [&](const void *address) {
        return static_cast<long long>(static_cast<const uint8_t *>(address) - core.ubBase);
    };
    Violation("UB bounds", "%s accesses UB [%lld, %lld) outside its tensor's buffer [%lld, %lld)", api, offset(begin),
              offset(begin) + static_cast<long long>(bytes), offset(bufferBegin), offset(bufferEnd));
}

void GmOutOfBounds(const char *api, const void *address, size_t bytes, const void *tensorBegin, const void *tensorEnd)
{
    if (tensorBegin == nullptr) {
        Violation("GM bounds", "%s on a GlobalTensor without SetGlobalBuffer", api);
    }
    const auto relative = [&](const void *p) {
        return static_cast<long long>(static_cast<const uint8_t *>(p) - static_cast<const uint8_t *>(tensorBegin));
    };
    Violation("GM bounds", "%s accesses bytes [%lld, %lld) of a GlobalTensor of %lld bytes (SetGlobalBuffer size)",
              api, relative(address), relative(address) + static_cast<long long>(bytes), relative(tensorEnd));
}

// ---- hazard checker ----

void IssueTo(CoreContext &core, Unit unit)
{
    if (unit == kScalar) {
        return;
    }
    for (int producer = 0; producer < kUnitCount; ++producer) {
        if (producer != kScalar) {
            core.known[unit][producer] = std::max(core.known[unit][producer], core.known[kScalar][producer]);
        }
    }
}

void BeginVectorInstruction(CoreContext &core)
{
    IssueTo(core, kVector);
    core.vectorInstructionStart = core.seq + 1;  // every record this instruction makes is newer
}

void FenceUnits(CoreContext &core, Unit producer, Unit consumer)
{
    ++core.counts.setFlags;
    ++core.counts.waitFlags;
    RecordInstr(core, InstrKind::kSetFlag, 0, "fence");
    RecordInstr(core, InstrKind::kWaitFlag, 0, "fence");
    IssueTo(core, producer);
    for (int unit = 0; unit < kUnitCount; ++unit) {
        const uint64_t seen = unit == producer ? core.seq : core.known[producer][unit];
        core.known[consumer][unit] = std::max(core.known[consumer][unit], seen);
    }
}

namespace {

// How to order `producer` before `consumer`: a flag pair, a queue when one orders that pair (only
// the scalar unit has none), or a full barrier.
const char *SyncHint(unsigned producer, unsigned consumer, char *out, size_t size)
{
    if (producer == kScalar || consumer == kScalar) {
        std::snprintf(out, size, "SetFlag/WaitFlag<HardEvent::%s_%s> or PipeBarrier<PIPE_ALL>", kUnitNames[producer],
                      kUnitNames[consumer]);
    } else {
        std::snprintf(out, size,
                      "SetFlag/WaitFlag<HardEvent::%s_%s>, a queue whose positions order %s->%s, or "
                      "PipeBarrier<PIPE_ALL>",
                      kUnitNames[producer], kUnitNames[consumer], kUnitNames[producer], kUnitNames[consumer]);
    }
    return out;
}

[[noreturn]] void OrderViolation(const char *rule, const char *api, size_t offset, const char *doing, Unit other,
                                  Unit unit)
{
    char hint[160];
    Violation(rule, "%s writes UB offset %zu that %s may still be %s: missing %s->%s synchronisation (%s)", api,
              offset, kUnitNames[other], doing, kUnitNames[other], kUnitNames[unit],
              SyncHint(other, unit, hint, sizeof(hint)));
}

// The PIPE_V order rule (auto-sync off on dav-c220): `record` (a sequence number of a vector access
// to a byte the current vector instruction touches) belongs to an earlier vector instruction that
// is not known to be done: no PipeBarrier<PIPE_V>, PIPE_ALL or ordering through another unit since.
bool UnorderedVectorAccess(const CoreContext &core, uint64_t record)
{
    return record > core.known[kVector][kVector] && record < core.vectorInstructionStart;
}

[[noreturn]] void VectorOrderViolation(const char *api, size_t offset, const char *access, const char *earlier)
{
    Violation("PIPE_V order",
              "%s %s UB offset %zu that an earlier vector instruction %s, with no PipeBarrier<PIPE_V> between them "
              "(auto-sync is off, and dav-c220 does not order dependent vector instructions by itself)",
              api, access, offset, earlier);
}

}  // namespace

void NoteUbWrite(CoreContext &core, Unit unit, const void *address, size_t bytes, const char *api)
{
    const size_t offset = static_cast<size_t>(static_cast<const uint8_t *>(address) - core.ubBase);
    const uint64_t *known = core.known[unit];
    // Write after write: the last writer of each byte, if another unit, must be known to be done.
    const uint64_t *shadow = core.shadow + offset;
    for (size_t i = 0; i < bytes; ++i) {
        const uint64_t record = shadow[i];
        const Unit writer = static_cast<Unit>(record & 3u);
        if (record != 0 && writer != unit && (record >> 2) > known[writer]) {
            OrderViolation("hazard (write after write)", api, offset + i, "writing", writer, unit);
        }
        if (record != 0 && writer == kVector && unit == kVector && core.vectorOrderRule &&
            UnorderedVectorAccess(core, record >> 2)) {
            VectorOrderViolation(api, offset + i, "overwrites", "wrote");
        }
    }
    // Write after read: every other unit's last read of each byte must be known to be done.
    for (int r = kReaderCount - 1; r >= 0; --r) {  // MTE3 first: the DMA is the usual culprit
        const Unit reader = kReaders[r];
        const uint64_t *reads = core.readShadow + static_cast<size_t>(r) * core.shadowPlane + offset;
        if (reader == unit) {
            if (unit == kVector && core.vectorOrderRule) {
                for (size_t i = 0; i < bytes; ++i) {
                    if (UnorderedVectorAccess(core, reads[i])) {
                        VectorOrderViolation(api, offset + i, "overwrites", "read");
                    }
                }
            }
            continue;
        }
        for (size_t i = 0; i < bytes; ++i) {
            if (reads[i] > known[reader]) {
                OrderViolation("hazard (write after read)", api, offset + i, "reading", reader, unit);
            }
        }
    }
    const uint64_t record = (++core.seq << 2) | unit;
    std::fill(core.shadow + offset, core.shadow + offset + bytes, record);
}

void CheckUbRead(CoreContext &core, Unit unit, const void *address, size_t bytes, const char *api)
{
    const size_t offset = static_cast<size_t>(static_cast<const uint8_t *>(address) - core.ubBase);
    const uint64_t *shadow = core.shadow + offset;
    const uint64_t *known = core.known[unit];
    for (size_t i = 0; i < bytes; ++i) {
        const uint64_t record = shadow[i];
        if (record == 0) {
            continue;
        }
        const unsigned writer = static_cast<unsigned>(record & 3u);
        if (writer == kVector && unit == kVector && core.vectorOrderRule && UnorderedVectorAccess(core, record >> 2)) {
            VectorOrderViolation(api, offset + i, "reads", "wrote");
        }
        if (writer != unit && (record >> 2) > known[writer]) {
            char hint[160];
            Violation("hazard",
                      "%s reads UB offset %zu written by %s without synchronisation: missing %s->%s synchronisation "
                      "(%s)",
                      api, offset + i, kUnitNames[writer], kUnitNames[writer], kUnitNames[unit],
                      SyncHint(writer, unit, hint, sizeof(hint)));
        }
    }
    const uint64_t stamp = ++core.seq;
    uint64_t *reads = core.readShadow + static_cast<size_t>(kReaderOf[unit]) * core.shadowPlane + offset;
    std::fill(reads, reads + bytes, stamp);
}

// ---- DataCopyPad positions ----

namespace {

const char *PositionName(AscendC::TPosition position)
{
    switch (position) {
        case AscendC::TPosition::GM: return "GM";
        case AscendC::TPosition::A1: return "A1";
        case AscendC::TPosition::A2: return "A2";
        case AscendC::TPosition::B1: return "B1";
        case AscendC::TPosition::B2: return "B2";
        case AscendC::TPosition::C1: return "C1";
        case AscendC::TPosition::C2: return "C2";
        case AscendC::TPosition::CO1: return "CO1";
        case AscendC::TPosition::CO2: return "CO2";
        case AscendC::TPosition::VECIN: return "VECIN";
        case AscendC::TPosition::VECOUT: return "VECOUT";
        case AscendC::TPosition::VECCALC: return "VECCALC";
        case AscendC::TPosition::SPM: return "SPM";
        case AscendC::TPosition::TSCM: return "TSCM";
        default: return "another position";
    }
}

}  // namespace

void CheckPadPosition(const CoreContext &core, const char *api, AscendC::TPosition position, bool intoUb)
{
    const bool vec = position == AscendC::TPosition::VECIN || position == AscendC::TPosition::VECOUT;
    const bool dav3510 = core.arch == Arch::kDav3510;
    if (vec || (intoUb && dav3510 && position == AscendC::TPosition::VECCALC)) {
        return;
    }
    const char *arch = dav3510 ? "dav-3510 (Ascend 950)" : "dav-c220 (Atlas A2/A3)";
    if (intoUb) {
        Violation("DataCopyPad position", "%s into a %s tensor: %s documents GM->%s only", api, PositionName(position),
                  arch, dav3510 ? "VECIN/VECOUT/VECCALC" : "VECIN/VECOUT");
    }
    Violation("DataCopyPad position", "%s from a %s tensor: %s documents VECIN/VECOUT->GM only", api,
              PositionName(position), arch);
}

// ---- flags ----

void SetFlagImpl(AscendC::HardEvent event, int32_t eventId)
{
    CoreContext &core = RequireCore("SetFlag");
    FlagSlot &slot = CheckedSlot(core, event, eventId, "SetFlag");
    if (slot.set) {
        Violation("flag", "second SetFlag<HardEvent::%s>(%d) before its WaitFlag", HardEventName(event), eventId);
    }
    slot.set = true;
    ++core.flagsSet;
    ++core.counts.setFlags;
    RecordInstr(core, InstrKind::kSetFlag, 0, HardEventName(event), eventId);
    uint8_t producer;
    uint8_t consumer;
    EventUnits(event, &producer, &consumer);
    if (producer != kUnmodelled) {
        IssueTo(core, static_cast<Unit>(producer));
        std::copy(core.known[producer], core.known[producer] + kUnitCount, slot.snapshot);
        slot.snapshot[producer] = core.seq;  // everything the producer has been issued so far
    }
}

void WaitFlagImpl(AscendC::HardEvent event, int32_t eventId)
{
    CoreContext &core = RequireCore("WaitFlag");
    FlagSlot &slot = CheckedSlot(core, event, eventId, "WaitFlag");
    if (!slot.set) {
        Violation("flag", "WaitFlag<HardEvent::%s>(%d) without a pending SetFlag", HardEventName(event), eventId);
    }
    slot.set = false;
    --core.flagsSet;
    ++core.counts.waitFlags;
    RecordInstr(core, InstrKind::kWaitFlag, 0, HardEventName(event), eventId);
    uint8_t producer;
    uint8_t consumer;
    EventUnits(event, &producer, &consumer);
    if (producer != kUnmodelled && consumer != kUnmodelled) {
        for (int unit = 0; unit < kUnitCount; ++unit) {
            core.known[consumer][unit] = std::max(core.known[consumer][unit], slot.snapshot[unit]);
        }
    }
}

void PipeBarrierImpl(pipe_t pipe)
{
    CoreContext &core = RequireCore("PipeBarrier");
    ++core.counts.pipeBarriers;
    RecordInstr(core, InstrKind::kPipeBarrier, 0, PipeName(pipe));
    if (pipe == PIPE_ALL) {
        for (auto &row : core.known) {
            std::fill(row, row + kUnitCount, core.seq);
        }
    } else if (pipe == PIPE_V) {
        core.known[kVector][kVector] = core.seq;  // later vector instructions start after the earlier ones end
    }
    // Other pipes only order instructions within that pipe, which the emulator executes in order.
}

void CheckFlagsAtBlockEnd(const CoreContext &core)
{
    if (core.flagsSet == 0) {
        return;  // the common case: nothing to scan
    }
    for (int event = 0; event < kHardEventCount; ++event) {
        for (int id = 0; id < kEventIdCount; ++id) {
            if (core.flags[event][id].set) {
                Violation("flag", "SetFlag<HardEvent::%s>(%d) was never waited for when the block ended",
                          kHardEventNames[event], id);
            }
        }
    }
}

void EndBlock(CoreContext &core)
{
    CheckFlagsAtBlockEnd(core);
    if (core.tilingKeysTested != 0 && !core.tilingKeyMatched) {
        char keys[96] = "";
        constexpr uint32_t kKept = sizeof(core.testedTilingKeys) / sizeof(core.testedTilingKeys[0]);
        for (uint32_t i = 0; i < core.tilingKeysTested && i < kKept; ++i) {
            const size_t used = std::strlen(keys);
            std::snprintf(keys + used, sizeof(keys) - used, "%s%llu", i == 0 ? "" : ", ",
                          static_cast<unsigned long long>(core.testedTilingKeys[i]));
        }
        Violation("tiling key",
                  "the launch's tiling key %llu is none of the %u the kernel tested with TILING_KEY_IS (%s%s): on the "
                  "device no kernel exists for it (set it with ICPU_SET_TILING_KEY before the launch)",
                  static_cast<unsigned long long>(core.tilingKey), core.tilingKeysTested, keys,
                  core.tilingKeysTested > kKept ? ", ..." : "");
    }
}

const char *HardEventName(AscendC::HardEvent event)
{
    const int index = static_cast<int>(event);
    return index >= 0 && index < kHardEventCount ? kHardEventNames[index] : "?";
}

// ---- tiling ----

bool TilingKeyIs(uint64_t key)
{
    CoreContext &core = RequireCore("TILING_KEY_IS");
    constexpr uint32_t kKept = sizeof(core.testedTilingKeys) / sizeof(core.testedTilingKeys[0]);
    bool seen = false;  // count distinct keys (a loop may test the same one again)
    for (uint32_t i = 0; i < core.tilingKeysTested && i < kKept; ++i) {
        seen = seen || core.testedTilingKeys[i] == key;
    }
    if (!seen) {
        if (core.tilingKeysTested < kKept) {
            core.testedTilingKeys[core.tilingKeysTested] = key;
        }
        ++core.tilingKeysTested;
    }
    const bool match = key == core.tilingKey;
    core.tilingKeyMatched = core.tilingKeyMatched || match;
    return match;
}
void SetHostTilingKey(uint64_t key) { t_hostTilingKey = key; }
uint64_t HostTilingKey() { return t_hostTilingKey; }

void CopyTilingData(void *dst, size_t bytes, const void *tiling, const char *api)
{
    (void)RequireCore(api);  // only a kernel reads its tiling
    if (tiling == nullptr) {
        Violation("GM bounds", "%s with a null tiling pointer", api);
    }
    CheckGmRegistered(tiling, bytes, api);
    std::memcpy(dst, tiling, bytes);
}

}  // namespace detail
}  // namespace ascendc_cpu

namespace AscendC {

int64_t GetBlockIdx()
{
    const ascendc_cpu::detail::CoreContext &core = ascendc_cpu::detail::RequireCore("GetBlockIdx");
    if (core.blockIdx >= core.blockDim) {
        ascendc_cpu::detail::Violation("block index", "GetBlockIdx %u outside [0, %u)", core.blockIdx,
                                       core.blockDim);
    }
    return core.blockIdx;
}

int64_t GetBlockNum() { return ascendc_cpu::detail::RequireCore("GetBlockNum").blockDim; }

}  // namespace AscendC
