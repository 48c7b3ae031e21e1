// The Ascend C kernel API as the CPU emulator provides it: kernel sources include this header
// exactly as they include the toolkit's kernel_operator.h.
#ifndef ASCENDC_CPU_KERNEL_OPERATOR_H
#define ASCENDC_CPU_KERNEL_OPERATOR_H

#include "ascendc_cpu/kernel/types.h"
#include "ascendc_cpu/kernel/core.h"
#include "ascendc_cpu/kernel/tensor.h"
#include "ascendc_cpu/kernel/pipe.h"
#include "ascendc_cpu/kernel/data_copy.h"
#include "ascendc_cpu/kernel/vector.h"
#include "ascendc_cpu/kernel/sync.h"
#include "ascendc_cpu/kernel/tiling.h"

#endif  // ASCENDC_CPU_KERNEL_OPERATOR_H
