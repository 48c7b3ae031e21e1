// Tiling data: the plain struct the host fills and the kernel reads (GET_TILING_DATA copies it
// from the tiling buffer). Only fixed-width fields, no pointers, so the layout is the same on host
// and device. Every length is in bytes unless the name says rows or elements.
#ifndef MOE_RE_ROUTING_TILING_DATA_H
#define MOE_RE_ROUTING_TILING_DATA_H

#include <cstdint>

// Experts per count tile: one 32-byte block of int32 per rank. The tiling plans count tiles of this
// width and the kernel reads them with it (countTileCols reports it).
constexpr int64_t kMoeReRoutingCountLanes = 8;

struct MoeReRoutingTilingData {
    // Problem.
    int64_t tokenNum;           // A: rows of tokens
    int64_t rankNum;            // N
    int64_t expertNum;          // E
    int64_t tokenRowBytes;      // bytes of one token row (H * bits / 8)
    int64_t scaleRowBytes;      // bytes of one per_token_scales row; 0 when there are no scales
    int64_t outScaleRowBytes;   // bytes of one permute_per_token_scales row (4 when zero-filled)
    uint32_t countBytes;        // 4 (int32 counts) or 8 (int64 counts)
    uint32_t expertTokenNumType;  // 0 cumsum, 1 count
    uint32_t idxType;           // 0 gather, 1 scatter
    uint32_t usedCoreNum;       // blocks launched

    // Split of destination rows [0, A) over cores: core b owns
    // [b * rowsPerCore + min(b, rowsRemainder), ... + rowsPerCore + (b < rowsRemainder)).
    int64_t rowsPerCore;
    int64_t rowsRemainder;

    // Data chunks (double-buffered).
    uint32_t bufferNum;         // queue depth of the data queues (2 = double buffering)
    // chunkRows and segmentBytes describe the plan for reports (plan, trace JSON); the kernel
    // derives the same from tokenBufBytes, so they are not read on the device.
    uint32_t chunkRows;         // rows per token chunk (>= 1, <= rows of the largest core range)
    uint32_t segmentBytes;      // bytes of a row moved per DMA block (== tokenRowBytes unless rows are split)
    uint32_t tokenBufBytes;     // bytes of one token buffer in UB
    uint32_t scaleBufBytes;     // bytes of one scale buffer in UB (0 when no scales input)
    uint32_t idxBufBytes;       // bytes of one index buffer in UB (>= chunkRows * 4, 32 B multiple); the
                                // index ramp (0, 1, 2, ...) and, in gather mode, the run offsets of an
                                // index chunk have the same size

    // Counts metadata in UB: tiles of countTileRanks ranks x countTileCols experts, int32 after
    // conversion (see the kernel's header comment).
    uint32_t countsResident;    // 1: every tile is loaded once and stays; 0: tiles are streamed
    uint32_t countBufBytes;     // bytes of one raw count tile as loaded (two queue buffers)
    uint32_t countTileCols;     // experts per tile: 8 (one 32-byte block of int32 per rank)
    uint32_t countTileRanks;    // ranks per tile R: a power of two, <= 2048
    uint32_t countWorkBytes;    // bytes of the int32 work area: every tile (resident) or one
    uint32_t countSumBytes;     // bytes of each of the int32 row-sum and fold tiles (R * 32)
    uint32_t cursorBufBytes;    // bytes of the source cursors (N int32, or R in the slab walk; 32 B multiple)
    uint32_t columnBufBytes;    // slab walk (N cursors do not fit): bytes of one int32 destination row
                                // per expert (E int32, 32 B multiple); 0: the column walk
    uint32_t expertBufBytes;    // bytes of the expert_token_num staging buffer
    uint32_t zeroBufBytes;      // bytes of the zero buffer used to fill absent scales (0 when scales given)
    uint32_t ubBytesUsed;       // total UB the kernel allocates per core (for reports and checks)
};

#endif  // MOE_RE_ROUTING_TILING_DATA_H
