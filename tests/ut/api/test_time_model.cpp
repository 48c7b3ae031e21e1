// MoeReRoutingModelEvaluate on cases worked out by hand from the model's definition
// (docs/time_model.md): per core MTE2 = dmaInOps * dma_us + bytesIn / core_bw, MTE3 likewise,
// scalar = gmScalarOps * scalar_gm_us + scalarUbOps * scalar_ub_us, vector = vectorOps * vector_us,
// core = scalar + max(vector, MTE2, MTE3); kernel = launch + max(slowest core, all bytes / hbm_bw).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "moe_re_routing_cpu.h"

namespace {

// launch_us, dma_us, core_gbps, hbm_gbps, scalar_gm_us, scalar_ub_us, vector_us
const double kParams[MOE_RE_ROUTING_MODEL_PARAM_COUNT] = {2.0, 0.5, 100.0, 150.0, 0.01, 0.001, 0.02};

MoeReRoutingModelCore Core(double in, double out, double dmaIn, double dmaOut, double gm, double ub, double vec)
{
    return MoeReRoutingModelCore{in, out, dmaIn, dmaOut, gm, ub, vec};
}

TEST(TimeModel, ParametersAreNamedInEvaluationOrder)
{
    const char *const *names = nullptr;
    const double *values = nullptr;
    ASSERT_EQ(MoeReRoutingModelParameters(&names, &values), MOE_RE_ROUTING_MODEL_PARAM_COUNT);
    const char *expected[] = {"launch_us",    "dma_us",       "core_gbps", "hbm_gbps",
                              "scalar_gm_us", "scalar_ub_us", "vector_us"};
    for (int i = 0; i < MOE_RE_ROUTING_MODEL_PARAM_COUNT; ++i) {
        EXPECT_STREQ(names[i], expected[i]);
        EXPECT_GT(values[i], 0.0) << names[i];
    }
}

TEST(TimeModel, HbmBoundRun)
{
    // core 0: MTE2 = 4*0.5 + 1e6 B / 100 GB/s (10 us) = 12; MTE3 = 6*0.5 + 20 = 23;
    //         scalar = 100*0.01 + 1000*0.001 = 2; vector = 10*0.02 = 0.2; core = 2 + max(0.2, 12, 23) = 25
    // core 1: MTE2 = MTE3 = 30; core = 30.   HBM: 9e6 B / 150 GB/s = 60 us > 30.
    const MoeReRoutingModelCore cores[2] = {Core(1e6, 2e6, 4, 6, 100, 1000, 10), Core(3e6, 3e6, 0, 0, 0, 0, 0)};
    MoeReRoutingModelCoreTime t[2];
    EXPECT_DOUBLE_EQ(MoeReRoutingModelEvaluate(cores, 2, kParams, t), 2.0 + 60.0);
    EXPECT_DOUBLE_EQ(t[0].mte2Us, 12.0);
    EXPECT_DOUBLE_EQ(t[0].mte3Us, 23.0);
    EXPECT_DOUBLE_EQ(t[0].scalarUs, 2.0);
    EXPECT_DOUBLE_EQ(t[0].vectorUs, 0.2);
    EXPECT_DOUBLE_EQ(t[0].coreUs, 25.0);
    EXPECT_DOUBLE_EQ(t[1].coreUs, 30.0);
}

TEST(TimeModel, CoreBoundRun)
{
    double params[MOE_RE_ROUTING_MODEL_PARAM_COUNT];
    std::memcpy(params, kParams, sizeof(params));
    params[3] = 1000.0;  // HBM: 9e6 B / 1000 GB/s = 9 us < 30
    const MoeReRoutingModelCore cores[2] = {Core(1e6, 2e6, 4, 6, 100, 1000, 10), Core(3e6, 3e6, 0, 0, 0, 0, 0)};
    EXPECT_DOUBLE_EQ(MoeReRoutingModelEvaluate(cores, 2, params, nullptr), 2.0 + 30.0);
    // A scalar-heavy core: 5000 GM accesses = 50 us beside 1.5 us of DMA.
    const MoeReRoutingModelCore scalar[1] = {Core(1e5, 0, 1, 0, 5000, 0, 0)};
    EXPECT_DOUBLE_EQ(MoeReRoutingModelEvaluate(scalar, 1, params, nullptr), 2.0 + 50.0 + 0.5 + 1.0);
    // A vector-bound core: 2000 vector instructions = 40 us beside 1.5 us of DMA and 1 us of scalar.
    const MoeReRoutingModelCore vector[1] = {Core(1e5, 0, 1, 0, 100, 0, 2000)};
    EXPECT_DOUBLE_EQ(MoeReRoutingModelEvaluate(vector, 1, params, nullptr), 2.0 + 1.0 + 40.0);
}

TEST(TimeModel, CalibratedParametersByDefault)
{
    const double *values = nullptr;
    MoeReRoutingModelParameters(nullptr, &values);
    const MoeReRoutingModelCore cores[1] = {Core(1e6, 1e6, 2, 3, 40, 0, 0)};
    EXPECT_DOUBLE_EQ(MoeReRoutingModelEvaluate(cores, 1, nullptr, nullptr),
                     MoeReRoutingModelEvaluate(cores, 1, values, nullptr));
}

TEST(TimeModel, RejectsEmptyRuns)
{
    EXPECT_LT(MoeReRoutingModelEvaluate(nullptr, 1, kParams, nullptr), 0.0);
    const MoeReRoutingModelCore cores[1] = {Core(1, 1, 1, 1, 0, 0, 0)};
    EXPECT_LT(MoeReRoutingModelEvaluate(cores, 0, kParams, nullptr), 0.0);
}

}  // namespace
