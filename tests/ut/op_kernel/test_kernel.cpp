// The MoeReRouting kernel through ICPU_RUN_KF on the emulator (every rule enforced, GM bounds checked,
// auto-sync off: see CMakeLists.txt) and the native implementation (cpu_backend/native), both
// compared bit-exactly with a C++ reference of docs/spec.md, on platforms small enough to force every
// kernel path: rows split into segments, streamed count tiles, many cores, lying counts (the kernel
// only: the native implementation refuses them, tested below); and on the Ascend 950 platform.
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../common/moe_re_routing_reference.h"
#include "ascendc_cpu/runtime.h"
#include "moe_re_routing_host.h"
#include "moe_re_routing_native.h"
#include "parallel.h"
#include "tikicpulib.h"

// The kernel entry `moe_re_routing`, under another C++ name: the host namespace has that name.
extern "C" __global__ __aicore__ void MoeReRoutingKernelEntry(GM_ADDR tokens, GM_ADDR expertTokenNumPerRank,
                                                     GM_ADDR perTokenScales, GM_ADDR permuteTokens,
                                                     GM_ADDR permutePerTokenScales, GM_ADDR permuteTokenIdx,
                                                     GM_ADDR expertTokenNum, GM_ADDR workspace, GM_ADDR tiling)
    __asm__("moe_re_routing");
// MoeReRoutingV2's entry (op_kernel/moe_re_routing_v2.cpp): the same kernel with the weight pair.
extern "C" __global__ __aicore__ void MoeReRoutingV2KernelEntry(
    GM_ADDR tokens, GM_ADDR expertTokenNumPerRank, GM_ADDR perTokenScales, GM_ADDR expertTopkWeight,
    GM_ADDR permuteTokens, GM_ADDR permutePerTokenScales, GM_ADDR permuteTokenIdx, GM_ADDR expertTokenNum,
    GM_ADDR permuteTopkWeight, GM_ADDR workspace, GM_ADDR tiling) __asm__("moe_re_routing_v2");
// MoeReRoutingWithCapacity's entry (op_kernel/moe_re_routing_with_capacity.cpp): V2's arguments, the
// slot stride in the tiling.
extern "C" __global__ __aicore__ void MoeReRoutingCapacityKernelEntry(
    GM_ADDR tokens, GM_ADDR expertTokenNumPerRank, GM_ADDR perTokenScales, GM_ADDR expertTopkWeight,
    GM_ADDR permuteTokens, GM_ADDR permutePerTokenScales, GM_ADDR permuteTokenIdx, GM_ADDR expertTokenNum,
    GM_ADDR permuteTopkWeight, GM_ADDR workspace, GM_ADDR tiling) __asm__("moe_re_routing_with_capacity");

using namespace moe_re_routing;

namespace {

// The emulator's default SoC (Ascend910B) with the UB it leaves a kernel: ICPU_RUN_KF gives each
// core exactly that much.
constexpr Platform kA2{ascendc_cpu::kDefaultSoc.aivCoreNum, ascendc_cpu::kDefaultSoc.UsableUbBytes()};

// A GM buffer from AscendC::GmAlloc, freed on scope exit.
struct Gm {
    explicit Gm(size_t bytes) : size(bytes), ptr(static_cast<uint8_t *>(AscendC::GmAlloc(bytes ? bytes : 32))) {}
    ~Gm() { AscendC::GmFree(ptr); }
    Gm(const Gm &) = delete;
    Gm &operator=(const Gm &) = delete;
    size_t size;
    uint8_t *ptr;
};

struct Case {
    int64_t A, rowBytes, N, E;
    uint32_t countBytes;
    int64_t scaleRowBytes;  // 0: no scales
    int64_t type, idx;
    Platform platform;
};

struct Outputs {
    std::vector<uint8_t> tokens, scales;
    std::vector<int32_t> idx;
    std::vector<int64_t> experts;
};

int64_t CountAt(const std::vector<uint8_t> &counts, uint32_t cb, int64_t i)
{
    return moe_re_routing_test::CountAt(counts.data(), cb, i);
}

// docs/spec.md's formulas (honest counts only): the shared C++ test reference
// (tests/common/moe_re_routing_reference.h) in this file's types.
Outputs Reference(const Case &c, const std::vector<uint8_t> &tokens, const std::vector<uint8_t> &counts,
                  const std::vector<uint8_t> &scales)
{
    const moe_re_routing_test::Outputs r = moe_re_routing_test::Reference(
        {c.A, c.N, c.E, c.rowBytes, c.scaleRowBytes, c.countBytes, c.type, c.idx}, tokens.data(), counts.data(),
        scales.data());
    return Outputs{r.tokens, r.scales, r.Index(), r.ExpertCounts(c.countBytes)};
}

Problem ProblemOf(const Case &c)
{
    Problem p;
    p.tokenNum = c.A;
    p.rankNum = c.N;
    p.expertNum = c.E;
    p.tokenRowBytes = c.rowBytes;
    p.scaleRowBytes = c.scaleRowBytes;
    p.outScaleRowBytes = c.scaleRowBytes ? c.scaleRowBytes : 4;
    p.countBytes = c.countBytes;
    p.expertTokenNumType = c.type;
    p.idxType = c.idx;
    return p;
}

// Runs the kernel; returns its outputs and the tiling used.
// Through ascendc_cpu::Launch with the platform's UB size (so a small UB is enforced), or through
// the official ICPU_RUN_KF entry point (default UB).
Outputs RunKernel(const Case &c, const std::vector<uint8_t> &tokens, const std::vector<uint8_t> &counts,
                  const std::vector<uint8_t> &scales, bool viaIcpuRunKf = false,
                  ascendc_cpu::LaunchResult *trace = nullptr)
{
    MoeReRoutingTilingData tiling{};
    const Result r = ComputeTiling(ProblemOf(c), c.platform, &tiling);
    if (!r.ok()) {
        ADD_FAILURE() << "tiling: " + r.message;
        return {};
    }
    const int64_t outScaleRow = c.scaleRowBytes ? c.scaleRowBytes : 4;
    Gm gTokens(tokens.size()), gCounts(counts.size()), gScales(scales.size()), gOutTokens(tokens.size()),
        gOutScales(c.A * outScaleRow), gIdx(c.A * 4), gExperts(c.E * c.countBytes),
        gTiling(sizeof(MoeReRoutingTilingData));
    // memcpy from an empty vector's data() (null) is undefined even for 0 bytes.
    auto copyIn = [](uint8_t *dst, const std::vector<uint8_t> &src) {
        if (!src.empty()) std::memcpy(dst, src.data(), src.size());
    };
    copyIn(gTokens.ptr, tokens);
    copyIn(gCounts.ptr, counts);
    copyIn(gScales.ptr, scales);
    std::memset(gOutScales.ptr, 0x5A, gOutScales.size);  // the kernel must zero-fill when no scales
    std::memcpy(gTiling.ptr, &tiling, sizeof(tiling));
    uint8_t *scalesArg = c.scaleRowBytes ? gScales.ptr : nullptr;
    ICPU_SET_TILING_KEY(TilingKeyOf(ProblemOf(c)));  // the count dtype's instantiation
    if (viaIcpuRunKf) {
        AscendC::SetKernelMode(KernelMode::AIV_MODE);
        ICPU_RUN_KF(MoeReRoutingKernelEntry, tiling.usedCoreNum, gTokens.ptr, gCounts.ptr, scalesArg, gOutTokens.ptr,
                    gOutScales.ptr, gIdx.ptr, gExperts.ptr, nullptr, gTiling.ptr);
    } else {
        ascendc_cpu::LaunchConfig cfg;
        cfg.blockDim = tiling.usedCoreNum;
        cfg.ubBytes = c.platform.ubBytes;
        cfg.collectTrace = trace != nullptr;
        ascendc_cpu::LaunchResult local;
        ascendc_cpu::Launch(
            cfg,
            [&] {
                MoeReRoutingKernelEntry(gTokens.ptr, gCounts.ptr, scalesArg, gOutTokens.ptr, gOutScales.ptr, gIdx.ptr,
                               gExperts.ptr, nullptr, gTiling.ptr);
            },
            trace != nullptr ? trace : &local);
    }
    Outputs o;
    o.tokens.assign(gOutTokens.ptr, gOutTokens.ptr + tokens.size());
    o.scales.assign(gOutScales.ptr, gOutScales.ptr + gOutScales.size);
    o.idx.assign(reinterpret_cast<const int32_t *>(gIdx.ptr), reinterpret_cast<const int32_t *>(gIdx.ptr) + c.A);
    o.experts.resize(c.E);
    for (int64_t e = 0; e < c.E; ++e) o.experts[e] = CountAt(std::vector<uint8_t>(gExperts.ptr, gExperts.ptr + gExperts.size), c.countBytes, e);
    return o;
}

// Runs the native implementation on the same inputs (outputs poisoned first, as for the kernel).
// With `weights` (MoeReRoutingV2: a 4-byte column per row) the permuted weights go to *outWeights.
Outputs RunNative(const Case &c, const std::vector<uint8_t> &tokens, const std::vector<uint8_t> &counts,
                  const std::vector<uint8_t> &scales, Result *status = nullptr,
                  const std::vector<uint8_t> *weights = nullptr, std::vector<uint8_t> *outWeights = nullptr)
{
    const int64_t outScaleRow = c.scaleRowBytes ? c.scaleRowBytes : 4;
    std::vector<uint8_t> outTokens(tokens.size(), 0xA5), outScales(c.A * outScaleRow, 0x5A), experts(c.E * c.countBytes, 0xEE);
    std::vector<int32_t> idx(c.A, -7);
    native::Buffers b;
    b.tokens = tokens.data();
    b.counts = counts.data();
    b.scales = c.scaleRowBytes ? scales.data() : nullptr;
    b.permuteTokens = outTokens.data();
    b.permuteScales = outScales.data();
    b.permuteTokenIdx = idx.data();
    b.expertTokenNum = experts.data();
    Problem p = ProblemOf(c);
    if (weights != nullptr) {
        p.weightRowBytes = 4;
        outWeights->assign(c.A * 4, 0x5A);
        b.weights = weights->data();
        b.permuteWeights = outWeights->data();
    }
    const Result r = native::Run(p, b);
    if (status != nullptr) {
        *status = r;
    } else if (!r.ok()) {
        ADD_FAILURE() << "native: " << r.message;
    }
    Outputs o;
    o.tokens = std::move(outTokens);
    o.scales = std::move(outScales);
    o.idx = std::move(idx);
    o.experts.resize(c.E);
    for (int64_t e = 0; e < c.E; ++e) o.experts[e] = CountAt(experts, c.countBytes, e);
    return o;
}

std::string Differences(const Outputs &got, const Outputs &want)
{
    return std::string("tokens ") + (got.tokens == want.tokens ? "ok" : "BAD") + " scales " +
           (got.scales == want.scales ? "ok" : "BAD") + " idx " + (got.idx == want.idx ? "ok" : "BAD") +
           " experts " + (got.experts == want.experts ? "ok" : "BAD");
}

bool Same(const Outputs &a, const Outputs &b)
{
    return a.tokens == b.tokens && a.scales == b.scales && a.idx == b.idx && a.experts == b.experts;
}

std::vector<uint8_t> RandomBytes(std::mt19937_64 &rng, size_t n)
{
    std::vector<uint8_t> v(n);
    for (auto &b : v) b = static_cast<uint8_t>(rng());
    return v;
}

// Random counts [N, E] summing to A, with a share of zero cells.
std::vector<uint8_t> RandomCounts(std::mt19937_64 &rng, const Case &c, double zeroShare)
{
    const int64_t cells = c.N * c.E;
    std::vector<int64_t> v(cells, 0);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<int64_t> live;
    for (int64_t i = 0; i < cells; ++i)
        if (u(rng) >= zeroShare) live.push_back(i);
    if (live.empty()) live.push_back(static_cast<int64_t>(rng() % cells));
    for (int64_t k = 0; k < c.A; ++k) v[live[rng() % live.size()]] += 1;
    std::vector<uint8_t> out(cells * c.countBytes);
    for (int64_t i = 0; i < cells; ++i) {
        if (c.countBytes == 8) std::memcpy(&out[i * 8], &v[i], 8);
        else { const int32_t x = static_cast<int32_t>(v[i]); std::memcpy(&out[i * 4], &x, 4); }
    }
    return out;
}

void CompareWithReference(const Case &c, std::mt19937_64 &rng, double zeroShare, const std::string &label,
                          bool viaIcpuRunKf = false)
{
    const auto tokens = RandomBytes(rng, c.A * c.rowBytes);
    const auto scales = RandomBytes(rng, c.A * c.scaleRowBytes);
    const auto counts = RandomCounts(rng, c, zeroShare);
    const Outputs want = Reference(c, tokens, counts, scales);
    const Outputs got = RunKernel(c, tokens, counts, scales, viaIcpuRunKf);
    const std::string what = label + ": A=" + std::to_string(c.A) + " rowBytes=" + std::to_string(c.rowBytes) +
                             " N=" + std::to_string(c.N) + " E=" + std::to_string(c.E) + " cb=" +
                             std::to_string(c.countBytes) + " scale=" + std::to_string(c.scaleRowBytes) +
                             " type=" + std::to_string(c.type) + " idx=" + std::to_string(c.idx) + " ub=" +
                             std::to_string(c.platform.ubBytes);
    if (!Same(got, want)) {
        ADD_FAILURE() << "kernel vs reference, " << what << ": " << Differences(got, want);
    }
    // The native implementation, split over as many threads as the kernel's cores (at most 8).
    native::SetThreadCount(std::min<uint32_t>(8, std::max<uint32_t>(1, c.platform.aivCoreNum)));
    const Outputs native = RunNative(c, tokens, counts, scales);
    native::SetThreadCount(0);
    if (!Same(native, want)) {
        ADD_FAILURE() << "native vs reference, " << what << ": " << Differences(native, want);
    }
}

}  // namespace

