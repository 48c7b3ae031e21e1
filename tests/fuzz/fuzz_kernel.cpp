// libFuzzer target over the kernel (op_kernel/) on the Ascend C emulator with arbitrary count
// matrices: on an NPU the counts live in device memory and no host check sees them, so the kernel
// must stay inside its buffers whatever they hold (sums above or below A, negatives, int32/int64
// extremes). The tiling comes from op_host for a problem and a platform drawn from the input (small
// UBs force the segmented-row, streamed-count and rank-major paths); the emulator mode too. A quarter
// of the inputs have a slot stride (MoeReRoutingWithCapacity, forward or restore), with slots over
// their capacity among the lies.
//
// Oracles: every buffer is registered with the emulator as global memory and allocated with its
// exact size, so an access outside one aborts in checked mode (the emulator's GM bounds) and under
// AddressSanitizer in both modes; any emulator rule violation aborts (a finding); with honest
// counts the outputs must equal the reference byte for byte.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "ascendc_cpu/runtime.h"
#include "../common/moe_re_routing_reference.h"
#include "moe_re_routing_host.h"
#include "tikicpulib.h"

// The kernel entry `moe_re_routing`, under another C++ name: the host namespace has that name.
extern "C" void MoeReRoutingFuzzKernel(uint8_t *tokens, uint8_t *expertTokenNumPerRank, uint8_t *perTokenScales,
                                       uint8_t *permuteTokens, uint8_t *permutePerTokenScales,
                                       uint8_t *permuteTokenIdx, uint8_t *expertTokenNum, uint8_t *workspace,
                                       uint8_t *tiling) __asm__("moe_re_routing");

namespace fuzz_ref = moe_re_routing_test;  // the shared test reference

namespace {

void Check(bool ok)
{
    if (!ok) {
        __builtin_trap();
    }
}

int64_t CountValue(FuzzedDataProvider &fdp, int64_t honest)
{
    switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
        case 0: return -fdp.ConsumeIntegralInRange<int64_t>(1, 5);
        case 1: return std::numeric_limits<int64_t>::max() - fdp.ConsumeIntegralInRange<int64_t>(0, 3);
        case 2: return std::numeric_limits<int64_t>::min() + fdp.ConsumeIntegralInRange<int64_t>(0, 3);
        case 3: return std::numeric_limits<int32_t>::max() - fdp.ConsumeIntegralInRange<int64_t>(0, 3);
        case 4: return std::numeric_limits<int32_t>::min();
        case 5: return fdp.ConsumeIntegral<int64_t>();
        case 6: {  // sum above A (a cell may already hold an extreme lie)
            int64_t more = 0;
            return __builtin_add_overflow(honest, fdp.ConsumeIntegralInRange<int64_t>(1, 300), &more) ? honest : more;
        }
        default: return honest;
    }
}

// A buffer of exactly `bytes`, registered as global memory while alive.
struct Gm {
    explicit Gm(int64_t bytes, uint8_t fill)
        : data(new uint8_t[bytes > 0 ? bytes : 1]), scope(std::in_place, data.get(), static_cast<size_t>(bytes))
    {
        std::memset(data.get(), fill, bytes > 0 ? bytes : 1);
    }
    std::unique_ptr<uint8_t[]> data;
    std::optional<ascendc_cpu::ScopedGm> scope;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    FuzzedDataProvider fdp(input, size);
    using moe_re_routing::Platform;
    using moe_re_routing::Problem;

    Problem p;
    p.rankNum = fdp.ConsumeIntegralInRange<int64_t>(1, fdp.ConsumeBool() ? 8 : 300);
    p.expertNum = fdp.ConsumeIntegralInRange<int64_t>(1, fdp.ConsumeBool() ? 8 : 64);
    p.countBytes = fdp.ConsumeBool() ? 8 : 4;
    p.tokenRowBytes = fdp.ConsumeIntegralInRange<int64_t>(1, fdp.ConsumeBool() ? 64 : 4096);
    static const int64_t kScaleRows[] = {0, 0, 1, 4, 8, 12, 32};
    p.scaleRowBytes = kScaleRows[fdp.ConsumeIntegralInRange<int>(0, 6)];
    p.outScaleRowBytes = p.scaleRowBytes != 0 ? p.scaleRowBytes : 4;
    p.expertTokenNumType = fdp.ConsumeBool() ? 1 : 0;
    p.idxType = fdp.ConsumeBool() ? 1 : 0;

