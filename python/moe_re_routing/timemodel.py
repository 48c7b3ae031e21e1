"""Time model of a vector-core kernel run on Atlas A2 (docs/time_model.md), its calibration
against the official kernel's public numbers, and msprof-shaped profiles of CPU runs.

The model itself (``MoeReRoutingModelEvaluate``) and its calibrated parameters live in the C
library (``cpu_backend/aclnn/time_model.cpp``, ``time_model_fit.inc``) so that the library can
write profiles on its own (``MOE_RE_ROUTING_PROFILE_DIR``). This module:

- stores and reads the per-core traces of the test-only official-schedule kernel
  (``data/official_traces.json``, produced by ``benchmarks/official_model/calibrate.py``);
- fits the free parameters on the 20 public shapes (``fit``) and predicts each shape from a fit on
  the other 19 (``leave_one_out``);
- runs *our* kernel traced on the emulator and models it (``ours_cores``);
- builds the ``moe-re-routing model`` table and the ``moe-re-routing profile`` directories.

Every time this module returns is *modelled* for Ascend910B (Atlas A2), never measured.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

__all__ = [
    "CALIBRATION_SOC",
    "FIXED_PARAMETERS",
    "FREE_PARAMETERS",
    "calibration_platform",
    "evaluate",
    "fit",
    "leave_one_out",
    "model_report",
    "model_shapes",
    "parameters",
    "profile",
]

_DATA = Path(__file__).resolve().parent / "data"

#: The SoC the model is calibrated for: the public numbers were measured on Atlas A2.
CALIBRATION_SOC = "Ascend910B"


def calibration_platform() -> dict[str, Any]:
    """The calibration SoC's numbers from the C library's SoC table (``ascendc_cpu/platform.h``):
    ``{"soc": str, "cores": int (AIV cores), "ub_bytes": int (GetCoreMemSize(UB), where the
    official kernel's UB budget starts)}``."""
    from .runtime import soc_table

    soc = soc_table()[CALIBRATION_SOC]
    return {"soc": soc.name, "cores": soc.cores, "ub_bytes": soc.ub_bytes}


#: Parameters fitted on the public shapes (names as in MoeReRoutingModelParameters).
FREE_PARAMETERS = ("launch_us", "dma_us", "core_gbps", "hbm_gbps", "scalar_gm_us")

#: Parameters the public numbers cannot determine (the official kernel does no scalar UB access
#: and one vector instruction per chunk, in lock-step with its DMAs), set by assumption and
#: documented in docs/time_model.md: a scalar UB access ~2 cycles, a short vector instruction
#: ~18 cycles, at 1.8 GHz.
FIXED_PARAMETERS: dict[str, float] = {"scalar_ub_us": 0.001, "vector_us": 0.01}

# Bounds of the fit (microseconds, GB/s): wide, only to keep the search finite.
_BOUNDS: dict[str, tuple[float, float]] = {
    "launch_us": (0.1, 50.0),
    "dma_us": (1e-4, 5.0),
    "core_gbps": (1.0, 10000.0),
    "hbm_gbps": (10.0, 100000.0),
    "scalar_gm_us": (1e-5, 1.0),
}
_START: dict[str, float] = {
    "launch_us": 2.0,
    "dma_us": 0.1,
    "core_gbps": 50.0,
    "hbm_gbps": 1500.0,
    "scalar_gm_us": 0.01,
}

# What the model reads of one core's trace (MoeReRoutingModelCore, snake_case; derived from the
# emulator's CoreTrace by moe_re_routing::model::FromTrace in C, the one place that does it).
MODEL_KEYS = (
    "bytes_in",
    "bytes_out",
    "dma_in_ops",
    "dma_out_ops",
    "gm_scalar_ops",
    "scalar_ub_ops",
    "vector_ops",
)
_C_FIELDS = ("bytesIn", "bytesOut", "dmaInOps", "dmaOutOps", "gmScalarOps", "scalarUbOps", "vectorOps")

DECODE_A = (1, 8, 64, 256, 512)
DECODE_NE = ((16, 16), (32, 8), (32, 256))


def itemsize(dtype: str) -> int:
    """Bytes per element of a dtype name used by the benchmark tables (``float16``, ``int64``...)."""
    from .workload import parse_dtype

    return int(parse_dtype(dtype).carrier.itemsize)


# ---- shapes -------------------------------------------------------------------------------------


def model_shapes() -> list[dict[str, Any]]:
    """The shapes of the model table: the 20 public ones (case "1".."20", with the official A2 µs
    and the published floor), the production shape and the decode shapes (A in DECODE_A x H 7168
    int8, float32 scales, N x E in DECODE_NE, int32 counts).

    Each: ``case, A, H, N, E, dtype, count_dtype, scales, official_us, floor_us`` (the last two
    None outside the public table).
    """
    import csv

    out: list[dict[str, Any]] = []
    with open(_DATA / "public_shapes.csv", newline="") as f:
        for r in csv.DictReader(f):
            off = r.get("official_us_atlas_a2") or ""
            floor = r.get("hw_floor_us") or ""
            out.append(
                {
                    "case": r["case"],
                    "A": int(r["A"]),
                    "H": int(r["H"]),
                    "N": int(r["N"]),
                    "E": int(r["E"]),
                    "dtype": r["tokens_dtype"],
                    "count_dtype": r["counts_dtype"],
                    "scales": r["scales"] == "yes",
                    "official_us": float(off) if off else None,
                    "floor_us": float(floor) if floor else None,
                }
            )
    for a in DECODE_A:
        for n, e in DECODE_NE:
            out.append(
                {
                    "case": f"decode_A{a}_{n}x{e}",
                    "A": a,
                    "H": 7168,
                    "N": n,
                    "E": e,
                    "dtype": "int8",
                    "count_dtype": "int32",
                    "scales": True,
                    "official_us": None,
                    "floor_us": None,
                }
            )
    return out


def floor_bytes(shape: dict[str, Any]) -> int:
    """Bytes the published floor counts: tokens read and written, scales read and written when
    present, the int32 index written (this reproduces t_hw_us of the public table, see
    docs/time_model.md)."""
    a = int(shape["A"])
    b = 2 * a * int(shape["H"]) * itemsize(shape["dtype"]) + 4 * a
    return b + (8 * a if shape["scales"] else 0)


def floor_rate_gbps(shapes: Sequence[dict[str, Any]]) -> float:
    """The bandwidth behind the published floors: median of floor_bytes / t_hw_us over the public
    shapes whose floor is above the 1 µs minimum."""
    rates = [
        floor_bytes(s) / (s["floor_us"] * 1e3) for s in shapes if s.get("floor_us") and s["floor_us"] > 1.0
    ]
    return float(np.median(rates))


def floor_us(shape: dict[str, Any], rate_gbps: float) -> float:
    """The published floor for a public shape; otherwise max(1 µs, floor_bytes / rate)."""
    if shape.get("floor_us") is not None:
        return float(shape["floor_us"])
    return max(1.0, floor_bytes(shape) / (rate_gbps * 1e3))


# ---- traces ---------------------------------------------------------------------------------------


def compress_cores(cores: Sequence[dict[str, Any]]) -> list[dict[str, int]]:
    """Per-core model inputs (MODEL_KEYS) with identical cores merged under a count ``n`` (the
    model depends only on the multiset of cores). Order of first appearance kept."""
    merged: dict[tuple[int, ...], int] = {}
    for c in cores:
        key = tuple(int(c[k]) for k in MODEL_KEYS)
        merged[key] = merged.get(key, 0) + 1
    return [dict(zip(MODEL_KEYS, k), n=n) for k, n in merged.items()]


def load_official_traces() -> dict[str, Any]:
    """The stored traces of the official-schedule kernel: ``{"platform", "shapes": [...]}``."""
    with open(_DATA / "official_traces.json") as f:
        return dict(json.load(f))


def public_traces(traces: dict[str, Any]) -> list[dict[str, Any]]:
    """The public shapes (those with an official time) of a traces document."""
    return [s for s in traces["shapes"] if s.get("official_us") is not None]


# ---- the model (evaluated by the C library) ----------------------------------------------------


def parameters() -> dict[str, float]:
    """The calibrated parameters compiled into the library, name -> value."""
    from ._ffi import ffi, lib

    names = ffi.new("const char *const **")
    values = ffi.new("const double **")
    n = lib.MoeReRoutingModelParameters(names, values)
    return {ffi.string(names[0][i]).decode(): float(values[0][i]) for i in range(n)}


def _c_cores(cores: Sequence[dict[str, Any]]) -> tuple[Any, int]:
    from ._ffi import ffi

    expanded = [c for c in cores for _ in range(int(c.get("n", 1)))]
    arr = ffi.new("MoeReRoutingModelCore[]", max(1, len(expanded)))
    for i, c in enumerate(expanded):
        for key, field in zip(MODEL_KEYS, _C_FIELDS):
            setattr(arr[i], field, c[key])
    return arr, len(expanded)


def _param_array(params: dict[str, float]) -> Any:
    from ._ffi import ffi

    order = list(parameters())
    return ffi.new("double[]", [float(params[k]) for k in order])


def evaluate(cores: Sequence[dict[str, Any]], params: Optional[dict[str, float]] = None) -> float:
    """Modelled kernel time (µs) of a run with these per-core traces (``n`` = multiplicity), with
    ``params`` (default: the calibrated ones)."""
    from ._ffi import ffi, lib

    arr, n = _c_cores(cores)
    p = ffi.NULL if params is None else _param_array(params)
    return float(lib.MoeReRoutingModelEvaluate(arr, n, p, ffi.NULL))


def per_core(cores: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """Modelled busy time of each unit of each core (µs), calibrated parameters."""
    from ._ffi import ffi, lib

    arr, n = _c_cores(cores)
    out = ffi.new("MoeReRoutingModelCoreTime[]", n)
    lib.MoeReRoutingModelEvaluate(arr, n, ffi.NULL, out)
    return [
        {
            "mte2_us": t.mte2Us,
            "mte3_us": t.mte3Us,
            "scalar_us": t.scalarUs,
            "vector_us": t.vectorUs,
            "core_us": t.coreUs,
        }
        for t in out
    ]


# ---- calibration ----------------------------------------------------------------------------------


def _predictor(shapes: Sequence[dict[str, Any]]) -> Callable[[dict[str, float]], np.ndarray]:
    """Returns params -> modelled µs of every shape, with the C arrays built once."""
    from ._ffi import ffi, lib

    built = [_c_cores(s["cores"]) for s in shapes]
    order = list(parameters())

    def predict(params: dict[str, float]) -> np.ndarray:
        p = ffi.new("double[]", [float(params[k]) for k in order])
        return np.array([lib.MoeReRoutingModelEvaluate(arr, n, p, ffi.NULL) for arr, n in built])

    return predict


def fit(shapes: Sequence[dict[str, Any]], iterations: int = 200) -> dict[str, float]:
    """Fits FREE_PARAMETERS to the shapes' official times (least squares on log(model / official),
    i.e. on relative error; Levenberg-Marquardt in log-parameter space within _BOUNDS).
    Deterministic. Returns all parameters (the fixed ones from FIXED_PARAMETERS)."""
    predict = _predictor(shapes)
    obs = np.log(np.array([float(s["official_us"]) for s in shapes]))
    lo = np.log([_BOUNDS[k][0] for k in FREE_PARAMETERS])
    hi = np.log([_BOUNDS[k][1] for k in FREE_PARAMETERS])

    def params_of(x: np.ndarray) -> dict[str, float]:
        p = dict(zip(FREE_PARAMETERS, np.exp(x)))
        p.update(FIXED_PARAMETERS)
        return p

    def resid(x: np.ndarray) -> np.ndarray:
        r: np.ndarray = np.log(predict(params_of(x))) - obs
        return r

    x = np.log([_START[k] for k in FREE_PARAMETERS])
    r = resid(x)
    cost = float(r @ r)
    lam = 1e-2
    for _ in range(iterations):
        jac = np.empty((r.size, x.size))
        for j in range(x.size):
            step = 1e-6
            xp = x.copy()
            xp[j] += step
            jac[:, j] = (resid(xp) - r) / step
        g = jac.T @ r
        h = jac.T @ jac
        improved = False
        while lam < 1e10:
            dx = np.linalg.solve(h + lam * (np.diag(np.diag(h)) + 1e-9 * np.eye(x.size)), -g)
            xn = np.clip(x + dx, lo, hi)
            rn = resid(xn)
            cn = float(rn @ rn)
            if cn < cost:
                improved = cost - cn > 1e-12 * max(cost, 1e-300)
                x, r, cost = xn, rn, cn
                lam = max(lam / 3.0, 1e-12)
                break
            lam *= 4.0
        if not improved:
            break
    return params_of(x)


def leave_one_out(shapes: Sequence[dict[str, Any]]) -> list[float]:
    """For each shape, its modelled µs from a fit on all the other shapes."""
    out = []
    for i in range(len(shapes)):
        rest = [s for j, s in enumerate(shapes) if j != i]
        out.append(evaluate(shapes[i]["cores"], fit(rest)))
    return out


def format_fit_inc(params: dict[str, float]) -> str:
    """The C include file with the calibrated parameters (cpu_backend/aclnn/time_model_fit.inc)."""
    names = list(parameters())
    lines = [
        "// Calibrated by benchmarks/official_model/calibrate.py (docs/time_model.md); do not edit by hand.",
        "// " + ", ".join(names),
    ]
    lines += [f"{float(params[k])!r},  // {k}" for k in names]
    return "\n".join(lines) + "\n"


# ---- our kernel -----------------------------------------------------------------------------------


def ours_cores(shape: dict[str, Any]) -> tuple[int, list[dict[str, int]]]:
    """Runs our kernel on the emulator engine for a shape with the public fill of the counts
    (:func:`~moe_re_routing.workload.public_counts`, the fill the official traces were taken with,
    so both kernels see the same counts), on the calibration platform, traced. Inputs are zeros
    (the trace does not depend on the values). Returns (block_dim, compressed per-core model
    inputs)."""
    from . import moe_re_routing, runtime
    from ._ffi import ffi, lib
    from .workload import parse_dtype, public_counts

    saved = runtime.get_platform()
    runtime.set_platform(CALIBRATION_SOC)  # its cores and the UB it leaves a kernel
    runtime.set_trace(True)
    try:
        a, h = int(shape["A"]), int(shape["H"])
        tokens = np.zeros((a, h), dtype=parse_dtype(shape["dtype"]).carrier)
        counts = public_counts(int(shape["N"]), int(shape["E"]), a, np.dtype(shape["count_dtype"]))
        scales = np.zeros(a, dtype=np.float32) if shape["scales"] else None
        with runtime.engine("emulator"):
            moe_re_routing(tokens, counts, scales)
        n = lib.MoeReRoutingCpuLastRunModelCores(ffi.NULL, 0)
        arr = ffi.new("MoeReRoutingModelCore[]", max(1, n))
        lib.MoeReRoutingCpuLastRunModelCores(arr, n)
    finally:
        runtime.set_trace(False)
        runtime.restore_platform(saved)
    cores = [{k: int(getattr(arr[i], f)) for k, f in zip(MODEL_KEYS, _C_FIELDS)} for i in range(n)]
    return n, compress_cores(cores)


def model_report(with_ours: bool = True) -> dict[str, Any]:
    """The ``moe-re-routing model --json`` document: soc, parameters, and per shape the official
    time (public shapes), the official kernel modelled with the full fit and (public shapes) with
    the leave-one-out fit, our kernel modelled, and the floor. All model times *modelled* for
    Ascend910B (Atlas A2)."""
    traces = load_official_traces()
    public = public_traces(traces)
    loo = dict(zip([s["case"] for s in public], leave_one_out(public)))
    params = parameters()
    rate = floor_rate_gbps(traces["shapes"])
    rows = []
    for s in traces["shapes"]:
        row = {k: s[k] for k in ("case", "A", "H", "N", "E", "dtype", "count_dtype", "scales", "official_us")}
        row["official_block_dim"] = s["block_dim"]
        row["official_model_us"] = evaluate(s["cores"])
        row["official_model_loo_us"] = loo.get(s["case"])
        if with_ours:
            block_dim, cores = ours_cores(s)
            row["ours_block_dim"] = block_dim
            row["ours_model_us"] = evaluate(cores)
        else:
            row["ours_model_us"] = None
        row["floor_us"] = floor_us(s, rate)
        rows.append(row)
    errs = [
        abs(r["official_model_loo_us"] / r["official_us"] - 1.0) for r in rows if r["official_us"] is not None
    ]
    return {
        "soc": CALIBRATION_SOC,
        "platform": calibration_platform(),
        "times": "modelled (docs/time_model.md), except official_us (published, measured on Atlas A2) and "
        "floor_us (published t_hw_us; outside the public table derived from it)",
        "counts": "public fill (workload.public_counts: every cell A // (N*E), the last cell the remainder; "
        "all rows in the last cell when A < N*E), for the official kernel's traces and ours alike",
        "parameters": params,
        "fixed_parameters": sorted(FIXED_PARAMETERS),
        "floor_rate_gbps": rate,
        "loo_abs_error": {"median": float(np.median(errs)), "max": float(np.max(errs))} if errs else None,
        "shapes": rows,
    }


def format_report(rep: dict[str, Any]) -> str:
    """The table ``moe-re-routing model`` prints."""

    def f(v: Optional[float]) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"

    lines = [
        f"MoeReRouting time model, {rep['soc']} (Atlas A2): every *_model column is MODELLED, not measured",
        "parameters: " + ", ".join(f"{k}={v:.4g}" for k, v in rep["parameters"].items()),
        f"{'case':>16} {'A':>7} {'H':>5} {'NxE':>7} {'official':>9} {'off.model':>9} {'off.LOO':>8} "
        f"{'LOO err':>8} {'ours.model':>10} {'floor':>7}",
    ]
    for r in rep["shapes"]:
        err = (
            f"{100 * (r['official_model_loo_us'] / r['official_us'] - 1):+.1f}%"
            if r["official_us"] is not None
            else "-"
        )
        lines.append(
            f"{r['case']:>16} {r['A']:>7} {r['H']:>5} {str(r['N']) + 'x' + str(r['E']):>7} "
            f"{f(r['official_us']):>9} {f(r['official_model_us']):>9} {f(r['official_model_loo_us']):>8} "
            f"{err:>8} {f(r['ours_model_us']):>10} {f(r['floor_us']):>7}"
        )
    e = rep.get("loo_abs_error")
    if e:
        lines.append(
            "leave-one-out |error| on the public shapes: "
            f"median {100 * e['median']:.1f}%, max {100 * e['max']:.1f}%"
        )
    lines.append("times in µs; official = published Atlas A2 time (baseline_us); floor = published t_hw_us")
    lines.append(f"counts: {rep['counts']}")
    return "\n".join(lines)


# ---- profiles -------------------------------------------------------------------------------------


def profile(
    a: int,
    h: int,
    n: int,
    e: int,
    dtype: str,
    count_dtype: str,
    scales: bool,
    output: str,
    counts: str = "even",
    simulator: bool = False,
    capacity: int = 0,
) -> str:
    """Runs the operator once through the library with MoeReRoutingCpuSetProfileDir(output) (what
    MOE_RE_ROUTING_PROFILE_DIR does for any aclnn call) and returns the OPPROF_* directory written.
    Inputs: zeros (the trace does not depend on the values) and the counts of the named fill
    (``workload.FILLS``; default ``even``, the benchmarks' fill; ``random`` with seed 0).
    ``simulator``: also write ``simulator/`` (MoeReRoutingCpuSetProfileSimulator; docs/profiling.md).
    ``capacity``: C of MoeReRoutingWithCapacity (the tokens in N slots of C rows); 0: packed."""
    import os

    from . import moe_re_routing
    from ._ffi import ffi, lib
    from .errors import MoeReRoutingError
    from .workload import fill_counts, parse_dtype, slotted_rows

    count_matrix = fill_counts(counts, np.random.default_rng(0), n, e, a, np.dtype(count_dtype))
    rows = slotted_rows(count_matrix, capacity, f"the {counts} fill of {a} tokens") if capacity else a
    tokens = np.zeros((rows, h), dtype=parse_dtype(dtype).carrier)
    sc = np.zeros(rows, dtype=np.float32) if scales else None
    lib.MoeReRoutingCpuSetProfileDir(ffi.new("char[]", os.fsencode(output)))
    lib.MoeReRoutingCpuSetProfileSimulator(1 if simulator else 0)
    try:
        moe_re_routing(tokens, count_matrix, sc, num_max_tokens_per_rank=capacity or None)
        path = str(ffi.string(lib.MoeReRoutingCpuLastProfilePath()).decode())
    finally:  # back to what the environment asks for
        env = os.environ.get("MOE_RE_ROUTING_PROFILE_DIR")
        lib.MoeReRoutingCpuSetProfileDir(ffi.new("char[]", os.fsencode(env)) if env else ffi.NULL)
        env_sim = os.environ.get("MOE_RE_ROUTING_PROFILE_SIMULATOR", "")
        lib.MoeReRoutingCpuSetProfileSimulator(1 if env_sim not in ("", "0") else 0)
    if not path:
        raise MoeReRoutingError(0, f"profile: could not write a profile under output={output!r} (see stderr)")
    return path