TEST(KernelVsReference, random_cases_on_a2_platform)
{
    std::mt19937_64 rng(7);
    for (int i = 0; i < 60; ++i) {
        Case c{static_cast<int64_t>(rng() % 700), 1 + static_cast<int64_t>(rng() % 300), 1 + static_cast<int64_t>(rng() % 9),
               1 + static_cast<int64_t>(rng() % 9), (rng() % 2) ? 8u : 4u, static_cast<int64_t>(rng() % 3) * 4,
               static_cast<int64_t>(rng() % 2), static_cast<int64_t>(rng() % 2), kA2};
        CompareWithReference(c, rng, (i % 3) * 0.4, "a2 case " + std::to_string(i));
    }
}

TEST(KernelVsReference, tiny_ub_forces_segments_and_streamed_counts)
{
    std::mt19937_64 rng(11);
    for (int i = 0; i < 40; ++i) {
        // 8 KiB of UB: rows above ~2 KiB are split, count matrices above ~1.3 KiB are streamed.
        Case c{static_cast<int64_t>(rng() % 300), 1 + static_cast<int64_t>(rng() % 9000), 1 + static_cast<int64_t>(rng() % 40),
               1 + static_cast<int64_t>(rng() % 40), (rng() % 2) ? 8u : 4u, static_cast<int64_t>(rng() % 3) * 3,
               static_cast<int64_t>(rng() % 2), static_cast<int64_t>(rng() % 2),
               Platform{1 + static_cast<uint32_t>(rng() % 8), 8192}};
        CompareWithReference(c, rng, 0.5, "tiny-ub case " + std::to_string(i));
    }
}

TEST(KernelVsReference, edge_shapes)
{
    std::mt19937_64 rng(3);
    const Case cases[] = {
        {0, 16, 3, 4, 4, 4, 1, 0, kA2},     // A = 0
        {1, 1, 1, 1, 4, 0, 0, 1, kA2},      // smallest
        {257, 33, 1, 7, 8, 4, 1, 0, kA2},   // N = 1
        {257, 33, 7, 1, 4, 4, 0, 1, kA2},   // E = 1
        {64, 7168, 16, 16, 4, 4, 1, 0, kA2},
        {300, 8, 300, 2, 4, 0, 1, 1, kA2},  // N = 300
        {300, 8, 2, 300, 8, 4, 0, 0, kA2},  // E = 300
        {500, 6, 60, 70, 4, 4, 1, 1, Platform{40, kA2.ubBytes}},  // 4200 cells, streamed on 40 cores
    };
    int i = 0;
    for (const Case &c : cases) CompareWithReference(c, rng, 0.3, "edge " + std::to_string(i++));
}

