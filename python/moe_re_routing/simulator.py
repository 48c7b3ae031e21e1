"""The msprof op simulator look-alike of a profiled run: reading it, the most expensive kernel
lines, and a plot of per-core pipe time (docs/profiling.md).

The library writes the tree (``moe-re-routing profile ... --simulator``, or
``MOE_RE_ROUTING_PROFILE_DIR`` with ``MOE_RE_ROUTING_PROFILE_SIMULATOR=1``)::

    OPPROF_<timestamp>_<id>/simulator/
        core<i>.veccore<j>/core<i>.veccore<j>_code_exe.csv   code,call_count,cycles,running_time(us)
        core<i>.veccore<j>/core<i>.veccore<j>_instr_exe.csv  instr,addr,pipe,call_count,cycles,
                                                             running_time(us),detail
        core<i>.veccore<j>/trace.json                        Chrome trace of that core
        trace.json                                           Chrome trace of all cores
        README.txt

Block ``b`` of the launch is ``core<b // 2>.veccore<b % 2>``. Every figure is *modelled*: the time
model (docs/time_model.md) applied per instruction, cycles at the assumed 1800 MHz clock.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

__all__ = [
    "CODE_EXE_HEADER",
    "INSTR_EXE_HEADER",
    "PIPES",
    "CoreProfile",
    "InstrRow",
    "LineRow",
    "SimulatorProfile",
    "core_name",
    "format_top",
    "plot_pipe_time",
    "read",
    "top_lines",
]

CODE_EXE_HEADER = "code,call_count,cycles,running_time(us)"
INSTR_EXE_HEADER = "instr,addr,pipe,call_count,cycles,running_time(us),detail"
# Pipes of the instr_exe ``pipe`` column; FLOWCTRL (synchronisation) is priced at 0 by the model.
PIPES = ("SCALAR", "VECTOR", "MTE2", "MTE3", "FLOWCTRL")


def core_name(block: int) -> str:
    """The A2/A3 name of launch block ``block``: two vector cores per AI core."""
    return f"core{block // 2}.veccore{block % 2}"


@dataclass
class LineRow:
    """One row of ``*_code_exe.csv``: a kernel source line (``file:line``) and its modelled cost."""

    code: str
    calls: int
    cycles: int
    running_us: float


@dataclass
class InstrRow:
    """One row of ``*_instr_exe.csv``; ``code`` is parsed from ``detail`` (``code=<file:line> ...``)."""

    instr: str
    addr: str
    pipe: str
    calls: int
    cycles: int
    running_us: float
    detail: str

    @property
    def code(self) -> str:
        first = self.detail.split(" ", 1)[0]
        if not first.startswith("code="):
            raise ValueError(f"instr_exe detail does not start with code=: {self.detail!r}")
        return first[len("code=") :]


@dataclass
class CoreProfile:
    """One ``core<i>.veccore<j>`` directory."""

    name: str
    block: int
    lines: list[LineRow]
    instrs: list[InstrRow]
    trace: dict[str, Any]

    @property
    def meta(self) -> dict[str, Any]:
        """This core's entry of the trace metadata: pipe_cycles, total_cycles, busy_cycles, ..."""
        cores: list[dict[str, Any]] = self.trace["metadata"]["cores"]
        return cores[0]


@dataclass
class SimulatorProfile:
    """A whole ``simulator/`` tree: the cores in block order and the summary trace."""

    path: str
    cores: list[CoreProfile] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    readme: str = ""


def _read_csv(path: str, header: str) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        text = f.read()
    lines = text.splitlines()
    if not lines or lines[0] != header:
        raise ValueError(f"{path}: header {lines[0] if lines else ''!r}, expected {header!r}")
    return list(csv.DictReader(lines))


def read(opprof_dir: str) -> SimulatorProfile:
    """Reads ``<opprof_dir>/simulator``; raises ValueError when a file is missing or a header differs.

    The cores are read in block order (block b from ``core<b//2>.veccore<b%2>``) as far as the
    summary trace's metadata lists them."""
    root = os.path.join(opprof_dir, "simulator")
    with open(os.path.join(root, "trace.json")) as f:
        summary = json.load(f)
    with open(os.path.join(root, "README.txt")) as f:
        readme = f.read()
    prof = SimulatorProfile(path=root, summary=summary, readme=readme)
    for block in range(int(summary["metadata"]["block_dim"])):
        name = core_name(block)
        d = os.path.join(root, name)
        lines = [
            LineRow(r["code"], int(r["call_count"]), int(r["cycles"]), float(r["running_time(us)"]))
            for r in _read_csv(os.path.join(d, f"{name}_code_exe.csv"), CODE_EXE_HEADER)
        ]
        instrs = [
            InstrRow(
                r["instr"],
                r["addr"],
                r["pipe"],
                int(r["call_count"]),
                int(r["cycles"]),
                float(r["running_time(us)"]),
                r["detail"],
            )
            for r in _read_csv(os.path.join(d, f"{name}_instr_exe.csv"), INSTR_EXE_HEADER)
        ]
        with open(os.path.join(d, "trace.json")) as f:
            trace = json.load(f)
        prof.cores.append(CoreProfile(name, block, lines, instrs, trace))
    return prof


