// Exact per-core instruction counters of the emulator's trace (CoreTrace) on a small kernel whose
// every instruction can be counted by hand, in both modes and on both architectures.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"
#include "tikicpulib.h"
#include "emulator_test_util.h"

using namespace AscendC;
using emulator_test::GmBuffer;

namespace {

constexpr uint32_t kElems = 64;  // int32 elements in x and y (256 B)

// Instruction by instruction (the expected counters in brackets):
//   4 queue ops per queue (AllocTensor, EnQue, DeQue, FreeTensor)                       [queue 8]
//   DataCopyPad GM->UB: 2 bursts of 64 B                                                 [dma 1]
//   SetFlag/WaitFlag<MTE2_S>                                                             [flags 1/1]
//   2 x LocalTensor::GetValue                                                            [S UB reads 2]
//   CreateVecIndex(out, 100, 40) on dav-c220: 8 scalar stores, the S->V fence, then
//   4 one-block Adds (blocks 2..5) each followed by PipeBarrier<PIPE_V>                 [S UB writes 8,
//                                                                                        flags 1/1, V 4, barriers 4]
//   Adds over 40 elements (160 B: 1 repeat), Duplicate of 24 (96 B: 1 repeat)            [V 2]
//   DataCopyPad UB->GM: 1 burst of 256 B                                                 [dma 1]
//   GlobalTensor::GetValue, GlobalTensor::SetValue                                       [S GM 1 + 1]
//   PipeBarrier<PIPE_ALL>                                                                [barriers 1]
extern "C" __global__ __aicore__ void counted_kernel(GM_ADDR x, GM_ADDR y, GM_ADDR z)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> inQue;
    TQue<TPosition::VECOUT, 1> outQue;
    pipe.InitBuffer(inQue, 1, kElems * sizeof(int32_t));
    pipe.InitBuffer(outQue, 1, kElems * sizeof(int32_t));
    GlobalTensor<int32_t> xGm;
    GlobalTensor<int32_t> yGm;
    GlobalTensor<int32_t> zGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, kElems);
    yGm.SetGlobalBuffer((__gm__ int32_t *)y, kElems);
    zGm.SetGlobalBuffer((__gm__ int32_t *)z, 8);

    LocalTensor<int32_t> in = inQue.AllocTensor<int32_t>();
    DataCopyPad(in, xGm, DataCopyExtParams(2, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    inQue.EnQue(in);
    in = inQue.DeQue<int32_t>();
    SetFlag<HardEvent::MTE2_S>(0);
    WaitFlag<HardEvent::MTE2_S>(0);
    const int32_t sum = in.GetValue(0) + in.GetValue(31);  // x[0] + x[31]: the second burst's last element

    LocalTensor<int32_t> out = outQue.AllocTensor<int32_t>();
    CreateVecIndex(out, int32_t(100), 40);
    Adds(out, out, sum, 40);
    Duplicate(out[40], int32_t(7), 24);
    outQue.EnQue(out);
    out = outQue.DeQue<int32_t>();
    DataCopyPad(yGm, out, DataCopyExtParams(1, kElems * sizeof(int32_t), 0, 0, 0));
    outQue.FreeTensor(out);
    inQue.FreeTensor(in);

    zGm.SetValue(0, xGm.GetValue(1));
    PipeBarrier<PIPE_ALL>();
}

// Runs counted_kernel on `blocks` cores and checks the output of every core's (identical) work.
ascendc_cpu::LaunchResult RunCounted(ascendc_cpu::Arch arch, uint32_t blocks, const std::string &chromeTrace = "")
{
    GmBuffer<int32_t> x(kElems);
    GmBuffer<int32_t> y(kElems);
    GmBuffer<int32_t> z(8);
    for (uint32_t i = 0; i < kElems; ++i) {
        x.data[i] = static_cast<int32_t>(3 * i + 5);
    }
    ascendc_cpu::LaunchConfig config;
    config.blockDim = blocks;
    config.collectTrace = true;
    config.arch = arch;
    config.chromeTracePath = chromeTrace;
    ascendc_cpu::LaunchResult result;
    ascendc_cpu::Launch(config, [&] { counted_kernel(x.gm(), y.gm(), z.gm()); }, &result);
    const int32_t sum = x.data[0] + x.data[31];
    for (uint32_t i = 0; i < 40; ++i) {
        EXPECT_EQ(y.data[i], static_cast<int32_t>(100 + i) + sum) << "element " << i;
    }
    for (uint32_t i = 40; i < kElems; ++i) {
        EXPECT_EQ(y.data[i], 7) << "element " << i;
    }
    EXPECT_EQ(z.data[0], x.data[1]);
    return result;
}

void ExpectCommonCounters(const ascendc_cpu::CoreTrace &core)
{
    EXPECT_EQ(core.scalarUbReads, 2u);
    EXPECT_EQ(core.scalarGmReads, 1u);
    EXPECT_EQ(core.scalarGmWrites, 1u);
    EXPECT_EQ(core.queueOps, 8u);
    EXPECT_EQ(core.dmaOps, 2u);
    EXPECT_EQ(core.bytesIn, 128u);
    EXPECT_EQ(core.bytesOut, 256u);
    ASSERT_EQ(core.dma.size(), 2u);
    EXPECT_STREQ(core.dma[0].direction, "GM->UB");
    EXPECT_STREQ(core.dma[0].api, "DataCopyPad");
    EXPECT_EQ(core.dma[0].bytes, 128u);
    EXPECT_EQ(core.dma[0].bursts, 2u);
    EXPECT_EQ(core.dma[0].burstBytes, 64u);
    EXPECT_STREQ(core.dma[1].direction, "UB->GM");
    EXPECT_STREQ(core.dma[1].api, "DataCopyPad");
    EXPECT_EQ(core.dma[1].bytes, 256u);
    EXPECT_EQ(core.dma[1].bursts, 1u);
    EXPECT_EQ(core.dma[1].burstBytes, 256u);
}

TEST(TraceCounters, ExactOnDavC220)
{
    const ascendc_cpu::LaunchResult result = RunCounted(ascendc_cpu::Arch::kDavC220, 3);
    ASSERT_EQ(result.cores.size(), 3u);
    for (const ascendc_cpu::CoreTrace &core : result.cores) {
        ExpectCommonCounters(core);
        EXPECT_EQ(core.scalarUbWrites, 8u);  // CreateVecIndex's first 32 B
        EXPECT_EQ(core.ScalarOps(), 12u);
        EXPECT_EQ(core.vectorOps, 6u);  // 4 Adds inside CreateVecIndex, Adds, Duplicate
        EXPECT_EQ(core.vectorRepeats, 6u);
        EXPECT_EQ(core.setFlags, 2u);  // MTE2_S and CreateVecIndex's S_V fence
        EXPECT_EQ(core.waitFlags, 2u);
        EXPECT_EQ(core.pipeBarriers, 5u);  // 4 PIPE_V inside CreateVecIndex, PIPE_ALL
    }
}

TEST(TraceCounters, CreateVecIndexIsOneVectorInstructionOnDav3510)
{
    const ascendc_cpu::LaunchResult result = RunCounted(ascendc_cpu::Arch::kDav3510, 1);
    ASSERT_EQ(result.cores.size(), 1u);
    const ascendc_cpu::CoreTrace &core = result.cores[0];
    ExpectCommonCounters(core);
    EXPECT_EQ(core.scalarUbWrites, 0u);
    EXPECT_EQ(core.ScalarOps(), 4u);
    EXPECT_EQ(core.vectorOps, 3u);
    EXPECT_EQ(core.vectorRepeats, 3u);
    EXPECT_EQ(core.setFlags, 1u);
    EXPECT_EQ(core.waitFlags, 1u);
    EXPECT_EQ(core.pipeBarriers, 1u);
}

// CreateVecIndex on dav-c220 over several repeats: 8 scalar stores, 7 one-block Adds, then one Adds
// per further full repeat and one for the tail; the values are the same as a direct computation.
extern "C" __global__ __aicore__ void long_index_kernel(GM_ADDR y)
{
    TPipe pipe;
    TQue<TPosition::VECOUT, 1> outQue;
    pipe.InitBuffer(outQue, 1, 1024 * sizeof(int32_t));
    GlobalTensor<int32_t> yGm;
    yGm.SetGlobalBuffer((__gm__ int32_t *)y, 1024);
    LocalTensor<int32_t> out = outQue.AllocTensor<int32_t>();
    CreateVecIndex(out, int32_t(-50), 1000);  // 1000 = 15 repeats of 64 + 40
    outQue.EnQue(out);
    out = outQue.DeQue<int32_t>();
    DataCopyPad(yGm, out, DataCopyExtParams(1, 1000 * sizeof(int32_t), 0, 0, 0));
    outQue.FreeTensor(out);
}

TEST(TraceCounters, CreateVecIndexRepeatsOnDavC220)
{
    GmBuffer<int32_t> y(1024);
    ascendc_cpu::LaunchConfig config;
    config.collectTrace = true;
    ascendc_cpu::LaunchResult result;
    ascendc_cpu::Launch(config, [&] { long_index_kernel(y.gm()); }, &result);
    for (int32_t i = 0; i < 1000; ++i) {
        ASSERT_EQ(y.data[i], i - 50) << "element " << i;
    }
    const ascendc_cpu::CoreTrace &core = result.cores.at(0);
    EXPECT_EQ(core.scalarUbWrites, 8u);
    EXPECT_EQ(core.vectorOps, 7u + 14u + 1u);
    EXPECT_EQ(core.vectorRepeats, 7u + 14u + 1u);  // every Adds writes at most one repeat
    EXPECT_EQ(core.pipeBarriers, 7u + 14u);        // none after the last Adds
    EXPECT_EQ(core.setFlags, 1u);
}

TEST(TraceCounters, ChromeTraceCarriesCountersAndBursts)
{
    const std::string path = "trace_counters_chrome.json";
    RunCounted(ascendc_cpu::Arch::kDavC220, 2, path);
    std::ifstream file(path);
    ASSERT_TRUE(file.good());
    std::stringstream contents;
    contents << file.rdbuf();
    const std::string json = contents.str();
    std::remove(path.c_str());
    for (const char *needle : {"\"name\":\"core 0 counters\"", "\"name\":\"core 1 counters\""}) {
        EXPECT_NE(json.find(needle), std::string::npos) << needle;
    }
    size_t count = 0;
    for (size_t at = json.find("\"scalar_ops\":12,"); at != std::string::npos;
         at = json.find("\"scalar_ops\":12,", at + 1)) {
        ++count;
    }
    EXPECT_EQ(count, 2u);
    EXPECT_NE(json.find("\"bytes\":128,\"bursts\":2,\"burst_bytes\":64"), std::string::npos);
    EXPECT_NE(json.find("\"vector_ops\":6,\"vector_repeats\":6"), std::string::npos);
}

}  // namespace
