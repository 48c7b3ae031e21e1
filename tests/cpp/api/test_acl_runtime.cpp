// The AscendCL subset and the CPU-backend extensions: argument checks with real error codes,
// no crash on null or double free, stream error reporting, enum values, the C dtype table.
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "acl/acl.h"
#include "aclnn/acl_meta.h"
#include "mini_test.h"
#include "moe_re_routing_cpu.h"

TEST(init_and_finalize)
{
    CHECK_EQ(aclInit(nullptr), ACL_SUCCESS);
    CHECK_EQ(aclInit(nullptr), ACL_ERROR_REPEAT_INITIALIZE);
    CHECK_CONTAINS(aclGetRecentErrMsg(), "aclInit");
    CHECK_EQ(aclFinalize(), ACL_SUCCESS);
    CHECK_EQ(aclFinalize(), ACL_ERROR_UNINITIALIZE);
    CHECK_EQ(aclnnInit(nullptr), ACLNN_SUCCESS);
    CHECK_EQ(aclnnFinalize(), ACLNN_SUCCESS);
}

TEST(devices)
{
    int32_t device = -5;
    CHECK_EQ(aclrtSetDevice(1), ACL_ERROR_INVALID_PARAM);
    CHECK_CONTAINS(aclGetRecentErrMsg(), "deviceId");
    CHECK_EQ(aclrtGetDevice(nullptr), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtSetDevice(0), ACL_SUCCESS);
    CHECK_EQ(aclrtGetDevice(&device), ACL_SUCCESS);
    CHECK_EQ(device, 0);
    CHECK_EQ(aclrtResetDevice(0), ACL_SUCCESS);
    CHECK_EQ(aclrtGetDevice(&device), ACL_ERROR_FAILURE);
    CHECK_EQ(aclrtResetDevice(-1), ACL_ERROR_INVALID_PARAM);
}

TEST(malloc_free_and_misuse)
{
    void *p = nullptr;
    CHECK_EQ(aclrtMalloc(nullptr, 16, ACL_MEM_MALLOC_HUGE_FIRST), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtMalloc(&p, 0, ACL_MEM_MALLOC_HUGE_FIRST), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtMalloc(&p, 16, static_cast<aclrtMemMallocPolicy>(9)), ACL_ERROR_INVALID_PARAM);
    CHECK_CONTAINS(aclGetRecentErrMsg(), "policy");
    REQUIRE(aclrtMalloc(&p, 100, ACL_MEM_MALLOC_NORMAL_ONLY) == ACL_SUCCESS);
    CHECK_EQ(reinterpret_cast<uintptr_t>(p) % 64, uintptr_t{0});
    std::memset(p, 1, 100);
    CHECK_EQ(aclrtFree(p), ACL_SUCCESS);
    CHECK_EQ(aclrtFree(p), ACL_ERROR_INVALID_PARAM);  // double free is reported, not performed
    CHECK_CONTAINS(aclGetRecentErrMsg(), "already freed");
    CHECK_EQ(aclrtFree(nullptr), ACL_ERROR_INVALID_PARAM);

    void *h = nullptr;
    REQUIRE(aclrtMallocHost(&h, 10) == ACL_SUCCESS);
    CHECK_EQ(aclrtFree(h), ACL_ERROR_INVALID_PARAM);  // host memory is not device memory
    CHECK_EQ(aclrtFreeHost(h), ACL_SUCCESS);
    CHECK_EQ(aclrtFreeHost(h), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtFreeHost(nullptr), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtMallocHost(nullptr, 10), ACL_ERROR_INVALID_PARAM);
}

TEST(memcpy_kinds_and_bounds)
{
    char src[8] = "abcdefg";
    char dst[8] = {};
    for (int kind = ACL_MEMCPY_HOST_TO_HOST; kind <= ACL_MEMCPY_INTER_DEVICE_TO_DEVICE; ++kind) {
        std::memset(dst, 0, sizeof dst);
        CHECK_EQ(aclrtMemcpy(dst, sizeof dst, src, sizeof src, static_cast<aclrtMemcpyKind>(kind)), ACL_SUCCESS);
        CHECK_EQ(std::string(dst), std::string("abcdefg"));
    }
    CHECK_EQ(aclrtMemcpy(dst, sizeof dst, src, sizeof src, static_cast<aclrtMemcpyKind>(8)), ACL_ERROR_INVALID_PARAM);
    CHECK_CONTAINS(aclGetRecentErrMsg(), "kind");
    CHECK_EQ(aclrtMemcpy(dst, sizeof dst, src, sizeof src, static_cast<aclrtMemcpyKind>(-1)), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtMemcpy(dst, 4, src, sizeof src, ACL_MEMCPY_HOST_TO_DEVICE), ACL_ERROR_INVALID_PARAM);
    CHECK_CONTAINS(aclGetRecentErrMsg(), "destMax");
    CHECK_EQ(aclrtMemcpy(nullptr, 8, src, 8, ACL_MEMCPY_HOST_TO_DEVICE), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtMemcpy(dst, 8, nullptr, 8, ACL_MEMCPY_HOST_TO_DEVICE), ACL_ERROR_INVALID_PARAM);

    CHECK_EQ(aclrtMemset(dst, sizeof dst, 'z', 3), ACL_SUCCESS);
    CHECK_EQ(dst[2], 'z');
    CHECK_EQ(aclrtMemset(dst, 2, 'z', 3), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtMemset(nullptr, 2, 'z', 1), ACL_ERROR_INVALID_PARAM);
}

