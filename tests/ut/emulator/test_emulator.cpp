// Positive behaviour of the emulated Ascend C API: exact DataCopyPad layouts, vector results,
// queues, flags, trace counters, Chrome trace, concurrency, poison.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"
#include "tikicpulib.h"
#include "emulator_test_util.h"

using namespace AscendC;

namespace {

using emulator_test::GmBuffer;

// ---- DataCopyPad layouts ----

constexpr uint32_t kPadBlocks = 3;
constexpr uint32_t kPadBlockElems = 6;  // 12 B of half per block
constexpr uint32_t kPadGmGapElems = 2;  // srcStride 4 B
constexpr uint32_t kPadLeft = 2;
constexpr uint32_t kPadRight = 3;
constexpr uint32_t kPadUbBytes = 256;
constexpr uint32_t kPadOutGapBytes = 2;

// GM -> UB with GM gaps, left/right padding and a one-block UB gap; the whole UB buffer is dumped
// to GM with DataCopy, and the padded blocks are written back with DataCopyPad and a GM gap.
extern "C" __global__ __aicore__ void pad_layout_kernel(GM_ADDR src, GM_ADDR dump, GM_ADDR out)
{
    TPipe pipe;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, 1> que;
    pipe.InitBuffer(que, 1, kPadUbBytes);
    GlobalTensor<half> srcGm;
    GlobalTensor<half> dumpGm;
    GlobalTensor<half> outGm;
    srcGm.SetGlobalBuffer((__gm__ half *)src, kPadBlocks * (kPadBlockElems + kPadGmGapElems));
    dumpGm.SetGlobalBuffer((__gm__ half *)dump, kPadUbBytes / sizeof(half));
    outGm.SetGlobalBuffer((__gm__ half *)out, 64);

    LocalTensor<half> local = que.AllocTensor<half>();
    DataCopyExtParams in(kPadBlocks, kPadBlockElems * sizeof(half), kPadGmGapElems * sizeof(half), 1, 0);
    DataCopyPad(local, srcGm, in, DataCopyPadExtParams<half>(true, kPadLeft, kPadRight, half(7.0f)));
    que.EnQue(local);
    LocalTensor<half> ready = que.DeQue<half>();
    DataCopy(dumpGm, ready, kPadUbBytes / sizeof(half));
    const uint32_t paddedBytes = (kPadLeft + kPadBlockElems + kPadRight) * sizeof(half);  // 22 B
    DataCopyPad(outGm, ready, DataCopyExtParams(kPadBlocks, paddedBytes, 1, kPadOutGapBytes, 0));
    que.FreeTensor(ready);
}

TEST(Emulator, DataCopyPadLayoutExactBytes)
{
    const uint32_t srcElems = kPadBlocks * (kPadBlockElems + kPadGmGapElems);
    GmBuffer<half> src(srcElems);
    GmBuffer<uint8_t> dump(kPadUbBytes);
    GmBuffer<uint8_t> out(128);
    for (uint32_t i = 0; i < srcElems; ++i) {
        src[i] = half(static_cast<float>(100 + i));
    }
    std::memset(out.data, 0x11, 128);
    ICPU_RUN_KF(pad_layout_kernel, 1, src.gm(), dump.gm(), out.gm());

    // UB: block b starts at 64 * b (32 B footprint + 32 B dstStride): 2 pads, 6 data, 3 pads, then
    // untouched (poisoned) bytes up to the next block.
    for (uint32_t b = 0; b < kPadBlocks; ++b) {
        const uint8_t *block = dump.data + 64 * b;
        half values[11];
        std::memcpy(values, block, sizeof(values));
        for (uint32_t i = 0; i < 11; ++i) {
            float expected = 7.0f;
            if (i >= kPadLeft && i < kPadLeft + kPadBlockElems) {
                expected = static_cast<float>(100 + b * (kPadBlockElems + kPadGmGapElems) + (i - kPadLeft));
            }
            EXPECT_EQ(static_cast<float>(values[i]), expected);
        }
        for (uint32_t byte = 22; byte < 64; ++byte) {
            EXPECT_EQ(static_cast<int>(block[byte]), 0xA5);
        }
    }
    // GM: blocks of 22 B separated by 2 B gaps that keep their old contents.
    for (uint32_t b = 0; b < kPadBlocks; ++b) {
        EXPECT_TRUE(std::memcmp(out.data + b * 24, dump.data + 64 * b, 22) == 0);
        EXPECT_EQ(static_cast<int>(out[b * 24 + 22]), 0x11);
        EXPECT_EQ(static_cast<int>(out[b * 24 + 23]), 0x11);
    }
    EXPECT_EQ(static_cast<int>(out[72]), 0x11);
}

// UB -> GM with a UB srcStride: rows of 8 int32 written with a 2-block UB gap between rows.
extern "C" __global__ __aicore__ void pad_out_stride_kernel(GM_ADDR out)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 4 * 96);
    GlobalTensor<int32_t> outGm;
    outGm.SetGlobalBuffer((__gm__ int32_t *)out, 32);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    for (uint32_t row = 0; row < 4; ++row) {
        CreateVecIndex(local[row * 24], static_cast<int32_t>(row * 100), 8);  // 3 blocks per row
    }
    SetFlag<HardEvent::V_MTE3>(0);
    WaitFlag<HardEvent::V_MTE3>(0);
    DataCopyPad(outGm, local, DataCopyExtParams(4, 8 * sizeof(int32_t), 2, 0, 0));
}

