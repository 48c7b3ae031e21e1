// Two process-wide emulator settings and the rules they switch on:
//  - ASCENDC_CPU_AUTO_SYNC=on|off (SetAutoSync): with off, on dav-c220, a vector instruction that
//    reads or overwrites UB an earlier vector instruction wrote or read needs PipeBarrier<PIPE_V>
//    between them ("PIPE_V order"); on, or on dav-3510, the same kernel passes.
//  - ASCENDC_CPU_SOC=<name> (SelectSoc): the SoC every default launch (LaunchConfig, ICPU_RUN_KF)
//    runs on, with its usable UB and its architecture's rules.
// And one retired variable: ASCENDC_CPU_MODE is not read; a launch that finds it set says so once.
// The broken cases are death tests: the child process must abort with the rule's text. The
// environment cases set the variable before the child starts, so the child reads it as a fresh
// process does.
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "ascendc_cpu/runtime.h"
#include "emulator_test_util.h"
#include "kernel_operator.h"
#include "tikicpulib.h"

using namespace AscendC;

namespace {

using emulator_test::AutoSyncGuard;
using emulator_test::GmBuffer;

constexpr int32_t kLen = 64;  // int32 elements per operand (256 B: one repeat)

// How the kernel below orders its second vector instruction after its first.
enum class Order {
    kNone,        // nothing: correct only when the hardware or the compiler orders PIPE_V
    kPipeV,       // PipeBarrier<PIPE_V>
    kPipeAll,     // PipeBarrier<PIPE_ALL>
    kThroughScalar,  // a V->S flag pair: the scalar unit has seen V finish before it issues more
};

// The dependent pairs the rule is about, each on `a`, `b` of one VECCALC buffer.
enum class Pair {
    kReadAfterWrite,   // Duplicate(a); Adds(b, a)
    kWriteAfterWrite,  // Duplicate(a); Duplicate(a)
    kWriteAfterRead,   // Adds(b, a); Duplicate(a)
    kFold,             // Add(a, a, a[32], 32); Add(a, a, a[16], 16): a halving fold in place
    kReadAfterRead,    // Adds(b, a); Adds(b[.], a): two readers of a, never a dependency
};

void OrderSecond(Order order)
{
    switch (order) {
        case Order::kNone: break;
        case Order::kPipeV: PipeBarrier<PIPE_V>(); break;
        case Order::kPipeAll: PipeBarrier<PIPE_ALL>(); break;
        case Order::kThroughScalar:
            SetFlag<HardEvent::V_S>(0);
            WaitFlag<HardEvent::V_S>(0);
            break;
    }
}

// Runs one pair, then writes a and b to `out` (int32[2 * kLen]).
extern "C" __global__ __aicore__ void vector_pair_kernel(GM_ADDR out, int pair, int order)
{
    TPipe pipe;
    TBuf<TPosition::VECCALC> work;
    TQue<TPosition::VECOUT, 1> outQue;
    pipe.InitBuffer(work, 2 * kLen * sizeof(int32_t));
    pipe.InitBuffer(outQue, 1, 2 * kLen * sizeof(int32_t));
    GlobalTensor<int32_t> outGm;
    outGm.SetGlobalBuffer((__gm__ int32_t *)out, 2 * kLen);
    LocalTensor<int32_t> a = work.Get<int32_t>();
    LocalTensor<int32_t> b = a[kLen];
    // Both operands start known: filled and ordered before the pair under test.
    Duplicate(a, int32_t(1), kLen);
    Duplicate(b, int32_t(0), kLen);
    PipeBarrier<PIPE_V>();
    switch (static_cast<Pair>(pair)) {
        case Pair::kReadAfterWrite:
            Duplicate(a, int32_t(5), kLen);
            OrderSecond(static_cast<Order>(order));
            Adds(b, a, int32_t(1), kLen);
            break;
        case Pair::kWriteAfterWrite:
            Duplicate(a, int32_t(5), kLen);
            OrderSecond(static_cast<Order>(order));
            Duplicate(a, int32_t(6), kLen);
            break;
        case Pair::kWriteAfterRead:
            Adds(b, a, int32_t(1), kLen);
            OrderSecond(static_cast<Order>(order));
            Duplicate(a, int32_t(9), kLen);
            break;
        case Pair::kFold:
            Add(a, a, a[32], 32);
            OrderSecond(static_cast<Order>(order));
            Add(a, a, a[16], 16);
            break;
        case Pair::kReadAfterRead:
            Adds(b, a, int32_t(1), 32);
            OrderSecond(static_cast<Order>(order));
            Adds(b[32], a[32], int32_t(2), 32);
            break;
    }
    LocalTensor<int32_t> staged = outQue.AllocTensor<int32_t>();
    PipeBarrier<PIPE_V>();  // the copy below reads what the pair wrote
    Adds(staged, a, int32_t(0), 2 * kLen);
    outQue.EnQue(staged);
    staged = outQue.DeQue<int32_t>();
    DataCopyPad(outGm, staged, DataCopyExtParams(1, 2 * kLen * sizeof(int32_t), 0, 0, 0));
    outQue.FreeTensor(staged);
}

// What a and b hold after each pair (the emulator executes in order, so every variant computes the
// same values; the rule is about whether the hardware would).
void ExpectPairResult(Pair pair, const GmBuffer<int32_t> &out)
{
    for (int32_t i = 0; i < kLen; ++i) {
        int32_t a = 1;
        int32_t b = 0;
        switch (pair) {
            case Pair::kReadAfterWrite: a = 5; b = 6; break;
            case Pair::kWriteAfterWrite: a = 6; break;
            case Pair::kWriteAfterRead: a = 9; b = 2; break;
            case Pair::kFold: a = i < 16 ? 4 : (i < 32 ? 2 : 1); break;
            case Pair::kReadAfterRead: b = i < 32 ? 2 : 3; break;
        }
        EXPECT_EQ(out.data[i], a) << "a[" << i << "]";
        EXPECT_EQ(out.data[kLen + i], b) << "b[" << i << "]";
    }
}

void RunPair(Pair pair, Order order, ascendc_cpu::Arch arch)
{
    GmBuffer<int32_t> out(2 * kLen);
    ascendc_cpu::LaunchConfig config;
    config.arch = arch;
    ascendc_cpu::Launch(config, [&] { vector_pair_kernel(out.gm(), static_cast<int>(pair), static_cast<int>(order)); },
                        nullptr);
    ExpectPairResult(pair, out);
}

// A rule violation ends the process by abort or by a non-zero exit; a crash (SIGSEGV, ...) fails.
bool EndedByViolation(int status)
{
    const bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    return aborted || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

const char *const kRawMessage =
    "ascendc_cpu: rule violated: PIPE_V order: Adds reads UB offset 0 that an earlier vector instruction wrote, "
    "with no PipeBarrier<PIPE_V> between them";

class AutoSyncOff : public ::testing::Test {
protected:
    void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// ---- PIPE_V order: caught ----

TEST_F(AutoSyncOff, ReadAfterWriteWithoutBarrierAborts)
{
    EXPECT_EXIT(
        {
            AutoSyncGuard off(false);
            RunPair(Pair::kReadAfterWrite, Order::kNone, ascendc_cpu::Arch::kDavC220);
        },
        EndedByViolation, kRawMessage);
}

TEST_F(AutoSyncOff, WriteAfterWriteWithoutBarrierAborts)
{
    EXPECT_EXIT(
        {
            AutoSyncGuard off(false);
            RunPair(Pair::kWriteAfterWrite, Order::kNone, ascendc_cpu::Arch::kDavC220);
        },
        EndedByViolation,
        "PIPE_V order: Duplicate overwrites UB offset 0 that an earlier vector instruction wrote");
}

TEST_F(AutoSyncOff, WriteAfterReadWithoutBarrierAborts)
{
    EXPECT_EXIT(
        {
            AutoSyncGuard off(false);
            RunPair(Pair::kWriteAfterRead, Order::kNone, ascendc_cpu::Arch::kDavC220);
        },
        EndedByViolation,
        "PIPE_V order: Duplicate overwrites UB offset 0 that an earlier vector instruction read");
}

TEST_F(AutoSyncOff, FoldInPlaceWithoutBarrierAborts)
{
    EXPECT_EXIT(
        {
            AutoSyncGuard off(false);
            RunPair(Pair::kFold, Order::kNone, ascendc_cpu::Arch::kDavC220);
        },
        EndedByViolation, "PIPE_V order: Add reads UB offset 0 that an earlier vector instruction wrote");
}

// The environment variable switches it off too (read when the child process starts).
TEST_F(AutoSyncOff, EnvironmentVariableTurnsTheRuleOn)
{
    ASSERT_EQ(setenv("ASCENDC_CPU_AUTO_SYNC", "off", 1), 0);
    EXPECT_EXIT(RunPair(Pair::kReadAfterWrite, Order::kNone, ascendc_cpu::Arch::kDavC220), EndedByViolation,
                kRawMessage);
    ASSERT_EQ(unsetenv("ASCENDC_CPU_AUTO_SYNC"), 0);
}

// ---- PIPE_V order: what orders the pair ----

TEST(AutoSync, BarrierOrOtherOrderingFixesEveryPair)
{
    AutoSyncGuard off(false);
    for (Pair pair : {Pair::kReadAfterWrite, Pair::kWriteAfterWrite, Pair::kWriteAfterRead, Pair::kFold}) {
        for (Order order : {Order::kPipeV, Order::kPipeAll, Order::kThroughScalar}) {
            SCOPED_TRACE("pair " + std::to_string(static_cast<int>(pair)) + ", order " +
                         std::to_string(static_cast<int>(order)));
            RunPair(pair, order, ascendc_cpu::Arch::kDavC220);
        }
    }
}

TEST(AutoSync, ReadAfterReadNeedsNoBarrier)
{
    AutoSyncGuard off(false);
    RunPair(Pair::kReadAfterRead, Order::kNone, ascendc_cpu::Arch::kDavC220);
}

TEST(AutoSync, OnPassesWithoutBarriers)
{
    AutoSyncGuard on(true);
    for (Pair pair : {Pair::kReadAfterWrite, Pair::kWriteAfterWrite, Pair::kWriteAfterRead, Pair::kFold}) {
        RunPair(pair, Order::kNone, ascendc_cpu::Arch::kDavC220);
    }
}

TEST(AutoSync, Dav3510OrdersPipeVItself)
{
    AutoSyncGuard off(false);
    for (Pair pair : {Pair::kReadAfterWrite, Pair::kWriteAfterWrite, Pair::kWriteAfterRead, Pair::kFold}) {
        RunPair(pair, Order::kNone, ascendc_cpu::Arch::kDav3510);
    }
}

TEST(AutoSync, DefaultIsOnAndSetterRoundTrips)
{
    if (std::getenv("ASCENDC_CPU_AUTO_SYNC") == nullptr) {
        EXPECT_TRUE(ascendc_cpu::GetAutoSync());
    }
    AutoSyncGuard off(false);
    EXPECT_FALSE(ascendc_cpu::GetAutoSync());
    ascendc_cpu::SetAutoSync(true);
    EXPECT_TRUE(ascendc_cpu::GetAutoSync());
}

// ---- SoC selection ----

constexpr uint32_t kUb240KiB = 240 * 1024;  // more than any dav-c220 SoC leaves, less than 950's 248 KiB

extern "C" __global__ __aicore__ void ub_240k_kernel(GM_ADDR)
{
    TPipe pipe;
    TQue<TPosition::VECIN, 1> que;
    pipe.InitBuffer(que, 1, kUb240KiB);
}

// GM -> VECCALC: documented for Ascend 950 only.
extern "C" __global__ __aicore__ void pad_into_veccalc_kernel(GM_ADDR x)
{
    TPipe pipe;
    TBuf<TPosition::VECCALC> buf;
    pipe.InitBuffer(buf, 64);
    GlobalTensor<int32_t> xGm;
    xGm.SetGlobalBuffer((__gm__ int32_t *)x, 16);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    DataCopyPad(local, xGm, DataCopyExtParams(1, 64, 0, 0, 0), DataCopyPadExtParams<int32_t>());
}

// Runs `kernel` through ICPU_RUN_KF (the official CPU-debug entry, default LaunchConfig) and exits 0.
void RunThroughIcpuAndExit(void (*kernel)(GM_ADDR))
{
    SetKernelMode(KernelMode::AIV_MODE);
    uint8_t *x = static_cast<uint8_t *>(GmAlloc(64));
    std::memset(x, 0, 64);
    ICPU_RUN_KF(kernel, 1, x);
    GmFree(x);
    std::exit(0);
}

class SocFromEnvironment : public ::testing::Test {
protected:
    void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
    void TearDown() override { unsetenv("ASCENDC_CPU_SOC"); }
};

TEST_F(SocFromEnvironment, Ub240KiBPassesOnAscend950)
{
    ASSERT_EQ(setenv("ASCENDC_CPU_SOC", "Ascend950", 1), 0);
    EXPECT_EXIT(RunThroughIcpuAndExit(ub_240k_kernel), ::testing::ExitedWithCode(0), "");
}

TEST_F(SocFromEnvironment, ToolkitSocVersionNamesSelectTheirFamily)
{
    ASSERT_EQ(setenv("ASCENDC_CPU_SOC", "Ascend950PR_9599", 1), 0);
    EXPECT_EXIT(RunThroughIcpuAndExit(ub_240k_kernel), ::testing::ExitedWithCode(0), "");
    ASSERT_EQ(setenv("ASCENDC_CPU_SOC", "Ascend910B2", 1), 0);
    EXPECT_EXIT(RunThroughIcpuAndExit(ub_240k_kernel), EndedByViolation, "UB capacity: .* > UB size 188160 B");
}

TEST_F(SocFromEnvironment, Ub240KiBAbortsOnAscend910B)
{
    ASSERT_EQ(setenv("ASCENDC_CPU_SOC", "Ascend910B", 1), 0);
    EXPECT_EXIT(RunThroughIcpuAndExit(ub_240k_kernel), EndedByViolation,
                "ascendc_cpu: rule violated: UB capacity: TPipe::InitBuffer\\(queue\\) of 1 x 245760 B .* > UB size "
                "188160 B");
}

TEST_F(SocFromEnvironment, Ub240KiBAbortsByDefault)
{
    unsetenv("ASCENDC_CPU_SOC");
    EXPECT_EXIT(RunThroughIcpuAndExit(ub_240k_kernel), EndedByViolation, "UB capacity: .* > UB size 188160 B");
}

TEST_F(SocFromEnvironment, DataCopyPadIntoVeccalcFollowsTheSocArchitecture)
{
    ASSERT_EQ(setenv("ASCENDC_CPU_SOC", "Ascend950", 1), 0);
    EXPECT_EXIT(RunThroughIcpuAndExit(pad_into_veccalc_kernel), ::testing::ExitedWithCode(0), "");
    ASSERT_EQ(setenv("ASCENDC_CPU_SOC", "Ascend910_93", 1), 0);
    EXPECT_EXIT(RunThroughIcpuAndExit(pad_into_veccalc_kernel), EndedByViolation,
                "DataCopyPad position: DataCopyPad\\(GM->UB\\) into a VECCALC tensor: dav-c220");
}

TEST_F(SocFromEnvironment, UnknownNameWarnsAndKeepsTheDefault)
{
    ASSERT_EQ(setenv("ASCENDC_CPU_SOC", "Ascend999", 1), 0);
    EXPECT_EXIT(RunThroughIcpuAndExit(ub_240k_kernel), EndedByViolation,
                "ASCENDC_CPU_SOC=Ascend999 is not a known SoC \\(Ascend910B, .*Ascend950\\); using Ascend910B");
}

// Duplicate / CreateVecIndex with a count of 0: accepted on dav-c220, a violation on dav-3510.
extern "C" __global__ __aicore__ void zero_count_kernel(GM_ADDR, int useCreateVecIndex)
{
    TPipe pipe;
    TBuf<TPosition::VECCALC> buf;
    pipe.InitBuffer(buf, 64);
    LocalTensor<int32_t> local = buf.Get<int32_t>();
    if (useCreateVecIndex != 0) {
        CreateVecIndex(local, int32_t(0), 0);
    } else {
        Duplicate(local, int32_t(0), 0);
    }
}

void RunZeroCount(ascendc_cpu::Arch arch, int useCreateVecIndex)
{
    ascendc_cpu::LaunchConfig config;
    config.arch = arch;
    ascendc_cpu::Launch(config, [&] { zero_count_kernel(nullptr, useCreateVecIndex); }, nullptr);
}

TEST(Dav3510Rules, ZeroCountDuplicateAndCreateVecIndexAbortThere)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    RunZeroCount(ascendc_cpu::Arch::kDavC220, 0);
    RunZeroCount(ascendc_cpu::Arch::kDavC220, 1);
    EXPECT_EXIT(RunZeroCount(ascendc_cpu::Arch::kDav3510, 0), EndedByViolation,
                "vector params: Duplicate with count 0: dav-3510 \\(Ascend 950\\) does not guarantee");
    EXPECT_EXIT(RunZeroCount(ascendc_cpu::Arch::kDav3510, 1), EndedByViolation,
                "vector params: CreateVecIndex with count 0: dav-3510");
}

TEST(SocSelection, SelectSocChangesDefaultLaunchesOnly)
{
    const std::string saved = ascendc_cpu::SelectedSoc().name;
    ASSERT_TRUE(ascendc_cpu::SelectSoc("Ascend950"));
    const ascendc_cpu::LaunchConfig on950;
    EXPECT_EQ(on950.ubBytes, 253952u);  // 248 KiB
    EXPECT_EQ(on950.arch, ascendc_cpu::Arch::kDav3510);
    ascendc_cpu::Launch(on950, [] { ub_240k_kernel(nullptr); }, nullptr);

    EXPECT_FALSE(ascendc_cpu::SelectSoc("not-a-soc"));
    EXPECT_FALSE(ascendc_cpu::SelectSoc("Ascend910"));  // no family of the table (dav-1001)
    EXPECT_STREQ(ascendc_cpu::SelectedSoc().name, "Ascend950");  // unchanged
    ASSERT_TRUE(ascendc_cpu::SelectSoc("Ascend910B4-1"));
    EXPECT_STREQ(ascendc_cpu::SelectedSoc().name, "Ascend910B4");
    ASSERT_TRUE(ascendc_cpu::SelectSoc("Ascend910_9391"));
    EXPECT_STREQ(ascendc_cpu::SelectedSoc().name, "Ascend910_93");
    const ascendc_cpu::LaunchConfig onA3;
    EXPECT_EQ(onA3.ubBytes, 188416u);
    EXPECT_EQ(onA3.arch, ascendc_cpu::Arch::kDavC220);
    ASSERT_TRUE(ascendc_cpu::SelectSoc(saved.c_str()));
}

// In a fresh child: two launches with stderr captured; the exit code is how many times the retired
// ASCENDC_CPU_MODE warning was printed.
[[noreturn]] void LaunchTwiceAndExitWithWarningCount()
{
    ::testing::internal::CaptureStderr();
    ascendc_cpu::LaunchConfig config;
    config.blockDim = 1;
    ascendc_cpu::Launch(config, [] {}, nullptr);
    ascendc_cpu::Launch(config, [] {}, nullptr);
    const std::string err = ::testing::internal::GetCapturedStderr();
    int count = 0;
    for (size_t at = err.find("ASCENDC_CPU_MODE="); at != std::string::npos; at = err.find("ASCENDC_CPU_MODE=", at + 1)) {
        ++count;
    }
    std::exit(count);
}

TEST(RetiredModeVariable, IsReportedOnceWhenSetAndNeverWhenUnset)
{
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ASSERT_EQ(setenv("ASCENDC_CPU_MODE", "fast", 1), 0);
    EXPECT_EXIT(LaunchTwiceAndExitWithWarningCount(), ::testing::ExitedWithCode(1), "");
    ASSERT_EQ(unsetenv("ASCENDC_CPU_MODE"), 0);
    EXPECT_EXIT(LaunchTwiceAndExitWithWarningCount(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
