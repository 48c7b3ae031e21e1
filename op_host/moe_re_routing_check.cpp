// Parameter checks of MoeReRouting (pure: no CANN types). The outputs are checked against
// InferOutputs (moe_re_routing_infer.cpp), the one home of the output rule.
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "moe_re_routing_dtypes.h"
#include "moe_re_routing_host.h"

namespace moe_re_routing {
namespace {

constexpr int64_t kMaxTokenNum = (int64_t{1} << 31) - 1;  // permute_token_idx is int32
// Elements of a tokens or scales row: its size in bits (up to 64 per element) fits int64.
constexpr int64_t kMaxRowElements = int64_t{1} << 56;
constexpr int32_t kFloatCode = DtypeCode("FLOAT");        // permute_per_token_scales without scales
static_assert(kFloatCode >= 0, "FLOAT is in the dtype table");

std::string ShapeString(const TensorDesc &t)
{
    std::ostringstream os;
    os << '[';
    for (uint32_t i = 0; i < t.dimNum; ++i) {
        os << (i ? ", " : "") << t.dims[i];
    }
    os << ']';
    return os.str();
}

std::string ShapeString(const ShapeDtype &t)
{
    std::ostringstream os;
    os << '[';
    for (uint32_t i = 0; i < t.dimNum; ++i) {
        os << (i ? ", " : "") << t.dims[i];
    }
    os << ']';
    return os.str();
}

Result Invalid(const std::string &message) { return Result{kErrParamInvalid, message}; }
Result InvalidType(const std::string &message) { return Result{kErrParamInvalid, message, ErrorKind::kType}; }

// Checks the properties every tensor argument shares: present, at most kMaxDims dimensions, ND
// format, no negative dimension. Contiguity is checked separately, after the tensor's shape
// (CheckContiguous), so that a shape the operator never takes is reported as what it is.
Result CheckCommon(const TensorDesc &t, const char *name)
{
    if (!t.present) {
        return Result{kErrParamNullptr, std::string(name) + " is null but is required"};
    }
    if (t.dimNum > kMaxDims) {
        return Invalid(std::string(name) + " has " + std::to_string(t.dimNum) + " dimensions, more than " +
                       std::to_string(kMaxDims));
    }
    if (t.format != kFormatND) {
        return Invalid(std::string(name) + " has format " + std::to_string(t.format) + " but must be ND (" +
                       std::to_string(kFormatND) + ")");
    }
    for (uint32_t i = 0; i < t.dimNum; ++i) {
        if (t.dims[i] < 0) {
            return Invalid(std::string(name) + " has negative dimension " + std::to_string(t.dims[i]) +
                           " in shape " + ShapeString(t));
        }
    }
    return Result{};
}

// The last check of a tensor argument, once its rank, dtype and shape are known to be right.
Result CheckContiguous(const TensorDesc &t, const char *name)
{
    if (!t.contiguous) {
        return Invalid(std::string(name) + " must be contiguous (row-major strides, offset 0)");
    }
    return Result{};
}

Result CheckRank(const TensorDesc &t, const char *name, uint32_t rank, const char *layout)
{
    if (t.dimNum != rank) {
        return Invalid(std::string(name) + " must be " + std::to_string(rank) + "-D " + layout + " but has shape " +
                       ShapeString(t));
    }
    return Result{};
}

Result CheckDtypeRole(const TensorDesc &t, const char *name, uint32_t role, const char *expected)
{
    const DtypeInfo *info = FindDtype(t.dtype);
    if (info == nullptr || (info->roles & role) == 0) {
        return InvalidType(std::string(name) + " has dtype " + DtypeName(t.dtype) + " (" + std::to_string(t.dtype) +
                       ") but must be " + expected);
    }
    return Result{};
}

// An output must have exactly the shape and dtype InferOutputs gives it (`want`).
Result CheckOutput(const TensorDesc &t, const char *name, const ShapeDtype &want)
{
    Result r = CheckCommon(t, name);
    if (!r.ok()) {
        return r;
    }
    bool same = t.dimNum == want.dimNum;
    for (uint32_t i = 0; same && i < t.dimNum; ++i) {
        same = t.dims[i] == want.dims[i];
    }
    if (!same) {
        return Invalid(std::string(name) + " has shape " + ShapeString(t) + " but must be " + ShapeString(want));
    }
    if (t.dtype != want.dtype) {
        return InvalidType(std::string(name) + " has dtype " + DtypeName(t.dtype) + " but must be " +
                           DtypeName(want.dtype));
    }
    return CheckContiguous(t, name);
}

// What output inference sees of a checked input.
ShapeDtype Known(const TensorDesc &t)
{
    ShapeDtype s;
    s.present = t.present;
    s.dtype = t.dtype;
    s.dimNum = t.dimNum;
    for (uint32_t i = 0; i < t.dimNum && i < kMaxDims; ++i) {
        s.dims[i] = t.dims[i];
    }
    return s;
}

int64_t RowBytes(int64_t elements, uint32_t bits) { return elements * static_cast<int64_t>(bits) / 8; }

}  // namespace

namespace {

// The sizes CheckArgs reads off the inputs: A, H, N, E and the scale columns (0: no scales).
struct Sizes {
    int64_t tokenNum = 0;
    int64_t hidden = 0;
    int64_t rankNum = 0;
    int64_t expertNum = 0;
    int64_t scaleCols = 0;
};

// tokens [A, H]: a tokens dtype, A within the int32 index, H >= 1 (even for packed 4-bit types).
Result CheckTokens(const TensorDesc &tokens, Sizes *sizes)
{
    Result r;
    if (!(r = CheckCommon(tokens, "tokens")).ok() || !(r = CheckRank(tokens, "tokens", 2, "[A, H]")).ok() ||
        !(r = CheckDtypeRole(tokens, "tokens", kRoleTokens,
                             "a 1-, 2- or 4-byte type or packed FLOAT4 (FLOAT16, BF16, INT8, ...)"))
             .ok()) {
        return r;
    }
    const DtypeInfo *tokenInfo = FindDtype(tokens.dtype);
    const int64_t tokenNum = tokens.dims[0];
    const int64_t hidden = tokens.dims[1];
    if (tokenNum > kMaxTokenNum) {
        return Invalid("tokens has " + std::to_string(tokenNum) + " rows but at most " +
                       std::to_string(kMaxTokenNum) + " are supported (permute_token_idx is int32)");
    }
    if (hidden < 1) {
        return Invalid("tokens has H = " + std::to_string(hidden) + " but H must be >= 1");
    }
    if (hidden > kMaxRowElements) {
        return Invalid("tokens has H = " + std::to_string(hidden) + " but H must be at most " +
                       std::to_string(kMaxRowElements));
    }
    if ((tokenInfo->roles & kRolePacked4) != 0 && hidden % 2 != 0) {
        return Invalid(std::string("tokens has dtype ") + tokenInfo->name + " (two per byte) and H = " +
                       std::to_string(hidden) + " but H must be even");
    }
    if (!(r = CheckContiguous(tokens, "tokens")).ok()) {
        return r;
    }
    sizes->tokenNum = tokenNum;
    sizes->hidden = hidden;
    return Result{};
}

// expert_token_num_per_rank [N, E]: INT32 or INT64, N and E >= 1.
Result CheckCounts(const TensorDesc &counts, Sizes *sizes)
{
    Result r;
    if (!(r = CheckCommon(counts, "expert_token_num_per_rank")).ok() ||
        !(r = CheckRank(counts, "expert_token_num_per_rank", 2, "[N, E]")).ok() ||
        !(r = CheckDtypeRole(counts, "expert_token_num_per_rank", kRoleCounts, "INT32 or INT64")).ok()) {
        return r;
    }
    const int64_t rankNum = counts.dims[0];
    const int64_t expertNum = counts.dims[1];
    if (rankNum < 1 || expertNum < 1) {
        return Invalid("expert_token_num_per_rank has shape " + ShapeString(counts) + " but N and E must be >= 1");
    }
    if (!(r = CheckContiguous(counts, "expert_token_num_per_rank")).ok()) {
        return r;
    }
    sizes->rankNum = rankNum;
    sizes->expertNum = expertNum;
    return Result{};
}

// per_token_scales: absent, [A] or [A, S] of a scales dtype.
Result CheckScales(const TensorDesc &scales, Sizes *sizes)
{
    if (!scales.present) {
        return Result{};
    }
    Result r;
    if (!(r = CheckCommon(scales, "per_token_scales")).ok() ||
        !(r = CheckDtypeRole(scales, "per_token_scales", kRoleScales, "FLOAT or FLOAT8_E8M0")).ok()) {
        return r;
    }
    const int64_t tokenNum = sizes->tokenNum;
    const bool rankOk = scales.dimNum == 1 || scales.dimNum == 2;
    if (!rankOk || scales.dims[0] != tokenNum || (scales.dimNum == 2 && scales.dims[1] < 1)) {
        return Invalid("per_token_scales has shape " + ShapeString(scales) + " but must be [" +
                       std::to_string(tokenNum) + "] or [" + std::to_string(tokenNum) + ", S] with S >= 1");
    }
    sizes->scaleCols = scales.dimNum == 2 ? scales.dims[1] : 1;
    if (sizes->scaleCols > kMaxRowElements) {
        return Invalid("per_token_scales has S = " + std::to_string(sizes->scaleCols) + " but S must be at most " +
                       std::to_string(kMaxRowElements));
    }
    return CheckContiguous(scales, "per_token_scales");
}

// expert_topk_weight (MoeReRoutingV2): absent, or FLOAT [A, 1] (official) or [A]; it moves with its
// token as one 4-byte column.
Result CheckWeights(const TensorDesc &weights, const Sizes &sizes)
{
    if (!weights.present) {
        return Result{};
    }
    Result r = CheckCommon(weights, "expert_topk_weight");
    if (!r.ok()) {
        return r;
    }
    if (weights.dtype != kFloatCode) {
        return InvalidType(std::string("expert_topk_weight has dtype ") + DtypeName(weights.dtype) + " (" +
                           std::to_string(weights.dtype) + ") but must be FLOAT");
    }
    const int64_t tokenNum = sizes.tokenNum;
    const bool shapeOk = (weights.dimNum == 1 || weights.dimNum == 2) && weights.dims[0] == tokenNum &&
                         (weights.dimNum == 1 || weights.dims[1] == 1);
    if (!shapeOk) {
        return Invalid("expert_topk_weight has shape " + ShapeString(weights) + " but must be [" +
                       std::to_string(tokenNum) + ", 1] or [" + std::to_string(tokenNum) + "]");
    }
    return CheckContiguous(weights, "expert_topk_weight");
}

Result CheckAttributes(const OpArgs &args)
{
    if (args.expertTokenNumType != 0 && args.expertTokenNumType != 1) {
        return Invalid("expert_token_num_type is " + std::to_string(args.expertTokenNumType) +
                       " but must be 0 (cumsum) or 1 (count)");
    }
    if (args.idxType != 0 && args.idxType != 1) {
        return Invalid("idx_type is " + std::to_string(args.idxType) + " but must be 0 (gather) or 1 (scatter)");
    }
    return Result{};
}

// MoeReRoutingWithCapacity: C >= 1 and tokens [slots * C, H], one slot of C rows per rank (the
// counts' rows, or for the restore, which takes counts.T, its columns).
Result CheckCapacity(const OpArgs &args, const Sizes &sizes)
{
    if (!args.withCapacity) {
        return Result{};
    }
    const int64_t c = args.numMaxTokensPerRank;
    if (c < 1) {
        return Invalid("num_max_tokens_per_rank is " + std::to_string(c) + " but must be >= 1");
    }
    const int64_t slots = args.restore ? sizes.expertNum : sizes.rankNum;
    const char *slotsName = args.restore ? "E (the ranks of the restore's counts.T [E, N])" : "N";
    if (c > kMaxTokenNum / slots) {
        return Invalid("num_max_tokens_per_rank is " + std::to_string(c) + " and " + slotsName + " is " +
                       std::to_string(slots) + " but " + slotsName + " * num_max_tokens_per_rank must be at most " +
                       std::to_string(kMaxTokenNum) + " (permute_token_idx is int32)");
    }
    if (sizes.tokenNum != slots * c) {
        return Invalid("tokens has " + std::to_string(sizes.tokenNum) + " rows but must be " + slotsName +
                       " * num_max_tokens_per_rank = " + std::to_string(slots) + " * " + std::to_string(c) + " = " +
                       std::to_string(slots * c) + " (one slot of num_max_tokens_per_rank rows per rank)");
    }
    return Result{};
}

// The four outputs have exactly the shapes and dtypes InferOutputs gives for the (checked) inputs.
Result CheckOutputs(const OpArgs &args)
{
    InferInputs in;
    in.tokens = Known(args.tokens);
    in.expertTokenNumPerRank = Known(args.expertTokenNumPerRank);
    in.perTokenScales = Known(args.perTokenScales);
    in.expertTopkWeight = Known(args.expertTopkWeight);
    InferredOutputs want;
    Result r = InferOutputs(in, &want);
    if (!r.ok()) {  // not reached: the inputs passed their own checks
        return r;
    }
    if (!(r = CheckOutput(args.permuteTokens, "permute_tokens", want.permuteTokens)).ok() ||
        !(r = CheckOutput(args.permutePerTokenScales, "permute_per_token_scales", want.permutePerTokenScales))
             .ok() ||
        !(r = CheckOutput(args.permuteTokenIdx, "permute_token_idx", want.permuteTokenIdx)).ok() ||
        !(r = CheckOutput(args.expertTokenNum, "expert_token_num", want.expertTokenNum)).ok()) {
        return r;
    }
    if (args.expertTopkWeight.present != args.permuteTopkWeight.present) {
        const bool weights = args.expertTopkWeight.present;
        return Result{weights ? kErrParamNullptr : kErrParamInvalid,
                      std::string(weights ? "permute_topk_weight is null but expert_topk_weight is given"
                                          : "permute_topk_weight is given but expert_topk_weight is not") +
                          "; expert_topk_weight and permute_topk_weight go together (both or neither)"};
    }
    if (want.permuteTopkWeight.present) {
        return CheckOutput(args.permuteTopkWeight, "permute_topk_weight", want.permuteTopkWeight);
    }
    return Result{};
}

Problem MakeProblem(const OpArgs &args, const Sizes &sizes)
{
    const TensorDesc &scales = args.perTokenScales;
    Problem p;
    p.tokenNum = sizes.tokenNum;
    p.hiddenSize = sizes.hidden;
    p.rankNum = sizes.rankNum;
    p.expertNum = sizes.expertNum;
    p.tokenDtype = args.tokens.dtype;
    p.countDtype = args.expertTokenNumPerRank.dtype;
    p.scaleDtype = scales.present ? scales.dtype : -1;
    p.scaleCols = sizes.scaleCols;
    p.tokenRowBytes = RowBytes(sizes.hidden, FindDtype(args.tokens.dtype)->bits);
    p.scaleRowBytes = scales.present ? RowBytes(sizes.scaleCols, FindDtype(scales.dtype)->bits) : 0;
    p.outScaleRowBytes = scales.present ? p.scaleRowBytes : RowBytes(1, FindDtype(kFloatCode)->bits);
    p.countBytes = FindDtype(args.expertTokenNumPerRank.dtype)->bits / 8;
    p.expertTokenNumType = args.expertTokenNumType;
    p.idxType = args.idxType;
    p.weightRowBytes = args.expertTopkWeight.present ? RowBytes(1, FindDtype(kFloatCode)->bits) : 0;
    if (args.withCapacity) {
        (args.restore ? p.dstSlotRows : p.srcSlotRows) = args.numMaxTokensPerRank;
    }
    return p;
}

}  // namespace

Result CheckArgs(const OpArgs &args, Problem *problem)
{
    Sizes sizes;
    Result r;
    if (!(r = CheckTokens(args.tokens, &sizes)).ok() || !(r = CheckCounts(args.expertTokenNumPerRank, &sizes)).ok() ||
        !(r = CheckScales(args.perTokenScales, &sizes)).ok() || !(r = CheckWeights(args.expertTopkWeight, sizes)).ok() ||
        !(r = CheckAttributes(args)).ok() || !(r = CheckCapacity(args, sizes)).ok() ||
        !(r = CheckOutputs(args)).ok()) {
        return r;
    }
    *problem = MakeProblem(args, sizes);
    return Result{};
}

Result CheckCountValues(const Problem &problem, const void *counts)
{
    if (counts == nullptr) {
        return Result{kErrParamNullptr, "expert_token_num_per_rank has no data"};
    }
    const int64_t n = problem.rankNum;
    const int64_t e = problem.expertNum;
    const int64_t slotRows = problem.srcSlotRows > 0 ? problem.srcSlotRows : problem.dstSlotRows;
    // With slots: the sum of each slot (a row of the counts, or a column for the restore).
    std::vector<int64_t> slotSums(slotRows > 0 ? static_cast<size_t>(problem.srcSlotRows > 0 ? n : e) : 0, 0);
    int64_t sum = 0;
    bool overflow = false;
    for (int64_t r = 0; r < n; ++r) {
        for (int64_t x = 0; x < e; ++x) {
            // memcpy: the counts may sit at any address (the aclnn API takes any).
            const int64_t i = r * e + x;
            int64_t v;
            if (problem.countBytes == 8) {
                std::memcpy(&v, static_cast<const uint8_t *>(counts) + i * 8, 8);
            } else {
                int32_t v32;
                std::memcpy(&v32, static_cast<const uint8_t *>(counts) + i * 4, 4);
                v = v32;
            }
            if (v < 0) {
                return Invalid("expert_token_num_per_rank[" + std::to_string(r) + ", " + std::to_string(x) + "] is " +
                               std::to_string(v) + " but counts must be >= 0");
            }
            overflow = overflow || __builtin_add_overflow(sum, v, &sum);
            if (!slotSums.empty()) {
                int64_t &slot = slotSums[static_cast<size_t>(problem.srcSlotRows > 0 ? r : x)];
                if (__builtin_add_overflow(slot, v, &slot)) {
                    slot = INT64_MAX;  // saturates: reported as over the capacity all the same
                }
            }
        }
    }
    if (!slotSums.empty()) {
        for (size_t k = 0; k < slotSums.size(); ++k) {
            if (slotSums[k] > slotRows) {
                const bool rows = problem.srcSlotRows > 0;
                return Invalid(std::string("expert_token_num_per_rank ") + (rows ? "row " : "column ") +
                               std::to_string(k) + " (rank " + std::to_string(k) +
                               (rows ? "" : " of the restore's counts.T") + ") sums to " +
                               (slotSums[k] == INT64_MAX ? std::string("more than 2^63") : std::to_string(slotSums[k])) +
                               " but num_max_tokens_per_rank is " + std::to_string(slotRows) +
                               ": a rank's slot holds at most num_max_tokens_per_rank tokens");
            }
        }
        return Result{};
    }
    if (overflow || sum != problem.tokenNum) {
        const std::string got = overflow ? "more than 2^63" : std::to_string(sum);
        return Invalid("expert_token_num_per_rank sums to " + got + " but tokens has " +
                       std::to_string(problem.tokenNum) + " rows");
    }
    return Result{};
}

}  // namespace moe_re_routing
