// Unit tests of the output inference (op_host/moe_re_routing_infer.cpp), the one home of the
// output rule: CANN InferShape/InferDataType, the framework adapters, MoeReRoutingInferOutputs and
// CheckArgs' output checks all use it.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "moe_re_routing_host.h"

using namespace moe_re_routing;

namespace {

constexpr int32_t kFloat = 0, kFloat16 = 1, kInt8 = 2, kInt32 = 3, kInt64 = 9, kBf16 = 27, kE8m0 = 37;

ShapeDtype Shape(int32_t dtype, std::initializer_list<int64_t> dims)
{
    ShapeDtype t;
    t.present = true;
    t.dtype = dtype;
    for (int64_t d : dims) {
        t.dims[t.dimNum++] = d;
    }
    return t;
}

ShapeDtype UnknownRank(int32_t dtype)
{
    ShapeDtype t;
    t.present = true;
    t.dtype = dtype;
    t.rankKnown = false;
    return t;
}

std::vector<int64_t> Dims(const ShapeDtype &t)
{
    return std::vector<int64_t>(t.dims, t.dims + t.dimNum);
}

InferInputs Inputs(ShapeDtype tokens, ShapeDtype counts, ShapeDtype scales = ShapeDtype{})
{
    InferInputs in;
    in.tokens = tokens;
    in.expertTokenNumPerRank = counts;
    in.perTokenScales = scales;
    return in;
}

TensorDesc Desc(const ShapeDtype &s)
{
    TensorDesc t;
    t.present = true;
    t.dtype = s.dtype;
    t.dimNum = s.dimNum;
    for (uint32_t i = 0; i < s.dimNum; ++i) {
        t.dims[i] = s.dims[i];
    }
    return t;
}

}  // namespace

TEST(HostInfer, outputs_follow_the_inputs)
{
    InferredOutputs o;
    ASSERT_TRUE(InferOutputs(Inputs(Shape(kInt8, {64, 7168}), Shape(kInt64, {16, 8}), Shape(kFloat, {64})), &o).ok());
    EXPECT_EQ(o.permuteTokens.dtype, kInt8);
    EXPECT_EQ(Dims(o.permuteTokens), (std::vector<int64_t>{64, 7168}));
    EXPECT_EQ(o.permutePerTokenScales.dtype, kFloat);
    EXPECT_EQ(Dims(o.permutePerTokenScales), (std::vector<int64_t>{64}));
    EXPECT_EQ(o.permuteTokenIdx.dtype, kInt32);
    EXPECT_EQ(Dims(o.permuteTokenIdx), (std::vector<int64_t>{64}));
    EXPECT_EQ(o.expertTokenNum.dtype, kInt64);
    EXPECT_EQ(Dims(o.expertTokenNum), (std::vector<int64_t>{8}));
    for (const ShapeDtype *t : {&o.permuteTokens, &o.permutePerTokenScales, &o.permuteTokenIdx, &o.expertTokenNum}) {
        EXPECT_TRUE(t->present);
        EXPECT_TRUE(t->rankKnown);
    }
}

TEST(HostInfer, scales_output_is_float_a_without_scales_and_like_the_scales_with_them)
{
    InferredOutputs o;
    ASSERT_TRUE(InferOutputs(Inputs(Shape(kBf16, {5, 3}), Shape(kInt32, {2, 2})), &o).ok());
    EXPECT_EQ(o.permutePerTokenScales.dtype, kFloat);
    EXPECT_EQ(Dims(o.permutePerTokenScales), (std::vector<int64_t>{5}));
    ASSERT_TRUE(InferOutputs(Inputs(Shape(kBf16, {5, 3}), Shape(kInt32, {2, 2}), Shape(kE8m0, {5, 4})), &o).ok());
    EXPECT_EQ(o.permutePerTokenScales.dtype, kE8m0);
    EXPECT_EQ(Dims(o.permutePerTokenScales), (std::vector<int64_t>{5, 4}));
}

TEST(HostInfer, unknown_dimensions_and_ranks_flow_into_the_outputs)
{
    InferredOutputs o;
    ASSERT_TRUE(InferOutputs(Inputs(Shape(kFloat16, {kUnknownDim, 128}), Shape(kInt32, {4, kUnknownDim})), &o).ok());
    EXPECT_EQ(Dims(o.permuteTokens), (std::vector<int64_t>{kUnknownDim, 128}));
    EXPECT_EQ(Dims(o.permutePerTokenScales), (std::vector<int64_t>{kUnknownDim}));
    EXPECT_EQ(Dims(o.permuteTokenIdx), (std::vector<int64_t>{kUnknownDim}));
    EXPECT_EQ(Dims(o.expertTokenNum), (std::vector<int64_t>{kUnknownDim}));

    ASSERT_TRUE(
        InferOutputs(Inputs(UnknownRank(kFloat16), UnknownRank(kInt64), UnknownRank(kFloat)), &o).ok());
    EXPECT_FALSE(o.permuteTokens.rankKnown);            // [A, H] of unknown rank stays so
    EXPECT_FALSE(o.permutePerTokenScales.rankKnown);    // like the scales
    EXPECT_TRUE(o.permuteTokenIdx.rankKnown);           // always 1-D: [-1]
    EXPECT_EQ(Dims(o.permuteTokenIdx), (std::vector<int64_t>{kUnknownDim}));
    EXPECT_EQ(Dims(o.expertTokenNum), (std::vector<int64_t>{kUnknownDim}));
    EXPECT_EQ(o.expertTokenNum.dtype, kInt64);
}

