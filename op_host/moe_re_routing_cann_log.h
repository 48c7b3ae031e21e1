// Error reporting of the CANN glue (compiled only with the CANN toolkit). InferShape, InferDataType
// and TilingFunc report through CANN's error manager (base/err_msg.h), which is what
// aclGetRecentErrMsg() returns to the application and what the framework writes to its log; every
// message carries the node type and name of the failing node. Nothing is printed to stderr.
#ifndef MOE_RE_ROUTING_CANN_LOG_H
#define MOE_RE_ROUTING_CANN_LOG_H

#include <string>

#include "base/err_msg.h"

namespace moe_re_routing {

// Error code of operator-internal errors in CANN's error manager (the one the official operators'
// error log uses).
inline constexpr const char *kCannInnerErrorCode = "EZ9999";

// Reports "<stage> of <node type>[<node name>]: <message>". `context` is any gert context with
// GetNodeType()/GetNodeName() (InferShapeContext, InferDataTypeContext, TilingContext); null is
// allowed. The error-manager entry point is a weak symbol: when the process has not loaded it, the
// report is skipped rather than crashing.
template <typename Context>
void ReportCannError(const Context *context, const char *stage, const std::string &message)
{
    const char *type = context != nullptr ? context->GetNodeType() : nullptr;
    const char *name = context != nullptr ? context->GetNodeName() : nullptr;
    const std::string node = std::string(type != nullptr ? type : "MoeReRouting") + "[" +
                             (name != nullptr ? name : "?") + "]";
    if (&ge::ReportInnerErrMsg != nullptr) {
        (void)ge::ReportInnerErrMsg(__FILE__, stage, __LINE__, kCannInnerErrorCode, "%s of %s: %s", stage,
                                    node.c_str(), message.c_str());
    }
}

}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_CANN_LOG_H
