// A MoeReRouting call set up through the public C API only: host buffers, aclTensors over them,
// outputs pre-filled with a sentinel, compared with the shared C++ test reference of the operator's
// contract (tests/common/moe_re_routing_reference.h).
#ifndef MOE_RE_ROUTING_TEST_OP_FIXTURE_H
#define MOE_RE_ROUTING_TEST_OP_FIXTURE_H

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../../common/moe_re_routing_reference.h"
#include "acl/acl.h"
#include "aclnn_moe_re_routing.h"
#include "moe_re_routing_cpu.h"

namespace api_test {

// Runs the enclosing scope on `engine` ("native" or "emulator"), then goes back to the environment's
// choice (MOE_RE_ROUTING_ENGINE, which the ctest of each engine sets).
class EngineScope {
public:
    explicit EngineScope(const char *engine) { ok_ = MoeReRoutingCpuSetEngine(engine) == ACLNN_SUCCESS; }
    ~EngineScope() { MoeReRoutingCpuSetEngine(nullptr); }
    EngineScope(const EngineScope &) = delete;
    EngineScope &operator=(const EngineScope &) = delete;
    bool ok() const { return ok_; }

private:
    bool ok_ = false;
};

// Argument slots, in the order of aclnnMoeReRoutingGetWorkspaceSize.
enum Slot { kTokens, kCounts, kScales, kOutTokens, kOutScales, kOutIdx, kOutExpert, kSlotCount };
inline const char *const kSlotNames[kSlotCount] = {
    "tokens", "expert_token_num_per_rank", "per_token_scales", "permute_tokens",
    "permute_per_token_scales", "permute_token_idx", "expert_token_num"};

constexpr uint8_t kSentinel = 0xA5;

inline uint32_t BitsOf(aclDataType dtype)
{
    const MoeReRoutingDtypeInfo *table = nullptr;
    const int32_t n = MoeReRoutingDtypeTable(&table);
    for (int32_t i = 0; i < n; ++i) {
        if (table[i].code == dtype) {
            return table[i].bits;
        }
    }
    return 0;
}

struct Spec {
    std::vector<std::vector<int64_t>> counts = {{3, 1}, {0, 4}};  // [N][E]
    int64_t hidden = 16;
    aclDataType tokenDtype = ACL_FLOAT16;
    aclDataType countDtype = ACL_INT32;
    bool hasScales = true;
    int64_t scaleCols = 0;  // 0: scales are [A]; S > 0: [A, S]
    aclDataType scaleDtype = ACL_FLOAT;
    int64_t expertTokenNumType = 1;
    int64_t idxType = 0;
};

class Fixture {
public:
    explicit Fixture(const Spec &spec) : spec_(spec)
    {
        rankNum_ = static_cast<int64_t>(spec.counts.size());
        expertNum_ = rankNum_ > 0 ? static_cast<int64_t>(spec.counts[0].size()) : 0;
        for (const auto &row : spec.counts) {
            for (int64_t c : row) {
                tokenNum_ += c;
            }
        }
        tokenRowBytes_ = spec.hidden * BitsOf(spec.tokenDtype) / 8;
        const int64_t scaleCols = spec.scaleCols > 0 ? spec.scaleCols : 1;
        scaleRowBytes_ = spec.hasScales ? scaleCols * BitsOf(spec.scaleDtype) / 8 : 0;
        outScaleRowBytes_ = spec.hasScales ? scaleRowBytes_ : 4;
        countBytes_ = BitsOf(spec.countDtype) / 8;

        buf_[kTokens].resize(tokenNum_ * tokenRowBytes_);
        for (size_t i = 0; i < buf_[kTokens].size(); ++i) {
            const size_t row = i / tokenRowBytes_;
            buf_[kTokens][i] = static_cast<uint8_t>(row * 131 + (i % tokenRowBytes_) * 7 + 1);
        }
        buf_[kCounts].resize(rankNum_ * expertNum_ * countBytes_);
        for (int64_t r = 0; r < rankNum_; ++r) {
            for (int64_t e = 0; e < expertNum_; ++e) {
                moe_re_routing_test::StoreCount(buf_[kCounts].data(), static_cast<uint32_t>(countBytes_), r * expertNum_ + e,
                                                spec.counts[r][e]);
            }
        }
        buf_[kScales].resize(tokenNum_ * scaleRowBytes_);
        for (size_t i = 0; i < buf_[kScales].size(); ++i) {
            buf_[kScales][i] = static_cast<uint8_t>(i * 29 + 3);
        }
        buf_[kOutTokens].assign(tokenNum_ * tokenRowBytes_, kSentinel);
        buf_[kOutScales].assign(tokenNum_ * outScaleRowBytes_, kSentinel);
        buf_[kOutIdx].assign(tokenNum_ * 4, kSentinel);
        buf_[kOutExpert].assign(expertNum_ * countBytes_, kSentinel);

        const int64_t A = tokenNum_;
        const aclDataType outScaleDtype = spec.hasScales ? spec.scaleDtype : ACL_FLOAT;
        std::vector<int64_t> scaleShape = {A};
        if (spec.scaleCols > 0) {
            scaleShape.push_back(spec.scaleCols);
        }
        const std::vector<int64_t> outScaleShape = spec.hasScales ? scaleShape : std::vector<int64_t>{A};
        own_[kTokens] = Make({A, spec.hidden}, spec.tokenDtype, buf_[kTokens].data());
        own_[kCounts] = Make({rankNum_, expertNum_}, spec.countDtype, buf_[kCounts].data());
        own_[kScales] = spec.hasScales ? Make(scaleShape, spec.scaleDtype, buf_[kScales].data()) : nullptr;
        own_[kOutTokens] = Make({A, spec.hidden}, spec.tokenDtype, buf_[kOutTokens].data());
        own_[kOutScales] = Make(outScaleShape, outScaleDtype, buf_[kOutScales].data());
        own_[kOutIdx] = Make({A}, ACL_INT32, buf_[kOutIdx].data());
        own_[kOutExpert] = Make({expertNum_}, spec.countDtype, buf_[kOutExpert].data());
        for (int i = 0; i < kSlotCount; ++i) {
            arg[i] = own_[i];
        }
        expertTokenNumType = spec.expertTokenNumType;
        idxType = spec.idxType;
    }

