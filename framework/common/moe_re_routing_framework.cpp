// Output inference and the host-memory call shared by the framework adapters (see the header).
#include "moe_re_routing_framework.h"

#include <exception>

#include "acl/acl.h"
#include "aclnn_moe_re_routing.h"
#include "aclnn_moe_re_routing_v2.h"
#include "aclnn_moe_re_routing_with_capacity.h"
#include "moe_re_routing_host.h"
#ifdef MOE_RE_ROUTING_FRAMEWORK_DEVICE_COPY
#include <cstdlib>
#include <mutex>

#include "moe_re_routing_dtypes.h"
#else
#include "moe_re_routing_cpu.h"
#endif

// The CPU backend's status names ("ACLNN_ERR_PARAM_INVALID"); CANN's libraries have no such
// function, so it is looked up weakly and the code alone is printed there.
extern "C" const char *MoeReRoutingStatusName(aclnnStatus status) __attribute__((weak));

namespace moe_re_routing {
namespace framework {

namespace {

ShapeDtype Describe(const Tensor &t)
{
    ShapeDtype s;
    s.present = t.dtype != kAbsent;
    s.dtype = t.dtype;
    s.dimNum = static_cast<uint32_t>(t.dims.size());  // more than kMaxDims: InferOutputs says so
    for (uint32_t i = 0; i < s.dimNum && i < kMaxDims; ++i) {
        s.dims[i] = t.dims[i];
    }
    return s;
}

void Store(const ShapeDtype &s, Tensor *t)
{
    if (!s.present) {
        *t = Tensor{};
        return;
    }
    t->dtype = s.dtype;
    t->dims.assign(s.dims, s.dims + s.dimNum);
}

}  // namespace

const char *const kSlotNames[kSlotCount] = {
    "tokens",         "expert_token_num_per_rank", "per_token_scales", "expert_topk_weight", "permute_tokens",
    "permute_per_token_scales", "permute_token_idx", "expert_token_num", "permute_topk_weight",
};

const OpSpec kMoeReRouting{"MoeReRouting", 3, 4, false, false};
const OpSpec kMoeReRoutingV2{"MoeReRoutingV2", 4, 5, true, false};
const OpSpec kMoeReRoutingWithCapacity{"MoeReRoutingWithCapacity", 4, 5, true, true};

void InferOutputs(Tensor tensors[kSlotCount])
{
    InferInputs in;
    in.tokens = Describe(tensors[kTokens]);
    in.expertTokenNumPerRank = Describe(tensors[kCounts]);
    in.perTokenScales = Describe(tensors[kScales]);
    in.expertTopkWeight = Describe(tensors[kWeights]);
    InferredOutputs out;
    // A failure (a wrong rank, a missing input) is left to the run, which reports it with the
    // operator's status; `out` holds the best guess either way.
    (void)moe_re_routing::InferOutputs(in, &out);
    Store(out.permuteTokens, &tensors[kPermuteTokens]);
    Store(out.permutePerTokenScales, &tensors[kPermuteScales]);
    Store(out.permuteTokenIdx, &tensors[kPermuteIdx]);
    Store(out.expertTokenNum, &tensors[kExpertTokenNum]);
    Store(out.permuteTopkWeight, &tensors[kPermuteWeights]);
}

namespace {

std::string StatusText(int32_t status)
{
    const char *name = MoeReRoutingStatusName != nullptr ? MoeReRoutingStatusName(status) : "aclnn status";
    std::string text = std::string(name) + " (" + std::to_string(status) + ")";
    const char *recent = aclGetRecentErrMsg();
    if (recent != nullptr && recent[0] != '\0') {
        text += ": ";
        text += recent;
    }
    return text;
}

#ifdef MOE_RE_ROUTING_FRAMEWORK_DEVICE_COPY
// ---- host buffers -> device memory -> aclnn -> host buffers (the CANN path) ---------------------
// Written to the documented AscendCL / aclnn calling sequence. Not run on an NPU here; the tests
// run this path against the CPU backend's AscendCL subset (framework/onnxruntime/CMakeLists.txt).

constexpr int32_t kRuntimeError = 361001;  // ACLNN_ERR_RUNTIME_ERROR

int64_t ByteSize(const Tensor &t)
{
    const DtypeInfo *info = FindDtype(t.dtype);
    int64_t elements = 1;
    for (int64_t d : t.dims) {
        elements *= d;
    }
    return info == nullptr ? 0 : (elements * info->bits + 7) / 8;
}

class DeviceCall {
public:
    ~DeviceCall()
    {
        for (aclTensor *t : tensors_) {
            if (t != nullptr) {
                aclDestroyTensor(t);
            }
        }
        for (void *p : buffers_) {
            if (p != nullptr) {
                aclrtFree(p);
            }
        }
        if (workspace_ != nullptr) {
            aclrtFree(workspace_);
        }
        if (stream_ != nullptr) {
            aclrtDestroyStream(stream_);
        }
    }

