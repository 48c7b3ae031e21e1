"""Benchmark core of the CPU backend: ours (allocating and ``out=``) against what a numpy user
writes instead and against a plain memcpy of the same bytes, measured side by side in one run.

This module only times and prints a plain table (and JSON); the report tooling (machine
description, Markdown tables, plots) lives in the repository's ``benchmarks/`` folder
(``benchmarks/report.py``), outside the installed package.

Suites (``moe-re-routing bench --suite ...``):

- ``public``: the 20 public shapes (``moe_re_routing/data/public_shapes.csv``, with the official
  Atlas A2 µs) and the production shape (16384 x 7168 int8, counts 16 x 16 int32, float32 scales).
- ``decode``: decode calls, A in {1, 8, 64, 256, 512} x H 7168 int8 with float32 scales and
  counts N x E in {16 x 16, 32 x 8, 32 x 256}, plus public case 15 (2017 x 256 bf16, 16 x 16); and
  the same A and N x E with static capacity (MoeReRoutingWithCapacity, ``cap*`` rows): tokens in
  N slots of C = A_max = A rows (the worst case one rank may send in the step, what a captured
  graph's buffer must hold), the A tokens spread evenly, outputs of N*C rows.
- ``scaling``: the production shape with 1 thread and with all; time against A, H and N*E
  (up to 4096 cells).
- ``all``: the three above; ``quick``: a few small shapes (smoke test).

For every shape, in one run and interleaved round by round:

- ``ours_alloc``: ``moe_re_routing(tokens, counts, scales)`` (allocates the four outputs);
- ``ours_out``: the same with ``out=`` preallocated outputs;
- ``np_take``: the equivalent full result in numpy: the gather index from the counts (vectorised),
  ``np.take(tokens, idx, axis=0)``, ``np.take(scales, idx, axis=0)`` (or float32 zeros) and the
  per-expert counts (with capacity: the slot rows taken into zeroed ``[N*C, ...]`` outputs, index
  -1 past the tokens);
- ``memcpy``: ``np.copyto`` of as many bytes as the operator writes, into preallocated memory;
- ``bare_take`` (decode suite only): ``np.take(tokens, idx, axis=0)`` alone, with the index
  computed beforehand (the bare gather a caller cannot avoid).

Bytes: ``payload`` = bytes the operator writes (permuted tokens, scales, index, expert counts);
GB/s = payload / time, so ours and memcpy are compared on the same bytes (a copy reads as much as it
writes). Times: each round runs every variant in a batch of calls long enough to time; the best
round's mean per call is reported (``us``), and the median round too (``us_median``). Each row
records the engine that ran (native by default) and the threads it split the call over.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ._paths import check_output_file
from .errors import param_value_error
from .workload import even_counts, mismatched_outputs, parse_dtype, payload, random_bytes

__all__ = [
    "SUITES",
    "add_arguments",
    "machine_info",
    "main",
    "parse_shape",
    "public_shapes",
    "run_suite",
]

_DATA = Path(__file__).resolve().parent / "data"
SUITES = ("public", "decode", "scaling", "all", "quick")
VARIANTS = ("ours_alloc", "ours_out", "np_take", "memcpy", "bare_take")
DECODE_TOKENS = (1, 8, 64, 256, 512)
DECODE_COUNTS = ((16, 16), (32, 8), (32, 256))
DECODE_HIDDEN = 7168

SEED_SHAPE: dict[str, Any] = {
    "A": 16384,
    "H": 7168,
    "N": 16,
    "E": 16,
    "dtype": "int8",
    "count_dtype": "int32",
    "scales": True,
}


# ---- shapes -----------------------------------------------------------------------------------------


def _shape(
    name: str,
    a: int,
    h: int,
    n: int,
    e: int,
    dtype: str = "int8",
    count_dtype: str = "int32",
    scales: bool = True,
    official_us: Optional[float] = None,
    **extra: Any,
) -> dict[str, Any]:
    d = {
        "name": name,
        "A": a,
        "H": h,
        "N": n,
        "E": e,
        "dtype": dtype,
        "count_dtype": count_dtype,
        "scales": scales,
        "official_us": official_us,
    }
    d.update(extra)
    return d


def _csv_path() -> Path:
    """The public shapes shipped with the package (the one copy of that table)."""
    return _DATA / "public_shapes.csv"


def public_shapes() -> list[dict[str, Any]]:
    with open(_csv_path(), newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        name = f"case{r['case']}" if r["case"].isdigit() else r["case"]
        off = r.get("official_us_atlas_a2") or ""
        out.append(
            _shape(
                name,
                int(r["A"]),
                int(r["H"]),
                int(r["N"]),
                int(r["E"]),
                r["tokens_dtype"],
                r["counts_dtype"],
                r["scales"] == "yes",
                float(off) if off else None,
            )
        )
    return out


def decode_shapes() -> list[dict[str, Any]]:
    """A in DECODE_TOKENS x N*E in DECODE_COUNTS at H 7168 int8 with [A] float32 scales, and the
    public case 15 (2017 x 256 bf16, 16 x 16), each with the bare gather measured too."""
    out = [
        _shape(f"decode{a}_{n}x{e}", a, DECODE_HIDDEN, n, e, bare_take=True)
        for n, e in DECODE_COUNTS
        for a in DECODE_TOKENS
    ]
    case15 = next(s for s in public_shapes() if s["name"] == "case15")
    out.append(dict(case15, name="decode_case15", bare_take=True))
    out += [
        _shape(f"cap{a}_{n}x{e}", a, DECODE_HIDDEN, n, e, capacity=a, bare_take=True)
        for n, e in DECODE_COUNTS
        for a in DECODE_TOKENS
    ]
    return out


def scaling_shapes(threads_all: int) -> list[dict[str, Any]]:
    s = SEED_SHAPE
    out = []
    for t in sorted({1, threads_all}):
        out.append(_shape(f"threads{t}", s["A"], s["H"], s["N"], s["E"], threads=t, sweep="threads", x=t))
    for a in (256, 1024, 4096, 16384, 32768):
        out.append(_shape(f"A{a}", a, s["H"], s["N"], s["E"], sweep="A", x=a))
    for h in (128, 512, 1024, 2048, 4096, 7168, 16384):
        out.append(_shape(f"H{h}", s["A"], h, s["N"], s["E"], sweep="H", x=h))
    for n, e in ((1, 1), (2, 2), (4, 4), (8, 8), (16, 16), (32, 32), (64, 64)):
        out.append(_shape(f"NE{n * e}", s["A"], s["H"], n, e, sweep="NE", x=n * e))
    return out


def quick_shapes() -> list[dict[str, Any]]:
    return [_shape("quick_small", 64, 7168, 16, 16), _shape("quick_mid", 1024, 512, 8, 8, "float16")]


def suite_shapes(suite: str, threads_all: int) -> list[dict[str, Any]]:
    """The shapes of a suite, each tagged with the suite it belongs to ("suite")."""
    makers: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "public": public_shapes,
        "decode": decode_shapes,
        "scaling": lambda: scaling_shapes(threads_all),
        "quick": quick_shapes,
    }
    if suite not in SUITES:
        raise param_value_error(f"unknown suite {suite!r}; expected one of {', '.join(SUITES)}")
    names = ("public", "decode", "scaling") if suite == "all" else (suite,)
    return [dict(sh, suite=name) for name in names for sh in makers[name]()]


# ---- inputs and the numpy equivalent ----------------------------------------------------------------


def make_inputs(
    sh: dict[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Random tokens [A, H] of the shape's dtype, the benchmark fill of the counts (spread evenly)
    and, when the shape has them, [A] float32 scales. With a ``capacity`` C the tokens and scales
    have N*C rows (slots) and the counts still sum to A (each rank's share fits its slot)."""
    rows = sh["N"] * sh["capacity"] if sh.get("capacity") else sh["A"]
    tokens = random_bytes(rng, (rows, sh["H"]), parse_dtype(sh["dtype"]).carrier)
    counts = even_counts(sh["N"], sh["E"], sh["A"], np.dtype(sh["count_dtype"]))
    scales = rng.random(rows, dtype=np.float32) if sh["scales"] else None
    return tokens, counts, scales


