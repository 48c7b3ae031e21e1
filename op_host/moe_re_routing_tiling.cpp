// Tiling for MoeReRouting (pure: problem + platform in, MoeReRoutingTilingData out).
//
// Work split: the destination rows [0, A) are cut into usedCoreNum contiguous ranges of equal row
// count. Every row moves the same bytes (token row, scale row, weight row, one index), so equal rows are equal
// bytes, whatever N and E are; each core writes one contiguous output range.
//
// UB layout per core (every buffer a multiple of 32 B):
//   cursors          N int32 source rows, one per rank, advanced while walking the cells
//   counts           2 queue buffers of raw count tiles (R ranks x 8 experts), the int32 work area
//                    (every tile when they fit UB / 3: resident; else one), row-sum and fold tiles
//   expert staging   expert_token_num values before their DMA out (last core only uses it)
//   zero buffer      zeros for permute_per_token_scales when no scales are given, and with a slot
//                    stride (MoeReRoutingWithCapacity) for the output rows no token lands in
//   data queues      bufferNum x (token chunk + scale chunk + weight chunk + index chunk), the rest
//                    of UB (a weight chunk only with expert_topk_weight, MoeReRoutingV2), and
//                    index-sized work buffers: the ramp, in gather mode also the run offsets
#include <algorithm>
#include <cstdint>
#include <string>

#include "moe_re_routing_host.h"
#include "moe_re_routing_split.h"

