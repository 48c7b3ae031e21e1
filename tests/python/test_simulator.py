"""The msprof op simulator look-alike (docs/profiling.md): every file of the tree parsed, headers
exact, every kernel line real, and the model's identities between instructions, lines, pipes,
cores and the task duration checked exactly (cycles) or to the printed rounding (µs)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from moe_re_routing import simulator as sim
from moe_re_routing.cli import main as cli_main

KERNEL = Path(__file__).resolve().parents[2] / "op_kernel" / "moe_re_routing.cpp"
KERNEL_CODE = "op_kernel/moe_re_routing.cpp"
PIPE_COLUMNS_ADDED = [
    "aiv_scalar_single_time(us)",
    "aiv_scalar_dual_time(us)",
    "aiv_scalar_wait_time(us)",
    "aiv_scalar_mte2_stall_time(us)",
    "aiv_scalar_mte3_stall_time(us)",
    "aiv_scalar_vector_stall_time(us)",
    "aiv_scalar_wait_ib_time(us)",
    "aiv_scalar_stall_by_ub_time(us)",
]
NOT_MODELLED = [c for c in PIPE_COLUMNS_ADDED if c != "aiv_scalar_wait_time(us)"]
API_CALLS = (
    "DataCopyPad(",
    "DataCopy(",
    "GetValue(",
    "SetValue(",
    "Adds(",
    "Add(",
    "Duplicate(",
    "Cast(",
    "CreateVecIndex(",
    "SetFlag<",
    "WaitFlag<",
    "PipeBarrier<",
    "AllocTensor<",
    "EnQue(",
    "DeQue<",
    "FreeTensor(",
)

# A = 4096 fp16 rows of 512 with float32 scales, 8 x 8 counts: 48 cores, every row moved once.
A, H, N, E = 4096, 512, 8, 8
ROW_BYTES, SCALE_BYTES = H * 2, 4


def _kernel_line(text: str) -> int:
    """The (single) kernel source line containing `text`: line numbers are derived, never fixed."""
    hits = [i for i, line in enumerate(KERNEL.read_text().splitlines(), start=1) if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]


@pytest.fixture(scope="module")
def opprof(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("simprof")
    args = ["profile", str(A), str(H), str(N), str(E), "--dtype", "float16", "--scales"]
    assert cli_main([*args, "--simulator", "--output", str(out)]) == 0
    (path,) = [str(p) for p in out.iterdir()]
    return path


def _csv(path: str) -> tuple[str, list[dict[str, str]]]:
    with open(path, newline="") as f:
        text = f.read()
    return text.splitlines()[0], list(csv.DictReader(text.splitlines()))


def _basic_and_pipes(opprof: str) -> tuple[dict[str, str], list[dict[str, str]], str]:
    _, basic = _csv(os.path.join(opprof, "OpBasicInfo.csv"))
    header, pipes = _csv(os.path.join(opprof, "PipeUtilization.csv"))
    return basic[0], pipes, header


def test_tree_layout_and_headers(opprof: str) -> None:
    prof = sim.read(opprof)  # checks both CSV headers of every core exactly
    basic, _, _ = _basic_and_pipes(opprof)
    block_dim = int(basic["Block Dim"])
    assert block_dim == 48 and len(prof.cores) == block_dim
    root = Path(opprof) / "simulator"
    names = {sim.core_name(b) for b in range(block_dim)}
    assert {p.name for p in root.iterdir()} == names | {"trace.json", "README.txt"}
    assert sim.core_name(0) == "core0.veccore0" and sim.core_name(1) == "core0.veccore1"
    assert sim.core_name(47) == "core23.veccore1"
    for name in names:
        files = {p.name for p in (root / name).iterdir()}
        assert files == {f"{name}_code_exe.csv", f"{name}_instr_exe.csv", "trace.json"}
        head, _ = _csv(str(root / name / f"{name}_code_exe.csv"))
        assert head == "code,call_count,cycles,running_time(us)"
        head, _ = _csv(str(root / name / f"{name}_instr_exe.csv"))
        assert head == "instr,addr,pipe,call_count,cycles,running_time(us),detail"
    assert "MODELLED" in prof.readme and "not measured" in prof.readme
    meta = prof.summary["metadata"]
    assert meta["time_source"] == "modelled" and "Atlas A2" in meta["platform"]
    assert meta["run_platform_cores"] == 48 and meta["block_dim"] == block_dim
    readme = (Path(opprof) / "README.txt").read_text()
    assert "simulator/" in readme and "MODELLED" in readme


def test_every_line_is_a_kernel_api_call(opprof: str) -> None:
    source = KERNEL.read_text().splitlines()
    prof = sim.read(opprof)
    for core in prof.cores:
        assert core.lines, core.name
        for row in core.lines:
            path, _, line = row.code.rpartition(":")
            assert path == KERNEL_CODE, row.code
            text = source[int(line) - 1]
            assert any(call in text for call in API_CALLS), (row.code, text)
            assert row.calls > 0 and row.cycles >= 0
        for instr in core.instrs:
            assert instr.addr == "N/A" and instr.pipe in sim.PIPES
            assert instr.code.startswith(KERNEL_CODE + ":")


@pytest.fixture(scope="module")
def opprof_core_bound(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A decode shape: 64 int8 rows of 7168, 32 x 256 counts; the count metadata makes the slowest
    core, not HBM, set the modelled task time."""
    out = tmp_path_factory.mktemp("simprof_core")
    args = ["profile", "64", "7168", "32", "256", "--dtype", "int8", "--scales", "--simulator"]
    assert cli_main([*args, "--output", str(out)]) == 0
    (path,) = [str(p) for p in out.iterdir()]
    return path


