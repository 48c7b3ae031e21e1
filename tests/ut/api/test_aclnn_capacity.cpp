// aclnnMoeReRoutingWithCapacity and MoeReRoutingCpuRunHostWithCapacity through the public headers, on
// the engine of the ctest (native and emulator): tokens in fixed per-rank slots (the forward) and
// back into them (the restore) against the reference; every output row is defined (zeros / -1 where
// no token lands); a bad capacity or a slot over it is named and writes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "aclnn_moe_re_routing_with_capacity.h"
#include "moe_re_routing_cpu.h"
#include "../../common/moe_re_routing_reference.h"

namespace {

namespace ref = moe_re_routing_test;

constexpr int64_t kH = 24, kN = 5, kE = 7, kC = 40, kRows = kN * kC;
constexpr uint8_t kSentinel = 0xA5;

// Cells of an [n, e] count matrix with every row sum at most `capacity` (some rows empty, one full).
std::vector<int64_t> SlotCounts(std::mt19937_64 &rng, int64_t n, int64_t e, int64_t capacity)
{
    std::vector<int64_t> cells(static_cast<size_t>(n * e), 0);
    for (int64_t r = 0; r < n; ++r) {
        const int64_t tokens = r == 1 ? 0 : (r == 2 ? capacity : static_cast<int64_t>(rng() % (capacity + 1)));
        for (int64_t k = 0; k < tokens; ++k) {
            ++cells[static_cast<size_t>(r * e + static_cast<int64_t>(rng() % e))];
        }
    }
    return cells;
}

std::vector<int64_t> Transposed(const std::vector<int64_t> &cells, int64_t n, int64_t e)
{
    std::vector<int64_t> t(cells.size());
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t x = 0; x < e; ++x) {
            t[static_cast<size_t>(x * n + r)] = cells[static_cast<size_t>(r * e + x)];
        }
    }
    return t;
}

struct Buffers {
    std::vector<uint8_t> tokens, counts, scales, weights;
    std::vector<uint8_t> outTokens = std::vector<uint8_t>(kRows * kH, kSentinel);
    std::vector<uint8_t> outScales = std::vector<uint8_t>(kRows * 4, kSentinel);
    std::vector<uint8_t> outIdx = std::vector<uint8_t>(kRows * 4, kSentinel);
    std::vector<uint8_t> outExperts;
    std::vector<uint8_t> outWeights = std::vector<uint8_t>(kRows * 4, kSentinel);

    Buffers(uint64_t seed, const std::vector<int64_t> &cells, int64_t columns)
        : tokens(kRows * kH), counts(ref::CountBytes(cells, 4)), scales(kRows * 4), weights(kRows * 4),
          outExperts(static_cast<size_t>(columns) * 4, kSentinel)
    {
        std::mt19937_64 rng(seed);
        for (auto *v : {&tokens, &scales, &weights}) {
            for (uint8_t &b : *v) b = static_cast<uint8_t>(rng());  // slot tails hold garbage too
        }
    }

    bool Untouched() const
    {
        for (const auto *v : {&outTokens, &outScales, &outIdx, &outExperts, &outWeights}) {
            if (!std::all_of(v->begin(), v->end(), [](uint8_t b) { return b == kSentinel; })) return false;
        }
        return true;
    }
};

aclTensor *Tensor(std::vector<int64_t> dims, aclDataType dtype, void *data)
{
    return aclCreateTensor(dims.data(), dims.size(), dtype, nullptr, 0, ACL_FORMAT_ND, dims.data(), dims.size(),
                           data);
}

struct Call {
    int64_t countRows = kN, countCols = kE;  // the counts' shape ([E, N] for the restore)
    int64_t capacity = kC;
    int64_t tokenRows = kRows;
    int64_t type = 1, idx = 0;
    bool restore = false;
};

