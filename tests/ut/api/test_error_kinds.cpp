// The structured error of the CPU backend (moe_re_routing_cpu.h): every class of bad input gets its
// status, its MoeReRoutingErrorKind, a message naming the parameter and no output byte written; a
// success resets the thread's error. Also the status table the bindings read the values from.
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "op_fixture.h"

using namespace api_test;

namespace {

Spec SmallSpec()
{
    Spec s;
    s.counts = {{3, 1, 0}, {2, 0, 4}};  // A = 10, N = 2, E = 3
    s.hidden = 24;
    return s;
}

// Runs both phases; expects `status`, `kind`, `needle` in the message and untouched outputs.
void ExpectKind(Fixture &f, aclnnStatus status, int32_t kind, const std::string &needle)
{
    EXPECT_EQ(f.Run(), status);
    EXPECT_EQ(MoeReRoutingLastErrorKind(), kind) << aclGetRecentErrMsg();
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, needle, aclGetRecentErrMsg());
    EXPECT_TRUE(f.OutputsUntouched());
}

}  // namespace

TEST(ErrorKinds, each_class_of_bad_input)
{
    {
        Fixture f(SmallSpec());
        f.arg[kCounts] = nullptr;
        ExpectKind(f, ACLNN_ERR_PARAM_NULLPTR, MOE_RE_ROUTING_ERROR_NULLPTR, "expert_token_num_per_rank");
    }
    {
        Fixture f(SmallSpec());
        f.Replace(kTokens, {10, 24}, ACL_DOUBLE);
        ExpectKind(f, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_TYPE, "tokens has dtype");
    }
    {
        Fixture f(SmallSpec());
        f.Replace(kOutIdx, {10}, ACL_INT64);
        ExpectKind(f, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_TYPE, "permute_token_idx has dtype");
    }
    {
        Fixture f(SmallSpec());
        f.Replace(kTokens, {10, 24, 1}, ACL_FLOAT16);
        ExpectKind(f, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE, "tokens must be 2-D");
    }
    {
        Fixture f(SmallSpec());
        f.Replace(kTokens, {10, 24}, ACL_FLOAT16, nullptr, 0, ACL_FORMAT_NC1HWC0);
        ExpectKind(f, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE, "format");
    }
    {
        Fixture f(SmallSpec());
        f.idxType = 2;
        ExpectKind(f, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE, "idx_type is 2");
    }
    {
        Spec s = SmallSpec();
        Fixture f(s);
        const int32_t lie = 4;  // counts[0][0] 3 -> 4: sum 11 for 10 rows
        std::memcpy(f.buffer(kCounts).data(), &lie, sizeof(lie));
        ExpectKind(f, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE, "sums to 11");
    }
    {
        Fixture f(SmallSpec());
        f.Replace(kOutScales, {10}, ACL_FLOAT, nullptr, 0, ACL_FORMAT_ND, f.buffer(kOutTokens).data());
        ExpectKind(f, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE, "overlaps");
    }
    {
        // A packed-fp4 value error whose message names a dtype: the kind, not the text, classifies.
        Spec s = SmallSpec();
        s.tokenDtype = ACL_FLOAT4_E2M1;
        Fixture f(s);
        f.Replace(kTokens, {10, 23}, ACL_FLOAT4_E2M1);
        ExpectKind(f, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE, "must be even");
    }
    {
        uint32_t cores = 0;
        uint32_t ub = 0;
        MoeReRoutingCpuGetPlatform(&cores, &ub);
        ASSERT_EQ(MoeReRoutingCpuSetPlatform(0, 256), ACLNN_SUCCESS);
        Fixture f(SmallSpec());
        EngineScope emulator("emulator");  // only the emulator engine tiles
        const aclnnStatus st = f.Run();
        const int32_t kind = MoeReRoutingLastErrorKind();
        MoeReRoutingCpuSetPlatform(cores, ub);
        EXPECT_EQ(st, ACLNN_ERR_INNER_TILING_ERROR);
        EXPECT_EQ(kind, MOE_RE_ROUTING_ERROR_TILING);
        EXPECT_TRUE(f.OutputsUntouched());
    }
    EXPECT_EQ(aclnnMoeReRouting(nullptr, 0, nullptr, nullptr), ACLNN_ERR_PARAM_NULLPTR);
    EXPECT_EQ(MoeReRoutingLastErrorKind(), MOE_RE_ROUTING_ERROR_NULLPTR);
}