TEST(Emulator, DataCopyPadUbSourceStride)
{
    GmBuffer<int32_t> out(32);
    ICPU_RUN_KF(pad_out_stride_kernel, 1, out.gm());
    for (int row = 0; row < 4; ++row) {
        for (int i = 0; i < 8; ++i) {
            EXPECT_EQ(out[row * 8 + i], row * 100 + i);
        }
    }
}

// The older DataCopyParams / DataCopyPadParams forms.
extern "C" __global__ __aicore__ void pad_old_params_kernel(GM_ADDR src, GM_ADDR out)
{
    TPipe pipe;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, 1> que;
    pipe.InitBuffer(que, 1, 128);
    GlobalTensor<int16_t> srcGm;
    GlobalTensor<int16_t> outGm;
    srcGm.SetGlobalBuffer((__gm__ int16_t *)src, 16);
    outGm.SetGlobalBuffer((__gm__ int16_t *)out, 64);
    LocalTensor<int16_t> local = que.AllocTensor<int16_t>();
    DataCopyPad(local, srcGm, DataCopyParams(2, 6, 4, 0), DataCopyPadParams(true, 1, 2, 0x7fff));
    que.EnQue(local);
    local = que.DeQue<int16_t>();
    DataCopy(outGm, local, DataCopyParams(1, 2, 0, 0));  // 2 x 32 B
    que.FreeTensor(local);
}

TEST(Emulator, DataCopyPadOlderParamForms)
{
    GmBuffer<int16_t> src(16);
    GmBuffer<int16_t> out(64);
    for (int i = 0; i < 16; ++i) {
        src[i] = static_cast<int16_t>(i);
    }
    ICPU_RUN_KF(pad_old_params_kernel, 1, src.gm(), out.gm());
    // Block 0 from GM elements 0..2, block 1 from elements 5..7 (3 elements + a 2-element gap).
    const int16_t expected0[6] = {0x7fff, 0, 1, 2, 0x7fff, 0x7fff};
    const int16_t expected1[6] = {0x7fff, 5, 6, 7, 0x7fff, 0x7fff};
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(out[i], expected0[i]);
        EXPECT_EQ(out[16 + i], expected1[i]);
    }
}

// ---- vector ops ----

