// Host side of the test-only official-schedule kernel: builds the public fill of the counts, runs
// the kernel on the emulator and returns its per-core trace.
#ifndef MOE_RE_ROUTING_OFFICIAL_SCHEDULE_H
#define MOE_RE_ROUTING_OFFICIAL_SCHEDULE_H

#include <cstdint>
#include <vector>

#include "ascendc_cpu/runtime.h"

namespace official_model {

struct OfficialCase {
    int64_t A = 0;          // tokens
    int64_t rowBytes = 0;   // H * itemsize
    int64_t N = 0;          // ranks
    int64_t E = 0;          // experts per rank
    int64_t countBytes = 4; // 4 (int32) or 8 (int64)
    bool scales = false;    // per_token_scales [A] float32
    int64_t cores = 48;     // AIV cores of the platform
    int64_t ubBytes = 196352;  // GetCoreMemSize(UB) on Ascend910B
};

struct OfficialRun {
    uint32_t blockDim = 0;
    int64_t ubFactor = 0;
    std::vector<ascendc_cpu::CoreTrace> cores;
    // Filled when RunOfficialSchedule is asked to keep the outputs.
    std::vector<uint8_t> tokens, outTokens;
    std::vector<float> scales, outScales;
    std::vector<int32_t> outIdx;
    std::vector<int64_t> counts, expertTokenNum;
};

// Runs the kernel with `counts` (N * E values; empty = the public fill, moe_re_routing_test::PublicCounts
// of tests/common/moe_re_routing_reference.h: every cell A / (N * E), the last cell the remainder). Token bytes are i % 251
// and scales i + 0.5 when keepOutputs, so that outputs can be checked; otherwise the inputs are
// left zero (lazily allocated) and the outputs dropped, which keeps the large shapes cheap.
OfficialRun RunOfficialSchedule(const OfficialCase &c, const std::vector<int64_t> &counts, bool keepOutputs);

}  // namespace official_model

#endif  // MOE_RE_ROUTING_OFFICIAL_SCHEDULE_H