TEST(KernelVsReference, many_ranks_stream_rank_slabs)
{
    // 8 KiB of UB: N = 300 .. 700 ranks need several slabs of count tiles (the counts are streamed),
    // on one core or many.
    std::mt19937_64 rng(17);
    for (int i = 0; i < 16; ++i) {
        Case c{static_cast<int64_t>(rng() % 900), 1 + static_cast<int64_t>(rng() % 200), 300 + static_cast<int64_t>(rng() % 400),
               1 + static_cast<int64_t>(rng() % 6), (rng() % 2) ? 8u : 4u, static_cast<int64_t>(rng() % 3) * 4,
               static_cast<int64_t>(rng() % 2), static_cast<int64_t>(rng() % 2),
               Platform{1 + static_cast<uint32_t>(rng() % 48), 8192}};
        MoeReRoutingTilingData t{};
        ASSERT_TRUE(ComputeTiling(ProblemOf(c), c.platform, &t).ok());
        EXPECT_EQ(t.countsResident, 0u);
        EXPECT_LT(int64_t{t.countTileRanks}, c.N);
        CompareWithReference(c, rng, 0.6, "rank-slab case " + std::to_string(i));
    }
}

TEST(KernelVsReference, lying_counts_never_leave_the_buffers)
{
    // Counts that do not sum to A bypass the host check here. In checked mode the emulator aborts
    // on any GM access outside a buffer, so finishing is the main assertion (the emulator's own
    // tests prove that an out-of-bounds DMA or scalar access aborts).
    std::mt19937_64 rng(5);
    for (int variant = 0; variant < 8; ++variant) {
        // variants 4..7: 8 KiB UB and 300 ranks, so streamed slabs of count tiles meet the same lies
        const bool rankMajor = variant >= 4;
        Case c{96, 40, rankMajor ? 300 : 4, 4, 8, 4, 1, variant % 2, Platform{8, rankMajor ? 8192u : kA2.ubBytes}};
        std::vector<int64_t> v(c.N * c.E);
        for (auto &x : v) {
            switch (variant % 4) {
                case 0: x = 20; break;                                     // sums to 320 > 96
                case 1: x = 2; break;                                      // sums to 32 < 96
                case 2: x = static_cast<int64_t>(rng() % 3) - 1; break;    // negatives
                default: x = (INT64_MAX / 4) - static_cast<int64_t>(rng() % 5); break;  // huge
            }
        }
        std::vector<uint8_t> counts(v.size() * 8);
        std::memcpy(counts.data(), v.data(), counts.size());
        const auto tokens = RandomBytes(rng, c.A * c.rowBytes);
        const auto scales = RandomBytes(rng, c.A * 4);
        const Outputs got = RunKernel(c, tokens, counts, scales);
        for (int64_t e = 0; e < c.E; ++e) EXPECT_TRUE(got.experts[e] >= 0);
    }
}

TEST(KernelVsReference, large_calls_with_odd_rows)
{
    // Megabytes moved in rows of an odd byte count: the native implementation splits them over
    // threads at unaligned row boundaries; the kernel moves the same rows.
    std::mt19937_64 rng(43);
    const Case cases[] = {
        {3000, 1501, 4, 4, 4, 4, 1, 0, kA2},
        {1500, 3001, 3, 5, 8, 0, 0, 1, kA2},
    };
    for (const Case &c : cases) {
        ASSERT_GE(native::MovedBytes(ProblemOf(c)), 4 * native::kMinBytesPerThread);
        CompareWithReference(c, rng, 0.2, "large odd rows");
    }
}

TEST(NativeVsReference, counts_that_changed_since_the_checks_are_refused_before_any_write)
{
    // On the CPU the counts are checked in phase 1; the native run reads them again and refuses
    // values that no longer hold (negative, or not summing to A) without writing an output byte.
    const Case c{96, 40, 3, 4, 4, 4, 1, 0, kA2};
    std::mt19937_64 rng(41);
    const auto tokens = RandomBytes(rng, c.A * c.rowBytes);
    const auto scales = RandomBytes(rng, c.A * c.scaleRowBytes);
    auto honest = RandomCounts(rng, c, 0.2);
    for (int lie = 0; lie < 3; ++lie) {
        auto counts = honest;
        int32_t v;
        std::memcpy(&v, &counts[4 * (lie + 2)], 4);
        v = lie == 0 ? -1 : lie == 1 ? v + 1 : static_cast<int32_t>(c.A + 5);
        std::memcpy(&counts[4 * (lie + 2)], &v, 4);
        Result status;
        const Outputs got = RunNative(c, tokens, counts, scales, &status);
        EXPECT_EQ(status.status, kErrParamInvalid) << lie;
        EXPECT_NE(status.message.find("expert_token_num_per_rank changed"), std::string::npos) << status.message;
        EXPECT_TRUE(std::all_of(got.tokens.begin(), got.tokens.end(), [](uint8_t b) { return b == 0xA5; })) << lie;
        EXPECT_TRUE(std::all_of(got.scales.begin(), got.scales.end(), [](uint8_t b) { return b == 0x5A; })) << lie;
        EXPECT_TRUE(std::all_of(got.idx.begin(), got.idx.end(), [](int32_t i) { return i == -7; })) << lie;
    }
}

TEST(KernelVsReference, lying_counts_of_every_kind_on_every_count_path)
{
    // Lies at the int32 and int64 extremes and sums far above or below A, with the counts resident
    // (A2 UB, 32 x 256), streamed in one slab (E = 300), streamed in several slabs (N = 300 on
    // 8 KiB) and in the slab walk (N = 1800 on 8 KiB), on many cores and in both index modes. Finishing in checked mode means no access left
    // the buffers; expert_token_num stays in [0, A] (every total saturates at A).
    std::mt19937_64 rng(23);
    struct Shape {
        int64_t N, E;
        uint32_t ub;
    };
    const Shape shapes[] = {{32, 256, kA2.ubBytes}, {4, 300, kA2.ubBytes}, {300, 5, 8192}, {1800, 3, 8192}};
    for (const Shape &shape : shapes) {
        for (uint32_t cb : {4u, 8u}) {
            for (int variant = 0; variant < 6; ++variant) {
                Case c{96, 40, shape.N, shape.E, cb, 4, variant % 2, (variant / 2) % 2, Platform{8, shape.ub}};
                std::vector<uint8_t> counts(c.N * c.E * cb);
                for (int64_t i = 0; i < c.N * c.E; ++i) {
                    int64_t x = 0;
                    switch (variant) {
                        case 0: x = 50; break;                                          // sums far above A
                        case 1: x = (i % 97 == 0) ? 1 : 0; break;                       // sums below A
                        case 2: x = static_cast<int64_t>(rng() % 5) - 2; break;         // negatives
                        case 3: x = (i % 2) ? INT64_MAX : INT64_MIN; break;             // int64 extremes
                        case 4: x = (i % 2) ? INT32_MAX : INT32_MIN; break;             // int32 extremes
                        default: x = (i % 3 == 0) ? int64_t{1} << 32 : 96; break;       // low word 0, or A each
                    }
                    if (cb == 8) {
                        std::memcpy(&counts[i * 8], &x, 8);
                    } else {
                        const int32_t v = static_cast<int32_t>(x);
                        std::memcpy(&counts[i * 4], &v, 4);
                    }
                }
                const auto tokens = RandomBytes(rng, c.A * c.rowBytes);
                const auto scales = RandomBytes(rng, c.A * 4);
                const Outputs got = RunKernel(c, tokens, counts, scales);
                for (int64_t e = 0; e < c.E; ++e) {
                    EXPECT_TRUE(got.experts[e] >= 0 && got.experts[e] <= c.A)
                        << "N=" << c.N << " E=" << c.E << " cb=" << cb << " variant " << variant << " expert " << e
                        << ": " << got.experts[e];
                }
            }
        }
    }
}

// How the kernel reads the counts for a case (the tiling decides; a case names the path it tests).
enum class CountPath { kAny, kResident, kStreamedOneSlab, kStreamedSlabs, kSlabWalk };

struct PathCase {
    Case c;
    CountPath path;
};

// Checks that each case takes its path, then compares the kernel with the reference.
void RunPathCases(const PathCase *cases, size_t n, uint64_t seed, double zeroShare, const std::string &label)
{
    std::mt19937_64 rng(seed);
    for (size_t i = 0; i < n; ++i) {
        const Case &c = cases[i].c;
        MoeReRoutingTilingData t{};
        ASSERT_TRUE(ComputeTiling(ProblemOf(c), c.platform, &t).ok());
        const bool slabs = int64_t{t.countTileRanks} < c.N;
        switch (cases[i].path) {
            case CountPath::kResident: EXPECT_EQ(t.countsResident, 1u) << label << " " << i; break;
            case CountPath::kStreamedOneSlab:
                EXPECT_TRUE(t.countsResident == 0 && !slabs) << label << " " << i;
                break;
            case CountPath::kStreamedSlabs:
                EXPECT_TRUE(t.countsResident == 0 && slabs && t.columnBufBytes == 0) << label << " " << i;
                break;
            case CountPath::kSlabWalk: EXPECT_NE(t.columnBufBytes, 0u) << label << " " << i; break;
            case CountPath::kAny: break;
        }
        CompareWithReference(c, rng, zeroShare, label + " " + std::to_string(i));
    }
}

