"""Property-based tests (hypothesis) of the numpy API: any valid problem equals the reference and
satisfies the operator's identities; any bad count matrix, attribute, shape or dtype raises the
documented ValueError/TypeError subclass and leaves every ``out=`` byte as it was; nothing else
escapes. Deterministic (derandomized, no example database), so CI runs the same examples; CI runs
the whole pytest suite on both engines (MOE_RE_ROUTING_ENGINE=native, then emulator)."""

from __future__ import annotations

from typing import Any, Optional

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import moe_re_routing as mrr
from moe_re_routing.reference import moe_re_routing_reference

from conftest import assert_result_equal

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
TOKEN_DTYPES = [np.int8, np.uint8, np.float16, ml_dtypes.bfloat16, np.float32, np.int32, np.int16, np.uint16]
COUNT_DTYPES = [np.int32, np.int64]
SENTINEL = 0x5A


@st.composite
def problems(draw: Any) -> dict[str, Any]:
    """A valid problem: counts [N, E] >= 0 summing to A, tokens [A, H], optional scales."""
    n = draw(st.integers(1, 6))
    e = draw(st.integers(1, 6))
    cdt = draw(st.sampled_from(COUNT_DTYPES))
    cells = draw(st.lists(st.integers(0, 9), min_size=n * e, max_size=n * e))
    counts = np.array(cells, dtype=cdt).reshape(n, e)
    a = int(counts.sum())
    h = draw(st.integers(1, 40))
    tdt = np.dtype(draw(st.sampled_from(TOKEN_DTYPES)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 256, size=a * h * tdt.itemsize, dtype=np.uint8).view(tdt).reshape(a, h)
    kind = draw(st.sampled_from(["none", "[A]", "[A,S]"]))
    scales: Optional[np.ndarray] = None
    if kind == "[A]":
        scales = rng.random(a, dtype=np.float32)
    elif kind == "[A,S]":
        scales = rng.random((a, draw(st.integers(1, 5))), dtype=np.float32)
    return {
        "tokens": tokens,
        "counts": counts,
        "scales": scales,
        "ttype": draw(st.integers(0, 1)),
        "itype": draw(st.integers(0, 1)),
    }


def _sentinel_outs(p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """The four outputs of problem ``p``, every byte SENTINEL."""
    t, c, s = p["tokens"], p["counts"], p["scales"]
    a = t.shape[0]
    return (
        _filled(t.shape, t.dtype),
        _filled(s.shape if s is not None else (a,), np.float32 if s is None else s.dtype),
        _filled((a,), np.int32),
        _filled((c.shape[1],), c.dtype),
    )


def _filled(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    x = np.empty(shape, dtype=dtype)
    x.view(np.uint8)[...] = SENTINEL
    return x


def _untouched(outs: tuple[np.ndarray, ...]) -> bool:
    return all(bool((o.view(np.uint8) == SENTINEL).all()) for o in outs)


@SETTINGS
@given(p=problems())
def test_valid_problems_equal_the_reference_and_keep_the_identities(p: dict[str, Any]) -> None:
    t, c, s = p["tokens"], p["counts"], p["scales"]
    res = mrr.moe_re_routing(t, c, s, expert_token_num_type=p["ttype"], idx_type=p["itype"])
    assert_result_equal(res, moe_re_routing_reference(t, c, s, p["ttype"], p["itype"]))
    a = t.shape[0]
    idx = res.permute_token_idx.astype(np.int64)
    assert np.array_equal(np.sort(idx), np.arange(a))  # a permutation of [0, A)
    row = t.shape[1] * t.itemsize
    tb, pb = t.view(np.uint8).reshape(a, row), res.permute_tokens.view(np.uint8).reshape(a, row)
    if p["itype"] == 0:
        assert np.array_equal(pb, tb[idx])  # gather: permute_tokens == tokens[idx]
    else:
        assert np.array_equal(pb[idx], tb)  # scatter: permute_tokens[idx] == tokens
    per_expert = c.astype(np.int64).sum(axis=0)
    want = per_expert if p["ttype"] == 1 else np.cumsum(per_expert)
    assert np.array_equal(res.expert_token_num.astype(np.int64), want)


@SETTINGS
@given(p=problems(), data=st.data())
def test_lying_counts_raise_value_error_and_write_nothing(p: dict[str, Any], data: Any) -> None:
    c = p["counts"].copy()
    cell = data.draw(st.integers(0, c.size - 1))
    info = np.iinfo(c.dtype)
    lie = data.draw(
        st.sampled_from(["negative", "more", "fewer", "max", "min"]).filter(
            lambda k: k != "fewer" or int(c.reshape(-1)[cell]) > 0
        )
    )
    flat = c.reshape(-1)
    if lie == "negative":
        flat[cell] = -data.draw(st.integers(1, 1000))
    elif lie == "more":
        flat[cell] += data.draw(st.integers(1, 1000))
    elif lie == "fewer":
        flat[cell] -= 1
    elif lie == "max":
        flat[cell] = info.max
    else:
        flat[cell] = info.min
    outs = _sentinel_outs(p)
    with pytest.raises(mrr.MoeReRoutingValueError) as ei:
        mrr.moe_re_routing(p["tokens"], c, p["scales"], out=outs)
    assert "expert_token_num_per_rank" in ei.value.message
    assert _untouched(outs)


@SETTINGS
@given(
    p=problems(),
    value=st.integers(-(2**70), 2**70).filter(lambda v: v not in (0, 1)),
    which=st.booleans(),
)
def test_bad_attributes_raise_value_error_and_write_nothing(
    p: dict[str, Any], value: int, which: bool
) -> None:
    name = "idx_type" if which else "expert_token_num_type"
    outs = _sentinel_outs(p)
    with pytest.raises(mrr.MoeReRoutingValueError) as ei:
        mrr.moe_re_routing(p["tokens"], p["counts"], p["scales"], out=outs, **{name: value})
    assert name in ei.value.message
    assert _untouched(outs)


ANY_DTYPES = [
    np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn,
]  # fmt: skip


@st.composite
def arrays(draw: Any, max_rank: int = 3) -> np.ndarray:
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=max_rank)))
    dt = np.dtype(draw(st.sampled_from(ANY_DTYPES)))
    return np.zeros(shape, dtype=dt)


