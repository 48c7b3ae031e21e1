// OpDef of MoeReRouting for the CANN build. The lists are read column-wise: column i of every input
// and output is one supported combination, and each column is one kernel binary per SoC. They are
// written out for what this kernel is built and tested for on Atlas A2 (ascend910b) and A3
// (ascend910_93): tokens FLOAT16, BF16, INT8 (the official operator's) and FLOAT [ext], each with
// INT32 or INT64 counts; per_token_scales FLOAT. The other token types of kDtypeTable (FP8, HiF8,
// FP4, 16/32-bit integers) run on the CPU backend only; docs/cann_build.md lists the 8 columns.
#include <vector>

#include "moe_re_routing_cann.h"

namespace ops {

class MoeReRouting : public OpDef {
public:
    explicit MoeReRouting(const char *name) : OpDef(name)
    {
        const std::vector<ge::DataType> tokens = {ge::DT_FLOAT16, ge::DT_BF16,  ge::DT_INT8,  ge::DT_FLOAT,
                                                  ge::DT_FLOAT16, ge::DT_BF16,  ge::DT_INT8,  ge::DT_FLOAT};
        const std::vector<ge::DataType> counts = {ge::DT_INT32,   ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
                                                  ge::DT_INT64,   ge::DT_INT64, ge::DT_INT64, ge::DT_INT64};
        const std::vector<ge::DataType> scales = {ge::DT_FLOAT, ge::DT_FLOAT, ge::DT_FLOAT, ge::DT_FLOAT,
                                                  ge::DT_FLOAT, ge::DT_FLOAT, ge::DT_FLOAT, ge::DT_FLOAT};
        const std::vector<ge::DataType> index = {ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32,
                                                 ge::DT_INT32, ge::DT_INT32, ge::DT_INT32, ge::DT_INT32};
        const std::vector<ge::Format> nd = {ge::FORMAT_ND, ge::FORMAT_ND, ge::FORMAT_ND, ge::FORMAT_ND,
                                            ge::FORMAT_ND, ge::FORMAT_ND, ge::FORMAT_ND, ge::FORMAT_ND};

        this->Input("tokens").ParamType(REQUIRED).DataType(tokens).Format(nd).UnknownShapeFormat(nd).AutoContiguous();
        this->Input("expert_token_num_per_rank").ParamType(REQUIRED).DataType(counts).Format(nd)
            .UnknownShapeFormat(nd).AutoContiguous();
        this->Input("per_token_scales").ParamType(OPTIONAL).DataType(scales).Format(nd).UnknownShapeFormat(nd)
            .AutoContiguous();
        this->Output("permute_tokens").ParamType(REQUIRED).DataType(tokens).Format(nd).UnknownShapeFormat(nd);
        this->Output("permute_per_token_scales").ParamType(REQUIRED).DataType(scales).Format(nd)
            .UnknownShapeFormat(nd);
        this->Output("permute_token_idx").ParamType(REQUIRED).DataType(index).Format(nd).UnknownShapeFormat(nd);
        this->Output("expert_token_num").ParamType(REQUIRED).DataType(counts).Format(nd).UnknownShapeFormat(nd);
        this->Attr("expert_token_num_type").AttrType(OPTIONAL).Int(1);  // 1 count, 0 cumsum [ext]
        this->Attr("idx_type").AttrType(OPTIONAL).Int(0);               // 0 gather, 1 scatter [ext]

        this->SetInferShape(ge::InferShapeMoeReRouting).SetInferDataType(ge::InferDataTypeMoeReRouting);
        this->AICore().SetTiling(optiling::TilingMoeReRouting);

        // One configuration per SoC, both with the lists above; the kernel file is
        // op_kernel/moe_re_routing.cpp. No Ascend 950 configuration: not built or tested here.
        OpAICoreConfig a2a3;
        a2a3.DynamicCompileStaticFlag(true)
            .DynamicRankSupportFlag(true)
            .DynamicShapeSupportFlag(true)
            .ExtendCfgInfo("opFile.value", "moe_re_routing");
        this->AICore().AddConfig("ascend910b", a2a3);
        this->AICore().AddConfig("ascend910_93", a2a3);
    }
};

OP_ADD(MoeReRouting);

}  // namespace ops
