// MindSpore AOT custom operators of MoeReRouting, MoeReRoutingV2 and MoeReRoutingWithCapacity on the
// CPU (docs/mindspore.md):
//   ops.Custom("<this library>:MoeReRouting", out_shape=None, out_dtype=..., func_type="aot", reg_info=...)
//   ops.Custom("<this library>:MoeReRoutingV2", ...)   the same with expert_topk_weight (4th input)
//                                                       and permute_topk_weight (5th output)
//   ops.Custom("<this library>:MoeReRoutingWithCapacity", ...)   V2's tensors on fixed per-rank slots,
//                                                       with the attributes num_max_tokens_per_rank
//                                                       and restore (0/1)
// MindSpore calls, by name prefix (MoeReRoutingV2Init, MoeReRoutingWithCapacityInit, ... likewise):
//   MoeReRoutingInit        once per kernel: reads the attributes (set with add_prim_attr) into the
//                           kernel data of the AotExtra object,
//   MoeReRoutingInferShape  the four output shapes (C++ shape inference, multi-output form;
//                           reads the attributes has_per_token_scales, has_expert_topk_weight),
//   MoeReRouting            the run: params = 3 inputs (an absent per_token_scales is a null pointer
//                           with dtype "none") then the 4 outputs, all host memory.
// The attribute transpose_counts = 1 makes a primitive run on the transposed counts: the restore,
// which moe_re_routing.mindspore's bprop calls (the gradient is the restore of the upstream
// gradients), without any other MindSpore operator.
//
// MindSpore's CPU kernels use the pre-C++11 std::string ABI, and AotExtra passes std::string by
// value: this file is compiled with -D_GLIBCXX_USE_CXX11_ABI=0 (framework/mindspore/CMakeLists.txt).
#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "moe_re_routing_framework.h"

namespace mindspore {

// The layout MindSpore's AotKernelData / AotExtra have (virtual functions in declaration order,
// then the members); MindSpore ships no self-contained header for them. Only the calls below are
// made through it.
class AotKernelData {
public:
    AotKernelData() = default;
    virtual ~AotKernelData() = default;
};

class AotExtra {
public:
    AotExtra() = default;
    virtual ~AotExtra() = default;
    virtual bool HasAttr(std::string name) = 0;
    virtual bool GetAttrBool(std::string name) = 0;
    virtual int64_t GetAttrInt(std::string name) = 0;
    virtual float GetAttrFloat(std::string name) = 0;
    virtual std::string GetAttrStr(std::string name) = 0;
    virtual std::vector<int64_t> GetAttrIntVec(std::string name) = 0;
    virtual std::vector<float> GetAttrFloatVec(std::string name) = 0;
    virtual std::vector<std::vector<int64_t>> GetAttrInt2DVec(std::string name) = 0;
    virtual std::vector<std::vector<float>> GetAttrFloat2DVec(std::string name) = 0;

    void SetKernelData(AotKernelData *data) { kernelData_ = data; }
    const AotKernelData *KernelData() const { return kernelData_; }

private:
    std::vector<size_t> workspace_;
    AotKernelData *kernelData_ = nullptr;
};

}  // namespace mindspore

