"""The numpy API against the reference, bit-exactly, over dtypes, modes and shapes."""

from __future__ import annotations

import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing._dtypes import numpy_dtype_for
from moe_re_routing.reference import moe_re_routing_reference
from moe_re_routing.workload import token_dtypes

from conftest import assert_bytes_equal, assert_result_equal, random_counts, random_rows

TOKEN_DTYPES = token_dtypes()  # every tokens dtype of the C table: (ACL name, carrier, explicit name)
E8M0 = numpy_dtype_for("FLOAT8_E8M0")


def run_both(tokens, counts, scales=None, ttype=1, itype=0, tokens_dtype=None, scales_dtype=None):
    res = mrr.moe_re_routing(
        tokens,
        counts,
        scales,
        expert_token_num_type=ttype,
        idx_type=itype,
        tokens_dtype=tokens_dtype,
        scales_dtype=scales_dtype,
    )
    ref = moe_re_routing_reference(tokens, counts, scales, ttype, itype)
    assert_result_equal(res, ref)
    return res


def test_token_dtypes_cover_the_table():
    names = {n for n, _, _ in TOKEN_DTYPES}
    for must in (
        "FLOAT16",
        "BF16",
        "INT8",
        "FLOAT8_E4M3FN",
        "FLOAT8_E5M2",
        "HIFLOAT8",
        "FLOAT4_E2M1",
        "FLOAT4_E1M2",
        "FLOAT",
        "INT32",
        "UINT8",
        "INT16",
        "UINT16",
    ):
        assert must in names