extern "C" __global__ __aicore__ void vector_kernel(GM_ADDR out)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 1024);
    GlobalTensor<uint8_t> outGm;
    outGm.SetGlobalBuffer((__gm__ uint8_t *)out, 1024);
    LocalTensor<uint8_t> all = buf.Get<uint8_t>();
    LocalTensor<float> filled = all.ReinterpretCast<float>();  // bytes 0..255
    LocalTensor<int32_t> index = all[256].ReinterpretCast<int32_t>();
    LocalTensor<int32_t> shifted = all[512].ReinterpretCast<int32_t>();
    LocalTensor<half> halves = all[768].ReinterpretCast<half>();
    Duplicate(filled, 2.5f, 64);
    CreateVecIndex(index, int32_t(-3), 64);
    Adds(shifted, index, int32_t(1000), 64);
    CreateVecIndex(halves, half(0.5f), 100);
    Adds(halves, halves, half(1.0f), 100);
    SetFlag<HardEvent::V_MTE3>(1);
    WaitFlag<HardEvent::V_MTE3>(1);
    DataCopy(outGm, all, 1024);
}

TEST(Emulator, VectorDuplicateCreateVecIndexAdds)
{
    GmBuffer<uint8_t> out(1024);
    ICPU_RUN_KF(vector_kernel, 1, out.gm());
    for (int i = 0; i < 64; ++i) {
        float f;
        int32_t index;
        int32_t shifted;
        std::memcpy(&f, out.data + 4 * i, 4);
        std::memcpy(&index, out.data + 256 + 4 * i, 4);
        std::memcpy(&shifted, out.data + 512 + 4 * i, 4);
        EXPECT_EQ(f, 2.5f);
        EXPECT_EQ(index, i - 3);
        EXPECT_EQ(shifted, i - 3 + 1000);
    }
    for (int i = 0; i < 100; ++i) {
        half h;
        std::memcpy(&h, out.data + 768 + 2 * i, 2);
        EXPECT_EQ(static_cast<float>(h), 1.5f + static_cast<float>(i));
    }
    EXPECT_EQ(static_cast<int>(out[768 + 200]), 0xA5);  // beyond the 100 halves: never written
}

TEST(Emulator, HalfAndBfloat16Conversions)
{
    EXPECT_EQ(static_cast<float>(half(1.0f)), 1.0f);
    EXPECT_EQ(half(1.0f).bits, 0x3c00);
    EXPECT_EQ(half(-2.0f).bits, 0xc000);
    EXPECT_EQ(half(65504.0f).bits, 0x7bff);
    EXPECT_EQ(half(65520.0f).bits, 0x7c00);
    EXPECT_EQ(half(5.9604645e-8f).bits, 0x0001);
    EXPECT_EQ(static_cast<float>(half(2049.0f)), 2048.0f);  // ties to even
    EXPECT_EQ(bfloat16_t(1.0f).bits, 0x3f80);
    EXPECT_EQ(static_cast<float>(bfloat16_t(3.0f)), 3.0f);
}

// ---- queues: depth 2 double buffering ----

constexpr uint32_t kChunkElems = 64;
constexpr uint32_t kChunks = 10;

extern "C" __global__ __aicore__ void double_buffer_kernel(GM_ADDR src, GM_ADDR dst)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 2> inQue;
    TQue<TPosition::VECOUT, 2> outQue;
    pipe.InitBuffer(inQue, 2, kChunkElems * sizeof(int32_t));
    pipe.InitBuffer(outQue, 2, kChunkElems * sizeof(int32_t));
    GlobalTensor<int32_t> srcGm;
    GlobalTensor<int32_t> dstGm;
    const uint64_t perCore = static_cast<uint64_t>(kChunkElems) * kChunks;
    srcGm.SetGlobalBuffer((__gm__ int32_t *)src + GetBlockIdx() * perCore, perCore);
    dstGm.SetGlobalBuffer((__gm__ int32_t *)dst + GetBlockIdx() * perCore, perCore);
    // Prefetch two chunks so that both buffers are in flight, then stream.
    uint32_t loaded = 0;
    auto copyIn = [&](uint32_t chunk) {
        LocalTensor<int32_t> in = inQue.AllocTensor<int32_t>();
        DataCopy(in, srcGm[chunk * kChunkElems], kChunkElems);
        inQue.EnQue(in);
    };
    for (; loaded < 2; ++loaded) {
        copyIn(loaded);
    }
    for (uint32_t chunk = 0; chunk < kChunks; ++chunk) {
        LocalTensor<int32_t> in = inQue.DeQue<int32_t>();
        LocalTensor<int32_t> out = outQue.AllocTensor<int32_t>();
        Adds(out, in, static_cast<int32_t>(GetBlockIdx() * 1000000), kChunkElems);
        outQue.EnQue(out);
        inQue.FreeTensor(in);
        if (loaded < kChunks) {
            copyIn(loaded++);
        }
        out = outQue.DeQue<int32_t>();
        DataCopy(dstGm[chunk * kChunkElems], out, kChunkElems);
        outQue.FreeTensor(out);
    }
}

