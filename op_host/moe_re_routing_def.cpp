// OpDefs of MoeReRouting, MoeReRoutingV2 and MoeReRoutingWithCapacity (the same columns; V2 and
// WithCapacity with the weight pair, WithCapacity with its capacity attributes) for the CANN build. The lists are read column-wise: column i of every input
// and output is one supported combination, and each column is one kernel binary per SoC (the
// kernel takes the count type of its column from the op build's DTYPE_EXPERT_TOKEN_NUM_PER_RANK).
//
// Atlas A2 (ascend910b) and A3 (ascend910_93), the default lists: tokens FLOAT16, BF16, INT8 (the
// official operator's) and FLOAT [ext], each with INT32 or INT64 counts; per_token_scales FLOAT.
// Ascend 950 (ascend950, its own configuration): the same 8 columns plus the 950 token types with
// FLOAT8_E8M0 scales: FLOAT8_E5M2, FLOAT8_E4M3FN, HIFLOAT8, FLOAT4_E2M1, FLOAT4_E1M2 (two per byte),
// each with INT32 or INT64 counts. idx_type 1 (scatter) is accepted on every SoC [ext].
// The other token types of kDtypeTable (16/32-bit integers, UINT8) run on the CPU backend only;
// docs/cann_build.md lists the columns.
#include <vector>

#include "moe_re_routing_cann.h"
#include "register/op_impl_registry.h"

