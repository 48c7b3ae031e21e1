// aclnnMoeReRouting through its public C API: every status path with a message naming the
// parameter and no output byte written on error; executor misuse; A = 0; all four modes against
// the reference; concurrent callers.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "op_fixture.h"

using namespace api_test;

namespace {

// Expects `status` from GetWorkspaceSize, a message containing `needle`, no executor and
// untouched outputs.
void ExpectRejected(Fixture &f, aclnnStatus status, const std::string &needle)
{
    uint64_t workspaceSize = 12345;
    aclOpExecutor *executor = reinterpret_cast<aclOpExecutor *>(&workspaceSize);  // must be reset to null
    EXPECT_EQ(f.Prepare(&workspaceSize, &executor), status);
    EXPECT_TRUE(executor == nullptr);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, needle, aclGetRecentErrMsg());
    EXPECT_TRUE(f.OutputsUntouched());
}

Spec SmallSpec()
{
    Spec s;
    s.counts = {{3, 1, 0}, {2, 0, 4}};  // A = 10, N = 2, E = 3
    s.hidden = 24;
    return s;
}

}  // namespace

TEST(AclnnMoeReRouting, null_required_tensor_each)
{
    for (int slot = 0; slot < kSlotCount; ++slot) {
        if (slot == kScales) {
            continue;  // optional
        }
        Fixture f(SmallSpec());
        f.arg[slot] = nullptr;
        ExpectRejected(f, ACLNN_ERR_PARAM_NULLPTR, kSlotNames[slot]);
    }
}

TEST(AclnnMoeReRouting, null_workspace_size_and_executor_pointers)
{
    Fixture f(SmallSpec());
    aclOpExecutor *executor = nullptr;
    uint64_t workspaceSize = 0;
    EXPECT_EQ(f.Prepare(nullptr, &executor), ACLNN_ERR_PARAM_NULLPTR);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "workspaceSize", aclGetRecentErrMsg());
    EXPECT_EQ(f.Prepare(&workspaceSize, nullptr), ACLNN_ERR_PARAM_NULLPTR);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "executor", aclGetRecentErrMsg());
    EXPECT_TRUE(f.OutputsUntouched());
}

TEST(AclnnMoeReRouting, null_data_address_of_nonempty_tensor)
{
    Fixture f(SmallSpec());
    f.Replace(kOutTokens, {10, 24}, ACL_FLOAT16, nullptr, 0, ACL_FORMAT_ND, nullptr);
    ExpectRejected(f, ACLNN_ERR_PARAM_NULLPTR, "permute_tokens");
}

TEST(AclnnMoeReRouting, wrong_rank_each_tensor)
{
    const std::vector<std::pair<Slot, std::vector<int64_t>>> cases = {
        {kTokens, {240}},        {kCounts, {6}},         {kScales, {10, 1, 1}}, {kOutTokens, {240}},
        {kOutScales, {10, 1, 1}}, {kOutIdx, {10, 1}},    {kOutExpert, {1, 3}},
    };
    const aclDataType dtypes[kSlotCount] = {ACL_FLOAT16, ACL_INT32, ACL_FLOAT, ACL_FLOAT16, ACL_FLOAT, ACL_INT32, ACL_INT32};
    for (const auto &c : cases) {
        Fixture f(SmallSpec());
        f.Replace(c.first, c.second, dtypes[c.first]);
        ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, kSlotNames[c.first]);
    }
}

TEST(AclnnMoeReRouting, wrong_shape_each_tensor)
{
    const std::vector<std::pair<Slot, std::vector<int64_t>>> cases = {
        {kScales, {11}},       {kOutTokens, {10, 23}}, {kOutTokens, {9, 24}}, {kOutScales, {9}},
        {kOutIdx, {11}},       {kOutExpert, {4}},      {kCounts, {0, 3}},
    };
    const aclDataType dtypes[kSlotCount] = {ACL_FLOAT16, ACL_INT32, ACL_FLOAT, ACL_FLOAT16, ACL_FLOAT, ACL_INT32, ACL_INT32};
    for (const auto &c : cases) {
        Fixture f(SmallSpec());
        f.Replace(c.first, c.second, dtypes[c.first]);
        ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, kSlotNames[c.first]);
    }
}

TEST(AclnnMoeReRouting, wrong_dtype_each_tensor)
{
    const std::vector<std::pair<Slot, aclDataType>> cases = {
        {kTokens, ACL_INT64},     {kTokens, ACL_DOUBLE},  {kCounts, ACL_FLOAT},  {kCounts, ACL_INT16},
        {kScales, ACL_FLOAT16},   {kOutTokens, ACL_BF16}, {kOutScales, ACL_INT32}, {kOutIdx, ACL_INT64},
        {kOutExpert, ACL_INT64},
    };
    const std::vector<int64_t> shapes[kSlotCount] = {{10, 24}, {2, 3}, {10}, {10, 24}, {10}, {10}, {3}};
    for (const auto &c : cases) {
        Fixture f(SmallSpec());
        f.Replace(c.first, shapes[c.first], c.second);
        ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, kSlotNames[c.first]);
    }
}

