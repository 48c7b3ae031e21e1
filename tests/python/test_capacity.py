"""MoeReRoutingWithCapacity (``num_max_tokens_per_rank``) and the restore with capacity, against the
numpy reference, bit-exactly, on the engine of the run (build.sh runs both): tokens in fixed per-rank
slots, static output shapes with zeros / -1 where no token is, the restore back into the slots, and
a bad capacity or a full slot named with nothing written."""

from __future__ import annotations

import re

import ml_dtypes
import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing.reference import capacity_reference
from moe_re_routing.workload import slot_counts

from conftest import assert_bytes_equal, assert_result_equal, random_rows

SENTINEL = 0xA5


def _filled(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    a = np.empty(shape, dtype)
    a.view(np.uint8)[...] = SENTINEL
    return a


def _case(rng, n, e, c, h, dtype=np.int8, counts_dtype=np.int32):
    counts = slot_counts(rng, n, e, c, counts_dtype)
    tokens = random_rows(rng, (n * c, h), dtype)  # slot tails hold garbage: it must not leak
    scales = random_rows(rng, (n * c,), np.float32)
    weights = random_rows(rng, (n * c, 1), np.float32)
    return tokens, counts, scales, weights


@pytest.mark.parametrize("ttype", [1, 0])
@pytest.mark.parametrize("itype", [0, 1])
@pytest.mark.parametrize("counts_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("scales", ["none", "flat", "cols"])
def test_forward_matches_the_reference(rng, ttype, itype, counts_dtype, scales):
    tokens, counts, sc, weights = _case(rng, 5, 7, 24, 40, np.int8, counts_dtype)
    if scales == "none":
        sc = None
    elif scales == "cols":
        sc = random_rows(rng, (tokens.shape[0], 3), np.float32)
    res = mrr.moe_re_routing(
        tokens, counts, sc, weights, expert_token_num_type=ttype, idx_type=itype, num_max_tokens_per_rank=24
    )
    assert_result_equal(res, capacity_reference(tokens, counts, 24, sc, ttype, itype))
    want_w = capacity_reference(tokens, counts, 24, weights, ttype, itype).permute_per_token_scales
    assert_bytes_equal(res.permute_topk_weight, want_w, "permute_topk_weight")
    t = int(counts.sum())
    assert res.permute_tokens.shape == tokens.shape  # static: N*C rows whatever the counts
    assert not res.permute_tokens[t:].any()
    if itype == 0:
        assert (res.permute_token_idx[t:] == -1).all()


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32])
def test_restore_puts_every_token_back_into_its_slot(rng, dtype):
    n, e, c = 4, 6, 33
    tokens, counts, scales, weights = _case(rng, n, e, c, 16, dtype)
    fwd = mrr.moe_re_routing(tokens, counts, scales, weights, num_max_tokens_per_rank=c)
    back = mrr.restore(
        fwd.permute_tokens,
        counts,
        fwd.permute_per_token_scales,
        fwd.permute_topk_weight,
        num_max_tokens_per_rank=c,
    )
    held = counts.sum(axis=1)
    for r in range(n):
        rows = slice(r * c, r * c + int(held[r]))
        tail = slice(r * c + int(held[r]), (r + 1) * c)
        assert_bytes_equal(back.tokens[rows], tokens[rows], f"rank {r} tokens")
        assert_bytes_equal(back.per_token_scales[rows], scales[rows], f"rank {r} scales")
        assert_bytes_equal(back.topk_weight[rows], weights[rows], f"rank {r} weights")
        assert not back.tokens[tail].view(np.uint8).any(), f"rank {r} slot tail is not zero"
        assert not back.topk_weight[tail].view(np.uint8).any()


@pytest.mark.parametrize("itype", [0, 1])
def test_restore_matches_the_reference(rng, itype):
    n, e, c = 3, 5, 17
    counts = slot_counts(rng, n, e, c)
    permuted = random_rows(rng, (n * c, 12), np.int8)  # rows past T are ignored
    got = mrr.restore(permuted, counts, num_max_tokens_per_rank=c)
    want = capacity_reference(permuted, np.ascontiguousarray(counts.T), c, restore=True)
    assert_bytes_equal(got.tokens, want.permute_tokens, "tokens")
    assert got.per_token_scales is None and got.topk_weight is None