def test_cycles_add_up_per_line_pipe_core_and_task(opprof: str) -> None:
    """The identities on an HBM-bound run (the task time is launch + the HBM term)."""
    slowest, hbm = _check_identities(opprof)
    assert hbm > slowest


def test_cycles_add_up_when_a_core_is_the_bottleneck(opprof_core_bound: str) -> None:
    """The identities on a run whose slowest core sets the task time."""
    slowest, hbm = _check_identities(opprof_core_bound)
    assert slowest > hbm


def _check_identities(opprof: str) -> tuple[float, float]:
    """Per core: instructions -> lines exactly; lines -> busy cycles; per pipe -> the model's pipe
    time in whole cycles; SCALAR + max(VECTOR, MTE2, MTE3) -> aiv_total_cycles; and the task
    duration = launch + max(slowest core, HBM bound), to the printed rounding. Returns the slowest
    core's modelled time and the HBM-bound time (µs)."""
    prof = sim.read(opprof)
    basic, pipes, _ = _basic_and_pipes(opprof)
    freq = float(basic["Rated Freq"])
    assert freq == float(basic["Current Freq"]) == prof.summary["metadata"]["frequency_mhz"] == 1800
    cores_time = []
    for core, p in zip(prof.cores, pipes):
        meta = core.meta
        assert meta["core"] == core.name and meta["block_id"] == core.block == int(p["block_id"])
        by_line: dict[str, list[int]] = {}
        by_pipe = dict.fromkeys(sim.PIPES, 0)
        for instr in core.instrs:
            acc = by_line.setdefault(instr.code, [0, 0])
            acc[0] += instr.calls
            acc[1] += instr.cycles
            by_pipe[instr.pipe] += instr.cycles
            assert instr.running_us == pytest.approx(instr.cycles / freq, abs=1e-6)
        assert {r.code: [r.calls, r.cycles] for r in core.lines} == by_line
        for r in core.lines:
            assert r.running_us == pytest.approx(r.cycles / freq, abs=1e-6)
        assert sum(r.cycles for r in core.lines) == meta["busy_cycles"] == sum(by_pipe.values())
        assert by_pipe == meta["pipe_cycles"]
        assert by_pipe["FLOWCTRL"] == 0
        others = max(by_pipe["VECTOR"], by_pipe["MTE2"], by_pipe["MTE3"])
        assert meta["total_cycles"] == by_pipe["SCALAR"] + others == int(p["aiv_total_cycles"])
        for pipe, column in (
            ("SCALAR", "aiv_scalar_time(us)"),
            ("VECTOR", "aiv_vec_time(us)"),
            ("MTE2", "aiv_mte2_time(us)"),
            ("MTE3", "aiv_mte3_time(us)"),
        ):
            # the CSV prints µs with 3 decimals; the cycles are the same time rounded to a cycle
            assert float(p[column]) == pytest.approx(by_pipe[pipe] / freq, abs=5e-4 + 0.5 / freq)
        assert float(p["aiv_time(us)"]) == pytest.approx(meta["total_cycles"] / freq, abs=5e-4 + 2 / freq)
        cores_time.append(meta["total_cycles"] / freq)
    m = prof.summary["metadata"]
    duration = float(basic["Task Duration(us)"])
    assert duration == pytest.approx(m["task_duration_us"], abs=1e-3)
    assert duration == pytest.approx(
        m["launch_us"] + max(max(cores_time), m["hbm_bound_us"]), abs=2e-3 + 2 / freq
    )
    return max(cores_time), float(m["hbm_bound_us"])