def numpy_reroute(
    tokens: np.ndarray, counts: np.ndarray, scales: Optional[np.ndarray], capacity: int = 0
) -> tuple[np.ndarray, ...]:
    """What a numpy user writes instead (count mode, gather index): the same four outputs. With a
    ``capacity`` C, rank r's cells start at row r*C and the outputs keep N*C rows (zeros, -1)."""
    c = counts.astype(np.int64)
    src = (np.cumsum(c, axis=1) - c) if capacity else (np.cumsum(c.ravel()) - c.ravel()).reshape(c.shape)
    if capacity:
        src = src + np.arange(c.shape[0], dtype=np.int64)[:, None] * capacity  # the slots
    runs = c.T.ravel()  # expert-major cell lengths
    dst = np.cumsum(runs) - runs
    total = int(runs.sum())
    gather = np.repeat(src.T.ravel() - dst, runs) + np.arange(total, dtype=np.int64)
    if not capacity:
        idx = gather.astype(np.int32)
        out_tokens = np.take(tokens, idx, axis=0)
        out_scales = np.take(scales, idx, axis=0) if scales is not None else np.zeros(total, np.float32)
        return out_tokens, out_scales, idx, c.sum(axis=0).astype(counts.dtype)
    rows = tokens.shape[0]
    idx = np.full(rows, -1, np.int32)
    idx[:total] = gather
    out_tokens = np.zeros_like(tokens)
    np.take(tokens, gather, axis=0, out=out_tokens[:total])
    out_scales = np.zeros(rows, np.float32 if scales is None else scales.dtype)
    if scales is not None:
        np.take(scales, gather, axis=0, out=out_scales[:total])
    return out_tokens, out_scales, idx, c.sum(axis=0).astype(counts.dtype)


