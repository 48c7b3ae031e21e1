// Pure host logic of MoeReRouting: parameter checks, shape/dtype inference and tiling.
// No CANN or AscendCL types: plain structs in, plain structs out, each result carrying a status
// (the aclnn value) and a message naming the parameter, the expected and the actual value.
// Both the CPU backend's aclnn entry points and the CANN glue call these same functions.
#ifndef MOE_RE_ROUTING_HOST_H
#define MOE_RE_ROUTING_HOST_H

#include <cstdint>
#include <string>

#include "moe_re_routing_tiling_data.h"

namespace moe_re_routing {

// Status values (aclnnStatus). The aclnn header of the CPU backend defines the same ACLNN_*
// names; op_api static_asserts that the two agree.
enum Status : int32_t {
    kSuccess = 0,
    kErrParamNullptr = 161001,
    kErrParamInvalid = 161002,
    kErrRuntime = 361001,
    kErrInner = 561000,
    kErrTiling = 561002,
};

// aclFormat values the operator accepts (ND only; NCHW/NHWC are treated as ND by aclnn ops
// for plain contiguous tensors, so they are accepted too).
inline constexpr int32_t kFormatNCHW = 0;
inline constexpr int32_t kFormatNHWC = 1;
inline constexpr int32_t kFormatND = 2;

inline constexpr uint32_t kMaxDims = 8;

// What the host sees of one tensor argument.
struct TensorDesc {
    bool present = false;      // false for an absent optional tensor (or a null pointer)
    int32_t dtype = -1;        // aclDataType
    int32_t format = kFormatND;
    uint32_t dimNum = 0;
    int64_t dims[kMaxDims] = {};
    bool contiguous = true;    // view strides are the row-major strides of dims and offset is 0
};

struct OpArgs {
    TensorDesc tokens;                 // [A, H]
    TensorDesc expertTokenNumPerRank;  // [N, E]
    TensorDesc perTokenScales;         // optional: [A] or [A, S]
    int64_t expertTokenNumType = 1;
    int64_t idxType = 0;
    TensorDesc permuteTokens;          // [A, H], dtype of tokens
    TensorDesc permutePerTokenScales;  // shape/dtype of scales, or [A] FLOAT when absent
    TensorDesc permuteTokenIdx;        // [A] INT32
    TensorDesc expertTokenNum;         // [E], dtype of counts
    // MoeReRoutingV2 only; both absent for MoeReRouting. Given together or not at all.
    TensorDesc expertTopkWeight;       // optional: [A, 1] (official) or [A] FLOAT
    TensorDesc permuteTopkWeight;      // present iff expertTopkWeight: its shape, FLOAT
    // MoeReRoutingWithCapacity only (withCapacity true): every rank's tokens sit in a fixed slot of
    // numMaxTokensPerRank rows (docs/spec.md, "Static capacity"). Forward: tokens [N*C, H] in slots,
    // outputs packed expert-major then zeros. restore: the inverse, called with counts.T ([E, N]):
    // the input is packed, the outputs go back into the N slots of C rows.
    bool withCapacity = false;
    int64_t numMaxTokensPerRank = 0;   // C; must be >= 1 with withCapacity
    bool restore = false;
};

// The problem after checks: everything tiling and the kernel need.
struct Problem {
    int64_t tokenNum = 0;          // A
    int64_t hiddenSize = 0;        // H (elements)
    int64_t rankNum = 0;           // N
    int64_t expertNum = 0;         // E
    int32_t tokenDtype = -1;
    int32_t countDtype = -1;
    int32_t scaleDtype = -1;       // -1 when absent
    int64_t scaleCols = 0;         // S (1 for [A] scales, 0 when absent)
    int64_t tokenRowBytes = 0;
    int64_t scaleRowBytes = 0;     // 0 when absent
    int64_t outScaleRowBytes = 0;  // scaleRowBytes, or 4 (zero-filled FLOAT) when absent
    uint32_t countBytes = 0;
    int64_t expertTokenNumType = 1;
    int64_t idxType = 0;
    int64_t weightRowBytes = 0;    // 4 with expert_topk_weight (MoeReRoutingV2), else 0
    // Slot strides (MoeReRoutingWithCapacity; at most one is non-zero): rows per slot of a source
    // rank (the input of the forward) or of a destination column (the output of the restore).
    // 0: packed, as in MoeReRouting. With a slot stride tokenNum is the slotted row count (N*C).
    int64_t srcSlotRows = 0;
    int64_t dstSlotRows = 0;
};

// What a failed Result is about, beyond its status: callers map it to an error class without
// reading the message (a bad dtype is a type error, a bad shape or value a value error). kNone on
// a failure means "derive it from the status" (see Kind()); only type errors set it explicitly.
// The CPU backend exports these values as MoeReRoutingErrorKind (moe_re_routing_cpu.h).
enum class ErrorKind : int32_t {
    kNone = 0,     // success
    kNullptr = 1,  // a required tensor or pointer is null (kErrParamNullptr)
    kType = 2,     // a dtype the parameter does not accept (kErrParamInvalid)
    kValue = 3,    // a rank, shape, format, attribute, count value or overlap (kErrParamInvalid)
    kTiling = 4,   // the tiling cannot be built (kErrTiling)
    kRuntime = 5,  // the launch, a stream or a runtime call failed (kErrRuntime)
    kInner = 6,    // an internal failure, e.g. out of memory (kErrInner)
};

// The kind a status implies when no finer one is given.
constexpr ErrorKind KindOfStatus(int32_t status)
{
    switch (status) {
        case kSuccess: return ErrorKind::kNone;
        case kErrParamNullptr: return ErrorKind::kNullptr;
        case kErrParamInvalid: return ErrorKind::kValue;
        case kErrTiling: return ErrorKind::kTiling;
        case kErrRuntime: return ErrorKind::kRuntime;
        default: return ErrorKind::kInner;
    }
}

struct Result {
    int32_t status = kSuccess;
    std::string message;
    ErrorKind kind = ErrorKind::kNone;  // kNone: KindOfStatus(status)
    bool ok() const { return status == kSuccess; }
    ErrorKind Kind() const { return kind != ErrorKind::kNone || ok() ? kind : KindOfStatus(status); }
};

// Checks every host-visible property of the arguments (ranks, shapes, dtypes, formats,
// contiguity, attributes, outputs) and fills `problem`. Counts values are not read here. Each
// tensor's shape is checked before its contiguity, so a shape the operator never takes (tokens
// [6, 0], counts [2, 0]) is reported as such whatever its strides. The outputs must have the
// shapes and dtypes InferOutputs gives.
Result CheckArgs(const OpArgs &args, Problem *problem);

// ---- output inference (docs/spec.md, Outputs) ------------------------------------------------
// The one rule for the four outputs' shapes and dtypes, used by the CANN InferShape/InferDataType
// glue, the framework adapters (ONNX Runtime, MindSpore), the C library (MoeReRoutingInferOutputs,
// for language bindings) and CheckArgs' output checks.
//   permute_tokens            = tokens' shape and dtype
//   permute_per_token_scales  = per_token_scales' shape and dtype, or [A] FLOAT when absent
//   permute_token_idx         = [A] INT32
//   expert_token_num          = [E], the dtype of expert_token_num_per_rank
//   permute_topk_weight       = expert_topk_weight's shape and dtype (MoeReRoutingV2; absent without it)
// During graph compilation a dimension may be unknown (kUnknownDim) and so may a whole rank
// (rankKnown false, CANN's [-2]) or a dtype (kUnknownDtype): unknown dimensions and ranks flow into
// the outputs unchanged; the 1-D outputs of an input of unknown rank become [kUnknownDim].
inline constexpr int64_t kUnknownDim = -1;
inline constexpr int32_t kUnknownDtype = -1;  // also ACL_DT_UNDEFINED

struct ShapeDtype {
    bool present = false;         // false: an absent optional input
    int32_t dtype = kUnknownDtype;  // aclDataType (copied through, never interpreted, except the
                                    // FLOAT and INT32 that inference itself sets)
    bool rankKnown = true;        // false: the rank is not known yet; dimNum and dims are ignored
    uint32_t dimNum = 0;          // <= kMaxDims
    int64_t dims[kMaxDims] = {};  // elements per dimension, or kUnknownDim
};

struct InferInputs {
    ShapeDtype tokens;                 // [A, H]
    ShapeDtype expertTokenNumPerRank;  // [N, E]
    ShapeDtype perTokenScales;         // optional: [A] or [A, S]
    ShapeDtype expertTopkWeight;       // optional (MoeReRoutingV2): [A, 1] or [A]
};

struct InferredOutputs {
    ShapeDtype permuteTokens;
    ShapeDtype permutePerTokenScales;
    ShapeDtype permuteTokenIdx;
    ShapeDtype expertTokenNum;
    ShapeDtype permuteTopkWeight;      // present iff expertTopkWeight is: its shape and dtype
};

// Fills `outputs` by the rule above and returns success; or fails, naming the input, when tokens or
// expert_token_num_per_rank is absent (kErrParamNullptr), or an input has more than kMaxDims
// dimensions or a known rank the operator never takes: tokens or expert_token_num_per_rank not
// 2-D, per_token_scales neither 1-D nor 2-D (kErrParamInvalid). Dimension values are not checked
// here (CheckArgs does, once they are known). Even on failure `outputs` holds the best guess
// (A = tokens' first dimension, 0 for a 0-D tokens; E = the counts' last dimension, 1 for 0-D
// counts), so that a caller that still wants the run's own error (a framework adapter) can
// allocate outputs and let CheckArgs report.
Result InferOutputs(const InferInputs &inputs, InferredOutputs *outputs);

// Checks count values where they are host-visible: none negative, and sum == A; with a slot stride
// instead no slot over its capacity (each row sum <= srcSlotRows, each column sum <= dstSlotRows;
// the message names num_max_tokens_per_rank). `counts` points to N*E int32 or int64 values
// (problem.countBytes).
Result CheckCountValues(const Problem &problem, const void *counts);

// What the tiling is computed for. No defaults: the caller gives a SoC's numbers (the CPU
// backend from its SoC table, ascendc_cpu/platform.h; CANN from the platform info).
struct Platform {
    uint32_t aivCoreNum = 0;  // vector cores
    uint32_t ubBytes = 0;     // UB per core the kernel may use: what the SoC reports less what the
                              // Ascend C runtime reserves (kAscendCReservedUbBytes on dav-c220)
};

// The kernel is built WITHOUT --cce-disable-asc-reserved-ubuf, so on dav-c220 (Atlas A2/A3) the
// Ascend C runtime keeps the top 8 KiB of UB and the tiling plans within GetCoreMemSize(UB) less
// this. The CPU backend's SoC table (ascendc_cpu/platform.h) carries the same number per SoC; the
// CPU backend static_asserts that the two agree.
inline constexpr uint32_t kAscendCReservedUbBytes = 8 * 1024;

// What the tiling plans beyond the fields the kernel reads: for reports (plan, trace JSON, tests)
// and for the launch (the tiling key). Filled next to MoeReRoutingTilingData by ComputeTiling.
struct MoeReRoutingTilingReport {
    uint64_t tilingKey = 0;         // MOE_RE_ROUTING_TILING_KEY_*: the kernel instantiation (count dtype)
    uint32_t countBytes = 0;        // 4 (int32 counts) or 8 (int64 counts)
    int64_t outScaleRowBytes = 0;   // bytes of one permute_per_token_scales row (4 when zero-filled)
    uint32_t bufferNum = 0;         // buffers per data queue (2 = double buffering)
    uint32_t chunkRows = 0;         // rows per token chunk (>= 1, <= rows of the largest core range)
    uint32_t segmentBytes = 0;      // bytes of a row moved per DMA block (== tokenRowBytes unless rows are split)
    uint32_t countTileCols = 0;     // experts per count tile: kMoeReRoutingCountLanes
    uint32_t ubBytesUsed = 0;       // total UB the kernel allocates per core
};

// Computes the tiling of `problem` for `platform`, and with a non-null `report` what it planned
// beyond the kernel's fields. Fails (kErrTiling) only when the platform cannot hold even the
// minimal buffers, with the reason in the message; then neither output is written.
Result ComputeTiling(const Problem &problem, const Platform &platform, MoeReRoutingTilingData *tiling,
                     MoeReRoutingTilingReport *report);
inline Result ComputeTiling(const Problem &problem, const Platform &platform, MoeReRoutingTilingData *tiling)
{
    return ComputeTiling(problem, platform, tiling, nullptr);
}

// The tiling key of a problem's kernel instantiation (ComputeTiling reports it too).
uint64_t TilingKeyOf(const Problem &problem);

// Destination rows [begin, end) of core `blockIdx` under `tiling` (same formula as the kernel).
void CoreRowRange(const MoeReRoutingTilingData &tiling, uint32_t blockIdx, int64_t *begin, int64_t *end);

}  // namespace moe_re_routing

#endif  // MOE_RE_ROUTING_HOST_H
