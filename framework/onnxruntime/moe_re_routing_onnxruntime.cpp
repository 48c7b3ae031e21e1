// ONNX Runtime custom-operator library of MoeReRouting, MoeReRoutingV2 and MoeReRoutingWithCapacity
// (docs/onnxruntime.md).
//
// Written against the ONNX Runtime C API only: every callback returns an OrtStatus (CreateKernelV2,
// KernelComputeV2, InferOutputShapeFn) and catches everything, so no C++ exception crosses into
// ONNX Runtime. The library needs no link against libonnxruntime: the API table arrives through
// RegisterCustomOps. The nodes (domain, op types, attributes) are moe_re_routing_onnx_node.h, the
// ones the ATC plugin accepts too. The three node types are one OrtCustomOp definition parameterised
// by the framework layer's OpSpec (how many inputs and outputs, which aclnn entry point): the
// callbacks find their operator through the OrtCustomOp pointer ONNX Runtime hands back.
// MoeReRoutingWithCapacity is MoeReRoutingV2's node plus two attributes (num_max_tokens_per_rank,
// required, and restore); its outputs have the rows of tokens, like V2's.
#include <onnxruntime_c_api.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "moe_re_routing_framework.h"
#include "moe_re_routing_onnx_node.h"

namespace {

namespace fw = moe_re_routing::framework;

// The API table handed to RegisterCustomOps (ORT_API_VERSION of the headers we built with; a
// runtime of that version or newer provides it). Set before any session can call back into us.
std::atomic<const OrtApi *> g_apiTable{nullptr};

const OrtApi *Api()
{
    return g_apiTable.load(std::memory_order_acquire);
}

// ONNX element type <-> aclDataType of the operator's dtype table. Only types with an aclDataType
// counterpart are listed; the aclnn checks decide which of them each input accepts (ONNX has no
// HIFLOAT8 or FLOAT4_E1M2; ONNX Runtime 1.32 rejects FLOAT8E8M0 inputs of custom operators).
// FLOAT4E2M1 (packed two per byte, the aclTensor convention too) is newer than the oldest headers
// we build with: named by its ONNX value.
constexpr auto kOnnxFloat4E2M1 = static_cast<ONNXTensorElementDataType>(23);

struct TypePair {
    ONNXTensorElementDataType onnx;
    int32_t acl;
    const char *name;
};
constexpr TypePair kTypes[] = {
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, 0, "float"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, 1, "float16"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8, 2, "int8"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, 3, "int32"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, 4, "uint8"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16, 6, "int16"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16, 7, "uint16"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32, 8, "uint32"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, 9, "int64"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64, 10, "uint64"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, 11, "double"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL, 12, "bool"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16, 27, "bfloat16"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E5M2, 35, "float8e5m2"},
    {ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT8E4M3FN, 36, "float8e4m3fn"},
    {kOnnxFloat4E2M1, 40, "float4e2m1"},
};

int32_t AclOf(ONNXTensorElementDataType type)
{
    for (const TypePair &p : kTypes) {
        if (p.onnx == type) {
            return p.acl;
        }
    }
    return fw::kAbsent;
}