TEST(HostInfer, wrong_known_ranks_and_missing_inputs_are_named)
{
    struct Case {
        const char *what;
        InferInputs in;
        int32_t status;
        const char *message;
    };
    ShapeDtype absent;
    const std::vector<Case> cases = {
        {"1-D tokens", Inputs(Shape(kFloat16, {64}), Shape(kInt32, {2, 2})), kErrParamInvalid,
         "tokens must be 2-D [A, H] but has shape [64]"},
        {"3-D counts", Inputs(Shape(kFloat16, {4, 8}), Shape(kInt32, {2, 2, 1})), kErrParamInvalid,
         "expert_token_num_per_rank must be 2-D [N, E] but has shape [2, 2, 1]"},
        {"3-D scales", Inputs(Shape(kFloat16, {4, 8}), Shape(kInt32, {2, 2}), Shape(kFloat, {4, 1, 1})),
         kErrParamInvalid, "per_token_scales must be 1-D [A] or 2-D [A, S] but has shape [4, 1, 1]"},
        {"0-D scales", Inputs(Shape(kFloat16, {4, 8}), Shape(kInt32, {2, 2}), Shape(kFloat, {})), kErrParamInvalid,
         "per_token_scales must be 1-D [A] or 2-D [A, S] but has shape []"},
        {"no tokens", Inputs(absent, Shape(kInt32, {2, 2})), kErrParamNullptr, "tokens is null but is required"},
        {"no counts", Inputs(Shape(kFloat16, {4, 8}), absent), kErrParamNullptr,
         "expert_token_num_per_rank is null but is required"},
    };
    for (const Case &c : cases) {
        InferredOutputs o;
        const Result r = InferOutputs(c.in, &o);
        EXPECT_EQ(r.status, c.status) << c.what;
        EXPECT_EQ(r.message, c.message) << c.what;
    }
    ShapeDtype nine = Shape(kFloat16, {1, 1, 1, 1, 1, 1, 1, 1});
    nine.dimNum = 9;  // what a caller reports for a 9-D tensor (the first kMaxDims dims stored)
    InferredOutputs o;
    const Result r = InferOutputs(Inputs(nine, Shape(kInt32, {1, 1})), &o);
    EXPECT_EQ(r.status, kErrParamInvalid);
    EXPECT_EQ(r.message, "tokens has 9 dimensions, more than 8");
    EXPECT_LE(o.permuteTokens.dimNum, kMaxDims);
}

// On failure the outputs still hold the best guess, for adapters that let the run report.
TEST(HostInfer, a_failure_still_fills_the_best_guess)
{
    InferredOutputs o;
    EXPECT_FALSE(InferOutputs(Inputs(Shape(kFloat16, {7}), Shape(kInt32, {3, 2, 5})), &o).ok());
    EXPECT_EQ(Dims(o.permuteTokens), (std::vector<int64_t>{7}));
    EXPECT_EQ(Dims(o.permuteTokenIdx), (std::vector<int64_t>{7}));
    EXPECT_EQ(Dims(o.expertTokenNum), (std::vector<int64_t>{5}));
    EXPECT_FALSE(InferOutputs(Inputs(Shape(kFloat16, {}), Shape(kInt32, {})), &o).ok());
    EXPECT_EQ(Dims(o.permuteTokenIdx), (std::vector<int64_t>{0}));
    EXPECT_EQ(Dims(o.expertTokenNum), (std::vector<int64_t>{1}));
}

// CheckArgs accepts exactly the outputs inference gives (one rule, not two).
TEST(HostInfer, check_args_accepts_the_inferred_outputs_and_rejects_any_change)
{
    const InferInputs in = Inputs(Shape(kFloat16, {10, 6}), Shape(kInt64, {2, 3}), Shape(kFloat, {10, 2}));
    InferredOutputs o;
    ASSERT_TRUE(InferOutputs(in, &o).ok());
    OpArgs a;
    a.tokens = Desc(in.tokens);
    a.expertTokenNumPerRank = Desc(in.expertTokenNumPerRank);
    a.perTokenScales = Desc(in.perTokenScales);
    a.permuteTokens = Desc(o.permuteTokens);
    a.permutePerTokenScales = Desc(o.permutePerTokenScales);
    a.permuteTokenIdx = Desc(o.permuteTokenIdx);
    a.expertTokenNum = Desc(o.expertTokenNum);
    Problem p;
    ASSERT_TRUE(CheckArgs(a, &p).ok()) << CheckArgs(a, &p).message;
    TensorDesc *outs[] = {&a.permuteTokens, &a.permutePerTokenScales, &a.permuteTokenIdx, &a.expertTokenNum};
    for (TensorDesc *t : outs) {
        const TensorDesc saved = *t;
        t->dims[t->dimNum - 1] += 1;
        EXPECT_EQ(CheckArgs(a, &p).status, kErrParamInvalid);
        *t = saved;
        t->dtype = t->dtype == kInt8 ? kFloat16 : kInt8;
        EXPECT_EQ(CheckArgs(a, &p).status, kErrParamInvalid);
        *t = saved;
    }
    EXPECT_TRUE(CheckArgs(a, &p).ok());
}
