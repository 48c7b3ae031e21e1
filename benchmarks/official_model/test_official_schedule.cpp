// The test-only official-schedule kernel: its outputs against the operator's definition
// (docs/spec.md) and its per-core trace against counts worked out by hand from the schedule.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "../../tests/common/moe_re_routing_reference.h"
#include "official_schedule.h"
#include "time_model.h"

namespace {

using official_model::OfficialCase;
using official_model::OfficialRun;
using official_model::RunOfficialSchedule;

// The shared C++ test reference (tests/common/moe_re_routing_reference.h): count mode, gather index.
void ExpectMatchesDefinition(const OfficialCase &c, const OfficialRun &run)
{
    moe_re_routing_test::Problem p;
    p.A = c.A;
    p.N = c.N;
    p.E = c.E;
    p.rowBytes = c.rowBytes;
    p.scaleRowBytes = c.scales ? 4 : 0;
    p.countBytes = 8;
    const std::vector<uint8_t> counts = moe_re_routing_test::CountBytes(run.counts, 8);
    const moe_re_routing_test::Outputs want = moe_re_routing_test::Reference(
        p, run.tokens.data(), counts.data(), reinterpret_cast<const uint8_t *>(run.scales.data()));
    EXPECT_TRUE(run.outTokens == want.tokens);
    EXPECT_TRUE(run.outIdx == want.Index());
    EXPECT_TRUE(run.expertTokenNum == want.ExpertCounts(8));
    if (c.scales) {
        std::vector<float> wantScales(static_cast<size_t>(c.A));
        std::memcpy(wantScales.data(), want.scales.data(), want.scales.size());
        EXPECT_TRUE(run.outScales == wantScales);
    }
}

TEST(OfficialSchedule, MatchesDefinitionOnUnevenCounts)
{
    OfficialCase c;
    c.A = 37 + 5 + 0 + 19 + 3 + 8 + 0 + 11 + 2 + 40 + 1 + 6;
    c.rowBytes = 70;  // not a multiple of 32
    c.N = 4;
    c.E = 3;
    c.scales = true;
    c.cores = 3;                // ranks 0 and 3 on core 0
    c.ubBytes = 12288 + 2 * 16 * (70 + 8);  // ubFactor 16: cells of 19, 37 and 40 rows split
    const std::vector<int64_t> counts = {37, 5, 0, 19, 3, 8, 0, 11, 2, 40, 1, 6};
    for (int64_t countBytes : {4, 8}) {
        c.countBytes = countBytes;
        const OfficialRun run = RunOfficialSchedule(c, counts, true);
        EXPECT_EQ(run.blockDim, 2u);  // blockFactor = ceil(4 / 3) = 2, blockDim = ceil(4 / 2) = 2
        EXPECT_EQ(run.ubFactor, 16);
        ExpectMatchesDefinition(c, run);
    }
}

TEST(OfficialSchedule, PublicCountsWithoutScales)
{
    OfficialCase c;
    c.A = 1009;
    c.rowBytes = 64;
    c.N = 8;
    c.E = 8;
    c.scales = false;
    const OfficialRun run = RunOfficialSchedule(c, {}, true);
    EXPECT_EQ(run.blockDim, 8u);
    ExpectMatchesDefinition(c, run);
}

// N = 2, E = 2, A = 10 -> counts {2, 2, 2, 4}; 48 cores -> blockDim 2, one rank per core.
// rowBytes 100, UB 12288 + 672 -> ubFactor 3. Core 0 (rank 0): cells of 2 and 2 rows,
// one chunk each; core 1 (rank 1): cells of 2 and 4 rows -> 1 + 2 chunks.
// Per chunk with scales: 2 GM->UB (rows, scales), 3 UB->GM (index, rows, scales).
// Scalar GM reads of rank r: r*E (source prefix) + per expert r (above) + 1 (cell) + (N-1-r)
// (below) = r*E + E*N; core 0 also writes expert_token_num: E writes of 0, then per count one
// count read, one read and one write of expert_token_num.
TEST(OfficialSchedule, TraceMatchesHandCount)
{
    OfficialCase c;
    c.A = 10;
    c.rowBytes = 100;
    c.N = 2;
    c.E = 2;
    c.scales = true;
    c.ubBytes = 12288 + 672;  // ((672 / 2) / 108) = 3 rows per chunk
    const OfficialRun run = RunOfficialSchedule(c, {}, false);
    ASSERT_EQ(run.blockDim, 2u);
    ASSERT_EQ(run.ubFactor, 3);
    // Core 0: per chunk 2 GM->UB and 3 UB->GM, one burst each.
    const ascendc_cpu::CoreTrace &c0 = run.cores[0];
    ASSERT_EQ(c0.dma.size(), 10u);
    for (const ascendc_cpu::DmaOp &d : c0.dma) {
        EXPECT_EQ(d.bursts, 1u);
    }
    const MoeReRoutingModelCore m0 = moe_re_routing::model::FromTrace(c0);
    EXPECT_EQ(m0.dmaInOps, 4.0);
    EXPECT_EQ(m0.dmaOutOps, 6.0);
    EXPECT_EQ(c0.bytesIn, 4u * 100 + 4 * 4);
    EXPECT_EQ(c0.bytesOut, 4u * 100 + 4 * 4 + 4 * 4);
    EXPECT_EQ(c0.scalarGmReads, 0u + 4 + 2 * 4);  // rank 0, then 4 counts x (count + RMW read)
    EXPECT_EQ(c0.scalarGmWrites, 2u + 4);
    EXPECT_EQ(m0.gmScalarOps, 12.0 + 6.0);
    const ascendc_cpu::CoreTrace &c1 = run.cores[1];
    const MoeReRoutingModelCore m1 = moe_re_routing::model::FromTrace(c1);
    EXPECT_EQ(m1.dmaInOps, 6.0);
    EXPECT_EQ(m1.dmaOutOps, 9.0);
    EXPECT_EQ(c1.bytesIn, 6u * 100 + 6 * 4);
    EXPECT_EQ(c1.bytesOut, 6u * 100 + 6 * 4 + 6 * 4);
    EXPECT_EQ(c1.scalarGmReads, 2u + 4);
    EXPECT_EQ(c1.scalarGmWrites, 0u);
}

}  // namespace