@SETTINGS
@given(tokens=arrays(), counts=arrays(), scales=st.one_of(st.none(), arrays()))
def test_arbitrary_arrays_succeed_correctly_or_raise_the_documented_errors(
    tokens: np.ndarray, counts: np.ndarray, scales: Optional[np.ndarray]
) -> None:
    try:
        res = mrr.moe_re_routing(tokens, counts, scales)
    except (mrr.MoeReRoutingValueError, mrr.MoeReRoutingTypeError) as exc:
        assert exc.message  # names what is wrong
        return
    assert_result_equal(res, moe_re_routing_reference(tokens, counts, scales))


@st.composite
def slotted_problems(draw: Any) -> dict[str, Any]:
    """A valid static-capacity problem: counts [N, E] >= 0 with every row sum (every column sum for
    the restore) at most C, tokens of N*C (E*C) rows whose unused rows hold random bytes."""
    n = draw(st.integers(1, 6))
    e = draw(st.integers(1, 6))
    restore = draw(st.booleans())
    cap = draw(st.integers(1, 12))
    cdt = draw(st.sampled_from(COUNT_DTYPES))
    cells = np.array(draw(st.lists(st.integers(0, 4), min_size=n * e, max_size=n * e)), dtype=np.int64)
    counts = cells.reshape(n, e)
    # Trim each slot to C: scale its cells down in order until the slot fits.
    slots = counts.T if restore else counts
    for row in slots:
        while row.sum() > cap:
            row[int(np.argmax(row))] -= 1
    counts = counts.astype(cdt)
    rows = (e if restore else n) * cap
    h = draw(st.integers(1, 24))
    tdt = np.dtype(draw(st.sampled_from(TOKEN_DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    tokens = rng.integers(0, 256, size=rows * h * tdt.itemsize, dtype=np.uint8).view(tdt).reshape(rows, h)
    scales = rng.random(rows, dtype=np.float32) if draw(st.booleans()) else None
    return {
        "tokens": tokens,
        "counts": counts,
        "scales": scales,
        "cap": cap,
        "restore": restore,
        "ttype": draw(st.integers(0, 1)),
        "itype": draw(st.integers(0, 1)),
    }


@SETTINGS
@given(slotted_problems())
def test_any_slotted_problem_equals_the_reference_and_round_trips(p: dict[str, Any]) -> None:
    """Static capacity: the forward (or, with restore, the restore through ``restore()``) equals
    ``capacity_reference`` byte for byte; a forward followed by its restore gives every slot back
    with zeros past its tokens."""
    from moe_re_routing.reference import capacity_reference

    tokens, counts, scales, cap = p["tokens"], p["counts"], p["scales"], p["cap"]
    if p["restore"]:
        back = mrr.restore(tokens, np.ascontiguousarray(counts.T), scales, num_max_tokens_per_rank=cap)
        want = capacity_reference(tokens, counts, cap, scales, restore=True)
        assert back.tokens.tobytes() == want.permute_tokens.tobytes()
        if scales is not None:
            assert back.per_token_scales is not None
            assert back.per_token_scales.tobytes() == want.permute_per_token_scales.tobytes()
        return
    res = mrr.moe_re_routing(
        tokens,
        counts,
        scales,
        expert_token_num_type=p["ttype"],
        idx_type=p["itype"],
        num_max_tokens_per_rank=cap,
    )
    assert_result_equal(res, capacity_reference(tokens, counts, cap, scales, p["ttype"], p["itype"]))
    back = mrr.restore(res.permute_tokens, counts, num_max_tokens_per_rank=cap).tokens
    held = counts.astype(np.int64).sum(axis=1)
    for r, k in enumerate(held):
        assert back[r * cap : r * cap + k].tobytes() == tokens[r * cap : r * cap + k].tobytes()
        assert not back[r * cap + k : (r + 1) * cap].view(np.uint8).any()
