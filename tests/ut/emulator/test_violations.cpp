// Deliberately broken kernels, one per emulator rule. Each case is a death test: it runs in its own
// child process, which must end by abort or a non-zero exit (never by a crash such as SIGSEGV) with
// "ascendc_cpu: rule violated: <expected>" on stderr. "control" runs a correct kernel and must pass.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"
#include "tikicpulib.h"

using namespace AscendC;

namespace {

constexpr uint32_t kElems = 256;  // halves per test buffer (512 B)

// ---- UB capacity and TPipe limits ----

extern "C" __global__ __aicore__ void ub_capacity_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, 200000);  // > 196352 B, the UB Ascend910B reports
}

// Fits the UB that Ascend910B reports (196352 B) but not what the Ascend C runtime leaves a kernel
// there (196352 - 8192 = 188160 B), the emulator's default platform.
extern "C" __global__ __aicore__ void ub_capacity_reserved_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, 190000);
}

extern "C" __global__ __aicore__ void ub_capacity_total_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 2> in;
    TBuf<TPosition::VECIN> calc;
    pipe.InitBuffer(in, 2, 65536);
    pipe.InitBuffer(calc, 65537);  // rounds up to 65568: 196640 B in total
}

extern "C" __global__ __aicore__ void pipe_buffer_count_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    TBuf<TPosition::VECIN> extra;
    pipe.InitBuffer(que, 64, 32);
    pipe.InitBuffer(extra, 32);  // the 65th buffer
}

// ---- alignment ----

extern "C" __global__ __aicore__ void datacopy_unaligned_kernel(GM_ADDR x)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, kElems * sizeof(half));
    GlobalTensor<half> xGm;
    xGm.SetGlobalBuffer((__gm__ half *)x, kElems);
    LocalTensor<half> local = que.AllocTensor<half>();
    DataCopy(local[1], xGm, 16);  // UB offset 2 B
    que.FreeTensor(local);
}

extern "C" __global__ __aicore__ void datacopypad_unaligned_kernel(GM_ADDR x)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, kElems * sizeof(half));
    GlobalTensor<half> xGm;
    xGm.SetGlobalBuffer((__gm__ half *)x, kElems);
    LocalTensor<half> local = que.AllocTensor<half>();
    DataCopyPad(local[3], xGm, DataCopyExtParams(1, 20, 0, 0, 0), DataCopyPadExtParams<half>(false, 0, 0, 0));
    que.FreeTensor(local);
}

extern "C" __global__ __aicore__ void vector_unaligned_kernel(GM_ADDR)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    Duplicate(local[1], int32_t(5), 8);  // UB offset 4 B
}

// ---- DataCopy length ----

extern "C" __global__ __aicore__ void datacopy_length_kernel(GM_ADDR x)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, kElems * sizeof(half));
    GlobalTensor<half> xGm;
    xGm.SetGlobalBuffer((__gm__ half *)x, kElems);
    LocalTensor<half> local = que.AllocTensor<half>();
    DataCopy(local, xGm, 15);  // 30 B
    que.FreeTensor(local);
}

// ---- DataCopyPad parameter ranges ----

void PadIn(const DataCopyExtParams &params, const DataCopyPadExtParams<half> &pad, uint32_t ubBytes, GM_ADDR x,
           uint64_t gmElems)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, ubBytes);
    GlobalTensor<half> xGm;
    xGm.SetGlobalBuffer((__gm__ half *)x, gmElems);
    LocalTensor<half> local = que.AllocTensor<half>();
    DataCopyPad(local, xGm, params, pad);
    que.FreeTensor(local);
}

extern "C" __global__ __aicore__ void pad_block_count_kernel(GM_ADDR x)
{
    PadIn(DataCopyExtParams(4096, 2, 0, 0, 0), DataCopyPadExtParams<half>(), 1024, x, kElems);
}

extern "C" __global__ __aicore__ void pad_block_len_kernel(GM_ADDR x)
{
    PadIn(DataCopyExtParams(1, 2097160, 0, 0, 0), DataCopyPadExtParams<half>(), 1024, x, kElems);
}

extern "C" __global__ __aicore__ void pad_block_len_multiple_kernel(GM_ADDR x)
{
    PadIn(DataCopyExtParams(1, 3, 0, 0, 0), DataCopyPadExtParams<half>(), 1024, x, kElems);
}

