// The split of the destination rows [0, A) over the vector cores: the one definition that the host
// tiling (op_host) and the kernel both use. It lives in op_kernel/ because CANN's source-package
// build copies only op_kernel/.
//
// Core b of `cores` owns [b*q + min(b, r), b*q + min(b, r) + q + (b < r)) with q = rows / cores and
// r = rows % cores: equal rows (hence equal bytes) per core, the first r cores one row more.
#ifndef MOE_RE_ROUTING_SPLIT_H
#define MOE_RE_ROUTING_SPLIT_H

#include <cstdint>

// In a kernel build `__aicore__` is a macro (the kernel includes kernel_operator.h first); the host
// compiler has no such attribute.
#ifdef __aicore__
#define MOE_RE_ROUTING_SPLIT_FN __aicore__ inline
#else
#define MOE_RE_ROUTING_SPLIT_FN inline
#endif

struct MoeReRoutingRowSplit {
    int64_t rowsPerCore;    // q
    int64_t rowsRemainder;  // r: cores [0, r) own q + 1 rows
};

struct MoeReRoutingRowRange {
    int64_t begin;
    int64_t end;
};

// The split of `rows` destination rows over `cores` (>= 1) cores.
MOE_RE_ROUTING_SPLIT_FN MoeReRoutingRowSplit MoeReRoutingSplitRows(int64_t rows, int64_t cores)
{
    return MoeReRoutingRowSplit{rows / cores, rows % cores};
}

// The destination rows of core `blockIdx` under `split`.
MOE_RE_ROUTING_SPLIT_FN MoeReRoutingRowRange MoeReRoutingCoreRows(const MoeReRoutingRowSplit &split, int64_t blockIdx)
{
    const int64_t extra = blockIdx < split.rowsRemainder ? blockIdx : split.rowsRemainder;
    const int64_t begin = blockIdx * split.rowsPerCore + extra;
    return MoeReRoutingRowRange{begin, begin + split.rowsPerCore + (blockIdx < split.rowsRemainder ? 1 : 0)};
}

#endif  // MOE_RE_ROUTING_SPLIT_H
