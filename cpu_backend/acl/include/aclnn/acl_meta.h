/* aclnn tensor descriptions of the MoeReRouting CPU backend (CANN's acl_meta.h names, signatures
 * and values). Includes the status values of aclnn_base.h. */
#ifndef MOE_RE_ROUTING_ACL_META_H
#define MOE_RE_ROUTING_ACL_META_H

#include <stdint.h>

#include "acl/acl_base.h"
#include "aclnn/aclnn_base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct aclOpExecutor aclOpExecutor;
typedef struct aclTensor aclTensor;

/* Describes tensorData as a tensor: viewDims (viewDimsNum of them, may be 0 for a scalar),
 * element strides (NULL = contiguous row-major), offset IN ELEMENTS from tensorData to the first
 * view element, format, and the storage shape (NULL = the view shape). Returns NULL (with
 * aclGetRecentErrMsg set) on a null dims pointer with a non-zero count or a negative dim. */
ACL_FUNC_VISIBILITY aclTensor *aclCreateTensor(const int64_t *viewDims, uint64_t viewDimsNum,
                                               aclDataType dataType, const int64_t *stride, int64_t offset,
                                               aclFormat format, const int64_t *storageDims,
                                               uint64_t storageDimsNum, void *tensorData);
ACL_FUNC_VISIBILITY aclnnStatus aclDestroyTensor(const aclTensor *tensor);

/* *viewDims receives a copy of the view shape allocated with new[]; release it with delete[]. */
ACL_FUNC_VISIBILITY aclnnStatus aclGetViewShape(const aclTensor *tensor, int64_t **viewDims,
                                                uint64_t *viewDimsNum);
ACL_FUNC_VISIBILITY aclnnStatus aclGetDataType(const aclTensor *tensor, aclDataType *dataType);
ACL_FUNC_VISIBILITY aclnnStatus aclGetFormat(const aclTensor *tensor, aclFormat *format);

#ifdef __cplusplus
}
#endif

#endif /* MOE_RE_ROUTING_ACL_META_H */
