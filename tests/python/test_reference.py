"""The numpy reference against hand-computed results and its own invariants."""

from __future__ import annotations

import numpy as np
import pytest

from moe_re_routing.reference import _gather_index_fast, cell_offsets, gather_index, moe_re_routing_reference

from conftest import random_counts, random_rows

# N = 2 ranks, E = 3 experts. Rank-major rows: r0 -> e0: [0], e2: [1, 2]; r1 -> e0: [3, 4], e1: [5].
# Expert-major: e0: r0 [0], r1 [3, 4]; e1: r1 [5]; e2: r0 [1, 2].
COUNTS_2x3 = np.array([[1, 0, 2], [2, 1, 0]], dtype=np.int32)


def test_hand_computed_2x3_gather_count():
    tokens = np.arange(6 * 2, dtype=np.int8).reshape(6, 2)
    scales = np.array([10, 11, 12, 13, 14, 15], dtype=np.float32)
    res = moe_re_routing_reference(tokens, COUNTS_2x3, scales)
    assert res.permute_token_idx.tolist() == [0, 3, 4, 5, 1, 2]
    assert res.permute_tokens.tolist() == [[0, 1], [6, 7], [8, 9], [10, 11], [2, 3], [4, 5]]
    assert res.permute_per_token_scales.tolist() == [10, 13, 14, 15, 11, 12]
    assert res.expert_token_num.tolist() == [3, 1, 2]
    assert res.expert_token_num.dtype == np.int32
    assert res.permute_token_idx.dtype == np.int32


def test_hand_computed_2x3_scatter_cumsum():
    tokens = np.arange(6, dtype=np.float16).reshape(6, 1)
    res = moe_re_routing_reference(
        tokens, COUNTS_2x3.astype(np.int64), None, expert_token_num_type=0, idx_type=1
    )
    # idx[src] = dst: row 0 -> 0, rows 1, 2 -> 4, 5, rows 3, 4 -> 1, 2, row 5 -> 3.
    assert res.permute_token_idx.tolist() == [0, 4, 5, 1, 2, 3]
    assert res.expert_token_num.tolist() == [3, 4, 6]
    assert res.expert_token_num.dtype == np.int64
    assert res.permute_per_token_scales.dtype == np.float32
    assert res.permute_per_token_scales.tolist() == [0.0] * 6


def test_cell_offsets_2x3():
    src, dst = cell_offsets(COUNTS_2x3)
    assert src.tolist() == [[0, 1, 1], [3, 5, 6]]
    assert dst.tolist() == [[0, 3, 4], [1, 3, 6]]


@pytest.mark.parametrize(
    "n,e,a,zero", [(1, 1, 5, 0.0), (3, 7, 100, 0.5), (16, 16, 1000, 0.9), (5, 2, 0, 0.0)]
)
def test_gather_fast_matches_loop(rng, n, e, a, zero):
    c = random_counts(rng, n, e, a, np.int64, zero)
    assert np.array_equal(gather_index(c), _gather_index_fast(c))


def test_invariants_random(rng):
    for _ in range(20):
        n, e = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        a = int(rng.integers(0, 200))
        c = random_counts(rng, n, e, a, np.int32, 0.3)
        tokens = random_rows(rng, (a, 3), np.uint16)
        s = random_rows(rng, (a, 2), np.float32)
        g = moe_re_routing_reference(tokens, c, s, idx_type=0)
        sc = moe_re_routing_reference(tokens, c, s, idx_type=1)
        assert np.array_equal(g.permute_tokens.view(np.uint8), tokens[g.permute_token_idx].view(np.uint8))
        assert np.array_equal(g.permute_tokens[sc.permute_token_idx], tokens)
        assert np.array_equal(np.sort(g.permute_token_idx), np.arange(a))
        assert np.array_equal(g.expert_token_num, c.sum(axis=0))
        # Within each expert the rows keep rank order, and rows of a cell keep their order: the
        # expert's segment of the gather index is strictly increasing, and every row of it comes
        # from a cell of that expert.
        src, _ = cell_offsets(c)
        bounds = np.concatenate([[0], np.cumsum(c.sum(axis=0))])
        for ex in range(e):
            seg = g.permute_token_idx[bounds[ex] : bounds[ex + 1]]
            assert np.all(np.diff(seg) > 0), (ex, seg)
            mine = {int(src[r, ex]) + k for r in range(n) for k in range(int(c[r, ex]))}
            assert set(seg.tolist()) == mine, ex


def test_ordering_invariant_catches_a_reordered_expert():
    """The ordering check above is not vacuous: swapping two rows of one expert's segment (the
    same rows, wrong order) breaks it."""
    c = np.array([[2, 1], [1, 2]], np.int32)  # expert 0: rows 0, 1 (rank 0) then 3 (rank 1)
    g = moe_re_routing_reference(np.arange(6, dtype=np.int8).reshape(6, 1), c)
    seg = g.permute_token_idx[:3].copy()
    assert seg.tolist() == [0, 1, 3] and np.all(np.diff(seg) > 0)
    seg[[1, 2]] = seg[[2, 1]]
    assert not np.all(np.diff(seg) > 0)


def test_reference_rejects_bad_counts():
    t = np.zeros((3, 2), np.int8)
    with pytest.raises(ValueError):
        moe_re_routing_reference(t, np.array([[1, 1]], np.int32))
    with pytest.raises(ValueError):
        moe_re_routing_reference(t, np.array([[4, -1]], np.int32))
