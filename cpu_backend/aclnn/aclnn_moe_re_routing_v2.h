/* aclnn API of MoeReRoutingV2: MoeReRouting plus an optional top-k weight per token
 * (expert_topk_weight, FLOAT [A, 1] or [A]) that moves with its token into permute_topk_weight.
 * The weight pair is given together or not at all; without it the call is MoeReRouting's.
 * The declaration is the one CANN's op build generates from the MoeReRoutingV2 OpDef (inputs,
 * attributes, outputs, workspace size, executor; optional tensors and attributes named ...Optional,
 * outputs ...Out), so one application source builds against either backend.
 * Reference: docs/aclnnMoeReRouting.md. */
#ifndef ACLNN_MOE_RE_ROUTING_V2_H_
#define ACLNN_MOE_RE_ROUTING_V2_H_

#include "aclnn/acl_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Phase 1: validates every argument and returns the workspace size and an executor for one call of
 * aclnnMoeReRoutingV2. Writes nothing to the outputs. */
__attribute__((visibility("default"))) aclnnStatus aclnnMoeReRoutingV2GetWorkspaceSize(
    const aclTensor *tokens, const aclTensor *expertTokenNumPerRank, const aclTensor *perTokenScalesOptional,
    const aclTensor *expertTopkWeightOptional, int64_t expertTokenNumTypeOptional, int64_t idxTypeOptional,
    const aclTensor *permuteTokensOut, const aclTensor *permutePerTokenScalesOut, const aclTensor *permuteTokenIdxOut,
    const aclTensor *expertTokenNumOut, const aclTensor *permuteTopkWeightOutOptional, uint64_t *workspaceSize,
    aclOpExecutor **executor);

/* Phase 2: runs the operator on `stream` (NULL = default stream). Consumes the executor whether
 * the run succeeds or not. */
__attribute__((visibility("default"))) aclnnStatus aclnnMoeReRoutingV2(void *workspace, uint64_t workspaceSize,
                                                                       aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif /* ACLNN_MOE_RE_ROUTING_V2_H_ */