    ~Fixture()
    {
        for (aclTensor *t : own_) {
            aclDestroyTensor(t);
        }
        for (aclTensor *t : extra_) {
            aclDestroyTensor(t);
        }
    }

    Fixture(const Fixture &) = delete;
    Fixture &operator=(const Fixture &) = delete;

    // Makes `slot` an arbitrary tensor (owned by the fixture); data defaults to the slot's buffer.
    void Replace(Slot slot, const std::vector<int64_t> &dims, aclDataType dtype, const int64_t *strides = nullptr,
                 int64_t offset = 0, aclFormat format = ACL_FORMAT_ND, void *data = reinterpret_cast<void *>(-1))
    {
        if (data == reinterpret_cast<void *>(-1)) {
            data = buf_[slot].data();
        }
        aclTensor *t = aclCreateTensor(dims.data(), dims.size(), dtype, strides, offset, format, dims.data(),
                                       dims.size(), data);
        extra_.push_back(t);
        arg[slot] = t;
    }

    aclnnStatus Prepare(uint64_t *workspaceSize, aclOpExecutor **executor) const
    {
        return aclnnMoeReRoutingGetWorkspaceSize(arg[kTokens], arg[kCounts], arg[kScales], expertTokenNumType, idxType,
                                                 arg[kOutTokens], arg[kOutScales], arg[kOutIdx], arg[kOutExpert],
                                                 workspaceSize, executor);
    }

