// Unit tests of the pure tiling (op_host/moe_re_routing_tiling.cpp) over several platforms.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ascendc_cpu/platform.h"
#include "moe_re_routing_host.h"

using namespace moe_re_routing;

namespace {

// Every SoC of the table with the UB it leaves a kernel (Ascend950 with 32 cores: its count is not
// known), and a host-sized platform (2 cores, 1 MiB).
constexpr Platform Soc(int i, uint32_t cores = 0)
{
    return Platform{cores != 0 ? cores : ascendc_cpu::kSocPlatforms[i].aivCoreNum,
                    ascendc_cpu::kSocPlatforms[i].UsableUbBytes()};
}
const Platform kPlatforms[] = {Soc(0), Soc(1), Soc(3), Soc(4, 32), {2, 1u << 20}};
constexpr Platform kA2 = Soc(0);

Problem MakeProblem(int64_t A, int64_t H, int64_t N, int64_t E, int64_t elemBits, uint32_t countBytes,
                    int64_t scaleRowBytes)
{
    Problem p;
    p.tokenNum = A;
    p.hiddenSize = H;
    p.rankNum = N;
    p.expertNum = E;
    p.tokenRowBytes = H * elemBits / 8;
    p.scaleRowBytes = scaleRowBytes;
    p.outScaleRowBytes = scaleRowBytes > 0 ? scaleRowBytes : 4;
    p.countBytes = countBytes;
    return p;
}

// Every invariant the kernel relies on; reports the problem on failure.
void CheckInvariants(const Problem &p, const Platform &pf, const MoeReRoutingTilingData &t,
                     const MoeReRoutingTilingReport &report)
{
    std::ostringstream where;
    where << "A=" << p.tokenNum << " rowBytes=" << p.tokenRowBytes << " N=" << p.rankNum << " E=" << p.expertNum
          << " cores=" << pf.aivCoreNum << " ub=" << pf.ubBytes;
    auto expect = [&](bool ok, const char *what) {
        if (!ok) {
            ADD_FAILURE() << std::string(what) + " for " + where.str();
        }
    };
    expect(t.usedCoreNum >= 1 && t.usedCoreNum <= pf.aivCoreNum, "usedCoreNum in [1, cores]");
    expect(report.ubBytesUsed <= pf.ubBytes, "UB budget respected");
    const uint32_t bufs[] = {t.tokenBufBytes, t.scaleBufBytes, t.idxBufBytes, t.countBufBytes, t.countWorkBytes,
                             t.countSumBytes, t.cursorBufBytes, t.expertBufBytes, t.zeroBufBytes};
    for (uint32_t b : bufs) {
        expect(b % 32 == 0, "buffers are 32-byte multiples");
    }
    // Metadata (two raw count-tile buffers, work area, row-sum and fold tiles, cursors, expert
    // staging, zeros), the index ramp and in gather mode the run offsets (one index buffer's size
    // each), and the data queues.
    const uint64_t idxWork = p.idxType == 0 ? 2 : 1;
    const uint64_t sum = uint64_t{t.cursorBufBytes} + t.columnBufBytes + uint64_t{report.bufferNum} * t.countBufBytes + t.countWorkBytes +
                         2 * uint64_t{t.countSumBytes} + t.expertBufBytes + t.zeroBufBytes + idxWork * t.idxBufBytes +
                         uint64_t{report.bufferNum} * (uint64_t{t.tokenBufBytes} + t.scaleBufBytes + t.idxBufBytes);
    expect(sum == report.ubBytesUsed, "ubBytesUsed is the sum of the buffers");
    expect(report.bufferNum == 2, "double buffered");
    if (t.columnBufBytes == 0) {
        expect(t.cursorBufBytes >= p.rankNum * 4, "column walk: one int32 cursor per rank");
    } else {
        expect(t.cursorBufBytes >= t.countTileRanks * 4, "slab walk: one int32 cursor per rank of a slab");
        expect(t.columnBufBytes >= p.expertNum * 4 && t.columnBufBytes % 32 == 0, "slab walk: one int32 per expert");
    }
    expect(t.idxBufBytes >= 32 && t.tokenBufBytes >= 32, "data buffers non-empty");
    expect((p.scaleRowBytes == 0) == (t.scaleBufBytes == 0), "scale buffer iff scales");
    expect((p.scaleRowBytes == 0) == (t.zeroBufBytes != 0), "zero buffer iff no scales");
    expect(t.expertBufBytes >= report.countBytes, "expert staging holds a value");
    // Chunks: whole rows when a row fits, else segments of at most a buffer.
    // chunkRows has no 4095 limit (a chunk of whole rows is one contiguous burst): A = 600000 rows
    // of H = 1 int8 give 12500 rows per core and chunks of more than 4095 rows. It never exceeds
    // the largest core range.
    const int64_t largestCoreRows = t.rowsPerCore + (t.rowsRemainder > 0 ? 1 : 0);
    expect(report.chunkRows >= 1 && report.chunkRows <= std::max<int64_t>(largestCoreRows, 1),
           "chunkRows in [1, rows of the largest core range]");
    if (p.tokenRowBytes <= t.tokenBufBytes) {
        expect(uint64_t{report.chunkRows} * p.tokenRowBytes <= t.tokenBufBytes, "chunk fits its buffer");
        expect(uint64_t{report.chunkRows} * 4 <= t.idxBufBytes, "index chunk fits its buffer");
        if (p.scaleRowBytes <= t.scaleBufBytes) {  // else the scale rows are split into segments
            expect(uint64_t{report.chunkRows} * p.scaleRowBytes <= t.scaleBufBytes, "scale chunk fits its buffer");
        }
    } else {
        expect(report.segmentBytes <= t.tokenBufBytes && report.segmentBytes > 0, "segment fits its buffer");
    }
    // Count tiles: R ranks (a power of two, a DataCopyPad blockCount) x 8 experts.
    const uint64_t R = t.countTileRanks;
    const uint64_t strips = (p.expertNum + 7) / 8;
    expect(report.countTileCols == 8, "count tile is 8 experts wide");
    expect(R >= 1 && R <= 2048 && (R & (R - 1)) == 0, "count tile ranks a power of two in [1, 2048]");
    expect(t.countBufBytes == R * 8 * report.countBytes, "raw count tile holds R x 8 counts");
    expect(t.countSumBytes == R * 32, "row-sum and fold tiles hold R x 8 int32");
    if (t.countsResident) {
        expect(R >= uint64_t(p.rankNum), "resident: one slab holds every rank");
        expect(t.countWorkBytes == strips * R * 32, "resident: the work area holds every tile");
    } else {
        expect(t.countWorkBytes == R * 32, "streamed: the work area holds one tile");
    }
    // Rows: contiguous, complete, balanced within one row.
    int64_t next = 0;
    int64_t lo = INT64_MAX, hi = 0;
    for (uint32_t b = 0; b < t.usedCoreNum; ++b) {
        int64_t begin = 0, end = 0;
        CoreRowRange(t, b, &begin, &end);
        expect(begin == next, "core ranges are contiguous");
        next = end;
        lo = std::min(lo, end - begin);
        hi = std::max(hi, end - begin);
    }
    expect(next == p.tokenNum, "core ranges cover [0, A)");
    expect(hi - lo <= 1, "rows balanced within one");
}

std::vector<std::vector<std::string>> ReadCsv(const char *path)
{
    std::ifstream in(path);
    std::vector<std::vector<std::string>> rows;
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ',')) {
            cells.push_back(cell);
        }
        rows.push_back(cells);
    }
    return rows;
}

