// aclnnMoeReRoutingV2 and MoeReRoutingCpuRunHostV2 through the public headers, on the engine of the
// ctest (native and emulator): the weight column moves with its token as the reference moves a
// 4-byte scale column; the weight pair is both or neither; bad weights are named and write nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "aclnn_moe_re_routing_v2.h"
#include "moe_re_routing_cpu.h"
#include "../../common/moe_re_routing_reference.h"

namespace {

namespace ref = moe_re_routing_test;

constexpr int64_t kA = 300, kH = 24, kN = 5, kE = 7;
constexpr uint8_t kSentinel = 0xA5;

struct Case {
    std::vector<uint8_t> tokens = std::vector<uint8_t>(kA * kH);
    std::vector<uint8_t> counts;  // int32
    std::vector<uint8_t> scales = std::vector<uint8_t>(kA * 4);
    std::vector<uint8_t> weights = std::vector<uint8_t>(kA * 4);
    std::vector<uint8_t> outTokens = std::vector<uint8_t>(kA * kH, kSentinel);
    std::vector<uint8_t> outScales = std::vector<uint8_t>(kA * 4, kSentinel);
    std::vector<uint8_t> outIdx = std::vector<uint8_t>(kA * 4, kSentinel);
    std::vector<uint8_t> outExperts = std::vector<uint8_t>(kE * 4, kSentinel);
    std::vector<uint8_t> outWeights = std::vector<uint8_t>(kA * 4, kSentinel);

    explicit Case(uint64_t seed)
    {
        std::mt19937_64 rng(seed);
        for (auto *v : {&tokens, &scales, &weights}) {
            for (uint8_t &b : *v) b = static_cast<uint8_t>(rng());
        }
        std::vector<int64_t> cells(kN * kE, 0);
        for (int64_t i = 0; i < kA; ++i) ++cells[rng() % cells.size()];
        counts = ref::CountBytes(cells, 4);
    }

    bool OutputsUntouched() const
    {
        for (const auto *v : {&outTokens, &outScales, &outIdx, &outExperts, &outWeights}) {
            for (uint8_t b : *v) {
                if (b != kSentinel) return false;
            }
        }
        return true;
    }

