// Core index queries and pipe synchronisation: SetFlag/WaitFlag pairs and PipeBarrier.
#ifndef ASCENDC_CPU_KERNEL_SYNC_H
#define ASCENDC_CPU_KERNEL_SYNC_H

#include <cstdint>

#include "ascendc_cpu/kernel/core.h"

namespace AscendC {

int64_t GetBlockIdx();
int64_t GetBlockNum();

// Producer pipe signals event `eventID` (0..5; 6 and 7 are reserved) ...
template <HardEvent event>
inline void SetFlag(int32_t eventID, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    ascendc_cpu::detail::EnterApi(ascendc_cpu::detail::CurrentCore(), "SetFlag", where);
    ascendc_cpu::detail::SetFlagImpl(event, eventID);
}

// ... and the consumer pipe waits for it. Every SetFlag needs exactly one WaitFlag.
template <HardEvent event>
inline void WaitFlag(int32_t eventID, ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    ascendc_cpu::detail::EnterApi(ascendc_cpu::detail::CurrentCore(), "WaitFlag", where);
    ascendc_cpu::detail::WaitFlagImpl(event, eventID);
}

// Orders the instructions of one pipe; PIPE_ALL waits for every pipe.
template <pipe_t pipe>
inline void PipeBarrier(ascendc_cpu::SourceLocation where = ASCENDC_CPU_HERE)
{
    ascendc_cpu::detail::EnterApi(ascendc_cpu::detail::CurrentCore(), "PipeBarrier", where);
    ascendc_cpu::detail::PipeBarrierImpl(pipe);
}

}  // namespace AscendC

#endif  // ASCENDC_CPU_KERNEL_SYNC_H
