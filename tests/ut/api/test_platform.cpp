// The SoC platform table (ascendc_cpu/platform.h), the tiling within the UB a SoC leaves a kernel,
// the emulator's default platform, and the CPU backend's SoC platform selection for the emulator
// engine, through its C API.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "aclnn_moe_re_routing.h"
#include "ascendc_cpu/platform.h"
#include "ascendc_cpu/runtime.h"
#include "moe_re_routing_cpu.h"
#include "moe_re_routing_host.h"

namespace {

using ascendc_cpu::kSocPlatforms;
using moe_re_routing::ComputeTiling;
using moe_re_routing::Platform;
using moe_re_routing::Problem;

const ascendc_cpu::SocPlatform &Soc(const char *name)
{
    const ascendc_cpu::SocPlatform *soc = ascendc_cpu::FindSoc(name);
    if (soc == nullptr) {
        throw std::runtime_error(std::string("no SoC ") + name);
    }
    return *soc;
}

// The shape of the issue: A = 4096, H = 7168 int8, scales [A, 56] float32, counts [64, 8] int32.
Problem IssueShape()
{
    Problem p;
    p.tokenNum = 4096;
    p.hiddenSize = 7168;
    p.rankNum = 64;
    p.expertNum = 8;
    p.tokenRowBytes = 7168;
    p.scaleCols = 56;
    p.scaleRowBytes = 56 * 4;
    p.outScaleRowBytes = 56 * 4;
    p.countBytes = 4;
    return p;
}

TEST(SocTable, HoldsWhatEachSocReportsAndWhatAscendCReserves)
{
    EXPECT_STREQ(ascendc_cpu::kDefaultSoc.name, "Ascend910B");
    EXPECT_EQ(Soc("Ascend910B").aivCoreNum, 48u);
    EXPECT_EQ(Soc("Ascend910B").ubBytes, 196352u);
    EXPECT_EQ(Soc("Ascend910B").UsableUbBytes(), 196352u - 8192u);
    EXPECT_EQ(Soc("Ascend910B3").aivCoreNum, 40u);
    EXPECT_EQ(Soc("Ascend910B4").aivCoreNum, 40u);
    EXPECT_EQ(Soc("Ascend910_93").aivCoreNum, 48u);
    EXPECT_EQ(Soc("Ascend910_93").UsableUbBytes(), 196608u - 8192u);
    EXPECT_EQ(Soc("Ascend950").aivCoreNum, 0u);  // not known
    EXPECT_EQ(Soc("Ascend950").arch, ascendc_cpu::Arch::kDav3510);
    EXPECT_EQ(Soc("Ascend910_93").arch, ascendc_cpu::Arch::kDavC220);
    EXPECT_EQ(ascendc_cpu::LaunchConfig{}.arch, ascendc_cpu::kDefaultSoc.arch);
    EXPECT_EQ(Soc("Ascend950").UsableUbBytes(), 248u * 1024u);
    EXPECT_EQ(ascendc_cpu::FindSoc("Ascend310P"), nullptr);
    EXPECT_EQ(ascendc_cpu::FindSoc(nullptr), nullptr);
    // The tiling's assumption (kernel built keeping the reserved area) is the table's.
    EXPECT_EQ(Soc("Ascend910B").ubReservedBytes, moe_re_routing::kAscendCReservedUbBytes);
}

TEST(Emulator, DefaultLaunchGivesTheDefaultSocsUsableUb)
{
    EXPECT_EQ(ascendc_cpu::LaunchConfig{}.ubBytes, ascendc_cpu::kDefaultSoc.UsableUbBytes());
}

TEST(Tiling, IssueShapePlansWithinTheUsableUbOfEverySoc)
{
    for (const ascendc_cpu::SocPlatform &soc : kSocPlatforms) {
        const Platform platform{soc.aivCoreNum != 0 ? soc.aivCoreNum : 32, soc.UsableUbBytes()};
        MoeReRoutingTilingData t{};
        moe_re_routing::MoeReRoutingTilingReport report;
        const moe_re_routing::Result r = ComputeTiling(IssueShape(), platform, &t, &report);
        ASSERT_TRUE(r.ok()) << soc.name << ": " << r.message;
        EXPECT_LE(report.ubBytesUsed, soc.UsableUbBytes()) << soc.name;
        EXPECT_GE(report.chunkRows, 1u) << soc.name;
    }
    // Ascend910B: 188160 B (before, the plan took 194912 B of the 196352 B the SoC reports).
    MoeReRoutingTilingData t{};
    moe_re_routing::MoeReRoutingTilingReport report;
    ASSERT_TRUE(ComputeTiling(IssueShape(), Platform{48, Soc("Ascend910B").UsableUbBytes()}, &t, &report).ok());
    EXPECT_LE(report.ubBytesUsed, 188160u);
}

// ---- the CPU backend's platforms through the C API ----------------------------------------------

class CpuPlatform : public ::testing::Test {
protected:
    void SetUp() override
    {
        const aclError init = aclInit(nullptr);  // once per process; later calls say so
        ASSERT_TRUE(init == ACL_SUCCESS || init == ACL_ERROR_REPEAT_INITIALIZE) << init;
        // The platform is the emulator engine's: these tests run the operator there.
        ASSERT_EQ(MoeReRoutingCpuSetEngine("emulator"), ACLNN_SUCCESS);
    }
    void TearDown() override
    {
        MoeReRoutingCpuSetEngine(nullptr);
        MoeReRoutingCpuSelectPlatform(MoeReRoutingCpuDefaultSoc(), 0);
    }
};

TEST_F(CpuPlatform, CTableIsTheEmulatorsTable)
{
    const MoeReRoutingSocInfo *table = nullptr;
    const int32_t n = MoeReRoutingCpuSocTable(&table);
    ASSERT_EQ(n, ascendc_cpu::kSocPlatformCount);
    for (int32_t i = 0; i < n; ++i) {
        EXPECT_STREQ(table[i].name, kSocPlatforms[i].name);
        EXPECT_EQ(table[i].aivCoreNum, kSocPlatforms[i].aivCoreNum);
        EXPECT_EQ(table[i].ubBytes, kSocPlatforms[i].ubBytes);
        EXPECT_EQ(table[i].ubReservedBytes, kSocPlatforms[i].ubReservedBytes);
        EXPECT_EQ(table[i].ubUsableBytes, kSocPlatforms[i].UsableUbBytes());
    }
    EXPECT_STREQ(MoeReRoutingCpuDefaultSoc(), "Ascend910B");
}

TEST_F(CpuPlatform, DefaultIsTheDefaultSocAndASocCanBeSelected)
{
    uint32_t cores = 0, ub = 0;
    MoeReRoutingCpuGetPlatform(&cores, &ub);
    EXPECT_STREQ(MoeReRoutingCpuPlatformName(), "Ascend910B");
    EXPECT_EQ(cores, 48u);
    EXPECT_EQ(ub, 188160u);
    ASSERT_EQ(MoeReRoutingCpuSelectPlatform("Ascend910_93", 0), ACLNN_SUCCESS);
    MoeReRoutingCpuGetPlatform(&cores, &ub);
    EXPECT_STREQ(MoeReRoutingCpuPlatformName(), "Ascend910_93");
    EXPECT_EQ(ub, 188416u);
}

TEST_F(CpuPlatform, NumbersSetByHandAreNamedCustom)
{
    ASSERT_EQ(MoeReRoutingCpuSelectPlatform("Ascend910B", 0), ACLNN_SUCCESS);
    ASSERT_EQ(MoeReRoutingCpuSetPlatform(48, 0), ACLNN_SUCCESS);  // unchanged numbers
    EXPECT_STREQ(MoeReRoutingCpuPlatformName(), "Ascend910B");
    ASSERT_EQ(MoeReRoutingCpuSetPlatform(8, 65536), ACLNN_SUCCESS);
    EXPECT_STREQ(MoeReRoutingCpuPlatformName(), "custom");
    ASSERT_EQ(MoeReRoutingCpuSelectPlatform("Ascend950", 32), ACLNN_SUCCESS);
    uint32_t cores = 0, ub = 0;
    MoeReRoutingCpuGetPlatform(&cores, &ub);
    EXPECT_EQ(cores, 32u);
    EXPECT_EQ(ub, 253952u);
}

TEST_F(CpuPlatform, BadSelectionsNameTheParameter)
{
    EXPECT_EQ(MoeReRoutingCpuSelectPlatform("Ascend999", 0), ACLNN_ERR_PARAM_INVALID);
    EXPECT_NE(std::string(aclGetRecentErrMsg()).find("name is Ascend999, expected one of Ascend910B"),
              std::string::npos)
        << aclGetRecentErrMsg();
    EXPECT_EQ(MoeReRoutingCpuSelectPlatform(nullptr, 0), ACLNN_ERR_PARAM_INVALID);
    EXPECT_EQ(MoeReRoutingCpuSelectPlatform("Ascend950", 0), ACLNN_ERR_PARAM_INVALID);
    EXPECT_NE(std::string(aclGetRecentErrMsg()).find("AIV core count of Ascend950 is not known"), std::string::npos)
        << aclGetRecentErrMsg();
    // The host-sized platform of the former fast mode is gone: the emulator runs SoCs only.
    for (const char *removed : {"host", "auto"}) {
        EXPECT_EQ(MoeReRoutingCpuSelectPlatform(removed, 0), ACLNN_ERR_PARAM_INVALID) << removed;
        EXPECT_NE(std::string(aclGetRecentErrMsg()).find(std::string("name is ") + removed), std::string::npos);
    }
    EXPECT_EQ(MoeReRoutingCpuSelectPlatform("Ascend910B", 5000), ACLNN_ERR_PARAM_INVALID);
    EXPECT_NE(std::string(aclGetRecentErrMsg()).find("aivCoreNum is 5000"), std::string::npos);
}

// The issue's shape through the whole operator on the default SoC platform: the emulator gives each
// core only the 188160 B Ascend910B leaves, so a plan beyond it would abort. Against a reference
// computed here.
void RunIssueShapeAndCompare(const char *platform)
{
    const int64_t A = 4096, H = 7168, S = 56, N = 64, E = 8;
    std::mt19937 rng(7);
    std::vector<int8_t> tokens(A * H);
    for (int8_t &v : tokens) v = static_cast<int8_t>(rng());
    std::vector<float> scales(A * S);
    for (float &v : scales) v = static_cast<float>(rng() % 1000) / 7.0f;
    std::vector<int32_t> counts(N * E, 0);
    for (int64_t i = 0; i < A; ++i) ++counts[rng() % (N * E)];

    std::vector<int8_t> outTokens(A * H, 0);
    std::vector<float> outScales(A * S, -1.0f);
    std::vector<int32_t> outIdx(A, -1), outExperts(E, -1);
    const int64_t desc[] = {ACL_INT8, 2, A, H, ACL_INT32, 2, N, E, ACL_FLOAT, 2, A, S,
                            ACL_INT8, 2, A, H, ACL_FLOAT, 2, A, S, ACL_INT32, 1, A, ACL_INT32, 1, E};
    ASSERT_EQ(MoeReRoutingCpuRunHost(desc, sizeof(desc) / sizeof(desc[0]), tokens.data(), counts.data(),
                                     scales.data(), outTokens.data(), outScales.data(), outIdx.data(),
                                     outExperts.data(), 1, 0),
              ACLNN_SUCCESS)
        << aclGetRecentErrMsg();
    const std::string json = MoeReRoutingCpuLastRunJson();
    EXPECT_NE(json.find(std::string("\"platform\": \"") + platform + "\""), std::string::npos) << json;

    // Reference: expert-major order of (rank, expert) cells, gather index, per-expert counts.
    std::vector<int64_t> src(N * E);
    int64_t acc = 0;
    for (int64_t i = 0; i < N * E; ++i) {
        src[i] = acc;
        acc += counts[i];
    }
    int64_t dst = 0;
    for (int64_t e = 0; e < E; ++e) {
        int64_t total = 0;
        for (int64_t r = 0; r < N; ++r) {
            for (int64_t k = 0; k < counts[r * E + e]; ++k, ++dst) {
                const int64_t s = src[r * E + e] + k;
                ASSERT_EQ(outIdx[dst], s) << "row " << dst;
                ASSERT_EQ(std::memcmp(&outTokens[dst * H], &tokens[s * H], H), 0) << "row " << dst;
                ASSERT_EQ(std::memcmp(&outScales[dst * S], &scales[s * S], S * sizeof(float)), 0) << "row " << dst;
            }
            total += counts[r * E + e];
        }
        EXPECT_EQ(outExperts[e], total);
    }
}

TEST_F(CpuPlatform, IssueShapeRunsWithinTheUsableUb)
{
    RunIssueShapeAndCompare("Ascend910B");
    const std::string json = MoeReRoutingCpuLastRunJson();
    EXPECT_NE(json.find("\"platform_ub_bytes\": 188160"), std::string::npos) << json;
}

}  // namespace
