"""moe_re_routing.workload: the generators, dtype names, payload and comparison the CLI, the
benchmarks and the tests share."""

from __future__ import annotations

import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing import workload


@pytest.mark.parametrize("n,e,a", [(1, 1, 0), (3, 5, 17), (16, 16, 16384), (7, 2, 3)])
def test_counts_sum_to_a_and_keep_dtype(n: int, e: int, a: int) -> None:
    rng = np.random.default_rng(3)
    for fill in workload.FILLS:
        c = workload.fill_counts(fill, rng, n, e, a, np.int64)
        assert c.shape == (n, e) and c.dtype == np.int64, fill
        assert int(c.sum()) == a and int(c.min()) >= 0, fill
        assert workload.fill_counts(fill, rng, n, e, a).dtype == np.int32
    assert workload.random_counts(rng, n, e, a, np.int64, 0.5).sum() == a


def test_even_fill_differs_by_at_most_one_row_the_extra_rows_first() -> None:
    c = workload.even_counts(3, 4, 17).reshape(-1)  # 17 = 12 * 1 + 5
    assert c.tolist() == [2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
    decode = workload.even_counts(32, 256, 64).reshape(-1)  # fewer rows than cells: one per cell
    assert decode[:64].tolist() == [1] * 64 and int(decode[64:].sum()) == 0


def test_public_fill_puts_the_remainder_in_the_last_cell() -> None:
    c = workload.public_counts(3, 4, 17).reshape(-1)
    assert c.tolist() == [1] * 11 + [6]
    decode = workload.public_counts(32, 256, 64).reshape(-1)  # fewer rows than cells: all in one
    assert int(decode[-1]) == 64 and int(decode[:-1].sum()) == 0


def test_fill_names_and_errors() -> None:
    assert workload.FILLS == ("even", "public", "random")
    rng = np.random.default_rng(0)
    assert np.array_equal(workload.fill_counts("even", rng, 2, 3, 7), workload.even_counts(2, 3, 7))
    assert np.array_equal(workload.fill_counts("public", rng, 2, 3, 7), workload.public_counts(2, 3, 7))
    with pytest.raises(mrr.MoeReRoutingValueError, match="unknown counts fill 'uniform'; expected one of"):
        workload.fill_counts("uniform", rng, 2, 3, 7)
    assert np.array_equal(workload.make_case(rng, 7, 4, 2, 3).counts, workload.even_counts(2, 3, 7))


def test_counts_reject_empty_shapes() -> None:
    with pytest.raises(mrr.MoeReRoutingValueError, match="N >= 1"):
        workload.public_counts(0, 4, 10)
    with pytest.raises(mrr.MoeReRoutingValueError, match="E >= 1"):
        workload.even_counts(4, 0, 10)
    with pytest.raises(mrr.MoeReRoutingValueError, match="A >= 0"):
        workload.random_counts(np.random.default_rng(0), 2, 2, -1)


def test_random_bytes_is_deterministic_per_seed() -> None:
    a = workload.random_bytes(np.random.default_rng(5), (3, 4), np.float16)
    b = workload.random_bytes(np.random.default_rng(5), (3, 4), np.float16)
    assert a.shape == (3, 4) and a.dtype == np.float16
    assert workload.bytes_mismatch(a, b) is None


def test_parse_dtype_names() -> None:
    assert workload.parse_dtype("bf16").carrier.name == "bfloat16"
    assert workload.parse_dtype("float16") == (np.dtype(np.float16), None, False)
    fp4 = workload.parse_dtype("FLOAT4_E2M1")
    assert fp4 == (np.dtype(np.uint8), "float4_e2m1", True)
    assert workload.parse_dtype("hifloat8") == (np.dtype(np.uint8), "hifloat8", False)
    with pytest.raises(mrr.MoeReRoutingValueError, match="unknown dtype 'nope'"):
        workload.parse_dtype("nope")


def test_make_case_shapes() -> None:
    rng = np.random.default_rng(0)
    case = workload.make_case(rng, 10, 6, 2, 3, "float4_e2m1", np.int64, True, "random")
    assert case.tokens.shape == (10, 3) and case.tokens.dtype == np.uint8
    assert case.counts.shape == (2, 3) and int(case.counts.sum()) == 10
    assert case.scales is not None and case.scales.shape == (10,)
    assert case.tokens_dtype == "float4_e2m1"
    with pytest.raises(mrr.MoeReRoutingValueError, match="even H"):
        workload.make_case(rng, 10, 5, 2, 3, "float4_e2m1")


def test_payload_counts_every_output_byte() -> None:
    tokens = np.zeros((8, 16), np.float16)
    counts = np.array([[3, 5]], np.int64)
    with_scales = workload.payload(tokens, counts, np.zeros(8, np.float32))
    assert with_scales.read == 256 + 16 + 32
    assert with_scales.written == 256 + 32 + 32 + 16
    assert with_scales.total == with_scales.read + with_scales.written
    without = workload.payload(tokens, counts, None)
    assert without.read == 256 + 16 and without.written == 256 + 32 + 32 + 16  # zero-filled [A] float32
    res = mrr.moe_re_routing(tokens, counts)
    assert sum(x.nbytes for x in res) == without.written


def test_bytes_mismatch_and_mismatched_outputs() -> None:
    a = np.arange(6, dtype=np.int32)
    assert workload.bytes_mismatch(a, a.copy()) is None
    b = a.copy()
    b[2] = 99
    assert workload.bytes_mismatch(a, b) == "1 bytes differ, first at byte 8"
    assert workload.bytes_mismatch(a, a.astype(np.int64)) == "dtype int32 != int64"
    assert workload.bytes_mismatch(a, a.reshape(2, 3)) == "shape (6,) != (2, 3)"
    nan = np.array([np.nan], np.float32)
    other_nan = nan.view(np.uint32) | np.uint32(1)
    assert workload.bytes_mismatch(nan, other_nan.view(np.float32)) is not None
    assert workload.mismatched_outputs((a, a, b, a), (a, a, a, a)) == ["permute_token_idx"]
