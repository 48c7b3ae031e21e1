"""Per-core instruction counters of the last run (runtime.last_run(), plan --json) and the model of
the official A2/A3 split used by ``plan``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing.official import official_block_dim, official_split

COUNTERS = (
    "scalar_ub_reads",
    "scalar_ub_writes",
    "scalar_gm_reads",
    "scalar_gm_writes",
    "scalar_ops",
    "vector_ops",
    "vector_repeats",
    "set_flags",
    "wait_flags",
    "pipe_barriers",
    "queue_ops",
    "dma_ops",
    "bytes_in",
    "bytes_out",
)


def _traced_run(threads: int) -> dict:
    """The last run's dict for a small problem (A=600 x 96 int8, f32 scales, counts 4 x 6) on the
    emulator engine and the default SoC platform, its blocks run on `threads` host threads."""
    rng = np.random.default_rng(5)
    tokens = rng.integers(-128, 127, size=(600, 96), dtype=np.int8)
    scales = rng.random(600, dtype=np.float32)
    counts = np.full((4, 6), 25, np.int32)
    try:
        mrr.set_platform(mrr.default_soc())
        mrr.set_trace(True)
        mrr.set_threads(threads)
        with mrr.engine("emulator"):
            res = mrr.moe_re_routing(tokens, counts, scales)
        run = mrr.last_run()
    finally:
        mrr.set_trace(False)
        mrr.set_threads(0)
    assert run["engine"] == "emulator" and run["platform"] == mrr.default_soc()
    ref = mrr.moe_re_routing_reference(tokens, counts, scales)
    assert np.array_equal(res.permute_tokens, ref.permute_tokens)
    return run


def test_counters_are_consistent_and_do_not_depend_on_the_host_threads():
    one, three = _traced_run(1), _traced_run(3)
    assert len(one["cores"]) == one["block_dim"] == len(three["cores"])
    for c, f in zip(one["cores"], three["cores"]):
        for key in COUNTERS:
            assert c[key] == f[key], key
        assert c["dma"] == f["dma"]
        assert c["scalar_ops"] == (
            c["scalar_ub_reads"] + c["scalar_ub_writes"] + c["scalar_gm_reads"] + c["scalar_gm_writes"]
        )
        assert len(c["dma"]) == c["dma_ops"]
        assert sum(d["bytes"] for d in c["dma"] if d["dir"] == "GM->UB") == c["bytes_in"]
        assert sum(d["bytes"] for d in c["dma"] if d["dir"] == "UB->GM") == c["bytes_out"]
        for d in c["dma"]:
            assert d["bytes"] == d["bursts"] * d["burst_bytes"]
            assert d["api"] in ("DataCopy", "DataCopyPad")
        # Every core reads counts and writes rows: it issues DMA and scalar work.
        assert c["dma_ops"] > 0 and c["scalar_ub_reads"] > 0


def test_plan_json_reports_counters_per_core():
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "moe_re_routing",
            "plan",
            "64",
            "7168",
            "32",
            "256",
            "--dtype",
            "int8",
            "--scales",
            "--count-dtype",
            "int32",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    r = json.loads(p.stdout)
    assert len(r["cores"]) == r["block_dim"]
    for core in r["cores"]:
        assert set(COUNTERS) <= set(core)
        assert len(core["dma"]) == core["dma_ops"]
    assert r["ours"]["max_scalar_ops"] == max(c["scalar_ops"] for c in r["cores"])
    assert r["ours"]["max_vector_ops"] == max(c["vector_ops"] for c in r["cores"])
    # Every core must at least read each of its cells' counts once.
    assert r["ours"]["max_scalar_ops"] > 0


@pytest.mark.parametrize(
    "n,a,cores,expected",
    [
        (64, 1000, 48, 32),
        (48, 1000, 48, 48),
        (49, 1000, 48, 25),
        (50, 10, 48, 25),
        (1, 1000, 48, 1),
        (16, 1000, 48, 16),
        (8, 0, 48, 1),
        (200, 5, 40, 40),
        (97, 5, 48, 33),
    ],
)
def test_official_block_dim(n, a, cores, expected):
    assert official_block_dim(n, a, cores) == expected


def test_official_split_deals_ranks_round_robin():
    counts = np.arange(64 * 2, dtype=np.int64).reshape(64, 2)  # rank r holds 4r + 1 rows
    rows = counts.sum(axis=1)
    split = official_split(counts, 48, in_row=10, out_row=20)
    assert len(split) == 32
    for b, core in enumerate(split):
        assert core["ranks"] == 2
        assert core["rows"] == rows[b] + rows[b + 32]
        assert core["bytes_in"] == 10 * core["rows"] and core["bytes_out"] == 20 * core["rows"]
    assert len(official_split(np.zeros((8, 4), np.int32), 48, 1, 1)) == 1  # A = 0: one core
    (single,) = official_split(np.full((1, 8), 3, np.int32), 48, 1, 1)  # N = 1: one core
    assert single["ranks"] == 1 and single["rows"] == 24


def test_official_model_agrees_with_the_official_schedule_kernel_traces():
    """The split model (moe_re_routing.official) and the test-only official-schedule kernel the time
    model is calibrated on (benchmarks/official_model, its traces stored in the package) give every
    stored shape the same blockDim."""
    from moe_re_routing import timemodel

    traces = timemodel.load_official_traces()
    cores = int(traces["platform"]["cores"])
    assert len(traces["shapes"]) >= 20
    for s in traces["shapes"]:
        assert official_block_dim(int(s["N"]), int(s["A"]), cores) == s["block_dim"], s["case"]
