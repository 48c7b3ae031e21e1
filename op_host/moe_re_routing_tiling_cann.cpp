// Tiling of MoeReRouting for the CANN build: TilingContext -> OpArgs -> CheckArgs (the same
// checks as the CPU backend) -> ComputeTiling for the SoC's AIV core count and UB size -> the
// plain MoeReRoutingTilingData copied into the raw tiling buffer. Count values live in device
// memory here and are not read: the kernel stays inside [0, A) whatever they hold. Rejections are
// reported with the node name through CANN's error manager (moe_re_routing_cann_log.h), so the
// application reads them from aclGetRecentErrMsg().
#include <cstring>
#include <string>

#include "graph/utils/type_utils.h"
#include "moe_re_routing_cann.h"
#include "moe_re_routing_cann_log.h"
#include "moe_re_routing_dtypes.h"
#include "moe_re_routing_host.h"
#include "tiling/platform/platform_ascendc.h"

namespace optiling {
namespace {

using namespace moe_re_routing;

// aclDataType code of a GE type, found by name in kDtypeTable (-1 when the operator lacks it).
int32_t AclCodeOf(ge::DataType type)
{
    const std::string serial = ge::TypeUtils::DataTypeToSerialString(type);
    const std::string name = serial.rfind("DT_", 0) == 0 ? serial.substr(3) : serial;
    for (const DtypeInfo &d : kDtypeTable) {
        if (name == d.name) {
            return d.code;
        }
    }
    return -1;
}

TensorDesc Describe(const gert::StorageShape *shape, const gert::CompileTimeTensorDesc *desc)
{
    TensorDesc t;
    if (shape == nullptr || desc == nullptr) {
        return t;  // absent
    }
    const gert::Shape &dims = shape->GetStorageShape();
    t.present = true;
    t.dtype = AclCodeOf(desc->GetDataType());
    t.format = desc->GetStorageFormat() == ge::FORMAT_ND ? kFormatND : static_cast<int32_t>(desc->GetStorageFormat());
    t.dimNum = static_cast<uint32_t>(dims.GetDimNum());
    for (uint32_t i = 0; i < t.dimNum && i < kMaxDims; ++i) {
        t.dims[i] = dims.GetDim(i);
    }
    t.contiguous = true;  // AutoContiguous in the OpDef
    return t;
}

ge::graphStatus Reject(const gert::TilingContext *context, const Result &result)
{
    ReportCannError(context, "Tiling",
                    "rejected (status " + std::to_string(result.status) + "): " + result.message);
    return ge::GRAPH_FAILED;
}

}  // namespace

ge::graphStatus TilingMoeReRouting(gert::TilingContext *context)
{
    if (context == nullptr) {
        return ge::GRAPH_FAILED;
    }
    OpArgs args;
    args.tokens = Describe(context->GetInputShape(kInTokens), context->GetInputDesc(kInTokens));
    args.expertTokenNumPerRank =
        Describe(context->GetInputShape(kInExpertTokenNumPerRank), context->GetInputDesc(kInExpertTokenNumPerRank));
    args.perTokenScales =
        Describe(context->GetOptionalInputShape(kInPerTokenScales), context->GetOptionalInputDesc(kInPerTokenScales));
    args.permuteTokens = Describe(context->GetOutputShape(kOutPermuteTokens), context->GetOutputDesc(kOutPermuteTokens));
    args.permutePerTokenScales =
        Describe(context->GetOutputShape(kOutPermutePerTokenScales), context->GetOutputDesc(kOutPermutePerTokenScales));
    args.permuteTokenIdx =
        Describe(context->GetOutputShape(kOutPermuteTokenIdx), context->GetOutputDesc(kOutPermuteTokenIdx));
    args.expertTokenNum =
        Describe(context->GetOutputShape(kOutExpertTokenNum), context->GetOutputDesc(kOutExpertTokenNum));
    const gert::RuntimeAttrs *attrs = context->GetAttrs();
    if (attrs != nullptr) {
        const int64_t *type = attrs->GetAttrPointer<int64_t>(kAttrExpertTokenNumType);
        const int64_t *idx = attrs->GetAttrPointer<int64_t>(kAttrIdxType);
        args.expertTokenNumType = type != nullptr ? *type : args.expertTokenNumType;
        args.idxType = idx != nullptr ? *idx : args.idxType;
    }

    Problem problem;
    Result result = CheckArgs(args, &problem);
    if (!result.ok()) {
        return Reject(context, result);
    }

    const auto ascendcPlatform = platform_ascendc::PlatformAscendC(context->GetPlatformInfo());
    uint64_t ubBytes = 0;
    ascendcPlatform.GetCoreMemSize(platform_ascendc::CoreMemType::UB, ubBytes);
    Platform platform;
    platform.aivCoreNum = ascendcPlatform.GetCoreNumAiv();
    // What the SoC reports less the Ascend C reserved area (the kernel keeps it, see Platform).
    platform.ubBytes = ubBytes > kAscendCReservedUbBytes ? static_cast<uint32_t>(ubBytes - kAscendCReservedUbBytes) : 0;

    MoeReRoutingTilingData tiling{};
    result = ComputeTiling(problem, platform, &tiling);
    if (!result.ok()) {
        return Reject(context, result);
    }

    gert::TilingData *raw = context->GetRawTilingData();
    if (raw == nullptr || raw->GetCapacity() < sizeof(tiling)) {
        return Reject(context, Result{kErrTiling, "the raw tiling buffer is smaller than MoeReRoutingTilingData"});
    }
    std::memcpy(raw->GetData(), &tiling, sizeof(tiling));
    raw->SetDataSize(sizeof(tiling));
    context->SetBlockDim(tiling.usedCoreNum);
    size_t *workspaces = context->GetWorkspaceSizes(1);
    if (workspaces == nullptr) {
        return Reject(context, Result{kErrTiling, "the framework passed no workspace size array"});
    }
    workspaces[0] = ascendcPlatform.GetLibApiWorkSpaceSize();  // the kernel itself needs none
    return ge::GRAPH_SUCCESS;
}

}  // namespace optiling
