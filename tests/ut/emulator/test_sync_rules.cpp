// Correct synchronisation that the hazard checker must accept (checked mode): the queue hand-overs
// of each position pair, buffers reused through FreeTensor/AllocTensor, and explicit flags. The
// broken counterparts are the rule cases in test_violations.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"
#include "tikicpulib.h"
#include "emulator_test_util.h"

using namespace AscendC;
using emulator_test::GmBuffer;

namespace {

constexpr uint32_t kTile = 64;     // int32 elements per tile (256 B)
constexpr uint32_t kTiles = 6;     // tiles per core: each of 2 buffers is reused 3 times

// The classic three-stage pipeline, double-buffered: VECIN (MTE2 -> V), compute, VECOUT (V -> MTE3).
// Every synchronisation comes from the queues: EnQue/DeQue for the hand-over, FreeTensor/AllocTensor
// for the reuse of a buffer (V before the next MTE2 write on VECIN, MTE3 before the next V write on
// VECOUT).
extern "C" __global__ __aicore__ void three_stage_kernel(GM_ADDR x, GM_ADDR y)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> inQue;
    TQue<TPosition::VECOUT, 1> outQue;
    pipe.InitBuffer(inQue, 2, kTile * sizeof(int32_t));
    pipe.InitBuffer(outQue, 2, kTile * sizeof(int32_t));
    const uint64_t base = static_cast<uint64_t>(GetBlockIdx()) * kTile * kTiles;
    GlobalTensor<int32_t> xGm;
    GlobalTensor<int32_t> yGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x + base, kTile * kTiles);
    yGm.SetGlobalBuffer((__gm__ int32_t *)y + base, kTile * kTiles);
    for (uint32_t t = 0; t < kTiles; ++t) {
        LocalTensor<int32_t> in = inQue.AllocTensor<int32_t>();
        DataCopyPad(in, xGm[t * kTile], DataCopyExtParams(1, kTile * sizeof(int32_t), 0, 0, 0),
                    DataCopyPadExtParams<int32_t>());
        inQue.EnQue(in);
        in = inQue.DeQue<int32_t>();
        LocalTensor<int32_t> out = outQue.AllocTensor<int32_t>();
        Adds(out, in, static_cast<int32_t>(t), kTile);
        inQue.FreeTensor(in);
        outQue.EnQue(out);
        out = outQue.DeQue<int32_t>();
        DataCopyPad(yGm[t * kTile], out, DataCopyExtParams(1, kTile * sizeof(int32_t), 0, 0, 0));
        outQue.FreeTensor(out);
    }
}

TEST(SyncRules, QueuesCarryTheirPositionPairsThroughBufferReuse)
{
    const uint32_t blocks = 2;
    GmBuffer<int32_t> x(blocks * kTile * kTiles);
    GmBuffer<int32_t> y(blocks * kTile * kTiles);
    for (size_t i = 0; i < x.count; ++i) {
        x.data[i] = static_cast<int32_t>(i * 3);
    }
    ascendc_cpu::LaunchConfig config;
    config.blockDim = blocks;
    ascendc_cpu::Launch(config, [&] { three_stage_kernel(x.gm(), y.gm()); }, nullptr);
    for (size_t i = 0; i < y.count; ++i) {
        const int32_t tile = static_cast<int32_t>((i / kTile) % kTiles);
        ASSERT_EQ(y.data[i], x.data[i] + tile) << "element " << i;
    }
}

// TQueBind<VECIN, VECOUT>: GM -> UB -> GM with no compute; the queue orders MTE2 -> MTE3 and, on
// reuse, MTE3 -> MTE2.
extern "C" __global__ __aicore__ void bind_kernel(GM_ADDR x, GM_ADDR y)
{
    TPipe pipe;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, 1> que;
    pipe.InitBuffer(que, 2, kTile * sizeof(int32_t));
    GlobalTensor<int32_t> xGm;
    GlobalTensor<int32_t> yGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kTile * kTiles);
    yGm.SetGlobalBuffer((__gm__ int32_t *)y, kTile * kTiles);
    for (uint32_t t = 0; t < kTiles; ++t) {
        LocalTensor<int32_t> chunk = que.AllocTensor<int32_t>();
        DataCopyPad(chunk, xGm[t * kTile], DataCopyExtParams(1, kTile * sizeof(int32_t), 0, 0, 0),
                    DataCopyPadExtParams<int32_t>());
        que.EnQue(chunk);
        chunk = que.DeQue<int32_t>();
        DataCopyPad(yGm[(kTiles - 1 - t) * kTile], chunk, DataCopyExtParams(1, kTile * sizeof(int32_t), 0, 0, 0));
        que.FreeTensor(chunk);
    }
}

