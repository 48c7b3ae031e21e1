/**
 * MoeReRouting from an inference engine's point of view: the official aclnn two-phase API and
 * the AscendCL calling sequence, nothing else. The same source builds against the CPU backend
 * (MoeReRouting::aclnn) and against CANN (ascendcl + nnopbase + cust_opapi).
 *
 * Scenario: after the AlltoAll this device holds A = 7 int8 tokens (H = 4) from N = 2 ranks for
 * its E = 3 local experts, rank-major, each with a float per-token scale. The example reorders
 * them expert-major in all four modes (count/cumsum x gather/scatter), checks every output
 * against the operator's definition, prints them, and shows two rejected calls. Then the same
 * tokens with static shapes (MoeReRoutingWithCapacity, as a captured graph would run them): each
 * rank's tokens in a slot of C = 4 rows, re-routed into 8 rows (zeros and index -1 after the 7
 * tokens), and restored into their slots.
 */
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../tests/common/moe_re_routing_reference.h"
#include "acl/acl.h"
#include "aclnn_moe_re_routing.h"
#include "aclnn_moe_re_routing_with_capacity.h"

#define CHECK_RET(cond, ...)            \
    do {                                \
        if (!(cond)) {                  \
            std::printf(__VA_ARGS__);   \
            return false;               \
        }                               \
    } while (0)

namespace {

// aclnnStatus values of the operator's contract (docs/spec.md). The public aclnn headers declare
// aclnnStatus but not these names (CANN's own examples compare with ACL_SUCCESS), so the example
// names the values it checks itself and builds unchanged against CANN and the CPU backend.
constexpr aclnnStatus kAclnnSuccess = 0;
constexpr aclnnStatus kAclnnErrParamNullptr = 161001;
constexpr aclnnStatus kAclnnErrParamInvalid = 161002;

// CANN may return NULL when there is no message.
const char *LastError()
{
    const char *message = aclGetRecentErrMsg();
    return message != nullptr ? message : "";
}

constexpr int64_t kRanks = 2;
constexpr int64_t kExperts = 3;
constexpr int64_t kHidden = 4;
const int32_t kCounts[kRanks][kExperts] = {{2, 0, 1}, {1, 2, 1}};  // tokens from rank r for expert e
constexpr int64_t kTokens = 7;                                      // sum of kCounts

// A device buffer and the aclTensor describing it.
struct DeviceTensor {
    void *device = nullptr;
    size_t bytes = 0;
    aclTensor *tensor = nullptr;