    // Both phases; the status of the first that fails.
    aclnnStatus Run(aclrtStream stream = nullptr) const
    {
        uint64_t workspaceSize = 0;
        aclOpExecutor *executor = nullptr;
        const aclnnStatus status = Prepare(&workspaceSize, &executor);
        if (status != ACLNN_SUCCESS) {
            return status;
        }
        void *workspace = nullptr;
        if (workspaceSize > 0 && aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) {
            return ACLNN_ERR_RUNTIME_ERROR;
        }
        const aclnnStatus run = aclnnMoeReRouting(workspace, workspaceSize, executor, stream);
        if (workspace != nullptr) {
            aclrtFree(workspace);
        }
        return run;
    }

    bool OutputsUntouched() const
    {
        for (int slot = kOutTokens; slot < kSlotCount; ++slot) {
            for (uint8_t b : buf_[slot]) {
                if (b != kSentinel) {
                    return false;
                }
            }
        }
        return true;
    }

    // Compares the outputs with the reference; "" when equal, else what differs first.
    std::string CompareWithReference() const
    {
        std::vector<uint8_t> want[kSlotCount];
        Reference(want);
        for (int slot = kOutTokens; slot < kSlotCount; ++slot) {
            if (want[slot].size() != buf_[slot].size()) {
                return std::string(kSlotNames[slot]) + ": size differs";
            }
            for (size_t i = 0; i < want[slot].size(); ++i) {
                if (want[slot][i] != buf_[slot][i]) {
                    return std::string(kSlotNames[slot]) + ": first difference at byte " + std::to_string(i) +
                           " (got " + std::to_string(buf_[slot][i]) + ", want " + std::to_string(want[slot][i]) + ")";
                }
            }
        }
        return "";
    }

    int64_t tokenNum() const { return tokenNum_; }
    std::vector<uint8_t> &buffer(Slot slot) { return buf_[slot]; }

    const aclTensor *arg[kSlotCount] = {};
    int64_t expertTokenNumType = 1;
    int64_t idxType = 0;

private:
    aclTensor *Make(const std::vector<int64_t> &dims, aclDataType dtype, void *data)
    {
        return aclCreateTensor(dims.data(), dims.size(), dtype, nullptr, 0, ACL_FORMAT_ND, dims.data(), dims.size(),
                               data);
    }

    // The shared C++ test reference (tests/common/moe_re_routing_reference.h) on the input buffers.
    void Reference(std::vector<uint8_t> *want) const
    {
        moe_re_routing_test::Problem p;
        p.A = tokenNum_;
        p.N = rankNum_;
        p.E = expertNum_;
        p.rowBytes = tokenRowBytes_;
        p.scaleRowBytes = scaleRowBytes_;
        p.countBytes = static_cast<uint32_t>(countBytes_);
        p.type = expertTokenNumType;
        p.idx = idxType;
        moe_re_routing_test::Outputs o = moe_re_routing_test::Reference(p, buf_[kTokens].data(), buf_[kCounts].data(),
                                                                         buf_[kScales].data());
        want[kOutTokens] = std::move(o.tokens);
        want[kOutScales] = std::move(o.scales);
        want[kOutIdx] = std::move(o.idx);
        want[kOutExpert] = std::move(o.experts);
    }

    Spec spec_;
    int64_t tokenNum_ = 0;
    int64_t rankNum_ = 0;
    int64_t expertNum_ = 0;
    int64_t tokenRowBytes_ = 0;
    int64_t scaleRowBytes_ = 0;
    int64_t outScaleRowBytes_ = 0;
    int64_t countBytes_ = 0;
    std::vector<uint8_t> buf_[kSlotCount];
    aclTensor *own_[kSlotCount] = {};
    std::vector<aclTensor *> extra_;
};

}  // namespace api_test

#endif  // MOE_RE_ROUTING_TEST_OP_FIXTURE_H