TEST(KernelVsReference, large_rank_and_expert_counts)
{
    // N or E >= 300 and N = 7000 on the A2 UB that Ascend C leaves (188160 bytes): slabs of count
    // tiles, many strips, sparse decode counts (A = 64 over 32 x 256 cells).
    const PathCase cases[] = {
        {{3000, 16, 7000, 2, 8, 4, 1, 0, kA2}, CountPath::kStreamedSlabs},
        {{3000, 16, 7000, 3, 4, 0, 0, 1, kA2}, CountPath::kStreamedSlabs},
        {{5000, 8, 300, 300, 4, 4, 1, 1, kA2}, CountPath::kAny},
        {{5000, 8, 300, 300, 8, 0, 0, 0, Platform{40, kA2.ubBytes}}, CountPath::kAny},
        {{2000, 8, 3, 1000, 8, 4, 1, 0, kA2}, CountPath::kAny},
        {{64, 7168, 32, 256, 4, 4, 1, 0, kA2}, CountPath::kResident},
        {{64, 7168, 32, 256, 8, 4, 0, 1, kA2}, CountPath::kAny},
        {{700, 64, 32, 256, 8, 4, 1, 0, kA2}, CountPath::kAny},
    };
    RunPathCases(cases, sizeof(cases) / sizeof(cases[0]), 29, 0.5, "large");
}

TEST(KernelVsReference, tiny_ub_takes_every_count_tile_path)
{
    const PathCase cases[] = {
        {{200, 24, 5, 13, 4, 4, 1, 0, Platform{4, 8192}}, CountPath::kResident},   // int32, partial strip
        {{200, 24, 3, 10, 8, 0, 0, 1, Platform{4, 8192}}, CountPath::kResident},   // int64, strip of 2 (gap)
        {{200, 24, 3, 14, 8, 4, 1, 0, Platform{4, 8192}}, CountPath::kResident},   // int64, strip of 6
        {{300, 24, 16, 200, 4, 4, 0, 0, Platform{3, 8192}}, CountPath::kStreamedOneSlab},
        {{300, 24, 100, 13, 8, 4, 1, 1, Platform{5, 8192}}, CountPath::kStreamedSlabs},  // partial strips
        {{300, 24, 37, 9, 4, 0, 0, 0, Platform{7, 8192}}, CountPath::kStreamedSlabs},    // partial slab
    };
    RunPathCases(cases, sizeof(cases) / sizeof(cases[0]), 31, 0.3, "path");
}

TEST(KernelVsReference, ranks_beyond_the_cursor_budget_take_the_slab_walk)
{
    // N int32 cursors do not fit: one slab's cursors and one destination row per expert instead,
    // each slab walked right after its cursors (8 KiB UB; and N = 50000 on the A2 UB).
    const PathCase cases[] = {
        {{2000, 24, 1800, 3, 8, 4, 1, 0, Platform{6, 8192}}, CountPath::kSlabWalk},
        {{2000, 24, 1800, 13, 4, 0, 0, 1, Platform{1, 8192}}, CountPath::kSlabWalk},
        {{1500, 8, 2500, 9, 4, 4, 0, 0, Platform{5, 8192}}, CountPath::kSlabWalk},
        {{3000, 8, 50000, 4, 8, 4, 1, 0, kA2}, CountPath::kSlabWalk},
    };
    RunPathCases(cases, sizeof(cases) / sizeof(cases[0]), 37, 0.7, "slab walk");
}

// Counts [N, E] with `cells` distinct cells of one row each (A = cells), the rest empty.
std::vector<uint8_t> OneRowCells(const Case &c, std::mt19937_64 &rng)
{
    std::vector<int32_t> v(c.N * c.E, 0);
    for (int64_t k = 0; k < c.A;) {
        int32_t &cell = v[rng() % v.size()];
        if (cell == 0) {
            cell = 1;
            ++k;
        }
    }
    std::vector<uint8_t> out(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());
    return out;
}

TEST(KernelVsReference, decode_count_metadata_costs_o_n_plus_e_scalar_operations_per_core)
{
    // A = 64 rows of 7168 int8 with f32 scales over N x E = 32 x 256 on 48 cores. Walking every
    // cell reads each of the N * E = 8192 counts at least twice on every core (rank bases, then
    // the walk); the vector passes leave O(N + E + own cells) scalar operations: here under N * E / 4.
    std::mt19937_64 rng(41);
    Case c{64, 7168, 32, 256, 4, 4, 1, 0, kA2};
    for (int fill = 0; fill < 2; ++fill) {
        std::vector<uint8_t> counts;
        if (fill == 0) {
            counts = OneRowCells(c, rng);
        } else {  // the public benchmark's fill: A // (N * E) = 0 per cell, the last cell the rest
            std::vector<int32_t> v(c.N * c.E, 0);
            v.back() = static_cast<int32_t>(c.A);
            counts.resize(v.size() * 4);
            std::memcpy(counts.data(), v.data(), counts.size());
        }
        const auto tokens = RandomBytes(rng, c.A * c.rowBytes);
        const auto scales = RandomBytes(rng, c.A * 4);
        ascendc_cpu::LaunchResult trace;
        const Outputs got = RunKernel(c, tokens, counts, scales, false, &trace);
        const Outputs want = Reference(c, tokens, counts, scales);
        EXPECT_TRUE(got.tokens == want.tokens && got.idx == want.idx && got.scales == want.scales &&
                    got.experts == want.experts);
        uint64_t most = 0;
        for (const auto &core : trace.cores) most = std::max<uint64_t>(most, core.ScalarOps());
        EXPECT_LE(most, uint64_t(c.N * c.E / 4)) << "fill " << fill;
    }
}

TEST(KernelVsReference, gather_index_of_small_cells_is_one_dma_per_chunk)
{
    // One core, 64 one-row cells: the gather index rows are the core's destination rows, so the
    // runs of adjacent cells share one index DMA; each cell still moves its token and scale rows.
    std::mt19937_64 rng(43);
    Case c{64, 32, 16, 16, 4, 4, 1, 0, Platform{1, kA2.ubBytes}};
    const auto counts = OneRowCells(c, rng);
    const auto tokens = RandomBytes(rng, c.A * c.rowBytes);
    const auto scales = RandomBytes(rng, c.A * 4);
    MoeReRoutingTilingData t{};
    ASSERT_TRUE(ComputeTiling(ProblemOf(c), c.platform, &t).ok());
    ASSERT_GE(t.idxBufBytes, uint32_t(c.A * 4));  // one index chunk holds every row
    ascendc_cpu::LaunchResult trace;
    const Outputs got = RunKernel(c, tokens, counts, scales, false, &trace);
    EXPECT_TRUE(got.idx == Reference(c, tokens, counts, scales).idx);
    ASSERT_EQ(trace.cores.size(), 1u);
    uint64_t out = 0;
    for (const auto &op : trace.cores[0].dma) out += std::string(op.direction) == "UB->GM" ? 1 : 0;
    // 64 token runs + 64 scale runs + 1 index chunk + 1 expert_token_num
    EXPECT_EQ(out, uint64_t(2 * c.A + 2));
}

TEST(KernelVsReference, official_icpu_run_kf_entry_point)
{
    std::mt19937_64 rng(13);
    Case c{1000, 512, 8, 8, 4, 4, 1, 0, kA2};
    CompareWithReference(c, rng, 0.2, "icpu", true);
}

TEST(KernelVsReference, trace_counts_every_byte_once_and_balances_cores)
{
    std::mt19937_64 rng(9);
    Case c{4800, 512, 8, 8, 4, 4, 1, 0, kA2};
    const auto tokens = RandomBytes(rng, c.A * c.rowBytes);
    const auto scales = RandomBytes(rng, c.A * 4);
    const auto counts = RandomCounts(rng, c, 0.0);
    ascendc_cpu::LaunchResult trace;
    RunKernel(c, tokens, counts, scales, false, &trace);
    ASSERT_TRUE(trace.cores.size() == 48u);
    uint64_t out = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (const auto &core : trace.cores) {
        out += core.bytesOut;
        lo = std::min<uint64_t>(lo, core.bytesOut);
        hi = std::max<uint64_t>(hi, core.bytesOut);
        EXPECT_TRUE(core.ubHighWater <= kA2.ubBytes);
    }
    // Out: tokens + scales + index rows, once each, plus expert_token_num (8 int32) from the last core.
    EXPECT_EQ(out, uint64_t(c.A) * (512 + 4 + 4) + 8 * 4);
    EXPECT_TRUE(hi - lo <= 8 * 4);  // 100 rows per core exactly; only the expert totals differ
}