def top_lines(prof: SimulatorProfile, n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` kernel lines with the most modelled cycles summed over all cores, most expensive
    first. Each: ``code``, ``calls`` and ``cycles`` (all cores), ``us`` (cycles at the assumed
    clock), ``share`` (of all cores' busy cycles), ``max_core`` / ``max_core_cycles`` (the core
    where the line costs most) and ``pipes`` (pipe -> cycles of the line on it, all cores)."""
    freq = float(prof.summary["metadata"]["frequency_mhz"])
    agg: dict[str, dict[str, Any]] = {}
    for core in prof.cores:
        for row in core.lines:
            a = agg.setdefault(
                row.code,
                {
                    "code": row.code,
                    "calls": 0,
                    "cycles": 0,
                    "max_core": "",
                    "max_core_cycles": -1,
                    "pipes": {},
                },
            )
            a["calls"] += row.calls
            a["cycles"] += row.cycles
            if row.cycles > a["max_core_cycles"]:
                a["max_core_cycles"] = row.cycles
                a["max_core"] = core.name
        for instr in core.instrs:
            pipes = agg[instr.code]["pipes"]
            pipes[instr.pipe] = pipes.get(instr.pipe, 0) + instr.cycles
    busy = sum(int(c.meta["busy_cycles"]) for c in prof.cores)
    rows = sorted(agg.values(), key=lambda a: (-a["cycles"], a["code"]))[: max(n, 0)]
    for a in rows:
        a["us"] = a["cycles"] / freq
        a["share"] = a["cycles"] / busy if busy else 0.0
        a["pipes"] = {p: c for p, c in a["pipes"].items() if c}
    return rows


def _source_line(prof: SimulatorProfile, code: str) -> str:
    """The text of ``file:line`` when the source tree the library was built from is still there."""
    path, _, line = code.rpartition(":")
    root = str(prof.summary["metadata"].get("source_root", ""))
    full = path if os.path.isabs(path) else os.path.join(root, path)
    try:
        with open(full) as f:
            for i, text in enumerate(f, start=1):
                if i == int(line):
                    return text.strip()
    except (OSError, ValueError):
        pass
    return ""


def format_top(prof: SimulatorProfile, n: int = 10) -> str:
    """The table ``moe-re-routing profile --top N`` prints (modelled cycles, all cores)."""
    meta = prof.summary["metadata"]
    rows = top_lines(prof, n)
    out = [
        f"top {len(rows)} kernel lines by MODELLED cycles over {len(prof.cores)} cores "
        f"({meta['platform']}, {meta['frequency_mhz']} MHz assumed; "
        f"task {meta['task_duration_us']} us modelled)",
        f"{'#':>2} {'cycles':>10} {'us':>9} {'share':>6} {'calls':>8} {'busiest core':>16}  "
        f"{'pipes':<14}  code",
    ]
    for i, r in enumerate(rows, start=1):
        pipes = "+".join(sorted(r["pipes"], key=lambda p: -r["pipes"][p])) or "-"
        out.append(
            f"{i:>2} {r['cycles']:>10} {r['us']:>9.3f} {100 * r['share']:>5.1f}% {r['calls']:>8} "
            f"{r['max_core']:>16}  {pipes:<14}  {r['code']}"
        )
        text = _source_line(prof, r["code"])
        if text:
            out.append(f"{'':>4}{text}")
    return "\n".join(out)


def plot_pipe_time(opprof_dir: str, png: str) -> Optional[str]:
    """Writes a bar chart of each core's modelled pipe times (SCALAR, VECTOR, MTE2, MTE3, in µs)
    and its core time to ``png``; returns the path, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    prof = read(opprof_dir)
    freq = float(prof.summary["metadata"]["frequency_mhz"])
    pipes = PIPES[:4]
    width = 0.8 / len(pipes)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(prof.cores) + 2.0), 4.0))
    xs = list(range(len(prof.cores)))
    for k, pipe in enumerate(pipes):
        ys = [int(c.meta["pipe_cycles"][pipe]) / freq for c in prof.cores]
        ax.bar([x + (k - 1.5) * width for x in xs], ys, width=width, label=pipe)
    ax.plot(
        xs, [int(c.meta["total_cycles"]) / freq for c in prof.cores], "k_", markersize=12, label="core time"
    )
    hbm = float(prof.summary["metadata"]["hbm_bound_us"])
    if hbm > 0:
        ax.axhline(hbm, color="grey", linestyle="--", linewidth=1, label="HBM-bound time (all cores)")
    ax.set_xticks(xs)
    ax.set_xticklabels([c.name for c in prof.cores], rotation=90, fontsize=6)
    ax.set_ylabel("µs (modelled)")
    meta = prof.summary["metadata"]
    ax.set_title(f"{meta['op']}: modelled pipe time per core ({meta['platform']}, not measured)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png
