// Output inference and the host-memory call shared by the framework adapters (see the header).
#include "moe_re_routing_framework.h"

#include <exception>

#include "acl/acl.h"
#include "aclnn_moe_re_routing.h"
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
    t->dtype = s.dtype;
    t->dims.assign(s.dims, s.dims + s.dimNum);
}

}  // namespace

void InferOutputs(const Tensor inputs[kInputCount], Tensor outputs[kOutputCount])
{
    InferInputs in;
    in.tokens = Describe(inputs[0]);
    in.expertTokenNumPerRank = Describe(inputs[1]);
    in.perTokenScales = Describe(inputs[kScalesInput]);
    InferredOutputs out;
    // A failure (a wrong rank, a missing input) is left to the run, which reports it with the
    // operator's status; `out` holds the best guess either way.
    (void)moe_re_routing::InferOutputs(in, &out);
    Store(out.permuteTokens, &outputs[0]);
    Store(out.permutePerTokenScales, &outputs[1]);
    Store(out.permuteTokenIdx, &outputs[2]);
    Store(out.expertTokenNum, &outputs[3]);
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

    int32_t Run(const Tensor host[kTensorCount], int64_t expertTokenNumType, int64_t idxType)
    {
        static std::once_flag initOnce;
        std::call_once(initOnce, [] { aclInit(nullptr); });
        const char *device = std::getenv("MOE_RE_ROUTING_DEVICE");
        if (aclrtSetDevice(device == nullptr ? 0 : std::atoi(device)) != ACL_SUCCESS ||
            aclrtCreateStream(&stream_) != ACL_SUCCESS) {
            return kRuntimeError;
        }
        for (int i = 0; i < kTensorCount; ++i) {
            const Tensor &t = host[i];
            if (t.dtype == kAbsent) {
                continue;
            }
            bytes_[i] = ByteSize(t);
            if (bytes_[i] > 0 && aclrtMalloc(&buffers_[i], bytes_[i], ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) {
                return kRuntimeError;
            }
            if (i < kInputCount && bytes_[i] > 0 &&
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
        int32_t status = aclnnMoeReRoutingGetWorkspaceSize(tensors_[0], tensors_[1], tensors_[2], expertTokenNumType,
                                                           idxType, tensors_[3], tensors_[4], tensors_[5],
                                                           tensors_[6], &workspaceSize, &executor);
        if (status != 0) {
            return status;
        }
        if (workspaceSize > 0 && aclrtMalloc(&workspace_, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST) != ACL_SUCCESS) {
            return kRuntimeError;
        }
        status = aclnnMoeReRouting(workspace_, workspaceSize, executor, stream_);
        if (status != 0) {
            return status;
        }
        if (aclrtSynchronizeStream(stream_) != ACL_SUCCESS) {
            return kRuntimeError;
        }
        for (int i = kInputCount; i < kTensorCount; ++i) {
            if (bytes_[i] > 0 && aclrtMemcpy(host[i].data, bytes_[i], buffers_[i], bytes_[i],
                                             ACL_MEMCPY_DEVICE_TO_HOST) != ACL_SUCCESS) {
                return kRuntimeError;
            }
        }
        return 0;
    }

private:
    aclrtStream stream_ = nullptr;
    aclTensor *tensors_[kTensorCount] = {};
    void *buffers_[kTensorCount] = {};
    int64_t bytes_[kTensorCount] = {};
    void *workspace_ = nullptr;
};
#endif

}  // namespace

int32_t Run(const Tensor tensors[kTensorCount], int64_t expertTokenNumType, int64_t idxType, std::string *message)
{
    int32_t status = 0;
#ifdef MOE_RE_ROUTING_FRAMEWORK_DEVICE_COPY
    status = DeviceCall().Run(tensors, expertTokenNumType, idxType);
#else
    // MoeReRoutingCpuRunHost: aclCreateTensor x7 + the two aclnn phases on host memory, in one call.
    std::vector<int64_t> desc;
    for (int i = 0; i < kTensorCount; ++i) {
        const Tensor &t = tensors[i];
        desc.push_back(t.dtype);
        desc.push_back(t.dtype == kAbsent ? 0 : static_cast<int64_t>(t.dims.size()));
        if (t.dtype != kAbsent) {
            desc.insert(desc.end(), t.dims.begin(), t.dims.end());
        }
    }
    status = MoeReRoutingCpuRunHost(desc.data(), static_cast<int64_t>(desc.size()), tensors[0].data,
                                    tensors[1].data, tensors[2].data, tensors[3].data, tensors[4].data,
                                    tensors[5].data, tensors[6].data, expertTokenNumType, idxType);
#endif
    if (status != 0 && message != nullptr) {
        *message = StatusText(status);
    }
    return status;
}

}  // namespace framework
}  // namespace moe_re_routing
