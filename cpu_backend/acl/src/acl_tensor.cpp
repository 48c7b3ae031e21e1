// aclTensor descriptions, element sizes and aclnn library init on the CPU backend.
#include <cstring>
#include <new>
#include <string>

#include "acl_cpu_internal.h"

namespace {

aclnnStatus FailNull(const char *api, const char *what)
{
    acl_cpu::SetRecentError(acl_cpu::kErrorKindNullptr, std::string(api) + ": " + what + " is null");
    return ACLNN_ERR_PARAM_NULLPTR;
}

}  // namespace

extern "C" {

size_t aclDataTypeSize(aclDataType dataType)
{
    switch (acl_cpu::EnumCode(dataType)) {
        case ACL_BOOL:
        case ACL_INT8:
        case ACL_UINT8:
        case ACL_HIFLOAT8:
        case ACL_FLOAT8_E5M2:
        case ACL_FLOAT8_E4M3FN:
        case ACL_FLOAT8_E8M0:
            return 1;
        case ACL_FLOAT16:
        case ACL_BF16:
        case ACL_INT16:
        case ACL_UINT16:
            return 2;
        case ACL_FLOAT:
        case ACL_INT32:
        case ACL_UINT32:
        case ACL_COMPLEX32:
            return 4;
        case ACL_INT64:
        case ACL_UINT64:
        case ACL_DOUBLE:
        case ACL_COMPLEX64:
            return 8;
        case ACL_COMPLEX128:
            return 16;
        default:  // undefined, string, sub-byte types, unknown codes
            return 0;
    }
}

aclTensor *aclCreateTensor(const int64_t *viewDims, uint64_t viewDimsNum, aclDataType dataType, const int64_t *stride,
                           int64_t offset, aclFormat format, const int64_t *storageDims, uint64_t storageDimsNum,
                           void *tensorData)
{
    if (viewDimsNum > 0 && viewDims == nullptr) {
        acl_cpu::SetRecentError(acl_cpu::kErrorKindNullptr, "aclCreateTensor: viewDims is null but viewDimsNum is " + std::to_string(viewDimsNum));
        return nullptr;
    }
    if (storageDimsNum > 0 && storageDims == nullptr) {
        acl_cpu::SetRecentError(acl_cpu::kErrorKindNullptr, "aclCreateTensor: storageDims is null but storageDimsNum is " +
                                 std::to_string(storageDimsNum));
        return nullptr;
    }
    if (offset < 0) {
        acl_cpu::SetRecentError(acl_cpu::kErrorKindValue, "aclCreateTensor: offset is " + std::to_string(offset) + ", expected >= 0 elements");
        return nullptr;
    }
    for (uint64_t i = 0; i < viewDimsNum; ++i) {
        if (viewDims[i] < 0) {
            acl_cpu::SetRecentError(acl_cpu::kErrorKindValue, "aclCreateTensor: viewDims[" + std::to_string(i) + "] is " +
                                     std::to_string(viewDims[i]) + ", expected >= 0");
            return nullptr;
        }
    }
    auto *tensor = new (std::nothrow) aclTensor();
    if (tensor == nullptr) {
        acl_cpu::SetRecentError(acl_cpu::kErrorKindInner, "aclCreateTensor: out of memory");
        return nullptr;
    }
    tensor->viewDims.assign(viewDims, viewDims + viewDimsNum);
    if (stride != nullptr) {
        tensor->strides.assign(stride, stride + viewDimsNum);
    }
    tensor->offset = offset;
    tensor->dataType = acl_cpu::EnumCode(dataType);
    tensor->format = acl_cpu::EnumCode(format);
    if (storageDims != nullptr) {
        tensor->storageDims.assign(storageDims, storageDims + storageDimsNum);
    } else {
        tensor->storageDims = tensor->viewDims;
    }
    tensor->data = tensorData;
    return tensor;
}

aclnnStatus aclDestroyTensor(const aclTensor *tensor)
{
    delete tensor;  // null is a no-op, as for free()
    return ACLNN_SUCCESS;
}

aclnnStatus aclGetViewShape(const aclTensor *tensor, int64_t **viewDims, uint64_t *viewDimsNum)
{
    if (tensor == nullptr) {
        return FailNull("aclGetViewShape", "tensor");
    }
    if (viewDims == nullptr || viewDimsNum == nullptr) {
        return FailNull("aclGetViewShape", viewDims == nullptr ? "viewDims" : "viewDimsNum");
    }
    auto *dims = new (std::nothrow) int64_t[tensor->viewDims.empty() ? 1 : tensor->viewDims.size()];
    if (dims == nullptr) {
        acl_cpu::SetRecentError(acl_cpu::kErrorKindInner, "aclGetViewShape: out of memory");
        return ACLNN_ERR_INNER;
    }
    for (size_t i = 0; i < tensor->viewDims.size(); ++i) {
        dims[i] = tensor->viewDims[i];
    }
    *viewDims = dims;
    *viewDimsNum = tensor->viewDims.size();
    return ACLNN_SUCCESS;
}

aclnnStatus aclGetDataType(const aclTensor *tensor, aclDataType *dataType)
{
    if (tensor == nullptr || dataType == nullptr) {
        return FailNull("aclGetDataType", tensor == nullptr ? "tensor" : "dataType");
    }
    std::memcpy(dataType, &tensor->dataType, sizeof(*dataType));  // the caller's code, whatever it is
    return ACLNN_SUCCESS;
}

aclnnStatus aclGetFormat(const aclTensor *tensor, aclFormat *format)
{
    if (tensor == nullptr || format == nullptr) {
        return FailNull("aclGetFormat", tensor == nullptr ? "tensor" : "format");
    }
    std::memcpy(format, &tensor->format, sizeof(*format));
    return ACLNN_SUCCESS;
}

// The CPU backend keeps no global aclnn state to set up or tear down.
aclnnStatus aclnnInit(const char * /*configPath*/)
{
    return ACLNN_SUCCESS;
}

aclnnStatus aclnnFinalize(void)
{
    return ACLNN_SUCCESS;
}

}  // extern "C"
