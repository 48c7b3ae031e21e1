// The AscendCL subset and the CPU-backend extensions: argument checks with real error codes,
// no crash on null or double free, stream error reporting, enum values, the C dtype table.
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "acl/acl.h"
#include "aclnn/acl_meta.h"
#include "moe_re_routing_cpu.h"

TEST(AclRuntime, init_and_finalize)
{
    EXPECT_EQ(aclInit(nullptr), ACL_SUCCESS);
    EXPECT_EQ(aclInit(nullptr), ACL_ERROR_REPEAT_INITIALIZE);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "aclInit", aclGetRecentErrMsg());
    EXPECT_EQ(aclFinalize(), ACL_SUCCESS);
    EXPECT_EQ(aclFinalize(), ACL_ERROR_UNINITIALIZE);
    EXPECT_EQ(aclnnInit(nullptr), ACLNN_SUCCESS);
    EXPECT_EQ(aclnnFinalize(), ACLNN_SUCCESS);
}

TEST(AclRuntime, devices)
{
    int32_t device = -5;
    EXPECT_EQ(aclrtSetDevice(1), ACL_ERROR_INVALID_PARAM);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "deviceId", aclGetRecentErrMsg());
    EXPECT_EQ(aclrtGetDevice(nullptr), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtSetDevice(0), ACL_SUCCESS);
    EXPECT_EQ(aclrtGetDevice(&device), ACL_SUCCESS);
    EXPECT_EQ(device, 0);
    EXPECT_EQ(aclrtResetDevice(0), ACL_SUCCESS);
    EXPECT_EQ(aclrtGetDevice(&device), ACL_ERROR_FAILURE);
    EXPECT_EQ(aclrtResetDevice(-1), ACL_ERROR_INVALID_PARAM);
}

TEST(AclRuntime, malloc_free_and_misuse)
{
    void *p = nullptr;
    EXPECT_EQ(aclrtMalloc(nullptr, 16, ACL_MEM_MALLOC_HUGE_FIRST), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtMalloc(&p, 0, ACL_MEM_MALLOC_HUGE_FIRST), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtMalloc(&p, 16, static_cast<aclrtMemMallocPolicy>(9)), ACL_ERROR_INVALID_PARAM);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "policy", aclGetRecentErrMsg());
    ASSERT_TRUE(aclrtMalloc(&p, 100, ACL_MEM_MALLOC_NORMAL_ONLY) == ACL_SUCCESS);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, uintptr_t{0});
    std::memset(p, 1, 100);
    EXPECT_EQ(aclrtFree(p), ACL_SUCCESS);
    EXPECT_EQ(aclrtFree(p), ACL_ERROR_INVALID_PARAM);  // double free is reported, not performed
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "already freed", aclGetRecentErrMsg());
    EXPECT_EQ(aclrtFree(nullptr), ACL_ERROR_INVALID_PARAM);

    void *h = nullptr;
    ASSERT_TRUE(aclrtMallocHost(&h, 10) == ACL_SUCCESS);
    EXPECT_EQ(aclrtFree(h), ACL_ERROR_INVALID_PARAM);  // host memory is not device memory
    EXPECT_EQ(aclrtFreeHost(h), ACL_SUCCESS);
    EXPECT_EQ(aclrtFreeHost(h), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtFreeHost(nullptr), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtMallocHost(nullptr, 10), ACL_ERROR_INVALID_PARAM);
}

