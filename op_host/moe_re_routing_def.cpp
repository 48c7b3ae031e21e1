// OpDef of MoeReRouting for the CANN build. The dtype lists are not typed here: they are derived
// from kDtypeTable (moe_re_routing_dtypes.h), keeping every type GE can express. OpDef lists are
// read column-wise (position i of every input and output is one supported combination), so the
// lists are the product tokens dtype x counts dtype x scales dtype.
#include <string>
#include <vector>

#include "graph/utils/type_utils.h"
#include "moe_re_routing_cann.h"
#include "moe_re_routing_dtypes.h"

namespace ops {
namespace {

struct DtypeLists {
    std::vector<ge::DataType> tokens, counts, scales, outScales, idx;
    std::vector<ge::Format> formats;
};

std::vector<ge::DataType> GeTypesWithRole(uint32_t role)
{
    std::vector<ge::DataType> types;
    for (const moe_re_routing::DtypeInfo &d : moe_re_routing::kDtypeTable) {
        if ((d.roles & role) == 0) {
            continue;
        }
        const ge::DataType ge = ge::TypeUtils::SerialStringToDataType(std::string("DT_") + d.name);
        if (ge != ge::DT_UNDEFINED) {  // types this CANN version cannot express are left out
            types.push_back(ge);
        }
    }
    return types;
}

DtypeLists BuildDtypeLists()
{
    DtypeLists lists;
    for (ge::DataType token : GeTypesWithRole(moe_re_routing::kRoleTokens)) {
        for (ge::DataType count : GeTypesWithRole(moe_re_routing::kRoleCounts)) {
            for (ge::DataType scale : GeTypesWithRole(moe_re_routing::kRoleScales)) {
                lists.tokens.push_back(token);
                lists.counts.push_back(count);
                lists.scales.push_back(scale);
                lists.outScales.push_back(scale);
                lists.idx.push_back(ge::DT_INT32);
                lists.formats.push_back(ge::FORMAT_ND);
            }
        }
    }
    return lists;
}

}  // namespace

class MoeReRouting : public OpDef {
public:
    explicit MoeReRouting(const char *name) : OpDef(name)
    {
        const DtypeLists l = BuildDtypeLists();
        this->Input("tokens").ParamType(REQUIRED).DataType(l.tokens).Format(l.formats).UnknownShapeFormat(l.formats)
            .AutoContiguous();
        this->Input("expert_token_num_per_rank").ParamType(REQUIRED).DataType(l.counts).Format(l.formats)
            .UnknownShapeFormat(l.formats).AutoContiguous();
        this->Input("per_token_scales").ParamType(OPTIONAL).DataType(l.scales).Format(l.formats)
            .UnknownShapeFormat(l.formats).AutoContiguous();
        this->Output("permute_tokens").ParamType(REQUIRED).DataType(l.tokens).Format(l.formats)
            .UnknownShapeFormat(l.formats);
        this->Output("permute_per_token_scales").ParamType(REQUIRED).DataType(l.outScales).Format(l.formats)
            .UnknownShapeFormat(l.formats);
        this->Output("permute_token_idx").ParamType(REQUIRED).DataType(l.idx).Format(l.formats)
            .UnknownShapeFormat(l.formats);
        this->Output("expert_token_num").ParamType(REQUIRED).DataType(l.counts).Format(l.formats)
            .UnknownShapeFormat(l.formats);
        this->Attr("expert_token_num_type").AttrType(OPTIONAL).Int(1);  // 1 count, 0 cumsum [ext]
        this->Attr("idx_type").AttrType(OPTIONAL).Int(0);               // 0 gather, 1 scatter [ext]

        this->SetInferShape(ge::InferShapeMoeReRouting).SetInferDataType(ge::InferDataTypeMoeReRouting);
        this->AICore().SetTiling(optiling::TilingMoeReRouting);
        OpAICoreConfig config;
        config.DynamicCompileStaticFlag(true).DynamicRankSupportFlag(true).DynamicShapeSupportFlag(true);
        this->AICore().AddConfig("ascend910b", config);
        this->AICore().AddConfig("ascend910_93", config);
    }
};

OP_ADD(MoeReRouting);

}  // namespace ops