TEST(streams)
{
    aclrtStream stream = nullptr;
    CHECK_EQ(aclrtCreateStream(nullptr), ACL_ERROR_INVALID_PARAM);
    REQUIRE(aclrtCreateStream(&stream) == ACL_SUCCESS);
    char src[4] = "xyz";
    char dst[4] = {};
    CHECK_EQ(aclrtMemcpyAsync(dst, 4, src, 4, ACL_MEMCPY_DEVICE_TO_HOST, stream), ACL_SUCCESS);
    CHECK_EQ(aclrtSynchronizeStream(stream), ACL_SUCCESS);
    CHECK_EQ(std::string(dst), std::string("xyz"));
    CHECK_EQ(aclrtMemcpyAsync(dst, 2, src, 4, ACL_MEMCPY_DEVICE_TO_HOST, stream), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtSynchronizeStream(nullptr), ACL_SUCCESS);  // the default stream
    CHECK_EQ(aclrtDestroyStream(stream), ACL_SUCCESS);
    CHECK_EQ(aclrtDestroyStream(stream), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtSynchronizeStream(stream), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtMemcpyAsync(dst, 4, src, 4, ACL_MEMCPY_DEVICE_TO_HOST, stream), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ(aclrtDestroyStream(nullptr), ACL_ERROR_INVALID_PARAM);
}

TEST(enum_values_match_cann)
{
    CHECK_EQ(ACL_DT_UNDEFINED, -1);
    CHECK_EQ(ACL_BF16, 27);
    CHECK_EQ(ACL_FLOAT8_E4M3FN, 36);
    CHECK_EQ(ACL_FLOAT4_E1M2, 41);
    CHECK_EQ(ACL_FORMAT_ND, 2);
    CHECK_EQ(ACL_FORMAT_FRACTAL_NZ, 29);
    CHECK_EQ(ACL_MEMCPY_INTER_DEVICE_TO_DEVICE, 7);
    CHECK_EQ(ACL_ERROR_RT_PARAM_INVALID, 107000);
    CHECK_EQ(ACLNN_ERR_INNER_NULLPTR, 561103);
}

TEST(data_type_sizes)
{
    CHECK_EQ(aclDataTypeSize(ACL_FLOAT16), size_t{2});
    CHECK_EQ(aclDataTypeSize(ACL_BF16), size_t{2});
    CHECK_EQ(aclDataTypeSize(ACL_INT64), size_t{8});
    CHECK_EQ(aclDataTypeSize(ACL_FLOAT8_E8M0), size_t{1});
    CHECK_EQ(aclDataTypeSize(ACL_COMPLEX128), size_t{16});
    CHECK_EQ(aclDataTypeSize(ACL_FLOAT4_E2M1), size_t{0});
    CHECK_EQ(aclDataTypeSize(ACL_DT_UNDEFINED), size_t{0});
}

TEST(tensor_objects)
{
    int64_t dims[2] = {3, 4};
    float data[12] = {};
    CHECK(aclCreateTensor(nullptr, 2, ACL_FLOAT, nullptr, 0, ACL_FORMAT_ND, dims, 2, data) == nullptr);
    CHECK_CONTAINS(aclGetRecentErrMsg(), "viewDims");
    int64_t negative[2] = {3, -4};
    CHECK(aclCreateTensor(negative, 2, ACL_FLOAT, nullptr, 0, ACL_FORMAT_ND, dims, 2, data) == nullptr);
    CHECK(aclCreateTensor(dims, 2, ACL_FLOAT, nullptr, -1, ACL_FORMAT_ND, dims, 2, data) == nullptr);
    aclTensor *t = aclCreateTensor(dims, 2, ACL_BF16, nullptr, 0, ACL_FORMAT_NHWC, nullptr, 0, data);
    REQUIRE(t != nullptr);
    int64_t *view = nullptr;
    uint64_t viewNum = 0;
    CHECK_EQ(aclGetViewShape(t, &view, &viewNum), ACLNN_SUCCESS);
    CHECK_EQ(viewNum, uint64_t{2});
    CHECK(view != nullptr && view[0] == 3 && view[1] == 4);
    delete[] view;
    aclDataType dtype = ACL_DT_UNDEFINED;
    aclFormat format = ACL_FORMAT_UNDEFINED;
    CHECK_EQ(aclGetDataType(t, &dtype), ACLNN_SUCCESS);
    CHECK_EQ(dtype, ACL_BF16);
    CHECK_EQ(aclGetFormat(t, &format), ACLNN_SUCCESS);
    CHECK_EQ(format, ACL_FORMAT_NHWC);
    CHECK_EQ(aclGetViewShape(nullptr, &view, &viewNum), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ(aclGetViewShape(t, nullptr, &viewNum), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ(aclGetDataType(nullptr, &dtype), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ(aclGetFormat(t, nullptr), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ(aclDestroyTensor(t), ACLNN_SUCCESS);
    CHECK_EQ(aclDestroyTensor(nullptr), ACLNN_SUCCESS);
}

TEST(recent_error_message_never_null)
{
    CHECK(aclGetRecentErrMsg() != nullptr);
}

// ---- CPU-backend extensions --------------------------------------------------------------------

TEST(dtype_table_from_c)
{
    const MoeReRoutingDtypeInfo *table = nullptr;
    const int32_t n = MoeReRoutingDtypeTable(&table);
    REQUIRE(n > 0 && table != nullptr);
    CHECK_EQ(MoeReRoutingDtypeTable(nullptr), n);
    bool sawBf16 = false;
    for (int32_t i = 0; i < n; ++i) {
        if (std::string(table[i].name) == "BF16") {
            sawBf16 = true;
            CHECK_EQ(table[i].code, ACL_BF16);
            CHECK_EQ(table[i].bits, uint32_t{16});
            CHECK((table[i].roles & 2u) != 0);  // official tokens dtype
        }
        if (table[i].code == ACL_FLOAT4_E2M1) {
            CHECK((table[i].roles & 16u) != 0);  // packed two per byte
        }
    }
    CHECK(sawBf16);
}

TEST(status_names_and_version)
{
    CHECK_EQ(std::string(MoeReRoutingStatusName(ACLNN_ERR_PARAM_INVALID)), std::string("ACLNN_ERR_PARAM_INVALID"));
    CHECK_EQ(std::string(MoeReRoutingStatusName(ACLNN_ERR_INNER_TILING_ERROR)),
             std::string("ACLNN_ERR_INNER_TILING_ERROR"));
    CHECK_EQ(std::string(MoeReRoutingStatusName(12345)), std::string("UNKNOWN"));
    CHECK(std::string(MoeReRoutingVersion()).find('.') != std::string::npos);
}

TEST(platform_mode_threads_trace_settings)
{
    uint32_t cores = 0;
    uint32_t ub = 0;
    MoeReRoutingCpuGetPlatform(&cores, &ub);
    CHECK_EQ(cores, uint32_t{48});
    CHECK_EQ(ub, uint32_t{196608});
    CHECK_EQ(MoeReRoutingCpuSetPlatform(40, 0), ACLNN_SUCCESS);
    MoeReRoutingCpuGetPlatform(&cores, &ub);
    CHECK_EQ(cores, uint32_t{40});
    CHECK_EQ(ub, uint32_t{196608});
    CHECK_EQ(MoeReRoutingCpuSetPlatform(0, 100), ACLNN_ERR_PARAM_INVALID);  // not a 32-byte multiple
    CHECK_CONTAINS(aclGetRecentErrMsg(), "ubBytes");
    CHECK_EQ(MoeReRoutingCpuSetPlatform(100000, 0), ACLNN_ERR_PARAM_INVALID);
    CHECK_CONTAINS(aclGetRecentErrMsg(), "aivCoreNum");
    CHECK_EQ(MoeReRoutingCpuSetPlatform(48, 196608), ACLNN_SUCCESS);
    MoeReRoutingCpuGetPlatform(nullptr, nullptr);

    const int32_t mode = MoeReRoutingCpuGetMode();
    CHECK_EQ(MoeReRoutingCpuSetMode(1), ACLNN_SUCCESS);
    CHECK_EQ(MoeReRoutingCpuGetMode(), 1);
    CHECK_EQ(MoeReRoutingCpuSetMode(2), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ(MoeReRoutingCpuSetMode(mode), ACLNN_SUCCESS);
    CHECK_EQ(MoeReRoutingCpuSetThreads(0), ACLNN_SUCCESS);
    CHECK_EQ(MoeReRoutingCpuSetTrace(0, nullptr), ACLNN_SUCCESS);
    std::string lastRun = "unset";
    std::thread([&lastRun] { lastRun = MoeReRoutingCpuLastRunJson(); }).join();
    CHECK_EQ(lastRun, std::string());  // a thread that never ran the operator
}

MINI_TEST_MAIN()