extern "C" __global__ __aicore__ void pad_padding_kernel(GM_ADDR x)
{
    PadIn(DataCopyExtParams(1, 32, 0, 0, 0), DataCopyPadExtParams<half>(true, 17, 0, 0), 1024, x, kElems);
}

extern "C" __global__ __aicore__ void pad_ub_footprint_kernel(GM_ADDR x)
{
    // Two blocks of 500 B each occupy 512 B in UB: 1024 B > the 544 B buffer.
    PadIn(DataCopyExtParams(2, 500, 0, 0, 0), DataCopyPadExtParams<half>(), 544, x, kElems);
}

// ---- GM bounds ----

extern "C" __global__ __aicore__ void gm_bounds_dma_kernel(GM_ADDR x)
{
    PadIn(DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<half>(), 1024, x, 16);  // 64 B from a 32 B tensor
}

extern "C" __global__ __aicore__ void gm_bounds_scalar_kernel(GM_ADDR x)
{
    GlobalTensor<half> xGm;
    xGm.SetGlobalBuffer((__gm__ half *)x, 16);
    volatile float value = xGm.GetValue(16);
    (void)value;
}

alignas(32) uint8_t g_unregisteredHostBuffer[1024];  // plain host memory, never registered as GM

extern "C" __global__ __aicore__ void gm_unregistered_kernel(GM_ADDR)
{
    GM_ADDR x = g_unregisteredHostBuffer;
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, 1024);
    GlobalTensor<half> xGm;
    xGm.SetGlobalBuffer((__gm__ half *)x);  // no size: only the registered regions bound it
    LocalTensor<half> local = que.AllocTensor<half>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<half>());
    que.FreeTensor(local);
}

extern "C" __global__ __aicore__ void gm_unregistered_scalar_kernel(GM_ADDR x)
{
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x);
    xGm.SetValue(kElems / 2 + 1, 7);  // one element past the 512 B GmAlloc
}

// ---- UB bounds ----

extern "C" __global__ __aicore__ void ub_bounds_scalar_kernel(GM_ADDR)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 64);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    local.SetValue(16, 1);  // bytes 64..67 of a 64 B buffer
}

extern "C" __global__ __aicore__ void ub_bounds_vector_kernel(GM_ADDR)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 64);
    LocalTensor<float> local = buf.Get<float>();
    Duplicate(local, 1.0f, 17);
}

// ---- queues ----

extern "C" __global__ __aicore__ void queue_enque_full_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECOUT, 1> que;
    pipe.InitBuffer(que, 2, 64);
    LocalTensor<int32_t> a = que.AllocTensor<int32_t>();
    LocalTensor<int32_t> b = que.AllocTensor<int32_t>();
    que.EnQue(a);
    que.EnQue(b);  // depth 1
}

extern "C" __global__ __aicore__ void queue_deque_empty_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 2> que;
    pipe.InitBuffer(que, 2, 64);
    LocalTensor<int32_t> a = que.DeQue<int32_t>();
    (void)a;
}

extern "C" __global__ __aicore__ void queue_free_foreign_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> in;
    TQue<TPosition::VECOUT, 1> out;
    pipe.InitBuffer(in, 1, 64);
    pipe.InitBuffer(out, 1, 64);
    LocalTensor<int32_t> a = in.AllocTensor<int32_t>();
    out.FreeTensor(a);
}

extern "C" __global__ __aicore__ void queue_alloc_exhausted_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 2> que;
    pipe.InitBuffer(que, 2, 64);
    LocalTensor<int32_t> a = que.AllocTensor<int32_t>();
    LocalTensor<int32_t> b = que.AllocTensor<int32_t>();
    LocalTensor<int32_t> c = que.AllocTensor<int32_t>();
    (void)a;
    (void)b;
    (void)c;
}

// ---- flags ----

extern "C" __global__ __aicore__ void flag_double_set_kernel(GM_ADDR)
{
    SetFlag<HardEvent::MTE2_S>(0);
    SetFlag<HardEvent::MTE2_S>(0);
}

extern "C" __global__ __aicore__ void flag_wait_without_set_kernel(GM_ADDR) { WaitFlag<HardEvent::V_MTE3>(1); }

