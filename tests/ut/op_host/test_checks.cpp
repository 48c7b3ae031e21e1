// Unit tests of the pure parameter checks (op_host/moe_re_routing_check.cpp).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "moe_re_routing_host.h"

using namespace moe_re_routing;

namespace {

constexpr int32_t kFloat = 0, kFloat16 = 1, kInt8 = 2, kInt32 = 3, kInt64 = 9, kBf16 = 27, kE8m0 = 37,
                  kFp4 = 40, kDouble = 11;

TensorDesc Desc(int32_t dtype, std::initializer_list<int64_t> dims)
{
    TensorDesc t;
    t.present = true;
    t.dtype = dtype;
    for (int64_t d : dims) {
        t.dims[t.dimNum++] = d;
    }
    return t;
}

// A valid call: tokens [A, H] of `dtype`, counts [N, E] of `countDtype`, optional [A] float scales.
OpArgs Valid(int64_t A = 64, int64_t H = 128, int64_t N = 4, int64_t E = 4, int32_t dtype = kFloat16,
             int32_t countDtype = kInt32, bool scales = true)
{
    OpArgs a;
    a.tokens = Desc(dtype, {A, H});
    a.expertTokenNumPerRank = Desc(countDtype, {N, E});
    if (scales) {
        a.perTokenScales = Desc(kFloat, {A});
    }
    a.permuteTokens = Desc(dtype, {A, H});
    a.permutePerTokenScales = Desc(kFloat, {A});
    a.permuteTokenIdx = Desc(kInt32, {A});
    a.expertTokenNum = Desc(countDtype, {E});
    return a;
}

Result Check(const OpArgs &a)
{
    Problem p;
    return CheckArgs(a, &p);
}

}  // namespace

TEST(HostChecks, valid_arguments_give_the_problem)
{
    Problem p;
    ASSERT_TRUE(CheckArgs(Valid(64, 7168, 16, 16, kInt8, kInt64), &p).ok());
    EXPECT_EQ(p.tokenNum, 64);
    EXPECT_EQ(p.hiddenSize, 7168);
    EXPECT_EQ(p.tokenRowBytes, 7168);
    EXPECT_EQ(p.scaleRowBytes, 4);
    EXPECT_EQ(p.outScaleRowBytes, 4);
    EXPECT_EQ(p.countBytes, 8u);
    EXPECT_EQ(p.rankNum, 16);
    EXPECT_EQ(p.expertNum, 16);
}

TEST(HostChecks, absent_scales_need_a_float_a_output)
{
    OpArgs a = Valid(8, 16, 2, 2, kBf16, kInt32, false);
    Problem p;
    ASSERT_TRUE(CheckArgs(a, &p).ok());
    EXPECT_EQ(p.scaleRowBytes, 0);
    EXPECT_EQ(p.outScaleRowBytes, 4);
    a.permutePerTokenScales = Desc(kE8m0, {8});
    Result r = Check(a);
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "permute_per_token_scales", r.message);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "FLOAT", r.message);
}

TEST(HostChecks, two_d_and_e8m0_scales)
{
    OpArgs a = Valid(8, 64, 2, 2, kInt8);
    a.perTokenScales = Desc(kE8m0, {8, 2});
    a.permutePerTokenScales = Desc(kE8m0, {8, 2});
    Problem p;
    ASSERT_TRUE(CheckArgs(a, &p).ok());
    EXPECT_EQ(p.scaleRowBytes, 2);
    EXPECT_EQ(p.scaleCols, 2);
    a.permutePerTokenScales = Desc(kE8m0, {8});
    Result r = Check(a);
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "permute_per_token_scales has shape [8] but must be [8, 2]", r.message);
}

TEST(HostChecks, packed_fp4_rows_are_half_bytes_and_need_even_h)
{
    Problem p;
    ASSERT_TRUE(CheckArgs(Valid(8, 64, 2, 2, kFp4), &p).ok());
    EXPECT_EQ(p.tokenRowBytes, 32);
    Result r = Check(Valid(8, 63, 2, 2, kFp4));
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "H must be even", r.message);
}