TEST(SyncRules, BoundQueueOrdersMte2AndMte3BothWays)
{
    GmBuffer<int32_t> x(kTile * kTiles);
    GmBuffer<int32_t> y(kTile * kTiles);
    for (size_t i = 0; i < x.count; ++i) {
        x.data[i] = static_cast<int32_t>(7 * i + 1);
    }
    ascendc_cpu::LaunchConfig config;
    ascendc_cpu::Launch(config, [&] { bind_kernel(x.gm(), y.gm()); }, nullptr);
    for (uint32_t t = 0; t < kTiles; ++t) {
        for (uint32_t i = 0; i < kTile; ++i) {
            ASSERT_EQ(y.data[(kTiles - 1 - t) * kTile + i], x.data[t * kTile + i]);
        }
    }
}

// Scalar work on queue tensors with the flags the queue does not give: MTE2 -> S after DeQue of a
// VECIN tensor, S -> MTE3 before the copy out of a VECOUT tensor.
extern "C" __global__ __aicore__ void scalar_on_queues_kernel(GM_ADDR x, GM_ADDR y)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> inQue;
    TQue<TPosition::VECOUT, 1> outQue;
    pipe.InitBuffer(inQue, 1, kTile * sizeof(int32_t));
    pipe.InitBuffer(outQue, 1, kTile * sizeof(int32_t));
    GlobalTensor<int32_t> xGm;
    GlobalTensor<int32_t> yGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kTile);
    yGm.SetGlobalBuffer((__gm__ int32_t *)y, kTile);
    LocalTensor<int32_t> in = inQue.AllocTensor<int32_t>();
    DataCopyPad(in, xGm, DataCopyExtParams(1, kTile * sizeof(int32_t), 0, 0, 0), DataCopyPadExtParams<int32_t>());
    inQue.EnQue(in);
    in = inQue.DeQue<int32_t>();
    SetFlag<HardEvent::MTE2_S>(0);
    WaitFlag<HardEvent::MTE2_S>(0);
    LocalTensor<int32_t> out = outQue.AllocTensor<int32_t>();
    for (uint32_t i = 0; i < kTile; ++i) {
        out.SetValue(i, in.GetValue(kTile - 1 - i));
    }
    SetFlag<HardEvent::S_MTE3>(0);
    WaitFlag<HardEvent::S_MTE3>(0);
    outQue.EnQue(out);
    out = outQue.DeQue<int32_t>();
    DataCopyPad(yGm, out, DataCopyExtParams(1, kTile * sizeof(int32_t), 0, 0, 0));
    outQue.FreeTensor(out);
    inQue.FreeTensor(in);
}

TEST(SyncRules, ScalarAccessToQueueTensorsWithExplicitFlags)
{
    GmBuffer<int32_t> x(kTile);
    GmBuffer<int32_t> y(kTile);
    for (uint32_t i = 0; i < kTile; ++i) {
        x.data[i] = static_cast<int32_t>(i * i);
    }
    ascendc_cpu::LaunchConfig config;
    ascendc_cpu::Launch(config, [&] { scalar_on_queues_kernel(x.gm(), y.gm()); }, nullptr);
    for (uint32_t i = 0; i < kTile; ++i) {
        ASSERT_EQ(y.data[i], x.data[kTile - 1 - i]);
    }
}