def test_dma_details_account_for_every_row(opprof: str) -> None:
    """The chunk mover's two DataCopyPads move every token and scale row once, in and out."""
    line_in = _kernel_line("DataCopyPad(chunk, src[srcOffset]")
    line_out = _kernel_line("DataCopyPad(dst[dstOffset], chunk")
    prof = sim.read(opprof)
    moved = {"MTE2": 0, "MTE3": 0}
    for core in prof.cores:
        for instr in core.instrs:
            if instr.code in (f"{KERNEL_CODE}:{line_in}", f"{KERNEL_CODE}:{line_out}"):
                fields = dict(kv.split("=", 1) for kv in instr.detail.split() if "=" in kv)
                assert instr.pipe == ("MTE2" if instr.code.endswith(f":{line_in}") else "MTE3")
                assert instr.instr == (
                    "DataCopyPad(GM->UB)" if instr.pipe == "MTE2" else "DataCopyPad(UB->GM)"
                )
                assert int(fields["bursts"]) == 1
                assert int(fields["bytes"]) == int(fields["burst_bytes"])
                moved[instr.pipe] += instr.calls * int(fields["bytes"])
                assert instr.cycles >= 0  # cumulative rounding: a tiny DMA may get 0 whole cycles
    assert moved == {"MTE2": A * (ROW_BYTES + SCALE_BYTES), "MTE3": A * (ROW_BYTES + SCALE_BYTES)}


def test_vector_details_give_counts(opprof: str) -> None:
    """A vector instruction's detail gives its element count, element size, bytes and repeats."""
    prof = sim.read(opprof)
    vectors = [i for c in prof.cores for i in c.instrs if i.pipe == "VECTOR"]
    assert vectors
    for instr in vectors:
        fields = dict(kv.split("=", 1) for kv in instr.detail.split() if "=" in kv)
        count, size, dst = int(fields["count"]), int(fields["element_bytes"]), int(fields["dst_bytes"])
        assert count * size == dst and int(fields["repeats"]) == (dst + 255) // 256


def test_pipe_utilization_scalar_and_stall_columns(opprof: str) -> None:
    _, pipes, header = _basic_and_pipes(opprof)
    columns = header.split(",")
    assert columns[: columns.index("aiv_scalar_ratio") + 1][-2:] == [
        "aiv_scalar_time(us)",
        "aiv_scalar_ratio",
    ]
    assert columns[columns.index("aiv_scalar_ratio") + 1 :] == PIPE_COLUMNS_ADDED
    for p in pipes:
        for c in NOT_MODELLED:
            assert p[c] == "N/A", c
        wait = float(p["aiv_scalar_wait_time(us)"])
        assert wait == pytest.approx(float(p["aiv_time(us)"]) - float(p["aiv_scalar_time(us)"]), abs=2e-3)
        assert wait == pytest.approx(
            max(float(p["aiv_vec_time(us)"]), float(p["aiv_mte2_time(us)"]), float(p["aiv_mte3_time(us)"])),
            abs=2e-3,
        )


def _x_events(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in trace["traceEvents"] if e["ph"] == "X"]