    bool Create(const void *host, size_t size, const std::vector<int64_t> &shape, aclDataType dtype)
    {
        bytes = size;
        CHECK_RET(aclrtMalloc(&device, bytes, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS, "aclrtMalloc failed\n");
        if (host != nullptr) {
            CHECK_RET(aclrtMemcpy(device, bytes, host, bytes, ACL_MEMCPY_HOST_TO_DEVICE) == ACL_SUCCESS,
                      "aclrtMemcpy failed\n");
        } else {
            CHECK_RET(aclrtMemset(device, bytes, 0, bytes) == ACL_SUCCESS, "aclrtMemset failed\n");
        }
        // Contiguous row-major strides; the 5th argument is the offset in elements, the 6th the format.
        std::vector<int64_t> strides(shape.size(), 1);
        for (size_t i = shape.size(); i-- > 1;) {
            strides[i - 1] = shape[i] * strides[i];
        }
        tensor = aclCreateTensor(shape.data(), shape.size(), dtype, strides.data(), 0, ACL_FORMAT_ND, shape.data(),
                                 shape.size(), device);
        CHECK_RET(tensor != nullptr, "aclCreateTensor failed\n");
        return true;
    }

    bool CopyToHost(void *host) const
    {
        return aclrtMemcpy(host, bytes, device, bytes, ACL_MEMCPY_DEVICE_TO_HOST) == ACL_SUCCESS;
    }

    ~DeviceTensor()
    {
        if (tensor != nullptr) {
            aclDestroyTensor(tensor);
        }
        if (device != nullptr) {
            aclrtFree(device);
        }
    }
};

struct HostOutputs {
    std::vector<int8_t> tokens = std::vector<int8_t>(kTokens * kHidden);
    std::vector<float> scales = std::vector<float>(kTokens);
    std::vector<int32_t> idx = std::vector<int32_t>(kTokens);
    std::vector<int32_t> expertTokenNum = std::vector<int32_t>(kExperts);
};

// The operator's definition (block (r, e) moves from its row-major to its column-major position):
// the project's C++ test reference, tests/common/moe_re_routing_reference.h.
HostOutputs Expected(const std::vector<int8_t> &tokens, const std::vector<float> &scales, int64_t countType,
                     int64_t idxType)
{
    moe_re_routing_test::Problem p;
    p.A = kTokens;
    p.N = kRanks;
    p.E = kExperts;
    p.rowBytes = kHidden;
    p.scaleRowBytes = sizeof(float);
    p.countBytes = sizeof(int32_t);
    p.type = countType;
    p.idx = idxType;
    const moe_re_routing_test::Outputs o = moe_re_routing_test::Reference(
        p, reinterpret_cast<const uint8_t *>(tokens.data()), reinterpret_cast<const uint8_t *>(kCounts),
        reinterpret_cast<const uint8_t *>(scales.data()));
    HostOutputs out;
    std::memcpy(out.tokens.data(), o.tokens.data(), o.tokens.size());
    std::memcpy(out.scales.data(), o.scales.data(), o.scales.size());
    out.idx = o.Index();
    std::memcpy(out.expertTokenNum.data(), o.experts.data(), o.experts.size());
    return out;
}

template <typename T>
void PrintList(const char *name, const std::vector<T> &values, int64_t step = 1)
{
    std::printf("  %-26s [", name);
    for (size_t i = 0; i < values.size(); i += step) {
        std::printf(i == 0 ? "%g" : ", %g", static_cast<double>(values[i]));
    }
    std::printf("]\n");
}

bool RunMode(aclrtStream stream, const std::vector<int8_t> &tokens, const std::vector<float> &scales,
             int64_t countType, int64_t idxType)
{
    DeviceTensor x, counts, scaleIn, outTokens, outScales, outIdx, outExpert;
    bool ok = x.Create(tokens.data(), tokens.size(), {kTokens, kHidden}, ACL_INT8) &&
              counts.Create(kCounts, sizeof kCounts, {kRanks, kExperts}, ACL_INT32) &&
              scaleIn.Create(scales.data(), scales.size() * sizeof(float), {kTokens}, ACL_FLOAT) &&
              outTokens.Create(nullptr, tokens.size(), {kTokens, kHidden}, ACL_INT8) &&
              outScales.Create(nullptr, kTokens * sizeof(float), {kTokens}, ACL_FLOAT) &&
              outIdx.Create(nullptr, kTokens * sizeof(int32_t), {kTokens}, ACL_INT32) &&
              outExpert.Create(nullptr, kExperts * sizeof(int32_t), {kExperts}, ACL_INT32);
    CHECK_RET(ok, "creating the tensors failed\n");

    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    aclnnStatus status = aclnnMoeReRoutingGetWorkspaceSize(x.tensor, counts.tensor, scaleIn.tensor, countType, idxType,
                                                           outTokens.tensor, outScales.tensor, outIdx.tensor,
                                                           outExpert.tensor, &workspaceSize, &executor);
    CHECK_RET(status == kAclnnSuccess, "aclnnMoeReRoutingGetWorkspaceSize failed: %d %s\n", status, LastError());
    void *workspace = nullptr;
    if (workspaceSize > 0) {
        CHECK_RET(aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS,
                  "workspace allocation failed\n");
    }
    status = aclnnMoeReRouting(workspace, workspaceSize, executor, stream);
    CHECK_RET(status == kAclnnSuccess, "aclnnMoeReRouting failed: %d %s\n", status, LastError());
    CHECK_RET(aclrtSynchronizeStream(stream) == ACL_SUCCESS, "aclrtSynchronizeStream failed: %s\n",
              LastError());
    if (workspace != nullptr) {
        aclrtFree(workspace);
    }

    HostOutputs got;
    ok = outTokens.CopyToHost(got.tokens.data()) && outScales.CopyToHost(got.scales.data()) &&
         outIdx.CopyToHost(got.idx.data()) && outExpert.CopyToHost(got.expertTokenNum.data());
    CHECK_RET(ok, "copying the outputs back failed\n");

    std::printf("mode expert_token_num_type=%lld (%s), idx_type=%lld (%s)\n", static_cast<long long>(countType),
                countType == 1 ? "count" : "cumsum", static_cast<long long>(idxType),
                idxType == 0 ? "gather" : "scatter");
    PrintList("permute_tokens[:, 0]", got.tokens, kHidden);
    PrintList("permute_per_token_scales", got.scales);
    PrintList("permute_token_idx", got.idx);
    PrintList("expert_token_num", got.expertTokenNum);

    const HostOutputs want = Expected(tokens, scales, countType, idxType);
    const bool same = got.tokens == want.tokens && got.scales == want.scales && got.idx == want.idx &&
                      got.expertTokenNum == want.expertTokenNum;
    std::printf("  check: %s\n", same ? "OK" : "MISMATCH");
    return same;
}

// Static shapes: rank r's tokens in rows r*C .. of a [N*C, H] buffer (the slot tails hold garbage),
// MoeReRoutingWithCapacity into [N*C] rows, then its restore (counts transposed) back into the slots.
constexpr int64_t kCapacity = 4;
constexpr int64_t kSlotRows = kRanks * kCapacity;

bool RunStaticShapes(aclrtStream stream, const std::vector<int8_t> &tokens)
{
    // The slotted input: rank 0's 3 tokens at rows 0..2, rank 1's 4 at rows 4..7; row 3 is garbage.
    std::vector<int8_t> slots(kSlotRows * kHidden, -99);
    std::memcpy(slots.data(), tokens.data(), 3 * kHidden);
    std::memcpy(slots.data() + kCapacity * kHidden, tokens.data() + 3 * kHidden, 4 * kHidden);
    int32_t countsT[kExperts][kRanks];
    for (int64_t r = 0; r < kRanks; ++r) {
        for (int64_t e = 0; e < kExperts; ++e) {
            countsT[e][r] = kCounts[r][e];
        }
    }
    std::vector<int8_t> permuted(slots.size()), restored(slots.size());
    std::vector<int32_t> idx(kSlotRows), restoreIdx(kSlotRows);
    for (const bool restore : {false, true}) {
        DeviceTensor x, counts, outTokens, outScales, outIdx, outExpert;
        const int64_t countRows = restore ? kExperts : kRanks;
        const int64_t countCols = restore ? kRanks : kExperts;
        bool ok = x.Create(restore ? permuted.data() : slots.data(), slots.size(), {kSlotRows, kHidden}, ACL_INT8) &&
                  counts.Create(restore ? &countsT[0][0] : &kCounts[0][0], sizeof kCounts, {countRows, countCols},
                                ACL_INT32) &&
                  outTokens.Create(nullptr, slots.size(), {kSlotRows, kHidden}, ACL_INT8) &&
                  outScales.Create(nullptr, kSlotRows * sizeof(float), {kSlotRows}, ACL_FLOAT) &&
                  outIdx.Create(nullptr, kSlotRows * sizeof(int32_t), {kSlotRows}, ACL_INT32) &&
                  outExpert.Create(nullptr, countCols * sizeof(int32_t), {countCols}, ACL_INT32);
        CHECK_RET(ok, "creating the tensors failed\n");
        uint64_t workspaceSize = 0;
        aclOpExecutor *executor = nullptr;
        aclnnStatus status = aclnnMoeReRoutingWithCapacityGetWorkspaceSize(
            x.tensor, counts.tensor, nullptr, nullptr, kCapacity, 1, 0, restore, outTokens.tensor, outScales.tensor,
            outIdx.tensor, outExpert.tensor, nullptr, &workspaceSize, &executor);
        CHECK_RET(status == kAclnnSuccess, "aclnnMoeReRoutingWithCapacityGetWorkspaceSize failed: %d %s\n", status,
                  LastError());
        void *workspace = nullptr;
        if (workspaceSize > 0) {
            CHECK_RET(aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST) == ACL_SUCCESS,
                      "workspace allocation failed\n");
        }
        status = aclnnMoeReRoutingWithCapacity(workspace, workspaceSize, executor, stream);
        CHECK_RET(status == kAclnnSuccess, "aclnnMoeReRoutingWithCapacity failed: %d %s\n", status, LastError());
        CHECK_RET(aclrtSynchronizeStream(stream) == ACL_SUCCESS, "aclrtSynchronizeStream failed: %s\n",
                  LastError());
        if (workspace != nullptr) {
            aclrtFree(workspace);
        }
        ok = outTokens.CopyToHost(restore ? restored.data() : permuted.data()) &&
             outIdx.CopyToHost(restore ? restoreIdx.data() : idx.data());
        CHECK_RET(ok, "copying the outputs back failed\n");
    }
    std::printf("static shapes: num_max_tokens_per_rank=%lld, %lld slotted rows; slots[:, 0] = [0, 10, 20, -99, 30, "
                "40, 50, 60]\n",
                static_cast<long long>(kCapacity), static_cast<long long>(kSlotRows));
    PrintList("permute_tokens[:, 0]", permuted, kHidden);
    PrintList("permute_token_idx", idx);
    PrintList("restored[:, 0]", restored, kHidden);
    // The definition: the packed result first, then zeros / -1; the restore gives the slots back with
    // zeros where the garbage was.
    moe_re_routing_test::Problem p;
    p.A = kSlotRows;
    p.N = kRanks;
    p.E = kExperts;
    p.rowBytes = kHidden;
    p.C = kCapacity;
    const moe_re_routing_test::Outputs want = moe_re_routing_test::Reference(
        p, reinterpret_cast<const uint8_t *>(slots.data()), reinterpret_cast<const uint8_t *>(kCounts), nullptr);
    std::vector<int8_t> back = slots;
    std::memset(back.data() + 3 * kHidden, 0, kHidden);
    const bool same = std::memcmp(permuted.data(), want.tokens.data(), want.tokens.size()) == 0 &&
                      idx == want.Index() && restored == back;
    std::printf("  check: %s\n", same ? "OK" : "MISMATCH");
    return same;
}

// Two calls the operator must reject, with the status and the message an application would log.
bool ShowRejectedCalls(const std::vector<int8_t> &tokens)
{
    DeviceTensor x, x64, counts, outTokens, outScales, outIdx, outExpert;
    bool ok = x.Create(tokens.data(), tokens.size(), {kTokens, kHidden}, ACL_INT8) &&
              x64.Create(nullptr, kTokens * sizeof(int64_t), {kTokens, 1}, ACL_INT64) &&
              counts.Create(kCounts, sizeof kCounts, {kRanks, kExperts}, ACL_INT32) &&
              outTokens.Create(nullptr, tokens.size(), {kTokens, kHidden}, ACL_INT8) &&
              outScales.Create(nullptr, kTokens * sizeof(float), {kTokens}, ACL_FLOAT) &&
              outIdx.Create(nullptr, kTokens * sizeof(int32_t), {kTokens}, ACL_INT32) &&
              outExpert.Create(nullptr, kExperts * sizeof(int32_t), {kExperts}, ACL_INT32);
    CHECK_RET(ok, "creating the tensors failed\n");
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;

    const aclnnStatus nullStatus = aclnnMoeReRoutingGetWorkspaceSize(
        nullptr, counts.tensor, nullptr, 1, 0, outTokens.tensor, outScales.tensor, outIdx.tensor, outExpert.tensor,
        &workspaceSize, &executor);
    std::printf("rejected: tokens = nullptr -> %d: %s\n", nullStatus, LastError());

    const aclnnStatus dtypeStatus = aclnnMoeReRoutingGetWorkspaceSize(
        x64.tensor, counts.tensor, nullptr, 1, 0, outTokens.tensor, outScales.tensor, outIdx.tensor,
        outExpert.tensor, &workspaceSize, &executor);
    std::printf("rejected: tokens of dtype INT64 -> %d: %s\n", dtypeStatus, LastError());
    return nullStatus == kAclnnErrParamNullptr && dtypeStatus == kAclnnErrParamInvalid && executor == nullptr;
}

bool RunExample(aclrtStream stream)
{
    std::vector<int8_t> tokens(kTokens * kHidden);
    std::vector<float> scales(kTokens);
    for (int64_t row = 0; row < kTokens; ++row) {
        for (int64_t col = 0; col < kHidden; ++col) {
            tokens[row * kHidden + col] = static_cast<int8_t>(10 * row + col);  // row i starts with 10*i
        }
        scales[row] = 0.5f * static_cast<float>(row + 1);
    }
    std::printf("MoeReRouting example: A=%lld int8 tokens (H=%lld) from N=%lld ranks for E=%lld experts\n",
                static_cast<long long>(kTokens), static_cast<long long>(kHidden), static_cast<long long>(kRanks),
                static_cast<long long>(kExperts));
    std::printf("expert_token_num_per_rank: [[2, 0, 1], [1, 2, 1]]; tokens[:, 0] = [0, 10, ..., 60]\n");
    bool ok = true;
    for (int64_t countType : {1, 0}) {
        for (int64_t idxType : {0, 1}) {
            ok = RunMode(stream, tokens, scales, countType, idxType) && ok;
        }
    }
    ok = ShowRejectedCalls(tokens) && ok;
    return RunStaticShapes(stream, tokens) && ok;
}

}  // namespace

int main()
{
    const int32_t deviceId = 0;
    aclrtStream stream = nullptr;
    if (aclInit(nullptr) != ACL_SUCCESS || aclrtSetDevice(deviceId) != ACL_SUCCESS ||
        aclrtCreateStream(&stream) != ACL_SUCCESS) {
        std::printf("AscendCL initialisation failed: %s\n", LastError());
        return 1;
    }
    const bool ok = RunExample(stream);
    aclrtDestroyStream(stream);
    aclrtResetDevice(deviceId);
    aclFinalize();
    std::printf("%s\n", ok ? "all results match the definition" : "FAILED");
    return ok ? 0 : 1;
}