TEST(HostChecks, each_bad_parameter_is_named)
{
    struct Case {
        const char *what;
        OpArgs args;
        int32_t status;
        const char *needle;
    };
    std::vector<Case> cases;
    auto add = [&](const char *what, OpArgs a, int32_t status, const char *needle) {
        cases.push_back({what, a, status, needle});
    };
    OpArgs a;
    a = Valid(); a.tokens.present = false; add("null tokens", a, kErrParamNullptr, "tokens is null");
    a = Valid(); a.tokens = Desc(kFloat16, {64}); add("1-D tokens", a, kErrParamInvalid, "tokens must be 2-D");
    a = Valid(); a.tokens.dtype = kDouble; a.permuteTokens.dtype = kDouble;
    add("double tokens", a, kErrParamInvalid, "tokens has dtype DOUBLE");
    a = Valid(); a.tokens.format = 29; add("NZ tokens", a, kErrParamInvalid, "tokens has format 29");
    a = Valid(); a.tokens.contiguous = false; add("strided tokens", a, kErrParamInvalid, "tokens must be contiguous");
    a = Valid(); a.tokens = Desc(kFloat16, {64, 0}); a.permuteTokens = Desc(kFloat16, {64, 0});
    add("H = 0", a, kErrParamInvalid, "H must be >= 1");
    a = Valid(); a.expertTokenNumPerRank.present = false;
    add("null counts", a, kErrParamNullptr, "expert_token_num_per_rank is null");
    a = Valid(); a.expertTokenNumPerRank = Desc(kInt32, {16});
    add("1-D counts", a, kErrParamInvalid, "expert_token_num_per_rank must be 2-D");
    a = Valid(); a.expertTokenNumPerRank.dtype = kFloat; a.expertTokenNum.dtype = kFloat;
    add("float counts", a, kErrParamInvalid, "expert_token_num_per_rank has dtype FLOAT");
    a = Valid(); a.expertTokenNumPerRank = Desc(kInt32, {0, 4});
    add("N = 0", a, kErrParamInvalid, "N and E must be >= 1");
    a = Valid(); a.perTokenScales = Desc(kFloat, {63});
    add("short scales", a, kErrParamInvalid, "per_token_scales has shape [63] but must be [64]");
    a = Valid(); a.perTokenScales.dtype = kFloat16; a.permutePerTokenScales.dtype = kFloat16;
    add("fp16 scales", a, kErrParamInvalid, "per_token_scales has dtype FLOAT16");
    a = Valid(); a.expertTokenNumType = 2; add("type 2", a, kErrParamInvalid, "expert_token_num_type is 2");
    a = Valid(); a.idxType = -1; add("idx -1", a, kErrParamInvalid, "idx_type is -1");
    a = Valid(); a.permuteTokens = Desc(kFloat16, {64, 127});
    add("out tokens shape", a, kErrParamInvalid, "permute_tokens has shape [64, 127] but must be [64, 128]");
    a = Valid(); a.permuteTokens.dtype = kBf16;
    add("out tokens dtype", a, kErrParamInvalid, "permute_tokens has dtype BF16 but must be FLOAT16");
    a = Valid(); a.permuteTokens.present = false;
    add("null out tokens", a, kErrParamNullptr, "permute_tokens is null");
    a = Valid(); a.permutePerTokenScales.present = false;
    add("null out scales", a, kErrParamNullptr, "permute_per_token_scales is null");
    a = Valid(); a.permuteTokenIdx.dtype = kInt64;
    add("int64 idx", a, kErrParamInvalid, "permute_token_idx has dtype INT64 but must be INT32");
    a = Valid(); a.permuteTokenIdx.present = false;
    add("null idx", a, kErrParamNullptr, "permute_token_idx is null");
    a = Valid(); a.expertTokenNum = Desc(kInt32, {5});
    add("expert shape", a, kErrParamInvalid, "expert_token_num has shape [5] but must be [4]");
    a = Valid(); a.expertTokenNum.dtype = kInt64;
    add("expert dtype", a, kErrParamInvalid, "expert_token_num has dtype INT64 but must be INT32");
    a = Valid(); a.expertTokenNum.present = false;
    add("null expert", a, kErrParamNullptr, "expert_token_num is null");
    a = Valid(); a.tokens = Desc(kInt8, {int64_t{1} << 31, 8}); a.permuteTokens = a.tokens;
    add("A too large", a, kErrParamInvalid, "permute_token_idx is int32");

    for (const Case &c : cases) {
        Result r = Check(c.args);
        if (r.status != c.status || r.message.find(c.needle) == std::string::npos) {
            ADD_FAILURE() << std::string(c.what) + ": got " + std::to_string(r.status) + " \"" + r.message + "\"";
        }
    }
}

TEST(HostChecks, count_values_negative_and_sum)
{
    Problem p;
    ASSERT_TRUE(CheckArgs(Valid(10, 8, 2, 3), &p).ok());
    std::vector<int32_t> good = {1, 2, 0, 3, 4, 0};
    EXPECT_TRUE(CheckCountValues(p, good.data()).ok());
    std::vector<int32_t> negative = {1, 2, 0, 3, -4, 8};
    Result r = CheckCountValues(p, negative.data());
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "expert_token_num_per_rank[1, 1] is -4", r.message);
    std::vector<int32_t> big = {1, 2, 0, 3, 4, 60};
    r = CheckCountValues(p, big.data());
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "expert_token_num_per_rank sums to 70 but tokens has 10 rows", r.message);

    Problem p64;
    ASSERT_TRUE(CheckArgs(Valid(10, 8, 1, 2, kFloat16, kInt64), &p64).ok());
    std::vector<int64_t> overflow = {INT64_MAX, 5};
    r = CheckCountValues(p64, overflow.data());
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "sums to more than 2^63", r.message);
}

