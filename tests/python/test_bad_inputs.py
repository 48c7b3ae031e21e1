"""Every class of bad input raises its documented exception and writes no byte of any ``out=``
array (each pre-filled with a sentinel). CI runs this file on both engines."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import moe_re_routing as mrr

SENTINEL = 0xA5
A, H, N, E = 24, 8, 3, 4


def _filled(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    x = np.empty(shape, dtype=dtype)
    x.view(np.uint8)[...] = SENTINEL
    return x


def _case() -> dict[str, Any]:
    rng = np.random.default_rng(8)
    counts = np.full((N, E), A // (N * E), np.int32)
    return {
        "tokens": rng.integers(-128, 128, size=(A, H), dtype=np.int8),
        "counts": counts,
        "scales": rng.random(A, dtype=np.float32),
        "out": [
            _filled((A, H), np.int8),
            _filled((A,), np.float32),
            _filled((A,), np.int32),
            _filled((E,), np.int32),
        ],
        "kw": {},
    }


def _set(key: str, value: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        c[key] = value(c)

    return edit


def _lie(delta: int, cell: int = 0) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        c["counts"] = c["counts"].copy()
        c["counts"].reshape(-1)[cell] += delta

    return edit


def _kw(**kw: Any) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        c["kw"].update(kw)

    return edit


def _out_alias(c: dict[str, Any]) -> None:
    c["out"][2] = c["out"][1].view(np.int32)  # permute_token_idx shares permute_per_token_scales' bytes


def _out_replace(i: int, make: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        c["out"][i] = make(c)

    return edit


TE, VE, NE = mrr.MoeReRoutingTypeError, mrr.MoeReRoutingValueError, mrr.MoeReRoutingNullError

CASES = {
    # kind: dtype
    "tokens float64": (TE, _set("tokens", lambda c: c["tokens"].astype(np.float64))),
    "counts int16": (TE, _set("counts", lambda c: c["counts"].astype(np.int16))),
    "scales float16": (TE, _set("scales", lambda c: c["scales"].astype(np.float16))),
    "out idx int64": (TE, _out_replace(2, lambda c: _filled((A,), np.int64))),
    "tokens strings": (TE, _set("tokens", lambda c: np.array([["x"] * H] * A))),
    "attribute float": (TE, _kw(idx_type=1.0)),
    # kind: null
    "tokens None": (NE, _set("tokens", lambda c: None)),
    "counts None": (NE, _set("counts", lambda c: None)),
    # kind: value (rank, shape, values, attributes, outputs)
    "tokens 1-D": (VE, _set("tokens", lambda c: c["tokens"].reshape(-1))),
    "tokens 3-D": (VE, _set("tokens", lambda c: c["tokens"].reshape(A, 2, H // 2))),
    "counts 1-D": (VE, _set("counts", lambda c: c["counts"].reshape(-1))),
    "scales [A-1]": (VE, _set("scales", lambda c: c["scales"][:-1])),
    "scales 3-D": (VE, _set("scales", lambda c: c["scales"].reshape(A, 1, 1))),
    "counts sum above A": (VE, _lie(+1)),
    "counts sum below A": (VE, _lie(-1)),
    "counts negative": (VE, _lie(-100)),
    "counts int32 max": (VE, _lie(2**31 - 1 - A // (N * E))),
    "expert_token_num_type 2": (VE, _kw(expert_token_num_type=2)),
    "idx_type -1": (VE, _kw(idx_type=-1)),
    "idx_type 2**64": (VE, _kw(idx_type=2**64)),
    "out tokens wrong shape": (VE, _out_replace(0, lambda c: _filled((A, H + 1), np.int8))),
    "out counts wrong length": (VE, _out_replace(3, lambda c: _filled((E + 1,), np.int32))),
    "out read-only": (VE, _out_replace(1, lambda c: _readonly(_filled((A,), np.float32)))),
    "out not contiguous": (VE, _out_replace(0, lambda c: _filled((H, A), np.int8).T)),
    "outputs overlap": (VE, _out_alias),
}


def _readonly(x: np.ndarray) -> np.ndarray:
    x.flags.writeable = False
    return x


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_and_writes_nothing(name: str) -> None:
    exc, edit = CASES[name]
    c = _case()
    edit(c)
    outs = c["out"]
    with pytest.raises(exc) as ei:
        mrr.moe_re_routing(c["tokens"], c["counts"], c["scales"], out=tuple(outs), **c["kw"])
    assert type(ei.value) is exc, type(ei.value)
    assert ei.value.message
    for i, o in enumerate(outs):
        assert (o.view(np.uint8) == SENTINEL).all(), f"out[{i}] was written by a rejected call ({name})"


def test_tiling_error_writes_nothing() -> None:
    c = _case()
    saved = mrr.get_platform()
    mrr.set_platform(cores=0, ub_bytes=256)  # no buffer set fits
    try:
        # Only the emulator engine tiles (the native one has no UB to fit).
        with mrr.engine("emulator"), pytest.raises(mrr.MoeReRoutingTilingError) as ei:
            mrr.moe_re_routing(c["tokens"], c["counts"], c["scales"], out=tuple(c["out"]))
    finally:
        mrr.restore_platform(saved)
    assert ei.value.kind == "tiling"
    assert all((o.view(np.uint8) == SENTINEL).all() for o in c["out"])


@pytest.mark.parametrize(
    ("tokens_shape", "counts_shape", "message"),
    [
        ((6, 0), (2, 3), "tokens has H = 0 but H must be >= 1"),
        ((6, 4), (2, 0), "expert_token_num_per_rank has shape [2, 0] but N and E must be >= 1"),
        ((6, 4), (0, 3), "expert_token_num_per_rank has shape [0, 3] but N and E must be >= 1"),
    ],
)
@pytest.mark.parametrize("kw", [{}, {"tokens_dtype": "float16"}], ids=["default", "aclTensor-strides"])
def test_zero_size_dimensions_name_the_real_reason(
    tokens_shape: tuple[int, int], counts_shape: tuple[int, int], message: str, kw: dict[str, Any]
) -> None:
    """A zero-size H, N or E is reported as such, with ACLNN_ERR_PARAM_INVALID, and nothing is
    written. With an explicit ``tokens_dtype`` the call builds aclTensors with numpy's strides, and
    numpy gives an empty array strides that are not the row-major ones: the shape check must still
    win over the contiguity check (it used to say "must be contiguous")."""
    tokens = np.zeros(tokens_shape, np.float16)
    counts = np.full(counts_shape, 1, np.int32)
    assert 0 in tokens.strides or 0 in counts.strides  # the case that used to hit contiguity first
    out = (_filled(tokens_shape, np.float16), _filled((6,), np.float32), _filled((6,), np.int32),
           _filled((counts_shape[1],), np.int32))
    with pytest.raises(VE) as ei:
        mrr.moe_re_routing(tokens, counts, out=out, **kw)
    assert ei.value.code == mrr.errors.ACLNN_ERR_PARAM_INVALID
    assert ei.value.message == message
    assert all((o.view(np.uint8) == SENTINEL).all() for o in out)