namespace {

namespace fw = moe_re_routing::framework;

constexpr const char *kAttrExpertTokenNumType = "expert_token_num_type";
constexpr const char *kAttrIdxType = "idx_type";
constexpr const char *kAttrHasScales = "has_per_token_scales";  // set by moe_re_routing.mindspore
constexpr const char *kAttrHasWeights = "has_expert_topk_weight";  // likewise (MoeReRoutingV2)
// 1: run on the transposed counts ([E, N] from the [N, E] given): the restore, which the gradient
// is (docs/spec.md, "The restore"). Done here so that the bprop needs no MindSpore operator.
constexpr const char *kAttrTransposeCounts = "transpose_counts";
// MoeReRoutingWithCapacity only: C (no default: 0, which the operator rejects naming it) and restore.
constexpr const char *kAttrNumMaxTokensPerRank = "num_max_tokens_per_rank";
constexpr const char *kAttrRestore = "restore";
constexpr int64_t kDefaultExpertTokenNumType = 1;  // count
constexpr int64_t kDefaultIdxType = 0;             // gather

struct Attributes : mindspore::AotKernelData {
    fw::Attributes op;  // expert_token_num_type, idx_type (and the capacity pair)
    bool transposeCounts = false;
    bool hasWeights = false;  // has_expert_topk_weight (MoeReRoutingWithCapacity: see PairLeftOut)
};

constexpr int32_t kAclInt32 = 3;
constexpr int32_t kAclInt64 = 9;

// counts.T, contiguous, into `storage`; `t` then describes it. Counts of another dtype or rank are
// left as they are (the operator rejects them with its own message).
void TransposeCounts(fw::Tensor *t, std::vector<unsigned char> *storage)
{
    const size_t width = t->dtype == kAclInt32 ? 4 : t->dtype == kAclInt64 ? 8 : 0;
    if (width == 0 || t->dims.size() != 2 || t->dims[0] < 0 || t->dims[1] < 0) {
        return;
    }
    const auto rows = static_cast<size_t>(t->dims[0]);
    const auto cols = static_cast<size_t>(t->dims[1]);
    storage->assign(rows * cols * width, 0);
    const auto *src = static_cast<const unsigned char *>(t->data);
    for (size_t r = 0; r < rows; ++r) {
        for (size_t c = 0; c < cols; ++c) {
            std::memcpy(storage->data() + (c * rows + r) * width, src + (r * cols + c) * width, width);
        }
    }
    t->dims = {t->dims[1], t->dims[0]};
    t->data = storage->data();
}

int64_t IntAttr(mindspore::AotExtra *extra, const char *name, int64_t fallback)
{
    return extra != nullptr && extra->HasAttr(name) ? extra->GetAttrInt(name) : fallback;
}

// MindSpore dtype strings -> aclDataType (the operator's checks decide which each input takes).
struct TypePair {
    const char *name;
    int32_t acl;
};
constexpr TypePair kTypes[] = {
    {"float32", 0},  {"float", 0},        {"float16", 1},       {"int8", 2},         {"int32", 3},
    {"uint8", 4},    {"int16", 6},        {"uint16", 7},        {"uint32", 8},       {"int64", 9},
    {"uint64", 10},  {"float64", 11},     {"double", 11},       {"bool", 12},        {"bfloat16", 27},
    {"hifloat8", 34}, {"float8e5m2", 35}, {"float8e4m3fn", 36}, {"float8_e5m2", 35}, {"float8_e4m3fn", 36},
};

int32_t AclOf(const char *name)
{
    for (const TypePair &p : kTypes) {
        if (std::strcmp(p.name, name) == 0) {
            return p.acl;
        }
    }
    return fw::kAbsent;
}

bool Absent(void *data, int ndim, const char *dtype)
{
    return data == nullptr && ndim == 0 && (dtype == nullptr || std::strcmp(dtype, "none") == 0);
}

// The framework slot of MindSpore's parameter i (`inputs` inputs, then the outputs).
int SlotOf(int inputs, int i)
{
    return i < inputs ? i : fw::OutputSlot(i - inputs);
}

// MoeReRoutingWithCapacity without the weight pair: moe_re_routing.mindspore registers it with V1's
// 3 inputs and 4 outputs (has_expert_topk_weight = 0), as MindSpore has no dtype for an absent output.
bool PairLeftOut(const fw::OpSpec &op, bool hasWeights)
{
    return op.capacity && !hasWeights;
}

// The run; throws std::runtime_error with the operator's message on failure (see MoeReRouting).
void RunOrThrow(const fw::OpSpec &op, int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                void *extra)
{
    const std::string prefix = std::string(op.name) + ": ";
    const auto *data = extra == nullptr
                           ? nullptr
                           : static_cast<const Attributes *>(static_cast<mindspore::AotExtra *>(extra)->KernelData());
    const Attributes fallback;
    const Attributes &attrs = data != nullptr ? *data : fallback;
    const int leftOut = PairLeftOut(op, attrs.hasWeights) ? 1 : 0;
    const int inputs = op.inputCount - leftOut;
    const int outputs = op.outputCount - leftOut;
    if (nparam != inputs + outputs) {
        throw std::runtime_error(prefix + "expected " + std::to_string(inputs + outputs) + " parameters (" +
                                 std::to_string(inputs) + " inputs, " + std::to_string(outputs) + " outputs), got " +
                                 std::to_string(nparam));
    }
    fw::Tensor tensors[fw::kSlotCount];
    for (int i = 0; i < nparam; ++i) {
        const int slot = SlotOf(inputs, i);
        if ((slot == fw::kScales || slot == fw::kWeights) && Absent(params[i], ndims[i], dtypes[i])) {
            continue;
        }
        fw::Tensor &t = tensors[slot];
        t.dtype = AclOf(dtypes[i]);
        if (t.dtype == fw::kAbsent) {
            throw std::runtime_error(prefix + fw::kSlotNames[slot] + " has dtype " + dtypes[i] +
                                     ", which has no aclDataType counterpart");
        }
        t.dims.assign(shapes[i], shapes[i] + ndims[i]);
        t.data = params[i];
    }
    std::vector<unsigned char> transposed;
    if (attrs.transposeCounts && tensors[fw::kCounts].data != nullptr) {
        TransposeCounts(&tensors[fw::kCounts], &transposed);
    }
    std::string message;
    if (fw::Run(op, tensors, attrs.op, &message) != 0) {
        throw std::runtime_error(prefix + message);
    }
}

int Init(mindspore::AotExtra *extra)
{
    try {
        // Ours if set (a re-initialised kernel): update it instead of leaking it.
        auto *attrs = const_cast<Attributes *>(static_cast<const Attributes *>(extra->KernelData()));
        if (attrs == nullptr) {
            attrs = new Attributes;
            extra->SetKernelData(attrs);  // MindSpore deletes it with the kernel
        }
        attrs->op.expertTokenNumType = IntAttr(extra, kAttrExpertTokenNumType, kDefaultExpertTokenNumType);
        attrs->op.idxType = IntAttr(extra, kAttrIdxType, kDefaultIdxType);
        attrs->op.numMaxTokensPerRank = IntAttr(extra, kAttrNumMaxTokensPerRank, 0);
        attrs->op.restore = IntAttr(extra, kAttrRestore, 0) != 0;
        attrs->transposeCounts = IntAttr(extra, kAttrTransposeCounts, 0) != 0;
        attrs->hasWeights = IntAttr(extra, kAttrHasWeights, 0) != 0;
        return 0;
    } catch (...) {
        return 1;
    }
}

// Output shapes from the input shapes. MindSpore hands this function the shapes of the inputs it
// was given, in order, without their count and without an entry for an input given as None
// (reading past them reads past MindSpore's arrays). The Python side therefore sets the primitive
// attributes "has_per_token_scales" and "has_expert_topk_weight" (0/1); without them, the optional
// inputs are assumed absent. An input that is not a tensor (a numpy array given to the primitive in
// PyNative mode) arrives with null ndims/shapes: that throws, and MindSpore raises the message as a
// RuntimeError (moe_re_routing.mindspore checks the types before it gets here; this covers the
// primitive used directly).
std::vector<std::vector<int64_t>> InferShape(const fw::OpSpec &op, int *ndims, int64_t **shapes,
                                             mindspore::AotExtra *extra)
{
    std::vector<int> given = {fw::kTokens, fw::kCounts};
    if (IntAttr(extra, kAttrHasScales, 0) != 0) {
        given.push_back(fw::kScales);
    }
    if (op.v2 && IntAttr(extra, kAttrHasWeights, 0) != 0) {
        given.push_back(fw::kWeights);
    }
    fw::Tensor tensors[fw::kSlotCount];
    for (size_t i = 0; i < given.size(); ++i) {
        if (ndims == nullptr || shapes == nullptr || ndims[i] < 0 || (ndims[i] > 0 && shapes[i] == nullptr)) {
            throw std::runtime_error(std::string(op.name) + ": " + fw::kSlotNames[given[i]] +
                                     " has no shape: pass a mindspore.Tensor");
        }
        fw::Tensor &t = tensors[given[i]];
        t.dtype = 0;  // any present dtype: InferOutputs needs only presence and shapes here
        t.dims.assign(shapes[i], shapes[i] + ndims[i]);
    }
    std::vector<int64_t> &counts = tensors[fw::kCounts].dims;
    if (IntAttr(extra, kAttrTransposeCounts, 0) != 0 && counts.size() == 2) {
        std::swap(counts[0], counts[1]);
    }
    fw::InferOutputs(tensors);
    std::vector<std::vector<int64_t>> out;
    const bool leftOut = PairLeftOut(op, IntAttr(extra, kAttrHasWeights, 0) != 0);
    for (int o = 0; o < op.outputCount - (leftOut ? 1 : 0); ++o) {
        out.push_back(tensors[fw::OutputSlot(o)].dims);
    }
    return out;
}

}  // namespace

