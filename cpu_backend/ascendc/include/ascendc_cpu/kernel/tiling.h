// Tiling-data access in kernels: REGISTER_TILING_DEFAULT, GET_TILING_DATA*, TILING_KEY_IS.
#ifndef ASCENDC_CPU_KERNEL_TILING_H
#define ASCENDC_CPU_KERNEL_TILING_H

#include <type_traits>

#include "ascendc_cpu/kernel/core.h"

// Declares the tiling struct GET_TILING_DATA uses in the enclosing scope.
#define REGISTER_TILING_DEFAULT(tilingStruct) using AscendcCpuDefaultTilingType_ [[maybe_unused]] = tilingStruct

// Declares `name` of the struct given and fills it from the tiling bytes in GM.
#define GET_TILING_DATA_WITH_STRUCT(tilingStruct, name, tilingArg)                                   \
    tilingStruct name;                                                                                \
    static_assert(std::is_trivially_copyable<tilingStruct>::value, "tiling data must be a plain struct"); \
    ::ascendc_cpu::detail::CopyTilingData(&name, sizeof(tilingStruct), (tilingArg), "GET_TILING_DATA")

// Declares `name` of the type REGISTER_TILING_DEFAULT registered.
#define GET_TILING_DATA(name, tilingArg) GET_TILING_DATA_WITH_STRUCT(AscendcCpuDefaultTilingType_, name, tilingArg)

// True when the launch's tiling key (ICPU_SET_TILING_KEY) equals `key`. As on the device, where the
// toolkit builds one kernel per key a kernel tests and a launch with another key has no kernel to
// run, a block that tested keys and matched none is a rule violation ("tiling key").
#define TILING_KEY_IS(key) (::ascendc_cpu::detail::TilingKeyIs(static_cast<uint64_t>(key)))

#endif  // ASCENDC_CPU_KERNEL_TILING_H
