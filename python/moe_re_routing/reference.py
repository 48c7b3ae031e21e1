"""A numpy reference of MoeReRouting, written straight from the formulas in docs/spec.md.

It is independent of the kernel (no tiling, no chunks, no cores): the tests, ``moe-re-routing
verify`` and the demo compare the operator bit-exactly against it. Rows are moved as whole
rows, so it works for any dtype, including packed fp4 or hifloat8 carried as ``uint8``: only the
bytes of a row matter.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

__all__ = [
    "ReferenceResult",
    "capacity_reference",
    "cell_offsets",
    "gather_index",
    "moe_re_routing_reference",
]


class ReferenceResult(NamedTuple):
    """The four outputs of the reference, same order and meaning as the operator's."""

    permute_tokens: np.ndarray
    permute_per_token_scales: np.ndarray
    permute_token_idx: np.ndarray
    expert_token_num: np.ndarray


def cell_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source and destination row offsets of every ``(r, e)`` cell.

    ``counts``: ``[N, E]`` integer array. Returns ``(src, dst)``, both ``[N, E]`` int64:
    ``src`` is the row-major exclusive prefix sum of ``counts`` (rank-major layout), ``dst`` the
    column-major exclusive prefix sum (expert-major layout).
    """
    c = np.asarray(counts, dtype=np.int64)
    n, e = c.shape
    flat_rm = c.reshape(-1)
    src = (np.cumsum(flat_rm) - flat_rm).reshape(n, e)
    flat_cm = c.T.reshape(-1)  # order (e, r): expert-major
    dst = (np.cumsum(flat_cm) - flat_cm).reshape(e, n).T
    return src, dst


def gather_index(counts: np.ndarray) -> np.ndarray:
    """The gather index ``g`` (int64, ``[A]``): ``permute_tokens[j] = tokens[g[j]]``.

    Built per cell as in docs/spec.md: ``g[dst(r, e) + k] = src(r, e) + k`` for ``k < counts[r, e]``.
    """
    c = np.asarray(counts, dtype=np.int64)
    src, dst = cell_offsets(c)
    total = int(c.sum())
    g = np.empty(total, dtype=np.int64)
    # Visit cells in destination (expert-major) order; every cell is a contiguous run in both
    # layouts, so the run is an arange in both.
    for e in range(c.shape[1]):
        for r in range(c.shape[0]):
            k = int(c[r, e])
            if k:
                d = int(dst[r, e])
                g[d : d + k] = np.arange(src[r, e], src[r, e] + k, dtype=np.int64)
    return g


def _gather_index_fast(c: np.ndarray) -> np.ndarray:
    """Same as :func:`gather_index`, vectorised (used for large N*E); tests check they agree."""
    src, dst = cell_offsets(c)
    runs = c.T.reshape(-1)  # expert-major cell order == destination order
    shift = (src - dst).T.reshape(-1)
    return np.repeat(shift, runs) + np.arange(int(runs.sum()), dtype=np.int64)


def moe_re_routing_reference(
    tokens: np.ndarray,
    expert_token_num_per_rank: np.ndarray,
    per_token_scales: Optional[np.ndarray] = None,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
) -> ReferenceResult:
    """Reference MoeReRouting.

    Args:
        tokens: ``[A, X]`` array of any dtype (``X = H`` elements, or ``H/2`` bytes for packed fp4).
        expert_token_num_per_rank: ``[N, E]`` int32 or int64, non-negative, summing to ``A``.
        per_token_scales: ``None``, ``[A]`` or ``[A, S]`` of any dtype.
        expert_token_num_type: 1 count, 0 cumsum (inclusive running total).
        idx_type: 0 gather (``permute_tokens == tokens[idx]``), 1 scatter
            (``permute_tokens[idx] == tokens``).

    Returns:
        ``permute_tokens`` (shape/dtype of ``tokens``), ``permute_per_token_scales`` (shape/dtype of
        the scales, or zero float32 ``[A]``), ``permute_token_idx`` (int32 ``[A]``),
        ``expert_token_num`` (``[E]``, dtype of the counts).

    Raises:
        ValueError: on counts that are negative or do not sum to ``A``, or attributes out of range.
    """
    counts = np.asarray(expert_token_num_per_rank)
    if counts.ndim != 2:
        raise ValueError("expert_token_num_per_rank must be [N, E]")
    if (counts < 0).any():
        raise ValueError("expert_token_num_per_rank has negative values")
    a = tokens.shape[0]
    if int(counts.astype(np.int64).sum()) != a:
        raise ValueError("expert_token_num_per_rank does not sum to A")
    if expert_token_num_type not in (0, 1) or idx_type not in (0, 1):
        raise ValueError("attribute out of range")

    c64 = counts.astype(np.int64)
    g = gather_index(c64) if c64.size <= 4096 else _gather_index_fast(c64)

    permute_tokens = tokens[g]
    if per_token_scales is None:
        permute_scales = np.zeros(a, dtype=np.float32)
    else:
        permute_scales = np.asarray(per_token_scales)[g]

    if idx_type == 0:
        idx = g.astype(np.int32)
    else:
        idx = np.empty(a, dtype=np.int32)
        idx[g] = np.arange(a, dtype=np.int32)  # idx[src + k] = dst + k

    per_expert = c64.sum(axis=0)
    if expert_token_num_type == 0:
        per_expert = np.cumsum(per_expert)
    return ReferenceResult(permute_tokens, permute_scales, idx, per_expert.astype(counts.dtype))


def _slotted(rows: np.ndarray, per_slot: np.ndarray, capacity: int) -> np.ndarray:
    """Packed rows (int64) of slots holding ``per_slot`` tokens each, as rows of C-row slots: the
    k-th token of slot i is row ``i*C + k``."""
    starts = np.cumsum(per_slot) - per_slot
    slot = np.searchsorted(np.cumsum(per_slot), rows, side="right")
    slotted: np.ndarray = slot * capacity + (rows - starts[slot])
    return slotted


def capacity_reference(
    tokens: np.ndarray,
    expert_token_num_per_rank: np.ndarray,
    num_max_tokens_per_rank: int,
    per_token_scales: Optional[np.ndarray] = None,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    restore: bool = False,
) -> ReferenceResult:
    """Reference MoeReRoutingWithCapacity (docs/spec.md, "Static capacity").

    The packed operator on the tokens the slots hold, with rows renumbered: forward
    (``restore=False``), ``tokens`` is ``[N*C, X]`` and the k-th token of rank r sits at row
    ``r*C + k``; the outputs keep ``N*C`` rows, the T tokens expert-major first, then zeros, index
    -1 where no token is. Restore (``restore=True``, counts given as ``[E, N]``, i.e. the forward's
    ``counts.T``): the first T rows of ``tokens`` are the packed input, and the k-th token of
    column j lands at output row ``j*C + k``.

    Raises:
        ValueError: on negative counts or a slot holding more than ``C`` tokens.
    """
    c64 = np.asarray(expert_token_num_per_rank).astype(np.int64)
    cap = int(num_max_tokens_per_rank)
    if (c64 < 0).any():
        raise ValueError("expert_token_num_per_rank has negative values")
    slots = c64.sum(axis=0) if restore else c64.sum(axis=1)
    if (slots > cap).any():
        raise ValueError("a slot holds more than num_max_tokens_per_rank tokens")
    rows = tokens.shape[0]
    total = int(c64.sum())
    g = gather_index(c64) if c64.size <= 4096 else _gather_index_fast(c64)  # packed source rows
    dst = np.arange(total, dtype=np.int64)  # packed destination rows
    if restore:
        dst = _slotted(dst, c64.sum(axis=0), cap)
    else:
        g = _slotted(g, c64.sum(axis=1), cap)
    out_tokens = np.zeros_like(tokens)
    out_tokens[dst] = tokens[g]
    if per_token_scales is None:
        out_scales = np.zeros(rows, dtype=np.float32)
    else:
        scales = np.asarray(per_token_scales)
        out_scales = np.zeros_like(scales)
        out_scales[dst] = scales[g]
    idx = np.full(rows, -1, dtype=np.int32)
    if idx_type == 0:
        idx[dst] = g
    else:
        idx[g] = dst
    per_expert = c64.sum(axis=0)
    if expert_token_num_type == 0:
        per_expert = np.cumsum(per_expert)
    counts_dtype = np.asarray(expert_token_num_per_rank).dtype
    return ReferenceResult(out_tokens, out_scales, idx, per_expert.astype(counts_dtype))
