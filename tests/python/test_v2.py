"""MoeReRoutingV2 (``expert_topk_weight``) and the restore, against the numpy reference, bit-exactly,
on the engine of the run (build.sh runs both): the weights move with their tokens, the restore is the
inverse (the same operator with the counts transposed), bad weights are named and write nothing."""

from __future__ import annotations

import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing.reference import gather_index, moe_re_routing_reference
from moe_re_routing.workload import token_dtypes

from conftest import assert_bytes_equal, assert_result_equal, random_counts, random_rows

SENTINEL = 0xA5


def _filled(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An array whose every byte is SENTINEL (any dtype)."""
    a = np.empty(shape, dtype)
    a.view(np.uint8)[...] = SENTINEL
    return a


def _case(rng: np.random.Generator, a: int, h: int, n: int, e: int, zero: float = 0.3):
    tokens = random_rows(rng, (a, h), np.int8)
    counts = random_counts(rng, n, e, a, np.int32, zero)
    scales = random_rows(rng, (a,), np.float32)
    weights = random_rows(rng, (a, 1), np.float32)
    return tokens, counts, scales, weights


@pytest.mark.parametrize("ttype", [1, 0])
@pytest.mark.parametrize("itype", [0, 1])
@pytest.mark.parametrize("wshape", ["official", "flat"])
@pytest.mark.parametrize("with_scales", [True, False])
def test_weights_move_with_their_tokens(rng, ttype, itype, wshape, with_scales):
    tokens, counts, scales, weights = _case(rng, 777, 40, 6, 5)
    if wshape == "flat":
        weights = weights.reshape(-1)
    sc = scales if with_scales else None
    res = mrr.moe_re_routing(tokens, counts, sc, weights, expert_token_num_type=ttype, idx_type=itype)
    assert_result_equal(res, moe_re_routing_reference(tokens, counts, sc, ttype, itype))
    # The weights as the reference moves a scale column (gather index: permute = weights[g]).
    assert_bytes_equal(res.permute_topk_weight, weights[gather_index(counts)], "permute_topk_weight")
    a, _, _, d = res  # still the four outputs of torch_npu's MoeReRouting
    assert a is res.permute_tokens and d is res.expert_token_num


def test_without_weights_the_result_has_none(rng):
    tokens, counts, scales, _ = _case(rng, 50, 8, 2, 3)
    assert mrr.moe_re_routing(tokens, counts, scales).permute_topk_weight is None


def test_out_takes_a_fifth_array_with_weights(rng):
    tokens, counts, scales, weights = _case(rng, 300, 16, 4, 4)
    ref = moe_re_routing_reference(tokens, counts, scales)
    out = [_filled(x.shape, x.dtype) for x in ref] + [_filled(weights.shape, weights.dtype)]
    res = mrr.moe_re_routing(tokens, counts, scales, weights, out=out)
    assert all(x is y for x, y in zip(res, out)) and res.permute_topk_weight is out[4]
    assert_result_equal(res, ref)
    assert_bytes_equal(out[4], weights[gather_index(counts)], "permute_topk_weight")
    with pytest.raises(mrr.MoeReRoutingTypeError, match="out must be a sequence of 5 arrays"):
        mrr.moe_re_routing(tokens, counts, scales, weights, out=out[:4])


@pytest.mark.parametrize(
    "bad,exc,message",
    [
        (lambda w: np.zeros(w.shape), mrr.MoeReRoutingTypeError, "expert_topk_weight has dtype DOUBLE"),
        (lambda w: w[:-1], mrr.MoeReRoutingValueError, r"expert_topk_weight has shape \[199, 1\]"),
        (lambda w: np.repeat(w, 2, axis=1), mrr.MoeReRoutingValueError, r"must be \[200, 1\] or \[200\]"),
    ],
)
def test_bad_weights_are_named_and_write_nothing(rng, bad, exc, message):
    tokens, counts, scales, weights = _case(rng, 200, 8, 3, 3)
    w = bad(weights)
    out = [_filled((200, 8), np.int8), _filled((200,), np.float32), _filled((200,), np.int32),
           _filled((3,), np.int32), _filled(w.shape, w.dtype)]  # fmt: skip
    with pytest.raises(exc, match=message):
        mrr.moe_re_routing(tokens, counts, scales, w, out=out)
    for o in out:
        assert (o.view(np.uint8) == SENTINEL).all()


@pytest.mark.parametrize("itype", [0, 1])
def test_restore_is_the_inverse(rng, itype):
    tokens, counts, scales, weights = _case(rng, 1000, 33, 7, 9)
    fwd = mrr.moe_re_routing(tokens, counts, scales, weights, idx_type=itype)
    back = mrr.restore(fwd.permute_tokens, counts, fwd.permute_per_token_scales, fwd.permute_topk_weight)
    assert_bytes_equal(back.tokens, tokens, "tokens")
    assert_bytes_equal(back.per_token_scales, scales, "per_token_scales")
    assert_bytes_equal(back.topk_weight, weights, "topk_weight")
    # The identity documented for C callers: re-routing with counts.T is the inverse.
    direct = mrr.moe_re_routing(fwd.permute_tokens, np.ascontiguousarray(counts.T))
    assert_bytes_equal(direct.permute_tokens, tokens, "permute_tokens with counts.T")


def test_restore_without_scales_or_weights_returns_none_for_them(rng):
    tokens, counts, _, _ = _case(rng, 100, 4, 3, 2)
    back = mrr.restore(mrr.moe_re_routing(tokens, counts).permute_tokens, counts)
    assert_bytes_equal(back.tokens, tokens, "tokens")
    assert back.per_token_scales is None and back.topk_weight is None


@pytest.mark.parametrize("acl,carrier,explicit", token_dtypes())
def test_restore_every_token_dtype(rng, acl, carrier, explicit):
    counts = random_counts(rng, 4, 6, 240, np.int64, 0.2)
    cols = 12 if explicit and explicit.startswith("float4") else 24
    tokens = random_rows(rng, (240, cols), carrier)
    fwd = mrr.moe_re_routing(tokens, counts, tokens_dtype=explicit)
    back = mrr.restore(fwd.permute_tokens, counts, tokens_dtype=explicit)
    assert_bytes_equal(back.tokens, tokens, acl)


def test_restore_checks_its_counts():
    with pytest.raises(mrr.MoeReRoutingValueError, match="expert_token_num_per_rank must be 2-D"):
        mrr.restore(np.zeros((4, 2), np.int8), np.zeros(4, np.int32))


def test_device_call_with_weights(rng):
    tokens, counts, scales, weights = _case(rng, 256, 16, 4, 4)
    ref = moe_re_routing_reference(tokens, counts, scales)
    ins = [mrr.DeviceTensor.from_array(x) for x in (tokens, counts, scales, weights)]
    outs = [mrr.DeviceTensor.empty(x.shape, x.dtype) for x in ref] + [
        mrr.DeviceTensor.empty(weights.shape, weights.dtype)
    ]
    try:
        res = mrr.moe_re_routing(*ins, out=outs)
        assert res.permute_topk_weight is outs[4]
        assert_result_equal(tuple(o.to_numpy() for o in res), ref)
        assert_bytes_equal(outs[4].to_numpy(), weights[gather_index(counts)], "permute_topk_weight")
    finally:
        for t in ins + outs:
            t.free()
