"""Every bad input raises the right exception with a message naming the parameter; nothing crashes
and nothing is written to out= arrays."""

from __future__ import annotations

import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing import errors
from moe_re_routing.errors import error_from_status

from conftest import random_counts, random_rows

VE = mrr.MoeReRoutingValueError
TE = mrr.MoeReRoutingTypeError


@pytest.fixture
def case(rng):
    a = 64
    return (
        random_rows(rng, (a, 16), np.float16),
        random_counts(rng, 4, 4, a, np.int32),
        rng.random(a, dtype=np.float32),
    )


def check(exc_type, words, fn, *args, **kw):
    with pytest.raises(exc_type) as ei:
        fn(*args, **kw)
    e = ei.value
    assert isinstance(e, mrr.MoeReRoutingError)
    assert e.code in (161001, 161002), e
    msg = e.message.lower()
    for w in words:
        assert w.lower() in msg, f"{w!r} not in {e.message!r}"
    return e


def test_hierarchy():
    assert issubclass(VE, ValueError) and issubclass(VE, mrr.MoeReRoutingError)
    assert issubclass(TE, TypeError) and issubclass(TE, mrr.MoeReRoutingError)
    assert issubclass(mrr.MoeReRoutingNullError, TypeError)
    assert not issubclass(mrr.MoeReRoutingTilingError, (ValueError, TypeError))
    invalid = errors.ACLNN_ERR_PARAM_INVALID
    # The C error kind picks the class; the message text never does.
    assert type(error_from_status(invalid, "dtype", kind="value")) is VE
    assert type(error_from_status(invalid, "shape", kind="type")) is TE
    null = mrr.MoeReRoutingNullError
    assert type(error_from_status(errors.ACLNN_ERR_PARAM_NULLPTR, "x", kind="nullptr")) is null
    # Without a kind (a library that does not report one) the status decides.
    assert type(error_from_status(invalid, "tokens dtype DOUBLE is not supported")) is VE
    assert type(error_from_status(errors.ACLNN_ERR_PARAM_NULLPTR, "x")) is mrr.MoeReRoutingNullError
    assert type(error_from_status(errors.ACLNN_ERR_INNER_TILING_ERROR, "x")) is mrr.MoeReRoutingTilingError
    assert type(error_from_status(errors.ACLNN_ERR_RUNTIME_ERROR, "x")) is mrr.MoeReRoutingRuntimeError
    assert type(error_from_status(errors.ACLNN_ERR_INNER, "x")) is mrr.MoeReRoutingError


def test_status_values_come_from_the_library():
    from moe_re_routing._ffi import lib

    codes = errors.status_codes()
    assert codes["ACLNN_ERR_PARAM_INVALID"] == 161002 and codes["ACL_ERROR_REPEAT_INITIALIZE"] == 100002
    for name, code in codes.items():
        assert getattr(errors, name) == code
        if name.startswith("ACLNN_"):
            assert mrr.status_name(code) == name
    assert mrr.status_name(12345) == "UNKNOWN"
    assert lib.MoeReRoutingLastErrorKind() in range(7)


def test_kind_not_message_decides(rng):
    # A value error whose message names a dtype: packed fp4 tokens with an odd H.
    t = mrr.DeviceTensor.from_array(random_rows(rng, (4, 2), np.uint8), dtype="float4_e2m1")
    outs = [
        mrr.DeviceTensor.empty((4, 4), "float4_e2m1"),
        mrr.DeviceTensor.empty((4,), np.float32),
        mrr.DeviceTensor.empty((4,), np.int32),
        mrr.DeviceTensor.empty((1,), np.int32),
    ]
    c = mrr.DeviceTensor.from_array(np.array([[4]], np.int32))
    try:
        odd = mrr.DeviceTensor(t.ptr, (4, 3), "float4_e2m1")
        e = check(VE, ["dtype", "even"], mrr.moe_re_routing_device, odd, c, out=outs)
        assert e.kind == "value"
    finally:
        for x in [t, c, *outs]:
            x.free()