aclnnStatus RunCapacity(Buffers &b, const Call &call)
{
    const int64_t rows = call.tokenRows;
    aclTensor *t[9] = {
        Tensor({rows, kH}, ACL_INT8, b.tokens.data()),
        Tensor({call.countRows, call.countCols}, ACL_INT32, b.counts.data()),
        Tensor({rows}, ACL_FLOAT, b.scales.data()),
        Tensor({rows, 1}, ACL_FLOAT, b.weights.data()),
        Tensor({rows, kH}, ACL_INT8, b.outTokens.data()),
        Tensor({rows}, ACL_FLOAT, b.outScales.data()),
        Tensor({rows}, ACL_INT32, b.outIdx.data()),
        Tensor({call.countCols}, ACL_INT32, b.outExperts.data()),
        Tensor({rows, 1}, ACL_FLOAT, b.outWeights.data()),
    };
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    aclnnStatus st = aclnnMoeReRoutingWithCapacityGetWorkspaceSize(
        t[0], t[1], t[2], t[3], call.capacity, call.type, call.idx, call.restore, t[4], t[5], t[6], t[7], t[8],
        &workspaceSize, &executor);
    if (st == ACLNN_SUCCESS) {
        st = aclnnMoeReRoutingWithCapacity(nullptr, workspaceSize, executor, nullptr);
    }
    for (aclTensor *x : t) aclDestroyTensor(x);
    return st;
}

// The outputs against the reference (weights as a 4-byte scale column moves).
std::string Compare(const Buffers &b, const Call &call)
{
    const ref::Problem p{kRows, call.countRows, call.countCols, kH, 4, 4, call.type, call.idx, kC, call.restore};
    const ref::Outputs want = ref::Reference(p, b.tokens.data(), b.counts.data(), b.scales.data());
    const ref::Outputs wantWeights = ref::Reference(p, b.tokens.data(), b.counts.data(), b.weights.data());
    std::string bad;
    if (b.outTokens != want.tokens) bad += " tokens";
    if (b.outScales != want.scales) bad += " scales";
    if (b.outIdx != want.idx) bad += " idx";
    if (b.outExperts != want.experts) bad += " experts";
    if (b.outWeights != wantWeights.scales) bad += " weights";
    return bad;
}

TEST(AclnnMoeReRoutingWithCapacity, forward_and_restore_match_the_reference_in_every_mode)
{
    for (int64_t type : {1, 0}) {
        for (int64_t idx : {0, 1}) {
            std::mt19937_64 rng(100 + type * 2 + idx);
            const std::vector<int64_t> cells = SlotCounts(rng, kN, kE, kC);
            Buffers forward(7 + idx, cells, kE);
            Call call;
            call.type = type;
            call.idx = idx;
            ASSERT_EQ(RunCapacity(forward, call), ACLNN_SUCCESS) << aclGetRecentErrMsg();
            EXPECT_EQ(Compare(forward, call), std::string()) << "forward type " << type << " idx " << idx;

            Buffers restore(9 + idx, Transposed(cells, kN, kE), kN);
            Call back = call;
            back.countRows = kE;
            back.countCols = kN;
            back.restore = true;
            ASSERT_EQ(RunCapacity(restore, back), ACLNN_SUCCESS) << aclGetRecentErrMsg();
            EXPECT_EQ(Compare(restore, back), std::string()) << "restore type " << type << " idx " << idx;
        }
    }
}

TEST(AclnnMoeReRoutingWithCapacity, restore_puts_every_token_back_into_its_slot)
{
    std::mt19937_64 rng(5);
    const std::vector<int64_t> cells = SlotCounts(rng, kN, kE, kC);
    Buffers forward(11, cells, kE);
    ASSERT_EQ(RunCapacity(forward, Call{}), ACLNN_SUCCESS) << aclGetRecentErrMsg();
    Buffers back(12, Transposed(cells, kN, kE), kN);
    back.tokens = forward.outTokens;
    Call call;
    call.countRows = kE;
    call.countCols = kN;
    call.restore = true;
    ASSERT_EQ(RunCapacity(back, call), ACLNN_SUCCESS) << aclGetRecentErrMsg();
    for (int64_t r = 0; r < kN; ++r) {
        int64_t held = 0;
        for (int64_t x = 0; x < kE; ++x) held += cells[static_cast<size_t>(r * kE + x)];
        for (int64_t row = r * kC; row < (r + 1) * kC; ++row) {
            const uint8_t *got = back.outTokens.data() + row * kH;
            if (row < r * kC + held) {
                ASSERT_EQ(std::memcmp(got, forward.tokens.data() + row * kH, kH), 0) << "row " << row;
            } else {
                ASSERT_TRUE(std::all_of(got, got + kH, [](uint8_t v) { return v == 0; })) << "row " << row;
            }
        }
    }
}

