// The DMA engine behind DataCopy / DataCopyPad, and the registry of global memory.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "ascendc_cpu/kernel/core.h"
#include "ascendc_cpu/runtime.h"
#include "internal.h"

namespace ascendc_cpu {
namespace detail {
namespace {

// Registered GM regions: base -> bytes. A multimap because concurrent launches may register the
// same host buffer (e.g. one input shared by two calls) at the same time.
struct GmRegistry {
    std::shared_mutex mutex;
    std::multimap<uintptr_t, size_t> regions;
};

GmRegistry &Registry()
{
    static GmRegistry *registry = new GmRegistry;  // never destroyed: usable from any static destructor
    return *registry;
}

uint64_t Extent(const DmaLayout &layout, uint64_t pitch, uint64_t lastBlockBytes)
{
    return static_cast<uint64_t>(layout.blockCount - 1) * pitch + lastBlockBytes;
}

void CheckGm(const char *api, const GmOperand &gm, uint64_t bytes)
{
    if (gm.tensorBegin == nullptr) {
        Violation("GM bounds", "%s on a GlobalTensor without SetGlobalBuffer", api);
    }
    if (gm.tensorEnd != nullptr &&
        (gm.address < gm.tensorBegin || gm.address > gm.tensorEnd ||
         bytes > static_cast<uint64_t>(gm.tensorEnd - gm.address))) {
        GmOutOfBounds(api, gm.address, static_cast<size_t>(bytes), gm.tensorBegin, gm.tensorEnd);
    }
    CheckGmRegistered(gm.address, static_cast<size_t>(bytes), api);
}

void Record(CoreContext &core, const char *direction, double startUs, uint64_t bytes, const DmaLayout &layout)
{
    if (core.events != nullptr) {
        core.events->push_back(DmaEvent{startUs - core.launchStartUs, NowUs() - startUs, bytes, direction,
                                        layout.blockCount, layout.blockBytes});
    }
}

// Counts one DMA instruction and, when the launch collects a trace, logs it (no-ops included).
void Issue(CoreContext &core, const char *api, const char *direction, const DmaLayout &layout)
{
    ++core.dmaOps;
    if (core.dmaLog != nullptr) {
        DmaOp op;
        op.direction = direction;
        op.api = std::strncmp(api, "DataCopyPad", 11) == 0 ? "DataCopyPad" : "DataCopy";
        const bool noOp = layout.blockCount == 0 || layout.blockBytes == 0;
        op.bursts = noOp ? 0 : layout.blockCount;
        op.burstBytes = noOp ? 0 : layout.blockBytes;
        op.bytes = static_cast<uint64_t>(op.bursts) * op.burstBytes;
        core.dmaLog->push_back(op);
    }
    if (core.instrLog != nullptr) {
        const InstrKind kind = direction[0] == 'G' ? InstrKind::kDmaGmToUb
                               : direction[4] == 'G' ? InstrKind::kDmaUbToGm
                                                     : InstrKind::kDmaUbToUb;
        const bool noOp = layout.blockCount == 0 || layout.blockBytes == 0;
        RecordInstr(core, kind, noOp ? 0 : static_cast<uint64_t>(layout.blockCount) * layout.blockBytes);
        InstrRecord &record = core.instrLog->back();
        record.bursts = noOp ? 0 : layout.blockCount;
        record.burstBytes = noOp ? 0 : layout.blockBytes;
        record.srcPitch = layout.srcPitch;
        record.dstPitch = layout.dstPitch;
        record.padBytes = layout.leftPadBytes + layout.rightPadBytes;
    }
}

// memcpy for the DMA engine. glibc's memcpy moves large blocks with `rep movsb`, which on the AMD
// EPYC hosts we measured is about 18x slower when (dst - src) mod 64 is 1..31 (a 28 KiB copy:
// 9.5-10 us instead of 0.55 us), and a kernel's GM addresses can fall into that relation with UB or
// with each other. Those copies go through 64-byte chunks instead (1.1-1.2 us for 28 KiB on the
// same host, on every alignment).
void CopyBytes(uint8_t *dst, const uint8_t *src, size_t bytes)
{
    const size_t skew = static_cast<size_t>(reinterpret_cast<uintptr_t>(dst) - reinterpret_cast<uintptr_t>(src)) & 63u;
    if (bytes < 2048 || skew == 0 || skew >= 32) {
        std::memcpy(dst, src, bytes);
        return;
    }
    size_t done = 0;
    for (; done + 64 <= bytes; done += 64) {
        uint8_t chunk[64];
        std::memcpy(chunk, src + done, 64);
        std::memcpy(dst + done, chunk, 64);
    }
    std::memcpy(dst + done, src + done, bytes - done);
}

}  // namespace

void CheckGmRegistered(const void *address, size_t bytes, const char *api)
{
    const uintptr_t begin = reinterpret_cast<uintptr_t>(address);
    GmRegistry &registry = Registry();
    {
        std::shared_lock<std::shared_mutex> lock(registry.mutex);
        auto it = registry.regions.upper_bound(begin);
        while (it != registry.regions.begin()) {
            --it;
            if (begin - it->first <= it->second && bytes <= it->second - (begin - it->first)) {
                return;
            }
        }
    }
    Violation("GM unregistered",
              "%s accesses GM [%p, +%zu B) outside every registered GM region (GmAlloc / ascendc_cpu::RegisterGm)", api,
              address, bytes);
}

uint32_t DataCopyBytes(const char *direction, uint64_t count, uint32_t elementBytes)
{
    const uint64_t bytes = count * elementBytes;
    const uint64_t moved = bytes / 32 * 32;
    if (moved != bytes) {
        Violation("DataCopy length",
                  "%s count %llu x %u B = %llu B is not a multiple of 32 B (the hardware would move only %llu B; "
                  "use DataCopyPad)",
                  direction, static_cast<unsigned long long>(count), elementBytes,
                  static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(moved));
    }
    return static_cast<uint32_t>(std::min<uint64_t>(moved, 0xffffffe0u));
}

void DmaGmToUb(CoreContext &core, const char *api, const UbOperand &dst, const GmOperand &src, const DmaLayout &layout,
               const PadFill &pad)
{
    Issue(core, api, "GM->UB", layout);
    if (layout.blockCount == 0 || layout.blockBytes == 0) {
        return;  // a documented no-op
    }
    CheckUbAligned(core, dst.address, api, "dst");
    const uint64_t ubExtent = Extent(layout, layout.dstPitch, layout.ubBlockFootprint);
    CheckUbRange(core, api, dst.address, ubExtent, dst.bufferBegin, dst.bufferEnd);
    CheckGm(api, src, Extent(layout, layout.srcPitch, layout.blockBytes));
    const double startUs = core.events != nullptr ? NowUs() : 0.0;

    const bool padded = layout.leftPadBytes != 0 || layout.rightPadBytes != 0;
    const bool contiguous = !padded && (layout.blockCount == 1 || (layout.srcPitch == layout.blockBytes &&
                                                                    layout.dstPitch == layout.blockBytes));
    const uint64_t total = static_cast<uint64_t>(layout.blockCount) * layout.blockBytes;
    IssueTo(core, kMte2);
    if (contiguous) {
        NoteUbWrite(core, kMte2, dst.address, total, api);
    } else {
        const uint32_t written = layout.leftPadBytes + layout.blockBytes + layout.rightPadBytes;
        for (uint32_t block = 0; block < layout.blockCount; ++block) {
            NoteUbWrite(core, kMte2, dst.address + block * layout.dstPitch, written, api);
        }
    }
    if (contiguous) {
        CopyBytes(dst.address, src.address, total);
    } else {
        for (uint32_t block = 0; block < layout.blockCount; ++block) {
            uint8_t *ubBlock = dst.address + block * layout.dstPitch;
            std::memcpy(ubBlock + layout.leftPadBytes, src.address + block * layout.srcPitch, layout.blockBytes);
            if (pad.enabled) {
                for (uint32_t i = 0; i < layout.leftPadBytes; i += pad.elementBytes) {
                    std::memcpy(ubBlock + i, pad.element, pad.elementBytes);
                }
                uint8_t *right = ubBlock + layout.leftPadBytes + layout.blockBytes;
                for (uint32_t i = 0; i < layout.rightPadBytes; i += pad.elementBytes) {
                    std::memcpy(right + i, pad.element, pad.elementBytes);
                }
            }
        }
    }
    core.bytesIn += total;
    Record(core, "GM->UB", startUs, total, layout);
}

void DmaUbToGm(CoreContext &core, const char *api, const GmOperand &dst, const UbOperand &src, const DmaLayout &layout)
{
    Issue(core, api, "UB->GM", layout);
    if (layout.blockCount == 0 || layout.blockBytes == 0) {
        return;
    }
    CheckUbAligned(core, src.address, api, "src");
    const uint64_t ubExtent = Extent(layout, layout.srcPitch, layout.ubBlockFootprint);
    CheckUbRange(core, api, src.address, ubExtent, src.bufferBegin, src.bufferEnd);
    const uint64_t gmExtent = Extent(layout, layout.dstPitch, layout.blockBytes);
    CheckGm(api, dst, gmExtent);
    const double startUs = core.events != nullptr ? NowUs() : 0.0;

    const bool contiguous = layout.blockCount == 1 ||
                            (layout.srcPitch == layout.blockBytes && layout.dstPitch == layout.blockBytes);
    const uint64_t total = static_cast<uint64_t>(layout.blockCount) * layout.blockBytes;
    IssueTo(core, kMte3);
    if (contiguous) {
        CheckUbRead(core, kMte3, src.address, total, api);
    } else {
        for (uint32_t block = 0; block < layout.blockCount; ++block) {
            CheckUbRead(core, kMte3, src.address + block * layout.srcPitch, layout.blockBytes, api);
        }
    }
    if (contiguous) {
        CopyBytes(dst.address, src.address, total);
    } else {
        for (uint32_t block = 0; block < layout.blockCount; ++block) {
            std::memcpy(dst.address + block * layout.dstPitch, src.address + block * layout.srcPitch,
                        layout.blockBytes);
        }
    }
    core.bytesOut += total;
    Record(core, "UB->GM", startUs, total, layout);
}

void DmaUbToUb(CoreContext &core, const char *api, const UbOperand &dst, const UbOperand &src, const DmaLayout &layout)
{
    Issue(core, api, "UB->UB", layout);
    if (layout.blockCount == 0 || layout.blockBytes == 0) {
        return;
    }
    CheckUbAligned(core, src.address, api, "src");
    CheckUbAligned(core, dst.address, api, "dst");
    CheckUbRange(core, api, src.address, Extent(layout, layout.srcPitch, layout.blockBytes), src.bufferBegin,
                 src.bufferEnd);
    CheckUbRange(core, api, dst.address, Extent(layout, layout.dstPitch, layout.blockBytes), dst.bufferBegin,
                 dst.bufferEnd);
    const double startUs = core.events != nullptr ? NowUs() : 0.0;
    BeginVectorInstruction(core);  // the emulator treats UB->UB copies as vector-unit work
    for (uint32_t block = 0; block < layout.blockCount; ++block) {
        CheckUbRead(core, kVector, src.address + block * layout.srcPitch, layout.blockBytes, api);
    }
    for (uint32_t block = 0; block < layout.blockCount; ++block) {
        NoteUbWrite(core, kVector, dst.address + block * layout.dstPitch, layout.blockBytes, api);
    }
    for (uint32_t block = 0; block < layout.blockCount; ++block) {
        std::memmove(dst.address + block * layout.dstPitch, src.address + block * layout.srcPitch, layout.blockBytes);
    }
    Record(core, "UB->UB", startUs, static_cast<uint64_t>(layout.blockCount) * layout.blockBytes, layout);
}

}  // namespace detail

void RegisterGm(const void *base, size_t bytes)
{
    if (base == nullptr || bytes == 0) {
        return;
    }
    detail::GmRegistry &registry = detail::Registry();
    std::unique_lock<std::shared_mutex> lock(registry.mutex);
    registry.regions.emplace(reinterpret_cast<uintptr_t>(base), bytes);
}

void UnregisterGm(const void *base)
{
    detail::GmRegistry &registry = detail::Registry();
    std::unique_lock<std::shared_mutex> lock(registry.mutex);
    auto it = registry.regions.find(reinterpret_cast<uintptr_t>(base));
    if (it != registry.regions.end()) {
        registry.regions.erase(it);
    }
}

}  // namespace ascendc_cpu