extern "C" __global__ __aicore__ void flag_unmatched_at_end_kernel(GM_ADDR) { SetFlag<HardEvent::S_MTE3>(2); }

extern "C" __global__ __aicore__ void flag_id_range_kernel(GM_ADDR) { SetFlag<HardEvent::MTE2_V>(9); }

extern "C" __global__ __aicore__ void flag_id_reserved_kernel(GM_ADDR) { SetFlag<HardEvent::MTE2_V>(EVENT_ID6); }

// ---- hazards ----

extern "C" __global__ __aicore__ void hazard_mte2_s_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    volatile int32_t value = local.GetValue(3);  // no WaitFlag<MTE2_S>
    (void)value;
}

extern "C" __global__ __aicore__ void hazard_flag_before_dma_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    SetFlag<HardEvent::MTE2_S>(0);  // set before the DMA: does not cover it
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    WaitFlag<HardEvent::MTE2_S>(0);
    volatile int32_t value = local.GetValue(0);
    (void)value;
}

extern "C" __global__ __aicore__ void hazard_mte2_v_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    Adds(local, local, int32_t(1), 16);  // no WaitFlag<MTE2_V>
}

extern "C" __global__ __aicore__ void hazard_s_mte3_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    for (uint32_t i = 0; i < 8; ++i) {
        local.SetValue(i, static_cast<int32_t>(i));
    }
    DataCopyPad(xGm, local, DataCopyExtParams(1, 32, 0, 0, 0));  // no WaitFlag<S_MTE3>
}

extern "C" __global__ __aicore__ void hazard_v_mte3_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    Duplicate(local, int32_t(4), 8);
    DataCopyPad(xGm, local, DataCopyExtParams(1, 32, 0, 0, 0));  // no WaitFlag<V_MTE3>
}

extern "C" __global__ __aicore__ void hazard_v_s_kernel(GM_ADDR)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    Duplicate(local, int32_t(3), 8);
    volatile int32_t value = local.GetValue(2);  // no WaitFlag<V_S>
    (void)value;
}

// ---- per-pipe queue semantics: a queue orders only the units its positions imply ----

// VECOUT: EnQue/DeQue order V->MTE3, not S->MTE3.
extern "C" __global__ __aicore__ void queue_vecout_s_mte3_kernel(GM_ADDR x)
{
    TPipe pipe;
    TQue<TPosition::VECOUT, 1> que;
    pipe.InitBuffer(que, 1, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = que.AllocTensor<int32_t>();
    for (uint32_t i = 0; i < 8; ++i) {
        local.SetValue(i, static_cast<int32_t>(i));
    }
    que.EnQue(local);
    local = que.DeQue<int32_t>();
    DataCopyPad(xGm, local, DataCopyExtParams(1, 32, 0, 0, 0));  // no SetFlag/WaitFlag<S_MTE3>
    que.FreeTensor(local);
}

// VECIN: EnQue/DeQue order MTE2->V, not MTE2->S.
extern "C" __global__ __aicore__ void queue_vecin_mte2_s_kernel(GM_ADDR x)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = que.AllocTensor<int32_t>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    que.EnQue(local);
    local = que.DeQue<int32_t>();
    volatile int32_t value = local.GetValue(1);  // no SetFlag/WaitFlag<MTE2_S>
    (void)value;
    que.FreeTensor(local);
}

// TQueBind<VECIN, VECOUT> hands over MTE2 -> MTE3 only: vector work on the tensor needs MTE2_V.
extern "C" __global__ __aicore__ void queue_bind_mte2_v_kernel(GM_ADDR x)
{
    TPipe pipe;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, 1> que;
    pipe.InitBuffer(que, 1, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = que.AllocTensor<int32_t>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    que.EnQue(local);
    local = que.DeQue<int32_t>();
    Adds(local, local, int32_t(1), 16);  // no SetFlag/WaitFlag<MTE2_V>
    que.FreeTensor(local);
}

// ---- write-after-read and write-after-write hazards ----

// MTE2 refills a buffer MTE3 may still be copying out (needs MTE3_MTE2).
extern "C" __global__ __aicore__ void war_mte3_mte2_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    SetFlag<HardEvent::MTE2_MTE3>(0);
    WaitFlag<HardEvent::MTE2_MTE3>(0);
    DataCopyPad(xGm[64], local, DataCopyExtParams(1, 64, 0, 0, 0));
    DataCopyPad(local, xGm[16], DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());  // no MTE3_MTE2
}