TEST(ErrorKinds, a_success_resets_the_threads_error)
{
    Fixture bad(SmallSpec());
    bad.idxType = 9;
    ASSERT_EQ(bad.Run(), ACLNN_ERR_PARAM_INVALID);
    ASSERT_NE(MoeReRoutingLastErrorKind(), MOE_RE_ROUTING_ERROR_NONE);
    Fixture good(SmallSpec());
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    ASSERT_EQ(good.Prepare(&workspaceSize, &executor), ACLNN_SUCCESS);
    EXPECT_EQ(MoeReRoutingLastErrorKind(), MOE_RE_ROUTING_ERROR_NONE);
    EXPECT_STREQ(aclGetRecentErrMsg(), "");
    bad.Run();
    ASSERT_EQ(aclnnMoeReRouting(nullptr, workspaceSize, executor, nullptr), ACLNN_SUCCESS);
    EXPECT_EQ(MoeReRoutingLastErrorKind(), MOE_RE_ROUTING_ERROR_NONE);
    EXPECT_STREQ(aclGetRecentErrMsg(), "");
    EXPECT_EQ(good.CompareWithReference(), std::string());
}

TEST(ErrorKinds, acl_create_tensor_rejections_have_kinds)
{
    const int64_t dims[] = {4, -1};
    EXPECT_EQ(aclCreateTensor(dims, 2, ACL_FLOAT, nullptr, 0, ACL_FORMAT_ND, dims, 2, nullptr), nullptr);
    EXPECT_EQ(MoeReRoutingLastErrorKind(), MOE_RE_ROUTING_ERROR_VALUE);
    EXPECT_EQ(aclCreateTensor(nullptr, 2, ACL_FLOAT, nullptr, 0, ACL_FORMAT_ND, dims, 2, nullptr), nullptr);
    EXPECT_EQ(MoeReRoutingLastErrorKind(), MOE_RE_ROUTING_ERROR_NULLPTR);
}

TEST(ErrorKinds, names_and_status_table)
{
    EXPECT_STREQ(MoeReRoutingErrorKindName(MOE_RE_ROUTING_ERROR_TYPE), "type");
    EXPECT_STREQ(MoeReRoutingErrorKindName(MOE_RE_ROUTING_ERROR_VALUE), "value");
    EXPECT_STREQ(MoeReRoutingErrorKindName(MOE_RE_ROUTING_ERROR_NULLPTR), "nullptr");
    EXPECT_STREQ(MoeReRoutingErrorKindName(42), "unknown");
    const MoeReRoutingStatusInfo *table = nullptr;
    const int32_t n = MoeReRoutingStatusTable(&table);
    const struct {
        const char *name;
        int32_t code;
    } expected[] = {
        {"ACLNN_SUCCESS", ACLNN_SUCCESS},
        {"ACLNN_ERR_PARAM_NULLPTR", ACLNN_ERR_PARAM_NULLPTR},
        {"ACLNN_ERR_PARAM_INVALID", ACLNN_ERR_PARAM_INVALID},
        {"ACLNN_ERR_RUNTIME_ERROR", ACLNN_ERR_RUNTIME_ERROR},
        {"ACLNN_ERR_INNER_TILING_ERROR", ACLNN_ERR_INNER_TILING_ERROR},
        {"ACL_ERROR_REPEAT_INITIALIZE", ACL_ERROR_REPEAT_INITIALIZE},
        {"ACL_ERROR_INVALID_PARAM", ACL_ERROR_INVALID_PARAM},
    };
    for (const auto &e : expected) {
        int found = 0;
        for (int32_t i = 0; i < n; ++i) {
            if (std::string(table[i].name) == e.name) {
                ++found;
                EXPECT_EQ(table[i].code, e.code) << e.name;
            }
        }
        EXPECT_EQ(found, 1) << e.name;
    }
    EXPECT_STREQ(MoeReRoutingStatusName(ACLNN_ERR_PARAM_INVALID), "ACLNN_ERR_PARAM_INVALID");
    EXPECT_STREQ(MoeReRoutingStatusName(0), "ACLNN_SUCCESS");
    EXPECT_STREQ(MoeReRoutingStatusName(12345), "UNKNOWN");
}