TEST(AclnnMoeReRoutingWithCapacity, no_tokens_at_all_gives_zeros_and_minus_one)
{
    for (int64_t idx : {0, 1}) {
        Buffers b(3, std::vector<int64_t>(kN * kE, 0), kE);
        Call call;
        call.idx = idx;
        ASSERT_EQ(RunCapacity(b, call), ACLNN_SUCCESS) << aclGetRecentErrMsg();
        EXPECT_TRUE(std::all_of(b.outTokens.begin(), b.outTokens.end(), [](uint8_t v) { return v == 0; }));
        EXPECT_TRUE(std::all_of(b.outIdx.begin(), b.outIdx.end(), [](uint8_t v) { return v == 0xff; }));
        EXPECT_EQ(Compare(b, call), std::string());
    }
}

TEST(AclnnMoeReRoutingWithCapacity, a_bad_capacity_or_a_full_slot_is_named_and_writes_nothing)
{
    std::mt19937_64 rng(1);
    std::vector<int64_t> within = SlotCounts(rng, kN, kE, kC);
    std::vector<int64_t> over = within;
    over[3 * kE + 2] += kC;  // rank 3 holds more than its slot
    struct Bad {
        std::vector<int64_t> cells;
        Call call;
        const char *message;
    } cases[] = {
        {within, [] { Call c; c.capacity = 0; return c; }(), "num_max_tokens_per_rank is 0 but must be >= 1"},
        {within, [] { Call c; c.tokenRows = kRows - 1; return c; }(),
         "tokens has 199 rows but must be N * num_max_tokens_per_rank = 5 * 40 = 200"},
        {over, Call{}, "expert_token_num_per_rank row 3 (rank 3) sums to"},
        {Transposed(over, kN, kE), [] { Call c; c.countRows = kE; c.countCols = kN; c.restore = true; return c; }(),
         "expert_token_num_per_rank column 3 (rank 3 of the restore's counts.T) sums to"},
    };
    for (Bad &bad : cases) {
        Buffers b(2, bad.cells, bad.call.countCols);
        EXPECT_EQ(RunCapacity(b, bad.call), ACLNN_ERR_PARAM_INVALID) << bad.message;
        EXPECT_NE(std::string(aclGetRecentErrMsg()).find(bad.message), std::string::npos) << aclGetRecentErrMsg();
        EXPECT_NE(std::string(aclGetRecentErrMsg()).find("num_max_tokens_per_rank"), std::string::npos);
        EXPECT_TRUE(b.Untouched()) << bad.message;
    }
}

TEST(AclnnMoeReRoutingWithCapacity, one_call_host_path_matches_the_two_phases)
{
    std::mt19937_64 rng(21);
    const std::vector<int64_t> cells = SlotCounts(rng, kN, kE, kC);
    for (bool restore : {false, true}) {
        const std::vector<int64_t> given = restore ? Transposed(cells, kN, kE) : cells;
        Call call;
        call.idx = 1;
        call.restore = restore;
        if (restore) {
            call.countRows = kE;
            call.countCols = kN;
        }
        Buffers two(4, given, call.countCols);
        ASSERT_EQ(RunCapacity(two, call), ACLNN_SUCCESS) << aclGetRecentErrMsg();
        Buffers one(4, given, call.countCols);
        const int64_t desc[] = {ACL_INT8,  2, kRows, kH, ACL_INT32, 2, call.countRows, call.countCols,
                                ACL_FLOAT, 1, kRows, ACL_FLOAT, 2, kRows, 1,
                                ACL_INT8,  2, kRows, kH, ACL_FLOAT, 1, kRows, ACL_INT32, 1, kRows,
                                ACL_INT32, 1, call.countCols, ACL_FLOAT, 2, kRows, 1};
        ASSERT_EQ(MoeReRoutingCpuRunHostWithCapacity(
                      desc, sizeof(desc) / sizeof(desc[0]), one.tokens.data(), one.counts.data(), one.scales.data(),
                      one.weights.data(), one.outTokens.data(), one.outScales.data(), one.outIdx.data(),
                      one.outExperts.data(), one.outWeights.data(), kC, 1, 1, restore ? 1 : 0),
                  ACLNN_SUCCESS)
            << aclGetRecentErrMsg();
        EXPECT_TRUE(one.outTokens == two.outTokens && one.outScales == two.outScales && one.outIdx == two.outIdx &&
                    one.outExperts == two.outExperts && one.outWeights == two.outWeights);
    }
}

}  // namespace
