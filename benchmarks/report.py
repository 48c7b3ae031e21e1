"""Benchmark report of the CPU backend: runs ``moe_re_routing.bench`` suites in this process (or
reads a JSON written by ``moe-re-routing bench --json``), describes the machine (lscpu, memory,
load), and writes the JSON, Markdown tables (one per suite, plus the issue targets) and a
throughput plot (matplotlib, optional).

This is repository tooling, not part of the installed package: the package's ``bench`` module
only times and prints.

Usage::

    python benchmarks/report.py --suite all --json benchmarks/results/all.json \\
        --markdown benchmarks/results/all.md --plot benchmarks/results/throughput.png
    python benchmarks/report.py --from-json benchmarks/results/all.json --markdown all.md
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

from moe_re_routing import bench

SUITE_TITLES = {
    "public": "Public shapes and the production shape",
    "decode": "Decode shapes",
    "scaling": "Scaling",
    "quick": "Quick",
    "custom": "Custom shapes",
}
# Targets of the CPU fast path, checked on the measured rows (benchmarks only, never a unit test).
ALLOC_OVER_NUMPY_MIN = 1.0  # ours (allocating) at least as fast as numpy on public and decode rows
ALLOC_OVER_NUMPY_MIN_LARGE = 1.5  # on public rows of >= LARGE_BYTES payload
LARGE_BYTES = 8_000_000
BARE_TAKE_SHAPE = "decode64_16x16"  # A = 64 x 7168, counts 16 x 16
BARE_TAKE_MAX = 1.5  # ours (allocating) / bare np.take
OUT_OVER_MEMCPY_SHAPE = "production"  # the seed shape: 16384 x 7168 int8, 16 x 16 counts, scales
OUT_OVER_MEMCPY_MIN = 1.5  # single-thread memcpy of the same bytes / ours (out=)


# ---- machine description ---------------------------------------------------------------------------


def machine_report() -> dict[str, Any]:
    """lscpu fields, memory and load average of this machine (Linux), plus bench.machine_info()."""
    info = bench.machine_info()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        lscpu = ""
    wanted = ("Model name", "CPU(s)", "Thread(s) per core", "L2 cache", "L3 cache", "Hypervisor vendor")
    for line in lscpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in wanted:
            info["lscpu " + key.strip()] = value.strip()
    try:
        with open("/proc/meminfo") as f:
            info["memory_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        info["env " + var] = os.environ.get(var)
    return info


# ---- Markdown ---------------------------------------------------------------------------------------


def _ratio(x: float) -> str:
    return f"{x:.2f}"


def suite_table(results: list[dict[str, Any]]) -> str:
    """Markdown table of result rows (µs per call, GB/s, ratios; ≥ 1 means ours is faster)."""
    bare = any("bare_take" in r["us"] for r in results)
    head = (
        "| shape | A | H | N×E | dtype | payload MB | ours alloc µs | ours out= µs | numpy µs | memcpy µs "
        + ("| bare take µs " if bare else "")
        + "| out= GB/s | numpy / alloc | memcpy / out= | official A2 µs | engine (split) |"
    )
    cols = 15 + (1 if bare else 0)
    lines = [head, "|---|" + "---:|" * (cols - 2) + "---|"]
    for r in results:
        us = r["us"]
        off = f"{r['official_us']:.2f}" if r.get("official_us") else ""
        lines.append(
            f"| {r['name']} | {r['A']} | {r['H']} | {r['N']}×{r['E']} | {r['dtype']} "
            f"| {r['bytes'] / 1e6:.2f} | {us['ours_alloc']:.1f} | {us['ours_out']:.1f} "
            f"| {us['np_take']:.1f} | {us['memcpy']:.1f} "
            + (f"| {us['bare_take']:.1f} " if bare and "bare_take" in us else "| " if bare else "")
            + f"| {r['gbps']['ours_out']:.2f} | {_ratio(r['alloc_vs_numpy'])} | {_ratio(r['out_vs_memcpy'])} "
            f"| {off} | {r.get('engine', '')} ({r.get('split', '')}) |"
        )
    return "\n".join(lines)


def targets_table(results: list[dict[str, Any]]) -> str:
    """Each CPU target next to its measured value."""
    lines = ["| target | shape | measured | bar | met |", "|---|---|---:|---:|---|"]
    for r in results:
        if r.get("suite") not in ("public", "decode"):
            continue
        bar = ALLOC_OVER_NUMPY_MIN
        if r.get("suite") == "public" and r["bytes"] >= LARGE_BYTES:
            bar = ALLOC_OVER_NUMPY_MIN_LARGE
        got = r["alloc_vs_numpy"]
        lines.append(
            f"| numpy / ours (allocating) | {r['name']} ({r['bytes'] / 1e6:.2f} MB) | {got:.2f} | ≥ {bar} "
            f"| {'yes' if got >= bar else 'NO'} |"
        )
    for r in results:
        if r["name"] == BARE_TAKE_SHAPE and "alloc_over_bare_take" in r:
            got = r["alloc_over_bare_take"]
            lines.append(
                f"| ours (allocating) / bare np.take | {r['name']} | {got:.2f} "
                f"({r['us']['ours_alloc']:.1f} vs {r['us']['bare_take']:.1f} µs) | ≤ {BARE_TAKE_MAX} "
                f"| {'yes' if got <= BARE_TAKE_MAX else 'NO'} |"
            )
        if r["name"] == OUT_OVER_MEMCPY_SHAPE and r.get("suite") == "public":
            got = r["out_vs_memcpy"]
            lines.append(
                f"| memcpy / ours (out=) | {r['name']} | {got:.2f} "
                f"({r['us']['memcpy']:.0f} vs {r['us']['ours_out']:.0f} µs) | ≥ {OUT_OVER_MEMCPY_MIN} "
                f"| {'yes' if got >= OUT_OVER_MEMCPY_MIN else 'NO'} |"
            )
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """All tables of a report: the targets, then one table per suite."""
    results = report["results"]
    parts = ["## Targets", "", targets_table(results), ""]
    for suite in dict.fromkeys(r.get("suite", "custom") for r in results):
        rows = [r for r in results if r.get("suite", "custom") == suite]
        parts += [f"## {SUITE_TITLES.get(suite, suite)}", "", suite_table(rows), ""]
    return "\n".join(parts)


# ---- plot -------------------------------------------------------------------------------------------


def plot(results: list[dict[str, Any]], path: str) -> bool:
    """GB/s against payload size for every variant (public and decode rows, A sweep)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"report: matplotlib is not installed; skipping the plot {path}", file=sys.stderr)
        return False
    rows = sorted(
        (r for r in results if r.get("sweep") in (None, "A") and r.get("suite") != "quick"),
        key=lambda r: r["bytes"],
    )
    fig, ax = plt.subplots(figsize=(9, 5.5))
    styles = {"ours_out": "o", "ours_alloc": "s", "np_take": "^", "memcpy": "x"}
    for k, st in styles.items():
        ax.plot([r["bytes"] for r in rows], [r["gbps"][k] for r in rows], st, label=k, alpha=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("payload bytes (bytes the operator writes)")
    ax.set_ylabel("GB/s (payload / time)")
    engine = results[0].get("engine", "") if results else ""
    ax.set_title(f"MoeReRouting CPU backend throughput vs size ({engine} engine)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---- driver -----------------------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_arguments(parser)
    parser.add_argument("--from-json", metavar="PATH", help="report on this JSON instead of running")
    parser.add_argument("--markdown", metavar="PATH", help="write the Markdown tables here")
    parser.add_argument("--plot", metavar="PNG", help="write the throughput plot here (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.from_json:
        report = json.loads(Path(args.from_json).read_text())
    else:
        report = bench.measure(args, verbose=not args.quiet)
        report["machine"] = machine_report()
        if args.json:
            text = json.dumps(report, indent=1)
            if args.json == "-":
                print(text)
            else:
                Path(args.json).write_text(text + "\n")
    bad = [r["name"] for r in report["results"] if not r["verified"]]
    status = 1 if bad else 0
    if bad:
        print(f"report: results differ from numpy for {', '.join(bad)}", file=sys.stderr)
    if args.markdown:
        Path(args.markdown).write_text(markdown(report))
    else:
        print(markdown(report))
    if args.plot:
        plot(report["results"], args.plot)
    return status


if __name__ == "__main__":
    sys.exit(main())