# ---- timing -----------------------------------------------------------------------------------------


def _batch(fn: Callable[[], Any], target_s: float) -> int:
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    return max(1, min(10000, int(target_s / max(one, 1e-7))))


def time_variants(
    fns: dict[str, Callable[[], Any]], rounds: int, target_s: float
) -> dict[str, dict[str, float]]:
    """Interleaved rounds: each round times a batch of every variant. Seconds per call."""
    sizes = {k: _batch(f, target_s) for k, f in fns.items()}
    per: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            n = sizes[k]
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            per[k].append((time.perf_counter() - t0) / n)
    return {
        k: {"best": min(v), "median": float(np.median(v)), "calls_per_round": sizes[k]}
        for k, v in per.items()
    }


def bench_shape(sh: dict[str, Any], rng: np.random.Generator, rounds: int, target_s: float) -> dict[str, Any]:
    """Times every variant of one shape (after checking ours bit-exactly against numpy)."""
    from . import moe_re_routing, runtime

    tokens, counts, scales = make_inputs(sh, rng)
    cap = sh.get("capacity") or None
    out = tuple(moe_re_routing(tokens, counts, scales, num_max_tokens_per_rank=cap))
    verified = not mismatched_outputs(out, numpy_reroute(tokens, counts, scales, cap or 0))
    nbytes = payload(tokens, counts, scales).written
    src = np.ones(max(nbytes, 1), np.uint8)
    dst = np.zeros_like(src)
    ran = runtime.last_run()
    fns: dict[str, Callable[[], Any]] = {
        "ours_alloc": lambda: moe_re_routing(tokens, counts, scales, num_max_tokens_per_rank=cap),
        "ours_out": lambda: moe_re_routing(tokens, counts, scales, num_max_tokens_per_rank=cap, out=out),
        "np_take": lambda: numpy_reroute(tokens, counts, scales, cap or 0),
        "memcpy": lambda: np.copyto(dst, src),
    }
    if sh.get("bare_take"):
        idx = out[2][: int(counts.sum())]  # the gather rows (with capacity: before the -1 tail)
        fns["bare_take"] = lambda: np.take(tokens, idx, axis=0)
    t = time_variants(fns, rounds, target_s)
    us = {k: v["best"] * 1e6 for k, v in t.items()}
    r = dict(sh)
    r.update(
        {
            "bytes": nbytes,
            "verified": verified,
            "us": us,
            "us_median": {k: v["median"] * 1e6 for k, v in t.items()},
            "gbps": {k: nbytes / (v * 1e-6) / 1e9 for k, v in us.items()},
            # >= 1 means ours is at least as fast as the reference.
            "out_vs_memcpy": us["memcpy"] / us["ours_out"],
            "alloc_vs_numpy": us["np_take"] / us["ours_alloc"],
            "out_vs_numpy": us["np_take"] / us["ours_out"],
        }
    )
    if "bare_take" in us:
        r["alloc_over_bare_take"] = us["ours_alloc"] / us["bare_take"]
    if sh.get("official_us"):
        r["official_over_ours_out"] = sh["official_us"] / us["ours_out"]
    r["engine"] = ran.get("engine", "")
    # native: the threads the call was split over; emulator: the blocks of the SoC platform.
    r["split"] = ran.get("threads", ran.get("block_dim", 0))
    r["platform"] = ran.get("platform", "")
    return r