int64_t BitsOf(const std::string &dtype) { return dtype == "int8" ? 8 : dtype == "float32" ? 32 : 16; }

}  // namespace

TEST(HostTiling, random_problems_keep_every_invariant_on_every_platform)
{
    std::mt19937_64 rng(1234);
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    uint32_t maxChunkRows = 0;
    for (int i = 0; i < 3000; ++i) {
        const int64_t bitsChoices[] = {4, 8, 16, 32};
        const int64_t bits = bitsChoices[pick(0, 3)];
        // Every 7th problem has a tiny row (H <= 8), so small-H/large-A (i % 35 == 0: A up to
        // 600000) gives chunks of thousands of rows.
        int64_t H = i % 7 == 0 ? pick(1, 8) : pick(1, i % 10 == 0 ? 200000 : 9000);
        if (bits == 4) {
            H += H % 2;
        }
        const int64_t A = i % 17 == 0 ? 0 : pick(1, i % 5 == 0 ? 600000 : 5000);
        const int64_t N = pick(1, i % 13 == 0 ? (i % 2 ? 3000 : 20000) : 64);  // 20000: rank-major walk
        const int64_t E = pick(1, i % 11 == 0 ? 3000 : 64);
        const uint32_t cb = pick(0, 1) ? 8 : 4;
        const int64_t scale = pick(0, 2) == 0 ? 0 : (pick(0, 3) == 0 ? pick(1, 300000) : 4);
        const Problem p = MakeProblem(A, H, N, E, bits, cb, scale);
        for (const Platform &pf : kPlatforms) {
            MoeReRoutingTilingData t{};
            MoeReRoutingTilingReport report{};
            Result r = ComputeTiling(p, pf, &t, &report);
            if (!r.ok()) {
                ADD_FAILURE() << "tiling failed: " + r.message;
                continue;
            }
            CheckInvariants(p, pf, t, report);
            maxChunkRows = std::max(maxChunkRows, report.chunkRows);
        }
    }
    EXPECT_GT(maxChunkRows, 4095u) << "the generator must reach small-H/large-A problems";
}

