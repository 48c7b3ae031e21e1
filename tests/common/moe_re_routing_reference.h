// The C++ test reference of MoeReRouting, written straight from docs/spec.md, and the count fills
// the C++ tests and benchmarks share. One home: the kernel tests (tests/ut/op_kernel), the aclnn
// API tests (tests/ut/api), the fuzz targets (tests/fuzz), the aclnn example (examples/) and the
// official-schedule model (benchmarks/official_model) all include this header. Header only, no
// dependency beyond the standard library, so every one of them can include it by relative path.
//
// Bytes in, bytes out: rows are opaque (any dtype, packed fp4 included), counts are int32 or int64
// (countBytes 4 or 8), every output is the bytes it has in memory.
#ifndef MOE_RE_ROUTING_TEST_REFERENCE_H
#define MOE_RE_ROUTING_TEST_REFERENCE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace moe_re_routing_test {

// ---- counts -------------------------------------------------------------------------------------

// Value i (row-major) of a count matrix stored as countBytes-byte integers (4 or 8).
inline int64_t CountAt(const uint8_t *counts, uint32_t countBytes, int64_t i)
{
    if (countBytes == 8) {
        int64_t v;
        std::memcpy(&v, counts + i * 8, 8);
        return v;
    }
    int32_t v;
    std::memcpy(&v, counts + i * 4, 4);
    return v;
}

// Stores `value` as value i of a count matrix of countBytes-byte integers (int32: truncated).
inline void StoreCount(uint8_t *counts, uint32_t countBytes, int64_t i, int64_t value)
{
    if (countBytes == 8) {
        std::memcpy(counts + i * 8, &value, 8);
    } else {
        const int32_t v32 = static_cast<int32_t>(value);
        std::memcpy(counts + i * 4, &v32, 4);
    }
}

// `cells` values as the bytes of countBytes-byte integers.
inline std::vector<uint8_t> CountBytes(const std::vector<int64_t> &cells, uint32_t countBytes)
{
    std::vector<uint8_t> bytes(cells.size() * countBytes);
    for (size_t i = 0; i < cells.size(); ++i) {
        StoreCount(bytes.data(), countBytes, static_cast<int64_t>(i), cells[i]);
    }
    return bytes;
}

// True when every one of `cells` counts is >= 0 and they sum to tokenNum (without overflow).
inline bool HonestCounts(const uint8_t *counts, uint32_t countBytes, int64_t cells, int64_t tokenNum)
{
    int64_t sum = 0;
    for (int64_t i = 0; i < cells; ++i) {
        const int64_t v = CountAt(counts, countBytes, i);
        if (v < 0 || __builtin_add_overflow(sum, v, &sum)) {
            return false;
        }
    }
    return sum == tokenNum;
}

// ---- count fills (the Python twins are in moe_re_routing.workload) ------------------------------

// The "public" fill, the one the official-schedule traces and the time model use (workload
// public_counts): every one of the N*E cells gets A / (N*E) rows and the last cell the remainder.
// When A < N*E every row lands in the last cell.
inline std::vector<int64_t> PublicCounts(int64_t A, int64_t N, int64_t E)
{
    const int64_t cells = N * E;
    std::vector<int64_t> counts(static_cast<size_t>(cells), A / cells);
    counts.back() += A % cells;
    return counts;
}

// The "even" fill, the benchmarks' (workload even_counts): A spread as evenly as possible, every
// cell A / (N*E) and the first A mod (N*E) cells (row-major) one more.
inline std::vector<int64_t> EvenCounts(int64_t A, int64_t N, int64_t E)
{
    const int64_t cells = N * E;
    std::vector<int64_t> counts(static_cast<size_t>(cells), A / cells);
    for (int64_t i = 0; i < A % cells; ++i) {
        ++counts[static_cast<size_t>(i)];
    }
    return counts;
}

// A flat row-major [N, E] count matrix as N rows of E.
inline std::vector<std::vector<int64_t>> CountRows(const std::vector<int64_t> &flat, int64_t E)
{
    std::vector<std::vector<int64_t>> rows;
    for (size_t at = 0; at < flat.size(); at += static_cast<size_t>(E)) {
        rows.emplace_back(flat.begin() + static_cast<std::ptrdiff_t>(at),
                          flat.begin() + static_cast<std::ptrdiff_t>(at + E));
    }
    return rows;
}

// ---- the reference --------------------------------------------------------------------------------

struct Problem {
    int64_t A = 0, N = 0, E = 0;
    int64_t rowBytes = 0;       // bytes of a tokens row (packed fp4: H / 2)
    int64_t scaleRowBytes = 0;  // bytes of a scales row; 0: no scales
    uint32_t countBytes = 4;    // 4 (int32 counts) or 8 (int64)
    int64_t type = 1;           // expert_token_num_type: 1 count, 0 cumsum
    int64_t idx = 0;            // idx_type: 0 gather, 1 scatter
    int64_t C = 0;              // num_max_tokens_per_rank (MoeReRoutingWithCapacity); 0: none
    bool restore = false;       // with C: the restore (counts are counts.T, the output is slotted)
};