// Index runs into a double-buffered VECOUT queue, the two correct ways on dav-c220: CreateVecIndex
// after an explicit MTE3 -> S wait (its first 32 B are scalar stores), or a ramp built once in a
// buffer no DMA touches plus one vector Adds per run (pure PIPE_V, ordered by AllocTensor).
extern "C" __global__ __aicore__ void index_runs_kernel(GM_ADDR y, bool ramp)
{
    TPipe pipe;
    TQue<TPosition::VECOUT, 1> que;
    TBuf<TPosition::VECCALC> rampBuf;
    pipe.InitBuffer(que, 2, kTile * sizeof(int32_t));
    pipe.InitBuffer(rampBuf, kTile * sizeof(int32_t));
    GlobalTensor<int32_t> yGm;
    yGm.SetGlobalBuffer((__gm__ int32_t *)y, kTile * kTiles);
    LocalTensor<int32_t> rampTensor = rampBuf.Get<int32_t>();
    if (ramp) {
        CreateVecIndex(rampTensor, int32_t(0), kTile);  // fresh buffer: nothing to wait for
    }
    for (uint32_t t = 0; t < kTiles; ++t) {
        LocalTensor<int32_t> run = que.AllocTensor<int32_t>();
        if (ramp) {
            Adds(run, rampTensor, static_cast<int32_t>(1000 * t), kTile);
        } else {
            SetFlag<HardEvent::MTE3_S>(0);
            WaitFlag<HardEvent::MTE3_S>(0);
            CreateVecIndex(run, static_cast<int32_t>(1000 * t), kTile);
        }
        que.EnQue(run);
        run = que.DeQue<int32_t>();
        DataCopyPad(yGm[t * kTile], run, DataCopyExtParams(1, kTile * sizeof(int32_t), 0, 0, 0));
        que.FreeTensor(run);
    }
}

TEST(SyncRules, IndexRunsIntoAReusedVecoutBuffer)
{
    for (bool ramp : {false, true}) {
        GmBuffer<int32_t> y(kTile * kTiles);
        ascendc_cpu::LaunchConfig config;
        ascendc_cpu::Launch(config, [&] { index_runs_kernel(y.gm(), ramp); }, nullptr);
        for (uint32_t i = 0; i < kTile * kTiles; ++i) {
            ASSERT_EQ(y.data[i], static_cast<int32_t>(1000 * (i / kTile) + i % kTile)) << "ramp " << ramp;
        }
    }
}

// One TBuf reused by every unit in turn, each hand-over by the matching flag: MTE2 fills, S reads
// (MTE2_S), V overwrites what S read (S_V) and MTE3 copies out (V_MTE3), MTE2 refills what MTE3
// read (MTE3_MTE2), then a PipeBarrier<PIPE_ALL> orders everything for the final scalar store.
extern "C" __global__ __aicore__ void flags_round_trip_kernel(GM_ADDR x, GM_ADDR y)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, kTile * sizeof(int32_t));
    GlobalTensor<int32_t> xGm;
    GlobalTensor<int32_t> yGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kTile);
    yGm.SetGlobalBuffer((__gm__ int32_t *)y, 2 * kTile);
    const DataCopyExtParams all(1, kTile * sizeof(int32_t), 0, 0, 0);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    DataCopyPad(local, xGm, all, DataCopyPadExtParams<int32_t>());
    SetFlag<HardEvent::MTE2_S>(0);
    WaitFlag<HardEvent::MTE2_S>(0);
    const int32_t first = local.GetValue(0);
    SetFlag<HardEvent::S_V>(0);
    WaitFlag<HardEvent::S_V>(0);
    Adds(local, local, first, kTile);  // the read-after-write needs MTE2_V: the S_V chain carries it
    SetFlag<HardEvent::V_MTE3>(0);
    WaitFlag<HardEvent::V_MTE3>(0);
    DataCopyPad(yGm, local, all);
    SetFlag<HardEvent::MTE3_MTE2>(0);
    WaitFlag<HardEvent::MTE3_MTE2>(0);
    DataCopyPad(local, xGm, all, DataCopyPadExtParams<int32_t>());
    PipeBarrier<PIPE_ALL>();
    local.SetValue(0, -1);
    PipeBarrier<PIPE_ALL>();
    DataCopyPad(yGm[kTile], local, all);
}

TEST(SyncRules, FlagsOrderEveryHazardKind)
{
    GmBuffer<int32_t> x(kTile);
    GmBuffer<int32_t> y(2 * kTile);
    for (uint32_t i = 0; i < kTile; ++i) {
        x.data[i] = static_cast<int32_t>(5 + i);
    }
    ascendc_cpu::LaunchConfig config;
    ascendc_cpu::Launch(config, [&] { flags_round_trip_kernel(x.gm(), y.gm()); }, nullptr);
    for (uint32_t i = 0; i < kTile; ++i) {
        ASSERT_EQ(y.data[i], x.data[i] + x.data[0]);
        ASSERT_EQ(y.data[kTile + i], i == 0 ? -1 : x.data[i]);
    }
}

