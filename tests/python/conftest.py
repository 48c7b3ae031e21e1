"""Shared helpers for the Python tests: random cases with fixed seeds and bit-exact comparison."""

from __future__ import annotations

import os

# libmoe_re_routing defaults to the fast emulator mode (production); the tests run every hardware
# rule (checked mode). Set before moe_re_routing is imported; subprocesses (CLI tests) inherit it.
os.environ.setdefault("ASCENDC_CPU_MODE", "checked")

import numpy as np
import pytest


def random_counts(
    rng: np.random.Generator, n: int, e: int, a: int, dtype=np.int32, zero_frac: float = 0.0
) -> np.ndarray:
    """[N, E] non-negative counts summing to A; about ``zero_frac`` of the cells forced to zero."""
    cells = n * e
    weights = rng.random(cells)
    if zero_frac > 0:
        weights[rng.random(cells) < zero_frac] = 0.0
    if weights.sum() == 0:
        weights[rng.integers(cells)] = 1.0
    c = rng.multinomial(a, weights / weights.sum()) if a > 0 else np.zeros(cells, dtype=np.int64)
    return c.reshape(n, e).astype(dtype)


def random_rows(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Random bytes viewed as ``dtype`` (every bit pattern, NaNs included: compare bytes)."""
    dt = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    raw = rng.integers(0, 256, size=nbytes, dtype=np.uint8)
    return raw.view(dt).reshape(shape)


def assert_bytes_equal(actual: np.ndarray, expected: np.ndarray, name: str = "") -> None:
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{name}: dtype {actual.dtype} != {expected.dtype}"
    a = np.ascontiguousarray(actual).view(np.uint8)
    b = np.ascontiguousarray(expected).view(np.uint8)
    if not np.array_equal(a, b):
        bad = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
        raise AssertionError(f"{name}: {bad.size} bytes differ, first at byte {bad[0]}")


def assert_result_equal(res, ref) -> None:
    names = ["permute_tokens", "permute_per_token_scales", "permute_token_idx", "expert_token_num"]
    for n, a, b in zip(names, res, ref):
        assert_bytes_equal(a, b, n)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)