TEST(AclnnMoeReRouting, wrong_format_each_tensor)
{
    const std::vector<int64_t> shapes[kSlotCount] = {{10, 24}, {2, 3}, {10}, {10, 24}, {10}, {10}, {3}};
    const aclDataType dtypes[kSlotCount] = {ACL_FLOAT16, ACL_INT32, ACL_FLOAT, ACL_FLOAT16, ACL_FLOAT, ACL_INT32, ACL_INT32};
    for (int slot = 0; slot < kSlotCount; ++slot) {
        Fixture f(SmallSpec());
        f.Replace(static_cast<Slot>(slot), shapes[slot], dtypes[slot], nullptr, 0, ACL_FORMAT_FRACTAL_NZ);
        ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, kSlotNames[slot]);
    }
}

TEST(AclnnMoeReRouting, non_contiguous_view_each_tensor)
{
    const std::vector<int64_t> shapes[kSlotCount] = {{10, 24}, {2, 3}, {10}, {10, 24}, {10}, {10}, {3}};
    const aclDataType dtypes[kSlotCount] = {ACL_FLOAT16, ACL_INT32, ACL_FLOAT, ACL_FLOAT16, ACL_FLOAT, ACL_INT32, ACL_INT32};
    for (int slot = 0; slot < kSlotCount; ++slot) {
        // A view starting at element 2: what passing ACL_FORMAT_ND (2) as the offset argument gives.
        Fixture f(SmallSpec());
        f.Replace(static_cast<Slot>(slot), shapes[slot], dtypes[slot], nullptr, 2, ACL_FORMAT_ND);
        ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, kSlotNames[slot]);
    }
    // A transposed (column-major) view of tokens.
    Fixture f(SmallSpec());
    const int64_t transposed[2] = {1, 10};
    f.Replace(kTokens, {10, 24}, ACL_FLOAT16, transposed);
    ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, "tokens");
}

TEST(AclnnMoeReRouting, zero_element_view_whose_row_major_strides_overflow_is_rejected)
{
    // 0 x 2^62 x 4 has no elements, so its count fits int64, but its row-major stride for the
    // first dimension (2^64) does not: the view is not contiguous and is rejected by name
    // (found by fuzz_aclnn; the stride product once overflowed, which UBSan reports).
    Fixture f(SmallSpec());
    const int64_t strides[3] = {int64_t{1} << 62, 4, 1};
    f.Replace(kTokens, {0, int64_t{1} << 62, 4}, ACL_FLOAT16, strides);
    ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, "tokens");
}

TEST(AclnnMoeReRouting, contiguous_strides_given_explicitly_are_accepted)
{
    Fixture f(SmallSpec());
    const int64_t rowMajor[2] = {24, 1};
    f.Replace(kTokens, {10, 24}, ACL_FLOAT16, rowMajor);
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    ASSERT_TRUE(f.Prepare(&workspaceSize, &executor) == ACLNN_SUCCESS);
    EXPECT_EQ(aclnnMoeReRouting(nullptr, workspaceSize, executor, nullptr), ACLNN_SUCCESS);
}

TEST(AclnnMoeReRouting, attributes_out_of_range)
{
    for (int64_t bad : {int64_t{-1}, int64_t{2}, int64_t{100}}) {
        Fixture f(SmallSpec());
        f.expertTokenNumType = bad;
        ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, "expert_token_num_type");
        Fixture g(SmallSpec());
        g.idxType = bad;
        ExpectRejected(g, ACLNN_ERR_PARAM_INVALID, "idx_type");
    }
}

TEST(AclnnMoeReRouting, negative_count)
{
    Spec s = SmallSpec();
    s.counts = {{3, 1, -1}, {2, 1, 4}};  // sums to A = 10, one cell negative
    Fixture f(s);
    ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, "expert_token_num_per_rank");
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "-1", aclGetRecentErrMsg());
}

TEST(AclnnMoeReRouting, counts_sum_differs_from_rows)
{
    Spec s;
    s.counts = {{32, 32}};  // A = 64
    Fixture f(s);
    int32_t *counts = reinterpret_cast<int32_t *>(f.buffer(kCounts).data());
    counts[1] = 38;  // now sums to 70
    ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, "expert_token_num_per_rank sums to 70 but tokens has 64 rows");
}

TEST(AclnnMoeReRouting, int64_counts_checked_too)
{
    Spec s = SmallSpec();
    s.countDtype = ACL_INT64;
    Fixture f(s);
    reinterpret_cast<int64_t *>(f.buffer(kCounts).data())[0] = 4;
    ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, "sums to 11");
}