// A scalar store into a VECOUT buffer whose previous contents MTE3 may still be copying out: the
// queue's AllocTensor orders MTE3 -> V only.
extern "C" __global__ __aicore__ void war_mte3_s_kernel(GM_ADDR x)
{
    TPipe pipe;
    TQue<TPosition::VECOUT, 1> que;
    pipe.InitBuffer(que, 1, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    for (int round = 0; round < 2; ++round) {
        LocalTensor<int32_t> local = que.AllocTensor<int32_t>();
        local.SetValue(0, round);  // round 1: no SetFlag/WaitFlag<MTE3_S>
        SetFlag<HardEvent::S_V>(0);
        WaitFlag<HardEvent::S_V>(0);
        Adds(local[8], local, int32_t(1), 8);
        que.EnQue(local);
        local = que.DeQue<int32_t>();
        DataCopyPad(xGm, local, DataCopyExtParams(1, 64, 0, 0, 0));
        que.FreeTensor(local);
    }
}

// The vector unit overwrites bytes the scalar unit read (needs S_V).
extern "C" __global__ __aicore__ void war_s_v_kernel(GM_ADDR)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 256);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    Duplicate(local, int32_t(3), 16);
    SetFlag<HardEvent::V_S>(0);
    WaitFlag<HardEvent::V_S>(0);
    volatile int32_t value = local.GetValue(5);
    (void)value;
    Duplicate(local, int32_t(4), 16);  // no SetFlag/WaitFlag<S_V>
}

// Two writers: MTE2 fills a buffer while the vector unit may still be writing it (needs V_MTE2).
extern "C" __global__ __aicore__ void waw_v_mte2_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    Duplicate(local, int32_t(0), 64);
    DataCopyPad(local[8], xGm, DataCopyExtParams(1, 32, 0, 0, 0), DataCopyPadExtParams<int32_t>());  // no V_MTE2
}

// dav-c220 CreateVecIndex into a reused VECOUT buffer: its scalar first 32 B race the previous copy
// out, which AllocTensor orders for the vector unit only (the pattern of issue 11 item 1).
extern "C" __global__ __aicore__ void war_create_vec_index_kernel(GM_ADDR x)
{
    TPipe pipe;
    TQue<TPosition::VECOUT, 1> que;
    pipe.InitBuffer(que, 2, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    for (int run = 0; run < 3; ++run) {  // run 2 reuses run 0's buffer
        LocalTensor<int32_t> idx = que.AllocTensor<int32_t>();
        CreateVecIndex(idx, int32_t(run * 16), 16);
        que.EnQue(idx);
        idx = que.DeQue<int32_t>();
        DataCopyPad(xGm[run * 16], idx, DataCopyExtParams(1, 64, 0, 0, 0));
        que.FreeTensor(idx);
    }
}

// ---- DataCopyPad positions (documented per architecture) ----

// GM->UB into a VECCALC tensor: documented on Ascend 950 only (dav-c220: VECIN/VECOUT).
extern "C" __global__ __aicore__ void pad_position_in_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECCALC> buf;
    pipe.InitBuffer(buf, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
}

// UB->GM from a VECCALC tensor: documented from VECIN/VECOUT only, on every architecture.
extern "C" __global__ __aicore__ void pad_position_out_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECCALC> buf;
    pipe.InitBuffer(buf, 256);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    Duplicate(local, int32_t(1), 16);
    PipeBarrier<PIPE_ALL>();
    DataCopyPad(xGm, local, DataCopyExtParams(1, 64, 0, 0, 0));
}

// ---- control: correct code through the same executable must not abort ----

extern "C" __global__ __aicore__ void control_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems / 2);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    SetFlag<HardEvent::MTE2_S>(0);
    WaitFlag<HardEvent::MTE2_S>(0);
    local.SetValue(0, local.GetValue(3) + 1);
    SetFlag<HardEvent::S_MTE3>(0);
    WaitFlag<HardEvent::S_MTE3>(0);
    DataCopyPad(xGm, local, DataCopyExtParams(1, 64, 0, 0, 0));
}