#define MOE_RE_ROUTING_MS_API extern "C" __attribute__((visibility("default")))

MOE_RE_ROUTING_MS_API int MoeReRoutingInit(int *, int64_t **, const char **, mindspore::AotExtra *extra)
{
    return Init(extra);
}

MOE_RE_ROUTING_MS_API int MoeReRoutingV2Init(int *, int64_t **, const char **, mindspore::AotExtra *extra)
{
    return Init(extra);
}

MOE_RE_ROUTING_MS_API int MoeReRoutingWithCapacityInit(int *, int64_t **, const char **, mindspore::AotExtra *extra)
{
    return Init(extra);
}

MOE_RE_ROUTING_MS_API std::vector<std::vector<int64_t>> MoeReRoutingInferShape(int *ndims, int64_t **shapes,
                                                                               mindspore::AotExtra *extra)
{
    return InferShape(fw::kMoeReRouting, ndims, shapes, extra);
}

MOE_RE_ROUTING_MS_API std::vector<std::vector<int64_t>> MoeReRoutingV2InferShape(int *ndims, int64_t **shapes,
                                                                                 mindspore::AotExtra *extra)
{
    return InferShape(fw::kMoeReRoutingV2, ndims, shapes, extra);
}

// MoeReRoutingWithCapacity's outputs have the rows of tokens (N * num_max_tokens_per_rank), as V2's.
MOE_RE_ROUTING_MS_API std::vector<std::vector<int64_t>> MoeReRoutingWithCapacityInferShape(int *ndims,
                                                                                           int64_t **shapes,
                                                                                           mindspore::AotExtra *extra)
{
    return InferShape(fw::kMoeReRoutingWithCapacity, ndims, shapes, extra);
}