namespace moe_re_routing {
namespace {

constexpr uint32_t kBlockBytes = 32;           // UB alignment unit
constexpr uint32_t kBufferNum = 2;             // double buffering of every data queue
constexpr uint32_t kDataQueueNum = 3;          // token, scale and index queues (a weight queue more with weights)
constexpr int64_t kIdxBytes = 4;               // one int32 permute_token_idx value per row
constexpr int64_t kZeroScaleBytes = 4;         // without scales, one FLOAT zero per output row
constexpr int64_t kMinBytesPerCore = 16384;    // below this a core's launch costs more than its work
constexpr uint32_t kZeroBufMaxBytes = 4096;    // zeros written per DMA when there are no scales
constexpr uint32_t kExpertStageMaxCols = 512;  // expert_token_num values staged per DMA
constexpr int64_t kCountUbDivisor = 3;         // count metadata (cursors, tiles) at most 1/3 of UB when
                                               // that suffices, else what the data path leaves
constexpr int64_t kCountLanes = kMoeReRoutingCountLanes;  // experts per count tile
constexpr int64_t kCursorBytes = 4;            // one int32 source cursor per rank
constexpr int64_t kMaxTileRanks = 2048;        // ranks per count tile: a power of two within the
                                               // DataCopyPad blockCount limit (4095)
constexpr int64_t kMinDataBytes = 1024;        // the data path's minimum: 7 buffers of >= 32 B, rounding
constexpr int64_t kScaleSegmentDivisor = 4;    // split rows: scales take at most 1/4 of a buffer
constexpr int64_t kMinBlocksPerBuffer = 4;     // token, scale and index buffers of 32 B at least

int64_t RoundUp(int64_t v, int64_t unit) { return (v + unit - 1) / unit * unit; }
int64_t RoundDown(int64_t v, int64_t unit) { return v / unit * unit; }

Result TilingError(const std::string &message) { return Result{kErrTiling, message}; }

// Cores: equal rows, at least kMinBytesPerCore of traffic each, at least one core.
void PlanCores(const Problem &problem, const Platform &platform, MoeReRoutingTilingData *t)
{
    const int64_t A = problem.tokenNum;
    const int64_t rowTraffic = 2 * problem.tokenRowBytes + problem.scaleRowBytes + problem.outScaleRowBytes +
                               2 * problem.weightRowBytes + kIdxBytes;
    const int64_t traffic = A * rowTraffic;
    int64_t cores = std::max<int64_t>(1, traffic / kMinBytesPerCore);
    cores = std::min<int64_t>({cores, platform.aivCoreNum, std::max<int64_t>(A, 1)});
    t->usedCoreNum = static_cast<uint32_t>(cores);
    const MoeReRoutingRowSplit split = MoeReRoutingSplitRows(A, cores);
    t->rowsPerCore = split.rowsPerCore;
    t->rowsRemainder = split.rowsRemainder;
}

// Metadata buffers. The kernel reads the counts as tiles of R ranks x kCountLanes experts (R a
// power of two), int32 [R][8] in UB after conversion: two queue buffers of raw tiles
// (R * 8 * countBytes each), the int32 work area (every tile when resident, else one), the row-sum
// and fold tiles (R * 32 each), and one int32 source cursor per rank. Plus expert staging and zeros.
Result PlanMetadata(const Problem &problem, int64_t ub, int64_t maxCoreRows, MoeReRoutingTilingData *t)
{
    const int64_t N = problem.rankNum;
    const int64_t E = problem.expertNum;
    const int64_t cb = problem.countBytes;
    const int64_t expertCols = std::min<int64_t>(E, kExpertStageMaxCols);
    t->expertBufBytes = static_cast<uint32_t>(RoundUp(expertCols * cb, kBlockBytes));
    // Zeros for absent scales (a FLOAT per row) and, with a slot stride, for the rows no token lands
    // in (any row of any output, in bursts of the buffer).
    const bool slotted = problem.srcSlotRows > 0 || problem.dstSlotRows > 0;
    const int64_t zeroRowBytes = slotted ? std::max<int64_t>({problem.tokenRowBytes, problem.outScaleRowBytes, kIdxBytes})
                                         : (problem.scaleRowBytes == 0 ? kZeroScaleBytes : 0);
    t->zeroBufBytes = static_cast<uint32_t>(
        std::min<int64_t>(RoundUp(std::max<int64_t>(maxCoreRows, 1) * zeroRowBytes, kBlockBytes), kZeroBufMaxBytes));

    const int64_t strips = (E + kCountLanes - 1) / kCountLanes;
    int64_t cursorBytes = RoundUp(N * kCursorBytes, kBlockBytes);
    const int64_t tileInt32Bytes = kCountLanes * kCursorBytes;  // one rank's 8 lanes of int32
    auto tileBytes = [&](int64_t ranks) {  // raw queue buffers, row-sum tile, fold tile
        return int64_t{kBufferNum} * ranks * kCountLanes * cb + 2 * ranks * tileInt32Bytes;
    };
    int64_t allRanks = 1;  // N rounded up to a power of two
    while (allRanks < N) {
        allRanks *= 2;
    }
    const int64_t share = RoundDown(ub / kCountUbDivisor, kBlockBytes);
    const int64_t residentBytes = strips * allRanks * tileInt32Bytes;
    int64_t ranks = allRanks;
    if (allRanks <= kMaxTileRanks && cursorBytes + tileBytes(allRanks) + residentBytes <= share) {
        t->countsResident = 1;
        t->countWorkBytes = static_cast<uint32_t>(residentBytes);
    } else {
        // Streamed: the largest tile that fits the share; when the N cursors alone crowd it out,
        // whatever the data path does not need at its minimum.
        int64_t limit = share;
        if (cursorBytes + tileBytes(1) + tileInt32Bytes > share) {
            limit = ub - t->expertBufBytes - t->zeroBufBytes - kMinDataBytes;
        }
        ranks = std::min<int64_t>(allRanks, kMaxTileRanks);
        while (ranks > 1 && cursorBytes + tileBytes(ranks) + ranks * tileInt32Bytes > limit) {
            ranks /= 2;
        }
        if (cursorBytes + tileBytes(ranks) + ranks * tileInt32Bytes > limit) {
            // Slab walk: cursors for one slab of R ranks, one int32 destination row per expert.
            const int64_t columnBytes = RoundUp(E * kCursorBytes, kBlockBytes);
            auto slabBytes = [&](int64_t r) {
                return RoundUp(r * kCursorBytes, kBlockBytes) + columnBytes + tileBytes(r) + r * tileInt32Bytes;
            };
            ranks = std::min<int64_t>(allRanks, kMaxTileRanks);
            while (ranks > 1 && slabBytes(ranks) > limit) {
                ranks /= 2;
            }
            if (slabBytes(ranks) > limit) {
                return TilingError("expert_token_num_per_rank has N = " + std::to_string(N) + " ranks and E = " +
                                   std::to_string(E) + " experts: neither N nor E int32 cursors (" +
                                   std::to_string(cursorBytes) + " and " + std::to_string(columnBytes) +
                                   " bytes) fit the " + std::to_string(ub) + "-byte UB with one count tile");
            }
            cursorBytes = RoundUp(ranks * kCursorBytes, kBlockBytes);
            t->columnBufBytes = static_cast<uint32_t>(columnBytes);
        }
        t->countsResident = 0;
        t->countWorkBytes = static_cast<uint32_t>(ranks * tileInt32Bytes);
    }
    t->countTileRanks = static_cast<uint32_t>(ranks);
    t->countBufBytes = static_cast<uint32_t>(ranks * kCountLanes * cb);
    t->countSumBytes = static_cast<uint32_t>(ranks * tileInt32Bytes);
    t->cursorBufBytes = static_cast<uint32_t>(cursorBytes);
    return Result{};
}

// Index-sized work buffers of the kernel (vector/scalar only, no DMA): the ramp 0, 1, 2, ..., and in
// gather mode the offsets (source - destination row) of the runs batched into one index chunk.
int64_t IdxWorkBuffers(const Problem &problem) { return problem.idxType == 0 ? 2 : 1; }

// Data chunks from dataBudget bytes for kBufferNum x (token + scale + weight + index) buffers plus
// the index work buffers: whole rows when a row fits, else one row at a time in segments (scales
// likewise if needed; a 4-byte weight row always fits its 32-byte buffer).
void PlanDataChunks(const Problem &problem, int64_t dataBudget, int64_t maxCoreRows, MoeReRoutingTilingData *t,
                    MoeReRoutingTilingReport *r)
{
    const int64_t idxWork = IdxWorkBuffers(problem);
    const int64_t perBuffer = (dataBudget - idxWork * kBlockBytes) / kBufferNum;  // index work of one block each
    const int64_t perRow =
        kBufferNum * (problem.tokenRowBytes + problem.scaleRowBytes + problem.weightRowBytes + kIdxBytes) +
        idxWork * kIdxBytes;
    int64_t rows = dataBudget / perRow;
    if (rows >= 1) {
        rows = std::min<int64_t>(rows, std::max<int64_t>(maxCoreRows, 1));
        r->chunkRows = static_cast<uint32_t>(rows);
        r->segmentBytes = static_cast<uint32_t>(problem.tokenRowBytes);
        t->tokenBufBytes = static_cast<uint32_t>(RoundUp(rows * problem.tokenRowBytes, kBlockBytes));
        t->scaleBufBytes = static_cast<uint32_t>(RoundUp(rows * problem.scaleRowBytes, kBlockBytes));
        t->weightBufBytes = static_cast<uint32_t>(RoundUp(rows * problem.weightRowBytes, kBlockBytes));
        t->idxBufBytes = static_cast<uint32_t>(RoundUp(rows * kIdxBytes, kBlockBytes));
    } else {
        r->chunkRows = 1;
        t->idxBufBytes = kBlockBytes;
        const int64_t scaleCap = RoundDown(perBuffer / kScaleSegmentDivisor, kBlockBytes);
        t->scaleBufBytes = static_cast<uint32_t>(std::min(RoundUp(problem.scaleRowBytes, kBlockBytes), scaleCap));
        t->weightBufBytes = static_cast<uint32_t>(RoundUp(problem.weightRowBytes, kBlockBytes));
        t->tokenBufBytes = static_cast<uint32_t>(
            RoundDown(perBuffer - t->scaleBufBytes - t->weightBufBytes - t->idxBufBytes, kBlockBytes));
        r->segmentBytes = static_cast<uint32_t>(std::min<int64_t>(problem.tokenRowBytes, t->tokenBufBytes));
    }
}

}  // namespace

void CoreRowRange(const MoeReRoutingTilingData &tiling, uint32_t blockIdx, int64_t *begin, int64_t *end)
{
    const MoeReRoutingRowRange range =
        MoeReRoutingCoreRows(MoeReRoutingRowSplit{tiling.rowsPerCore, tiling.rowsRemainder}, blockIdx);
    *begin = range.begin;
    *end = range.end;
}

uint64_t TilingKeyOf(const Problem &problem)
{
    return problem.countBytes == sizeof(int64_t) ? MOE_RE_ROUTING_TILING_KEY_INT64_COUNTS
                                                 : MOE_RE_ROUTING_TILING_KEY_INT32_COUNTS;
}

Result ComputeTiling(const Problem &problem, const Platform &platform, MoeReRoutingTilingData *tiling,
                     MoeReRoutingTilingReport *report)
{
    if (platform.aivCoreNum < 1) {
        return TilingError("platform has 0 vector cores");
    }
    const int64_t ub = platform.ubBytes;

    MoeReRoutingTilingData t{};
    t.tokenNum = problem.tokenNum;
    t.rankNum = problem.rankNum;
    t.expertNum = problem.expertNum;
    t.tokenRowBytes = problem.tokenRowBytes;
    t.scaleRowBytes = problem.scaleRowBytes;
    t.weightRowBytes = problem.weightRowBytes;
    t.srcSlotRows = problem.srcSlotRows;
    t.dstSlotRows = problem.dstSlotRows;
    t.expertTokenNumType = static_cast<uint32_t>(problem.expertTokenNumType);
    t.idxType = static_cast<uint32_t>(problem.idxType);
    MoeReRoutingTilingReport r{};
    r.tilingKey = TilingKeyOf(problem);
    r.countBytes = problem.countBytes;
    r.outScaleRowBytes = problem.outScaleRowBytes;
    r.bufferNum = kBufferNum;
    r.countTileCols = static_cast<uint32_t>(kCountLanes);

    PlanCores(problem, platform, &t);
    const int64_t maxCoreRows = t.rowsPerCore + (t.rowsRemainder > 0 ? 1 : 0);
    const Result metadata = PlanMetadata(problem, ub, maxCoreRows, &t);
    if (!metadata.ok()) {
        return metadata;
    }

    const int64_t fixedBytes = t.cursorBufBytes + t.columnBufBytes + int64_t{kBufferNum} * t.countBufBytes + t.countWorkBytes +
                               2 * int64_t{t.countSumBytes} + t.expertBufBytes + t.zeroBufBytes;
    // Each data queue loses at most 31 bytes to rounding per buffer, each index work buffer as much.
    const int64_t idxWork = IdxWorkBuffers(problem);
    const int64_t dataQueues = kDataQueueNum + (problem.weightRowBytes > 0 ? 1 : 0);
    const int64_t dataBudget = ub - fixedBytes - (dataQueues * kBufferNum + idxWork) * kBlockBytes;
    const int64_t perBuffer = (dataBudget - idxWork * kBlockBytes) / kBufferNum;
    if (perBuffer < kMinBlocksPerBuffer * kBlockBytes) {
        return TilingError("UB of " + std::to_string(ub) + " bytes leaves " + std::to_string(dataBudget) +
                           " bytes for data after " + std::to_string(fixedBytes) + " bytes of metadata (N = " +
                           std::to_string(problem.rankNum) + ", E = " + std::to_string(problem.expertNum) + ")");
    }
    PlanDataChunks(problem, dataBudget, maxCoreRows, &t, &r);

    const int64_t ubBytesUsed =
        fixedBytes + idxWork * t.idxBufBytes +
        kBufferNum * (int64_t{t.tokenBufBytes} + t.scaleBufBytes + t.weightBufBytes + t.idxBufBytes);
    if (ubBytesUsed > ub) {
        return TilingError("internal: UB plan of " + std::to_string(ubBytesUsed) + " bytes exceeds " +
                           std::to_string(ub));
    }
    r.ubBytesUsed = static_cast<uint32_t>(ubBytesUsed);
    *tiling = t;
    if (report != nullptr) {
        *report = r;
    }
    return Result{};
}

}  // namespace moe_re_routing