TEST(Emulator, QueueDepthTwoDoubleBuffering)
{
    const uint32_t blocks = 4;
    const size_t total = static_cast<size_t>(blocks) * kChunkElems * kChunks;
    GmBuffer<int32_t> src(total);
    GmBuffer<int32_t> dst(total);
    for (size_t i = 0; i < total; ++i) {
        src[i] = static_cast<int32_t>(i);
    }
    ICPU_RUN_KF(double_buffer_kernel, blocks, src.gm(), dst.gm());
    bool allMatch = true;
    for (size_t i = 0; i < total; ++i) {
        const int32_t block = static_cast<int32_t>(i / (kChunkElems * kChunks));
        allMatch = allMatch && dst[i] == static_cast<int32_t>(i) + block * 1000000;
    }
    EXPECT_TRUE(allMatch);
}

// ---- SetFlag / WaitFlag pairing and PipeBarrier ----

extern "C" __global__ __aicore__ void flag_pairing_kernel(GM_ADDR data)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 256);
    GlobalTensor<int32_t> gm;
    gm.SetGlobalBuffer((__gm__ int32_t *)data, 16);
    LocalTensor<int32_t> local = buf.Get<int32_t>();

    DataCopyPad(local, gm, DataCopyExtParams(1, 16 * sizeof(int32_t), 0, 0, 0), DataCopyPadExtParams<int32_t>());
    SetFlag<HardEvent::MTE2_S>(EVENT_ID0);
    WaitFlag<HardEvent::MTE2_S>(EVENT_ID0);
    int32_t sum = 0;
    for (uint32_t i = 0; i < 16; ++i) {
        sum += local.GetValue(i);
    }
    local.SetValue(0, sum);
    SetFlag<HardEvent::S_MTE3>(EVENT_ID1);
    WaitFlag<HardEvent::S_MTE3>(EVENT_ID1);
    DataCopyPad(gm, local, DataCopyExtParams(1, sizeof(int32_t), 0, 0, 0));

    // Transitive: MTE2 -> V, then V -> S makes the DMA'd data visible to the scalar unit.
    SetFlag<HardEvent::MTE3_MTE2>(EVENT_ID2);
    WaitFlag<HardEvent::MTE3_MTE2>(EVENT_ID2);
    DataCopyPad(local, gm, DataCopyExtParams(1, 16 * sizeof(int32_t), 0, 0, 0), DataCopyPadExtParams<int32_t>());
    SetFlag<HardEvent::MTE2_V>(EVENT_ID3);
    WaitFlag<HardEvent::MTE2_V>(EVENT_ID3);
    Adds(local, local, int32_t(1), 16);
    SetFlag<HardEvent::V_S>(EVENT_ID4);
    WaitFlag<HardEvent::V_S>(EVENT_ID4);
    const int32_t second = local.GetValue(1);

    // PipeBarrier<PIPE_ALL> synchronises everything.
    local.SetValue(8, second * 10);
    PipeBarrier<PIPE_ALL>();
    DataCopyPad(gm[1], local[8], DataCopyExtParams(1, sizeof(int32_t), 0, 0, 0));
}