ONNXTensorElementDataType OnnxOf(int32_t acl)
{
    for (const TypePair &p : kTypes) {
        if (p.acl == acl) {
            return p.onnx;
        }
    }
    return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

// One node type: the OrtCustomOp ONNX Runtime calls back with (first member, so the callbacks get
// back to the rest), its op type and the operator it runs.
struct Op {
    OrtCustomOp ort;
    const char *type;  // MOE_RE_ROUTING_ONNX_OP_TYPE(_V2 / _CAPACITY)
    const fw::OpSpec *spec;
};

const Op &OpOf(const OrtCustomOp *op)
{
    return *reinterpret_cast<const Op *>(op);
}

std::string Prefix(const Op &op)
{
    return std::string(op.type) + ": ";
}

bool OptionalInput(size_t index)
{
    return index == static_cast<size_t>(fw::kScales) || index == static_cast<size_t>(fw::kWeights);
}

constexpr size_t kWeightsOutput = fw::kPermuteWeights - fw::kInputSlots;  // the 5th output (V2)

std::string UnmappedTypeMessage(const Op &op, size_t input, int type)
{
    std::string known;
    for (const TypePair &p : kTypes) {
        known += known.empty() ? "" : ", ";
        known += p.name;
    }
    return Prefix(op) + fw::kSlotNames[input] + " has ONNX element type " +
           std::to_string(type) + ", which has no aclDataType counterpart; expected one of the types the operator "
           "takes among: " + known;
}

OrtStatus *Error(const std::string &message)
{
    return Api()->CreateStatus(ORT_INVALID_ARGUMENT, message.c_str());
}

OrtStatus *Fail(const std::string &message)
{
    return Api()->CreateStatus(ORT_FAIL, message.c_str());
}

// Element type and dimensions of a type/shape info (not released here).
OrtStatus *ReadInfo(const OrtTensorTypeAndShapeInfo *info, ONNXTensorElementDataType *type,
                    std::vector<int64_t> *dims, std::vector<const char *> *symbols)
{
    if (OrtStatus *s = Api()->GetTensorElementType(info, type)) {
        return s;
    }
    size_t rank = 0;
    if (OrtStatus *s = Api()->GetDimensionsCount(info, &rank)) {
        return s;
    }
    dims->assign(rank, 0);
    if (OrtStatus *s = Api()->GetDimensions(info, dims->data(), rank)) {
        return s;
    }
    if (symbols != nullptr) {
        symbols->assign(rank, nullptr);
        if (OrtStatus *s = Api()->GetSymbolicDimensions(info, symbols->data(), rank)) {
            return s;
        }
    }
    return nullptr;
}

// ---- the kernel ------------------------------------------------------------------------------

struct Kernel {
    const Op *op = nullptr;
    fw::Attributes attrs;
};

// An int attribute, or its default when the node does not carry it (the C API returns a status
// for a missing attribute; the value range is checked by the operator).
int64_t IntAttribute(const OrtKernelInfo *info, const char *name, int64_t fallback)
{
    int64_t value = fallback;
    if (OrtStatus *s = Api()->KernelInfoGetAttribute_int64(info, name, &value)) {
        Api()->ReleaseStatus(s);
        return fallback;
    }
    return value;
}

// MoeReRoutingWithCapacity's attributes: num_max_tokens_per_rank must be on the node (it has no
// default: a missing one fails the session with a message naming it) and restore must be 0 or 1
// (the operator takes a bool). The value of num_max_tokens_per_rank is checked by the operator.
OrtStatus *CapacityAttributes(const Op &op, const OrtKernelInfo *info, fw::Attributes *attrs)
{
    int64_t capacity = 0;
    if (OrtStatus *s = Api()->KernelInfoGetAttribute_int64(info, MOE_RE_ROUTING_ONNX_ATTR_NUM_MAX_TOKENS_PER_RANK,
                                                           &capacity)) {
        Api()->ReleaseStatus(s);
        return Error(Prefix(op) + "the int attribute " MOE_RE_ROUTING_ONNX_ATTR_NUM_MAX_TOKENS_PER_RANK
                     " is required (the rows of each rank's slot; tokens has N * " MOE_RE_ROUTING_ONNX_ATTR_NUM_MAX_TOKENS_PER_RANK
                     " rows) but the node does not have it");
    }
    const int64_t restore = IntAttribute(info, MOE_RE_ROUTING_ONNX_ATTR_RESTORE, MOE_RE_ROUTING_ONNX_DEFAULT_RESTORE);
    if (restore != 0 && restore != 1) {
        return Error(Prefix(op) + "the attribute " MOE_RE_ROUTING_ONNX_ATTR_RESTORE " is " + std::to_string(restore) +
                     " but must be 0 (forward) or 1 (restore)");
    }
    attrs->numMaxTokensPerRank = capacity;
    attrs->restore = restore == 1;
    return nullptr;
}

OrtStatus *CreateKernel(const OrtCustomOp *op, const OrtApi *, const OrtKernelInfo *info, void **kernel) noexcept
{
    try {
        fw::Attributes attrs;
        attrs.expertTokenNumType = IntAttribute(info, MOE_RE_ROUTING_ONNX_ATTR_EXPERT_TOKEN_NUM_TYPE,
                                                MOE_RE_ROUTING_ONNX_DEFAULT_EXPERT_TOKEN_NUM_TYPE);
        attrs.idxType = IntAttribute(info, MOE_RE_ROUTING_ONNX_ATTR_IDX_TYPE, MOE_RE_ROUTING_ONNX_DEFAULT_IDX_TYPE);
        if (OpOf(op).spec->capacity) {
            if (OrtStatus *s = CapacityAttributes(OpOf(op), info, &attrs)) {
                return s;
            }
        }
        auto *k = new Kernel;
        k->op = &OpOf(op);
        k->attrs = attrs;
        *kernel = k;
        return nullptr;
    } catch (const std::exception &e) {
        return Fail(Prefix(OpOf(op)) + e.what());
    }
}

void DestroyKernel(void *kernel) noexcept
{
    delete static_cast<Kernel *>(kernel);
}

OrtStatus *ComputeImpl(const Kernel &kernel, OrtKernelContext *context)
{
    const Op &op = *kernel.op;
    const fw::OpSpec &spec = *op.spec;
    fw::Tensor tensors[fw::kSlotCount];
    size_t inputCount = 0;
    if (OrtStatus *s = Api()->KernelContext_GetInputCount(context, &inputCount)) {
        return s;
    }
    for (size_t i = 0; i < static_cast<size_t>(spec.inputCount) && i < inputCount; ++i) {
        const OrtValue *value = nullptr;
        if (OrtStatus *s = Api()->KernelContext_GetInput(context, i, &value)) {
            return s;
        }
        if (value == nullptr) {  // an absent optional input (empty name in the node)
            continue;
        }
        OrtTensorTypeAndShapeInfo *info = nullptr;
        if (OrtStatus *s = Api()->GetTensorTypeAndShape(value, &info)) {
            return s;
        }
        ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
        OrtStatus *s = ReadInfo(info, &type, &tensors[i].dims, nullptr);
        Api()->ReleaseTensorTypeAndShapeInfo(info);
        if (s != nullptr) {
            return s;
        }
        tensors[i].dtype = AclOf(type);
        if (tensors[i].dtype == fw::kAbsent) {
            return Error(UnmappedTypeMessage(op, i, type));
        }
        // The operator only reads its inputs; ORT hands them out as const OrtValue.
        if (OrtStatus *st = Api()->GetTensorMutableData(const_cast<OrtValue *>(value), &tensors[i].data)) {
            return st;
        }
    }
    if (tensors[fw::kTokens].dtype == fw::kAbsent || tensors[fw::kCounts].dtype == fw::kAbsent) {
        return Error(Prefix(op) + fw::kSlotNames[tensors[fw::kTokens].dtype == fw::kAbsent ? fw::kTokens : fw::kCounts] +
                     " is required");
    }
    fw::InferOutputs(tensors);
    size_t outputCount = 0;
    if (OrtStatus *s = Api()->KernelContext_GetOutputCount(context, &outputCount)) {
        return s;
    }
    for (size_t o = 0; o < static_cast<size_t>(spec.outputCount); ++o) {
        fw::Tensor &t = tensors[fw::OutputSlot(static_cast<int>(o))];
        if (o == kWeightsOutput) {
            if (o >= outputCount) {  // the node leaves the optional 5th output out
                t = fw::Tensor{};
                continue;
            }
            if (t.dtype == fw::kAbsent) {
                // A permute_topk_weight output without expert_topk_weight: allocated as [A] FLOAT so
                // that the operator's own pairing check reports it (and nothing is written).
                t.dtype = 0;
                t.dims.assign(1, tensors[fw::kPermuteIdx].dims.empty() ? 0 : tensors[fw::kPermuteIdx].dims[0]);
            }
        }
        OrtValue *value = nullptr;
        if (OrtStatus *s = Api()->KernelContext_GetOutput(context, o, t.dims.data(), t.dims.size(), &value)) {
            return s;
        }
        if (value == nullptr) {
            if (o == kWeightsOutput) {  // an optional output with an empty name in the node
                t = fw::Tensor{};
                continue;
            }
            return Fail(Prefix(op) + "output " + std::to_string(o) + " was not allocated");
        }
        if (OrtStatus *s = Api()->GetTensorMutableData(value, &t.data)) {
            return s;
        }
    }
    std::string message;
    if (fw::Run(spec, tensors, kernel.attrs, &message) != 0) {
        return Error(Prefix(op) + message);
    }
    return nullptr;
}

OrtStatus *Compute(void *kernel, OrtKernelContext *context) noexcept
{
    try {
        return ComputeImpl(*static_cast<const Kernel *>(kernel), context);
    } catch (const std::exception &e) {
        return Fail(Prefix(*static_cast<const Kernel *>(kernel)->op) + e.what());
    } catch (...) {
        return Fail(Prefix(*static_cast<const Kernel *>(kernel)->op) + "unknown exception");
    }
}

// ---- shape and type inference ------------------------------------------------------------------
// Outputs follow the inputs' element types and (symbolic) dimensions, so a graph needs no output
// annotations. An input type with no aclDataType is an error here (ONNX Runtime logs it, and fails
// the session only with session.strict_shape_type_inference=1); the run reports it again.

OrtStatus *InferImpl(const Op &op, OrtShapeInferContext *context)
{
    const fw::OpSpec &spec = *op.spec;
    size_t inputCount = 0;
    if (OrtStatus *s = Api()->ShapeInferContext_GetInputCount(context, &inputCount)) {
        return s;
    }
    fw::Tensor tensors[fw::kSlotCount];
    std::vector<const char *> symbols[fw::kInputSlots];
    for (size_t i = 0; i < static_cast<size_t>(spec.inputCount) && i < inputCount; ++i) {
        OrtTensorTypeAndShapeInfo *info = nullptr;  // owned by the context: not released here
        if (OrtStatus *s = Api()->ShapeInferContext_GetInputTypeShape(context, i, &info)) {
            if (OptionalInput(i)) {  // an absent optional input has no type
                Api()->ReleaseStatus(s);
                continue;
            }
            return s;
        }
        if (info == nullptr) {
            continue;
        }
        ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
        if (OrtStatus *s = ReadInfo(info, &type, &tensors[i].dims, &symbols[i])) {
            return s;
        }
        if (type == ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED) {
            continue;
        }
        tensors[i].dtype = AclOf(type);
        if (tensors[i].dtype == fw::kAbsent) {
            return Error(UnmappedTypeMessage(op, i, type));
        }
    }
    if (tensors[fw::kTokens].dtype == fw::kAbsent || tensors[fw::kCounts].dtype == fw::kAbsent) {
        return nullptr;  // nothing to infer from; the run reports what is missing
    }
    fw::InferOutputs(tensors);
    // Where each output dimension comes from, for its symbolic name: permute_tokens = tokens' dims,
    // scales out = per_token_scales' dims or tokens' dim 0, idx = tokens' dim 0, expert_token_num =
    // the counts' last dim, permute_topk_weight = expert_topk_weight's dims.
    const char *const none = "";
    auto symbolOf = [&](int input, size_t dim) -> const char * {
        const std::vector<const char *> &s = symbols[input];
        return dim < s.size() && s[dim] != nullptr ? s[dim] : none;
    };
    const size_t countsLast = tensors[fw::kCounts].dims.empty() ? 0 : tensors[fw::kCounts].dims.size() - 1;
    for (int o = 0; o < spec.outputCount; ++o) {
        const int slot = fw::OutputSlot(o);
        const fw::Tensor &t = tensors[slot];
        if (t.dtype == fw::kAbsent) {  // permute_topk_weight without expert_topk_weight
            continue;
        }
        std::vector<const char *> names(t.dims.size(), none);
        for (size_t d = 0; d < t.dims.size(); ++d) {
            if (slot == fw::kPermuteTokens) {
                names[d] = symbolOf(fw::kTokens, d);
            } else if (slot == fw::kPermuteScales && tensors[fw::kScales].dtype != fw::kAbsent) {
                names[d] = symbolOf(fw::kScales, d);
            } else if (slot == fw::kPermuteWeights) {
                names[d] = symbolOf(fw::kWeights, d);
            } else if (slot == fw::kExpertTokenNum) {
                names[d] = tensors[fw::kCounts].dims.empty() ? none : symbolOf(fw::kCounts, countsLast);
            } else {
                names[d] = tensors[fw::kTokens].dims.empty() ? none : symbolOf(fw::kTokens, 0);
            }
        }
        OrtTensorTypeAndShapeInfo *info = nullptr;
        if (OrtStatus *s = Api()->CreateTensorTypeAndShapeInfo(&info)) {
            return s;
        }
        OrtStatus *s = Api()->SetTensorElementType(info, OnnxOf(t.dtype));
        if (s == nullptr) {
            s = Api()->SetDimensions(info, t.dims.data(), t.dims.size());
        }
        if (s == nullptr) {
            s = Api()->SetSymbolicDimensions(info, names.data(), names.size());
        }
        if (s == nullptr) {
            s = Api()->ShapeInferContext_SetOutputTypeShape(context, o, info);
            if (s != nullptr && slot == fw::kPermuteWeights) {
                // The node has no 5th output although expert_topk_weight is given: nothing to
                // annotate; the run reports the missing output with the operator's message.
                Api()->ReleaseStatus(s);
                s = nullptr;
            }
        }
        Api()->ReleaseTensorTypeAndShapeInfo(info);
        if (s != nullptr) {
            return s;
        }
    }
    return nullptr;
}

OrtStatus *Infer(const OrtCustomOp *op, OrtShapeInferContext *context) noexcept
{
    try {
        return InferImpl(OpOf(op), context);
    } catch (const std::exception &e) {
        return Fail(Prefix(OpOf(op)) + e.what());
    } catch (...) {
        return Fail(Prefix(OpOf(op)) + "unknown exception");
    }
}

// ---- the schema ------------------------------------------------------------------------------

const char *OpName(const OrtCustomOp *op) noexcept
{
    return OpOf(op).type;
}

const char *ProviderType(const OrtCustomOp *) noexcept
{
    return nullptr;  // the CPU execution provider
}

ONNXTensorElementDataType InputType(const OrtCustomOp *, size_t) noexcept
{
    return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;  // any: the operator's checks decide
}

size_t InputCount(const OrtCustomOp *op) noexcept
{
    return static_cast<size_t>(OpOf(op).spec->inputCount);
}

ONNXTensorElementDataType OutputType(const OrtCustomOp *, size_t index) noexcept
{
    return index == 2 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 : ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

size_t OutputCount(const OrtCustomOp *op) noexcept
{
    return static_cast<size_t>(OpOf(op).spec->outputCount);
}

OrtCustomOpInputOutputCharacteristic InputCharacteristic(const OrtCustomOp *, size_t index) noexcept
{
    return OptionalInput(index) ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED;
}

OrtCustomOpInputOutputCharacteristic OutputCharacteristic(const OrtCustomOp *, size_t index) noexcept
{
    return index == kWeightsOutput ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED;
}

OrtMemType InputMemoryType(const OrtCustomOp *, size_t) noexcept
{
    return OrtMemTypeDefault;
}

int StartVersion(const OrtCustomOp *) noexcept
{
    return MOE_RE_ROUTING_ONNX_DOMAIN_VERSION;
}

Op MakeOp(const char *type, const fw::OpSpec &spec)
{
    Op result{};
    result.type = type;
    result.spec = &spec;
    OrtCustomOp &op = result.ort;
    op.version = ORT_API_VERSION;
    op.GetName = OpName;
    op.GetExecutionProviderType = ProviderType;
    op.GetInputType = InputType;
    op.GetInputTypeCount = InputCount;
    op.GetOutputType = OutputType;
    op.GetOutputTypeCount = OutputCount;
    op.KernelDestroy = DestroyKernel;
    op.GetInputCharacteristic = InputCharacteristic;
    op.GetOutputCharacteristic = OutputCharacteristic;
    op.GetInputMemoryType = InputMemoryType;
    op.CreateKernelV2 = CreateKernel;
    op.KernelComputeV2 = Compute;
    op.InferOutputShapeFn = Infer;
    op.GetStartVersion = StartVersion;
    return result;
}

// The ops and their domain live as long as the process: every session created from options this
// library was registered with refers to them.
const Op g_ops[] = {
    MakeOp(MOE_RE_ROUTING_ONNX_OP_TYPE, fw::kMoeReRouting),
    MakeOp(MOE_RE_ROUTING_ONNX_OP_TYPE_V2, fw::kMoeReRoutingV2),
    MakeOp(MOE_RE_ROUTING_ONNX_OP_TYPE_CAPACITY, fw::kMoeReRoutingWithCapacity),
};
OrtCustomOpDomain *g_domain = nullptr;
std::mutex g_domainMutex;

}  // namespace

extern "C" __attribute__((visibility("default"))) OrtStatus *ORT_API_CALL
RegisterCustomOps(OrtSessionOptions *options, const OrtApiBase *apiBase)
{
    const OrtApi *api = apiBase->GetApi(ORT_API_VERSION);
    if (api == nullptr) {
        // Older than the headers we were built with: report it through the oldest API table.
        const OrtApi *oldest = apiBase->GetApi(1);
        const std::string message = std::string("libmoe_re_routing_onnxruntime was built for ONNX Runtime API ") +
                                    std::to_string(ORT_API_VERSION) + " but the runtime is " +
                                    apiBase->GetVersionString();
        return oldest == nullptr ? nullptr : oldest->CreateStatus(ORT_FAIL, message.c_str());
    }
    try {
        std::lock_guard<std::mutex> lock(g_domainMutex);
        g_apiTable.store(api, std::memory_order_release);
        if (g_domain == nullptr) {
            OrtCustomOpDomain *domain = nullptr;
            if (OrtStatus *s = api->CreateCustomOpDomain(MOE_RE_ROUTING_ONNX_DOMAIN, &domain)) {
                return s;
            }
            for (const Op &op : g_ops) {
                if (OrtStatus *s = api->CustomOpDomain_Add(domain, &op.ort)) {
                    api->ReleaseCustomOpDomain(domain);
                    return s;
                }
            }
            g_domain = domain;
        }
        return api->AddCustomOpDomain(options, g_domain);
    } catch (const std::exception &e) {
        return api->CreateStatus(ORT_FAIL, e.what());
    }
}