// The four outputs as the bytes they have in memory.
struct Outputs {
    std::vector<uint8_t> tokens;   // [A, H], rowBytes a row
    std::vector<uint8_t> scales;   // like the scales, or [A] float32 zeros without scales
    std::vector<uint8_t> idx;      // [A] int32
    std::vector<uint8_t> experts;  // [E], countBytes each

    std::vector<int32_t> Index() const
    {
        std::vector<int32_t> v(idx.size() / 4);
        if (!v.empty()) {
            std::memcpy(v.data(), idx.data(), idx.size());
        }
        return v;
    }

    std::vector<int64_t> ExpertCounts(uint32_t countBytes) const
    {
        std::vector<int64_t> v(experts.size() / countBytes);
        for (size_t e = 0; e < v.size(); ++e) {
            v[e] = CountAt(experts.data(), countBytes, static_cast<int64_t>(e));
        }
        return v;
    }
};

// docs/spec.md, for honest counts (HonestCounts): cell (r, e) is a run of rows at src(r, e), the
// row-major exclusive prefix of the counts, in tokens, and at dst(r, e), the column-major one, in
// permute_tokens; its scale rows move with it; gather: idx[dst + k] = src + k, scatter:
// idx[src + k] = dst + k; expert_token_num = the column sums (count) or their running total
// (cumsum). Both prefixes are kept as running sums, so large N x E stay cheap.
// Static capacity (C > 0, docs/spec.md "Static capacity"; counts within capacity): the forward reads
// rank r's cells from row r*C on (its slot), the restore writes column e's cells from row e*C on;
// every output row no cell lands in stays zero and its gather index -1, and in scatter mode every
// input row no cell starts from has index -1.
inline Outputs Reference(const Problem &p, const uint8_t *tokens, const uint8_t *counts, const uint8_t *scales)
{
    Outputs o;
    const int64_t outScaleRow = p.scaleRowBytes ? p.scaleRowBytes : 4;
    o.tokens.assign(static_cast<size_t>(p.A * p.rowBytes), 0);
    o.scales.assign(static_cast<size_t>(p.A * outScaleRow), 0);
    o.idx.assign(static_cast<size_t>(p.A * 4), p.C > 0 ? 0xff : 0);  // -1 where nothing lands
    o.experts.assign(static_cast<size_t>(p.E * p.countBytes), 0);
    std::vector<int64_t> perExpert(static_cast<size_t>(p.E), 0);
    for (int64_t cell = 0; cell < p.N * p.E; ++cell) {
        perExpert[static_cast<size_t>(cell % p.E)] += CountAt(counts, p.countBytes, cell);
    }
    std::vector<int64_t> columnRow(static_cast<size_t>(p.E), 0);  // dst of the next cell of each column
    for (int64_t e = 1; e < p.E; ++e) {
        columnRow[e] = p.C > 0 && p.restore ? e * p.C : columnRow[e - 1] + perExpert[e - 1];
    }
    int64_t src = 0;  // row-major running prefix
    for (int64_t r = 0; r < p.N; ++r) {
        if (p.C > 0 && !p.restore) {
            src = r * p.C;  // the forward: rank r's slot
        }
        for (int64_t e = 0; e < p.E; ++e) {
            const int64_t n = CountAt(counts, p.countBytes, r * p.E + e);
            const int64_t dst = columnRow[e];
            for (int64_t k = 0; k < n; ++k) {
                if (p.rowBytes > 0) {
                    std::memcpy(&o.tokens[(dst + k) * p.rowBytes], tokens + (src + k) * p.rowBytes, p.rowBytes);
                }
                if (p.scaleRowBytes > 0) {
                    std::memcpy(&o.scales[(dst + k) * outScaleRow], scales + (src + k) * outScaleRow, outScaleRow);
                }
                const int32_t value = static_cast<int32_t>(p.idx == 0 ? src + k : dst + k);
                std::memcpy(&o.idx[(p.idx == 0 ? dst + k : src + k) * 4], &value, 4);
            }
            columnRow[e] += n;
            src += n;
        }
    }
    int64_t running = 0;
    for (int64_t e = 0; e < p.E; ++e) {
        running += perExpert[e];
        StoreCount(o.experts.data(), p.countBytes, e, p.type == 1 ? perExpert[e] : running);
    }
    return o;
}

}  // namespace moe_re_routing_test

#endif  // MOE_RE_ROUTING_TEST_REFERENCE_H
