"""Shared helpers for the Python tests: random cases with fixed seeds and bit-exact comparison
(from :mod:`moe_re_routing.workload`, the one home of both)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil

# The suite runs once per engine (./build.sh test sets MOE_RE_ROUTING_ENGINE=native, then emulator).
# The emulator runs the kernel with compiler auto-sync off: the kernel orders its own pipes. Set
# before moe_re_routing is imported; subprocesses (CLI tests) inherit both.
os.environ.setdefault("ASCENDC_CPU_AUTO_SYNC", "off")

import numpy as np
import pytest

from moe_re_routing.workload import OUTPUT_NAMES, bytes_mismatch, random_counts
from moe_re_routing.workload import random_bytes as random_rows

__all__ = [
    "assert_bytes_equal",
    "assert_result_equal",
    "random_counts",
    "random_rows",
    "require_integration",
    "require_integration_status",
    "require_module",
    "require_mpi",
]


def assert_bytes_equal(actual: np.ndarray, expected: np.ndarray, name: str = "") -> None:
    """Same shape, dtype and bytes (NaN payloads included)."""
    what = bytes_mismatch(actual, expected)
    assert what is None, f"{name}: {what}"


def assert_result_equal(res, ref) -> None:
    for n, a, b in zip(OUTPUT_NAMES, res, ref):
        assert_bytes_equal(a, b, n)


_REQUIRE_RUNTIMES = os.environ.get("MOE_RE_ROUTING_REQUIRE_RUNTIMES") == "1"

#: What to install for a module a suite needs (the reason a skip prints, so that `./build.sh test`
#: says what is missing and how to get it).
INSTALL_HINTS = {
    "onnxruntime": "pip install '.[runtimes]' (onnxruntime, onnx, mindspore)",
    "onnx": "pip install '.[runtimes]' (onnxruntime, onnx, mindspore)",
    "mindspore": "pip install '.[runtimes]' (onnxruntime, onnx, mindspore)",
    "mpi4py": "apt-get install openmpi-bin libopenmpi-dev, then pip install mpi4py",
}


def require_module(name: str):
    """Import ``name`` or skip the calling test module, saying why and what to install; with
    MOE_RE_ROUTING_REQUIRE_RUNTIMES=1 (.ci/run installs the runtimes) a missing module is an error."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        if _REQUIRE_RUNTIMES:
            raise
        hint = INSTALL_HINTS.get(name, f"pip install {name}")
        pytest.skip(f"{name} is not installed ({e}); install: {hint}", allow_module_level=True)


def require_mpi() -> None:
    """Skip the calling test module unless Open MPI's mpirun and mpi4py are there, saying what to
    install; with MOE_RE_ROUTING_REQUIRE_RUNTIMES=1 (.ci/run installs both) that is a failure."""
    missing = []
    if shutil.which("mpirun") is None:
        missing.append("mpirun")
    if importlib.util.find_spec("mpi4py") is None:
        missing.append("mpi4py")
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed; install: {INSTALL_HINTS['mpi4py']}"
    if _REQUIRE_RUNTIMES:
        pytest.fail(f"MOE_RE_ROUTING_REQUIRE_RUNTIMES=1: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_integration(integration: str, module_level: bool = True) -> None:
    """Skip the calling test module (or test) when ``integration`` ("onnxruntime", "mindspore")
    cannot be used: its runtime is not installed or its adapter library was not built (the reason
    ``moe-re-routing info`` gives). With MOE_RE_ROUTING_REQUIRE_RUNTIMES=1 that is a failure."""
    from moe_re_routing._integrations import status

    reason = status(integration)
    if reason is not None:
        if _REQUIRE_RUNTIMES:
            pytest.fail(f"{integration} integration unavailable: {reason}", pytrace=False)
        pytest.skip(f"{integration} integration unavailable: {reason}", allow_module_level=module_level)


def require_integration_status(integration: str) -> None:
    """:func:`require_integration` inside a test (skips that test only)."""
    require_integration(integration, module_level=False)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240611)


@pytest.fixture(params=["pynative", "graph"])
def mode(request):
    """Runs a MindSpore test in PyNative and in GRAPH mode (restoring PyNative afterwards). MindSpore
    is imported only by the tests that use this fixture."""
    import mindspore as ms

    ms.set_context(mode=ms.GRAPH_MODE if request.param == "graph" else ms.PYNATIVE_MODE)
    yield request.param
    ms.set_context(mode=ms.PYNATIVE_MODE)
