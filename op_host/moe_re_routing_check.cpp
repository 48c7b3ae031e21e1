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

Result CheckArgs(const OpArgs &args, Problem *problem)
{
    Result r;
    // tokens [A, H]
    if (!(r = CheckCommon(args.tokens, "tokens")).ok() || !(r = CheckRank(args.tokens, "tokens", 2, "[A, H]")).ok() ||
        !(r = CheckDtypeRole(args.tokens, "tokens", kRoleTokens,
                             "a 1-, 2- or 4-byte type or packed FLOAT4 (FLOAT16, BF16, INT8, ...)"))
             .ok()) {
        return r;
    }
    const DtypeInfo *tokenInfo = FindDtype(args.tokens.dtype);
    const int64_t tokenNum = args.tokens.dims[0];
    const int64_t hidden = args.tokens.dims[1];
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

    // expert_token_num_per_rank [N, E]
    const TensorDesc &counts = args.expertTokenNumPerRank;
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

    // per_token_scales: optional [A] or [A, S]
    const TensorDesc &scales = args.perTokenScales;
    int64_t scaleCols = 0;
    if (scales.present) {
        if (!(r = CheckCommon(scales, "per_token_scales")).ok() ||
            !(r = CheckDtypeRole(scales, "per_token_scales", kRoleScales, "FLOAT or FLOAT8_E8M0")).ok()) {
            return r;
        }
        const bool rankOk = scales.dimNum == 1 || scales.dimNum == 2;
        if (!rankOk || scales.dims[0] != tokenNum || (scales.dimNum == 2 && scales.dims[1] < 1)) {
            return Invalid("per_token_scales has shape " + ShapeString(scales) + " but must be [" +
                           std::to_string(tokenNum) + "] or [" + std::to_string(tokenNum) + ", S] with S >= 1");
        }
        scaleCols = scales.dimNum == 2 ? scales.dims[1] : 1;
        if (scaleCols > kMaxRowElements) {
            return Invalid("per_token_scales has S = " + std::to_string(scaleCols) + " but S must be at most " +
                           std::to_string(kMaxRowElements));
        }
    }

    // attributes
    if (args.expertTokenNumType != 0 && args.expertTokenNumType != 1) {
        return Invalid("expert_token_num_type is " + std::to_string(args.expertTokenNumType) +
                       " but must be 0 (cumsum) or 1 (count)");
    }
    if (args.idxType != 0 && args.idxType != 1) {
        return Invalid("idx_type is " + std::to_string(args.idxType) + " but must be 0 (gather) or 1 (scatter)");
    }

    // outputs
    if (!(r = CheckOutput(args.permuteTokens, "permute_tokens", {tokenNum, hidden}, args.tokens.dtype)).ok()) {
        return r;
    }
    if (scales.present) {
        const bool twoD = scales.dimNum == 2;
        r = twoD ? CheckOutput(args.permutePerTokenScales, "permute_per_token_scales", {tokenNum, scaleCols},
                               scales.dtype)
                 : CheckOutput(args.permutePerTokenScales, "permute_per_token_scales", {tokenNum}, scales.dtype);
    } else {
        r = CheckOutput(args.permutePerTokenScales, "permute_per_token_scales", {tokenNum}, kFloatCode);
    }
    if (!r.ok()) {
        return r;
    }
    if (!(r = CheckOutput(args.permuteTokenIdx, "permute_token_idx", {tokenNum}, kInt32Code)).ok() ||
        !(r = CheckOutput(args.expertTokenNum, "expert_token_num", {expertNum}, counts.dtype)).ok()) {
        return r;
    }

    Problem p;
    p.tokenNum = tokenNum;
    p.hiddenSize = hidden;
    p.rankNum = rankNum;
    p.expertNum = expertNum;
    p.tokenDtype = args.tokens.dtype;
    p.countDtype = counts.dtype;
    p.scaleDtype = scales.present ? scales.dtype : -1;
    p.scaleCols = scaleCols;
    p.tokenRowBytes = RowBytes(hidden, tokenInfo->bits);
    p.scaleRowBytes = scales.present ? RowBytes(scaleCols, FindDtype(scales.dtype)->bits) : 0;
    p.outScaleRowBytes = scales.present ? p.scaleRowBytes : 4;
    p.countBytes = FindDtype(counts.dtype)->bits / 8;
    p.expertTokenNumType = args.expertTokenNumType;
    p.idxType = args.idxType;
    *problem = p;
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