# ---- machine description ----------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """What ran the benchmark, from the standard library and the C library (the fuller machine
    description of the report, lscpu and memory, is benchmarks/report.py's)."""
    from . import runtime

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "os": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    try:
        info["version"] = runtime.version()
        info["engine"] = runtime.get_engine()
    except Exception as exc:  # pragma: no cover - CANN backend without the CPU extensions
        info["runtime"] = str(exc)
    return info


# ---- output -----------------------------------------------------------------------------------------


def format_row(r: dict[str, Any]) -> str:
    """One line of the plain-text table printed while the suite runs."""
    us, g = r["us"], r["gbps"]
    off = f"{r['official_us']:8.1f}" if r.get("official_us") else f"{'':8s}"
    bare = f"{us['bare_take']:9.1f}" if "bare_take" in us else f"{'':9s}"
    return (
        f"{r['name']:>17} {r['A']:>7} {r['H']:>6} {r['N']:>3}x{r['E']:<3} {r['dtype']:>8} "
        f"{r['bytes'] / 1e6:9.2f} "
        f"{us['ours_alloc']:10.1f} {us['ours_out']:10.1f} {us['np_take']:10.1f} {us['memcpy']:10.1f} {bare} "
        f"{g['ours_out']:7.2f} {r['out_vs_memcpy']:7.2f} {r['alloc_vs_numpy']:8.2f} {off} "
        f"{r['engine']}/{r['split']}"
        f"{'' if r['verified'] else '  MISMATCH'}"
    )


# Ratio columns are speed-ups (>= 1: ours is at least as fast): "mcp/out" = memcpy time / out= time
# (out_vs_memcpy), "np/alloc" = numpy time / allocating time (alloc_vs_numpy). Explained under the
# table (LEGEND).
HEADER = (
    f"{'shape':>17} {'A':>7} {'H':>6} {'NxE':>7} {'dtype':>8} {'MB':>9} {'alloc us':>10} {'out= us':>10} "
    f"{'numpy us':>10} {'memcpy us':>10} {'take us':>9} {'GB/s':>7} {'mcp/out':>7} {'np/alloc':>8} "
    f"{'A2 us':>8} engine/split"
)
LEGEND = (
    "GB/s: bytes written by out= per second; mcp/out = memcpy us / out= us; np/alloc = numpy us / alloc us "
    "(ratios >= 1: ours is faster); A2 us: the official operator's published Atlas A2 time"
)


# ---- driver -----------------------------------------------------------------------------------------


def run_suite(
    shapes: Sequence[dict[str, Any]],
    rounds: int,
    target_s: float,
    seed: int,
    threads_all: int,
    verbose: bool = True,
) -> list[dict[str, Any]]:
    from . import runtime

    rng = np.random.default_rng(seed)
    results = []
    if verbose:
        print(HEADER, flush=True)
    for sh in shapes:
        threads = sh.get("threads", threads_all)
        runtime.set_threads(threads)
        try:
            r = bench_shape(sh, rng, rounds, target_s)
        finally:
            runtime.set_threads(threads_all)
        r["threads"] = threads
        results.append(r)
        if verbose:
            print(format_row(r), flush=True)
    if verbose:
        print(LEGEND, flush=True)
    return results


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--suite",
        choices=SUITES,
        default="public",
        help="public (20 public shapes + production, default), decode, scaling, all, quick",
    )
    p.add_argument(
        "--shape",
        action="append",
        help=f"{SHAPE_SYNTAX} instead of a suite (defaults int8, int32, yes; scales yes|no); repeatable",
    )
    p.add_argument(
        "--rounds", "--repeat", type=int, default=7, help="interleaved rounds per shape (default 7)"
    )
    p.add_argument("--target-ms", type=float, default=20.0, help="time per batch of calls (default 20 ms)")
    p.add_argument("--threads", type=int, default=0, help="threads of a call (default: all cores)")
    p.add_argument(
        "--engine",
        choices=["native", "emulator"],
        default=None,
        help="engine (default: MOE_RE_ROUTING_ENGINE or native, what applications run)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--json", metavar="PATH", nargs="?", const="-", help="write JSON (no PATH or '-': stdout)"
    )
    p.add_argument("--quiet", action="store_true", help="no table on stdout")