TEST(AclRuntime, memcpy_kinds_and_bounds)
{
    char src[8] = "abcdefg";
    char dst[8] = {};
    for (int kind = ACL_MEMCPY_HOST_TO_HOST; kind <= ACL_MEMCPY_INTER_DEVICE_TO_DEVICE; ++kind) {
        std::memset(dst, 0, sizeof dst);
        EXPECT_EQ(aclrtMemcpy(dst, sizeof dst, src, sizeof src, static_cast<aclrtMemcpyKind>(kind)), ACL_SUCCESS);
        EXPECT_EQ(std::string(dst), std::string("abcdefg"));
    }
    EXPECT_EQ(aclrtMemcpy(dst, sizeof dst, src, sizeof src, static_cast<aclrtMemcpyKind>(8)), ACL_ERROR_INVALID_PARAM);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "kind", aclGetRecentErrMsg());
    EXPECT_EQ(aclrtMemcpy(dst, sizeof dst, src, sizeof src, static_cast<aclrtMemcpyKind>(-1)), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtMemcpy(dst, 4, src, sizeof src, ACL_MEMCPY_HOST_TO_DEVICE), ACL_ERROR_INVALID_PARAM);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "destMax", aclGetRecentErrMsg());
    EXPECT_EQ(aclrtMemcpy(nullptr, 8, src, 8, ACL_MEMCPY_HOST_TO_DEVICE), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtMemcpy(dst, 8, nullptr, 8, ACL_MEMCPY_HOST_TO_DEVICE), ACL_ERROR_INVALID_PARAM);

    EXPECT_EQ(aclrtMemset(dst, sizeof dst, 'z', 3), ACL_SUCCESS);
    EXPECT_EQ(dst[2], 'z');
    EXPECT_EQ(aclrtMemset(dst, 2, 'z', 3), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtMemset(nullptr, 2, 'z', 1), ACL_ERROR_INVALID_PARAM);
}

TEST(AclRuntime, streams)
{
    aclrtStream stream = nullptr;
    EXPECT_EQ(aclrtCreateStream(nullptr), ACL_ERROR_INVALID_PARAM);
    ASSERT_TRUE(aclrtCreateStream(&stream) == ACL_SUCCESS);
    char src[4] = "xyz";
    char dst[4] = {};
    EXPECT_EQ(aclrtMemcpyAsync(dst, 4, src, 4, ACL_MEMCPY_DEVICE_TO_HOST, stream), ACL_SUCCESS);
    EXPECT_EQ(aclrtSynchronizeStream(stream), ACL_SUCCESS);
    EXPECT_EQ(std::string(dst), std::string("xyz"));
    EXPECT_EQ(aclrtMemcpyAsync(dst, 2, src, 4, ACL_MEMCPY_DEVICE_TO_HOST, stream), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtSynchronizeStream(nullptr), ACL_SUCCESS);  // the default stream
    EXPECT_EQ(aclrtDestroyStream(stream), ACL_SUCCESS);
    EXPECT_EQ(aclrtDestroyStream(stream), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtSynchronizeStream(stream), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtMemcpyAsync(dst, 4, src, 4, ACL_MEMCPY_DEVICE_TO_HOST, stream), ACL_ERROR_INVALID_PARAM);
    EXPECT_EQ(aclrtDestroyStream(nullptr), ACL_ERROR_INVALID_PARAM);
}

TEST(AclRuntime, enum_values_match_cann)
{
    EXPECT_EQ(ACL_DT_UNDEFINED, -1);
    EXPECT_EQ(ACL_BF16, 27);
    EXPECT_EQ(ACL_FLOAT8_E4M3FN, 36);
    EXPECT_EQ(ACL_FLOAT4_E1M2, 41);
    EXPECT_EQ(ACL_FORMAT_ND, 2);
    EXPECT_EQ(ACL_FORMAT_FRACTAL_NZ, 29);
    EXPECT_EQ(ACL_MEMCPY_INTER_DEVICE_TO_DEVICE, 7);
    EXPECT_EQ(ACL_ERROR_RT_PARAM_INVALID, 107000);
    EXPECT_EQ(ACLNN_ERR_INNER_NULLPTR, 561103);
}