// Ascend 950 (dav-3510): the same kernel with the tiling for its 248 KiB of usable UB, run on the
// emulator's Ascend950 platform (its architecture's rules; default launches follow SelectSoc, as
// they follow ASCENDC_CPU_SOC). Its core count is not known, so the cases take a few; FP4 rows are
// H / 2 bytes and FP8 / E8M0 rows one byte per element, which the cases cover by their row sizes.
TEST(KernelVsReference, runs_on_ascend950_platform)
{
    const ascendc_cpu::SocPlatform *soc = ascendc_cpu::FindSoc("Ascend950");
    ASSERT_NE(soc, nullptr);
    const std::string saved = ascendc_cpu::SelectedSoc().name;
    ASSERT_TRUE(ascendc_cpu::SelectSoc("Ascend950"));
    std::mt19937_64 rng(950);
    for (int i = 0; i < 24; ++i) {
        const uint32_t cores = 1u << (i % 6);  // 1 .. 32
        Case c{static_cast<int64_t>(rng() % 900), 1 + static_cast<int64_t>(rng() % 4000),
               1 + static_cast<int64_t>(rng() % 24), 1 + static_cast<int64_t>(rng() % 24), (rng() % 2) ? 8u : 4u,
               static_cast<int64_t>(rng() % 3) * (i % 2 ? 1 : 4), static_cast<int64_t>(rng() % 2),
               static_cast<int64_t>(rng() % 2), Platform{cores, soc->UsableUbBytes()}};
        CompareWithReference(c, rng, (i % 3) * 0.3, "ascend950 case " + std::to_string(i));
    }
    // A tiling that uses more UB than any dav-c220 SoC leaves (two 60000-byte rows per token buffer).
    Case wide{64, 60000, 4, 4, 4, 1, 1, 0, Platform{4, soc->UsableUbBytes()}};
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    ASSERT_TRUE(ComputeTiling(ProblemOf(wide), wide.platform, &t, &report).ok());
    EXPECT_GT(report.ubBytesUsed, ascendc_cpu::kDefaultSoc.UsableUbBytes());
    CompareWithReference(wide, rng, 0.0, "ascend950 wide rows");
    ASSERT_TRUE(ascendc_cpu::SelectSoc(saved.c_str()));
}

namespace {

// What a launch of an entry with V2's nine tensors wrote (weights empty when the problem has none).
struct NineOutputs {
    std::vector<uint8_t> tokens, scales, weights;
    std::vector<int32_t> idx;
    std::vector<int64_t> experts;
    bool operator==(const NineOutputs &o) const
    {
        return tokens == o.tokens && scales == o.scales && weights == o.weights && idx == o.idx &&
               experts == o.experts;
    }
};

using NineTensorEntry = void (*)(GM_ADDR, GM_ADDR, GM_ADDR, GM_ADDR, GM_ADDR, GM_ADDR, GM_ADDR, GM_ADDR, GM_ADDR,
                                 GM_ADDR, GM_ADDR);

// Launches `entry` (MoeReRoutingV2's or MoeReRoutingWithCapacity's) on the emulator for `p` tiled
// for `platform`. The outputs are poisoned first, so every row the kernel must write is checked;
// empty scales are absent, and the weight pair is passed when `p` has weights.
NineOutputs LaunchNineTensorEntry(NineTensorEntry entry, const Problem &p, const Platform &platform,
                                  const std::vector<uint8_t> &tokens, const std::vector<uint8_t> &counts,
                                  const std::vector<uint8_t> &scales, const std::vector<uint8_t> &weights,
                                  ascendc_cpu::LaunchResult *trace = nullptr)
{
    MoeReRoutingTilingData tiling{};
    MoeReRoutingTilingReport report;
    const Result r = ComputeTiling(p, platform, &tiling, &report);
    if (!r.ok()) {
        ADD_FAILURE() << "tiling: " << r.message;
        return {};
    }
    const int64_t A = p.tokenNum;
    const bool withWeights = p.weightRowBytes > 0;
    Gm gTokens(tokens.size()), gCounts(counts.size()), gScales(scales.size()), gWeights(weights.size()),
        gOutTokens(tokens.size()), gOutScales(A * p.outScaleRowBytes), gIdx(A * 4),
        gExperts(p.expertNum * p.countBytes), gOutWeights(A * 4), gTiling(sizeof(tiling));
    auto copyIn = [](uint8_t *dst, const std::vector<uint8_t> &src) {
        if (!src.empty()) std::memcpy(dst, src.data(), src.size());
    };
    copyIn(gTokens.ptr, tokens);
    copyIn(gCounts.ptr, counts);
    copyIn(gScales.ptr, scales);
    copyIn(gWeights.ptr, weights);
    std::memset(gOutTokens.ptr, 0xA5, gOutTokens.size);
    std::memset(gOutScales.ptr, 0x5A, gOutScales.size);
    std::memset(gIdx.ptr, 0xF9, gIdx.size);
    std::memset(gOutWeights.ptr, 0x5A, gOutWeights.size);
    std::memcpy(gTiling.ptr, &tiling, sizeof(tiling));
    ascendc_cpu::LaunchConfig cfg;
    cfg.blockDim = tiling.usedCoreNum;
    cfg.ubBytes = platform.ubBytes;
    cfg.tilingKey = report.tilingKey;
    cfg.collectTrace = trace != nullptr;
    ascendc_cpu::LaunchResult local;
    uint8_t *scalesArg = p.scaleRowBytes ? gScales.ptr : nullptr;
    ascendc_cpu::Launch(
        cfg,
        [&] {
            entry(gTokens.ptr, gCounts.ptr, scalesArg, withWeights ? gWeights.ptr : nullptr, gOutTokens.ptr,
                  gOutScales.ptr, gIdx.ptr, gExperts.ptr, withWeights ? gOutWeights.ptr : nullptr, nullptr,
                  gTiling.ptr);
        },
        trace != nullptr ? trace : &local);
    NineOutputs o;
    o.tokens.assign(gOutTokens.ptr, gOutTokens.ptr + gOutTokens.size);
    o.scales.assign(gOutScales.ptr, gOutScales.ptr + gOutScales.size);
    if (withWeights) o.weights.assign(gOutWeights.ptr, gOutWeights.ptr + gOutWeights.size);
    o.idx.assign(reinterpret_cast<const int32_t *>(gIdx.ptr), reinterpret_cast<const int32_t *>(gIdx.ptr) + A);
    const std::vector<uint8_t> experts(gExperts.ptr, gExperts.ptr + gExperts.size);
    for (int64_t e = 0; e < p.expertNum; ++e) o.experts.push_back(CountAt(experts, p.countBytes, e));
    return o;
}

// MoeReRoutingV2: the kernel's V2 entry and the native implementation with a weight column
// ([A] float32, 4 bytes a row), against the reference: every V1 output as without weights, and the
// weights moved exactly as a 4-byte scale column would be.
void CompareV2WithReference(const Case &c, std::mt19937_64 &rng, const std::string &label)
{
    Problem p = ProblemOf(c);
    p.weightRowBytes = 4;
    MoeReRoutingTilingData tiling{};
    MoeReRoutingTilingReport report;
    ASSERT_TRUE(ComputeTiling(p, c.platform, &tiling, &report).ok()) << label;
    const auto tokens = RandomBytes(rng, c.A * c.rowBytes);
    const auto scales = RandomBytes(rng, c.A * c.scaleRowBytes);
    const auto weights = RandomBytes(rng, c.A * 4);
    const auto counts = RandomCounts(rng, c, 0.3);
    const Outputs want = Reference(c, tokens, counts, scales);
    Case asScales = c;  // the weights as a 4-byte scale column
    asScales.scaleRowBytes = 4;
    const std::vector<uint8_t> wantWeights = Reference(asScales, tokens, counts, weights).scales;

    const NineOutputs k =
        LaunchNineTensorEntry(MoeReRoutingV2KernelEntry, p, c.platform, tokens, counts, scales, weights);
    const Outputs got{k.tokens, k.scales, k.idx, k.experts};
    EXPECT_TRUE(Same(got, want)) << "V2 kernel vs reference, " << label << ": " << Differences(got, want);
    EXPECT_TRUE(k.weights == wantWeights) << "V2 kernel weights, " << label;

    // The native implementation on the same inputs.
    std::vector<uint8_t> nWeights;
    Result ran;
    native::SetThreadCount(3);
    const Outputs n = RunNative(c, tokens, counts, scales, &ran, &weights, &nWeights);
    native::SetThreadCount(0);
    ASSERT_TRUE(ran.ok()) << ran.message;
    EXPECT_TRUE(n.tokens == want.tokens && n.scales == want.scales && n.idx == want.idx) << "V2 native, " << label;
    EXPECT_TRUE(nWeights == wantWeights) << "V2 native weights, " << label;
}

}  // namespace