TEST(Emulator, SetFlagWaitFlagPairing)
{
    GmBuffer<int32_t> data(16);
    for (int i = 0; i < 16; ++i) {
        data[i] = i;
    }
    ICPU_RUN_KF(flag_pairing_kernel, 1, data.gm());
    EXPECT_EQ(data[0], 120);
    EXPECT_EQ(data[1], (1 + 1) * 10);
    EXPECT_EQ(data[2], 2);
}

// ---- trace ----

extern "C" __global__ __aicore__ void trace_kernel(GM_ADDR src, GM_ADDR dst)
{
    TPipe pipe;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, 2> que;
    TBuf<TPosition::VECIN> extra;
    pipe.InitBuffer(que, 2, 1000);  // 2 x 1024 B after round-up
    pipe.InitBuffer(extra, 100);    // 128 B
    GlobalTensor<uint8_t> srcGm;
    GlobalTensor<uint8_t> dstGm;
    srcGm.SetGlobalBuffer((__gm__ uint8_t *)src + GetBlockIdx() * 1500, 1500);
    dstGm.SetGlobalBuffer((__gm__ uint8_t *)dst + GetBlockIdx() * 1500, 1500);
    for (uint32_t part = 0; part < 3; ++part) {  // 3 x 500 B in, 3 x 500 B out
        LocalTensor<uint8_t> local = que.AllocTensor<uint8_t>();
        DataCopyPad(local, srcGm[part * 500], DataCopyExtParams(1, 500, 0, 0, 0), DataCopyPadExtParams<uint8_t>());
        que.EnQue(local);
        local = que.DeQue<uint8_t>();
        DataCopyPad(dstGm[part * 500], local, DataCopyExtParams(1, 500, 0, 0, 0));
        que.FreeTensor(local);
    }
}

TEST(Emulator, TraceCountersExact)
{
    const uint32_t blocks = 5;
    GmBuffer<uint8_t> src(1500 * blocks);
    GmBuffer<uint8_t> dst(1500 * blocks);
    for (size_t i = 0; i < src.count; ++i) {
        src[i] = static_cast<uint8_t>(i * 7);
    }
    ascendc_cpu::LaunchConfig config;
    config.blockDim = blocks;
    config.collectTrace = true;
    ascendc_cpu::LaunchResult result;
    ascendc_cpu::Launch(config, [&] { trace_kernel(src.gm(), dst.gm()); }, &result);
    EXPECT_TRUE(std::memcmp(src.data, dst.data, src.count) == 0);
    ASSERT_TRUE(result.cores.size() == blocks);
    for (const ascendc_cpu::CoreTrace &core : result.cores) {
        EXPECT_EQ(core.bytesIn, 1500u);
        EXPECT_EQ(core.bytesOut, 1500u);
        EXPECT_EQ(core.dmaOps, 6u);
        EXPECT_EQ(core.ubHighWater, 2048u + 128u);
    }
}

// A minimal JSON syntax checker (objects, arrays, strings, numbers, literals).
class JsonChecker {
public:
    explicit JsonChecker(const std::string &text) : s_(text) {}
    bool Valid()
    {
        SkipSpace();
        if (!Value()) {
            return false;
        }
        SkipSpace();
        return pos_ == s_.size();
    }

private:
    void SkipSpace()
    {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
            ++pos_;
        }
    }
    bool Eat(char c)
    {
        SkipSpace();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool String()
    {
        if (!Eat('"')) {
            return false;
        }
        while (pos_ < s_.size() && s_[pos_] != '"') {
            pos_ += s_[pos_] == '\\' ? 2 : 1;
        }
        return pos_++ < s_.size();
    }
    bool Number()
    {
        const size_t start = pos_;
        while (pos_ < s_.size() && std::strchr("+-0123456789.eE", s_[pos_]) != nullptr) {
            ++pos_;
        }
        return pos_ > start;
    }
    bool Value()
    {
        SkipSpace();
        if (pos_ >= s_.size()) {
            return false;
        }
        const char c = s_[pos_];
        if (c == '{') {
            ++pos_;
            if (Eat('}')) {
                return true;
            }
            do {
                if (!String() || !Eat(':') || !Value()) {
                    return false;
                }
            } while (Eat(','));
            return Eat('}');
        }
        if (c == '[') {
            ++pos_;
            if (Eat(']')) {
                return true;
            }
            do {
                if (!Value()) {
                    return false;
                }
            } while (Eat(','));
            return Eat(']');
        }
        if (c == '"') {
            return String();
        }
        for (const char *literal : {"true", "false", "null"}) {
            if (s_.compare(pos_, std::strlen(literal), literal) == 0) {
                pos_ += std::strlen(literal);
                return true;
            }
        }
        return Number();
    }
    const std::string &s_;
    size_t pos_ = 0;
};

