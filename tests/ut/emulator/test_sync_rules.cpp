// Correct synchronisation that the hazard checker must accept (checked mode): the queue hand-overs
// of each position pair, buffers reused through FreeTensor/AllocTensor, and explicit flags. The
// broken counterparts are the rule cases in test_violations.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"
#include "tikicpulib.h"

using namespace AscendC;

namespace {

constexpr uint32_t kTile = 64;     // int32 elements per tile (256 B)
constexpr uint32_t kTiles = 6;     // tiles per core: each of 2 buffers is reused 3 times

struct Gm {
    explicit Gm(size_t elems) : data(static_cast<int32_t *>(GmAlloc(elems * sizeof(int32_t)))), count(elems)
    {
        std::memset(data, 0, elems * sizeof(int32_t));
    }
    ~Gm() { GmFree(data); }
    Gm(const Gm &) = delete;
    Gm &operator=(const Gm &) = delete;
    GM_ADDR gm() const { return reinterpret_cast<GM_ADDR>(data); }
    int32_t *data;
    size_t count;
};

class CheckedMode {
public:
    CheckedMode() : previous_(ascendc_cpu::GetMode()) { ascendc_cpu::SetMode(ascendc_cpu::Mode::kChecked); }
    ~CheckedMode() { ascendc_cpu::SetMode(previous_); }
    CheckedMode(const CheckedMode &) = delete;
    CheckedMode &operator=(const CheckedMode &) = delete;

private:
    ascendc_cpu::Mode previous_;
};

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
    CheckedMode checked;
    const uint32_t blocks = 2;
    Gm x(blocks * kTile * kTiles);
    Gm y(blocks * kTile * kTiles);
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
    CheckedMode checked;
    Gm x(kTile * kTiles);
    Gm y(kTile * kTiles);
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
    CheckedMode checked;
    Gm x(kTile);
    Gm y(kTile);
    for (uint32_t i = 0; i < kTile; ++i) {
        x.data[i] = static_cast<int32_t>(i * i);
    }
    ascendc_cpu::LaunchConfig config;
    ascendc_cpu::Launch(config, [&] { scalar_on_queues_kernel(x.gm(), y.gm()); }, nullptr);
    for (uint32_t i = 0; i < kTile; ++i) {
        ASSERT_EQ(y.data[i], x.data[kTile - 1 - i]);
    }
}

}  // namespace
