// The ONNX nodes of MoeReRouting, MoeReRoutingV2 and MoeReRoutingWithCapacity, shared by the ATC
// plugin (moe_re_routing_onnx_plugin.cc) and the ONNX Runtime custom-operator library
// (framework/onnxruntime/): one domain, one domain version, the three op types, the attribute names
// and their defaults (the same for every node; the capacity pair is MoeReRoutingWithCapacity's). The Python module
// moe_re_routing.onnxruntime repeats these values and a test checks them against this header.
// Node spec: docs/onnxruntime.md.
#ifndef MOE_RE_ROUTING_ONNX_NODE_H
#define MOE_RE_ROUTING_ONNX_NODE_H

#define MOE_RE_ROUTING_ONNX_DOMAIN "moe_re_routing"
#define MOE_RE_ROUTING_ONNX_DOMAIN_VERSION 1
#define MOE_RE_ROUTING_ONNX_OP_TYPE "MoeReRouting"
// MoeReRouting plus the optional 4th input expert_topk_weight and 5th output permute_topk_weight.
#define MOE_RE_ROUTING_ONNX_OP_TYPE_V2 "MoeReRoutingV2"
// MoeReRoutingV2's inputs and outputs on fixed per-rank slots (docs/spec.md, "Static capacity"),
// with the attributes num_max_tokens_per_rank (required) and restore.
#define MOE_RE_ROUTING_ONNX_OP_TYPE_CAPACITY "MoeReRoutingWithCapacity"
// ATC's ONNX parser names a node "<domain>::<opset version of the domain>::<op type>".
#define MOE_RE_ROUTING_ONNX_STR_(x) #x
#define MOE_RE_ROUTING_ONNX_STR(x) MOE_RE_ROUTING_ONNX_STR_(x)
#define MOE_RE_ROUTING_ONNX_ATC_PREFIX \
    MOE_RE_ROUTING_ONNX_DOMAIN "::" MOE_RE_ROUTING_ONNX_STR(MOE_RE_ROUTING_ONNX_DOMAIN_VERSION) "::"
#define MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE MOE_RE_ROUTING_ONNX_ATC_PREFIX MOE_RE_ROUTING_ONNX_OP_TYPE
#define MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE_V2 MOE_RE_ROUTING_ONNX_ATC_PREFIX MOE_RE_ROUTING_ONNX_OP_TYPE_V2
#define MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE_CAPACITY \
    MOE_RE_ROUTING_ONNX_ATC_PREFIX MOE_RE_ROUTING_ONNX_OP_TYPE_CAPACITY

#define MOE_RE_ROUTING_ONNX_ATTR_EXPERT_TOKEN_NUM_TYPE "expert_token_num_type"
#define MOE_RE_ROUTING_ONNX_ATTR_IDX_TYPE "idx_type"
#define MOE_RE_ROUTING_ONNX_DEFAULT_EXPERT_TOKEN_NUM_TYPE 1  // count
#define MOE_RE_ROUTING_ONNX_DEFAULT_IDX_TYPE 0               // gather
// MoeReRoutingWithCapacity: C, the rows of each rank's slot (required, no default), and restore
// (0 forward, 1 the inverse, called with counts.T).
#define MOE_RE_ROUTING_ONNX_ATTR_NUM_MAX_TOKENS_PER_RANK "num_max_tokens_per_rank"
#define MOE_RE_ROUTING_ONNX_ATTR_RESTORE "restore"
#define MOE_RE_ROUTING_ONNX_DEFAULT_RESTORE 0

#endif  // MOE_RE_ROUTING_ONNX_NODE_H