    // Outputs vs the reference, the weights as a 4-byte scale column would move.
    std::string Compare(int64_t type, int64_t idx) const
    {
        const ref::Outputs want =
            ref::Reference({kA, kN, kE, kH, 4, 4, type, idx}, tokens.data(), counts.data(), scales.data());
        const ref::Outputs wantWeights =
            ref::Reference({kA, kN, kE, kH, 4, 4, type, idx}, tokens.data(), counts.data(), weights.data());
        std::string bad;
        if (outTokens != want.tokens) bad += " tokens";
        if (outScales != want.scales) bad += " scales";
        if (outIdx != want.idx) bad += " idx";
        if (outExperts != want.experts) bad += " experts";
        if (outWeights != wantWeights.scales) bad += " weights";
        return bad;
    }
};

aclTensor *Tensor(std::vector<int64_t> dims, aclDataType dtype, void *data)
{
    return aclCreateTensor(dims.data(), dims.size(), dtype, nullptr, 0, ACL_FORMAT_ND, dims.data(), dims.size(),
                           data);
}

// The two phases of aclnnMoeReRoutingV2; weights/outWeights may be left out (null) on purpose.
aclnnStatus RunV2(Case &c, bool withWeights, bool withOutWeights, aclDataType weightDtype = ACL_FLOAT,
                  std::vector<int64_t> weightDims = {kA, 1}, int64_t type = 1, int64_t idx = 0)
{
    aclTensor *t[9] = {
        Tensor({kA, kH}, ACL_INT8, c.tokens.data()),
        Tensor({kN, kE}, ACL_INT32, c.counts.data()),
        Tensor({kA}, ACL_FLOAT, c.scales.data()),
        withWeights ? Tensor(weightDims, weightDtype, c.weights.data()) : nullptr,
        Tensor({kA, kH}, ACL_INT8, c.outTokens.data()),
        Tensor({kA}, ACL_FLOAT, c.outScales.data()),
        Tensor({kA}, ACL_INT32, c.outIdx.data()),
        Tensor({kE}, ACL_INT32, c.outExperts.data()),
        withOutWeights ? Tensor(weightDims, weightDtype, c.outWeights.data()) : nullptr,
    };
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    aclnnStatus st = aclnnMoeReRoutingV2GetWorkspaceSize(t[0], t[1], t[2], t[3], type, idx, t[4], t[5], t[6], t[7],
                                                         t[8], &workspaceSize, &executor);
    if (st == ACLNN_SUCCESS) {
        st = aclnnMoeReRoutingV2(nullptr, workspaceSize, executor, nullptr);
    }
    for (aclTensor *x : t) {
        if (x != nullptr) aclDestroyTensor(x);
    }
    return st;
}

TEST(AclnnMoeReRoutingV2, weights_move_with_their_tokens_in_every_mode)
{
    for (int64_t type : {1, 0}) {
        for (int64_t idx : {0, 1}) {
            for (const std::vector<int64_t> &dims : {std::vector<int64_t>{kA, 1}, std::vector<int64_t>{kA}}) {
                Case c(10 + type * 2 + idx);
                ASSERT_EQ(RunV2(c, true, true, ACL_FLOAT, dims, type, idx), ACLNN_SUCCESS) << aclGetRecentErrMsg();
                EXPECT_EQ(c.Compare(type, idx), std::string()) << "type " << type << " idx " << idx;
            }
        }
    }
}

TEST(AclnnMoeReRoutingV2, without_the_weight_pair_it_is_moe_re_routing)
{
    Case c(3);
    ASSERT_EQ(RunV2(c, false, false), ACLNN_SUCCESS) << aclGetRecentErrMsg();
    const ref::Outputs want = ref::Reference({kA, kN, kE, kH, 4, 4, 1, 0}, c.tokens.data(), c.counts.data(),
                                             c.scales.data());
    EXPECT_TRUE(c.outTokens == want.tokens && c.outScales == want.scales && c.outIdx == want.idx);
    EXPECT_TRUE(std::all_of(c.outWeights.begin(), c.outWeights.end(), [](uint8_t b) { return b == kSentinel; }));
}

TEST(AclnnMoeReRoutingV2, bad_weights_are_named_and_write_nothing)
{
    struct Bad {
        bool weights, outWeights;
        aclDataType dtype;
        std::vector<int64_t> dims;
        aclnnStatus status;
        int32_t kind;
        const char *message;
    } cases[] = {
        {true, false, ACL_FLOAT, {kA, 1}, ACLNN_ERR_PARAM_NULLPTR, MOE_RE_ROUTING_ERROR_NULLPTR,
         "permute_topk_weight is null but expert_topk_weight is given"},
        {false, true, ACL_FLOAT, {kA, 1}, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE,
         "permute_topk_weight is given but expert_topk_weight is not"},
        {true, true, ACL_FLOAT16, {kA, 1}, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_TYPE,
         "expert_topk_weight has dtype FLOAT16"},
        {true, true, ACL_FLOAT, {kA, 2}, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE,
         "expert_topk_weight has shape [300, 2] but must be [300, 1] or [300]"},
        {true, true, ACL_FLOAT, {kA - 1, 1}, ACLNN_ERR_PARAM_INVALID, MOE_RE_ROUTING_ERROR_VALUE,
         "expert_topk_weight has shape [299, 1]"},
    };
    for (const Bad &b : cases) {
        Case c(5);
        EXPECT_EQ(RunV2(c, b.weights, b.outWeights, b.dtype, b.dims), b.status) << b.message;
        EXPECT_EQ(MoeReRoutingLastErrorKind(), b.kind) << b.message;
        EXPECT_NE(std::string(aclGetRecentErrMsg()).find(b.message), std::string::npos) << aclGetRecentErrMsg();
        EXPECT_TRUE(c.OutputsUntouched()) << b.message;
    }
}

TEST(AclnnMoeReRoutingV2, one_call_host_path_matches_the_two_phases)
{
    Case c(7);
    const int64_t desc[] = {ACL_INT8, 2, kA, kH, ACL_INT32, 2, kN, kE, ACL_FLOAT, 1, kA, ACL_FLOAT, 2, kA, 1,
                            ACL_INT8, 2, kA, kH, ACL_FLOAT, 1, kA, ACL_INT32, 1, kA, ACL_INT32, 1, kE,
                            ACL_FLOAT, 2, kA, 1};
    ASSERT_EQ(MoeReRoutingCpuRunHostV2(desc, sizeof(desc) / sizeof(desc[0]), c.tokens.data(), c.counts.data(),
                                       c.scales.data(), c.weights.data(), c.outTokens.data(), c.outScales.data(),
                                       c.outIdx.data(), c.outExperts.data(), c.outWeights.data(), 1, 1),
              ACLNN_SUCCESS)
        << aclGetRecentErrMsg();
    EXPECT_EQ(c.Compare(1, 1), std::string());
}

}  // namespace

