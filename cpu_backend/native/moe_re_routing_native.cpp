#include "moe_re_routing_native.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "moe_re_routing_split.h"
#include "parallel.h"

namespace moe_re_routing {
namespace native {
namespace {

// Per-call scratch, kept per thread so that a call allocates nothing once warm.
struct Scratch {
    std::vector<int64_t> counts;       // [N][E] as int64
    std::vector<int64_t> rowBase;      // [N] source row of rank r's first token
    std::vector<int64_t> rowTotal;     // [N] tokens of rank r
    std::vector<int64_t> columnBase;   // [E + 1] destination row of expert e's first token (then T, or
                                       // with destination slots E * C)
    std::vector<int64_t> columnTotal;  // [E] tokens of expert e
    int64_t total = 0;                 // T: every token
};

thread_local Scratch t_scratch;

// Element i of an array of T at `base`, which may be unaligned (memcpy: a plain load on x86).
template <typename T>
T Load(const void *base, int64_t i)
{
    T v;
    std::memcpy(&v, static_cast<const uint8_t *>(base) + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    return v;
}

template <typename T>
void Store(void *base, int64_t i, T v)
{
    std::memcpy(static_cast<uint8_t *>(base) + i * static_cast<int64_t>(sizeof(T)), &v, sizeof(T));
}

bool Slotted(const Problem &p) { return p.srcSlotRows > 0 || p.dstSlotRows > 0; }

std::string Changed(const Problem &p)
{
    return std::string("expert_token_num_per_rank changed after aclnnMoeReRouting") +
           (Slotted(p) ? "WithCapacity" : "") + "GetWorkspaceSize: ";
}

// Reads the counts into `s`, refusing values CheckCountValues would refuse: negative cells, a sum
// other than A, or with slots a slot over its capacity.
template <typename CountT>
Result LoadCounts(const Problem &p, const void *raw, Scratch *s)
{
    const int64_t n = p.rankNum;
    const int64_t e = p.expertNum;
    s->counts.resize(static_cast<size_t>(n * e));
    s->rowBase.resize(static_cast<size_t>(n));
    s->rowTotal.resize(static_cast<size_t>(n));
    s->columnTotal.assign(static_cast<size_t>(e), 0);
    s->columnBase.resize(static_cast<size_t>(e + 1));
    int64_t *cells = s->counts.data();
    int64_t *columns = s->columnTotal.data();
    // Each value is at most the rows left of A, checked as it is read, so no sum overflows (A < 2^31);
    // with slots every slot within C implies that bound too, and the slots are checked after.
    int64_t total = 0;
    for (int64_t r = 0; r < n; ++r) {
        const int64_t rowStart = total;
        for (int64_t x = 0; x < e; ++x) {
            const int64_t v = static_cast<int64_t>(Load<CountT>(raw, r * e + x));
            if (v < 0 || v > p.tokenNum - total) {
                const std::string cell = "cell [" + std::to_string(r) + ", " + std::to_string(x) + "] is " +
                                         std::to_string(v);
                return Result{kErrParamInvalid,
                              Changed(p) + cell +
                                  (v < 0 ? " (negative)" : " and the counts now sum to more than " + std::to_string(p.tokenNum)) +
                                  "; nothing was written"};
            }
            total += v;
            cells[r * e + x] = v;
            columns[x] += v;
        }
        s->rowTotal[r] = total - rowStart;
        s->rowBase[r] = p.srcSlotRows > 0 ? r * p.srcSlotRows : rowStart;
        if (p.srcSlotRows > 0 && total - rowStart > p.srcSlotRows) {
            return Result{kErrParamInvalid, Changed(p) + "rank " + std::to_string(r) + " now holds " +
                                                std::to_string(total - rowStart) +
                                                " tokens, more than num_max_tokens_per_rank = " +
                                                std::to_string(p.srcSlotRows) + "; nothing was written"};
        }
    }
    for (int64_t x = 0; p.dstSlotRows > 0 && x < e; ++x) {
        if (columns[x] > p.dstSlotRows) {
            return Result{kErrParamInvalid, Changed(p) + "rank " + std::to_string(x) +
                                                " (a column of the restore's counts.T) now holds " +
                                                std::to_string(columns[x]) +
                                                " tokens, more than num_max_tokens_per_rank = " +
                                                std::to_string(p.dstSlotRows) + "; nothing was written"};
        }
    }
    if (!Slotted(p) && total != p.tokenNum) {
        return Result{kErrParamInvalid, Changed(p) + "it sums to " + std::to_string(total) + " but tokens has " +
                                            std::to_string(p.tokenNum) + " rows; nothing was written"};
    }
    s->total = total;
    int64_t base = 0;
    for (int64_t x = 0; x <= e; ++x) {
        s->columnBase[x] = p.dstSlotRows > 0 ? x * p.dstSlotRows : base;
        base += x < e ? columns[x] : 0;
    }
    return Result{};
}

template <typename CountT>
void WriteExpertTokenNum(const Problem &p, const Scratch &s, void *out)
{
    int64_t running = 0;
    for (int64_t x = 0; x < p.expertNum; ++x) {
        running += s.columnTotal[x];
        Store<CountT>(out, x, static_cast<CountT>(p.expertTokenNumType == 0 ? running : s.columnTotal[x]));
    }
}

// Calls f(from, to) for each run of rows of [begin, end) that no token occupies, on a side with
// `slotRows`-row slots holding totals[k] tokens each (slotRows > 0), or packed with `total` tokens
// first (slotRows == 0).
template <typename F>
void ForEachGap(int64_t slotRows, const std::vector<int64_t> &totals, int64_t total, int64_t begin, int64_t end, F f)
{
    if (slotRows == 0) {
        if (std::max(total, begin) < end) {
            f(std::max(total, begin), end);
        }
        return;
    }
    for (int64_t k = begin / slotRows; k * slotRows < end; ++k) {
        const int64_t from = std::max(k * slotRows + totals[static_cast<size_t>(k)], begin);
        const int64_t to = std::min((k + 1) * slotRows, end);
        if (from < to) {
            f(from, to);
        }
    }
}

void FillIndex(void *idx, int64_t from, int64_t to)
{
    for (int64_t k = from; k < to; ++k) {
        Store<int32_t>(idx, k, -1);
    }
}

// MoeReRoutingWithCapacity: within [begin, end), the output rows no token lands in are zero (their
// gather index -1) and, in scatter mode, the input rows that hold no token get index -1.
void FillGaps(const Problem &p, const Buffers &b, const Scratch &s, int64_t begin, int64_t end)
{
    const bool gather = p.idxType == 0;
    ForEachGap(p.dstSlotRows, s.columnTotal, s.total, begin, end, [&](int64_t from, int64_t to) {
        const size_t rows = static_cast<size_t>(to - from);
        std::memset(b.permuteTokens + from * p.tokenRowBytes, 0, rows * static_cast<size_t>(p.tokenRowBytes));
        std::memset(b.permuteScales + from * p.outScaleRowBytes, 0, rows * static_cast<size_t>(p.outScaleRowBytes));
        if (b.permuteWeights != nullptr) {
            std::memset(b.permuteWeights + from * p.weightRowBytes, 0, rows * static_cast<size_t>(p.weightRowBytes));
        }
        if (gather) {
            FillIndex(b.permuteTokenIdx, from, to);
        }
    });
    if (!gather) {
        ForEachGap(p.srcSlotRows, s.rowTotal, s.total, begin, end,
                   [&](int64_t from, int64_t to) { FillIndex(b.permuteTokenIdx, from, to); });
    }
}

// Moves the destination rows [begin, end): every (expert, rank) cell that overlaps them, in
// destination order, as one block copy per cell (a cell's rows are contiguous in both layouts).
void MoveRows(const Problem &p, const Buffers &b, const Scratch &s, int64_t begin, int64_t end)
{
    if (begin >= end) {
        return;
    }
    const int64_t n = p.rankNum;
    const int64_t e = p.expertNum;
    const int64_t rowBytes = p.tokenRowBytes;
    const int64_t scaleBytes = p.scaleRowBytes;
    const int64_t weightBytes = p.weightRowBytes;
    if (b.scales == nullptr) {  // no scales: the float32 [A] output is zero-filled
        std::memset(b.permuteScales + begin * p.outScaleRowBytes, 0,
                    static_cast<size_t>((end - begin) * p.outScaleRowBytes));
    }
    if (Slotted(p)) {
        FillGaps(p, b, s, begin, end);
    }
    // The first column holding `begin`: columnBase is non-decreasing.
    const auto first = std::upper_bound(s.columnBase.begin(), s.columnBase.end(), begin);
    int64_t expert = static_cast<int64_t>(first - s.columnBase.begin()) - 1;
    if (expert >= e) {
        return;  // [begin, end) lies past the last token
    }
    // Source cursor of each rank at column `expert`: rowBase plus the cells left of it.
    thread_local std::vector<int64_t> cursor;
    cursor.resize(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
        int64_t at = s.rowBase[r];
        const int64_t *row = s.counts.data() + r * e;
        for (int64_t x = 0; x < expert; ++x) {
            at += row[x];
        }
        cursor[r] = at;
    }
    const bool gather = p.idxType == 0;
    // A packed destination holds tokens only up to T (columnBase[e]); with slots past it (the forward
    // of MoeReRoutingWithCapacity) the walk stops there instead of visiting every empty cell left.
    const int64_t walkEnd = p.dstSlotRows > 0 ? end : std::min(end, s.columnBase[e]);
    for (; expert < e && s.columnBase[expert] < walkEnd; ++expert) {
        int64_t dst = s.columnBase[expert];
        for (int64_t r = 0; r < n && dst < walkEnd; ++r) {
            const int64_t count = s.counts[r * e + expert];
            int64_t src = cursor[r];
            cursor[r] += count;
            const int64_t cellEnd = dst + count;
            // The overlap of the cell [dst, cellEnd) with [begin, walkEnd).
            const int64_t from = std::max(dst, begin);
            const int64_t to = std::min(cellEnd, walkEnd);
            if (from < to) {
                src += from - dst;
                const int64_t rows = to - from;
                std::memcpy(b.permuteTokens + from * rowBytes, b.tokens + src * rowBytes,
                            static_cast<size_t>(rows * rowBytes));
                if (b.scales != nullptr) {
                    std::memcpy(b.permuteScales + from * scaleBytes, b.scales + src * scaleBytes,
                                static_cast<size_t>(rows * scaleBytes));
                }
                if (b.weights != nullptr) {  // a weight column moves like a scale column
                    std::memcpy(b.permuteWeights + from * weightBytes, b.weights + src * weightBytes,
                                static_cast<size_t>(rows * weightBytes));
                }
                if (gather) {
                    for (int64_t k = 0; k < rows; ++k) {
                        Store<int32_t>(b.permuteTokenIdx, from + k, static_cast<int32_t>(src + k));
                    }
                } else {
                    for (int64_t k = 0; k < rows; ++k) {
                        Store<int32_t>(b.permuteTokenIdx, src + k, static_cast<int32_t>(from + k));
                    }
                }
            }
            dst = cellEnd;
        }
    }
}

}  // namespace

int64_t MovedBytes(const Problem &p)
{
    // Saturating: each tensor's size fits int64 (the entry points check it), their sum need not.
    int64_t bytes = 0;
    for (const int64_t rowBytes : {p.tokenRowBytes, p.tokenRowBytes, p.scaleRowBytes, p.scaleRowBytes,
                                   p.weightRowBytes, p.weightRowBytes, p.outScaleRowBytes, int64_t{4}}) {
        int64_t tensor = 0;
        if (__builtin_mul_overflow(p.tokenNum, rowBytes, &tensor) || __builtin_add_overflow(bytes, tensor, &bytes)) {
            return INT64_MAX;
        }
    }
    return bytes;
}

uint32_t PartsFor(const Problem &p)
{
    const int64_t byBytes = MovedBytes(p) / kMinBytesPerThread;
    const int64_t parts = std::min<int64_t>({static_cast<int64_t>(ThreadCount()), byBytes, p.tokenNum});
    return static_cast<uint32_t>(std::max<int64_t>(parts, 1));
}

Result Run(const Problem &p, const Buffers &b)
{
    Scratch &s = t_scratch;
    Result loaded = p.countBytes == sizeof(int64_t) ? LoadCounts<int64_t>(p, b.counts, &s)
                                                    : LoadCounts<int32_t>(p, b.counts, &s);
    if (!loaded.ok()) {
        return loaded;
    }
    if (p.countBytes == sizeof(int64_t)) {
        WriteExpertTokenNum<int64_t>(p, s, b.expertTokenNum);
    } else {
        WriteExpertTokenNum<int32_t>(p, s, b.expertTokenNum);
    }
    if (p.tokenNum == 0) {
        return Result{};
    }
    const uint32_t parts = PartsFor(p);
    if (parts == 1) {  // small calls: no hand-off at all
        MoveRows(p, b, s, 0, p.tokenNum);
        return Result{};
    }
    const MoeReRoutingRowSplit split = MoeReRoutingSplitRows(p.tokenNum, parts);
    RunParts(parts, [&](uint32_t part) {
        const MoeReRoutingRowRange rows = MoeReRoutingCoreRows(split, part);
        MoveRows(p, b, s, rows.begin, rows.end);
    });
    return Result{};
}

}  // namespace native
}  // namespace moe_re_routing