TEST(KernelVsReference, v2_weights_move_like_a_scale_column)
{
    std::mt19937_64 rng(47);
    const Case cases[] = {
        {600, 96, 4, 6, 4, 4, 1, 0, kA2},                  // scales and weights
        {600, 96, 4, 6, 8, 0, 0, 1, kA2},                  // weights without scales (scales zero-filled)
        {300, 40, 7, 9, 4, 8, 1, 0, Platform{3, 8192}},    // tiny UB: small chunks of every column
        {40, 70000, 2, 3, 4, 4, 1, 1, Platform{4, 65536}},  // rows in segments, weights whole
        {0, 16, 3, 4, 4, 4, 1, 0, kA2},                    // A = 0
        {3000, 1501, 4, 4, 4, 4, 1, 0, kA2},               // megabytes: the native split over threads
    };
    int i = 0;
    for (const Case &c : cases) {
        CompareV2WithReference(c, rng, "v2 case " + std::to_string(i++));
    }
}

namespace {

// MoeReRoutingWithCapacity: counts [N, E] as the kernel sees them (the restore's are counts.T), one
// slot of C rows per rank (forward: the input's N slots; restore: the output's E slots).
struct CapCase {
    int64_t C;
    bool restore;
    int64_t N, E, rowBytes;
    uint32_t countBytes;
    int64_t scaleRowBytes;  // 0: no scales
    int64_t type, idx;
    bool weights;
    Platform platform;
    int64_t Rows() const { return (restore ? E : N) * C; }
};

// How full the slots are: random, all empty (T = 0), all full (T = A).
enum class Fill { kRandom, kEmpty, kFull };

// Honest counts: slot k (a row of the counts, or a column for the restore) holds at most C tokens,
// spread over its cells with a share of empty cells.
std::vector<uint8_t> CapacityCounts(std::mt19937_64 &rng, const CapCase &c, Fill fill, double zeroShare)
{
    const int64_t slots = c.restore ? c.E : c.N;
    const int64_t cellsPerSlot = c.restore ? c.N : c.E;
    std::vector<int64_t> v(c.N * c.E, 0);
    std::uniform_real_distribution<double> u(0, 1);
    for (int64_t k = 0; k < slots; ++k) {
        const int64_t total = fill == Fill::kEmpty ? 0 : fill == Fill::kFull ? c.C
                                                      : static_cast<int64_t>(rng() % (c.C + 1));
        std::vector<int64_t> live;
        for (int64_t j = 0; j < cellsPerSlot; ++j)
            if (u(rng) >= zeroShare) live.push_back(j);
        if (live.empty()) live.push_back(static_cast<int64_t>(rng() % cellsPerSlot));
        for (int64_t t = 0; t < total; ++t) {
            const int64_t j = live[rng() % live.size()];
            v[c.restore ? j * c.E + k : k * c.E + j] += 1;
        }
    }
    std::vector<uint8_t> out(v.size() * c.countBytes);
    for (size_t i = 0; i < v.size(); ++i) moe_re_routing_test::StoreCount(out.data(), c.countBytes, i, v[i]);
    return out;
}

Problem CapacityProblem(const CapCase &c)
{
    Problem p;
    p.tokenNum = c.Rows();
    p.rankNum = c.N;
    p.expertNum = c.E;
    p.tokenRowBytes = c.rowBytes;
    p.scaleRowBytes = c.scaleRowBytes;
    p.outScaleRowBytes = c.scaleRowBytes ? c.scaleRowBytes : 4;
    p.countBytes = c.countBytes;
    p.expertTokenNumType = c.type;
    p.idxType = c.idx;
    p.weightRowBytes = c.weights ? 4 : 0;
    (c.restore ? p.dstSlotRows : p.srcSlotRows) = c.C;
    return p;
}

using CapOutputs = NineOutputs;

std::string CapDifferences(const CapOutputs &got, const CapOutputs &want)
{
    std::string s = std::string("tokens ") + (got.tokens == want.tokens ? "ok" : "BAD") + " scales " +
                    (got.scales == want.scales ? "ok" : "BAD") + " weights " +
                    (got.weights == want.weights ? "ok" : "BAD") + " idx " + (got.idx == want.idx ? "ok" : "BAD") +
                    " experts " + (got.experts == want.experts ? "ok" : "BAD");
    for (size_t i = 0; i < std::min(got.idx.size(), want.idx.size()); ++i) {
        if (got.idx[i] != want.idx[i]) {
            s += " (first idx difference at " + std::to_string(i) + ": " + std::to_string(got.idx[i]) + " vs " +
                 std::to_string(want.idx[i]) + ")";
            break;
        }
    }
    return s;
}

CapOutputs CapacityReference(const CapCase &c, const std::vector<uint8_t> &tokens, const std::vector<uint8_t> &counts,
                             const std::vector<uint8_t> &scales, const std::vector<uint8_t> &weights)
{
    moe_re_routing_test::Problem p{c.Rows(), c.N, c.E, c.rowBytes, c.scaleRowBytes, c.countBytes, c.type, c.idx,
                                   c.C, c.restore};
    const moe_re_routing_test::Outputs r = moe_re_routing_test::Reference(p, tokens.data(), counts.data(), scales.data());
    CapOutputs o{r.tokens, r.scales, {}, r.Index(), r.ExpertCounts(c.countBytes)};
    if (c.weights) {  // the weights move exactly as a 4-byte scale column would
        p.scaleRowBytes = 4;
        o.weights = moe_re_routing_test::Reference(p, tokens.data(), counts.data(), weights.data()).scales;
    }
    return o;
}

// Runs the kernel through the WithCapacity entry (outputs poisoned first, so every fill is checked).
CapOutputs RunCapacityKernel(const CapCase &c, const std::vector<uint8_t> &tokens, const std::vector<uint8_t> &counts,
                             const std::vector<uint8_t> &scales, const std::vector<uint8_t> &weights,
                             ascendc_cpu::LaunchResult *trace = nullptr)
{
    return LaunchNineTensorEntry(MoeReRoutingCapacityKernelEntry, CapacityProblem(c), c.platform, tokens, counts,
                                 scales, weights, trace);
}

CapOutputs RunCapacityNative(const CapCase &c, const std::vector<uint8_t> &tokens, const std::vector<uint8_t> &counts,
                             const std::vector<uint8_t> &scales, const std::vector<uint8_t> &weights)
{
    const int64_t A = c.Rows();
    const int64_t outScaleRow = c.scaleRowBytes ? c.scaleRowBytes : 4;
    CapOutputs o;
    o.tokens.assign(tokens.size(), 0xA5);
    o.scales.assign(A * outScaleRow, 0x5A);
    o.idx.assign(A, -7);
    if (c.weights) o.weights.assign(A * 4, 0x5A);
    std::vector<uint8_t> experts(c.E * c.countBytes, 0xEE);
    native::Buffers b;
    b.tokens = tokens.data();
    b.counts = counts.data();
    b.scales = c.scaleRowBytes ? scales.data() : nullptr;
    b.weights = c.weights ? weights.data() : nullptr;
    b.permuteTokens = o.tokens.data();
    b.permuteScales = o.scales.data();
    b.permuteTokenIdx = o.idx.data();
    b.expertTokenNum = experts.data();
    b.permuteWeights = c.weights ? o.weights.data() : nullptr;
    native::SetThreadCount(std::min<uint32_t>(8, std::max<uint32_t>(1, c.platform.aivCoreNum)));
    const Result r = native::Run(CapacityProblem(c), b);
    native::SetThreadCount(0);
    if (!r.ok()) ADD_FAILURE() << "native: " << r.message;
    for (int64_t e = 0; e < c.E; ++e) o.experts.push_back(CountAt(experts, c.countBytes, e));
    return o;
}

std::string Describe(const CapCase &c)
{
    return std::string(c.restore ? "restore" : "forward") + " C=" + std::to_string(c.C) + " N=" + std::to_string(c.N) +
           " E=" + std::to_string(c.E) + " rowBytes=" + std::to_string(c.rowBytes) + " cb=" +
           std::to_string(c.countBytes) + " scale=" + std::to_string(c.scaleRowBytes) + " type=" +
           std::to_string(c.type) + " idx=" + std::to_string(c.idx) + " weights=" + std::to_string(c.weights) +
           " cores=" + std::to_string(c.platform.aivCoreNum) + " ub=" + std::to_string(c.platform.ubBytes);
}

// The kernel (WithCapacity entry) and the native engine against the reference, bit-exact.
void CompareCapacity(const CapCase &c, std::mt19937_64 &rng, Fill fill, double zeroShare, const std::string &label)
{
    const int64_t A = c.Rows();
    const auto tokens = RandomBytes(rng, A * c.rowBytes);
    const auto scales = RandomBytes(rng, A * c.scaleRowBytes);
    const auto weights = RandomBytes(rng, c.weights ? A * 4 : 0);
    const auto counts = CapacityCounts(rng, c, fill, zeroShare);
    const Result honest = CheckCountValues(CapacityProblem(c), counts.data());
    ASSERT_TRUE(honest.ok()) << label << ": " << honest.message;
    const CapOutputs want = CapacityReference(c, tokens, counts, scales, weights);
    const CapOutputs got = RunCapacityKernel(c, tokens, counts, scales, weights);
    EXPECT_TRUE(got == want) << "kernel vs reference, " << label << " " << Describe(c) << ": "
                             << CapDifferences(got, want);
    const CapOutputs native = RunCapacityNative(c, tokens, counts, scales, weights);
    EXPECT_TRUE(native == want) << "native vs reference, " << label << " " << Describe(c) << ": "
                                << CapDifferences(native, want);
}

CapCase RandomCapCase(std::mt19937_64 &rng, bool restore, int64_t maxC, int64_t maxNE, int64_t maxRowBytes,
                      Platform platform)
{
    const int64_t scaleKinds[] = {0, 4, 12};  // none, [A] float32, [A, 3] float32
    return CapCase{1 + static_cast<int64_t>(rng() % maxC), restore, 1 + static_cast<int64_t>(rng() % maxNE),
                   1 + static_cast<int64_t>(rng() % maxNE), 1 + static_cast<int64_t>(rng() % maxRowBytes),
                   (rng() % 2) ? 8u : 4u, scaleKinds[rng() % 3], static_cast<int64_t>(rng() % 2),
                   static_cast<int64_t>(rng() % 2), (rng() % 2) == 0, platform};
}

}  // namespace