// Tests tiling key 7 only; the case launches it with key 3.
extern "C" __global__ __aicore__ void tiling_key_unmatched_kernel(GM_ADDR x)
{
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, 4);
    if (TILING_KEY_IS(7)) {
        xGm.SetValue(0, 7);
    }
}

struct Case {
    void (*kernel)(GM_ADDR);
    uint32_t blockDim;
    const char *expected;  // the text after "ascendc_cpu: rule violated: "
};

// Cases that run host code instead of a kernel body.
const std::map<std::string, std::string> &HostCases()
{
    static const std::map<std::string, std::string> cases = {
        {"block_idx_outside_launch", "block index: GetBlockIdx called outside a kernel launch"},
        {"launch_zero_blocks", "launch: Launch with blockDim 0"},
    };
    return cases;
}

const std::map<std::string, Case> &Cases()
{
    static const std::map<std::string, Case> cases = {
        {"ub_capacity", {ub_capacity_kernel, 1, "UB capacity: TPipe::InitBuffer(queue) of 1 x 200000 B"}},
        {"ub_capacity_total", {ub_capacity_total_kernel, 2, "UB capacity: TPipe::InitBuffer(TBuf) of 1 x 65537 B (65568 B after 32 B round-up) at UB offset 131072 needs 196640 B > UB size 188160 B"}},
        {"ub_capacity_reserved", {ub_capacity_reserved_kernel, 1, "UB capacity: TPipe::InitBuffer(queue) of 1 x 190000 B (190016 B after 32 B round-up) at UB offset 0 needs 190016 B > UB size 188160 B"}},
        {"pipe_buffer_count", {pipe_buffer_count_kernel, 1, "TPipe buffer count: TPipe::InitBuffer(TBuf) of 1 buffers makes 65 buffers in one TPipe (at most 64)"}},
        {"datacopy_unaligned", {datacopy_unaligned_kernel, 1, "UB alignment: DataCopy(GM->UB) dst operand at UB offset 2 is not 32-byte aligned"}},
        {"datacopypad_unaligned", {datacopypad_unaligned_kernel, 1, "UB alignment: DataCopyPad(GM->UB) dst operand at UB offset 6 is not 32-byte aligned"}},
        {"vector_unaligned", {vector_unaligned_kernel, 1, "UB alignment: Duplicate dst operand at UB offset 4 is not 32-byte aligned"}},
        {"datacopy_length", {datacopy_length_kernel, 1, "DataCopy length: DataCopy(GM->UB) count 15 x 2 B = 30 B is not a multiple of 32 B"}},
        {"pad_block_count", {pad_block_count_kernel, 1, "DataCopyPad params: DataCopyPad(GM->UB) blockCount 4096 > 4095"}},
        {"pad_block_len", {pad_block_len_kernel, 4, "DataCopyPad params: DataCopyPad(GM->UB) blockLen 2097160 > 2097151"}},
        {"pad_block_len_multiple", {pad_block_len_multiple_kernel, 1, "DataCopyPad params: DataCopyPad(GM->UB) blockLen 3 is not a multiple of sizeof(T) = 2"}},
        {"pad_padding", {pad_padding_kernel, 1, "DataCopyPad params: DataCopyPad(GM->UB) padding left 17 / right 0 elements of 2 B exceeds 32 B"}},
        {"pad_ub_footprint", {pad_ub_footprint_kernel, 1, "UB bounds: DataCopyPad(GM->UB) accesses UB [0, 1024) outside its tensor's buffer [0, 544)"}},
        {"gm_bounds_dma", {gm_bounds_dma_kernel, 1, "GM bounds: DataCopyPad(GM->UB) accesses bytes [0, 64) of a GlobalTensor of 32 bytes"}},
        {"gm_bounds_scalar", {gm_bounds_scalar_kernel, 1, "GM bounds: GlobalTensor::GetValue accesses bytes [32, 34) of a GlobalTensor of 32 bytes"}},
        {"gm_unregistered", {gm_unregistered_kernel, 1, "GM unregistered: DataCopyPad(GM->UB) accesses GM"}},
        {"gm_unregistered_scalar", {gm_unregistered_scalar_kernel, 1, "GM unregistered: GlobalTensor::SetValue accesses GM"}},
        {"ub_bounds_scalar", {ub_bounds_scalar_kernel, 1, "UB bounds: LocalTensor::SetValue accesses UB [64, 68) outside its tensor's buffer [0, 64)"}},
        {"ub_bounds_vector", {ub_bounds_vector_kernel, 1, "UB bounds: Duplicate accesses UB [0, 68) outside its tensor's buffer [0, 64)"}},
        {"queue_enque_full", {queue_enque_full_kernel, 1, "queue: TQue::EnQue on a full queue (depth 1, 1 tensors queued)"}},
        {"queue_deque_empty", {queue_deque_empty_kernel, 1, "queue: TQue::DeQue on an empty queue"}},
        {"queue_free_foreign", {queue_free_foreign_kernel, 1, "queue: TQue::FreeTensor of a tensor not allocated from this queue"}},
        {"queue_alloc_exhausted", {queue_alloc_exhausted_kernel, 1, "queue: TQue::AllocTensor with all 2 buffers in use"}},
        {"flag_double_set", {flag_double_set_kernel, 1, "flag: second SetFlag<HardEvent::MTE2_S>(0) before its WaitFlag"}},
        {"flag_wait_without_set", {flag_wait_without_set_kernel, 1, "flag: WaitFlag<HardEvent::V_MTE3>(1) without a pending SetFlag"}},
        {"flag_unmatched_at_end", {flag_unmatched_at_end_kernel, 1, "flag: SetFlag<HardEvent::S_MTE3>(2) was never waited for when the block ended"}},
        {"flag_id_range", {flag_id_range_kernel, 1, "flag: SetFlag<HardEvent::MTE2_V> event id 9 outside 0..7"}},
        {"flag_id_reserved", {flag_id_reserved_kernel, 1, "flag: SetFlag<HardEvent::MTE2_V> event id 6 is reserved"}},
        {"hazard_mte2_s", {hazard_mte2_s_kernel, 1, "hazard: LocalTensor::GetValue reads UB offset 12 written by MTE2 without synchronisation: missing MTE2->S synchronisation"}},
        {"hazard_flag_before_dma", {hazard_flag_before_dma_kernel, 1, "hazard: LocalTensor::GetValue reads UB offset 0 written by MTE2 without synchronisation: missing MTE2->S synchronisation"}},
        {"hazard_mte2_v", {hazard_mte2_v_kernel, 1, "hazard: Adds reads UB offset 0 written by MTE2 without synchronisation: missing MTE2->V synchronisation"}},
        {"hazard_s_mte3", {hazard_s_mte3_kernel, 1, "hazard: DataCopyPad(UB->GM) reads UB offset 0 written by S without synchronisation: missing S->MTE3 synchronisation"}},
        {"hazard_v_mte3", {hazard_v_mte3_kernel, 1, "hazard: DataCopyPad(UB->GM) reads UB offset 0 written by V without synchronisation: missing V->MTE3 synchronisation"}},
        {"hazard_v_s", {hazard_v_s_kernel, 1, "hazard: LocalTensor::GetValue reads UB offset 8 written by V without synchronisation: missing V->S synchronisation"}},
        {"queue_vecout_s_mte3", {queue_vecout_s_mte3_kernel, 1, "hazard: DataCopyPad(UB->GM) reads UB offset 0 written by S without synchronisation: missing S->MTE3 synchronisation"}},
        {"queue_vecin_mte2_s", {queue_vecin_mte2_s_kernel, 1, "hazard: LocalTensor::GetValue reads UB offset 4 written by MTE2 without synchronisation: missing MTE2->S synchronisation"}},
        {"queue_bind_mte2_v", {queue_bind_mte2_v_kernel, 1, "hazard: Adds reads UB offset 0 written by MTE2 without synchronisation: missing MTE2->V synchronisation"}},
        {"war_mte3_mte2", {war_mte3_mte2_kernel, 1, "hazard (write after read): DataCopyPad(GM->UB) writes UB offset 0 that MTE3 may still be reading: missing MTE3->MTE2 synchronisation"}},
        {"war_mte3_s", {war_mte3_s_kernel, 1, "hazard (write after read): LocalTensor::SetValue writes UB offset 0 that MTE3 may still be reading: missing MTE3->S synchronisation"}},
        {"war_s_v", {war_s_v_kernel, 1, "hazard (write after read): Duplicate writes UB offset 20 that S may still be reading: missing S->V synchronisation"}},
        {"waw_v_mte2", {waw_v_mte2_kernel, 1, "hazard (write after write): DataCopyPad(GM->UB) writes UB offset 32 that V may still be writing: missing V->MTE2 synchronisation"}},
        {"war_create_vec_index", {war_create_vec_index_kernel, 1, "hazard (write after read): CreateVecIndex (scalar store) writes UB offset 0 that MTE3 may still be reading: missing MTE3->S synchronisation"}},
        {"pad_position_in", {pad_position_in_kernel, 1, "DataCopyPad position: DataCopyPad(GM->UB) into a VECCALC tensor: dav-c220 (Atlas A2/A3) documents GM->VECIN/VECOUT only"}},
        {"pad_position_out", {pad_position_out_kernel, 1, "DataCopyPad position: DataCopyPad(UB->GM) from a VECCALC tensor: dav-c220 (Atlas A2/A3) documents VECIN/VECOUT->GM only"}},
        {"tiling_key_unmatched", {tiling_key_unmatched_kernel, 1, "tiling key: the launch's tiling key 3 is none of the 1 the kernel tested with TILING_KEY_IS (7)"}},
        {"control", {control_kernel, 3, ""}},
    };
    return cases;
}