TEST(AclRuntime, data_type_sizes)
{
    EXPECT_EQ(aclDataTypeSize(ACL_FLOAT16), size_t{2});
    EXPECT_EQ(aclDataTypeSize(ACL_BF16), size_t{2});
    EXPECT_EQ(aclDataTypeSize(ACL_INT64), size_t{8});
    EXPECT_EQ(aclDataTypeSize(ACL_FLOAT8_E8M0), size_t{1});
    EXPECT_EQ(aclDataTypeSize(ACL_COMPLEX128), size_t{16});
    EXPECT_EQ(aclDataTypeSize(ACL_FLOAT4_E2M1), size_t{0});
    EXPECT_EQ(aclDataTypeSize(ACL_DT_UNDEFINED), size_t{0});
}

TEST(AclRuntime, tensor_objects)
{
    int64_t dims[2] = {3, 4};
    float data[12] = {};
    EXPECT_TRUE(aclCreateTensor(nullptr, 2, ACL_FLOAT, nullptr, 0, ACL_FORMAT_ND, dims, 2, data) == nullptr);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "viewDims", aclGetRecentErrMsg());
    int64_t negative[2] = {3, -4};
    EXPECT_TRUE(aclCreateTensor(negative, 2, ACL_FLOAT, nullptr, 0, ACL_FORMAT_ND, dims, 2, data) == nullptr);
    EXPECT_TRUE(aclCreateTensor(dims, 2, ACL_FLOAT, nullptr, -1, ACL_FORMAT_ND, dims, 2, data) == nullptr);
    aclTensor *t = aclCreateTensor(dims, 2, ACL_BF16, nullptr, 0, ACL_FORMAT_NHWC, nullptr, 0, data);
    ASSERT_TRUE(t != nullptr);
    int64_t *view = nullptr;
    uint64_t viewNum = 0;
    EXPECT_EQ(aclGetViewShape(t, &view, &viewNum), ACLNN_SUCCESS);
    EXPECT_EQ(viewNum, uint64_t{2});
    EXPECT_TRUE(view != nullptr && view[0] == 3 && view[1] == 4);
    delete[] view;
    aclDataType dtype = ACL_DT_UNDEFINED;
    aclFormat format = ACL_FORMAT_UNDEFINED;
    EXPECT_EQ(aclGetDataType(t, &dtype), ACLNN_SUCCESS);
    EXPECT_EQ(dtype, ACL_BF16);
    EXPECT_EQ(aclGetFormat(t, &format), ACLNN_SUCCESS);
    EXPECT_EQ(format, ACL_FORMAT_NHWC);
    EXPECT_EQ(aclGetViewShape(nullptr, &view, &viewNum), ACLNN_ERR_PARAM_NULLPTR);
    EXPECT_EQ(aclGetViewShape(t, nullptr, &viewNum), ACLNN_ERR_PARAM_NULLPTR);
    EXPECT_EQ(aclGetDataType(nullptr, &dtype), ACLNN_ERR_PARAM_NULLPTR);
    EXPECT_EQ(aclGetFormat(t, nullptr), ACLNN_ERR_PARAM_NULLPTR);
    EXPECT_EQ(aclDestroyTensor(t), ACLNN_SUCCESS);
    EXPECT_EQ(aclDestroyTensor(nullptr), ACLNN_SUCCESS);
}

TEST(AclRuntime, recent_error_message_never_null)
{
    EXPECT_TRUE(aclGetRecentErrMsg() != nullptr);
}

// ---- CPU-backend extensions --------------------------------------------------------------------

TEST(AclRuntime, dtype_table_from_c)
{
    const MoeReRoutingDtypeInfo *table = nullptr;
    const int32_t n = MoeReRoutingDtypeTable(&table);
    ASSERT_TRUE(n > 0 && table != nullptr);
    EXPECT_EQ(MoeReRoutingDtypeTable(nullptr), n);
    bool sawBf16 = false;
    for (int32_t i = 0; i < n; ++i) {
        if (std::string(table[i].name) == "BF16") {
            sawBf16 = true;
            EXPECT_EQ(table[i].code, ACL_BF16);
            EXPECT_EQ(table[i].bits, uint32_t{16});
            EXPECT_TRUE((table[i].roles & 2u) != 0);  // official tokens dtype
        }
        if (table[i].code == ACL_FLOAT4_E2M1) {
            EXPECT_TRUE((table[i].roles & 16u) != 0);  // packed two per byte
        }
    }
    EXPECT_TRUE(sawBf16);
}