TEST(HostTiling, small_rows_give_chunks_beyond_4095_rows)
{
    // A = 600000 rows of H = 1 int8 on 48 cores: 12500 rows per core, and a chunk takes as many
    // as its buffers hold, far more than 4095.
    const Problem p = MakeProblem(600000, 1, 4, 4, 8, 4, 0);
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    ASSERT_TRUE(ComputeTiling(p, Platform{48, 196608}, &t, &report).ok());
    EXPECT_EQ(t.rowsPerCore, 12500);
    EXPECT_GT(report.chunkRows, 4095u);
    EXPECT_LE(report.chunkRows, 12500u);
    CheckInvariants(p, Platform{48, 196608}, t, report);
}

TEST(HostTiling, long_rows_are_split_into_segments)
{
    const Problem p = MakeProblem(64, 100000, 4, 4, 32, 4, 4);  // 400000-byte rows
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    ASSERT_TRUE(ComputeTiling(p, kA2, &t, &report).ok());
    EXPECT_EQ(report.chunkRows, 1u);
    EXPECT_TRUE(report.segmentBytes < 400000u);
    EXPECT_TRUE(report.segmentBytes >= 60000u);  // most of the UB still goes to token segments
}

TEST(HostTiling, seed_shape_uses_every_core_with_large_chunks)
{
    const Problem p = MakeProblem(16384, 7168, 16, 16, 8, 4, 4);
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    ASSERT_TRUE(ComputeTiling(p, kA2, &t, &report).ok());
    EXPECT_EQ(t.usedCoreNum, 48u);
    EXPECT_EQ(t.countsResident, 1u);
    EXPECT_TRUE(report.chunkRows >= 11u);  // ~90 KiB token buffers: 12 rows of 7168 bytes
    EXPECT_TRUE(report.ubBytesUsed > 150000u);
}

TEST(HostTiling, zero_tokens_run_one_core_for_expert_token_num)
{
    const Problem p = MakeProblem(0, 128, 8, 8, 16, 4, 4);
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    ASSERT_TRUE(ComputeTiling(p, kA2, &t, &report).ok());
    EXPECT_EQ(t.usedCoreNum, 1u);
    EXPECT_EQ(t.rowsPerCore, 0);
}

TEST(HostTiling, large_count_matrices_are_streamed)
{
    const Problem p = MakeProblem(100000, 256, 300, 300, 16, 8, 4);  // 720000 bytes of counts
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    ASSERT_TRUE(ComputeTiling(p, kA2, &t, &report).ok());
    EXPECT_EQ(t.countsResident, 0u);
    EXPECT_EQ(report.countTileCols, 8u);
    EXPECT_EQ(t.countTileRanks, 256u);  // 2 slabs: int64 tiles of 512 ranks exceed UB / 3
    CheckInvariants(p, kA2, t, report);
}

TEST(HostTiling, many_ranks_stream_slabs_of_count_tiles)
{
    // N = 7000: 28000 bytes of cursors; the counts are streamed in slabs of R < N ranks.
    const Problem p = MakeProblem(10, 16, 7000, 2, 16, 8, 4);
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    ASSERT_TRUE(ComputeTiling(p, kA2, &t, &report).ok());
    CheckInvariants(p, kA2, t, report);
    EXPECT_EQ(t.countsResident, 0u);
    EXPECT_LT(int64_t{t.countTileRanks}, 7000);
    EXPECT_EQ(t.cursorBufBytes, 28000u);
    // Many experts need no per-expert buffer at all.
    const Problem wide = MakeProblem(10, 16, 2, 100000, 16, 4, 4);
    ASSERT_TRUE(ComputeTiling(wide, kA2, &t, &report).ok());
    CheckInvariants(wide, kA2, t, report);
}

TEST(HostTiling, ranks_beyond_the_cursor_budget_take_the_slab_walk)
{
    const Problem p = MakeProblem(10, 16, 100000, 2, 16, 4, 4);  // 400000 bytes of rank cursors
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    ASSERT_TRUE(ComputeTiling(p, kA2, &t, &report).ok());
    CheckInvariants(p, kA2, t, report);
    EXPECT_EQ(t.columnBufBytes, 32u);  // two experts
    EXPECT_EQ(t.cursorBufBytes, t.countTileRanks * 4);
    const Problem few = MakeProblem(10, 16, 7000, 2, 16, 4, 4);
    ASSERT_TRUE(ComputeTiling(few, kA2, &t, &report).ok());
    EXPECT_EQ(t.columnBufBytes, 0u);
}