// Returns 0 on success. On bad input it throws std::runtime_error carrying the operator's message
// (e.g. "expert_token_num_per_rank sums to 70 but tokens has 64 rows"): MindSpore's CPU AOT kernel
// catches std::exception around this call and raises it as a Python RuntimeError with that text,
// which a bare non-zero return code would not carry.
MOE_RE_ROUTING_MS_API int MoeReRouting(int nparam, void **params, int *ndims, int64_t **shapes, const char **dtypes,
                                       void *, void *extra)
{
    RunOrThrow(fw::kMoeReRouting, nparam, params, ndims, shapes, dtypes, extra);
    return 0;
}

// The same for MoeReRoutingV2: params = 4 inputs (absent per_token_scales / expert_topk_weight:
// null pointer, dtype "none") then the 5 outputs.
MOE_RE_ROUTING_MS_API int MoeReRoutingV2(int nparam, void **params, int *ndims, int64_t **shapes,
                                         const char **dtypes, void *, void *extra)
{
    RunOrThrow(fw::kMoeReRoutingV2, nparam, params, ndims, shapes, dtypes, extra);
    return 0;
}

// The same for MoeReRoutingWithCapacity (V2's parameters; the attributes num_max_tokens_per_rank and
// restore from its Init; with transpose_counts the counts are transposed first, as for the others).
MOE_RE_ROUTING_MS_API int MoeReRoutingWithCapacity(int nparam, void **params, int *ndims, int64_t **shapes,
                                                   const char **dtypes, void *, void *extra)
{
    RunOrThrow(fw::kMoeReRoutingWithCapacity, nparam, params, ndims, shapes, dtypes, extra);
    return 0;
}
