// A kernel unit test written the way CANN's CPU-debug unit tests are written: global memory from
// AscendC::GmAlloc, the tiling struct filled on the host, the kernel run by ICPU_RUN_KF on
// blockDim emulated cores, the outputs checked against values computed by hand.
//
// Problem: A = 6 rows of H = 4 int16, N = 2 ranks, E = 2 experts,
// counts = [[1, 2], [3, 0]] (rank-major rows 0 | 1 2 | 3 4 5), no scales, count mode, gather.
// Expert-major order: expert 0 takes rank 0's row 0 then rank 1's rows 3 4 5; expert 1 takes
// rank 0's rows 1 2. So permute_token_idx = [0, 3, 4, 5, 1, 2] and expert_token_num = [4, 2].
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "ascendc_cpu/platform.h"
#include "moe_re_routing_host.h"
#include "tikicpulib.h"

// The kernel entry; its C++ name differs because the host header's namespace is moe_re_routing.
extern "C" __global__ __aicore__ void MoeReRoutingEntry(GM_ADDR tokens, GM_ADDR counts, GM_ADDR scales,
                                                        GM_ADDR permuteTokens, GM_ADDR permuteScales,
                                                        GM_ADDR permuteIdx, GM_ADDR expertTokenNum,
                                                        GM_ADDR workspace, GM_ADDR tiling) __asm__("moe_re_routing");

int main()
{
    // The emulator's default SoC: ICPU_RUN_KF gives each core exactly the UB it leaves a kernel.
    constexpr const ascendc_cpu::SocPlatform &kSoc = ascendc_cpu::kDefaultSoc;
    constexpr int64_t A = 6, H = 4, N = 2, E = 2;
    moe_re_routing::Problem problem;
    problem.tokenNum = A;
    problem.hiddenSize = H;
    problem.rankNum = N;
    problem.expertNum = E;
    problem.tokenRowBytes = H * sizeof(int16_t);
    problem.outScaleRowBytes = 4;
    problem.countBytes = 4;
    MoeReRoutingTilingData tilingData{};
    const moe_re_routing::Result r =
        moe_re_routing::ComputeTiling(problem, moe_re_routing::Platform{kSoc.aivCoreNum, kSoc.UsableUbBytes()}, &tilingData);
    if (!r.ok()) {
        std::printf("tiling failed: %s\n", r.message.c_str());
        return 1;
    }

    auto *tokens = static_cast<int16_t *>(AscendC::GmAlloc(A * H * sizeof(int16_t)));
    auto *counts = static_cast<int32_t *>(AscendC::GmAlloc(N * E * sizeof(int32_t)));
    auto *permuteTokens = static_cast<int16_t *>(AscendC::GmAlloc(A * H * sizeof(int16_t)));
    auto *permuteScales = static_cast<float *>(AscendC::GmAlloc(A * sizeof(float)));
    auto *permuteIdx = static_cast<int32_t *>(AscendC::GmAlloc(A * sizeof(int32_t)));
    auto *expertTokenNum = static_cast<int32_t *>(AscendC::GmAlloc(E * sizeof(int32_t)));
    auto *tiling = static_cast<uint8_t *>(AscendC::GmAlloc(sizeof(MoeReRoutingTilingData)));
    for (int64_t i = 0; i < A * H; ++i) {
        tokens[i] = static_cast<int16_t>(100 * (i / H) + i % H);  // row k holds 100k .. 100k+3
    }
    const int32_t countValues[N * E] = {1, 2, 3, 0};
    std::memcpy(counts, countValues, sizeof(countValues));
    std::memset(permuteScales, 0xFF, A * sizeof(float));
    std::memcpy(tiling, &tilingData, sizeof(tilingData));

    ICPU_SET_TILING_KEY(moe_re_routing::TilingKeyOf(problem));  // the int32-count instantiation
    AscendC::SetKernelMode(KernelMode::AIV_MODE);
    ICPU_RUN_KF(MoeReRoutingEntry, tilingData.usedCoreNum, reinterpret_cast<GM_ADDR>(tokens),
                reinterpret_cast<GM_ADDR>(counts), nullptr, reinterpret_cast<GM_ADDR>(permuteTokens),
                reinterpret_cast<GM_ADDR>(permuteScales), reinterpret_cast<GM_ADDR>(permuteIdx),
                reinterpret_cast<GM_ADDR>(expertTokenNum), nullptr, tiling);

    const int32_t wantIdx[A] = {0, 3, 4, 5, 1, 2};
    const int32_t wantExperts[E] = {4, 2};
    int failures = 0;
    for (int64_t i = 0; i < A; ++i) {
        failures += permuteIdx[i] != wantIdx[i];
        failures += permuteScales[i] != 0.0f;  // zero-filled: no scales given
        for (int64_t h = 0; h < H; ++h) {
            failures += permuteTokens[i * H + h] != tokens[wantIdx[i] * H + h];
        }
    }
    failures += expertTokenNum[0] != wantExperts[0] || expertTokenNum[1] != wantExperts[1];
    std::printf("permute_token_idx = [%d, %d, %d, %d, %d, %d], expert_token_num = [%d, %d]\n", permuteIdx[0],
                permuteIdx[1], permuteIdx[2], permuteIdx[3], permuteIdx[4], permuteIdx[5], expertTokenNum[0],
                expertTokenNum[1]);
    std::printf("%d passed, %d failed\n", failures == 0 ? 1 : 0, failures == 0 ? 0 : 1);

    AscendC::GmFree(tokens);
    AscendC::GmFree(counts);
    AscendC::GmFree(permuteTokens);
    AscendC::GmFree(permuteScales);
    AscendC::GmFree(permuteIdx);
    AscendC::GmFree(expertTokenNum);
    AscendC::GmFree(tiling);
    return failures == 0 ? 0 : 1;
}
