"""Smoke tests of every CLI subcommand, run as subprocesses (python -m moe_re_routing)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import moe_re_routing as mrr

COMMANDS = ["demo", "verify", "plan", "bench", "info"]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(
        [sys.executable, "-m", "moe_re_routing", *args], capture_output=True, text=True, timeout=300
    )
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help(cmd):
    p = run(cmd, "--help")
    assert "usage:" in p.stdout


def test_no_command_is_an_error():
    assert run(check=False).returncode != 0


def test_info():
    info = json.loads(run("info", "--json").stdout)
    assert info["backend"] == "cpu"
    assert info["version"] == mrr.__version__
    assert info["emulator_platform_cores"] >= 1 and info["emulator_platform_ub_bytes"] > 0
    assert info["engine"] == mrr.get_engine()  # the subprocess inherits MOE_RE_ROUTING_ENGINE
    assert info["threads"] >= 1
    for k in ("library", "numpy", "cffi", "ml_dtypes", "cmake_prefix"):
        assert info[k]
    assert run("info", "--cmake-prefix").stdout.strip() == mrr.cmake_prefix()
    assert "backend" in run("info").stdout


def test_verify_small():
    p = run("verify", "-n", "30", "-q", "--max-rows", "300")
    assert "30/30 cases bit-exact" in p.stdout


def test_demo_small():
    p = run("demo", "--tokens", "2048", "--hidden", "256", "--ranks", "4", "--experts", "8", "--repeat", "1")
    assert "bit-exact" in p.stdout and "GB/s" in p.stdout


@pytest.mark.parametrize(
    "shape,extra",
    [
        (["1024", "512", "8", "8"], ["--dtype", "float16", "--scales"]),
        (["4096", "7168", "16", "16"], ["--dtype", "int8", "--scales", "--count-dtype", "int64"]),
        (["333", "20000", "1", "4"], ["--dtype", "bfloat16"]),
        (["500", "64", "200", "50"], ["--counts", "random"]),  # counts streamed, not resident
        (["0", "16", "2", "2"], []),
        # Static capacity: slots of 40 rows (60 tokens of 160 rows), rows past the tokens zero-filled.
        (["60", "512", "4", "4"], ["--capacity", "40", "--scales", "--dtype", "float16"]),
        (["0", "64", "3", "5"], ["--capacity", "7"]),
    ],
)
def test_plan_json_and_bytes_add_up(shape, extra):
    r = json.loads(run("plan", *shape, *extra, "--json", "--cores", "40", "--ub", "131072").stdout)
    for k in ("block_dim", "ub_bytes", "cores", "payload", "totals", "ours", "official_model"):
        assert k in r, k
    assert 1 <= r["block_dim"] <= 40 and len(r["cores"]) == r["block_dim"]
    assert r["ub_bytes"] <= 131072
    for core in r["cores"]:
        assert {"bytes_in", "bytes_out", "dma_ops"} <= set(core)
    bytes_in = sum(c["bytes_in"] for c in r["cores"])
    bytes_out = sum(c["bytes_out"] for c in r["cores"])
    assert bytes_in == r["totals"]["bytes_in"] and bytes_out == r["totals"]["bytes_out"]
    # Every output byte is written exactly once, by some core.
    assert bytes_out == r["payload"]["written"]
    # Every input byte is read; the counts matrix is read by every core (once when resident).
    counts_bytes = r["rankNum"] * r["expertNum"] * r["countBytes"]
    if r["countsResident"]:
        assert bytes_in == r["payload"]["read"] + (r["block_dim"] - 1) * counts_bytes
    else:
        assert bytes_in >= r["payload"]["read"]
    n, a = int(shape[2]), int(shape[0])
    # whole ranks per core, ceil(N / ceil(N / cores)) cores (1 when A = 0)
    expected = 1 if a == 0 else -(-n // -(-n // 40))
    assert len(r["official_model"]["cores"]) == expected


def test_plan_text():
    p = run("plan", "1024", "512", "1", "8", "--dtype", "float16", "--scales")
    assert "tiling:" in p.stdout and "official" in p.stdout and "bytes_in" in p.stdout
    assert "counts=int32 (even fill)" in p.stdout.splitlines()[0]


def test_plan_fills_are_named_and_differ_for_fewer_rows_than_cells():
    """8 rows over 4 x 4 cells: the even fill (default) puts one row in each of the first 8 cells
    (ranks 0 and 1), the public fill all 8 in the last cell (rank 3)."""
    even = json.loads(run("plan", "8", "128", "4", "4", "--json").stdout)
    public = json.loads(run("plan", "8", "128", "4", "4", "--counts", "public", "--json").stdout)
    assert even["problem"]["counts"] == "even" and public["problem"]["counts"] == "public"
    assert [c["rows"] for c in even["official_model"]["cores"]] == [4, 4, 0, 0]
    assert [c["rows"] for c in public["official_model"]["cores"]] == [0, 0, 0, 8]
    assert even["official_model"]["busy_cores"] == 2 and public["official_model"]["busy_cores"] == 1
    bad = run("plan", "8", "128", "4", "4", "--counts", "uniform", check=False)
    assert bad.returncode == 2 and "invalid choice: 'uniform'" in bad.stderr


def test_bench_json():
    r = json.loads(run("bench", "--shape", "1024,256,8,4,int8,int32,yes", "--repeat", "1", "--json").stdout)
    (res,) = r["results"]
    assert res["verified"] and set(res["us"]) == {"ours_alloc", "ours_out", "np_take", "memcpy"}
    # written: tokens 1024 x 256 int8, scales and index 1024 x 4 B each, expert_token_num 4 x int32
    assert res["bytes"] == 1024 * 256 + 2 * 4 * 1024 + 4 * 4
    for k, us in res["us"].items():
        assert res["gbps"][k] == pytest.approx(res["bytes"] / us / 1e3), k
    assert r["suite"] == "custom" and res["scales"] is True and res["count_dtype"] == "int32"


def test_console_script():
    exe = shutil.which("moe-re-routing")
    if exe is None:
        pytest.skip("console script not on PATH (package not installed with pip)")
    p = subprocess.run(
        [exe, "info", "--cmake-prefix"], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert p.returncode == 0 and p.stdout.strip()
