/* aclnn API of MoeReRoutingWithCapacity: MoeReRoutingV2 on statically shaped buffers, for captured
 * graphs. Every rank's tokens sit in a fixed slot of num_max_tokens_per_rank (C) rows, so no shape
 * depends on the counts and the counts never need to reach the host:
 *   restore = false: tokens [N*C, H], rank r's tokens at rows r*C .. r*C + sum(counts[r]) - 1 in
 *     expert order; the outputs have N*C rows, the T = sum(counts) tokens expert-major first, zeros
 *     after; permute_token_idx is -1 on rows without a token.
 *   restore = true: the inverse (pass counts.T, [E, N]): packed tokens in, each rank's tokens back
 *     into its slot of C rows, zeros elsewhere.
 * The declaration is the one CANN's op build generates from the MoeReRoutingWithCapacity OpDef
 * (inputs, attributes in OpDef order, outputs, workspace size, executor).
 * Reference: docs/aclnnMoeReRouting.md, docs/spec.md "Static capacity". */
#ifndef ACLNN_MOE_RE_ROUTING_WITH_CAPACITY_H_
#define ACLNN_MOE_RE_ROUTING_WITH_CAPACITY_H_

#include <stdbool.h>

#include "aclnn/acl_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Phase 1: validates every argument (on the CPU backend also the count values: no slot over C) and
 * returns the workspace size and an executor for one call of aclnnMoeReRoutingWithCapacity. Writes
 * nothing to the outputs. */
__attribute__((visibility("default"))) aclnnStatus aclnnMoeReRoutingWithCapacityGetWorkspaceSize(
    const aclTensor *tokens, const aclTensor *expertTokenNumPerRank, const aclTensor *perTokenScalesOptional,
    const aclTensor *expertTopkWeightOptional, int64_t numMaxTokensPerRank, int64_t expertTokenNumTypeOptional,
    int64_t idxTypeOptional, bool restoreOptional, const aclTensor *permuteTokensOut,
    const aclTensor *permutePerTokenScalesOut, const aclTensor *permuteTokenIdxOut, const aclTensor *expertTokenNumOut,
    const aclTensor *permuteTopkWeightOutOptional, uint64_t *workspaceSize, aclOpExecutor **executor);

/* Phase 2: runs the operator on `stream` (NULL = default stream). Consumes the executor whether
 * the run succeeds or not. */
__attribute__((visibility("default"))) aclnnStatus aclnnMoeReRoutingWithCapacity(void *workspace,
                                                                                 uint64_t workspaceSize,
                                                                                 aclOpExecutor *executor,
                                                                                 aclrtStream stream);

#ifdef __cplusplus
}
#endif

#endif /* ACLNN_MOE_RE_ROUTING_WITH_CAPACITY_H_ */