// Runs one case in this process: a host-code case, or its kernel through ICPU_RUN_KF.
void RunCase(const std::string &name)
{
    SetKernelMode(KernelMode::AIV_MODE);
    if (name == "block_idx_outside_launch") {
        std::printf("block %d\n", static_cast<int>(GetBlockIdx()));  // host code: no emulated core
        return;
    }
    if (name == "launch_zero_blocks") {
        ascendc_cpu::LaunchConfig config;
        config.blockDim = 0;
        ascendc_cpu::Launch(config, [] {}, nullptr);
        return;
    }
    const Case &c = Cases().at(name);
    ICPU_SET_TILING_KEY(name == "tiling_key_unmatched" ? 3 : 0);
    uint8_t *x = static_cast<uint8_t *>(GmAlloc(kElems * sizeof(half)));
    std::memset(x, 0, kElems * sizeof(half));
    ICPU_RUN_KF(c.kernel, c.blockDim, x);
    GmFree(x);
}

// A rule violation ends the process by abort or by a non-zero exit; a crash (SIGSEGV, ...) fails.
bool EndedByViolation(int status)
{
    const bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    return aborted || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

// The death test's stderr pattern that matches `text` literally.
std::string LiteralPattern(const std::string &text)
{
    std::string out;
    for (char ch : text) {
        if (std::strchr("\\^$.|?*+()[]{}", ch) != nullptr) {
            out += '\\';
        }
        out += ch;
    }
    return out;
}

std::vector<std::string> ViolationCases()
{
    std::vector<std::string> names;
    for (const auto &entry : HostCases()) {
        names.push_back(entry.first);
    }
    for (const auto &entry : Cases()) {
        if (entry.second.expected[0] != '\0') {
            names.push_back(entry.first);
        }
    }
    return names;
}

std::string ExpectedText(const std::string &name)
{
    const auto host = HostCases().find(name);
    return host != HostCases().end() ? host->second : std::string(Cases().at(name).expected);
}

class Violation : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(Violation, AbortsWithTheRuleText)
{
    // Each case's child re-executes this binary, so the emulator's worker threads never cross a fork.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const std::string name = GetParam();
    EXPECT_EXIT(RunCase(name), EndedByViolation,
                LiteralPattern("ascendc_cpu: rule violated: " + ExpectedText(name)));
}

INSTANTIATE_TEST_SUITE_P(EmulatorRules, Violation, ::testing::ValuesIn(ViolationCases()),
                         [](const ::testing::TestParamInfo<std::string> &info) { return info.param; });

TEST(EmulatorRulesControl, CorrectKernelPasses)
{
    RunCase("control");
    SUCCEED();
}
