// Helpers shared by the emulator's test files: global memory from GmAlloc and the process-wide
// emulator mode restored after a test.
#ifndef MOE_RE_ROUTING_TESTS_EMULATOR_TEST_UTIL_H
#define MOE_RE_ROUTING_TESTS_EMULATOR_TEST_UTIL_H

#include <cstddef>
#include <cstring>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"
#include "tikicpulib.h"

namespace emulator_test {

// Restores the process-wide mode when a test changes it.
struct ModeGuard {
    ascendc_cpu::Mode saved = ascendc_cpu::GetMode();
    explicit ModeGuard(ascendc_cpu::Mode mode) { ascendc_cpu::SetMode(mode); }
    ~ModeGuard() { ascendc_cpu::SetMode(saved); }
    ModeGuard(const ModeGuard &) = delete;
    ModeGuard &operator=(const ModeGuard &) = delete;
};

// `n` elements of T from GmAlloc (registered GM), zero-filled; freed with GmFree.
template <typename T>
struct GmBuffer {
    T *data;
    size_t count;
    explicit GmBuffer(size_t n) : data(static_cast<T *>(AscendC::GmAlloc(n * sizeof(T)))), count(n)
    {
        std::memset(static_cast<void *>(data), 0, n * sizeof(T));
    }
    ~GmBuffer() { AscendC::GmFree(data); }
    GmBuffer(const GmBuffer &) = delete;
    GmBuffer &operator=(const GmBuffer &) = delete;
    GM_ADDR gm() const { return reinterpret_cast<GM_ADDR>(data); }
    T &operator[](size_t i) { return data[i]; }
};

}  // namespace emulator_test

#endif  // MOE_RE_ROUTING_TESTS_EMULATOR_TEST_UTIL_H
