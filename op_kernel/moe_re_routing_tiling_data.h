// Tiling data: the plain struct the host fills and the kernel reads (GET_TILING_DATA copies it
// from the tiling buffer). Only fixed-width fields, no pointers, so the layout is the same on host
// and device; only fields the kernel reads (what the host plans beyond that, for reports, is
// MoeReRoutingTilingReport in op_host). Every length is in bytes unless the name says rows or
// elements.
//
// What is fixed per kernel binary is not a field: the count dtype (int32 or int64
// expert_token_num_per_rank and expert_token_num) is a template parameter of the kernel. A CANN
// build compiles one binary per OpDef column and takes it from the column's dtype macro
// (DTYPE_EXPERT_TOKEN_NUM_PER_RANK); the CPU build, whose one library holds every instantiation,
// selects it with the tiling key below (TILING_KEY_IS / ICPU_SET_TILING_KEY).
#ifndef MOE_RE_ROUTING_TILING_DATA_H
#define MOE_RE_ROUTING_TILING_DATA_H

#include <cstdint>

// Experts per count tile: one 32-byte block of int32 per rank. The tiling plans count tiles of this
// width and the kernel reads them with it.
constexpr int64_t kMoeReRoutingCountLanes = 8;

// Tiling keys: the kernel instantiation for the count dtype. Plain macros because TILING_KEY_IS
// takes a literal key.
#define MOE_RE_ROUTING_TILING_KEY_INT32_COUNTS 1
#define MOE_RE_ROUTING_TILING_KEY_INT64_COUNTS 2

struct MoeReRoutingTilingData {
    // Problem.
    int64_t tokenNum;           // A: rows of tokens
    int64_t rankNum;            // N
    int64_t expertNum;          // E
    int64_t tokenRowBytes;      // bytes of one token row (H * bits / 8)
    int64_t scaleRowBytes;      // bytes of one per_token_scales row; 0 when there are no scales
    int64_t weightRowBytes;     // bytes of one expert_topk_weight row (MoeReRoutingV2); 0 without weights
    // Slot strides of MoeReRoutingWithCapacity (at most one non-zero; 0: packed). srcSlotRows: rank r's
    // source rows start at r * srcSlotRows (the forward); dstSlotRows: column e's destination rows
    // start at e * dstSlotRows (the restore). Rows of a slot past its tokens are zero-filled (data)
    // and -1 (index); tokenNum is then the slotted row count.
    int64_t srcSlotRows;
    int64_t dstSlotRows;

    // Split of destination rows [0, A) over cores: core b owns
    // [b * rowsPerCore + min(b, rowsRemainder), ... + rowsPerCore + (b < rowsRemainder)).
    int64_t rowsPerCore;
    int64_t rowsRemainder;

    uint32_t expertTokenNumType;  // 0 cumsum, 1 count
    uint32_t idxType;           // 0 gather, 1 scatter
    uint32_t usedCoreNum;       // blocks launched

    // Data chunks (two buffers per queue: double buffering).
    uint32_t tokenBufBytes;     // bytes of one token buffer in UB
    uint32_t scaleBufBytes;     // bytes of one scale buffer in UB (0 when no scales input)
    uint32_t weightBufBytes;    // bytes of one weight buffer in UB (0 without weights)
    uint32_t idxBufBytes;       // bytes of one index buffer in UB (>= 4 per row of a chunk, 32 B multiple); the
                                // index ramp (0, 1, 2, ...) and, in gather mode, the run offsets of an
                                // index chunk have the same size

    // Counts metadata in UB: tiles of countTileRanks ranks x kMoeReRoutingCountLanes experts, int32
    // after conversion (see the kernel's header comment).
    uint32_t countsResident;    // 1: every tile is loaded once and stays; 0: tiles are streamed
    uint32_t countBufBytes;     // bytes of one raw count tile as loaded (two queue buffers)
    uint32_t countTileRanks;    // ranks per tile R: a power of two, <= 2048
    uint32_t countWorkBytes;    // bytes of the int32 work area: every tile (resident) or one
    uint32_t countSumBytes;     // bytes of each of the int32 row-sum and fold tiles (R * 32)
    uint32_t cursorBufBytes;    // bytes of the source cursors (N int32, or R in the slab walk; 32 B multiple)
    uint32_t columnBufBytes;    // slab walk (N cursors do not fit): bytes of one int32 destination row
                                // per expert (E int32, 32 B multiple); 0: the column walk
    uint32_t expertBufBytes;    // bytes of the expert_token_num staging buffer
    uint32_t zeroBufBytes;      // bytes of the zero buffer used to fill absent scales and, with a slot
                                // stride, the rows no token lands in (0 when neither)
};

#endif  // MOE_RE_ROUTING_TILING_DATA_H
