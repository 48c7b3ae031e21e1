// Host side of the test-only official-schedule kernel (see official_schedule_kernel.h).
#include "official_schedule.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "../../tests/common/moe_re_routing_reference.h"
#include "official_schedule_kernel.h"

namespace official_model {
namespace {

struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

Buffer ZeroBuffer(size_t bytes)
{
    // calloc: large buffers come as untouched zero pages, so inputs the kernel only copies cost
    // no initialisation. 64 bytes of slack keep zero-sized tensors non-null.
    void *p = std::calloc(bytes + 64, 1);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return Buffer(static_cast<uint8_t *>(p));
}

template <typename CountT>
void Launch(const OfficialTiling &t, uint8_t *tokens, uint8_t *counts, uint8_t *scales, uint8_t *outTokens,
            uint8_t *outScales, uint8_t *outIdx, uint8_t *expertTokenNum, int64_t ubBytes,
            std::vector<ascendc_cpu::CoreTrace> *cores)
{
    ascendc_cpu::LaunchConfig config;
    config.blockDim = static_cast<uint32_t>(t.blockDim);
    config.ubBytes = static_cast<uint32_t>(ubBytes);
    config.collectTrace = true;
    ascendc_cpu::LaunchResult result;
    ascendc_cpu::Launch(
        config,
        [&] {
            AscendC::TPipe pipe;
            OfficialScheduleKernel<CountT> kernel;
            kernel.Init(tokens, counts, scales, outTokens, outScales, outIdx, expertTokenNum, t, &pipe);
            kernel.Process();
        },
        &result);
    *cores = std::move(result.cores);
}

}  // namespace

OfficialRun RunOfficialSchedule(const OfficialCase &c, const std::vector<int64_t> &countsIn, bool keepOutputs)
{
    const std::vector<int64_t> counts = countsIn.empty() ? moe_re_routing_test::PublicCounts(c.A, c.N, c.E) : countsIn;
    if (static_cast<int64_t>(counts.size()) != c.N * c.E || (c.countBytes != 4 && c.countBytes != 8)) {
        throw std::invalid_argument("RunOfficialSchedule: counts must hold N * E values of 4 or 8 bytes");
    }
    const OfficialTiling t = MakeOfficialTiling(c.A, c.rowBytes, c.N, c.E, c.scales, c.cores, c.ubBytes);
    const size_t A = static_cast<size_t>(c.A);
    const size_t cells = counts.size();
    Buffer tokens = ZeroBuffer(A * c.rowBytes), outTokens = ZeroBuffer(A * c.rowBytes);
    Buffer scales = ZeroBuffer(A * 4), outScales = ZeroBuffer(A * 4), outIdx = ZeroBuffer(A * 4);
    Buffer countBuf = ZeroBuffer(cells * c.countBytes), expertTokenNum = ZeroBuffer(c.E * c.countBytes);
    for (size_t i = 0; i < cells; ++i) {
        if (c.countBytes == 4) {
            const int32_t v = static_cast<int32_t>(counts[i]);
            std::memcpy(countBuf.get() + i * 4, &v, 4);
        } else {
            std::memcpy(countBuf.get() + i * 8, &counts[i], 8);
        }
    }
    if (keepOutputs) {
        for (size_t i = 0; i < A * c.rowBytes; ++i) {
            tokens.get()[i] = static_cast<uint8_t>(i % 251);
        }
        for (size_t i = 0; i < A; ++i) {
            const float v = static_cast<float>(i) + 0.5f;
            std::memcpy(scales.get() + i * 4, &v, 4);
        }
    }
    const size_t rowBytes = static_cast<size_t>(c.rowBytes), countBytes = static_cast<size_t>(c.countBytes);
    const size_t sizes[] = {A * rowBytes + 64, cells * countBytes + 64, A * 4 + 64, A * rowBytes + 64,
                            A * 4 + 64, A * 4 + 64, static_cast<size_t>(c.E) * countBytes + 64};
    uint8_t *ptrs[] = {tokens.get(), countBuf.get(), scales.get(), outTokens.get(), outScales.get(),
                       outIdx.get(), expertTokenNum.get()};
    std::vector<std::unique_ptr<ascendc_cpu::ScopedGm>> gm;
    for (size_t i = 0; i < 7; ++i) {
        gm.push_back(std::make_unique<ascendc_cpu::ScopedGm>(ptrs[i], sizes[i]));
    }

    OfficialRun run;
    run.blockDim = static_cast<uint32_t>(t.blockDim);
    run.ubFactor = t.ubFactor;
    if (c.countBytes == 4) {
        Launch<int32_t>(t, ptrs[0], ptrs[1], c.scales ? ptrs[2] : nullptr, ptrs[3], ptrs[4], ptrs[5], ptrs[6],
                        c.ubBytes, &run.cores);
    } else {
        Launch<int64_t>(t, ptrs[0], ptrs[1], c.scales ? ptrs[2] : nullptr, ptrs[3], ptrs[4], ptrs[5], ptrs[6],
                        c.ubBytes, &run.cores);
    }
    if (keepOutputs) {
        run.tokens.assign(tokens.get(), tokens.get() + A * c.rowBytes);
        run.outTokens.assign(outTokens.get(), outTokens.get() + A * c.rowBytes);
        run.scales.resize(A);
        run.outScales.resize(A);
        std::memcpy(run.scales.data(), scales.get(), A * 4);
        std::memcpy(run.outScales.data(), outScales.get(), A * 4);
        run.outIdx.resize(A);
        std::memcpy(run.outIdx.data(), outIdx.get(), A * 4);
        run.counts = counts;
        run.expertTokenNum.resize(static_cast<size_t>(c.E));
        for (int64_t e = 0; e < c.E; ++e) {
            if (c.countBytes == 4) {
                int32_t v;
                std::memcpy(&v, expertTokenNum.get() + e * 4, 4);
                run.expertTokenNum[e] = v;
            } else {
                std::memcpy(&run.expertTokenNum[e], expertTokenNum.get() + e * 8, 8);
            }
        }
    }
    return run;
}

}  // namespace official_model