@pytest.mark.parametrize("acl,carrier,explicit", TOKEN_DTYPES, ids=[t[0] for t in TOKEN_DTYPES])
@pytest.mark.parametrize("count_dtype", [np.int32, np.int64])
def test_every_token_dtype(rng, acl, carrier, explicit, count_dtype):
    packed = acl.startswith("FLOAT4")
    for h in (2, 34, 1000):
        a = int(rng.integers(1, 300))
        c = random_counts(rng, int(rng.integers(1, 9)), int(rng.integers(1, 9)), a, count_dtype, 0.3)
        t = random_rows(rng, (a, h // 2 if packed else h), carrier)
        s = rng.random(a, dtype=np.float32)
        res = run_both(t, c, s, tokens_dtype=explicit)
        assert res.permute_tokens.dtype == carrier


@pytest.mark.parametrize("ttype", [0, 1])
@pytest.mark.parametrize("itype", [0, 1])
@pytest.mark.parametrize("scales", ["none", "A", "AS", "e8m0"])
def test_modes_and_scales(rng, ttype, itype, scales):
    for _ in range(3):
        a = int(rng.integers(0, 500))
        n, e = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        c = random_counts(rng, n, e, a, np.int64 if rng.random() < 0.5 else np.int32, 0.4)
        t = random_rows(rng, (a, int(rng.integers(1, 80))), np.float16)
        sdt = None
        if scales == "none":
            s = None
        elif scales == "A":
            s = random_rows(rng, (a,), np.float32)
        elif scales == "AS":
            s = random_rows(rng, (a, int(rng.integers(1, 6))), np.float32)
        else:
            s = random_rows(rng, (a,), E8M0)
            sdt = "float8_e8m0" if np.dtype(np.uint8) == E8M0 else None
        res = run_both(t, c, s, ttype, itype, scales_dtype=sdt)
        if s is None:
            assert res.permute_per_token_scales.dtype == np.float32
            assert res.permute_per_token_scales.shape == (a,)
            assert not res.permute_per_token_scales.any()


def test_e8m0_as_uint8_with_explicit_name(rng):
    a = 100
    c = random_counts(rng, 4, 4, a)
    t = random_rows(rng, (a, 16), np.int8)
    s = random_rows(rng, (a,), np.uint8)
    run_both(t, c, s, scales_dtype="float8_e8m0")


@pytest.mark.parametrize(
    "a,h,n,e,zero",
    [
        (0, 16, 3, 4, 0.0),  # A = 0
        (1, 1, 1, 1, 0.0),  # smallest
        (200, 7, 1, 8, 0.0),  # N = 1
        (200, 9, 8, 1, 0.0),  # E = 1
        (300, 5, 16, 16, 0.95),  # mostly-zero matrix
        (257, 13, 3, 5, 0.5),  # odd H, H*2 bytes not a multiple of 32
        (1000, 3, 300, 2, 0.0),  # N >= 300
        (1000, 3, 2, 333, 0.0),  # E >= 300
        (2000, 11, 300, 300, 0.0),  # N*E = 90000 cells, most zero
        (3000, 6, 7000, 3, 0.9),  # N = 7000: rank cursors exceed UB/4, the rank-major walk
    ],
)
def test_edge_shapes(rng, a, h, n, e, zero):
    c = random_counts(rng, n, e, a, np.int32, zero)
    t = random_rows(rng, (a, h), np.uint16)
    s = random_rows(rng, (a,), np.float32)
    for itype in (0, 1):
        run_both(t, c, s, 1, itype)


def test_all_rows_in_one_cell(rng):
    a = 333
    c = np.zeros((7, 5), np.int64)
    c[3, 2] = a
    t = random_rows(rng, (a, 40), np.int8)
    run_both(t, c, None, 0, 1)


def test_a_zero_outputs(rng):
    res = mrr.moe_re_routing(np.zeros((0, 8), np.float16), np.zeros((2, 3), np.int32))
    assert res.permute_tokens.shape == (0, 8)
    assert res.permute_token_idx.shape == (0,)
    assert res.expert_token_num.tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    "h,dtype",
    [(16383, np.uint16), (16384, np.uint16), (20000, "bfloat16"), (100000, np.float32)],
    ids=["16383", "16384", "20000-bf16", "100000-f32"],
)
def test_long_rows(rng, h, dtype):
    dt = np.dtype(dtype) if dtype != "bfloat16" else numpy_dtype_for("BF16")
    a = 24
    c = random_counts(rng, 3, 4, a, np.int32, 0.2)
    t = random_rows(rng, (a, h), dt)
    s = random_rows(rng, (a,), np.float32)
    run_both(t, c, s, 1, 0)


def test_out_fills_in_place_without_allocating(rng):
    a = 300
    c = random_counts(rng, 6, 5, a, np.int64)
    t = random_rows(rng, (a, 24), numpy_dtype_for("BF16"))
    s = random_rows(rng, (a, 3), np.float32)
    out = (np.full_like(t, 7), np.full_like(s, 7), np.full(a, -1, np.int32), np.full(5, -1, np.int64))
    res = mrr.moe_re_routing(t, c, s, out=out, idx_type=1)
    for got, given in zip(res, out):
        assert got is given
    assert_result_equal(res, moe_re_routing_reference(t, c, s, 1, 1))
    # A NamedTuple works as out= too, and the no-scales output is zero-filled in place.
    out2 = mrr.MoeReRoutingResult(
        np.empty_like(t), np.full(a, 5.0, np.float32), np.empty(a, np.int32), np.empty(5, np.int64)
    )
    res2 = mrr.moe_re_routing(t, c, out=out2)
    assert res2.permute_per_token_scales is out2.permute_per_token_scales
    assert not out2.permute_per_token_scales.any()


def test_noncontiguous_inputs_are_copied(rng):
    a = 120
    c = random_counts(rng, 4, 3, a)
    big = random_rows(rng, (a, 64), np.float16)
    t = big[:, ::2]  # strided view
    assert not t.flags.c_contiguous
    res = mrr.moe_re_routing(t, c)
    assert_bytes_equal(
        res.permute_tokens, np.ascontiguousarray(t)[moe_re_routing_reference(t, c).permute_token_idx]
    )
    # Fortran-ordered counts too.
    cf = np.asfortranarray(c)
    assert_result_equal(mrr.moe_re_routing(t, cf), moe_re_routing_reference(np.ascontiguousarray(t), c))


def test_inputs_not_modified(rng):
    a = 200
    c = random_counts(rng, 5, 5, a)
    t = random_rows(rng, (a, 10), np.int8)
    s = random_rows(rng, (a,), np.float32)
    t0, c0, s0 = t.copy(), c.copy(), s.copy()
    mrr.moe_re_routing(t, c, s)
    assert (
        np.array_equal(t, t0)
        and np.array_equal(c, c0)
        and np.array_equal(s.view(np.uint32), s0.view(np.uint32))
    )


def test_lists_and_readonly_inputs(rng):
    t = random_rows(rng, (6, 2), np.float16)
    t.flags.writeable = False
    res = mrr.moe_re_routing(t, [[1, 0, 2], [2, 1, 0]])  # a list becomes an int64 array
    assert res.expert_token_num.dtype == np.int64
    assert res.permute_token_idx.tolist() == [0, 3, 4, 5, 1, 2]


def test_result_is_named_tuple(rng):
    t = random_rows(rng, (6, 2), np.int8)
    tok, scales, idx, per_expert = mrr.moe_re_routing(t, np.array([[6]], np.int32))
    assert per_expert.tolist() == [6] and idx.shape == (6,) and tok.shape == t.shape and scales.shape == (6,)
    res = mrr.moe_re_routing(t, np.array([[6]], np.int32))
    assert res._fields == (
        "permute_tokens",
        "permute_per_token_scales",
        "permute_token_idx",
        "expert_token_num",
    )


def test_fp4_shape_convention(rng):
    a, h = 10, 6  # uint8 [A, H/2]
    t = random_rows(rng, (a, h // 2), np.uint8)
    c = random_counts(rng, 2, 2, a)
    res = mrr.moe_re_routing(t, c, tokens_dtype="float4_e2m1")
    assert res.permute_tokens.shape == (a, h // 2) and res.permute_tokens.dtype == np.uint8


@pytest.mark.slow
def test_random_many(rng):
    dts = TOKEN_DTYPES
    for _ in range(60):
        acl, carrier, explicit = dts[int(rng.integers(len(dts)))]
        packed = acl.startswith("FLOAT4")
        a = int(rng.integers(0, 3000))
        h = int(rng.integers(1, 600))
        h += packed * (h % 2)
        c = random_counts(
            rng,
            int(rng.integers(1, 40)),
            int(rng.integers(1, 40)),
            a,
            np.int32 if rng.random() < 0.5 else np.int64,
            float(rng.choice([0, 0.5, 0.9])),
        )
        t = random_rows(rng, (a, h // 2 if packed else h), carrier)
        s = random_rows(rng, (a, int(rng.integers(1, 4))), np.float32) if rng.random() < 0.5 else None
        run_both(t, c, s, int(rng.integers(2)), int(rng.integers(2)), tokens_dtype=explicit)