TEST(CapacityKernelVsReference, forward_and_restore_random_cases_on_a2)
{
    // Both directions x gather/scatter x int32/int64 x scales none/[A]/[A, S] x weights, random
    // slot fill (odd C included), on the A2 platform: T falls anywhere, often mid-core.
    std::mt19937_64 rng(2301);
    for (int i = 0; i < 48; ++i) {
        const CapCase c = RandomCapCase(rng, i % 2 == 1, 97, 9, 300, kA2);
        CompareCapacity(c, rng, Fill::kRandom, (i % 3) * 0.3, "a2 capacity case " + std::to_string(i));
    }
}

TEST(CapacityKernelVsReference, every_mode_combination_with_empty_full_and_partial_slots)
{
    std::mt19937_64 rng(2302);
    int i = 0;
    for (bool restore : {false, true}) {
        for (int64_t idx : {0, 1}) {
            for (uint32_t cb : {4u, 8u}) {
                for (int64_t scale : {0, 4, 8}) {
                    for (Fill fill : {Fill::kRandom, Fill::kEmpty, Fill::kFull}) {
                        // 5 cores over 4 * 13 or 6 * 13 rows: T and the slot tails fall mid-core.
                        // 2000-byte rows: enough traffic for all 5 cores.
                        const CapCase c{13, restore, 4, 6, 2000, cb, scale, int64_t{i % 2}, idx, (i % 3) != 0,
                                        Platform{5, kA2.ubBytes}};
                        MoeReRoutingTilingData t{};
                        ASSERT_TRUE(ComputeTiling(CapacityProblem(c), c.platform, &t).ok());
                        ASSERT_EQ(t.usedCoreNum, 5u);
                        CompareCapacity(c, rng, fill, 0.4, "combination " + std::to_string(i++));
                    }
                }
            }
        }
    }
}

TEST(CapacityKernelVsReference, edge_shapes)
{
    std::mt19937_64 rng(2303);
    const CapCase cases[] = {
        {1, false, 1, 1, 8, 4, 4, 1, 0, false, kA2},                  // one row
        {1, true, 1, 1, 8, 8, 0, 1, 1, true, kA2},
        {7, false, 1, 5, 40, 4, 4, 1, 0, true, kA2},                  // N = 1
        {7, true, 5, 1, 40, 4, 4, 1, 1, false, kA2},                  // restore, E' = 1
        {3, false, 64, 3, 16, 8, 4, 0, 1, false, kA2},                // many small slots over 48 cores
        {3, true, 3, 64, 16, 4, 0, 1, 0, true, kA2},
        {500, false, 3, 4, 7000, 4, 4, 1, 0, false, kA2},             // big rows, one slot per few cores
        {500, true, 4, 3, 7000, 8, 4, 1, 1, true, kA2},
        {33, false, 300, 2, 8, 4, 0, 1, 1, false, Platform{40, kA2.ubBytes}},  // N = 300
        {33, true, 2, 300, 8, 4, 4, 0, 0, true, Platform{40, kA2.ubBytes}},    // E' = 300
    };
    int i = 0;
    for (const CapCase &c : cases) {
        for (Fill fill : {Fill::kRandom, Fill::kEmpty, Fill::kFull}) {
            CompareCapacity(c, rng, fill, 0.3, "edge " + std::to_string(i));
        }
        ++i;
    }
}

TEST(CapacityKernelVsReference, tiny_ub_segments_streamed_counts_and_slab_walk)
{
    // 8 KiB of UB: rows in segments, streamed count tiles, rank slabs; and the slab walk (N = 1800
    // cursors do not fit), in both directions.
    std::mt19937_64 rng(2304);
    for (int i = 0; i < 24; ++i) {
        const CapCase c = RandomCapCase(rng, i % 2 == 1, 40, 40, 9000, Platform{1 + static_cast<uint32_t>(rng() % 8), 8192});
        CompareCapacity(c, rng, Fill::kRandom, 0.5, "tiny-ub capacity case " + std::to_string(i));
    }
    const CapCase slabWalk[] = {
        {2, false, 1800, 3, 24, 8, 4, 1, 0, false, Platform{6, 8192}},
        {3, false, 1800, 5, 24, 4, 0, 0, 1, true, Platform{3, 8192}},
        {500, true, 1800, 3, 24, 8, 4, 1, 0, true, Platform{6, 8192}},
        {401, true, 2500, 4, 8, 4, 0, 0, 1, false, Platform{5, 8192}},
    };
    for (const CapCase &c : slabWalk) {
        MoeReRoutingTilingData t{};
        ASSERT_TRUE(ComputeTiling(CapacityProblem(c), c.platform, &t).ok());
        EXPECT_NE(t.columnBufBytes, 0u) << Describe(c);
        CompareCapacity(c, rng, Fill::kRandom, 0.7, "slab walk");
        CompareCapacity(c, rng, Fill::kFull, 0.7, "slab walk, full");
    }
}

