// Internals of the AscendCL subset shared with the aclnn entry points of the same library:
// the tensor object, the thread-local error message and the stream registry.
#ifndef MOE_RE_ROUTING_ACL_CPU_INTERNAL_H
#define MOE_RE_ROUTING_ACL_CPU_INTERNAL_H

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "aclnn/acl_meta.h"

struct aclTensor {
    std::vector<int64_t> viewDims;
    std::vector<int64_t> strides;       // element strides; empty = contiguous row-major
    int64_t offset = 0;                 // elements from data to the first view element
    // The dtype and format codes as the caller passed them. Plain int32: a C caller may pass any
    // int for these enums, and a C++ enum object may only hold the values of its enumerators'
    // range, so the codes are never kept in (or read back through) the enum types.
    int32_t dataType = ACL_DT_UNDEFINED;
    int32_t format = ACL_FORMAT_ND;
    std::vector<int64_t> storageDims;
    void *data = nullptr;
};

namespace acl_cpu {

// The int value of an enum argument from a C caller, read from its object representation (not
// through the C++ enum type, whose range may not include it).
template <typename Enum>
int32_t EnumCode(const Enum &value)
{
    static_assert(sizeof(Enum) == sizeof(int32_t), "AscendCL enums are int-sized");
    int32_t code;
    std::memcpy(&code, &value, sizeof(code));
    return code;
}

// What the calling thread's last error is about: an int the layer above defines (libmoe_re_routing
// reports it as MoeReRoutingErrorKind and static_asserts that these values agree). The AscendCL
// subset itself only reports the kinds below.
inline constexpr int32_t kErrorKindNone = 0;
inline constexpr int32_t kErrorKindNullptr = 1;
inline constexpr int32_t kErrorKindValue = 3;
inline constexpr int32_t kErrorKindRuntime = 5;
inline constexpr int32_t kErrorKindInner = 6;

// The calling thread's last error: the message aclGetRecentErrMsg() returns and its kind. Both
// are per thread.
void SetRecentError(int32_t kind, const std::string &message);

// SetRecentError with kErrorKindRuntime (the AscendCL runtime's own failures).
void SetRecentErrMsg(const std::string &message);

// Forgets the calling thread's last error (kind kErrorKindNone, empty message): the
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