TEST(HostTiling, too_many_ranks_and_experts_is_a_tiling_error_naming_both)
{
    const Problem p = MakeProblem(10, 16, 100000, 100000, 16, 4, 4);
    MoeReRoutingTilingData t{};
    MoeReRoutingTilingReport report{};
    Result r = ComputeTiling(p, kA2, &t, &report);
    EXPECT_EQ(r.status, kErrTiling);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "N = 100000 ranks and E = 100000 experts", r.message);
}

TEST(HostTiling, public_shapes_that_move_a_mebibyte_use_forty_cores_balanced)
{
    const auto rows = ReadCsv(MOE_RE_ROUTING_PUBLIC_SHAPES);
    ASSERT_TRUE(rows.size() >= 20);
    for (const auto &row : rows) {
        const int64_t A = std::stoll(row[1]), H = std::stoll(row[2]), N = std::stoll(row[3]), E = std::stoll(row[4]);
        const int64_t bits = BitsOf(row[5]);
        const Problem p = MakeProblem(A, H, N, E, bits, row[6] == "int64" ? 8 : 4, row[7] == "yes" ? 4 : 0);
        for (const Platform &pf : kPlatforms) {
            MoeReRoutingTilingData t{};
            MoeReRoutingTilingReport report{};
            ASSERT_TRUE(ComputeTiling(p, pf, &t, &report).ok());
            CheckInvariants(p, pf, t, report);
            if (A * p.tokenRowBytes < (1 << 20)) {
                continue;
            }
            int64_t maxRows = 0;
            for (uint32_t b = 0; b < t.usedCoreNum; ++b) {
                int64_t begin = 0, end = 0;
                CoreRowRange(t, b, &begin, &end);
                maxRows = std::max(maxRows, end - begin);
            }
            const double mean = double(A) / t.usedCoreNum;
            if (t.usedCoreNum < std::min<uint32_t>(40, pf.aivCoreNum) || maxRows / mean > 1.10) {
                ADD_FAILURE() << "case " + row[0] + ": cores " + std::to_string(t.usedCoreNum) +
                                                          " max/mean " + std::to_string(maxRows / mean);
            }
        }
    }
}

TEST(HostTiling, tiling_key_selects_the_count_dtype_instantiation)
{
    for (uint32_t countBytes : {4u, 8u}) {
        const Problem p = MakeProblem(1024, 512, 8, 8, 16, countBytes, 4);
        MoeReRoutingTilingData t{};
        MoeReRoutingTilingReport report{};
        ASSERT_TRUE(ComputeTiling(p, kA2, &t, &report).ok());
        const uint64_t expected =
            countBytes == 8 ? MOE_RE_ROUTING_TILING_KEY_INT64_COUNTS : MOE_RE_ROUTING_TILING_KEY_INT32_COUNTS;
        EXPECT_EQ(report.tilingKey, expected);
        EXPECT_EQ(TilingKeyOf(p), expected);
        EXPECT_EQ(report.countBytes, countBytes);
    }
    EXPECT_NE(MOE_RE_ROUTING_TILING_KEY_INT32_COUNTS, MOE_RE_ROUTING_TILING_KEY_INT64_COUNTS);
}

// Static capacity: the slot stride reaches the kernel and the zero buffer exists (the rows no token
// lands in are zero-filled from it), whatever the scales; nothing in the tiling depends on a count
// value (ComputeTiling has no way to see them), so a captured graph replays with new counts.
TEST(HostTiling, capacity_carries_the_slot_stride_and_a_zero_buffer)
{
    for (const Platform &platform : kPlatforms) {
        for (int64_t scaleRowBytes : {int64_t{0}, int64_t{4}, int64_t{64}}) {
            for (bool restore : {false, true}) {
                Problem p = MakeProblem(16 * 64, 7168, 16, 16, 8, 4, scaleRowBytes);
                (restore ? p.dstSlotRows : p.srcSlotRows) = 64;
                MoeReRoutingTilingData t{};
                ASSERT_TRUE(ComputeTiling(p, platform, &t).ok());
                EXPECT_EQ(t.srcSlotRows, restore ? 0 : 64);
                EXPECT_EQ(t.dstSlotRows, restore ? 64 : 0);
                EXPECT_EQ(t.tokenNum, 16 * 64);
                EXPECT_GE(t.zeroBufBytes, 32u);
                EXPECT_EQ(t.zeroBufBytes % 32, 0u);
                Problem packed = MakeProblem(16 * 64, 7168, 16, 16, 8, 4, scaleRowBytes);
                MoeReRoutingTilingData tp{};
                ASSERT_TRUE(ComputeTiling(packed, platform, &tp).ok());
                EXPECT_EQ(tp.srcSlotRows + tp.dstSlotRows, 0);
                EXPECT_EQ(t.usedCoreNum, tp.usedCoreNum);  // the split is over the N*C rows
            }
        }
    }
}