SHAPE_SYNTAX = "A,H,N,E[,dtype[,count_dtype[,scales]]]"
_SCALES_WORDS = {
    "yes": True, "1": True, "true": True, "scales": True,
    "no": False, "0": False, "false": False, "none": False,
}  # fmt: skip


def parse_shape(text: str) -> dict[str, Any]:
    """One ``--shape`` value, ``A,H,N,E[,dtype[,count_dtype[,scales]]]`` (defaults int8, int32, yes),
    checked completely before anything runs.

    Raises:
        MoeReRoutingValueError: a field is missing, not an integer, out of range (A >= 0, H, N, E
            >= 1), an unknown tokens dtype, a count dtype other than int32/int64, or scales not one of
            yes/no (1/0, true/false, scales/none); the message names the field and the value.
    """
    p = [f.strip() for f in text.split(",")]
    if not 4 <= len(p) <= 7:
        raise param_value_error(f"--shape wants {SHAPE_SYNTAX}, got {text!r}")
    sizes = []
    for name, field, low in zip("AHNE", p[:4], (0, 1, 1, 1)):
        try:
            value = int(field)
        except ValueError:
            raise param_value_error(
                f"--shape {text!r}: {name} must be an integer >= {low}, got {field!r}"
            ) from None
        if value < low:
            raise param_value_error(f"--shape {text!r}: {name} must be >= {low}, got {value}")
        sizes.append(value)
    dtype = p[4] if len(p) > 4 else "int8"
    parse_dtype(dtype)  # raises naming the accepted names
    count_dtype = p[5] if len(p) > 5 else "int32"
    if count_dtype not in ("int32", "int64"):
        raise param_value_error(f"--shape {text!r}: count_dtype must be int32 or int64, got {count_dtype!r}")
    scales_word = p[6].lower() if len(p) > 6 else "yes"
    if scales_word not in _SCALES_WORDS:
        raise param_value_error(
            f"--shape {text!r}: scales must be yes or no (1/0, true/false, scales/none), got {p[6]!r}"
        )
    a, h, n, e = sizes
    return _shape(text, a, h, n, e, dtype, count_dtype, _SCALES_WORDS[scales_word])


def measure(args: argparse.Namespace, verbose: bool = True) -> dict[str, Any]:
    """Runs the shapes the arguments select; returns the report (settings, machine, results)."""
    from . import runtime

    threads_all = args.threads if args.threads > 0 else (os.cpu_count() or 1)
    shapes = [parse_shape(s) for s in args.shape] if args.shape else suite_shapes(args.suite, threads_all)
    if args.engine:
        runtime.set_engine(args.engine)
    runtime.set_threads(threads_all)
    results = run_suite(shapes, args.rounds, args.target_ms * 1e-3, args.seed, threads_all, verbose=verbose)
    return {
        "suite": "custom" if args.shape else args.suite,
        "threads": threads_all,
        "rounds": args.rounds,
        "target_ms": args.target_ms,
        "machine": machine_info(),
        "results": results,
    }


def run(args: argparse.Namespace) -> int:
    """``moe-re-routing bench``: measure, print the table (and JSON); 1 if a result differs. The
    shapes and the JSON path are checked before anything runs."""
    to_stdout_json = args.json == "-"
    if args.json and not to_stdout_json:
        check_output_file(args.json, "--json")
    report = measure(args, verbose=not (args.quiet or to_stdout_json))
    if args.json:
        text = json.dumps(report, indent=1)
        if to_stdout_json:
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    bad = [r["name"] for r in report["results"] if not r["verified"]]
    if bad:
        print(f"bench: results differ from numpy for {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="moe-re-routing bench", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
