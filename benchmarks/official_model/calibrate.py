"""Calibrate the time model (docs/time_model.md) against the official kernel's public numbers.

1. Runs the test-only official-schedule kernel (``official_schedule_trace``, built with the C++
   tests) on the emulator for the 20 public shapes, the production shape and the decode shapes,
   and stores the per-core traces in ``python/moe_re_routing/data/official_traces.json``.
2. Fits the model's free parameters on the 20 public shapes (``moe_re_routing.timemodel.fit``)
   and writes them to ``cpu_backend/aclnn/time_model_fit.inc``, which the C library compiles in.

Usage (from the repository root, after ``./build.sh test`` or a build with ``-DBUILD_TESTING=ON``)::

    python benchmarks/official_model/calibrate.py \
        --trace-tool build/tests/benchmarks/official_model/official_schedule_trace

``--fit-only`` skips step 1 and refits from the stored traces. Takes about 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from moe_re_routing import timemodel

ROOT = Path(__file__).resolve().parents[2]
TRACES = ROOT / "python" / "moe_re_routing" / "data" / "official_traces.json"
FIT_INC = ROOT / "cpu_backend" / "aclnn" / "time_model_fit.inc"


def collect(tool: str) -> dict[str, object]:
    """Runs the official-schedule kernel for every shape of ``timemodel.model_shapes()``."""
    env = dict(os.environ)
    plat = timemodel.calibration_platform()
    shapes = []
    for s in timemodel.model_shapes():
        args = [
            str(s["A"]),
            str(s["H"] * timemodel.itemsize(s["dtype"])),
            str(s["N"]),
            str(s["E"]),
            str(timemodel.itemsize(s["count_dtype"])),
            "1" if s["scales"] else "0",
            str(plat["cores"]),
            str(plat["ub_bytes"]),
        ]
        out = subprocess.run([tool, *args], env=env, check=True, capture_output=True, text=True).stdout
        run = json.loads(out)
        shapes.append(
            dict(
                s,
                block_dim=run["block_dim"],
                ub_factor=run["ub_factor"],
                cores=timemodel.compress_cores(run["cores"]),
            )
        )
        print(f"  {s['case']:>12}: blockDim {run['block_dim']}, ubFactor {run['ub_factor']}", file=sys.stderr)
    return {"platform": plat, "shapes": shapes}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trace-tool", help="path of the official_schedule_trace executable")
    p.add_argument("--fit-only", action="store_true", help="refit from the stored traces")
    a = p.parse_args(argv)
    if not a.fit_only:
        if not a.trace_tool:
            p.error("--trace-tool is required unless --fit-only")
        data = collect(a.trace_tool)
        TRACES.write_text(json.dumps(data, separators=(",", ":")) + "\n")
        print(f"wrote {TRACES.relative_to(ROOT)}", file=sys.stderr)
    traces = json.loads(TRACES.read_text())
    params = timemodel.fit(timemodel.public_traces(traces))
    FIT_INC.write_text(timemodel.format_fit_inc(params))
    print(f"wrote {FIT_INC.relative_to(ROOT)}:", file=sys.stderr)
    for k, v in params.items():
        print(f"  {k} = {v:.6g}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
