"""The official A2/A3 operator's split, modelled: the one home of that model.

The official Atlas A2/A3 kernel of MoeReRouting gives whole source ranks to cores:
``blockFactor = ceil(N / cores)`` ranks per core on ``blockDim = ceil(N / blockFactor)`` cores (1
when ``A = 0``), core ``b`` taking ranks ``b, b + blockDim, b + 2 blockDim, ...``. So at most ``N``
cores work, and past the core count whole cores fall idle (N = 64 on 48 cores: 32 cores with 2
ranks each). ``moe-re-routing plan`` and ``benchmarks/schedule_table.py`` compare our split with
this model; the test-only official-schedule kernel (``benchmarks/official_model``, which the time
model is calibrated on) follows the same schedule, and the tests check that the two agree.
"""

from __future__ import annotations

import numpy as np

__all__ = ["official_block_dim", "official_split"]


def official_block_dim(n: int, a: int, cores: int) -> int:
    """blockDim of the official A2/A3 kernel: ``ceil(N / ceil(N / cores))``, 1 when ``A = 0``.

    Args:
        n: ranks N (>= 1).
        a: token rows A (>= 0).
        cores: AIV cores of the platform (>= 1).
    """
    if a == 0 or n <= 0:
        return 1
    factor = -(-n // cores)  # ranks per core, ceil(N / cores)
    return -(-n // factor)


def official_split(counts: np.ndarray, cores: int, in_row: int, out_row: int) -> list[dict[str, int]]:
    """Per-core bytes of the official A2/A3 split: whole source ranks per core, dealt round-robin
    over :func:`official_block_dim` cores.

    Args:
        counts: ``[N, E]`` integer counts (any integer dtype).
        cores: AIV cores of the platform.
        in_row: bytes one row reads (token row + scale row).
        out_row: bytes one row writes (token row + scale row + index).

    Returns:
        One dict per core: ``ranks``, ``rows``, ``bytes_in``, ``bytes_out``.
    """
    n = counts.shape[0]
    rows = counts.astype(np.int64).sum(axis=1)
    block_dim = official_block_dim(n, int(rows.sum()), cores)
    out = []
    for b in range(block_dim):
        mine = rows[b::block_dim]
        r = int(mine.sum())
        out.append({"ranks": int(mine.size), "rows": r, "bytes_in": r * in_row, "bytes_out": r * out_row})
    return out