def test_wrong_ranks(case):
    t, c, s = case
    check(VE, ["tokens"], mrr.moe_re_routing, t.reshape(-1), c, s)
    check(VE, ["tokens"], mrr.moe_re_routing, t.reshape(64, 4, 4), c, s)
    check(VE, ["expert_token_num_per_rank"], mrr.moe_re_routing, t, c.reshape(-1), s)
    check(VE, ["per_token_scales"], mrr.moe_re_routing, t, c, s.reshape(8, 4, 2))


def test_zero_d_tokens_report_their_shape(case):
    _, c, _ = case
    check(VE, ["tokens", "2-D", "shape []"], mrr.moe_re_routing, np.float16(1.0), c)


def test_wrong_shapes(case):
    t, c, s = case
    check(VE, ["per_token_scales"], mrr.moe_re_routing, t, c, s[:-1])
    check(VE, ["sum"], mrr.moe_re_routing, t[:-1], c, s[:-1])


def test_counts_values(case):
    t, c, s = case
    bad = c.copy()
    bad[0, 0] += 1
    check(VE, ["expert_token_num_per_rank", "sum"], mrr.moe_re_routing, t, bad, s)
    neg = c.copy()
    neg[0, 0] -= 5
    neg[1, 1] += 5
    check(VE, ["expert_token_num_per_rank", ">= 0"], mrr.moe_re_routing, t, neg, s)


def test_wrong_dtypes(case):
    t, c, s = case
    check(TE, ["tokens", "double"], mrr.moe_re_routing, t.astype(np.float64), c, s)
    ti64 = np.zeros(t.shape, np.int64)
    check(TE, ["tokens"], mrr.moe_re_routing, ti64, c, s)  # a counts-only dtype: C rejects it for tokens
    check(TE, ["expert_token_num_per_rank"], mrr.moe_re_routing, t, c.astype(np.int16), s)
    check(TE, ["expert_token_num_per_rank"], mrr.moe_re_routing, t, c.astype(np.float32), s)
    check(TE, ["per_token_scales"], mrr.moe_re_routing, t, c, s.astype(np.float16))
    check(TE, ["tokens"], mrr.moe_re_routing, t.astype(np.complex64), c, s)
    check(TE, ["tokens"], mrr.moe_re_routing, t.astype(bool), c, s)


def test_explicit_dtype_errors(case):
    t, c, _ = case
    check(TE, ["tokens_dtype"], mrr.moe_re_routing, t, c, tokens_dtype="float5")
    check(TE, ["tokens", "uint8"], mrr.moe_re_routing, t, c, tokens_dtype="float4_e2m1")  # fp16 carrier
    check(TE, ["scales_dtype"], mrr.moe_re_routing, t, c, None, scales_dtype="float8_e8m0")


def test_fp4_out_shape_mismatch(rng):
    # With tokens_dtype="float4_e2m1" the uint8 [A, 3] array is [A, 6] fp4; an unpacked [A, 6] uint8
    # out array would be [A, 12] fp4 and is rejected by the C shape check.
    t = random_rows(rng, (8, 3), np.uint8)
    c = np.array([[8]], np.int32)
    out = (np.empty((8, 6), np.uint8), np.empty(8, np.float32), np.empty(8, np.int32), np.empty(1, np.int32))
    check(VE, ["permute_tokens"], mrr.moe_re_routing, t, c, tokens_dtype="float4_e2m1", out=out)
    # An fp4 array whose carrier is not 1 byte is a type error on the Python side.
    check(TE, ["tokens"], mrr.moe_re_routing, t.astype(np.uint16), c, tokens_dtype="float4_e2m1")


