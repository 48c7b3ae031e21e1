"""The benchmark core (moe_re_routing.bench): suites, the benchmark fill, and one decode row end
to end (verified against numpy, with the bare gather and the platform that ran). No timing is
asserted."""

from __future__ import annotations

import argparse

import numpy as np

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
    assert r["verified"] and r["us"]["bare_take"] > 0 and r["alloc_over_bare_take"] > 0
