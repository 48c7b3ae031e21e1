// ONNX adapter for ATC: maps a MoeReRouting node of an ONNX model to the CANN operator
// MoeReRouting with the attributes expert_token_num_type and idx_type. The node is the one ONNX
// Runtime runs (custom domain, moe_re_routing_onnx_node.h; docs/onnxruntime.md); a MoeReRouting
// node in the default domain (opsets 11/13/17) is accepted too. Inputs and outputs keep
// their order (tokens, expert_token_num_per_rank, per_token_scales; permute_tokens,
// permute_per_token_scales, permute_token_idx, expert_token_num). A MoeReRoutingV2 node of the
// custom domain maps to the CANN operator MoeReRoutingV2 the same way, with the optional
// expert_topk_weight fourth and permute_topk_weight fifth. A MoeReRoutingWithCapacity node of the
// custom domain maps to the CANN operator MoeReRoutingWithCapacity: V2's inputs and outputs, plus
// the attributes num_max_tokens_per_rank (required: a node without it fails the conversion) and
// restore (int 0/1 in ONNX, the operator's bool).
//
// ATC hands the ONNX node's attributes to ParseParamsByOperatorFn as the JSON string attribute
// "attribute" of the source operator ({"attribute": [{"name": ..., "type": ..., "i": ...}]}).
#include <exception>
#include <string>

#include "graph/operator.h"
#include "moe_re_routing_onnx_node.h"
#include "nlohmann/json.hpp"
#include "register/register.h"

namespace domi {
namespace {

constexpr int kOnnxAttributeInt = 2;               // onnx.AttributeProto.INT
constexpr int64_t kDefaultExpertTokenNumType = MOE_RE_ROUTING_ONNX_DEFAULT_EXPERT_TOKEN_NUM_TYPE;  // count
constexpr int64_t kDefaultIdxType = MOE_RE_ROUTING_ONNX_DEFAULT_IDX_TYPE;                         // gather

// Protobuf JSON writes int64 as a string; accept both spellings.
int64_t IntOf(const nlohmann::json &value)
{
    return value.is_string() ? std::stoll(value.get<std::string>()) : value.get<int64_t>();
}

// AttributeProto.type as a number (2) or as its enum name ("INT").
bool IsIntAttribute(const nlohmann::json &attr)
{
    const auto type = attr.find("type");
    if (type == attr.end()) {
        return false;
    }
    return type->is_string() ? type->get<std::string>() == "INT"
                             : type->is_number_integer() && type->get<int>() == kOnnxAttributeInt;
}

// The node's int attributes this plugin knows; `has*` says whether the node carries it.
struct NodeAttributes {
    int64_t expertTokenNumType = kDefaultExpertTokenNumType;
    int64_t idxType = kDefaultIdxType;
    int64_t numMaxTokensPerRank = 0;
    bool hasNumMaxTokensPerRank = false;
    int64_t restore = MOE_RE_ROUTING_ONNX_DEFAULT_RESTORE;
};

Status ParseAttributes(const ge::Operator &onnxOp, NodeAttributes *out)
{
    ge::AscendString attributes;
    if (onnxOp.GetAttr("attribute", attributes) == ge::GRAPH_SUCCESS) {
        const nlohmann::json parsed = nlohmann::json::parse(attributes.GetString(), nullptr, false);
        if (parsed.is_discarded() || !parsed.contains("attribute")) {
            return FAILED;
        }
        // A malformed attribute (wrong JSON type, unparsable integer) fails the conversion with
        // FAILED instead of letting an exception escape into ATC.
        try {
            for (const nlohmann::json &attr : parsed["attribute"]) {
                if (!attr.is_object() || !attr.contains("name") || !attr.contains("i") || !IsIntAttribute(attr)) {
                    continue;
                }
                const std::string name = attr["name"].get<std::string>();
                if (name == MOE_RE_ROUTING_ONNX_ATTR_EXPERT_TOKEN_NUM_TYPE) {
                    out->expertTokenNumType = IntOf(attr["i"]);
                } else if (name == MOE_RE_ROUTING_ONNX_ATTR_IDX_TYPE) {
                    out->idxType = IntOf(attr["i"]);
                } else if (name == MOE_RE_ROUTING_ONNX_ATTR_NUM_MAX_TOKENS_PER_RANK) {
                    out->numMaxTokensPerRank = IntOf(attr["i"]);
                    out->hasNumMaxTokensPerRank = true;
                } else if (name == MOE_RE_ROUTING_ONNX_ATTR_RESTORE) {
                    out->restore = IntOf(attr["i"]);
                }
            }
        } catch (const std::exception &) {
            return FAILED;
        }
    }
    return SUCCESS;
}

Status ParseMoeReRouting(const ge::Operator &onnxOp, ge::Operator &op)
{
    NodeAttributes attrs;
    if (ParseAttributes(onnxOp, &attrs) != SUCCESS) {
        return FAILED;
    }
    // Range checks happen once, in the operator's tiling (CheckArgs), for every entry point alike.
    op.SetAttr("expert_token_num_type", attrs.expertTokenNumType);
    op.SetAttr("idx_type", attrs.idxType);
    return SUCCESS;
}

// MoeReRoutingWithCapacity: the OpDef's attributes num_max_tokens_per_rank (int, no default),
// expert_token_num_type, idx_type and restore (bool). The value of num_max_tokens_per_rank is
// checked by the operator; restore must be 0 or 1.
Status ParseMoeReRoutingWithCapacity(const ge::Operator &onnxOp, ge::Operator &op)
{
    NodeAttributes attrs;
    if (ParseAttributes(onnxOp, &attrs) != SUCCESS || !attrs.hasNumMaxTokensPerRank ||
        (attrs.restore != 0 && attrs.restore != 1)) {
        return FAILED;
    }
    op.SetAttr("num_max_tokens_per_rank", attrs.numMaxTokensPerRank);
    op.SetAttr("expert_token_num_type", attrs.expertTokenNumType);
    op.SetAttr("idx_type", attrs.idxType);
    op.SetAttr("restore", attrs.restore == 1);
    return SUCCESS;
}

}  // namespace

REGISTER_CUSTOM_OP("MoeReRouting")
    .FrameworkType(ONNX)
    .OriginOpType({ge::AscendString(MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE), ge::AscendString("ai.onnx::11::MoeReRouting"),
                   ge::AscendString("ai.onnx::13::MoeReRouting"), ge::AscendString("ai.onnx::17::MoeReRouting")})
    .ParseParamsByOperatorFn(ParseMoeReRouting)
    .ImplyType(ImplyType::TVM);

// MoeReRoutingV2: the same attributes, parsed the same way; the optional 4th input
// (expert_topk_weight) and 5th output (permute_topk_weight) keep their positions.
REGISTER_CUSTOM_OP("MoeReRoutingV2")
    .FrameworkType(ONNX)
    .OriginOpType({ge::AscendString(MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE_V2)})
    .ParseParamsByOperatorFn(ParseMoeReRouting)
    .ImplyType(ImplyType::TVM);

// MoeReRoutingWithCapacity: V2's inputs and outputs in their positions, four attributes.
REGISTER_CUSTOM_OP("MoeReRoutingWithCapacity")
    .FrameworkType(ONNX)
    .OriginOpType({ge::AscendString(MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE_CAPACITY)})
    .ParseParamsByOperatorFn(ParseMoeReRoutingWithCapacity)
    .ImplyType(ImplyType::TVM);

}  // namespace domi