TEST(HostChecks, zero_tokens_is_valid)
{
    Problem p;
    ASSERT_TRUE(CheckArgs(Valid(0, 16, 3, 5), &p).ok());
    std::vector<int32_t> zeros(15, 0);
    EXPECT_TRUE(CheckCountValues(p, zeros.data()).ok());
}

// A zero-size dimension the operator never takes is reported as such, not as a contiguity problem:
// Describe (cpu_backend/aclnn) may find the view of such a shape non-contiguous (numpy gives an
// empty array strides that are not the row-major ones), and the shape checks come first.
TEST(HostChecks, zero_size_dimensions_name_the_shape_before_contiguity)
{
    struct Case {
        const char *what;
        OpArgs args;
        const char *needle;
    };
    std::vector<Case> cases;
    OpArgs a;
    a = Valid(6, 16, 2, 2); a.tokens = Desc(kFloat16, {6, 0}); a.tokens.contiguous = false;
    a.permuteTokens = Desc(kFloat16, {6, 0});
    cases.push_back({"tokens [6, 0]", a, "tokens has H = 0 but H must be >= 1"});
    a = Valid(6, 16, 2, 2); a.expertTokenNumPerRank = Desc(kInt32, {2, 0});
    a.expertTokenNumPerRank.contiguous = false;
    cases.push_back({"counts [2, 0]", a, "expert_token_num_per_rank has shape [2, 0] but N and E must be >= 1"});
    a = Valid(6, 16, 2, 2); a.expertTokenNumPerRank = Desc(kInt32, {0, 3});
    a.expertTokenNumPerRank.contiguous = false;
    cases.push_back({"counts [0, 3]", a, "N and E must be >= 1"});
    a = Valid(6, 16, 2, 2); a.perTokenScales = Desc(kFloat, {6, 0}); a.perTokenScales.contiguous = false;
    cases.push_back({"scales [6, 0]", a, "per_token_scales has shape [6, 0] but must be [6] or [6, S] with S >= 1"});
    a = Valid(6, 16, 2, 2); a.tokens = Desc(kFloat16, {6, 16, 0}); a.tokens.contiguous = false;
    cases.push_back({"3-D tokens", a, "tokens must be 2-D [A, H] but has shape [6, 16, 0]"});
    a = Valid(6, 16, 2, 2); a.tokens.contiguous = false; a.tokens.dtype = kDouble;
    cases.push_back({"strided double tokens", a, "tokens has dtype DOUBLE"});
    a = Valid(6, 16, 2, 2); a.permuteTokens = Desc(kFloat16, {6, 0}); a.permuteTokens.contiguous = false;
    cases.push_back({"out tokens [6, 0]", a, "permute_tokens has shape [6, 0] but must be [6, 16]"});
    for (const Case &c : cases) {
        const Result r = Check(c.args);
        EXPECT_EQ(r.status, kErrParamInvalid) << c.what;
        EXPECT_PRED_FORMAT2(::testing::IsSubstring, c.needle, r.message) << c.what;
        EXPECT_EQ(r.message.find("contiguous"), std::string::npos) << c.what << ": " << r.message;
    }
}

// Contiguity is still checked, for every tensor, once its shape is right.
TEST(HostChecks, a_strided_tensor_of_a_valid_shape_is_reported_as_not_contiguous)
{
    const char *const names[] = {"tokens", "expert_token_num_per_rank", "per_token_scales", "permute_tokens",
                                 "permute_per_token_scales", "permute_token_idx", "expert_token_num"};
    for (int i = 0; i < 7; ++i) {
        OpArgs a = Valid();
        TensorDesc *t[] = {&a.tokens, &a.expertTokenNumPerRank, &a.perTokenScales, &a.permuteTokens,
                           &a.permutePerTokenScales, &a.permuteTokenIdx, &a.expertTokenNum};
        t[i]->contiguous = false;
        const Result r = Check(a);
        EXPECT_EQ(r.status, kErrParamInvalid) << names[i];
        EXPECT_EQ(r.message, std::string(names[i]) + " must be contiguous (row-major strides, offset 0)");
    }
}

namespace {

// A valid MoeReRoutingWithCapacity call: N slots of C rows (E for the restore, which takes counts.T).
OpArgs ValidCapacity(int64_t N, int64_t E, int64_t C, bool restore = false)
{
    OpArgs a = Valid((restore ? E : N) * C, 32, N, E, kInt8, kInt32, true);
    a.withCapacity = true;
    a.numMaxTokensPerRank = C;
    a.restore = restore;
    return a;
}

}  // namespace

