// Internals of the AscendCL subset shared with the aclnn entry points of the same library:
// the tensor object, the thread-local error message and the stream registry.
#ifndef MOE_RE_ROUTING_ACL_CPU_INTERNAL_H
#define MOE_RE_ROUTING_ACL_CPU_INTERNAL_H

#include <cstdint>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "aclnn/acl_meta.h"
#include "moe_re_routing_cpu.h"

struct aclTensor {
    std::vector<int64_t> viewDims;
    std::vector<int64_t> strides;       // element strides; empty = contiguous row-major
    int64_t offset = 0;                 // elements from data to the first view element
    aclDataType dataType = ACL_DT_UNDEFINED;
    aclFormat format = ACL_FORMAT_ND;
    std::vector<int64_t> storageDims;
    void *data = nullptr;
};

namespace acl_cpu {

// The calling thread's last error: the message aclGetRecentErrMsg() returns and its
// MoeReRoutingErrorKind (MoeReRoutingLastErrorKind()). Both are per thread.
void SetRecentError(int32_t kind, const std::string &message);

// SetRecentError with MOE_RE_ROUTING_ERROR_RUNTIME (the AscendCL runtime's own failures).
void SetRecentErrMsg(const std::string &message);

// Forgets the calling thread's last error (kind MOE_RE_ROUTING_ERROR_NONE, empty message): the
// operator's entry points call it first, so a success leaves no stale error behind.
void ClearRecentError();

int32_t RecentErrorKind();

// Returns ACL_SUCCESS when `stream` is null (the default stream) or a live stream created by
// aclrtCreateStream; otherwise ACL_ERROR_INVALID_PARAM with the message set.
aclError CheckStream(aclrtStream stream);

// Records `error` as the stream's error unless one is already recorded. Null = default stream.
void RecordStreamError(aclrtStream stream, aclError error);

}  // namespace acl_cpu

#endif  // MOE_RE_ROUTING_ACL_CPU_INTERNAL_H
