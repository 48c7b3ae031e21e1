// official_schedule_trace A ROW_BYTES N E COUNT_BYTES SCALES [CORES UB_BYTES]
// Runs the test-only official-schedule kernel on the emulator with the public benchmark's counts
// and prints {"block_dim", "ub_factor", "cores": [per core: what the time model reads of its trace
// (MoeReRoutingModelCore, snake_case)]} as one JSON line. Used by
// benchmarks/official_model/calibrate.py.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "official_schedule.h"
#include "time_model.h"

int main(int argc, char **argv)
{
    if (argc != 7 && argc != 9) {
        std::fprintf(stderr, "usage: %s A ROW_BYTES N E COUNT_BYTES SCALES(0|1) [CORES UB_BYTES]\n", argv[0]);
        return 2;
    }
    official_model::OfficialCase c;
    try {
        c.A = std::stoll(argv[1]);
        c.rowBytes = std::stoll(argv[2]);
        c.N = std::stoll(argv[3]);
        c.E = std::stoll(argv[4]);
        c.countBytes = std::stoll(argv[5]);
        c.scales = std::stoll(argv[6]) != 0;
        if (argc == 9) {
            c.cores = std::stoll(argv[7]);
            c.ubBytes = std::stoll(argv[8]);
        }
    } catch (const std::exception &) {
        std::fprintf(stderr, "%s: every argument must be an integer\n", argv[0]);
        return 2;
    }
    if (c.A < 0 || c.rowBytes < 1 || c.N < 1 || c.E < 1 || c.cores < 1 || (c.countBytes != 4 && c.countBytes != 8)) {
        std::fprintf(stderr, "%s: need A >= 0, ROW_BYTES >= 1, N >= 1, E >= 1, CORES >= 1, COUNT_BYTES 4 or 8\n",
                     argv[0]);
        return 2;
    }
    const official_model::OfficialRun run = official_model::RunOfficialSchedule(c, {}, false);
    std::printf("{\"block_dim\": %u, \"ub_factor\": %lld, \"cores\": [", run.blockDim,
                static_cast<long long>(run.ubFactor));
    for (size_t i = 0; i < run.cores.size(); ++i) {
        const MoeReRoutingModelCore m = moe_re_routing::model::FromTrace(run.cores[i]);
        std::printf("%s{\"bytes_in\": %.0f, \"bytes_out\": %.0f, \"dma_in_ops\": %.0f, \"dma_out_ops\": %.0f, "
                    "\"gm_scalar_ops\": %.0f, \"scalar_ub_ops\": %.0f, \"vector_ops\": %.0f}",
                    i == 0 ? "" : ", ", m.bytesIn, m.bytesOut, m.dmaInOps, m.dmaOutOps, m.gmScalarOps, m.scalarUbOps,
                    m.vectorOps);
    }
    std::printf("]}\n");
    return 0;
}
