// Tiling of MoeReRouting for the CANN build: TilingContext -> OpArgs -> CheckArgs (the same
// checks as the CPU backend) -> ComputeTiling for the SoC's AIV core count and UB size -> the
// plain MoeReRoutingTilingData copied into the raw tiling buffer. The SoC's numbers come from the
// context's platform info or, when it carries none, from the compile info TilingParse read. Count
// values live in device memory here and are not read: the kernel stays inside [0, A) whatever they
// hold. The count dtype is not a tiling field: each kernel binary is built for one OpDef column.
// Rejections (including a platform with no vector cores or no usable UB) are reported with the node
// name through CANN's error manager (moe_re_routing_cann_log.h), so the application reads them
// from aclGetRecentErrMsg().
#include <algorithm>
#include <cstring>
#include <limits>
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

// The SoC numbers of `info`.
MoeReRoutingCompileInfo ReadPlatform(fe::PlatFormInfos *info)
{
    const auto ascendcPlatform = platform_ascendc::PlatformAscendC(info);
    MoeReRoutingCompileInfo read;
    read.aivCoreNum = ascendcPlatform.GetCoreNumAiv();
    ascendcPlatform.GetCoreMemSize(platform_ascendc::CoreMemType::UB, read.ubBytes);
    read.libApiWorkspaceBytes = ascendcPlatform.GetLibApiWorkSpaceSize();
    return read;
}

// Why `soc` cannot run the kernel, or "" when it can: no vector cores, or no UB left after what
// Ascend C reserves.
std::string PlatformProblem(const MoeReRoutingCompileInfo &soc)
{
    if (soc.aivCoreNum == 0) {
        return "the platform reports 0 vector (AIV) cores";
    }
    if (soc.ubBytes <= kAscendCReservedUbBytes) {
        return "the platform reports " + std::to_string(soc.ubBytes) + " B of UB, nothing after the " +
               std::to_string(kAscendCReservedUbBytes) + " B Ascend C reserves";
    }
    return "";
}

}  // namespace

ge::graphStatus TilingParseMoeReRouting(gert::TilingParseContext *context)
{
    if (context == nullptr) {
        return ge::GRAPH_FAILED;
    }
    MoeReRoutingCompileInfo *compileInfo = context->GetCompiledInfo<MoeReRoutingCompileInfo>();
    fe::PlatFormInfos *info = context->GetPlatformInfo();
    if (compileInfo == nullptr || info == nullptr) {
        ReportCannError(context, "TilingParse",
                        compileInfo == nullptr ? "the framework passed no compile-info object"
                                               : "the framework passed no platform info");
        return ge::GRAPH_FAILED;
    }
    *compileInfo = ReadPlatform(info);
    const std::string problem = PlatformProblem(*compileInfo);
    if (!problem.empty()) {
        ReportCannError(context, "TilingParse", problem);
        return ge::GRAPH_FAILED;
    }
    return ge::GRAPH_SUCCESS;
}

namespace {

using OpKind = moe_re_routing::CannOp;

// The attributes of `kind` into `args`. WithCapacity's num_max_tokens_per_rank is required: without
// it the context is broken, and C stays 0, which CheckArgs rejects.
void ReadAttrs(const gert::RuntimeAttrs *attrs, OpKind kind, OpArgs *args)
{
    args->withCapacity = kind == OpKind::kWithCapacity;
    if (attrs == nullptr) {
        return;
    }
    const bool capacity = kind == OpKind::kWithCapacity;
    const size_t typeAt = capacity ? size_t{kCapAttrExpertTokenNumType} : size_t{kAttrExpertTokenNumType};
    const size_t idxAt = capacity ? size_t{kCapAttrIdxType} : size_t{kAttrIdxType};
    const int64_t *type = attrs->GetAttrPointer<int64_t>(typeAt);
    const int64_t *idx = attrs->GetAttrPointer<int64_t>(idxAt);
    args->expertTokenNumType = type != nullptr ? *type : args->expertTokenNumType;
    args->idxType = idx != nullptr ? *idx : args->idxType;
    if (capacity) {
        const int64_t *c = attrs->GetAttrPointer<int64_t>(kCapAttrNumMaxTokensPerRank);
        const bool *restore = attrs->GetAttrPointer<bool>(kCapAttrRestore);
        args->numMaxTokensPerRank = c != nullptr ? *c : 0;
        args->restore = restore != nullptr && *restore;
    }
}

// The tiling of `kind` (V2 and WithCapacity with their optional weight pair). It depends on shapes
// and attributes only, never on count values (they live in device memory).
ge::graphStatus Tiling(gert::TilingContext *context, OpKind kind)
{
    const bool v2 = kind != OpKind::kV1;
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
    if (v2) {
        args.expertTopkWeight = Describe(context->GetOptionalInputShape(kInExpertTopkWeight),
                                         context->GetOptionalInputDesc(kInExpertTopkWeight));
        if (args.expertTopkWeight.present) {  // the output goes with the input (both or neither)
            args.permuteTopkWeight = Describe(context->GetOutputShape(kOutPermuteTopkWeight),
                                              context->GetOutputDesc(kOutPermuteTopkWeight));
        }
    }
    ReadAttrs(context->GetAttrs(), kind, &args);

    Problem problem;
    Result result = CheckArgs(args, &problem);
    if (!result.ok()) {
        return Reject(context, result);
    }

    // The SoC's numbers: from this context's platform info, else from what TilingParse read.
    MoeReRoutingCompileInfo soc;
    if (fe::PlatFormInfos *info = context->GetPlatformInfo()) {
        soc = ReadPlatform(info);
    } else if (const auto *compiled = context->GetCompileInfo<MoeReRoutingCompileInfo>()) {
        soc = *compiled;
    } else {
        return Reject(context, Result{kErrTiling, "the context carries neither platform info nor compile info"});
    }
    const std::string platformProblem = PlatformProblem(soc);
    if (!platformProblem.empty()) {
        return Reject(context, Result{kErrTiling, platformProblem});
    }
    Platform platform;
    platform.aivCoreNum = soc.aivCoreNum;
    // What the SoC reports less the Ascend C reserved area (the kernel keeps it, see Platform),
    // capped to the field's range rather than wrapped.
    platform.ubBytes = static_cast<uint32_t>(
        std::min<uint64_t>(soc.ubBytes - kAscendCReservedUbBytes, std::numeric_limits<uint32_t>::max()));

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
    workspaces[0] = soc.libApiWorkspaceBytes;  // the kernel itself needs none
    return ge::GRAPH_SUCCESS;
}

}  // namespace

ge::graphStatus TilingMoeReRouting(gert::TilingContext *context) { return Tiling(context, OpKind::kV1); }
ge::graphStatus TilingMoeReRoutingV2(gert::TilingContext *context) { return Tiling(context, OpKind::kV2); }
ge::graphStatus TilingMoeReRoutingWithCapacity(gert::TilingContext *context)
{
    return Tiling(context, OpKind::kWithCapacity);
}

}  // namespace optiling