size_t CountOccurrences(const std::string &text, const std::string &needle)
{
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

TEST(Emulator, ChromeTraceIsValidJson)
{
    const uint32_t blocks = 3;
    GmBuffer<uint8_t> src(1500 * blocks);
    GmBuffer<uint8_t> dst(1500 * blocks);
    std::memset(src.data, 1, src.count);
    const std::string path = "emulator_chrome_trace_test.json";
    ascendc_cpu::LaunchConfig config;
    config.blockDim = blocks;
    config.chromeTracePath = path;
    ascendc_cpu::Launch(config, [&] { trace_kernel(src.gm(), dst.gm()); }, nullptr);
    std::ifstream file(path);
    ASSERT_TRUE(file.good());
    std::stringstream contents;
    contents << file.rdbuf();
    const std::string json = contents.str();
    EXPECT_TRUE(JsonChecker(json).Valid());
    EXPECT_EQ(CountOccurrences(json, "\"ph\":\"X\""), static_cast<size_t>(6 * blocks));
    EXPECT_EQ(CountOccurrences(json, "\"direction\":\"GM->UB\""), static_cast<size_t>(3 * blocks));
    EXPECT_EQ(CountOccurrences(json, "\"bytes\":500"), static_cast<size_t>(6 * blocks));
    for (uint32_t core = 0; core < blocks; ++core) {
        EXPECT_TRUE(json.find("\"tid\":" + std::to_string(core) + ",\"ts\"") != std::string::npos);
    }
    std::remove(path.c_str());
}

// ---- concurrency and launch forms ----

TEST(Emulator, ConcurrentLaunchFromFourHostThreads)
{
    const uint32_t blocks = 4;
    const size_t total = static_cast<size_t>(blocks) * kChunkElems * kChunks;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            GmBuffer<int32_t> src(total);
            GmBuffer<int32_t> dst(total);
            for (int round = 0; round < 20; ++round) {
                for (size_t i = 0; i < total; ++i) {
                    src[i] = static_cast<int32_t>(i) * (t + 1) + round;
                }
                ascendc_cpu::LaunchConfig config;
                config.blockDim = blocks;
                ascendc_cpu::Launch(config, [&] { double_buffer_kernel(src.gm(), dst.gm()); }, nullptr);
                for (size_t i = 0; i < total; ++i) {
                    const int32_t block = static_cast<int32_t>(i / (kChunkElems * kChunks));
                    if (dst[i] != src[i] + block * 1000000) {
                        ++failures;
                        break;
                    }
                }
            }
        });
    }
    for (std::thread &thread : threads) {
        thread.join();
    }
    EXPECT_EQ(failures.load(), 0);
}

