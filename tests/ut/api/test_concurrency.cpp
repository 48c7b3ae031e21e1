// Concurrency of the aclnn entry points: 8 threads x 1000 mixed calls (shapes, dtypes, scales,
// attributes, emulator modes flipped process-wide while others run, some calls large enough for the
// thread pool, some rejected on purpose), every result compared with the reference byte for byte,
// and the thread's last error (message and kind) checked after every call: a failure reports the
// thread's own parameter, a success leaves nothing, in particular not another thread's message.
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "op_fixture.h"

using namespace api_test;

namespace {

constexpr int kThreads = 8;
constexpr int kCallsPerThread = 1000;

struct DtypeChoice {
    aclDataType dtype;
    bool packed;  // two per byte: H even
};

const DtypeChoice kTokenDtypes[] = {
    {ACL_FLOAT16, false}, {ACL_BF16, false},  {ACL_INT8, false},          {ACL_FLOAT, false},
    {ACL_INT32, false},   {ACL_UINT8, false}, {ACL_FLOAT8_E4M3FN, false}, {ACL_FLOAT4_E2M1, true},
};

Spec RandomSpec(std::mt19937_64 &rng, bool large)
{
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    Spec s;
    const int64_t N = pick(1, 6);
    const int64_t E = pick(1, 6);
    s.counts.assign(N, std::vector<int64_t>(E, 0));
    for (auto &row : s.counts) {
        for (int64_t &c : row) {
            c = pick(0, 3) == 0 ? 0 : pick(0, large ? 40 : 6);
        }
    }
    const DtypeChoice d = kTokenDtypes[pick(0, sizeof(kTokenDtypes) / sizeof(kTokenDtypes[0]) - 1)];
    s.tokenDtype = d.dtype;
    static const int64_t kHidden[] = {1, 2, 7, 16, 33, 64, 257};
    s.hidden = large ? 4096 : kHidden[pick(0, 6)];
    if (d.packed) {
        s.hidden += s.hidden % 2;
    }
    s.countDtype = pick(0, 1) ? ACL_INT64 : ACL_INT32;
    const int64_t scales = pick(0, 3);
    s.hasScales = scales != 0;
    s.scaleCols = scales == 2 ? pick(1, 4) : 0;
    s.scaleDtype = scales == 3 ? ACL_FLOAT8_E8M0 : ACL_FLOAT;
    s.expertTokenNumType = pick(0, 1);
    s.idxType = pick(0, 1);
    return s;
}

}  // namespace

TEST(Concurrency, eight_threads_thousand_mixed_calls_each_match_the_reference)
{
    std::atomic<int> mismatches{0};
    std::atomic<int> foreignMessages{0};
    std::atomic<int> calls{0};
    std::vector<std::string> firstProblem(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t, &mismatches, &foreignMessages, &calls, &firstProblem] {
            std::mt19937_64 rng(1000 + t);
            auto note = [&](std::atomic<int> &counter, const std::string &what) {
                counter.fetch_add(1);
                if (firstProblem[t].empty()) {
                    firstProblem[t] = what;
                }
            };
            for (int i = 0; i < kCallsPerThread; ++i) {
                if (rng() % 10 == 0) {  // the process-wide engine flips under the other threads
                    MoeReRoutingCpuSetEngine(rng() % 2 == 0 ? "native" : "emulator");
                }
                const bool large = rng() % 100 == 0;  // > 64 KiB: runs on the thread pool
                Fixture f(RandomSpec(rng, large));
                if (rng() % 8 == 0) {
                    // A rejected call whose message names this thread's own value.
                    const int64_t mine = 100 + t;
                    f.idxType = mine;
                    const aclnnStatus st = f.Run();
                    const std::string msg = aclGetRecentErrMsg();
                    if (st != ACLNN_ERR_PARAM_INVALID || !f.OutputsUntouched() ||
                        MoeReRoutingLastErrorKind() != MOE_RE_ROUTING_ERROR_VALUE) {
                        note(mismatches, "call " + std::to_string(i) + ": rejected call reported " +
                                             std::to_string(st) + " or wrote an output");
                    }
                    if (msg.find("idx_type is " + std::to_string(mine) + " ") == std::string::npos) {
                        note(foreignMessages, "call " + std::to_string(i) + ": after my failure I read '" + msg + "'");
                    }
                    calls.fetch_add(1);
                    continue;
                }
                const aclnnStatus st = f.Run();
                const std::string msg = aclGetRecentErrMsg();
                if (st != ACLNN_SUCCESS) {
                    note(mismatches, "call " + std::to_string(i) + ": status " + std::to_string(st) + ": " + msg);
                } else if (const std::string diff = f.CompareWithReference(); !diff.empty()) {
                    note(mismatches, "call " + std::to_string(i) + ": " + diff);
                }
                if (st == ACLNN_SUCCESS && (!msg.empty() || MoeReRoutingLastErrorKind() != MOE_RE_ROUTING_ERROR_NONE)) {
                    note(foreignMessages, "call " + std::to_string(i) + ": after my success I read '" + msg + "'");
                }
                calls.fetch_add(1);
            }
        });
    }
    for (std::thread &th : threads) {
        th.join();
    }
    MoeReRoutingCpuSetEngine(nullptr);
    for (int t = 0; t < kThreads; ++t) {
        EXPECT_EQ(firstProblem[t], std::string()) << "thread " << t;
    }
    EXPECT_EQ(mismatches.load(), 0);
    EXPECT_EQ(foreignMessages.load(), 0);
    EXPECT_EQ(calls.load(), kThreads * kCallsPerThread);
    std::printf("%d calls on %d threads, %d mismatches, %d foreign messages\n", calls.load(), kThreads,
                mismatches.load(), foreignMessages.load());
}

TEST(Concurrency, a_thread_never_reads_another_threads_error)
{
    // Thread A fails with its own message; thread B, which only succeeds, must read an empty
    // message and kind NONE every time (a process-wide message would show it A's); and A must keep
    // reading its own message while B succeeds.
    std::atomic<bool> stop{false};
    std::atomic<int> foreign{0};
    std::thread failer([&] {
        Spec s;
        s.counts = {{2, 1}, {0, 3}};
        Fixture f(s);
        f.expertTokenNumType = 77;
        while (!stop.load()) {
            if (f.Run() != ACLNN_ERR_PARAM_INVALID ||
                std::string(aclGetRecentErrMsg()).find("expert_token_num_type is 77") == std::string::npos) {
                foreign.fetch_add(1);
            }
        }
    });
    Spec s;
    s.counts = {{1, 2}, {3, 0}};
    for (int i = 0; i < 2000; ++i) {
        Fixture f(s);
        ASSERT_EQ(f.Run(), ACLNN_SUCCESS);
        if (aclGetRecentErrMsg()[0] != '\0' || MoeReRoutingLastErrorKind() != MOE_RE_ROUTING_ERROR_NONE) {
            foreign.fetch_add(1);
        }
    }
    stop.store(true);
    failer.join();
    EXPECT_EQ(foreign.load(), 0);
    // And a thread that never called anything has no message at all.
    std::string other = "unset";
    std::thread([&other] { other = aclGetRecentErrMsg(); }).join();
    EXPECT_EQ(other, std::string());
}
