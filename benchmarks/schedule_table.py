"""Per-core schedule of the public benchmark shapes: ours next to the official A2/A3 split.

Runs ``moe-re-routing plan --json --counts even`` (the kernel on the emulator with its per-core
trace; the benchmarks' even fill of the counts) for the 20 public shapes and the production shape,
and prints a Markdown table for docs/architecture.md.
It also checks the bar for every shape that moves at least 1 MiB of tokens: at least 40 cores
(or all of a smaller SoC's) carry work and the busiest core moves at most 1.10x the mean. Exit
status 1 if a shape misses the bar. The platform is a SoC of the library's table (cores and usable
UB come from there).

Usage: python benchmarks/schedule_table.py [--soc NAME]   (default: the library's default SoC)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from moe_re_routing import default_soc, soc_table
from moe_re_routing.bench import public_shapes

MIB = 1 << 20


def plan(shape: dict[str, Any], soc: str) -> dict[str, Any]:
    """Runs the CLI's plan for one shape and returns its JSON."""
    cmd = [
        sys.executable,
        "-m",
        "moe_re_routing",
        "plan",
        str(shape["A"]),
        str(shape["H"]),
        str(shape["N"]),
        str(shape["E"]),
        "--dtype",
        shape["dtype"],
        "--count-dtype",
        shape["count_dtype"],
        "--soc",
        soc,
        "--counts",
        "even",
        "--json",
    ]
    if shape["scales"]:
        cmd.append("--scales")
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soc", default=None, help="SoC name (default: the library's default SoC)")
    args = parser.parse_args()
    soc = args.soc or default_soc()
    cores = soc_table()[soc].cores

    print(
        "| case | A | H | N×E | tokens | scales | MiB moved | ours: cores | ours: max KiB/core "
        "| ours: max/mean | official: cores | official: max KiB/core | busiest core, official/ours |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    misses = []
    for s in public_shapes():
        p = plan(s, soc)
        ours, official = p["ours"], p["official_model"]
        token_bytes = p["tokenRowBytes"] * p["tokenNum"]
        print(
            f"| {s['name']} | {s['A']} | {s['H']} | {s['N']}×{s['E']} | {s['dtype']} | "
            f"{'yes' if s['scales'] else 'no'} | {p['totals']['bytes'] / MIB:.2f} | {ours['busy_cores']} | "
            f"{ours['max_bytes'] / 1024:.1f} | {ours['max_over_mean']:.3f} | {official['busy_cores']} | "
            f"{official['max_bytes'] / 1024:.1f} | {official['max_bytes'] / ours['max_bytes']:.1f}× |"
        )
        if token_bytes >= MIB and (ours["busy_cores"] < min(40, cores) or ours["max_over_mean"] > 1.10):
            misses.append(s["name"])
    if misses:
        print(f"\nbar missed (>= 40 busy cores, max/mean <= 1.10) by: {', '.join(misses)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