TEST(Emulator, SequentialLaunchAndThreadCount)
{
    const uint32_t saved = ascendc_cpu::GetThreadCount();
    ascendc_cpu::SetThreadCount(3);
    EXPECT_EQ(ascendc_cpu::GetThreadCount(), 3u);
    const uint32_t blocks = 6;
    const size_t total = static_cast<size_t>(blocks) * kChunkElems * kChunks;
    GmBuffer<int32_t> src(total);
    GmBuffer<int32_t> dst(total);
    for (size_t i = 0; i < total; ++i) {
        src[i] = static_cast<int32_t>(i);
    }
    for (bool sequential : {true, false}) {
        std::memset(dst.data, 0, total * sizeof(int32_t));
        ascendc_cpu::LaunchConfig config;
        config.blockDim = blocks;
        config.sequential = sequential;
        ascendc_cpu::Launch(config, [&] { double_buffer_kernel(src.gm(), dst.gm()); }, nullptr);
        EXPECT_EQ(dst[total - 1], static_cast<int32_t>(total - 1) + 5 * 1000000);
    }
    ascendc_cpu::SetThreadCount(saved);
}

TEST(Emulator, GmAllocIsAlignedAndRegistered)
{
    for (size_t size : {1u, 31u, 32u, 1000u, 65536u}) {
        void *memory = GmAlloc(size);
        EXPECT_TRUE(reinterpret_cast<uintptr_t>(memory) % 32 == 0);
        std::memset(memory, 0, size);
        GmFree(memory);
    }
    GmFree(nullptr);
    // A host buffer registered through the runtime API is usable as GM.
    alignas(32) int32_t host[16] = {};
    ascendc_cpu::ScopedGm registered(host, sizeof(host));
    ICPU_RUN_KF(flag_pairing_kernel, 1, reinterpret_cast<GM_ADDR>(host));
    EXPECT_EQ(host[0], 0);
    EXPECT_EQ(host[1], 10);
}

extern "C" __global__ __aicore__ void block_index_kernel(GM_ADDR out)
{
    GlobalTensor<int32_t> outGm;
    outGm.SetGlobalBuffer((__gm__ int32_t *)out, 2 * 48);
    outGm.SetValue(2 * GetBlockIdx(), static_cast<int32_t>(GetBlockIdx()));
    outGm.SetValue(2 * GetBlockIdx() + 1, static_cast<int32_t>(GetBlockNum()));
}

TEST(Emulator, IcpuRunKfWithBlockDim48)
{
    GmBuffer<int32_t> out(2 * 48);
    std::memset(out.data, 0xff, 2 * 48 * sizeof(int32_t));
    SetKernelMode(KernelMode::AIV_MODE);
    ICPU_RUN_KF(block_index_kernel, 48, out.gm());
    for (int b = 0; b < 48; ++b) {
        EXPECT_EQ(out[2 * b], b);
        EXPECT_EQ(out[2 * b + 1], 48);
    }
}

// ---- poisoned UB ----

extern "C" __global__ __aicore__ void poison_kernel(GM_ADDR out)
{
    TPipe pipe;
    TBuf<TPosition::VECIN> buf;
    pipe.InitBuffer(buf, 256);
    GlobalTensor<uint8_t> outGm;
    outGm.SetGlobalBuffer((__gm__ uint8_t *)out, 256);
    DataCopy(outGm, buf.Get<uint8_t>(), 256);  // never written: legal, shows the poison
}

TEST(Emulator, PoisonedUbVisibleThroughDma)
{
    GmBuffer<uint8_t> out(256);
    GmBuffer<uint8_t> scratch(1024);
    std::memset(out.data, 0, 256);
    for (int launch = 0; launch < 2; ++launch) {  // poisoned again on every launch
        ICPU_RUN_KF(poison_kernel, 2, out.gm());
        bool allPoison = true;
        for (int i = 0; i < 256; ++i) {
            allPoison = allPoison && out[i] == 0xA5;
        }
        EXPECT_TRUE(allPoison);
        ICPU_RUN_KF(vector_kernel, 1, scratch.gm());  // writes UB in between
    }
}

// ---- tiling ----

struct DemoTiling {
    int32_t rows;
    int32_t cols;
};

