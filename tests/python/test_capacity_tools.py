"""Static capacity in the tools: the benchmark's capacity rows (C = A_max, verified against the numpy
equivalent), ``plan --capacity`` (the slot stride in the tiling, every output byte written once),
``profile --capacity`` (a modelled profile of the slotted call, which costs more than the packed one:
the zero fill is priced), and the workload helpers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing import bench, workload
from moe_re_routing.cli import main as cli_main
from moe_re_routing.reference import capacity_reference


def test_decode_suite_has_a_capacity_row_for_every_decode_row():
    shapes = bench.decode_shapes()
    caps = {(s["A"], s["N"], s["E"]): s for s in shapes if s.get("capacity")}
    for a in bench.DECODE_TOKENS:
        for n, e in bench.DECODE_COUNTS:
            row = caps[(a, n, e)]
            assert row["capacity"] == a and row["H"] == bench.DECODE_HIDDEN
            assert row["name"] == f"cap{a}_{n}x{e}"


def test_numpy_equivalent_with_capacity_is_the_reference():
    rng = np.random.default_rng(3)
    counts = workload.slot_counts(rng, 5, 6, 12)
    tokens = workload.random_bytes(rng, (60, 9), np.int8)
    scales = rng.random(60, dtype=np.float32)
    got = bench.numpy_reroute(tokens, counts, scales, 12)
    assert not workload.mismatched_outputs(got, capacity_reference(tokens, counts, 12, scales))


def test_capacity_row_end_to_end():
    sh = next(s for s in bench.decode_shapes() if s["name"] == "cap8_32x8")
    r = bench.bench_shape(dict(sh), np.random.default_rng(0), 1, 0.0005)
    assert r["verified"]
    rows = sh["N"] * sh["capacity"]  # every output row is written, zeros past the tokens
    assert r["bytes"] == rows * sh["H"] + 4 * rows + 4 * rows + 4 * sh["E"]


def test_plan_capacity_puts_the_slot_stride_in_the_tiling(capsys: pytest.CaptureFixture[str]):
    assert cli_main(["plan", "30", "64", "4", "3", "--capacity", "10", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["problem"]["capacity"] == 10
    assert r["srcSlotRows"] == 10 and r["dstSlotRows"] == 0 and r["tokenNum"] == 40
    assert r["payload"]["read"] == 30 * 64 * 2 + 4 * 3 * 4  # only the rows that hold tokens


def test_plan_capacity_rejects_a_fill_over_it(capsys: pytest.CaptureFixture[str]):
    assert cli_main(["plan", "100", "16", "2", "2", "--capacity", "10"]) == 2
    err = capsys.readouterr().err
    assert "gives a rank 50 tokens but the capacity (num_max_tokens_per_rank) is 10" in err


def _duration_us(path: str) -> float:
    with open(Path(path) / "OpBasicInfo.csv", newline="") as f:
        row = next(csv.DictReader(f))
    key = next(k for k in row if k.startswith("Task Duration"))
    return float(row[key])


def test_profile_capacity_models_the_zero_fill(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    common = ["profile", "64", "7168", "16", "16", "--dtype", "int8", "--scales"]
    assert cli_main([*common, "--output", str(tmp_path / "packed")]) == 0
    packed = capsys.readouterr().out.strip()
    assert cli_main([*common, "--capacity", "64", "--output", str(tmp_path / "slots")]) == 0
    slots = capsys.readouterr().out.strip()
    assert "capacity 64" in (Path(slots) / "README.txt").read_text()
    # 16 slots of 64 rows: 1024 output rows written instead of 64.
    assert _duration_us(slots) > _duration_us(packed)


def test_slot_counts_fit_their_slots():
    rng = np.random.default_rng(1)
    for n, e, c in ((1, 1, 1), (3, 4, 5), (8, 2, 100)):
        counts = workload.slot_counts(rng, n, e, c, np.int64)
        assert counts.shape == (n, e) and counts.dtype == np.int64 and (counts >= 0).all()
        assert (counts.sum(axis=1) <= c).all()
        if n > 1:
            assert counts[0].sum() == c
        assert workload.slotted_rows(counts, c, "x") == n * c
    with pytest.raises(mrr.MoeReRoutingValueError, match="capacity must be >= 1"):
        workload.slot_counts(rng, 2, 2, 0)


def test_payload_with_capacity_reads_only_the_tokens():
    counts = np.array([[1, 2], [0, 0]], np.int32)
    tokens = np.zeros((8, 5), np.int8)
    p = workload.payload(tokens, counts, None, capacity=True)
    assert p.read == 3 * 5 + counts.nbytes
    assert p.written == 8 * 5 + 4 * 8 + 4 * 8 + 2 * 4