// Every entry of the operator's dtype table names an aclDataType enumerator of the same value.
TEST(AclRuntime, dtype_table_agrees_with_the_acl_enum)
{
    struct Named {
        aclDataType code;
        const char *name;
    };
#define MRR_ACL_DTYPE(name) Named{ACL_##name, #name}
    const Named enumerators[] = {
        MRR_ACL_DTYPE(FLOAT),         MRR_ACL_DTYPE(FLOAT16),     MRR_ACL_DTYPE(INT8),
        MRR_ACL_DTYPE(INT32),         MRR_ACL_DTYPE(UINT8),       MRR_ACL_DTYPE(INT16),
        MRR_ACL_DTYPE(UINT16),        MRR_ACL_DTYPE(UINT32),      MRR_ACL_DTYPE(INT64),
        MRR_ACL_DTYPE(UINT64),        MRR_ACL_DTYPE(DOUBLE),      MRR_ACL_DTYPE(BOOL),
        MRR_ACL_DTYPE(STRING),        MRR_ACL_DTYPE(COMPLEX64),   MRR_ACL_DTYPE(COMPLEX128),
        MRR_ACL_DTYPE(BF16),          MRR_ACL_DTYPE(INT4),        MRR_ACL_DTYPE(UINT1),
        MRR_ACL_DTYPE(COMPLEX32),     MRR_ACL_DTYPE(HIFLOAT8),    MRR_ACL_DTYPE(FLOAT8_E5M2),
        MRR_ACL_DTYPE(FLOAT8_E4M3FN), MRR_ACL_DTYPE(FLOAT8_E8M0), MRR_ACL_DTYPE(FLOAT6_E3M2),
        MRR_ACL_DTYPE(FLOAT6_E2M3),   MRR_ACL_DTYPE(FLOAT4_E2M1), MRR_ACL_DTYPE(FLOAT4_E1M2),
    };
#undef MRR_ACL_DTYPE
    const MoeReRoutingDtypeInfo *table = nullptr;
    const int32_t n = MoeReRoutingDtypeTable(&table);
    ASSERT_GT(n, 0);
    for (int32_t i = 0; i < n; ++i) {
        bool found = false;
        for (const Named &e : enumerators) {
            if (std::string(e.name) == table[i].name) {
                found = true;
                EXPECT_EQ(table[i].code, static_cast<int32_t>(e.code)) << table[i].name;
            }
        }
        EXPECT_TRUE(found) << table[i].name << " is not an aclDataType enumerator";
    }
}

TEST(AclRuntime, dtype_roles_by_name)
{
    EXPECT_EQ(MoeReRoutingDtypeRole("tokens"), 1u);
    EXPECT_EQ(MoeReRoutingDtypeRole("tokens_official"), 2u);
    EXPECT_EQ(MoeReRoutingDtypeRole("counts"), 4u);
    EXPECT_EQ(MoeReRoutingDtypeRole("scales"), 8u);
    EXPECT_EQ(MoeReRoutingDtypeRole("packed4"), 16u);
    EXPECT_EQ(MoeReRoutingDtypeRole("other"), 0u);
    EXPECT_EQ(MoeReRoutingDtypeRole(nullptr), 0u);
}

TEST(AclRuntime, status_names_and_version)
{
    EXPECT_EQ(std::string(MoeReRoutingStatusName(ACLNN_ERR_PARAM_INVALID)), std::string("ACLNN_ERR_PARAM_INVALID"));
    EXPECT_EQ(std::string(MoeReRoutingStatusName(ACLNN_ERR_INNER_TILING_ERROR)), std::string("ACLNN_ERR_INNER_TILING_ERROR"));
    EXPECT_EQ(std::string(MoeReRoutingStatusName(12345)), std::string("UNKNOWN"));
    EXPECT_TRUE(std::string(MoeReRoutingVersion()).find('.') != std::string::npos);
}