extern "C" __global__ __aicore__ void tiling_kernel(GM_ADDR out, GM_ADDR tiling)
{
    REGISTER_TILING_DEFAULT(DemoTiling);
    GET_TILING_DATA(tilingData, tiling);
    GET_TILING_DATA_WITH_STRUCT(DemoTiling, again, tiling);
    GlobalTensor<int32_t> outGm;
    outGm.SetGlobalBuffer((__gm__ int32_t *)out, 4);
    outGm.SetValue(0, tilingData.rows * again.cols);
    if (TILING_KEY_IS(7)) {
        outGm.SetValue(1, 7);
    } else {
        outGm.SetValue(1, 0);
    }
}

TEST(Emulator, TilingMacrosAndTilingKey)
{
    GmBuffer<int32_t> out(4);
    GmBuffer<DemoTiling> tiling(1);
    tiling[0] = DemoTiling{6, 7};
    ICPU_SET_TILING_KEY(7);
    ICPU_RUN_KF(tiling_kernel, 1, out.gm(), tiling.gm());
    EXPECT_EQ(out[0], 42);
    EXPECT_EQ(out[1], 7);
    // Another key: no kernel for it (case tiling_key_unmatched of the rule tests). A launch's own key
    // wins over the thread's.
    ICPU_SET_TILING_KEY(1);
    out[1] = 0;
    ascendc_cpu::LaunchConfig config;
    config.tilingKey = 7;
    ascendc_cpu::Launch(config, [&] { tiling_kernel(out.gm(), tiling.gm()); }, nullptr);
    EXPECT_EQ(out[1], 7);
    ICPU_SET_TILING_KEY(0);
}

// ---- a large copy through UB ----

extern "C" __global__ __aicore__ void bandwidth_kernel(GM_ADDR src, GM_ADDR dst, uint64_t bytesPerCore)
{
    TPipe pipe;
    TQueBind<TPosition::VECIN, TPosition::VECOUT, 2> que;
    const uint32_t chunk = 90 * 1024;  // two of them within the 188160 B of the default platform
    pipe.InitBuffer(que, 2, chunk);
    GlobalTensor<uint8_t> srcGm;
    GlobalTensor<uint8_t> dstGm;
    srcGm.SetGlobalBuffer((__gm__ uint8_t *)src + GetBlockIdx() * bytesPerCore, bytesPerCore);
    dstGm.SetGlobalBuffer((__gm__ uint8_t *)dst + GetBlockIdx() * bytesPerCore, bytesPerCore);
    for (uint64_t done = 0; done < bytesPerCore; done += chunk) {
        const uint32_t bytes = static_cast<uint32_t>(bytesPerCore - done < chunk ? bytesPerCore - done : chunk);
        LocalTensor<uint8_t> local = que.AllocTensor<uint8_t>();
        DataCopyPad(local, srcGm[done], DataCopyExtParams(1, bytes, 0, 0, 0), DataCopyPadExtParams<uint8_t>());
        que.EnQue(local);
        local = que.DeQue<uint8_t>();
        DataCopyPad(dstGm[done], local, DataCopyExtParams(1, bytes, 0, 0, 0));
        que.FreeTensor(local);
    }
}

TEST(Emulator, LargeCopyThroughUb)
{
    // 8 MiB through UB in ~96 KiB pieces over 8 blocks, every rule on: every byte arrives.
    const uint64_t total = 8ull << 20;
    const uint32_t blocks = 8;
    GmBuffer<uint8_t> src(total);
    GmBuffer<uint8_t> dst(total);
    for (uint64_t i = 0; i < total; ++i) {
        src.data[i] = static_cast<uint8_t>(i * 131 + (i >> 13));
    }
    std::memset(dst.data, 0, total);
    ascendc_cpu::LaunchConfig config;
    config.blockDim = blocks;
    ascendc_cpu::Launch(config, [&] { bandwidth_kernel(src.gm(), dst.gm(), total / blocks); }, nullptr);
    EXPECT_EQ(std::memcmp(dst.data, src.data, total), 0);
}

}  // namespace
