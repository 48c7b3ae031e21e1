// The operator's contract (docs/aclnnMoeReRouting.md) as a byte-level reference for the fuzz
// targets: rank-major rows in, expert-major rows out, with the source index and the per-expert
// counts. Honest counts only (none negative, summing to A).
#ifndef MOE_RE_ROUTING_FUZZ_REFERENCE_H
#define MOE_RE_ROUTING_FUZZ_REFERENCE_H

#include <cstdint>
#include <cstring>
#include <vector>

namespace fuzz_ref {

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

// True when every count is >= 0 and they sum to tokenNum (no overflow).
inline bool Honest(const uint8_t *counts, uint32_t countBytes, int64_t cells, int64_t tokenNum)
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

struct Problem {
    int64_t A, N, E;
    int64_t rowBytes;       // bytes of a tokens row
    int64_t scaleRowBytes;  // 0: no scales
    uint32_t countBytes;    // 4 or 8
    int64_t type, idx;      // expert_token_num_type, idx_type
};

struct Outputs {
    std::vector<uint8_t> tokens, scales, idx, experts;
};

// Expected outputs of honest counts; without scales permute_per_token_scales is [A] zeros (FLOAT).
inline Outputs Reference(const Problem &p, const uint8_t *tokens, const uint8_t *counts, const uint8_t *scales)
{
    Outputs o;
    const int64_t outScaleRow = p.scaleRowBytes ? p.scaleRowBytes : 4;
    o.tokens.assign(p.A * p.rowBytes, 0);
    o.scales.assign(p.A * outScaleRow, 0);
    o.idx.assign(p.A * 4, 0);
    o.experts.assign(p.E * p.countBytes, 0);
    // Source offset of cell (r, e): rank-major prefix; destination: expert-major prefix.
    std::vector<int64_t> src(p.N * p.E), dst(p.N * p.E);
    int64_t at = 0;
    for (int64_t r = 0; r < p.N; ++r) {
        for (int64_t e = 0; e < p.E; ++e) {
            src[r * p.E + e] = at;
            at += CountAt(counts, p.countBytes, r * p.E + e);
        }
    }
    at = 0;
    std::vector<int64_t> perExpert(p.E, 0);
    for (int64_t e = 0; e < p.E; ++e) {
        for (int64_t r = 0; r < p.N; ++r) {
            dst[r * p.E + e] = at;
            const int64_t n = CountAt(counts, p.countBytes, r * p.E + e);
            at += n;
            perExpert[e] += n;
        }
    }
    for (int64_t cell = 0; cell < p.N * p.E; ++cell) {
        const int64_t n = CountAt(counts, p.countBytes, cell);
        for (int64_t k = 0; k < n; ++k) {
            const int64_t s = src[cell] + k;
            const int64_t d = dst[cell] + k;
            if (p.rowBytes > 0) {
                std::memcpy(&o.tokens[d * p.rowBytes], tokens + s * p.rowBytes, p.rowBytes);
            }
            if (p.scaleRowBytes > 0) {
                std::memcpy(&o.scales[d * outScaleRow], scales + s * outScaleRow, outScaleRow);
            }
            const int32_t value = static_cast<int32_t>(p.idx == 0 ? s : d);
            std::memcpy(&o.idx[(p.idx == 0 ? d : s) * 4], &value, 4);
        }
    }
    int64_t running = 0;
    for (int64_t e = 0; e < p.E; ++e) {
        running += perExpert[e];
        const int64_t v = p.type == 1 ? perExpert[e] : running;
        if (p.countBytes == 8) {
            std::memcpy(&o.experts[e * 8], &v, 8);
        } else {
            const int32_t v32 = static_cast<int32_t>(v);
            std::memcpy(&o.experts[e * 4], &v32, 4);
        }
    }
    return o;
}

}  // namespace fuzz_ref

#endif  // MOE_RE_ROUTING_FUZZ_REFERENCE_H