def test_traces_have_a_lane_per_core_and_pipe(opprof: str) -> None:
    prof = sim.read(opprof)
    freq = float(prof.summary["metadata"]["frequency_mhz"])
    duration = float(prof.summary["metadata"]["task_duration_us"])
    launch = float(prof.summary["metadata"]["launch_us"])
    summary = prof.summary
    assert summary["metadata"]["time_source"] == "modelled"
    procs = {e["pid"]: e["args"]["name"] for e in summary["traceEvents"] if e.get("name") == "process_name"}
    assert set(procs.values()) >= {c.name for c in prof.cores}
    threads = {
        (e["pid"], e["args"]["name"]) for e in summary["traceEvents"] if e.get("name") == "thread_name"
    }
    pid_of = {name: pid for pid, name in procs.items()}
    for core in prof.cores:
        for pipe in ("SCALAR", "VECTOR", "MTE2", "MTE3"):
            assert (pid_of[core.name], pipe) in threads
    for e in _x_events(summary):
        assert e["args"]["modelled"] is True
        assert e["dur"] >= 0 and e["ts"] + e["dur"] <= duration + 1e-3
    for core in prof.cores:
        own = _x_events(core.trace)
        assert {e["pid"] for e in own} <= {pid_of[core.name]}
        lanes: dict[str, float] = {}
        for e in own:
            lanes[e["cat"]] = lanes.get(e["cat"], 0.0) + e["dur"]
            assert e["args"]["code"].startswith(KERNEL_CODE + ":")
            # schematic layout: the core's lanes end by launch + its modelled core time
            assert e["ts"] + e["dur"] <= launch + core.meta["total_cycles"] / freq + 1e-5
        for pipe, total in lanes.items():
            assert total == pytest.approx(core.meta["pipe_cycles"][pipe] / freq, abs=1e-5)
        assert json.dumps(core.trace)  # serialisable as read


def test_top_lines_and_cli(opprof: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prof = sim.read(opprof)
    rows = sim.top_lines(prof, 10)
    assert len(rows) == 10
    assert [r["cycles"] for r in rows] == sorted((r["cycles"] for r in rows), reverse=True)
    total: dict[str, int] = {}
    for core in prof.cores:
        for r in core.lines:
            total[r.code] = total.get(r.code, 0) + r.cycles
    assert rows[0]["cycles"] == max(total.values())
    assert sum(sum(r["pipes"].values()) for r in rows) == sum(r["cycles"] for r in rows)
    args = ["profile", "256", "128", "4", "4", "--dtype", "float16", "--output", str(tmp_path), "--top", "3"]
    assert cli_main(args) == 0
    out = capsys.readouterr().out.splitlines()
    path = out[0]
    assert os.path.isdir(os.path.join(path, "simulator"))  # --top implies --simulator
    assert out[1].startswith("top 3 kernel lines by MODELLED cycles")
    ranked = [line for line in out if re.match(r"^\s*[123] ", line)]
    assert len(ranked) == 3 and all(KERNEL_CODE + ":" in line for line in ranked)
    png = os.path.join(path, "pipe_time.png")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert out[-1].startswith("no PNG") and not os.path.exists(png)
    else:
        assert out[-1] == png
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert cli_main([*args[:-1], "0"]) == 2


def test_profile_without_simulator_writes_no_tree(tmp_path: Path) -> None:
    assert cli_main(["profile", "64", "128", "4", "4", "--output", str(tmp_path)]) == 0
    (path,) = list(tmp_path.iterdir())
    assert not (path / "simulator").exists()


def test_environment_variables_write_the_tree(tmp_path: Path) -> None:
    code = (
        "import numpy as np, moe_re_routing as m\n"
        "from moe_re_routing.workload import even_counts\n"
        "counts = even_counts(4, 4, 64, np.dtype('int32'))\n"
        "m.moe_re_routing(np.zeros((64, 128), np.float16), counts, None)\n"
    )
    env = dict(
        os.environ, MOE_RE_ROUTING_PROFILE_DIR=str(tmp_path / "p"), MOE_RE_ROUTING_PROFILE_SIMULATOR="1"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    (path,) = list((tmp_path / "p").iterdir())
    prof = sim.read(str(path))
    assert prof.cores and all(c.lines for c in prof.cores)
    env["MOE_RE_ROUTING_PROFILE_SIMULATOR"] = "0"
    env["MOE_RE_ROUTING_PROFILE_DIR"] = str(tmp_path / "q")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    (path,) = list((tmp_path / "q").iterdir())
    assert not (path / "simulator").exists()