def test_no_tokens_at_all(rng):
    tokens = random_rows(rng, (3 * 8, 4), np.int8)
    counts = np.zeros((3, 2), np.int32)
    res = mrr.moe_re_routing(tokens, counts, num_max_tokens_per_rank=8, idx_type=1)
    assert not res.permute_tokens.any() and (res.permute_token_idx == -1).all()
    assert (res.expert_token_num == 0).all()


def test_out_and_the_general_path_agree_with_the_one_call_path(rng):
    tokens, counts, scales, weights = _case(rng, 4, 4, 20, 8)
    ref = mrr.moe_re_routing(tokens, counts, scales, weights, num_max_tokens_per_rank=20)
    out = [_filled(x.shape, x.dtype) for x in ref] + [_filled(weights.shape, weights.dtype)]
    res = mrr.moe_re_routing(tokens, counts, scales, weights, num_max_tokens_per_rank=20, out=out)
    assert res.permute_tokens is out[0] and res.permute_topk_weight is out[4]
    assert_result_equal(res, ref)
    # A non-contiguous input takes the general path (aclTensors): same bytes.
    strided = np.asfortranarray(tokens)
    general = mrr.moe_re_routing(strided, counts, scales, weights, num_max_tokens_per_rank=20)
    assert_result_equal(general, ref)
    assert_bytes_equal(general.permute_topk_weight, ref.permute_topk_weight)


def test_device_tensors(rng):
    tokens, counts, scales, _ = _case(rng, 2, 3, 10, 8)
    ref = capacity_reference(tokens, counts, 10, scales)
    ins = [mrr.DeviceTensor.from_array(x) for x in (tokens, counts, scales)]
    outs = [mrr.DeviceTensor.empty(x.shape, x.dtype) for x in ref]
    try:
        mrr.moe_re_routing(*ins, num_max_tokens_per_rank=10, out=outs)
        for o, want, name in zip(outs, ref, ("tokens", "scales", "idx", "experts")):
            assert_bytes_equal(o.to_numpy(), want, name)
    finally:
        for t in ins + outs:
            t.free()


@pytest.mark.parametrize(
    "change, message",
    [
        ("capacity_zero", "num_max_tokens_per_rank is 0 but must be >= 1"),
        ("rows", "tokens has 39 rows but must be N * num_max_tokens_per_rank = 4 * 10 = 40"),
        ("full", "expert_token_num_per_rank row 1 (rank 1) sums to 11 but num_max_tokens_per_rank is 10"),
    ],
)
def test_bad_capacity_is_named_and_writes_nothing(rng, change, message):
    tokens, counts, scales, _ = _case(rng, 4, 3, 10, 8)
    cap = 10
    if change == "capacity_zero":
        cap = 0
    elif change == "rows":
        tokens, scales = tokens[:-1], scales[:-1]
    else:
        counts[1] = 0
        counts[1, 2] = 11
    out = [_filled(x.shape, x.dtype) for x in (tokens, scales)]
    out += [_filled((tokens.shape[0],), np.int32), _filled((3,), np.int32)]
    with pytest.raises(mrr.MoeReRoutingValueError, match=re.escape(message)):
        mrr.moe_re_routing(tokens, counts, scales, num_max_tokens_per_rank=cap, out=out)
    assert all((o.view(np.uint8) == SENTINEL).all() for o in out)


def test_capacity_must_be_an_int(rng):
    tokens, counts, _, _ = _case(rng, 2, 2, 4, 4)
    for bad in (True, 4.0, "4"):
        with pytest.raises(mrr.MoeReRoutingTypeError, match="num_max_tokens_per_rank must be an int"):
            mrr.moe_re_routing(tokens, counts, num_max_tokens_per_rank=bad)  # type: ignore[arg-type]


def test_restore_of_a_slot_over_capacity_is_named(rng):
    counts = np.array([[3, 0], [2, 1]], np.int32)  # expert 0 receives 5 tokens from rank 0 and 1
    permuted = random_rows(rng, (2 * 4, 4), np.int8)
    with pytest.raises(mrr.MoeReRoutingValueError, match=r"rank 0 of the restore's counts.T\) sums to 5"):
        mrr.restore(permuted, counts.T.copy(), num_max_tokens_per_rank=4)