TEST(HostChecks, capacity_gives_a_slot_stride_on_the_slotted_side)
{
    Problem p;
    ASSERT_TRUE(CheckArgs(ValidCapacity(4, 3, 10), &p).ok());
    EXPECT_EQ(p.tokenNum, 40);
    EXPECT_EQ(p.srcSlotRows, 10);
    EXPECT_EQ(p.dstSlotRows, 0);
    ASSERT_TRUE(CheckArgs(ValidCapacity(3, 4, 10, true), &p).ok());  // counts.T [3, 4]: 4 ranks
    EXPECT_EQ(p.tokenNum, 40);
    EXPECT_EQ(p.srcSlotRows, 0);
    EXPECT_EQ(p.dstSlotRows, 10);
    ASSERT_TRUE(CheckArgs(Valid(), &p).ok());  // MoeReRouting: packed
    EXPECT_EQ(p.srcSlotRows + p.dstSlotRows, 0);
}

TEST(HostChecks, capacity_errors_name_num_max_tokens_per_rank)
{
    struct Bad {
        OpArgs args;
        const char *message;
    } cases[] = {
        {[] { OpArgs a = ValidCapacity(4, 3, 10); a.numMaxTokensPerRank = 0; return a; }(),
         "num_max_tokens_per_rank is 0 but must be >= 1"},
        {[] { OpArgs a = ValidCapacity(4, 3, 10); a.numMaxTokensPerRank = -3; return a; }(),
         "num_max_tokens_per_rank is -3 but must be >= 1"},
        {[] { OpArgs a = ValidCapacity(4, 3, 10); a.numMaxTokensPerRank = 11; return a; }(),
         "tokens has 40 rows but must be N * num_max_tokens_per_rank = 4 * 11 = 44"},
        {[] { OpArgs a = ValidCapacity(3, 4, 10, true); a.restore = false; return a; }(),
         "tokens has 40 rows but must be N * num_max_tokens_per_rank = 3 * 10 = 30"},
        {[] { OpArgs a = ValidCapacity(4, 3, 10); a.numMaxTokensPerRank = int64_t{1} << 30; return a; }(),
         "N * num_max_tokens_per_rank must be at most 2147483647"},
    };
    for (const Bad &bad : cases) {
        const Result r = Check(bad.args);
        EXPECT_EQ(r.status, kErrParamInvalid) << bad.message;
        EXPECT_EQ(r.Kind(), ErrorKind::kValue) << bad.message;
        EXPECT_PRED_FORMAT2(::testing::IsSubstring, bad.message, r.message);
    }
}

TEST(HostChecks, capacity_count_values_are_checked_per_slot_not_against_the_rows)
{
    Problem p;
    ASSERT_TRUE(CheckArgs(ValidCapacity(2, 3, 5), &p).ok());
    const std::vector<int32_t> within = {2, 0, 3, 0, 0, 0};  // rank 0 full, rank 1 empty: 5 of 10 rows
    EXPECT_TRUE(CheckCountValues(p, within.data()).ok());
    const std::vector<int32_t> over = {1, 1, 1, 4, 2, 0};  // rank 1 holds 6
    Result r = CheckCountValues(p, over.data());
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring,
                        "expert_token_num_per_rank row 1 (rank 1) sums to 6 but num_max_tokens_per_rank is 5",
                        r.message);
    const std::vector<int32_t> negative = {1, -1, 0, 0, 0, 0};
    EXPECT_EQ(CheckCountValues(p, negative.data()).status, kErrParamInvalid);

    // The restore takes counts.T [E, N]: its columns are the ranks.
    ASSERT_TRUE(CheckArgs(ValidCapacity(3, 2, 5, true), &p).ok());
    const std::vector<int32_t> columns = {2, 3, 3, 0, 0, 3};  // column 1 sums to 6
    r = CheckCountValues(p, columns.data());
    EXPECT_PRED_FORMAT2(::testing::IsSubstring,
                        "expert_token_num_per_rank column 1 (rank 1 of the restore's counts.T) sums to 6", r.message);
    const std::vector<int64_t> huge = {INT64_MAX, 0, 0, 0, 0, INT64_MAX};  // no overflow to a small sum
    Problem p64;
    OpArgs a64 = ValidCapacity(3, 2, 5, true);
    a64.expertTokenNumPerRank.dtype = kInt64;
    a64.expertTokenNum.dtype = kInt64;
    ASSERT_TRUE(CheckArgs(a64, &p64).ok());
    r = CheckCountValues(p64, huge.data());
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "num_max_tokens_per_rank is 5", r.message);
}
