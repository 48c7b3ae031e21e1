/* aclnn API of MoeReRouting: reorders tokens that arrive rank-major after an AlltoAll into
 * expert-major order, moving each token's optional scale with it, and reports each token's
 * source index and the tokens per expert. Same declaration as the header CANN generates for the
 * custom operator, so one application source builds against either backend.
 * Reference: docs/aclnnMoeReRouting.md. */
#ifndef ACLNN_MOE_RE_ROUTING_H_
#define ACLNN_MOE_RE_ROUTING_H_

#include "aclnn/acl_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Phase 1: validates every argument, computes the tiling and returns the workspace size and an
 * executor for one call of aclnnMoeReRouting. Writes nothing to the outputs. */
__attribute__((visibility("default"))) aclnnStatus aclnnMoeReRoutingGetWorkspaceSize(
    const aclTensor *tokens, const aclTensor *expertTokenNumPerRank, const aclTensor *perTokenScalesOptional,
    int64_t expertTokenNumType, int64_t idxType, const aclTensor *permuteTokensOut,
    const aclTensor *permutePerTokenScalesOut, const aclTensor *permuteTokenIdxOut,
    const aclTensor *expertTokenNumOut, uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: runs the operator on `stream` (NULL = default stream). Consumes the executor whether
 * the run succeeds or not. */
__attribute__((visibility("default"))) aclnnStatus aclnnMoeReRouting(void *workspace, uint64_t workspaceSize,
                                                                     aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif /* ACLNN_MOE_RE_ROUTING_H_ */