def test_attributes(case):
    t, c, s = case
    check(VE, ["expert_token_num_type"], mrr.moe_re_routing, t, c, s, expert_token_num_type=2)
    check(VE, ["expert_token_num_type"], mrr.moe_re_routing, t, c, s, expert_token_num_type=-1)
    check(VE, ["idx_type"], mrr.moe_re_routing, t, c, s, idx_type=2)
    check(TE, ["idx_type"], mrr.moe_re_routing, t, c, s, idx_type="gather")
    check(TE, ["idx_type"], mrr.moe_re_routing, t, c, s, idx_type=1.0)
    check(VE, ["idx_type", "int64"], mrr.moe_re_routing, t, c, s, idx_type=2**70)
    check(VE, ["expert_token_num_type", "int64"], mrr.moe_re_routing, t, c, s, expert_token_num_type=-(2**64))
    check(TE, ["expert_token_num_type"], mrr.moe_re_routing, t, c, s, expert_token_num_type=True)


def test_none_strings_objects(case):
    t, c, _ = case
    e = check(TypeError, ["tokens"], mrr.moe_re_routing, None, c)
    assert isinstance(e, mrr.MoeReRoutingNullError) and e.code == 161001
    check(TypeError, ["expert_token_num_per_rank"], mrr.moe_re_routing, t, None)
    check(TE, ["tokens"], mrr.moe_re_routing, "tokens", c)
    check(TE, ["expert_token_num_per_rank"], mrr.moe_re_routing, t, b"\x01")
    check(TE, ["tokens", "object"], mrr.moe_re_routing, t.astype(object), c)
    check(TE, ["per_token_scales"], mrr.moe_re_routing, t, c, np.array(["a"] * 64))
    check(TE, ["tokens"], mrr.moe_re_routing, [[object()]], c)


def _outs(t, c, s):
    a = t.shape[0]
    return [np.full_like(t, 3), np.full_like(s, 3), np.full(a, 3, np.int32), np.full(c.shape[1], 3, c.dtype)]


def test_out_errors_and_nothing_written(case):
    t, c, s = case
    good = _outs(t, c, s)

    def bad_out(i, arr, exc, words):
        o = [x.copy() for x in good]
        o[i] = arr
        check(exc, words, mrr.moe_re_routing, t, c, s, out=tuple(o))
        for k, x in enumerate(o):
            if k != i:
                assert np.all(x.view(np.uint8) == good[k].view(np.uint8)), "an output was written on error"

    bad_out(0, np.empty((t.shape[0] + 1, t.shape[1]), t.dtype), VE, ["permute_tokens"])
    bad_out(0, np.empty(t.shape, np.int16), TE, ["permute_tokens"])
    bad_out(1, np.empty(s.shape, np.float16), TE, ["permute_per_token_scales"])
    bad_out(1, np.empty((t.shape[0], 2), np.float32), VE, ["permute_per_token_scales"])
    bad_out(2, np.empty(t.shape[0], np.int64), TE, ["permute_token_idx"])
    bad_out(2, np.empty(t.shape[0] - 1, np.int32), VE, ["permute_token_idx"])
    bad_out(3, np.empty(c.shape[1], np.int64), TE, ["expert_token_num"])
    bad_out(3, np.empty(c.shape[1] + 1, np.int32), VE, ["expert_token_num"])
    ro = np.empty_like(t)
    ro.flags.writeable = False
    bad_out(0, ro, VE, ["permute_tokens", "read-only"])
    bad_out(0, np.empty((t.shape[1], t.shape[0]), t.dtype).T, VE, ["permute_tokens", "contiguous"])
    bad_out(2, [0] * t.shape[0], TE, ["permute_token_idx"])
    check(TE, ["out"], mrr.moe_re_routing, t, c, s, out=tuple(good[:3]))
    check(TE, ["out"], mrr.moe_re_routing, t, c, s, out="abcd")


def test_messages_carry_status_name(case):
    t, c, s = case
    with pytest.raises(VE) as ei:
        mrr.moe_re_routing(t[:-1], c, s[:-1])
    assert "ACLNN_ERR_PARAM_INVALID" in str(ei.value)
    assert ei.value.code == 161002
