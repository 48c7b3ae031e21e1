/* AscendCL entry header of the MoeReRouting CPU backend (the subset this package implements). */
#ifndef MOE_RE_ROUTING_ACL_H
#define MOE_RE_ROUTING_ACL_H

#include "acl/acl_base.h"
#include "acl/acl_rt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* configPath may be NULL (no configuration). A second aclInit without aclFinalize returns
 * ACL_ERROR_REPEAT_INITIALIZE; aclFinalize without aclInit returns ACL_ERROR_UNINITIALIZE.
 * The CPU backend does not require aclInit before other calls. */
ACL_FUNC_VISIBILITY aclError aclInit(const char *configPath);
ACL_FUNC_VISIBILITY aclError aclFinalize(void);

#ifdef __cplusplus
}
#endif

#endif /* MOE_RE_ROUTING_ACL_H */