namespace ops {
namespace {

using OpKind = moe_re_routing::CannOp;

// Inputs and outputs of `def` (an OpDef or an OpAICoreConfig), column i of every list being one
// combination. permute_token_idx is INT32 and every format ND in every column. With `v2`,
// MoeReRoutingV2's weight pair follows: the optional input expert_topk_weight and the optional
// output permute_topk_weight, FLOAT in every column.
template <typename Def>
void DeclareParams(Def &def, const std::vector<ge::DataType> &tokens, const std::vector<ge::DataType> &counts,
                   const std::vector<ge::DataType> &scales, const std::vector<ge::DataType> &index, bool v2)
{
    const std::vector<ge::Format> nd(tokens.size(), ge::FORMAT_ND);
    def.Input("tokens").ParamType(REQUIRED).DataType(tokens).Format(nd).UnknownShapeFormat(nd).AutoContiguous();
    def.Input("expert_token_num_per_rank").ParamType(REQUIRED).DataType(counts).Format(nd).UnknownShapeFormat(nd)
        .AutoContiguous();
    def.Input("per_token_scales").ParamType(OPTIONAL).DataType(scales).Format(nd).UnknownShapeFormat(nd)
        .AutoContiguous();
    const std::vector<ge::DataType> weights(tokens.size(), ge::DT_FLOAT);
    if (v2) {
        def.Input("expert_topk_weight").ParamType(OPTIONAL).DataType(weights).Format(nd).UnknownShapeFormat(nd)
            .AutoContiguous();
    }
    def.Output("permute_tokens").ParamType(REQUIRED).DataType(tokens).Format(nd).UnknownShapeFormat(nd);
    def.Output("permute_per_token_scales").ParamType(REQUIRED).DataType(scales).Format(nd).UnknownShapeFormat(nd);
    def.Output("permute_token_idx").ParamType(REQUIRED).DataType(index).Format(nd).UnknownShapeFormat(nd);
    def.Output("expert_token_num").ParamType(REQUIRED).DataType(counts).Format(nd).UnknownShapeFormat(nd);
    if (v2) {
        def.Output("permute_topk_weight").ParamType(OPTIONAL).DataType(weights).Format(nd).UnknownShapeFormat(nd);
    }
}

// Build flags shared by every SoC; the kernel file is op_kernel/<opFile>.cpp on all of them
// (moe_re_routing, or moe_re_routing_v2 / moe_re_routing_with_capacity: the same kernel's other
// entries).
void SetBuildFlags(OpAICoreConfig &config, const char *opFile)
{
    config.DynamicCompileStaticFlag(true)
        .DynamicRankSupportFlag(true)
        .DynamicShapeSupportFlag(true)
        .ExtendCfgInfo("opFile.value", opFile);
}

// The OpDef of MoeReRouting, MoeReRoutingV2 or MoeReRoutingWithCapacity: the same columns and
// attributes, V2 and WithCapacity with the weight pair, WithCapacity with num_max_tokens_per_rank
// first and restore last; the same SoC configurations.
template <typename Op>
void Define(Op &op, OpKind kind)
{
    const bool v2 = kind != OpKind::kV1;  // the weight pair
    // Atlas A2/A3, the default lists: 8 columns.
    const std::vector<ge::DataType> tokens = {ge::DT_FLOAT16, ge::DT_BF16,  ge::DT_INT8,  ge::DT_FLOAT,
                                              ge::DT_FLOAT16, ge::DT_BF16,  ge::DT_INT8,  ge::DT_FLOAT};
    const std::vector<ge::DataType> counts = {ge::DT_INT32,   ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
                                              ge::DT_INT64,   ge::DT_INT64, ge::DT_INT64, ge::DT_INT64};
    const std::vector<ge::DataType> scales = {ge::DT_FLOAT, ge::DT_FLOAT, ge::DT_FLOAT, ge::DT_FLOAT,
                                              ge::DT_FLOAT, ge::DT_FLOAT, ge::DT_FLOAT, ge::DT_FLOAT};
    const std::vector<ge::DataType> index = {ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
                                             ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32};
    // Ascend 950: the 8 columns above, then its 8- and 4-bit float tokens with FLOAT8_E8M0 scales,
    // INT32 counts (columns 8-12) and INT64 counts (13-17): 18 columns.
    const std::vector<ge::DataType> tokens950 = {
        ge::DT_FLOAT16,       ge::DT_BF16,          ge::DT_INT8,        ge::DT_FLOAT,
        ge::DT_FLOAT16,       ge::DT_BF16,          ge::DT_INT8,        ge::DT_FLOAT,
        ge::DT_FLOAT8_E5M2,   ge::DT_FLOAT8_E4M3FN, ge::DT_HIFLOAT8,    ge::DT_FLOAT4_E2M1, ge::DT_FLOAT4_E1M2,
        ge::DT_FLOAT8_E5M2,   ge::DT_FLOAT8_E4M3FN, ge::DT_HIFLOAT8,    ge::DT_FLOAT4_E2M1, ge::DT_FLOAT4_E1M2};
    const std::vector<ge::DataType> counts950 = {
        ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
        ge::DT_INT64, ge::DT_INT64, ge::DT_INT64, ge::DT_INT64,
        ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
        ge::DT_INT64, ge::DT_INT64, ge::DT_INT64, ge::DT_INT64, ge::DT_INT64};
    const std::vector<ge::DataType> scales950 = {
        ge::DT_FLOAT,       ge::DT_FLOAT,       ge::DT_FLOAT,       ge::DT_FLOAT,
        ge::DT_FLOAT,       ge::DT_FLOAT,       ge::DT_FLOAT,       ge::DT_FLOAT,
        ge::DT_FLOAT8_E8M0, ge::DT_FLOAT8_E8M0, ge::DT_FLOAT8_E8M0, ge::DT_FLOAT8_E8M0, ge::DT_FLOAT8_E8M0,
        ge::DT_FLOAT8_E8M0, ge::DT_FLOAT8_E8M0, ge::DT_FLOAT8_E8M0, ge::DT_FLOAT8_E8M0, ge::DT_FLOAT8_E8M0};
    const std::vector<ge::DataType> index950 = {
        ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
        ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
        ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
        ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32};

    DeclareParams(op, tokens, counts, scales, index, v2);
    if (kind == OpKind::kWithCapacity) {
        op.Attr("num_max_tokens_per_rank").AttrType(REQUIRED).Int();  // C >= 1: rows per rank's slot
    }
    op.Attr("expert_token_num_type").AttrType(OPTIONAL).Int(1);  // 1 count, 0 cumsum [ext]
    op.Attr("idx_type").AttrType(OPTIONAL).Int(0);               // 0 gather, 1 scatter [ext]
    if (kind == OpKind::kWithCapacity) {
        op.Attr("restore").AttrType(OPTIONAL).Bool(false);  // the inverse, called with counts.T
    }

    const char *opFile = "moe_re_routing";
    if (kind == OpKind::kV1) {
        op.SetInferShape(ge::InferShapeMoeReRouting).SetInferDataType(ge::InferDataTypeMoeReRouting);
        op.AICore().SetTiling(optiling::TilingMoeReRouting);
    } else if (kind == OpKind::kV2) {
        op.SetInferShape(ge::InferShapeMoeReRoutingV2).SetInferDataType(ge::InferDataTypeMoeReRoutingV2);
        op.AICore().SetTiling(optiling::TilingMoeReRoutingV2);
        opFile = "moe_re_routing_v2";
    } else {
        // Output shapes are MoeReRoutingV2's (every output has the input's rows), so its inference.
        op.SetInferShape(ge::InferShapeMoeReRoutingV2).SetInferDataType(ge::InferDataTypeMoeReRoutingV2);
        op.AICore().SetTiling(optiling::TilingMoeReRoutingWithCapacity);
        opFile = "moe_re_routing_with_capacity";
    }
    OpAICoreConfig a2a3;
    SetBuildFlags(a2a3, opFile);
    op.AICore().AddConfig("ascend910b", a2a3);
    op.AICore().AddConfig("ascend910_93", a2a3);

    // The SoC name of Ascend 950 in CANN 9.x (ASCEND_COMPUTE_UNIT "ascend950"). A config that
    // declares its own lists replaces the default lists for that SoC.
    OpAICoreConfig ascend950;
    DeclareParams(ascend950, tokens950, counts950, scales950, index950, v2);
    SetBuildFlags(ascend950, opFile);
    op.AICore().AddConfig("ascend950", ascend950);
}

}  // namespace

class MoeReRouting : public OpDef {
public:
    explicit MoeReRouting(const char *name) : OpDef(name) { Define(*this, OpKind::kV1); }
};

// MoeReRoutingV2 (the official IR: the four inputs, the five outputs, the same attributes) on every
// SoC of MoeReRouting, not only Ascend 950 [ext].
class MoeReRoutingV2 : public OpDef {
public:
    explicit MoeReRoutingV2(const char *name) : OpDef(name) { Define(*this, OpKind::kV2); }
};

// MoeReRoutingWithCapacity (static capacity: rank slots of num_max_tokens_per_rank rows; restore,
// the inverse) with V2's inputs and outputs, on every SoC of MoeReRouting.
class MoeReRoutingWithCapacity : public OpDef {
public:
    explicit MoeReRoutingWithCapacity(const char *name) : OpDef(name) { Define(*this, OpKind::kWithCapacity); }
};

OP_ADD(MoeReRouting);
OP_ADD(MoeReRoutingV2);
OP_ADD(MoeReRoutingWithCapacity);

#if defined(OP_TILING_LIB)
// In the tiling library OP_ADD (just above) registers the tiling function and a placeholder
// compile-info parse. This registration comes later in the same translation unit, so it runs after
// it and its TilingParse replaces the placeholder: the platform numbers the tiling falls back to
// when a tiling context carries no platform info (see TilingMoeReRouting).
IMPL_OP_OPTILING(MoeReRouting)
    .TilingParse<optiling::MoeReRoutingCompileInfo>(optiling::TilingParseMoeReRouting);
IMPL_OP_OPTILING(MoeReRoutingV2)
    .TilingParse<optiling::MoeReRoutingCompileInfo>(optiling::TilingParseMoeReRouting);
IMPL_OP_OPTILING(MoeReRoutingWithCapacity)
    .TilingParse<optiling::MoeReRoutingCompileInfo>(optiling::TilingParseMoeReRouting);
#endif

}  // namespace ops
