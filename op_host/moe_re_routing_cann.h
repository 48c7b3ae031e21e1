// CANN glue of MoeReRouting (compiled only with the CANN toolkit): the infer-shape, infer-dtype and
// tiling functions the OpDef registers. Each one translates CANN contexts into the pure op_host
// structs and calls the shared functions of moe_re_routing_host.h.
#ifndef MOE_RE_ROUTING_CANN_H
#define MOE_RE_ROUTING_CANN_H

#include <cstdint>

#include "exe_graph/runtime/tiling_parse_context.h"
#include "register/op_def_registry.h"

namespace ge {
ge::graphStatus InferShapeMoeReRouting(gert::InferShapeContext *context);
ge::graphStatus InferDataTypeMoeReRouting(gert::InferDataTypeContext *context);
// MoeReRoutingV2: the same with the weight pair (input 3, output 4).
ge::graphStatus InferShapeMoeReRoutingV2(gert::InferShapeContext *context);
ge::graphStatus InferDataTypeMoeReRoutingV2(gert::InferDataTypeContext *context);
}  // namespace ge

namespace optiling {
ge::graphStatus TilingMoeReRouting(gert::TilingContext *context);
ge::graphStatus TilingMoeReRoutingV2(gert::TilingContext *context);
// MoeReRoutingWithCapacity: V2's tensors, its capacity attributes read into OpArgs (withCapacity).
ge::graphStatus TilingMoeReRoutingWithCapacity(gert::TilingContext *context);

// What the tiling needs of the SoC, read from the platform info once per compiled node by
// TilingParseMoeReRouting (registered in moe_re_routing_def.cpp). TilingMoeReRouting uses it when
// its own context carries no platform info.
struct MoeReRoutingCompileInfo {
    uint32_t aivCoreNum = 0;           // GetCoreNumAiv()
    uint64_t ubBytes = 0;              // GetCoreMemSize(UB): what the SoC reports
    uint64_t libApiWorkspaceBytes = 0;  // GetLibApiWorkSpaceSize()
};
ge::graphStatus TilingParseMoeReRouting(gert::TilingParseContext *context);
}  // namespace optiling

namespace moe_re_routing {
// Input and output indices, in OpDef order (MoeReRoutingV2 adds the weight pair after them).
enum CannIndex : size_t {
    kInTokens = 0,
    kInExpertTokenNumPerRank = 1,
    kInPerTokenScales = 2,
    kInExpertTopkWeight = 3,     // MoeReRoutingV2
    kOutPermuteTokens = 0,
    kOutPermutePerTokenScales = 1,
    kOutPermuteTokenIdx = 2,
    kOutExpertTokenNum = 3,
    kOutPermuteTopkWeight = 4,   // MoeReRoutingV2
    kAttrExpertTokenNumType = 0,
    kAttrIdxType = 1,
};
// Which of the three operators an OpDef or a tiling is for: the tensors (V2 and WithCapacity have
// the weight pair) and the attributes differ.
enum class CannOp { kV1, kV2, kWithCapacity };

// MoeReRoutingWithCapacity's attributes, in OpDef order.
enum CannCapacityAttrIndex : size_t {
    kCapAttrNumMaxTokensPerRank = 0,
    kCapAttrExpertTokenNumType = 1,
    kCapAttrIdxType = 2,
    kCapAttrRestore = 3,
};
}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_CANN_H
