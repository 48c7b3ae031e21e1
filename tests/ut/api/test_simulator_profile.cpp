// The simulator profile (docs/profiling.md): the emulator's instruction records attributed to the
// kernel source line of each Ascend C call, the time model applied per instruction (its costs add
// up to Evaluate's pipe terms, its cycles to the pipe's whole cycles) and the files written.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ascendc_cpu/runtime.h"
#include "kernel_operator.h"
#include "simulator_profile.h"
#include "time_model.h"

using namespace AscendC;
using ascendc_cpu::InstrKind;
using ascendc_cpu::InstrRecord;

namespace {

constexpr uint32_t kElems = 64;  // int32 elements of x and y (256 B)

// The line of each call, written by the kernel itself (one block, so no race).
struct CallLines {
    uint32_t allocIn, copyIn, enqueIn, dequeIn, setFlag, waitFlag, getValues, allocOut, vecIndex, adds, duplicate,
        enqueOut, dequeOut, copyOut, freeOut, freeIn, gmAccess, barrier;
};
CallLines g_lines;

extern "C" __global__ __aicore__ void recorded_kernel(GM_ADDR x, GM_ADDR y, GM_ADDR z)
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

    g_lines.allocIn = __LINE__ + 1;
    LocalTensor<int32_t> in = inQue.AllocTensor<int32_t>();
    g_lines.copyIn = __LINE__ + 1;
    DataCopyPad(in, xGm, DataCopyExtParams(2, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
    g_lines.enqueIn = __LINE__ + 1;
    inQue.EnQue(in);
    g_lines.dequeIn = __LINE__ + 1;
    in = inQue.DeQue<int32_t>();
    g_lines.setFlag = __LINE__ + 1;
    SetFlag<HardEvent::MTE2_S>(0);
    g_lines.waitFlag = __LINE__ + 1;
    WaitFlag<HardEvent::MTE2_S>(0);
    g_lines.getValues = __LINE__ + 1;
    const int32_t sum = in.GetValue(0) + in.GetValue(31);

    g_lines.allocOut = __LINE__ + 1;
    LocalTensor<int32_t> out = outQue.AllocTensor<int32_t>();
    g_lines.vecIndex = __LINE__ + 1;
    CreateVecIndex(out, int32_t(100), 40);
    g_lines.adds = __LINE__ + 1;
    Adds(out, out, sum, 40);
    g_lines.duplicate = __LINE__ + 1;
    Duplicate(out[40], int32_t(7), 24);
    g_lines.enqueOut = __LINE__ + 1;
    outQue.EnQue(out);
    g_lines.dequeOut = __LINE__ + 1;
    out = outQue.DeQue<int32_t>();
    g_lines.copyOut = __LINE__ + 1;
    DataCopyPad(yGm, out, DataCopyExtParams(1, kElems * sizeof(int32_t), 0, 0, 0));
    g_lines.freeOut = __LINE__ + 1;
    outQue.FreeTensor(out);
    g_lines.freeIn = __LINE__ + 1;
    inQue.FreeTensor(in);
    g_lines.gmAccess = __LINE__ + 1;
    zGm.SetValue(0, xGm.GetValue(1));
    g_lines.barrier = __LINE__ + 1;
    PipeBarrier<PIPE_ALL>();
}

struct Buffers {
    std::vector<int32_t> x = std::vector<int32_t>(kElems, 3);
    std::vector<int32_t> y = std::vector<int32_t>(kElems, 0);
    std::vector<int32_t> z = std::vector<int32_t>(8, 0);
};

ascendc_cpu::CoreTrace RunKernel(bool instructions)
{
    Buffers b;
    ascendc_cpu::ScopedGm gx(b.x.data(), b.x.size() * sizeof(int32_t));
    ascendc_cpu::ScopedGm gy(b.y.data(), b.y.size() * sizeof(int32_t));
    ascendc_cpu::ScopedGm gz(b.z.data(), b.z.size() * sizeof(int32_t));
    ascendc_cpu::LaunchConfig config;
    config.blockDim = 1;
    config.collectTrace = true;
    config.collectInstructions = instructions;
    config.arch = ascendc_cpu::Arch::kDavC220;
    ascendc_cpu::LaunchResult result;
    ascendc_cpu::Launch(
        config,
        [&] {
            recorded_kernel(reinterpret_cast<GM_ADDR>(b.x.data()), reinterpret_cast<GM_ADDR>(b.y.data()),
                            reinterpret_cast<GM_ADDR>(b.z.data()));
        },
        &result);
    EXPECT_EQ(result.cores.size(), 1u);
    return result.cores.at(0);
}

struct Expected {
    uint32_t line;
    const char *api;
    InstrKind kind;
    uint64_t bytes;
};

bool EndsWith(const std::string &s, const std::string &tail)
{
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(SimulatorProfile, EveryInstructionIsAttributedToTheKernelCallThatIssuedIt)
{
    const ascendc_cpu::CoreTrace t = RunKernel(true);
    const CallLines &l = g_lines;
    std::vector<Expected> expected = {
        {l.allocIn, "AllocTensor", InstrKind::kQueue, 0},
        {l.copyIn, "DataCopyPad", InstrKind::kDmaGmToUb, 128},
        {l.enqueIn, "EnQue", InstrKind::kQueue, 0},
        {l.dequeIn, "DeQue", InstrKind::kQueue, 0},
        {l.setFlag, "SetFlag", InstrKind::kSetFlag, 0},
        {l.waitFlag, "WaitFlag", InstrKind::kWaitFlag, 0},
        {l.getValues, "LocalTensor::GetValue", InstrKind::kScalarUbRead, 4},
        {l.getValues, "LocalTensor::GetValue", InstrKind::kScalarUbRead, 4},
        {l.allocOut, "AllocTensor", InstrKind::kQueue, 0},
    };
    // CreateVecIndex(out, 100, 40) on dav-c220: 8 scalar stores, the S->V fence, then 4 one-block
    // Adds each followed by PipeBarrier<PIPE_V>, all from the kernel's one call.
    for (int i = 0; i < 8; ++i) {
        expected.push_back({l.vecIndex, "CreateVecIndex", InstrKind::kScalarUbWrite, 4});
    }
    expected.push_back({l.vecIndex, "CreateVecIndex", InstrKind::kSetFlag, 0});
    expected.push_back({l.vecIndex, "CreateVecIndex", InstrKind::kWaitFlag, 0});
    for (int i = 0; i < 4; ++i) {
        expected.push_back({l.vecIndex, "CreateVecIndex", InstrKind::kVector, 32});
        expected.push_back({l.vecIndex, "CreateVecIndex", InstrKind::kPipeBarrier, 0});
    }
    const std::vector<Expected> rest = {
        {l.adds, "Adds", InstrKind::kVector, 160},
        {l.duplicate, "Duplicate", InstrKind::kVector, 96},
        {l.enqueOut, "EnQue", InstrKind::kQueue, 0},
        {l.dequeOut, "DeQue", InstrKind::kQueue, 0},
        {l.copyOut, "DataCopyPad", InstrKind::kDmaUbToGm, 256},
        {l.freeOut, "FreeTensor", InstrKind::kQueue, 0},
        {l.freeIn, "FreeTensor", InstrKind::kQueue, 0},
        {l.gmAccess, "GlobalTensor::GetValue", InstrKind::kScalarGmRead, 4},
        {l.gmAccess, "GlobalTensor::SetValue", InstrKind::kScalarGmWrite, 4},
        {l.barrier, "PipeBarrier", InstrKind::kPipeBarrier, 0},
    };
    expected.insert(expected.end(), rest.begin(), rest.end());

    ASSERT_EQ(t.instructions.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        const InstrRecord &r = t.instructions[i];
        EXPECT_TRUE(EndsWith(r.where.file, "test_simulator_profile.cpp")) << i << ": " << r.where.file;
        EXPECT_EQ(r.where.line, expected[i].line) << "record " << i << " (" << expected[i].api << ")";
        EXPECT_STREQ(r.api, expected[i].api) << "record " << i;
        EXPECT_EQ(static_cast<int>(r.kind), static_cast<int>(expected[i].kind)) << "record " << i;
        EXPECT_EQ(r.bytes, expected[i].bytes) << "record " << i;
    }
    // DMA parameters: 2 bursts of 64 B, GM pitch 64 B, UB pitch one 32 B-rounded block.
    const InstrRecord &in = t.instructions[1];
    EXPECT_EQ(in.bursts, 2u);
    EXPECT_EQ(in.burstBytes, 64u);
    EXPECT_EQ(in.srcPitch, 64u);
    EXPECT_EQ(in.dstPitch, 64u);
    EXPECT_EQ(in.padBytes, 0u);
    // Vector instructions carry their element size: Adds over 40 int32, Duplicate over 24.
    const InstrRecord &adds = t.instructions[t.instructions.size() - 10];
    const InstrRecord &dup = t.instructions[t.instructions.size() - 9];
    EXPECT_EQ(adds.elementBytes, 4u);
    EXPECT_EQ(adds.bytes / adds.elementBytes, 40u);
    EXPECT_EQ(dup.bytes / dup.elementBytes, 24u);
    EXPECT_STREQ(t.instructions[4].note, "MTE2_S");
    EXPECT_EQ(t.instructions[4].id, 0);
    EXPECT_STREQ(t.instructions.back().note, "PIPE_ALL");

    // The records agree with the counters they sit beside.
    uint64_t ub = 0, gm = 0, vec = 0, queue = 0;
    for (const InstrRecord &r : t.instructions) {
        ub += r.kind == InstrKind::kScalarUbRead || r.kind == InstrKind::kScalarUbWrite;
        gm += r.kind == InstrKind::kScalarGmRead || r.kind == InstrKind::kScalarGmWrite;
        vec += r.kind == InstrKind::kVector;
        queue += r.kind == InstrKind::kQueue;
    }
    EXPECT_EQ(ub, t.scalarUbReads + t.scalarUbWrites);
    EXPECT_EQ(gm, t.scalarGmReads + t.scalarGmWrites);
    EXPECT_EQ(vec, t.vectorOps);
    EXPECT_EQ(queue, t.queueOps);
}

TEST(SimulatorProfile, NoRecordsUnlessAsked)
{
    const ascendc_cpu::CoreTrace with = RunKernel(true);
    const ascendc_cpu::CoreTrace without = RunKernel(false);
    EXPECT_TRUE(without.instructions.empty());
    EXPECT_EQ(without.vectorOps, with.vectorOps);
    EXPECT_EQ(without.scalarUbWrites, with.scalarUbWrites);
    EXPECT_EQ(without.dma.size(), with.dma.size());
}

TEST(SimulatorProfile, PricesAddUpToTheModelsPipeTerms)
{
    using namespace moe_re_routing::model;
    const ascendc_cpu::CoreTrace t = RunKernel(true);
    const MoeReRoutingModelCore core = FromTrace(t);
    MoeReRoutingModelCoreTime time{};
    Evaluate(&core, 1, nullptr, &time);
    const double *p = FittedParameters();  // launch, dma, core_gbps, hbm, scalar_gm, scalar_ub, vector
    // Hand-priced: one 128 B and one 256 B DMA, 2 GM accesses, 10 UB accesses, 6 vector instructions.
    EXPECT_NEAR(time.mte2Us, p[1] + 128.0 / (p[2] * 1e3), 1e-12);
    EXPECT_NEAR(time.mte3Us, p[1] + 256.0 / (p[2] * 1e3), 1e-12);
    EXPECT_NEAR(time.scalarUs, 2 * p[4] + 10 * p[5], 1e-12);
    EXPECT_NEAR(time.vectorUs, 6 * p[6], 1e-12);

    PricedCore priced;
    std::string error;
    ASSERT_TRUE(PriceCore(t, time, &priced, &error)) << error;
    double sums[static_cast<int>(ModelPipe::kCount)] = {};
    int64_t cycles[static_cast<int>(ModelPipe::kCount)] = {};
    for (size_t i = 0; i < t.instructions.size(); ++i) {
        const int pipe = static_cast<int>(priced.costs[i].pipe);
        sums[pipe] += priced.costs[i].us;
        cycles[pipe] += priced.cycles[i];
        EXPECT_GE(priced.cycles[i], 0) << i;
    }
    EXPECT_NEAR(sums[static_cast<int>(ModelPipe::kScalar)], time.scalarUs, 1e-12);
    EXPECT_NEAR(sums[static_cast<int>(ModelPipe::kVector)], time.vectorUs, 1e-12);
    EXPECT_NEAR(sums[static_cast<int>(ModelPipe::kMte2)], time.mte2Us, 1e-12);
    EXPECT_NEAR(sums[static_cast<int>(ModelPipe::kMte3)], time.mte3Us, 1e-12);
    EXPECT_EQ(sums[static_cast<int>(ModelPipe::kFlowCtrl)], 0.0);
    const double model[4] = {time.scalarUs, time.vectorUs, time.mte2Us, time.mte3Us};
    for (int pipe = 0; pipe < 4; ++pipe) {
        EXPECT_EQ(cycles[pipe], UsToCycles(model[pipe])) << ModelPipeName(static_cast<ModelPipe>(pipe));
        EXPECT_EQ(priced.pipeCycles[pipe], cycles[pipe]);
    }
    EXPECT_EQ(cycles[static_cast<int>(ModelPipe::kFlowCtrl)], 0);
    EXPECT_EQ(CoreCycles(time), cycles[0] + std::max(cycles[1], std::max(cycles[2], cycles[3])));
    EXPECT_EQ(UsToCycles(1.0), kAssumedFreqMhz);

    // A record the counters do not know of is caught.
    ascendc_cpu::CoreTrace extra = t;
    InstrRecord vector;
    vector.kind = InstrKind::kVector;
    extra.instructions.push_back(vector);
    EXPECT_FALSE(PriceCore(extra, time, &priced, &error));
    EXPECT_NE(error.find("VECTOR"), std::string::npos) << error;
}

std::string ReadAll(const std::string &path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(SimulatorProfile, WritesTheTreeWithTheDocumentedHeaders)
{
    using namespace moe_re_routing::model;
    char pattern[] = "/tmp/simprofXXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    const std::string dir = pattern;
    ProfileRun run;
    run.shapeText = "test kernel";
    run.blockDim = 3;
    run.platformCores = 48;
    run.platformUbBytes = 188160;
    for (int b = 0; b < 3; ++b) {
        run.cores.push_back(RunKernel(true));
    }
    run.simulator = true;
    std::string error;
    const std::string path = WriteProfile(dir, run, &error);
    ASSERT_FALSE(path.empty()) << error;
    for (const char *core : {"core0.veccore0", "core0.veccore1", "core1.veccore0"}) {
        const std::string base = path + "/simulator/" + core + "/" + core;
        const std::string code = ReadAll(base + "_code_exe.csv");
        const std::string instr = ReadAll(base + "_instr_exe.csv");
        EXPECT_EQ(code.substr(0, code.find('\n')), "code,call_count,cycles,running_time(us)") << core;
        EXPECT_EQ(instr.substr(0, instr.find('\n')), "instr,addr,pipe,call_count,cycles,running_time(us),detail");
        // The kernel's CreateVecIndex line: 8 + 2 + 4 + 4 instructions, named relative to the tree.
        const std::string row = "tests/ut/api/test_simulator_profile.cpp:" + std::to_string(g_lines.vecIndex) + ",18,";
        EXPECT_NE(code.find("\n" + row), std::string::npos) << code;
        EXPECT_FALSE(ReadAll(path + "/simulator/" + core + "/trace.json").empty());
    }
    EXPECT_EQ(SimulatorCoreName(47), "core23.veccore1");
    EXPECT_NE(ReadAll(path + "/simulator/README.txt").find("MODELLED"), std::string::npos);
    EXPECT_NE(ReadAll(path + "/simulator/trace.json").find("\"process_name\""), std::string::npos);
    EXPECT_EQ(std::system(("rm -rf '" + dir + "'").c_str()), 0);
}

}  // namespace