TEST(AclnnMoeReRouting, output_sharing_memory_with_input)
{
    Fixture f(SmallSpec());
    f.Replace(kOutTokens, {10, 24}, ACL_FLOAT16, nullptr, 0, ACL_FORMAT_ND, f.buffer(kTokens).data());
    ExpectRejected(f, ACLNN_ERR_PARAM_INVALID, "permute_tokens");
}

TEST(AclnnMoeReRouting, tiling_error_is_reported)
{
    uint32_t cores = 0;
    uint32_t ub = 0;
    MoeReRoutingCpuGetPlatform(&cores, &ub);
    ASSERT_TRUE(MoeReRoutingCpuSetPlatform(0, 256) == ACLNN_SUCCESS);  // far too small for any buffer set
    Fixture f(SmallSpec());
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    aclnnStatus status;
    {
        EngineScope emulator("emulator");  // the native engine has no tiling
        status = f.Prepare(&workspaceSize, &executor);
    }
    MoeReRoutingCpuSelectPlatform("Ascend910B", 0);
    EXPECT_EQ(status, ACLNN_ERR_INNER_TILING_ERROR);
    EXPECT_TRUE(executor == nullptr);
    EXPECT_TRUE(std::string(aclGetRecentErrMsg()).size() > 10);
    EXPECT_TRUE(f.OutputsUntouched());
}

TEST(AclnnMoeReRouting, executor_null)
{
    EXPECT_EQ(aclnnMoeReRouting(nullptr, 0, nullptr, nullptr), ACLNN_ERR_PARAM_NULLPTR);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "executor", aclGetRecentErrMsg());
}

TEST(AclnnMoeReRouting, executor_reused_or_foreign)
{
    Fixture f(SmallSpec());
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    ASSERT_TRUE(f.Prepare(&workspaceSize, &executor) == ACLNN_SUCCESS);
    EXPECT_EQ(workspaceSize, uint64_t{0});
    EXPECT_EQ(aclnnMoeReRouting(nullptr, workspaceSize, executor, nullptr), ACLNN_SUCCESS);
    EXPECT_EQ(aclnnMoeReRouting(nullptr, workspaceSize, executor, nullptr), ACLNN_ERR_PARAM_INVALID);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "executor was already consumed", aclGetRecentErrMsg());
    int notAnExecutor = 0;
    EXPECT_EQ(aclnnMoeReRouting(nullptr, 0, reinterpret_cast<aclOpExecutor *>(&notAnExecutor), nullptr), ACLNN_ERR_PARAM_INVALID);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "executor", aclGetRecentErrMsg());
}

TEST(AclnnMoeReRouting, executor_consumed_even_when_the_run_fails)
{
    Fixture f(SmallSpec());
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    ASSERT_TRUE(f.Prepare(&workspaceSize, &executor) == ACLNN_SUCCESS);
    EXPECT_EQ(aclnnMoeReRouting(nullptr, 64, executor, nullptr), ACLNN_ERR_PARAM_NULLPTR);  // size without buffer
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "workspace", aclGetRecentErrMsg());
    EXPECT_TRUE(f.OutputsUntouched());
    EXPECT_EQ(aclnnMoeReRouting(nullptr, 0, executor, nullptr), ACLNN_ERR_PARAM_INVALID);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "already consumed", aclGetRecentErrMsg());
}

TEST(AclnnMoeReRouting, invalid_stream)
{
    aclrtStream stream = nullptr;
    ASSERT_TRUE(aclrtCreateStream(&stream) == ACL_SUCCESS);
    ASSERT_TRUE(aclrtDestroyStream(stream) == ACL_SUCCESS);
    Fixture f(SmallSpec());
    EXPECT_EQ(f.Run(stream), ACLNN_ERR_PARAM_INVALID);  // a destroyed stream
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "stream", aclGetRecentErrMsg());
    EXPECT_TRUE(f.OutputsUntouched());
}

// ---- correctness -------------------------------------------------------------------------------

TEST(AclnnMoeReRouting, all_four_modes_with_and_without_scales)
{
    for (int64_t type : {int64_t{1}, int64_t{0}}) {
        for (int64_t idx : {int64_t{0}, int64_t{1}}) {
            for (bool scales : {true, false}) {
                Spec s = SmallSpec();
                s.expertTokenNumType = type;
                s.idxType = idx;
                s.hasScales = scales;
                Fixture f(s);
                aclrtStream stream = nullptr;
                ASSERT_TRUE(aclrtCreateStream(&stream) == ACL_SUCCESS);
                EXPECT_EQ(f.Run(stream), ACLNN_SUCCESS);
                EXPECT_EQ(aclrtSynchronizeStream(stream), ACL_SUCCESS);
                aclrtDestroyStream(stream);
                EXPECT_EQ(f.CompareWithReference(), std::string());
            }
        }
    }
}

