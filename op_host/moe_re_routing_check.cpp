// Parameter checks and shape/dtype inference for MoeReRouting (pure: no CANN types).
#include <cstdint>
#include <sstream>
#include <string>

#include "moe_re_routing_dtypes.h"
#include "moe_re_routing_host.h"

namespace moe_re_routing {
namespace {

constexpr int64_t kMaxTokenNum = (int64_t{1} << 31) - 1;  // permute_token_idx is int32
// Elements of a tokens or scales row: its size in bits (up to 64 per element) fits int64.
constexpr int64_t kMaxRowElements = int64_t{1} << 56;
constexpr int32_t kFloatCode = DtypeCode("FLOAT");        // permute_per_token_scales without scales
constexpr int32_t kInt32Code = DtypeCode("INT32");        // permute_token_idx
static_assert(kFloatCode >= 0 && kInt32Code >= 0, "FLOAT and INT32 are in the dtype table");

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

std::string ShapeString(std::initializer_list<int64_t> dims)
{
    std::ostringstream os;
    os << '[';
    bool first = true;
    for (int64_t d : dims) {
        os << (first ? "" : ", ") << d;
        first = false;
    }
    os << ']';
    return os.str();
}

Result Invalid(const std::string &message) { return Result{kErrParamInvalid, message}; }
Result InvalidType(const std::string &message) { return Result{kErrParamInvalid, message, ErrorKind::kType}; }

// Checks the properties every tensor argument shares: present, ND format, contiguous, known rank.
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
    if (!t.contiguous) {
        return Invalid(std::string(name) + " must be contiguous (row-major strides, offset 0)");
    }
    for (uint32_t i = 0; i < t.dimNum; ++i) {
        if (t.dims[i] < 0) {
            return Invalid(std::string(name) + " has negative dimension " + std::to_string(t.dims[i]) +
                           " in shape " + ShapeString(t));
        }
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

// An output must have exactly `dims` and `dtype`.
Result CheckOutput(const TensorDesc &t, const char *name, std::initializer_list<int64_t> dims, int32_t dtype)
{
    Result r = CheckCommon(t, name);
    if (!r.ok()) {
        return r;
    }
    bool same = t.dimNum == dims.size();
    uint32_t i = 0;
    for (int64_t d : dims) {
        same = same && t.dims[i++] == d;
    }
    if (!same) {
        return Invalid(std::string(name) + " has shape " + ShapeString(t) + " but must be " + ShapeString(dims));
    }
    if (t.dtype != dtype) {
        return InvalidType(std::string(name) + " has dtype " + DtypeName(t.dtype) + " but must be " + DtypeName(dtype));
    }
    return Result{};
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
    return Result{};
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

// The four outputs have exactly the shapes and dtypes the inputs imply (docs/spec.md, Outputs).
Result CheckOutputs(const OpArgs &args, const Sizes &sizes)
{
    const TensorDesc &scales = args.perTokenScales;
    Result r;
    if (!(r = CheckOutput(args.permuteTokens, "permute_tokens", {sizes.tokenNum, sizes.hidden}, args.tokens.dtype))
             .ok()) {
        return r;
    }
    if (scales.present) {
        const bool twoD = scales.dimNum == 2;
        r = twoD ? CheckOutput(args.permutePerTokenScales, "permute_per_token_scales",
                               {sizes.tokenNum, sizes.scaleCols}, scales.dtype)
                 : CheckOutput(args.permutePerTokenScales, "permute_per_token_scales", {sizes.tokenNum}, scales.dtype);
    } else {
        r = CheckOutput(args.permutePerTokenScales, "permute_per_token_scales", {sizes.tokenNum}, kFloatCode);
    }
    if (!r.ok()) {
        return r;
    }
    if (!(r = CheckOutput(args.permuteTokenIdx, "permute_token_idx", {sizes.tokenNum}, kInt32Code)).ok() ||
        !(r = CheckOutput(args.expertTokenNum, "expert_token_num", {sizes.expertNum},
                          args.expertTokenNumPerRank.dtype))
             .ok()) {
        return r;
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
    return p;
}

}  // namespace

Result CheckArgs(const OpArgs &args, Problem *problem)
{
    Sizes sizes;
    Result r;
    if (!(r = CheckTokens(args.tokens, &sizes)).ok() || !(r = CheckCounts(args.expertTokenNumPerRank, &sizes)).ok() ||
        !(r = CheckScales(args.perTokenScales, &sizes)).ok() || !(r = CheckAttributes(args)).ok() ||
        !(r = CheckOutputs(args, sizes)).ok()) {
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
    const int64_t cells = problem.rankNum * problem.expertNum;
    int64_t sum = 0;
    bool overflow = false;
    for (int64_t i = 0; i < cells; ++i) {
        const int64_t v = problem.countBytes == 8 ? static_cast<const int64_t *>(counts)[i]
                                                  : static_cast<const int32_t *>(counts)[i];
        if (v < 0) {
            return Invalid("expert_token_num_per_rank[" + std::to_string(i / problem.expertNum) + ", " +
                           std::to_string(i % problem.expertNum) + "] is " + std::to_string(v) +
                           " but counts must be >= 0");
        }
        overflow = overflow || __builtin_add_overflow(sum, v, &sum);
    }
    if (overflow || sum != problem.tokenNum) {
        const std::string got = overflow ? "more than 2^63" : std::to_string(sum);
        return Invalid("expert_token_num_per_rank sums to " + got + " but tokens has " +
                       std::to_string(problem.tokenNum) + " rows");
    }
    return Result{};
}

}  // namespace moe_re_routing
