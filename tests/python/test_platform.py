"""The SoC platform table read from the C library, platform selection (SoC in checked mode,
host-sized in fast mode), the platform named in every report, and the kernel against the numpy
reference on the host-sized platform."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import moe_re_routing as mrr

from conftest import assert_bytes_equal, random_counts, random_rows


@pytest.fixture
def restore_platform():
    mode = mrr.get_mode()
    yield
    mrr.set_mode(mode)
    mrr.set_platform(mrr.default_soc())
    mrr.set_platform("auto")
    mrr.set_threads(0)


def test_soc_table_comes_from_the_library():
    table = mrr.soc_table()
    assert mrr.default_soc() in table
    for soc in table.values():
        assert soc.ub_usable_bytes == soc.ub_bytes - soc.ub_reserved_bytes
    a2 = table["Ascend910B"]
    assert (a2.cores, a2.ub_bytes, a2.ub_reserved_bytes) == (48, 196352, 8192)
    assert table["Ascend910_93"].ub_usable_bytes == 196608 - 8192
    assert table["Ascend950"].cores == 0  # not known
    assert table["Ascend950"].ub_usable_bytes == 248 * 1024


def test_checked_mode_runs_the_soc_and_fast_mode_the_host(restore_platform):
    mrr.set_platform("auto")
    mrr.set_mode("checked")
    soc = mrr.soc_table()[mrr.default_soc()]
    assert mrr.get_platform() == (soc.name, soc.cores, soc.ub_usable_bytes, "auto")
    mrr.set_mode("fast")
    mrr.set_threads(2)
    p = mrr.get_platform()
    assert (p.name, p.cores, p.selection) == ("host", 2, "auto")
    # Asked for: the SoC in fast mode too.
    mrr.set_platform("Ascend910_93")
    assert mrr.get_platform().name == "Ascend910_93"
    assert mrr.get_platform().ub_bytes == mrr.soc_table()["Ascend910_93"].ub_usable_bytes


def test_bad_platform_names_the_parameter(restore_platform):
    with pytest.raises(mrr.MoeReRoutingValueError, match="name is Ascend1, expected one of Ascend910B"):
        mrr.set_platform("Ascend1")
    with pytest.raises(mrr.MoeReRoutingValueError, match="core count of Ascend950 is not known"):
        mrr.set_platform("Ascend950")
    mrr.set_platform("Ascend950", cores=32)
    assert mrr.get_platform()[:3] == ("custom", 32, 248 * 1024)
    with pytest.raises(mrr.MoeReRoutingTypeError, match="platform must be a str"):
        mrr.set_platform(48)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["checked", "fast"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_host_sized_platform_matches_the_reference(restore_platform, mode, threads):
    mrr.set_mode(mode)
    mrr.set_threads(threads)
    mrr.set_platform("host")
    rng = np.random.default_rng(threads)
    for a, h, n, e, scale_cols in [(0, 16, 3, 4, 0), (1, 7168, 16, 16, 1), (3000, 1000, 32, 8, 56),
                                   (500, 3, 300, 2, 0), (8, 600000, 2, 2, 1)]:
        tokens = random_rows(rng, (a, h), np.int8)
        counts = random_counts(rng, n, e, a, np.int32, 0.3)
        shape = (a, scale_cols) if scale_cols > 1 else (a,)
        scales = None if scale_cols == 0 else random_rows(rng, shape, np.float32)
        for ttype in (0, 1):
            for itype in (0, 1):
                got = mrr.moe_re_routing(tokens, counts, scales, expert_token_num_type=ttype, idx_type=itype)
                run = mrr.last_run()
                assert run["platform"] == "host" and run["platform_cores"] == threads
                assert run["block_dim"] <= threads
                want = mrr.moe_re_routing_reference(tokens, counts, scales, ttype, itype)
                for name, x, y in zip(got._fields, got, want):
                    assert_bytes_equal(x, y, f"A={a} H={h} {name}")


def _cli(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "moe_re_routing", *args], check=True, capture_output=True, text=True
    ).stdout


def test_plan_defaults_to_the_default_soc_and_takes_soc_names():
    soc = mrr.soc_table()[mrr.default_soc()]
    plan = json.loads(_cli("plan", "64", "7168", "16", "16", "--dtype", "int8", "--json", "--mode", "fast"))
    assert plan["platform"] == soc.name
    assert (plan["platform_cores"], plan["platform_ub_bytes"]) == (soc.cores, soc.ub_usable_bytes)
    b3 = mrr.soc_table()["Ascend910B3"]
    plan = json.loads(_cli("plan", "4096", "512", "8", "8", "--soc", "Ascend910B3", "--json"))
    assert (plan["platform"], plan["platform_cores"]) == ("Ascend910B3", b3.cores)
    assert plan["ubBytesUsed"] <= b3.ub_usable_bytes
    plan = json.loads(_cli("plan", "4096", "512", "8", "8", "--soc", "host", "--json"))
    assert plan["platform"] == "host"


def test_info_says_which_platform_runs():
    info = json.loads(_cli("info", "--json"))  # the subprocess runs in this process's mode
    assert info["platform"] == (mrr.default_soc() if mrr.get_mode() == "checked" else "host")
    assert info["platform_selection"] == "auto"