    // Honest counts first (a random split of A), then lies on some cells.
    const int64_t cells = p.rankNum * p.expertNum;
    std::vector<int64_t> counts(cells, 0);
    int64_t A = 0;
    for (int64_t &c : counts) {
        c = fdp.ConsumeIntegralInRange<int64_t>(0, 4) == 0 ? fdp.ConsumeIntegralInRange<int64_t>(0, 40) : 0;
        A += c;
    }
    const int lies = fdp.ConsumeIntegralInRange<int>(0, 4);
    for (int i = 0; i < lies; ++i) {
        int64_t &c = counts[fdp.ConsumeIntegralInRange<int64_t>(0, cells - 1)];
        c = CountValue(fdp, c);
    }
    // Static capacity: C from the fullest slot (honest) or below it (a slot over capacity); the rows
    // are the slots * C, whatever the counts sum to.
    int64_t capacity = 0;
    bool restore = false;
    if (fdp.ConsumeIntegralInRange<int>(0, 3) == 0) {
        restore = fdp.ConsumeBool();
        const int64_t slots = restore ? p.expertNum : p.rankNum;
        int64_t fullest = 0;
        for (int64_t k = 0; k < slots; ++k) {
            int64_t sum = 0;
            for (int64_t j = 0; j < (restore ? p.rankNum : p.expertNum); ++j) {
                const int64_t v = counts[restore ? j * p.expertNum + k : k * p.expertNum + j];
                sum = v > 0 && v < 4096 ? sum + v : sum;  // lies aside
            }
            fullest = sum > fullest ? sum : fullest;
        }
        capacity = fullest + fdp.ConsumeIntegralInRange<int64_t>(-3, 3);
        capacity = capacity < 1 ? 1 : capacity;
        A = slots * capacity;
        (restore ? p.dstSlotRows : p.srcSlotRows) = capacity;
    } else if (fdp.ConsumeIntegralInRange<int>(0, 7) == 0) {
        A = fdp.ConsumeIntegralInRange<int64_t>(0, 600);  // A itself disagrees with the counts
    }
    p.tokenNum = A;
    if (p.tokenNum * (p.tokenRowBytes + p.outScaleRowBytes + 4) > (int64_t{8} << 20)) {
        return 0;  // keep an execution cheap
    }

    Platform platform;
    static const uint32_t kUb[] = {196608, 196608, 16384, 8192, 4096, 2048};
    platform.ubBytes = kUb[fdp.ConsumeIntegralInRange<int>(0, 5)];
    platform.aivCoreNum = fdp.ConsumeIntegralInRange<uint32_t>(1, 48);
    MoeReRoutingTilingData tiling{};
    if (!moe_re_routing::ComputeTiling(p, platform, &tiling).ok() || tiling.usedCoreNum == 0) {
        return 0;  // the host refuses the platform: the kernel never runs
    }
    const bool sequential = fdp.ConsumeIntegralInRange<int>(0, 3) != 0;

    std::vector<uint8_t> countBytes(cells * p.countBytes);
    for (int64_t i = 0; i < cells; ++i) {
        if (p.countBytes == 8) {
            std::memcpy(&countBytes[i * 8], &counts[i], 8);
        } else {
            const int32_t v = static_cast<int32_t>(counts[i]);
            std::memcpy(&countBytes[i * 4], &v, 4);
        }
    }
    // Counts the host would accept (packed: none negative and sum A; slots: each within C).
    const bool honest = moe_re_routing::CheckCountValues(p, countBytes.data()).ok();

    Gm tokens(A * p.tokenRowBytes, 0);
    for (int64_t i = 0; i < A * p.tokenRowBytes; ++i) {
        tokens.data[i] = static_cast<uint8_t>(i * 131 + i / p.tokenRowBytes);
    }
    Gm countsGm(cells * p.countBytes, 0);
    std::memcpy(countsGm.data.get(), countBytes.data(), countBytes.size());
    std::optional<Gm> scales;
    if (p.scaleRowBytes != 0) {
        scales.emplace(A * p.scaleRowBytes, 0);
        for (int64_t i = 0; i < A * p.scaleRowBytes; ++i) {
            scales->data[i] = static_cast<uint8_t>(i * 29 + 3);
        }
    }
    Gm outTokens(A * p.tokenRowBytes, 0xA5);
    Gm outScales(A * p.outScaleRowBytes, 0xA5);
    Gm outIdx(A * 4, 0xA5);
    Gm outExperts(p.expertNum * p.countBytes, 0xA5);
    Gm tilingGm(sizeof(tiling), 0);
    std::memcpy(tilingGm.data.get(), &tiling, sizeof(tiling));

    ascendc_cpu::SetAutoSync(false);  // the kernel carries its own PIPE_V ordering
    ICPU_SET_TILING_KEY(moe_re_routing::TilingKeyOf(p));
    ascendc_cpu::LaunchConfig config;
    config.blockDim = tiling.usedCoreNum;
    config.ubBytes = platform.ubBytes;
    config.sequential = sequential;
    ascendc_cpu::LaunchResult result;
    uint8_t *scalesPtr = scales ? scales->data.get() : nullptr;
    ascendc_cpu::Launch(
        config,
        [&] {
            MoeReRoutingFuzzKernel(tokens.data.get(), countsGm.data.get(), scalesPtr, outTokens.data.get(),
                                   outScales.data.get(), outIdx.data.get(), outExperts.data.get(), nullptr,
                                   tilingGm.data.get());
        },
        &result);

    if (honest) {
        fuzz_ref::Problem rp{A, p.rankNum, p.expertNum, p.tokenRowBytes, p.scaleRowBytes, p.countBytes,
                             p.expertTokenNumType, p.idxType, capacity, restore};
        const fuzz_ref::Outputs want = fuzz_ref::Reference(rp, tokens.data.get(), countBytes.data(), scalesPtr);
        Check(want.tokens.empty() || std::memcmp(outTokens.data.get(), want.tokens.data(), want.tokens.size()) == 0);
        Check(want.scales.empty() || std::memcmp(outScales.data.get(), want.scales.data(), want.scales.size()) == 0);
        Check(want.idx.empty() || std::memcmp(outIdx.data.get(), want.idx.data(), want.idx.size()) == 0);
        Check(std::memcmp(outExperts.data.get(), want.experts.data(), want.experts.size()) == 0);
    }
    return 0;
}
