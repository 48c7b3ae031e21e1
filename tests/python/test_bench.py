"""The benchmark core (moe_re_routing.bench): suites, the benchmark fill, and one decode row end
to end (verified against numpy, with the bare gather and the platform that ran), the arithmetic of
the derived columns and the table's column names. No timing is asserted."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing import bench
from moe_re_routing.workload import even_counts


def test_decode_suite_covers_the_issue_rows():
    shapes = bench.decode_shapes()
    grid = {(s["A"], s["H"], s["N"], s["E"]) for s in shapes}
    for a in (1, 8, 64, 256, 512):
        for n, e in ((16, 16), (32, 8), (32, 256)):
            assert (a, 7168, n, e) in grid
    case15 = [s for s in shapes if s["name"] == "decode_case15"]
    assert [(s["A"], s["H"], s["N"], s["E"], s["dtype"]) for s in case15] == [(2017, 256, 16, 16, "bfloat16")]
    assert all(s["bare_take"] and s["scales"] for s in shapes)
    assert {s["suite"] for s in bench.suite_shapes("decode", 2)} == {"decode"}
    assert [s["suite"] for s in bench.suite_shapes("all", 2)].count("public") == len(bench.public_shapes())


def test_benchmark_fill_is_even_and_sums_to_a():
    for n, e, a in ((32, 256, 64), (16, 16, 1), (4, 4, 0), (3, 5, 1000)):
        c = even_counts(n, e, a, np.int32)
        assert c.shape == (n, e) and c.dtype == np.int32
        assert int(c.sum()) == a and int(c.max()) - int(c.min()) <= 1


def test_decode_row_end_to_end():
    engine = mrr.get_engine()
    args = argparse.Namespace(
        engine="native", threads=2, shape=["64,7168,32,256"], suite="decode", rounds=1, target_ms=0.5, seed=0
    )
    try:
        report = bench.measure(args, verbose=False)
    finally:
        mrr.set_engine(engine)
        mrr.set_threads(0)
    (row,) = report["results"]
    assert row["verified"]
    assert set(row["us"]) == {"ours_alloc", "ours_out", "np_take", "memcpy"}
    assert row["engine"] == "native" and row["split"] == 1  # a 0.5 MB call stays on one thread
    sh = dict(bench.decode_shapes()[0])
    r = bench.bench_shape(sh, np.random.default_rng(0), 1, 0.0005)
    assert r["verified"] and set(r["us"]) == {"ours_alloc", "ours_out", "np_take", "memcpy", "bare_take"}
    _check_row_arithmetic(r)


def _check_row_arithmetic(r: dict) -> None:
    """The derived columns are what their names say, from the row's own times and bytes."""
    a, h, e = r["A"], r["H"], r["E"]
    itemsize = np.dtype(r["dtype"]).itemsize
    scale_bytes = 4 * a  # float32 [A] scales, or the float32 [A] zeros without them
    assert r["bytes"] == a * h * itemsize + scale_bytes + 4 * a + e * np.dtype(r["count_dtype"]).itemsize
    us = r["us"]
    for k, t in us.items():
        assert r["gbps"][k] == pytest.approx(r["bytes"] / (t * 1e-6) / 1e9), k
    assert r["out_vs_memcpy"] == pytest.approx(us["memcpy"] / us["ours_out"])
    assert r["alloc_vs_numpy"] == pytest.approx(us["np_take"] / us["ours_alloc"])
    if "bare_take" in us:
        assert r["alloc_over_bare_take"] == pytest.approx(us["ours_alloc"] / us["bare_take"])


def test_table_header_names_the_ratios_as_computed():
    """"mcp/out" is memcpy / out= (out_vs_memcpy), "np/alloc" numpy / alloc (alloc_vs_numpy); the
    header used to say o/mcp and a/np, the inverse of what the columns held."""
    cols = bench.HEADER.split()
    assert "mcp/out" in cols and "np/alloc" in cols
    assert "o/mcp" not in cols and "a/np" not in cols
    row = {
        "name": "x", "A": 8, "H": 16, "N": 2, "E": 2, "dtype": "int8", "bytes": 1000, "verified": True,
        "us": {"ours_alloc": 4.0, "ours_out": 2.0, "np_take": 12.0, "memcpy": 1.0},
        "gbps": {"ours_out": 0.5}, "out_vs_memcpy": 0.5, "alloc_vs_numpy": 3.0, "engine": "native",
        "split": 1,
    }  # fmt: skip
    fields = bench.format_row(row).split()
    # ... GB/s, mcp/out, np/alloc, then engine/split (no official time for this row)
    assert fields[-4:] == ["0.50", "0.50", "3.00", "native/1"]
    assert "mcp/out = memcpy us / out= us" in bench.LEGEND
    assert "np/alloc = numpy us / alloc us" in bench.LEGEND