// DataCopyPad positions: every documented one is accepted, VECCALC GM->UB only on dav-3510.
extern "C" __global__ __aicore__ void pad_positions_kernel(GM_ADDR x, GM_ADDR y, bool veccalcIn)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> in;
    TBuf<TPosition::VECOUT> out;
    TBuf<TPosition::VECCALC> calc;
    pipe.InitBuffer(in, 64);
    pipe.InitBuffer(out, 64);
    pipe.InitBuffer(calc, 64);
    GlobalTensor<int32_t> xGm;
    GlobalTensor<int32_t> yGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, 16);
    yGm.SetGlobalBuffer((__gm__ int32_t *)y, 48);
    const DataCopyExtParams eight(1, 32, 0, 0, 0);
    const DataCopyPadExtParams<int32_t> noPad;
    DataCopyPad(in.Get<int32_t>(), xGm, eight, noPad);        // GM -> VECIN
    DataCopyPad(out.Get<int32_t>(), xGm[8], eight, noPad);    // GM -> VECOUT
    PipeBarrier<PIPE_ALL>();
    DataCopyPad(yGm, in.Get<int32_t>(), eight);               // VECIN -> GM
    DataCopyPad(yGm[8], out.Get<int32_t>(), eight);           // VECOUT -> GM
    if (veccalcIn) {
        DataCopyPad(calc.Get<int32_t>(), xGm, eight, noPad);  // GM -> VECCALC (dav-3510 only)
        PipeBarrier<PIPE_ALL>();
        yGm.SetValue(16, calc.Get<int32_t>().GetValue(7));
    }
}

TEST(SyncRules, DataCopyPadDocumentedPositions)
{
    for (ascendc_cpu::Arch arch : {ascendc_cpu::Arch::kDavC220, ascendc_cpu::Arch::kDav3510}) {
        GmBuffer<int32_t> x(16);
        GmBuffer<int32_t> y(48);
        for (uint32_t i = 0; i < 16; ++i) {
            x.data[i] = static_cast<int32_t>(i + 1);
        }
        ascendc_cpu::LaunchConfig config;
        config.arch = arch;
        const bool veccalcIn = arch == ascendc_cpu::Arch::kDav3510;
        ascendc_cpu::Launch(config, [&] { pad_positions_kernel(x.gm(), y.gm(), veccalcIn); }, nullptr);
        for (uint32_t i = 0; i < 16; ++i) {
            ASSERT_EQ(y.data[i], x.data[i]);
        }
        ASSERT_EQ(y.data[16], veccalcIn ? x.data[7] : 0);
    }
}

// The shadow records of earlier launches on the same thread never count as unsynchronised work:
// not after a launch with a larger UB (the shadow's planes keep their size), and not after a block
// that left by an exception.
extern "C" __global__ __aicore__ void fill_ub_kernel(uint32_t bytes, bool readToo)
{
    TPipe pipe;
    TBuf<TPosition::VECCALC> buf;
    pipe.InitBuffer(buf, bytes);
    LocalTensor<int32_t> all = buf.Get<int32_t>();
    Duplicate(all, int32_t(9), static_cast<int32_t>(bytes / sizeof(int32_t)));
    if (readToo) {
        PipeBarrier<PIPE_ALL>();
        Adds(all, all, int32_t(1), static_cast<int32_t>(bytes / sizeof(int32_t)));
    }
}

extern "C" __global__ __aicore__ void refill_kernel(GM_ADDR x, uint32_t bytes)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, bytes);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, bytes / sizeof(int32_t));
    DataCopyPad(buf.Get<int32_t>(), xGm, DataCopyExtParams(1, bytes, 0, 0, 0), DataCopyPadExtParams<int32_t>());
}

TEST(SyncRules, EarlierLaunchesLeaveNothingUnsynchronised)
{
    const uint32_t small = 16384;
    GmBuffer<int32_t> x(small / sizeof(int32_t));
    ascendc_cpu::LaunchConfig large;
    large.ubBytes = 196608;
    ascendc_cpu::Launch(large, [] { fill_ub_kernel(196608, true); }, nullptr);
    ascendc_cpu::LaunchConfig smallUb;
    smallUb.ubBytes = small;
    ascendc_cpu::Launch(smallUb, [&] { refill_kernel(x.gm(), small); }, nullptr);

    EXPECT_THROW(ascendc_cpu::Launch(
                     smallUb,
                     [] {
                         fill_ub_kernel(small, false);
                         throw std::runtime_error("kernel body left by an exception");
                     },
                     nullptr),
                 std::runtime_error);
    ascendc_cpu::Launch(smallUb, [&] { refill_kernel(x.gm(), small); }, nullptr);
}

}  // namespace
