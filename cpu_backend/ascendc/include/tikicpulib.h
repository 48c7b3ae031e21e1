// The official CPU-debug entry points (GmAlloc, ICPU_RUN_KF, ...) on top of the emulator, so kernel
// unit tests written for the toolkit's CPU-debug library build against it.
#ifndef ASCENDC_CPU_TIKICPULIB_H
#define ASCENDC_CPU_TIKICPULIB_H

#include <cstddef>
#include <cstdint>
#include <functional>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"

namespace AscendC {

enum class KernelMode { MIX_MODE = 0, AIC_MODE, AIV_MODE, MIX_AIC_1_1 };

// Accepted for compatibility; every emulated core is a vector (AIV) core.
void SetKernelMode(KernelMode mode);

// Global memory for kernel arguments: 32-byte aligned and registered with the emulator.
void *GmAlloc(size_t size);
void GmFree(void *ptr);

}  // namespace AscendC

// Official CPU-debug tests write `AscendC::SetKernelMode(KernelMode::AIV_MODE)` unqualified.
using AscendC::KernelMode;

namespace ascendc_cpu {
namespace detail {
// Runs `body` once per block in [0, blockDim) with the default LaunchConfig.
void RunKernel(const char *name, uint32_t blockDim, const std::function<void()> &body);
}  // namespace detail
}  // namespace ascendc_cpu

// Sets the tiling key TILING_KEY_IS sees in kernels launched afterwards from this thread.
#define ICPU_SET_TILING_KEY(key) ::ascendc_cpu::detail::SetHostTilingKey(static_cast<uint64_t>(key))

// Runs func(args...) once per block index in [0, blockDim). The arguments are evaluated per block.
#define ICPU_RUN_KF(func, blockDim, ...) \
    ::ascendc_cpu::detail::RunKernel(#func, static_cast<uint32_t>(blockDim), [&]() { func(__VA_ARGS__); })

#endif  // ASCENDC_CPU_TIKICPULIB_H
