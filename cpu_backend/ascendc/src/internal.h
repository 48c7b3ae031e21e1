// Library-internal helpers shared by the emulator's translation units.
#ifndef ASCENDC_CPU_SRC_INTERNAL_H
#define ASCENDC_CPU_SRC_INTERNAL_H

#include <cstdint>

#include "ascendc_cpu/kernel/core.h"

namespace ascendc_cpu {
namespace detail {

// Makes `core` the current core of this thread; returns the previous one.
CoreContext *SwapCurrentCore(CoreContext *core);

// Host time in microseconds since an arbitrary process-wide origin.
double NowUs();

// Aborts when a SetFlag of the block was never waited for.
void CheckFlagsAtBlockEnd(const CoreContext &core);

// End of a block, with the core still current: the flag check.
void EndBlock(CoreContext &core);

const char *HardEventName(AscendC::HardEvent event);
uint64_t HostTilingKey();

}  // namespace detail
}  // namespace ascendc_cpu

#endif  // ASCENDC_CPU_SRC_INTERNAL_H
