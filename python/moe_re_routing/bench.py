"""Benchmark suite of the CPU backend: ours (allocating and ``out=``) against what a numpy user
writes instead and against a plain memcpy of the same bytes, measured side by side in one run.

Suites (``moe-re-routing bench --suite ...``):

- ``public``: the 20 public shapes (``moe_re_routing/data/public_shapes.csv``, with the official Atlas A2 µs)
  and the production shape (16384 x 7168 int8, counts 16 x 16 int32, float32 scales).
- ``decode``: small decode calls, A in {1, 8, 64, 256} x H 7168 int8, counts 16 x 16, scales.
- ``scaling``: the production shape with 1 thread and with all; time against A, H and N*E
  (up to 4096 cells).
- ``all``: the three above; ``quick``: a few small shapes (smoke test).

For every shape, in one run and interleaved round by round:

- ``ours_alloc``: ``moe_re_routing(tokens, counts, scales)`` (allocates the four outputs);
- ``ours_out``: the same with ``out=`` preallocated outputs;
- ``np_take``: the equivalent full result in numpy: the gather index from the counts (vectorised),
  ``np.take(tokens, idx, axis=0)``, ``np.take(scales, idx, axis=0)`` (or float32 zeros) and the
  per-expert counts;
- ``memcpy``: ``np.copyto`` of as many bytes as the operator writes, into preallocated memory.

Bytes: ``payload`` = bytes the operator writes (permuted tokens, scales, index, expert counts);
GB/s = payload / time, so ours and memcpy are compared on the same bytes (a copy reads as much as it
writes). Times: each round runs every variant in a batch of calls long enough to time; the best
round's mean per call is reported (``us``), and the median round too (``us_median``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .errors import param_value_error

__all__ = ["SUITES", "add_arguments", "machine_info", "main", "run_suite"]

_DATA = Path(__file__).resolve().parent / "data"
SUITES = ("public", "decode", "scaling", "all", "quick")
VARIANTS = ("ours_alloc", "ours_out", "np_take", "memcpy")

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
    return [_shape(f"decode{a}", a, 7168, 16, 16) for a in (1, 8, 64, 256)]


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
    if suite == "public":
        return public_shapes()
    if suite == "decode":
        return decode_shapes()
    if suite == "scaling":
        return scaling_shapes(threads_all)
    if suite == "quick":
        return quick_shapes()
    if suite == "all":
        return public_shapes() + decode_shapes() + scaling_shapes(threads_all)
    raise param_value_error(f"unknown suite {suite!r}; expected one of {', '.join(SUITES)}")


# ---- inputs and the numpy equivalent ----------------------------------------------------------------


def _np_dtype(name: str) -> np.dtype:
    try:
        return np.dtype(name)
    except TypeError:
        import ml_dtypes

        carrier: np.dtype = np.dtype(getattr(ml_dtypes, name))
        return carrier


def uniform_counts(n: int, e: int, a: int, dtype: Any) -> np.ndarray:
    """The benchmark fill: every cell A // (N*E), the last cell takes the remainder."""
    c = np.full(n * e, a // (n * e), dtype=np.int64)
    c[-1] += a - int(c.sum())
    return c.reshape(n, e).astype(dtype)


def make_inputs(
    sh: dict[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    dt = _np_dtype(sh["dtype"])
    nbytes = sh["A"] * sh["H"] * dt.itemsize
    tokens = rng.integers(0, 256, size=nbytes, dtype=np.uint8).view(dt).reshape(sh["A"], sh["H"])
    counts = uniform_counts(sh["N"], sh["E"], sh["A"], np.dtype(sh["count_dtype"]))
    scales = rng.random(sh["A"], dtype=np.float32) if sh["scales"] else None
    return tokens, counts, scales


def numpy_reroute(
    tokens: np.ndarray, counts: np.ndarray, scales: Optional[np.ndarray]
) -> tuple[np.ndarray, ...]:
    """What a numpy user writes instead (count mode, gather index): the same four outputs."""
    c = counts.astype(np.int64)
    src = (np.cumsum(c.ravel()) - c.ravel()).reshape(c.shape)  # row-major exclusive prefix: src(r, e)
    runs = c.T.ravel()  # expert-major cell lengths
    dst = np.cumsum(runs) - runs
    idx = (np.repeat(src.T.ravel() - dst, runs) + np.arange(tokens.shape[0], dtype=np.int64)).astype(np.int32)
    out_tokens = np.take(tokens, idx, axis=0)
    out_scales = np.take(scales, idx, axis=0) if scales is not None else np.zeros(tokens.shape[0], np.float32)
    return out_tokens, out_scales, idx, c.sum(axis=0).astype(counts.dtype)


def payload_bytes(tokens: np.ndarray, counts: np.ndarray, scales: Optional[np.ndarray]) -> int:
    a = tokens.shape[0]
    return int(
        tokens.nbytes
        + (scales.nbytes if scales is not None else 4 * a)
        + 4 * a
        + counts.shape[1] * counts.itemsize
    )


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


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return all(
        x.shape == y.shape
        and np.array_equal(np.ascontiguousarray(x).view(np.uint8), np.ascontiguousarray(y).view(np.uint8))
        for x, y in zip(a, b)
    )


def bench_shape(sh: dict[str, Any], rng: np.random.Generator, rounds: int, target_s: float) -> dict[str, Any]:
    from . import moe_re_routing

    tokens, counts, scales = make_inputs(sh, rng)
    out = tuple(moe_re_routing(tokens, counts, scales))
    verified = _same(out, numpy_reroute(tokens, counts, scales))
    nbytes = payload_bytes(tokens, counts, scales)
    src = np.ones(max(nbytes, 1), np.uint8)
    dst = np.zeros_like(src)
    fns = {
        "ours_alloc": lambda: moe_re_routing(tokens, counts, scales),
        "ours_out": lambda: moe_re_routing(tokens, counts, scales, out=out),
        "np_take": lambda: numpy_reroute(tokens, counts, scales),
        "memcpy": lambda: np.copyto(dst, src),
    }
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
    if sh.get("official_us"):
        r["official_over_ours_out"] = sh["official_us"] / us["ours_out"]
    return r


# ---- machine description ----------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    from . import runtime

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in lscpu.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in (
                "Model name",
                "CPU(s)",
                "Thread(s) per core",
                "L2 cache",
                "L3 cache",
                "Hypervisor vendor",
            ):
                info["lscpu " + k.strip()] = v.strip()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["memory_gib"] = round(kb / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        info["version"] = runtime.version()
        info["mode"] = runtime.get_mode()
        p = runtime.get_platform()
        info["platform"], info["platform_cores"], info["platform_ub_bytes"] = p.name, p.cores, p.ub_bytes
    except Exception as exc:  # pragma: no cover - CANN backend without the CPU extensions
        info["runtime"] = str(exc)
    return info


# ---- output -----------------------------------------------------------------------------------------


def format_row(r: dict[str, Any]) -> str:
    us, g = r["us"], r["gbps"]
    off = f"{r['official_us']:8.1f}" if r.get("official_us") else f"{'':8s}"
    return (
        f"{r['name']:>11} {r['A']:>7} {r['H']:>6} {r['N']:>3}x{r['E']:<3} {r['dtype']:>8} "
        f"{r['bytes'] / 1e6:9.2f} "
        f"{us['ours_alloc']:10.1f} {us['ours_out']:10.1f} {us['np_take']:10.1f} {us['memcpy']:10.1f} "
        f"{g['ours_out']:7.2f} {r['out_vs_memcpy']:6.2f} {r['alloc_vs_numpy']:6.2f} {off}"
        f"{'' if r['verified'] else '  MISMATCH'}"
    )


HEADER = (
    f"{'shape':>11} {'A':>7} {'H':>6} {'NxE':>7} {'dtype':>8} {'MB':>9} {'alloc us':>10} {'out= us':>10} "
    f"{'numpy us':>10} {'memcpy us':>10} {'GB/s':>7} {'o/mcp':>6} {'a/np':>6} {'A2 us':>8}"
)


def markdown_table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| shape | A | H | N×E | dtype | payload MB | ours alloc µs | ours out= µs | numpy µs | memcpy µs "
        "| out= GB/s | memcpy GB/s | out= / memcpy | alloc / numpy | official A2 µs |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        us, g = r["us"], r["gbps"]
        off = f"{r['official_us']:.2f}" if r.get("official_us") else ""
        lines.append(
            f"| {r['name']} | {r['A']} | {r['H']} | {r['N']}×{r['E']} | {r['dtype']} "
            f"| {r['bytes'] / 1e6:.2f} "
            f"| {us['ours_alloc']:.1f} | {us['ours_out']:.1f} | {us['np_take']:.1f} | {us['memcpy']:.1f} "
            f"| {g['ours_out']:.2f} | {g['memcpy']:.2f} | {r['out_vs_memcpy']:.2f} "
            f"| {r['alloc_vs_numpy']:.2f} | {off} |"
        )
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            f"bench: matplotlib is not installed; skipping the plot {path} "
            "(pip install matplotlib, or ./build.sh bench)",
            file=sys.stderr,
        )
        return False
    rows = sorted((r for r in results if r.get("sweep") in (None, "A")), key=lambda r: r["bytes"])
    fig, ax = plt.subplots(figsize=(9, 5.5))
    styles = {"ours_out": "o-", "ours_alloc": "s--", "np_take": "^:", "memcpy": "x-."}
    for k, st in styles.items():
        ax.plot([r["bytes"] for r in rows], [r["gbps"][k] for r in rows], st, label=k, alpha=0.85)
    ax.set_xscale("log")
    ax.set_xlabel("payload bytes (bytes the operator writes)")
    ax.set_ylabel("GB/s (payload / time)")
    mode = results[0].get("mode", "") if results else ""
    ax.set_title(f"MoeReRouting CPU backend throughput vs size ({mode} mode)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


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
        r["mode"] = runtime.get_mode()
        results.append(r)
        if verbose:
            print(format_row(r), flush=True)
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
        help="A,H,N,E[,dtype[,count_dtype[,scales]]] instead of a suite; repeatable",
    )
    p.add_argument(
        "--rounds", "--repeat", type=int, default=7, help="interleaved rounds per shape (default 7)"
    )
    p.add_argument("--target-ms", type=float, default=20.0, help="time per batch of calls (default 20 ms)")
    p.add_argument("--threads", type=int, default=0, help="emulator threads (default: all cores)")
    p.add_argument(
        "--mode",
        choices=["checked", "fast"],
        default=None,
        help="emulator mode (default: the library's, fast unless ASCENDC_CPU_MODE says otherwise)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--json", metavar="PATH", nargs="?", const="-", help="write JSON (no PATH or '-': stdout)"
    )
    p.add_argument("--plot", metavar="PNG", help="plot GB/s against payload size (needs matplotlib)")
    p.add_argument("--markdown", metavar="PATH", help="write the results as a Markdown table")
    p.add_argument("--quiet", action="store_true", help="no table on stdout")


def _parse_shape(s: str) -> dict[str, Any]:
    p = s.split(",")
    if len(p) < 4:
        raise param_value_error(f"--shape wants A,H,N,E[,dtype[,count_dtype[,scales]]], got {s!r}")
    return _shape(
        s,
        int(p[0]),
        int(p[1]),
        int(p[2]),
        int(p[3]),
        p[4] if len(p) > 4 else "int8",
        p[5] if len(p) > 5 else "int32",
        (p[6].lower() in ("1", "yes", "true", "scales")) if len(p) > 6 else True,
    )


def run(args: argparse.Namespace) -> int:
    from . import runtime

    if args.mode:
        runtime.set_mode(args.mode)
    threads_all = args.threads if args.threads > 0 else (os.cpu_count() or 1)
    runtime.set_threads(threads_all)
    shapes = [_parse_shape(s) for s in args.shape] if args.shape else suite_shapes(args.suite, threads_all)
    to_stdout_json = args.json == "-"
    results = run_suite(
        shapes,
        args.rounds,
        args.target_ms * 1e-3,
        args.seed,
        threads_all,
        verbose=not (args.quiet or to_stdout_json),
    )
    report = {
        "suite": "custom" if args.shape else args.suite,
        "threads": threads_all,
        "rounds": args.rounds,
        "target_ms": args.target_ms,
        "machine": machine_info(),
        "results": results,
    }
    if args.json:
        text = json.dumps(report, indent=1)
        if to_stdout_json:
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    if args.markdown:
        Path(args.markdown).write_text(markdown_table(results) + "\n")
    if args.plot:
        plot(results, args.plot)
    bad = [r["name"] for r in results if not r["verified"]]
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