TEST(AclnnMoeReRouting, dtypes_and_layouts)
{
    std::vector<Spec> specs;
    Spec s;
    s.counts = {{5, 0, 7, 1}, {0, 0, 3, 2}, {6, 1, 0, 4}};
    for (aclDataType t : {ACL_FLOAT16, ACL_BF16, ACL_INT8, ACL_FLOAT, ACL_FLOAT8_E4M3FN, ACL_FLOAT4_E2M1}) {
        s.tokenDtype = t;
        s.hidden = 34;
        specs.push_back(s);
    }
    s.tokenDtype = ACL_FLOAT16;
    s.hidden = 511;  // odd row length
    s.countDtype = ACL_INT64;
    specs.push_back(s);
    s.scaleCols = 3;  // [A, S] scales
    specs.push_back(s);
    s.scaleDtype = ACL_FLOAT8_E8M0;
    s.scaleCols = 5;
    specs.push_back(s);
    for (const Spec &spec : specs) {
        for (int64_t idx : {int64_t{0}, int64_t{1}}) {
            Spec run = spec;
            run.idxType = idx;
            Fixture f(run);
            EXPECT_EQ(f.Run(), ACLNN_SUCCESS);
            EXPECT_EQ(f.CompareWithReference(), std::string());
        }
    }
}

TEST(AclnnMoeReRouting, multi_core_problem_on_the_thread_pool)
{
    Spec s;
    s.counts = moe_re_routing_test::CountRows(moe_re_routing_test::PublicCounts(2049, 8, 8), 8);  // 1 MiB of fp16 tokens: beyond the sequential threshold
    s.hidden = 256;
    s.idxType = 1;
    s.expertTokenNumType = 0;
    Fixture f(s);
    // The emulator engine on the SoC platform: 48 blocks.
    ASSERT_TRUE(MoeReRoutingCpuSelectPlatform("Ascend910B", 0) == ACLNN_SUCCESS);
    ASSERT_TRUE(MoeReRoutingCpuSetTrace(1, nullptr) == ACLNN_SUCCESS);
    {
        EngineScope emulator("emulator");
        EXPECT_EQ(f.Run(), ACLNN_SUCCESS);
    }
    MoeReRoutingCpuSetTrace(0, nullptr);
    EXPECT_EQ(f.CompareWithReference(), std::string());
    const std::string json = MoeReRoutingCpuLastRunJson();
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "\"block_dim\": 48", json);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "\"ub_bytes\": ", json);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "\"tokenNum\": 2049", json);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "\"cores\": [{\"bytes_in\": ", json);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "\"ub_high_water\": ", json);
}

TEST(AclnnMoeReRouting, native_engine_splits_large_calls_over_threads)
{
    Spec s;
    s.counts = moe_re_routing_test::CountRows(moe_re_routing_test::EvenCounts(4099, 8, 8), 8);  // 2 MiB of fp16 tokens
    s.hidden = 256;
    s.idxType = 1;
    Fixture f(s);
    ASSERT_EQ(MoeReRoutingCpuSetThreads(3), ACLNN_SUCCESS);
    {
        EngineScope native("native");
        EXPECT_EQ(f.Run(), ACLNN_SUCCESS);
    }
    MoeReRoutingCpuSetThreads(0);
    EXPECT_EQ(f.CompareWithReference(), std::string());
    const std::string json = MoeReRoutingCpuLastRunJson();
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "\"engine\": \"native\", \"threads\": 3", json);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "\"tokenNum\": 4099", json);
}

TEST(AclnnMoeReRouting, zero_tokens)
{
    for (int64_t type : {int64_t{1}, int64_t{0}}) {
        Spec s;
        s.counts = {{0, 0, 0}, {0, 0, 0}};
        s.expertTokenNumType = type;
        Fixture f(s);
        EXPECT_EQ(f.Run(), ACLNN_SUCCESS);
        EXPECT_EQ(f.CompareWithReference(), std::string());  // expert_token_num all zeros
    }
}

TEST(AclnnMoeReRouting, zero_counts_cells_and_single_rank_or_expert)
{
    for (const auto &counts : std::vector<std::vector<std::vector<int64_t>>>{
             {{0, 9, 0, 0}}, {{4}, {0}, {7}}, {{0, 0}, {0, 13}}, {{1}}}) {
        Spec s;
        s.counts = counts;
        s.hidden = 40;
        Fixture f(s);
        EXPECT_EQ(f.Run(), ACLNN_SUCCESS);
        EXPECT_EQ(f.CompareWithReference(), std::string());
    }
}

// Concurrent callers and per-thread errors: test_concurrency.cpp.

