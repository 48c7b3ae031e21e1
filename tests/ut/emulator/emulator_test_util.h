// Helpers shared by the emulator's test files: global memory from GmAlloc and the process-wide
// auto-sync setting and SoC restored after a test.
#ifndef MOE_RE_ROUTING_TESTS_EMULATOR_TEST_UTIL_H
#define MOE_RE_ROUTING_TESTS_EMULATOR_TEST_UTIL_H

#include <cstddef>
#include <cstring>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"
#include "tikicpulib.h"

namespace emulator_test {

// Sets the process-wide auto-sync setting for one test and restores it afterwards.
struct AutoSyncGuard {
    bool saved = ascendc_cpu::GetAutoSync();
    explicit AutoSyncGuard(bool on) { ascendc_cpu::SetAutoSync(on); }
    ~AutoSyncGuard() { ascendc_cpu::SetAutoSync(saved); }
    AutoSyncGuard(const AutoSyncGuard &) = delete;
    AutoSyncGuard &operator=(const AutoSyncGuard &) = delete;
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