TEST(CapacityKernelVsReference, over_capacity_counts_stay_inside_the_tensors_and_clamp_at_the_slot_end)
{
    // Counts the host would refuse (a rank's cells over its slot of C rows) reach the kernel on an NPU
    // unchecked. The emulator aborts on any DMA outside a GlobalTensor's SetGlobalBuffer size or a
    // GmAlloc region, so finishing proves safety. For moderate lies (cells >= 0, T <= A) the
    // documented clamp is checked exactly in the forward's gather mode: the destination layout is
    // the packed one of the counts as given, a row whose source lies inside its rank's slot is moved
    // with its index, a row past the slot end is not read (left unspecified, not checked), and
    // [T, A) is zero with index -1.
    std::mt19937_64 rng(2305);
    const CapCase c{6, false, 5, 4, 40, 4, 4, 1, 0, true, Platform{4, kA2.ubBytes}};
    std::vector<int64_t> v = {3, 2, 2, 1,   // rank 0: 8 > C
                              0, 0, 0, 0,   // rank 1: empty
                              1, 1, 1, 0,   // rank 2: 3
                              6, 0, 1, 0,   // rank 3: 7 > C
                              0, 2, 0, 1};  // rank 4: 3; T = 21 <= A = 30
    std::vector<uint8_t> counts(v.size() * 4);
    for (size_t i = 0; i < v.size(); ++i) moe_re_routing_test::StoreCount(counts.data(), 4, i, v[i]);
    ASSERT_FALSE(CheckCountValues(CapacityProblem(c), counts.data()).ok());
    const int64_t A = c.Rows();
    const auto tokens = RandomBytes(rng, A * c.rowBytes);
    const auto scales = RandomBytes(rng, A * 4);
    const auto weights = RandomBytes(rng, A * 4);
    const CapOutputs got = RunCapacityKernel(c, tokens, counts, scales, weights);
    ASSERT_EQ(got.idx.size(), size_t(A));
    int64_t dst = 0, total = 0;
    for (int64_t e = 0; e < c.E; ++e) {
        for (int64_t r = 0; r < c.N; ++r) {
            int64_t src = r * c.C;
            for (int64_t x = 0; x < e; ++x) src += v[r * c.E + x];
            for (int64_t k = 0; k < v[r * c.E + e]; ++k, ++dst) {
                if (src + k >= (r + 1) * c.C) continue;  // past the slot: not read, unspecified
                EXPECT_EQ(got.idx[dst], src + k) << "row " << dst;
                EXPECT_TRUE(std::equal(tokens.begin() + (src + k) * c.rowBytes, tokens.begin() + (src + k + 1) * c.rowBytes,
                                       got.tokens.begin() + dst * c.rowBytes)) << "row " << dst;
                EXPECT_TRUE(std::equal(scales.begin() + (src + k) * 4, scales.begin() + (src + k + 1) * 4,
                                       got.scales.begin() + dst * 4)) << "row " << dst;
            }
        }
    }
    for (int64_t x : v) total += x;
    ASSERT_EQ(dst, total);
    for (int64_t row = total; row < A; ++row) {
        EXPECT_EQ(got.idx[row], -1) << row;
        EXPECT_TRUE(std::all_of(got.tokens.begin() + row * c.rowBytes, got.tokens.begin() + (row + 1) * c.rowBytes,
                                [](uint8_t b) { return b == 0; })) << row;
    }

    // Wild lies in both directions, both index modes, on the resident, streamed and slab-walk paths:
    // safety only, and expert_token_num stays in [0, A].
    const CapCase shapes[] = {
        {7, false, 32, 40, 24, 8, 4, 1, 0, true, Platform{8, kA2.ubBytes}},
        {7, true, 32, 40, 24, 4, 0, 0, 1, false, Platform{8, kA2.ubBytes}},
        {3, false, 300, 5, 24, 8, 4, 1, 1, false, Platform{8, 8192}},
        {90, true, 300, 5, 24, 4, 4, 0, 0, true, Platform{8, 8192}},
        {2, false, 1800, 3, 8, 4, 0, 1, 0, true, Platform{6, 8192}},
        {500, true, 1800, 3, 8, 8, 4, 0, 1, false, Platform{6, 8192}},
    };
    for (CapCase s : shapes) {
        for (int variant = 0; variant < 5; ++variant) {
            s.idx = variant % 2;
            const int64_t rows = s.Rows();
            std::vector<uint8_t> lies(s.N * s.E * s.countBytes);
            for (int64_t i = 0; i < s.N * s.E; ++i) {
                int64_t x = 0;
                switch (variant) {
                    case 0: x = 50; break;                                   // every slot far over C
                    case 1: x = static_cast<int64_t>(rng() % 5) - 2; break;  // negatives
                    case 2: x = (i % 2) ? INT64_MAX : INT64_MIN; break;
                    case 3: x = (i % 2) ? INT32_MAX : INT32_MIN; break;
                    default: x = (i % 3 == 0) ? int64_t{1} << 32 : rows; break;
                }
                moe_re_routing_test::StoreCount(lies.data(), s.countBytes, i, s.countBytes == 8 ? x : static_cast<int32_t>(x));
            }
            const CapOutputs out = RunCapacityKernel(s, RandomBytes(rng, rows * s.rowBytes), lies,
                                                     RandomBytes(rng, rows * s.scaleRowBytes),
                                                     RandomBytes(rng, s.weights ? rows * 4 : 0));
            for (int64_t e = 0; e < s.E; ++e) {
                EXPECT_TRUE(out.experts[e] >= 0 && out.experts[e] <= rows) << Describe(s) << " variant " << variant;
            }
        }
    }
}

TEST(CapacityKernelVsReference, runs_on_ascend950_platform)
{
    const ascendc_cpu::SocPlatform *soc = ascendc_cpu::FindSoc("Ascend950");
    ASSERT_NE(soc, nullptr);
    const std::string saved = ascendc_cpu::SelectedSoc().name;
    ASSERT_TRUE(ascendc_cpu::SelectSoc("Ascend950"));
    std::mt19937_64 rng(2306);
    for (int i = 0; i < 12; ++i) {
        const CapCase c = RandomCapCase(rng, i % 2 == 1, 60, 12, 3000, Platform{1u << (i % 6), soc->UsableUbBytes()});
        CompareCapacity(c, rng, Fill::kRandom, 0.3, "ascend950 capacity case " + std::to_string(i));
    }
    ASSERT_TRUE(ascendc_cpu::SelectSoc(saved.c_str()));
}

TEST(CapacityNativeVsReference, slots_over_capacity_since_the_checks_are_refused_before_any_write)
{
    // The native engine reads the counts again at run time: a slot (a row; for the restore a column)
    // now over C, or a negative cell, fails with kErrParamInvalid naming num_max_tokens_per_rank or
    // the cell, and no output byte is written.
    std::mt19937_64 rng(77);
    for (bool restore : {false, true}) {
        const CapCase c{6, restore, 4, 3, 24, 4, 4, 1, 1, true, Platform{4, kA2.ubBytes}};
        const auto tokens = RandomBytes(rng, c.Rows() * c.rowBytes);
        const auto scales = RandomBytes(rng, c.Rows() * 4);
        const auto weights = RandomBytes(rng, c.Rows() * 4);
        auto honest = CapacityCounts(rng, c, Fill::kRandom, 0.0);
        ASSERT_TRUE(CheckCountValues(CapacityProblem(c), honest.data()).ok());
        for (int lie = 0; lie < 2; ++lie) {
            auto counts = honest;
            // Cell [1, 1]: +C+1 puts its slot (row 1, or column 1 for the restore) over capacity.
            const int64_t v = CountAt(counts, c.countBytes, 1 * c.E + 1);
            moe_re_routing_test::StoreCount(counts.data(), c.countBytes, 1 * c.E + 1, lie == 0 ? v + c.C + 1 : -1);
            std::vector<uint8_t> outTokens(tokens.size(), 0xA5), outScales(c.Rows() * 4, 0x5A);
            std::vector<uint8_t> outIdx(c.Rows() * 4, 0x5A), outWeights(c.Rows() * 4, 0x5A), experts(c.E * 4, 0xEE);
            native::Buffers b;
            b.tokens = tokens.data();
            b.counts = counts.data();
            b.scales = scales.data();
            b.weights = weights.data();
            b.permuteTokens = outTokens.data();
            b.permuteScales = outScales.data();
            b.permuteTokenIdx = outIdx.data();
            b.expertTokenNum = experts.data();
            b.permuteWeights = outWeights.data();
            const Result r = native::Run(CapacityProblem(c), b);
            EXPECT_EQ(r.status, kErrParamInvalid) << Describe(c) << " lie " << lie;
            EXPECT_NE(r.message.find("changed after aclnnMoeReRoutingWithCapacityGetWorkspaceSize"), std::string::npos)
                << r.message;
            EXPECT_NE(r.message.find(lie == 0 ? "num_max_tokens_per_rank = 6" : "(negative)"), std::string::npos)
                << r.message;
            EXPECT_TRUE(std::all_of(outTokens.begin(), outTokens.end(), [](uint8_t x) { return x == 0xA5; }));
            for (const auto *out : {&outScales, &outIdx, &outWeights}) {
                EXPECT_TRUE(std::all_of(out->begin(), out->end(), [](uint8_t x) { return x == 0x5A; }));
            }
            EXPECT_TRUE(std::all_of(experts.begin(), experts.end(), [](uint8_t x) { return x == 0xEE; }));
        }
    }
}