    int32_t Run(const OpSpec &op, const Tensor host[kSlotCount], const Attributes &attrs)
    {
        static std::once_flag initOnce;
        std::call_once(initOnce, [] { aclInit(nullptr); });
        const char *device = std::getenv("MOE_RE_ROUTING_DEVICE");
        if (aclrtSetDevice(device == nullptr ? 0 : std::atoi(device)) != ACL_SUCCESS ||
            aclrtCreateStream(&stream_) != ACL_SUCCESS) {
            return kRuntimeError;
        }
        for (int i = 0; i < kSlotCount; ++i) {
            const Tensor &t = host[i];
            if (t.dtype == kAbsent || (!op.v2 && (i == kWeights || i == kPermuteWeights))) {
                continue;
            }
            bytes_[i] = ByteSize(t);
            if (bytes_[i] > 0 && aclrtMalloc(&buffers_[i], bytes_[i], ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) {
                return kRuntimeError;
            }
            if (i < kInputSlots && bytes_[i] > 0 &&
                aclrtMemcpy(buffers_[i], bytes_[i], t.data, bytes_[i], ACL_MEMCPY_HOST_TO_DEVICE) != ACL_SUCCESS) {
                return kRuntimeError;
            }
            std::vector<int64_t> strides(t.dims.size(), 1);
            for (size_t d = t.dims.size(); d > 1; --d) {
                strides[d - 2] = strides[d - 1] * t.dims[d - 1];
            }
            tensors_[i] = aclCreateTensor(t.dims.data(), t.dims.size(), static_cast<aclDataType>(t.dtype),
                                          strides.data(), 0, ACL_FORMAT_ND, t.dims.data(), t.dims.size(),
                                          buffers_[i]);
        }
        uint64_t workspaceSize = 0;
        aclOpExecutor *executor = nullptr;
        int32_t status = 0;
        if (op.capacity) {
            status = aclnnMoeReRoutingWithCapacityGetWorkspaceSize(
                tensors_[kTokens], tensors_[kCounts], tensors_[kScales], tensors_[kWeights], attrs.numMaxTokensPerRank,
                attrs.expertTokenNumType, attrs.idxType, attrs.restore, tensors_[kPermuteTokens],
                tensors_[kPermuteScales], tensors_[kPermuteIdx], tensors_[kExpertTokenNum], tensors_[kPermuteWeights],
                &workspaceSize, &executor);
        } else if (op.v2) {
            status = aclnnMoeReRoutingV2GetWorkspaceSize(
                tensors_[kTokens], tensors_[kCounts], tensors_[kScales], tensors_[kWeights], attrs.expertTokenNumType,
                attrs.idxType, tensors_[kPermuteTokens], tensors_[kPermuteScales], tensors_[kPermuteIdx],
                tensors_[kExpertTokenNum], tensors_[kPermuteWeights], &workspaceSize, &executor);
        } else {
            status = aclnnMoeReRoutingGetWorkspaceSize(tensors_[kTokens], tensors_[kCounts], tensors_[kScales],
                                                       attrs.expertTokenNumType, attrs.idxType,
                                                       tensors_[kPermuteTokens], tensors_[kPermuteScales],
                                                       tensors_[kPermuteIdx], tensors_[kExpertTokenNum],
                                                       &workspaceSize, &executor);
        }
        if (status != 0) {
            return status;
        }
        if (workspaceSize > 0 && aclrtMalloc(&workspace_, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) {
            return kRuntimeError;
        }
        status = op.capacity ? aclnnMoeReRoutingWithCapacity(workspace_, workspaceSize, executor, stream_)
                 : op.v2     ? aclnnMoeReRoutingV2(workspace_, workspaceSize, executor, stream_)
                             : aclnnMoeReRouting(workspace_, workspaceSize, executor, stream_);
        if (status != 0) {
            return status;
        }
        if (aclrtSynchronizeStream(stream_) != ACL_SUCCESS) {
            return kRuntimeError;
        }
        for (int i = kInputSlots; i < kSlotCount; ++i) {
            if (bytes_[i] > 0 && aclrtMemcpy(host[i].data, bytes_[i], buffers_[i], bytes_[i],
                                             ACL_MEMCPY_DEVICE_TO_HOST) != ACL_SUCCESS) {
                return kRuntimeError;
            }
        }
        return 0;
    }

private:
    aclrtStream stream_ = nullptr;
    aclTensor *tensors_[kSlotCount] = {};
    void *buffers_[kSlotCount] = {};
    int64_t bytes_[kSlotCount] = {};
    void *workspace_ = nullptr;
};
#endif

}  // namespace

int32_t Run(const OpSpec &op, const Tensor tensors[kSlotCount], const Attributes &attrs, std::string *message)
{
    int32_t status = 0;
#ifdef MOE_RE_ROUTING_FRAMEWORK_DEVICE_COPY
    status = DeviceCall().Run(op, tensors, attrs);
#else
    // MoeReRoutingCpuRunHost(V2/WithCapacity): aclCreateTensor per tensor + the two aclnn phases on
    // host memory, in one call. MoeReRouting's seven tensors are the slots without the weight pair.
    std::vector<int64_t> desc;
    for (int i = 0; i < kSlotCount; ++i) {
        if (!op.v2 && (i == kWeights || i == kPermuteWeights)) {
            continue;
        }
        const Tensor &t = tensors[i];
        desc.push_back(t.dtype);
        desc.push_back(t.dtype == kAbsent ? 0 : static_cast<int64_t>(t.dims.size()));
        if (t.dtype != kAbsent) {
            desc.insert(desc.end(), t.dims.begin(), t.dims.end());
        }
    }
    const auto descLen = static_cast<int64_t>(desc.size());
    if (op.capacity) {
        status = MoeReRoutingCpuRunHostWithCapacity(
            desc.data(), descLen, tensors[kTokens].data, tensors[kCounts].data, tensors[kScales].data,
            tensors[kWeights].data, tensors[kPermuteTokens].data, tensors[kPermuteScales].data,
            tensors[kPermuteIdx].data, tensors[kExpertTokenNum].data, tensors[kPermuteWeights].data,
            attrs.numMaxTokensPerRank, attrs.expertTokenNumType, attrs.idxType, attrs.restore ? 1 : 0);
    } else if (op.v2) {
        status = MoeReRoutingCpuRunHostV2(desc.data(), descLen, tensors[kTokens].data, tensors[kCounts].data,
                                          tensors[kScales].data, tensors[kWeights].data, tensors[kPermuteTokens].data,
                                          tensors[kPermuteScales].data, tensors[kPermuteIdx].data,
                                          tensors[kExpertTokenNum].data, tensors[kPermuteWeights].data,
                                          attrs.expertTokenNumType, attrs.idxType);
    } else {
        status = MoeReRoutingCpuRunHost(desc.data(), descLen, tensors[kTokens].data, tensors[kCounts].data,
                                        tensors[kScales].data, tensors[kPermuteTokens].data,
                                        tensors[kPermuteScales].data, tensors[kPermuteIdx].data,
                                        tensors[kExpertTokenNum].data, attrs.expertTokenNumType, attrs.idxType);
    }
#endif
    if (status != 0 && message != nullptr) {
        *message = StatusText(status);
    }
    return status;
}

}  // namespace framework
}  // namespace moe_re_routing