namespace {

// The aclnn API takes any address: the native engine reads counts and writes the index and
// expert_token_num through unaligned loads and stores (fuzz_aclnn found int stores to odd
// addresses; its input is kept in tests/fuzz/regressions/fuzz_aclnn/).
TEST(AclnnMoeReRoutingV2, native_engine_takes_unaligned_buffers)
{
    Case c(9);
    // Every tensor one byte past an aligned address.
    std::vector<uint8_t> arena(1 << 20, 0);
    size_t at = 1;
    auto place = [&](const std::vector<uint8_t> &v) {
        uint8_t *p = arena.data() + at;
        if (!v.empty()) std::memcpy(p, v.data(), v.size());
        at = (at + v.size() + 63) / 64 * 64 + 1;  // the next one a byte past a 64-byte boundary too
        return p;
    };
    uint8_t *tokens = place(c.tokens), *counts = place(c.counts), *scales = place(c.scales),
            *weights = place(c.weights), *outTokens = place(c.outTokens), *outScales = place(c.outScales),
            *outIdx = place(c.outIdx), *outExperts = place(c.outExperts), *outWeights = place(c.outWeights);
    for (const uint8_t *p : {counts, scales, weights, outScales, outIdx, outExperts, outWeights}) {
        ASSERT_NE(reinterpret_cast<uintptr_t>(p) % 4, 0u);
    }
    const int64_t desc[] = {ACL_INT8, 2, kA, kH, ACL_INT32, 2, kN, kE, ACL_FLOAT, 1, kA, ACL_FLOAT, 2, kA, 1,
                            ACL_INT8, 2, kA, kH, ACL_FLOAT, 1, kA, ACL_INT32, 1, kA, ACL_INT32, 1, kE,
                            ACL_FLOAT, 2, kA, 1};
    ASSERT_EQ(MoeReRoutingCpuSetEngine("native"), ACLNN_SUCCESS);
    for (int64_t idx : {0, 1}) {
        const aclnnStatus st = MoeReRoutingCpuRunHostV2(desc, sizeof(desc) / sizeof(desc[0]), tokens, counts, scales,
                                                        weights, outTokens, outScales, outIdx, outExperts,
                                                        outWeights, 0, idx);
        ASSERT_EQ(st, ACLNN_SUCCESS) << aclGetRecentErrMsg();
        c.outTokens.assign(outTokens, outTokens + c.outTokens.size());
        c.outScales.assign(outScales, outScales + c.outScales.size());
        c.outIdx.assign(outIdx, outIdx + c.outIdx.size());
        c.outExperts.assign(outExperts, outExperts + c.outExperts.size());
        c.outWeights.assign(outWeights, outWeights + c.outWeights.size());
        EXPECT_EQ(c.Compare(0, idx), std::string()) << "idx " << idx;
    }
    MoeReRoutingCpuSetEngine(nullptr);
}

}  // namespace