TEST(AclRuntime, platform_engine_threads_trace_settings)
{
    uint32_t cores = 0;
    uint32_t ub = 0;
    MoeReRoutingCpuGetPlatform(&cores, &ub);  // the emulator engine's default SoC, Ascend910B,
    EXPECT_EQ(cores, uint32_t{48});
    EXPECT_EQ(ub, uint32_t{196352 - 8192});  // with the UB Ascend C leaves a kernel
    EXPECT_STREQ(MoeReRoutingCpuPlatformName(), "Ascend910B");
    EXPECT_EQ(MoeReRoutingCpuSetPlatform(40, 0), ACLNN_SUCCESS);
    MoeReRoutingCpuGetPlatform(&cores, &ub);
    EXPECT_EQ(cores, uint32_t{40});
    EXPECT_EQ(ub, uint32_t{196352 - 8192});
    EXPECT_STREQ(MoeReRoutingCpuPlatformName(), "custom");
    EXPECT_EQ(MoeReRoutingCpuSetPlatform(0, 100), ACLNN_ERR_PARAM_INVALID);  // not a 32-byte multiple
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "ubBytes", aclGetRecentErrMsg());
    EXPECT_EQ(MoeReRoutingCpuSetPlatform(100000, 0), ACLNN_ERR_PARAM_INVALID);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "aivCoreNum", aclGetRecentErrMsg());
    EXPECT_EQ(MoeReRoutingCpuSelectPlatform("host", 0), ACLNN_ERR_PARAM_INVALID);  // no host-sized platform
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "expected one of Ascend910B", aclGetRecentErrMsg());
    EXPECT_EQ(MoeReRoutingCpuSelectPlatform("Ascend910B", 0), ACLNN_SUCCESS);
    EXPECT_STREQ(MoeReRoutingCpuPlatformName(), "Ascend910B");
    MoeReRoutingCpuGetPlatform(nullptr, nullptr);

    const std::string engine = MoeReRoutingCpuEngineName();  // MOE_RE_ROUTING_ENGINE of this ctest
    EXPECT_TRUE(engine == "native" || engine == "emulator") << engine;
    EXPECT_EQ(MoeReRoutingCpuSetEngine("emulator"), ACLNN_SUCCESS);
    EXPECT_STREQ(MoeReRoutingCpuEngineName(), "emulator");
    EXPECT_EQ(MoeReRoutingCpuSetEngine("fast"), ACLNN_ERR_PARAM_INVALID);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "engine is 'fast'; expected native, emulator", aclGetRecentErrMsg());
    EXPECT_STREQ(MoeReRoutingCpuEngineName(), "emulator");  // a refused name changes nothing
    EXPECT_EQ(MoeReRoutingCpuSetEngine("native"), ACLNN_SUCCESS);
    EXPECT_STREQ(MoeReRoutingCpuEngineName(), "native");
    EXPECT_EQ(MoeReRoutingCpuSetEngine(nullptr), ACLNN_SUCCESS);  // back to the environment's choice
    EXPECT_EQ(std::string(MoeReRoutingCpuEngineName()), engine);
    EXPECT_EQ(MoeReRoutingCpuSetThreads(3), ACLNN_SUCCESS);
    EXPECT_EQ(MoeReRoutingCpuGetThreads(), uint32_t{3});
    EXPECT_EQ(MoeReRoutingCpuSetThreads(0), ACLNN_SUCCESS);
    EXPECT_EQ(MoeReRoutingCpuSetTrace(0, nullptr), ACLNN_SUCCESS);
    std::string lastRun = "unset";
    std::thread([&lastRun] { lastRun = MoeReRoutingCpuLastRunJson(); }).join();
    EXPECT_EQ(lastRun, std::string());  // a thread that never ran the operator
}

