"""The binding itself: facts read from C agree with the Python mapping; backend and package layout."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import moe_re_routing as mrr
from moe_re_routing import _dtypes, errors, runtime


def test_backend_is_cpu_and_library_exists():
    assert mrr.backend.name == "cpu"
    assert Path(mrr.backend.library).is_file()


def test_status_values_agree_with_c():
    assert runtime.status_name(errors.ACLNN_SUCCESS) == "ACLNN_SUCCESS"
    assert runtime.status_name(errors.ACLNN_ERR_PARAM_NULLPTR) == "ACLNN_ERR_PARAM_NULLPTR"
    assert runtime.status_name(errors.ACLNN_ERR_PARAM_INVALID) == "ACLNN_ERR_PARAM_INVALID"
    assert runtime.status_name(errors.ACLNN_ERR_RUNTIME_ERROR) == "ACLNN_ERR_RUNTIME_ERROR"
    assert runtime.status_name(errors.ACLNN_ERR_INNER_TILING_ERROR) == "ACLNN_ERR_INNER_TILING_ERROR"
    assert runtime.status_name(12345) == "UNKNOWN"


def test_dtype_table_and_roles_from_c():
    table = mrr.dtype_table()
    assert table["BF16"].code == 27 and table["BF16"].bits == 16
    roles = (_dtypes.ROLE_TOKENS, _dtypes.ROLE_TOKENS_OFFICIAL, _dtypes.ROLE_COUNTS, _dtypes.ROLE_SCALES)
    assert sorted((*roles, _dtypes.ROLE_PACKED4)) == [1, 2, 4, 8, 16]
    assert table["FLOAT4_E2M1"].roles & _dtypes.ROLE_PACKED4
    assert table["BF16"].roles & _dtypes.ROLE_TOKENS_OFFICIAL
    assert table["INT64"].roles == _dtypes.ROLE_COUNTS
    assert table["FLOAT8_E8M0"].roles == _dtypes.ROLE_SCALES
    # Every numpy mapping names an ACL type of the table with the right size.
    for np_name, acl in _dtypes.NUMPY_TO_ACL.items():
        dt = _dtypes.numpy_dtype_for(acl)
        assert dt.itemsize * 8 == table[acl].bits, np_name


def test_version_and_platform():
    assert runtime.version() == mrr.__version__
    p = mrr.get_platform()
    assert p.cores >= 1 and p.ub_bytes >= 256 and p.name
    assert mrr.get_engine() in ("native", "emulator")


def test_set_platform_roundtrip_and_errors():
    try:
        mrr.set_platform(cores=8, ub_bytes=65536)
        assert mrr.get_platform() == ("custom", 8, 65536)
        rng = np.random.default_rng(0)
        t = rng.integers(0, 255, size=(1000, 300), dtype=np.uint8)
        c = np.full((4, 5), 50, np.int32)
        mrr.set_trace(True)
        with mrr.engine("emulator"):
            res = mrr.moe_re_routing(t, c)
        run = mrr.last_run()
        assert run["block_dim"] <= 8 and len(run["cores"]) == run["block_dim"]
        assert run["platform"] == "custom" and run["platform_ub_bytes"] == 65536
        assert np.array_equal(res.permute_tokens, mrr.moe_re_routing_reference(t, c).permute_tokens)
        try:
            mrr.set_platform(cores=0, ub_bytes=100)
        except mrr.MoeReRoutingValueError as e:
            assert "ub" in e.message.lower()
        else:
            raise AssertionError("set_platform(ub=100) accepted")
    finally:
        mrr.set_trace(False)
        mrr.set_platform(mrr.default_soc())


def test_cmake_prefix_layout():
    prefix = Path(mrr.cmake_prefix())
    assert (prefix / "lib" / "libmoe_re_routing.so").exists() or "MOE_RE_ROUTING_LIBRARY" in os.environ
    if (prefix / "lib").exists():
        assert (prefix / "lib" / "cmake" / "MoeReRouting" / "MoeReRoutingConfig.cmake").is_file()
        assert (prefix / "include" / "aclnn_moe_re_routing.h").is_file()


def test_chrome_trace_has_one_event_per_dma_op(tmp_path):
    """The Chrome trace written from Python lists every DMA op of every core, one lane per core."""
    import json

    path = tmp_path / "trace.json"
    rng = np.random.default_rng(1)
    t = rng.integers(0, 255, size=(4800, 512), dtype=np.uint8)
    c = np.full((8, 8), 75, np.int32)
    try:
        mrr.set_trace(True, str(path))
        with mrr.engine("emulator"):  # the trace is the emulated kernel's
            mrr.moe_re_routing(t, c)
        run = mrr.last_run()
    finally:
        mrr.set_trace(False)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    dma = [e for e in events if e.get("ph") == "X"]
    assert len(dma) == sum(core["dma_ops"] for core in run["cores"])
    assert {e["tid"] for e in dma} == set(range(run["block_dim"]))
