// Tiling for MoeReRouting (pure: problem + platform in, MoeReRoutingTilingData out).
//
// Work split: the destination rows [0, A) are cut into usedCoreNum contiguous ranges of equal row
// count. Every row moves the same bytes (token row, scale row, one index), so equal rows are equal
// bytes, whatever N and E are; each core writes one contiguous output range.
//
// UB layout per core (every buffer a multiple of 32 B):
//   cursors          N int64 source offsets (or E destination offsets), updated while walking counts
//   counts           the whole [N, E] matrix when it fits the counts budget, else column tiles
//   expert staging   expert_token_num values before their DMA out (last core only uses it)
//   zero buffer      zeros for permute_per_token_scales when no scales are given
//   data queues      bufferNum x (token chunk + scale chunk + index chunk) + the index ramp, the rest of UB
#include <algorithm>
#include <cstdint>
#include <string>

#include "moe_re_routing_host.h"
#include "moe_re_routing_split.h"

namespace moe_re_routing {
namespace {

constexpr uint32_t kBlockBytes = 32;           // UB alignment unit
constexpr uint32_t kBufferNum = 2;             // double buffering of every data queue
constexpr uint32_t kDataQueueNum = 3;          // token, scale and index queues
constexpr int64_t kIdxBytes = 4;               // one int32 permute_token_idx value per row
constexpr int64_t kZeroScaleBytes = 4;         // without scales, one FLOAT zero per output row
constexpr int64_t kMinBytesPerCore = 16384;    // below this a core's launch costs more than its work
constexpr uint32_t kMaxBlockCount = 4095;      // DataCopyPad blockCount limit
constexpr uint32_t kZeroBufMaxBytes = 4096;    // zeros written per DMA when there are no scales
constexpr uint32_t kExpertStageMaxCols = 512;  // expert_token_num values staged per DMA
constexpr int64_t kCursorUbDivisor = 4;        // the cursors may take at most 1/4 of UB
constexpr int64_t kCountUbDivisor = 6;         // the count matrix (or its tiles) at most 1/6 of UB
constexpr int64_t kScaleSegmentDivisor = 4;    // split rows: scales take at most 1/4 of a buffer
constexpr int64_t kMinBlocksPerBuffer = 4;     // token, scale and index buffers of 32 B at least

int64_t RoundUp(int64_t v, int64_t unit) { return (v + unit - 1) / unit * unit; }
int64_t RoundDown(int64_t v, int64_t unit) { return v / unit * unit; }

Result TilingError(const std::string &message) { return Result{kErrTiling, message}; }

// Cores: equal rows, at least kMinBytesPerCore of traffic each, at least one core.
void PlanCores(const Problem &problem, const Platform &platform, MoeReRoutingTilingData *t)
{
    const int64_t A = problem.tokenNum;
    const int64_t rowTraffic =
        2 * problem.tokenRowBytes + problem.scaleRowBytes + problem.outScaleRowBytes + kIdxBytes;
    const int64_t traffic = A * rowTraffic;
    int64_t cores = std::max<int64_t>(1, traffic / kMinBytesPerCore);
    cores = std::min<int64_t>({cores, platform.aivCoreNum, std::max<int64_t>(A, 1)});
    t->usedCoreNum = static_cast<uint32_t>(cores);
    const MoeReRoutingRowSplit split = MoeReRoutingSplitRows(A, cores);
    t->rowsPerCore = split.rowsPerCore;
    t->rowsRemainder = split.rowsRemainder;
}

// Metadata buffers: cursors, counts (resident or column tiles), expert staging, zeros.
Result PlanMetadata(const Problem &problem, int64_t ub, int64_t maxCoreRows, MoeReRoutingTilingData *t)
{
    const int64_t N = problem.rankNum;
    const int64_t E = problem.expertNum;
    const int64_t cb = problem.countBytes;
    // Cursors: one int64 per rank (expert-major walk), or per expert (rank-major walk) when the
    // ranks' do not fit their share of UB.
    const int64_t cursorBudget = ub / kCursorUbDivisor;
    int64_t cursorBytes = RoundUp(N * 8, kBlockBytes);
    if (cursorBytes > cursorBudget) {
        t->walkByRank = 1;
        cursorBytes = RoundUp(E * 8, kBlockBytes);
    }
    if (cursorBytes > cursorBudget) {
        return TilingError("expert_token_num_per_rank has N = " + std::to_string(N) + " ranks and E = " +
                           std::to_string(E) + " experts: neither N nor E int64 cursors fit a quarter of the " +
                           std::to_string(ub) + "-byte UB");
    }
    const int64_t countBudget = RoundDown(ub / kCountUbDivisor, kBlockBytes);
    const int64_t matrixBytes = RoundUp(N * E * cb, kBlockBytes);
    if (matrixBytes <= countBudget) {
        t->countsResident = 1;
        t->countBufBytes = static_cast<uint32_t>(matrixBytes);
        t->countTileCols = static_cast<uint32_t>(E);
        t->countTileRanks = static_cast<uint32_t>(N);
    } else {
        // Column tiles of 32 bytes per rank (8 int32 or 4 int64 experts): one strided DataCopyPad
        // with blockCount = ranks loads [ranks x cols], each rank's block 32 B aligned in UB.
        t->countsResident = 0;
        t->countTileCols = static_cast<uint32_t>(kBlockBytes / cb);
        t->countTileRanks = static_cast<uint32_t>(std::min<int64_t>({N, kMaxBlockCount, countBudget / kBlockBytes}));
        t->countBufBytes = static_cast<uint32_t>(countBudget);
    }
    const int64_t expertCols = std::min<int64_t>(E, kExpertStageMaxCols);
    t->expertBufBytes = static_cast<uint32_t>(RoundUp(expertCols * cb, kBlockBytes));
    t->zeroBufBytes = problem.scaleRowBytes == 0
                          ? static_cast<uint32_t>(std::min<int64_t>(
                                RoundUp(std::max<int64_t>(maxCoreRows, 1) * kZeroScaleBytes, kBlockBytes), kZeroBufMaxBytes))
                          : 0;
    t->cursorBufBytes = static_cast<uint32_t>(cursorBytes);
    return Result{};
}

// Data chunks from dataBudget bytes for kBufferNum x (token + scale + index) buffers plus the index
// ramp (one more index buffer): whole rows when a row fits, else one row at a time in segments
// (scales likewise if needed).
void PlanDataChunks(const Problem &problem, int64_t dataBudget, int64_t maxCoreRows, MoeReRoutingTilingData *t)
{
    const int64_t perBuffer = (dataBudget - kBlockBytes) / kBufferNum;  // after a ramp of one block
    const int64_t perRow = kBufferNum * (problem.tokenRowBytes + problem.scaleRowBytes + kIdxBytes) + kIdxBytes;
    int64_t rows = dataBudget / perRow;
    if (rows >= 1) {
        rows = std::min<int64_t>(rows, std::max<int64_t>(maxCoreRows, 1));
        t->chunkRows = static_cast<uint32_t>(rows);
        t->segmentBytes = static_cast<uint32_t>(problem.tokenRowBytes);
        t->tokenBufBytes = static_cast<uint32_t>(RoundUp(rows * problem.tokenRowBytes, kBlockBytes));
        t->scaleBufBytes = static_cast<uint32_t>(RoundUp(rows * problem.scaleRowBytes, kBlockBytes));
        t->idxBufBytes = static_cast<uint32_t>(RoundUp(rows * kIdxBytes, kBlockBytes));
    } else {
        t->chunkRows = 1;
        t->idxBufBytes = kBlockBytes;
        const int64_t scaleCap = RoundDown(perBuffer / kScaleSegmentDivisor, kBlockBytes);
        t->scaleBufBytes = static_cast<uint32_t>(std::min(RoundUp(problem.scaleRowBytes, kBlockBytes), scaleCap));
        t->tokenBufBytes =
            static_cast<uint32_t>(RoundDown(perBuffer - t->scaleBufBytes - t->idxBufBytes, kBlockBytes));
        t->segmentBytes = static_cast<uint32_t>(std::min<int64_t>(problem.tokenRowBytes, t->tokenBufBytes));
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

Result ComputeTiling(const Problem &problem, const Platform &platform, MoeReRoutingTilingData *tiling)
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
    t.outScaleRowBytes = problem.outScaleRowBytes;
    t.countBytes = problem.countBytes;
    t.expertTokenNumType = static_cast<uint32_t>(problem.expertTokenNumType);
    t.idxType = static_cast<uint32_t>(problem.idxType);
    t.bufferNum = kBufferNum;

    PlanCores(problem, platform, &t);
    const int64_t maxCoreRows = t.rowsPerCore + (t.rowsRemainder > 0 ? 1 : 0);
    const Result metadata = PlanMetadata(problem, ub, maxCoreRows, &t);
    if (!metadata.ok()) {
        return metadata;
    }

    const int64_t fixedBytes = t.cursorBufBytes + t.countBufBytes + t.expertBufBytes + t.zeroBufBytes;
    // Each data queue loses at most 31 bytes to rounding per buffer, the index ramp (one more
    // index buffer, read by the vector unit only) as much again.
    const int64_t dataBudget = ub - fixedBytes - (kDataQueueNum * kBufferNum + 1) * kBlockBytes;
    const int64_t perBuffer = (dataBudget - kBlockBytes) / kBufferNum;
    if (perBuffer < kMinBlocksPerBuffer * kBlockBytes) {
        return TilingError("UB of " + std::to_string(ub) + " bytes leaves " + std::to_string(dataBudget) +
                           " bytes for data after " + std::to_string(fixedBytes) + " bytes of metadata (N = " +
                           std::to_string(problem.rankNum) + ", E = " + std::to_string(problem.expertNum) + ")");
    }
    PlanDataChunks(problem, dataBudget, maxCoreRows, &t);

    t.ubBytesUsed = static_cast<uint32_t>(fixedBytes + t.idxBufBytes +
                                          kBufferNum * (int64_t{t.tokenBufBytes} + t.scaleBufBytes + t.idxBufBytes));
    if (t.ubBytesUsed > ub) {
        return TilingError("internal: UB plan of " + std::to_string(t.ubBytesUsed) + " bytes exceeds " +
                           std::to_string(ub));
    }
    *tiling = t;
    return Result{};
}

}  // namespace moe_re_routing
