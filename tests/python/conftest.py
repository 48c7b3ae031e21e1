"""Shared helpers for the Python tests: random cases with fixed seeds and bit-exact comparison
(from :mod:`moe_re_routing.workload`, the one home of both)."""

from __future__ import annotations

import os

# libmoe_re_routing defaults to the fast emulator mode (production); the tests run every hardware
# rule (checked mode). Set before moe_re_routing is imported; subprocesses (CLI tests) inherit it.
os.environ.setdefault("ASCENDC_CPU_MODE", "checked")

import numpy as np
import pytest

from moe_re_routing.workload import OUTPUT_NAMES, bytes_mismatch, random_counts
from moe_re_routing.workload import random_bytes as random_rows

__all__ = ["assert_bytes_equal", "assert_result_equal", "random_counts", "random_rows"]


def assert_bytes_equal(actual: np.ndarray, expected: np.ndarray, name: str = "") -> None:
    """Same shape, dtype and bytes (NaN payloads included)."""
    what = bytes_mismatch(actual, expected)
    assert what is None, f"{name}: {what}"


def assert_result_equal(res, ref) -> None:
    for n, a, b in zip(OUTPUT_NAMES, res, ref):
        assert_bytes_equal(a, b, n)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)
