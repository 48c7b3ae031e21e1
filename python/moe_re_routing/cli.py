"""``moe-re-routing`` / ``python -m moe_re_routing``: demo, verify, plan, bench, info."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, Callable, NoReturn, Optional

import numpy as np

# Nothing here loads the C library at import: the subcommands import what they need, so that a
# library that cannot be loaded is reported by main() as one line.

__all__ = ["main"]

PROG = "moe-re-routing"


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``moe-re-routing: error: ...``, exit status 2) for every
    subcommand, the same line :func:`main` prints for a library error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message}\n")


def _int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an int >= ``low``."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {v}")
        return v

    parse.__name__ = f"int >= {low}"
    return parse


_NONNEG = _int_at_least(0)
_POS = _int_at_least(1)


# ---- helpers shared by the subcommands -----------------------------------------------------------


class Progress:
    """A tiny progress bar on stderr, silent when stderr is not a terminal."""

    def __init__(self, total: int, label: str, enabled: Optional[bool] = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.last = -1

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        pct = int(100 * done / self.total)
        if pct == self.last and done != self.total:
            return
        self.last = pct
        width = 30
        fill = int(width * done / self.total)
        sys.stderr.write(f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{self.total}")
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(max(repeat, 1)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _set_engine(engine: Optional[str]) -> None:
    if engine:
        from .runtime import set_engine

        set_engine(engine)


# ---- demo -------------------------------------------------------------------------------------


def _ran_on(run: dict[str, Any]) -> str:
    """What ran a call, from its last-run report: the engine and its split (native: threads; the
    emulator: blocks of a SoC platform)."""
    from . import runtime

    if run.get("engine") == "native":
        return f"native engine, {run['threads']} thread(s) of {runtime.get_threads()}"
    return (
        f"emulator engine (the Ascend C kernel, every rule checked), {run.get('block_dim')} blocks of "
        f"the {run.get('platform')} platform ({run.get('platform_cores')} cores)"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from . import moe_re_routing
    from .reference import moe_re_routing_reference
    from .workload import mismatched_outputs, payload, random_counts

    _set_engine(args.engine)
    rng = np.random.default_rng(args.seed)
    a, h, n, e = args.tokens, args.hidden, args.ranks, args.experts
    print(
        f"MoeReRouting demo: tokens [{a}, {h}] int8, counts [{n}, {e}] int32 (random, sum {a}), "
        f"per_token_scales [{a}] float32"
    )
    tokens = rng.integers(-128, 128, size=(a, h), dtype=np.int8)
    counts = random_counts(rng, n, e, a, np.int32)
    scales = rng.random(a, dtype=np.float32)
    res = moe_re_routing(tokens, counts, scales)
    ref = moe_re_routing_reference(tokens, counts, scales)
    bad = mismatched_outputs(res, ref)
    if bad:
        print(f"MISMATCH against the numpy reference in: {', '.join(bad)}")
        return 1
    print(
        "bit-exact against the numpy reference: permute_tokens, permute_per_token_scales, "
        "permute_token_idx, expert_token_num"
    )
    out = tuple(res)
    t = best_of(lambda: moe_re_routing(tokens, counts, scales, out=out), args.repeat)
    mb = payload(tokens, counts, scales)
    print(
        f"time (best of {args.repeat}): {t * 1e3:.2f} ms   moved {mb.total / 1e6:.1f} MB "
        f"(read {mb.read / 1e6:.1f} + written {mb.written / 1e6:.1f})   "
        f"{mb.total / t / 1e9:.2f} GB/s"
    )
    from . import runtime

    print(f"timed on: {_ran_on(runtime.last_run())}")
    print(f"expert_token_num: {res.expert_token_num.tolist()}")
    return 0


# ---- verify -----------------------------------------------------------------------------------


def _verify_case(rng: np.random.Generator, i: int, max_rows: int, dtypes: list) -> dict[str, Any]:
    """One random case; the first few cover the edge shapes in order."""
    from .workload import random_bytes, random_counts

    specials: list[dict[str, Any]] = [
        dict(a=0, n=3, e=4),
        dict(a=1, n=1, e=1),
        dict(a=37, n=1, e=5),
        dict(a=41, n=6, e=1),
        dict(a=50, n=4, e=4, zero=0.9),
        dict(a=64, n=8, e=8, h=1),
        dict(a=23, n=3, e=3, h=33),
    ]
    sp = specials[i] if i < len(specials) else {}
    acl, carrier, explicit = dtypes[int(rng.integers(len(dtypes)))]
    packed = acl.startswith("FLOAT4")
    a = sp.get("a", int(rng.integers(0, max_rows + 1)))
    n = sp.get("n", int(rng.integers(1, 20)))
    e = sp.get("e", int(rng.integers(1, 20)))
    h = sp.get("h", int(rng.choice([1, 2, 7, 16, 31, 64, 129, 256, 1000])))
    if packed:
        h += h % 2
    zero = sp.get("zero", float(rng.choice([0.0, 0.3, 0.9])))
    cdt = np.int32 if rng.random() < 0.5 else np.int64
    counts = random_counts(rng, n, e, a, cdt, zero)
    tokens = random_bytes(rng, (a, h // 2 if packed else h), carrier)
    kind = int(rng.integers(4))
    scales, scales_dtype = None, None
    if kind == 1:
        scales = random_bytes(rng, (a,), np.float32)
    elif kind == 2:
        scales = random_bytes(rng, (a, int(rng.integers(1, 9))), np.float32)
    elif kind == 3:
        from ._dtypes import numpy_dtype_for

        sdt = numpy_dtype_for("FLOAT8_E8M0")
        scales = random_bytes(rng, (a,), sdt)
        scales_dtype = "float8_e8m0" if sdt == np.dtype(np.uint8) else None
    case = dict(
        tokens=tokens,
        counts=counts,
        scales=scales,
        tokens_dtype=explicit,
        scales_dtype=scales_dtype,
        ttype=int(rng.integers(2)),
        itype=int(rng.integers(2)),
        capacity=0,
        restore=False,
        desc=f"{acl} A={a} H={h} N={n} E={e} "
        f"counts={np.dtype(cdt).name} scales={['none', '[A]', '[A,S]', 'e8m0'][kind]}",
    )
    if i >= len(specials) and i % 4 == 3:
        _slotted_case(case, i)
    return case


def _slotted_case(case: dict[str, Any], i: int) -> None:
    """Turns a case into a static-capacity one (every 4th; every 8th a restore): the same tokens in
    slots of C rows (C from the fullest slot, up to 2 more), the slot tails filled with 0x5A bytes
    that must not leak into the outputs."""
    restore = i % 8 == 7
    counts = case["counts"].astype(np.int64)
    per_slot = counts.sum(axis=0 if restore else 1)
    cap = max(1, int(per_slot.max())) + i % 3
    rows = len(per_slot) * cap

    def slots(x: Optional[np.ndarray]) -> Optional[np.ndarray]:
        if x is None:
            return None
        out = np.empty((rows, *x.shape[1:]), x.dtype)
        out.view(np.uint8)[...] = 0x5A
        if restore:  # the packed tokens first, the rest of the N*C rows unused
            out[: len(x)] = x
        else:  # rank r's tokens at rows r*C ..
            start = 0
            for r, k in enumerate(per_slot):
                out[r * cap : r * cap + int(k)] = x[start : start + int(k)]
                start += int(k)
        return out

    case.update(tokens=slots(case["tokens"]), scales=slots(case["scales"]), capacity=cap, restore=restore)
    case["desc"] += f" capacity={cap}{' restore' if restore else ''}"


def cmd_verify(args: argparse.Namespace) -> int:
    from . import moe_re_routing, restore
    from .reference import capacity_reference, moe_re_routing_reference
    from .workload import bytes_mismatch, mismatched_outputs, token_dtypes

    _set_engine(args.engine)
    rng = np.random.default_rng(args.seed)
    dtypes = token_dtypes()
    bar = Progress(args.cases, "verify", None if not args.quiet else False)
    failures = 0
    for i in range(args.cases):
        c = _verify_case(rng, i, args.max_rows, dtypes)
        try:
            if c["restore"]:  # restore() takes the forward's counts: the case's are their transpose
                back = restore(
                    c["tokens"],
                    np.ascontiguousarray(c["counts"].T),
                    c["scales"],
                    num_max_tokens_per_rank=c["capacity"],
                    tokens_dtype=c["tokens_dtype"],
                    scales_dtype=c["scales_dtype"],
                )
                ref = capacity_reference(c["tokens"], c["counts"], c["capacity"], c["scales"], restore=True)
                pairs: list[tuple[str, Optional[np.ndarray], np.ndarray]] = [
                    ("tokens", back.tokens, ref.permute_tokens)
                ]
                if c["scales"] is not None:
                    pairs.append(("per_token_scales", back.per_token_scales, ref.permute_per_token_scales))
                bad = [name for name, x, y in pairs if x is None or bytes_mismatch(x, y) is not None]
            else:
                res = moe_re_routing(
                    c["tokens"],
                    c["counts"],
                    c["scales"],
                    expert_token_num_type=c["ttype"],
                    idx_type=c["itype"],
                    num_max_tokens_per_rank=c["capacity"] or None,
                    tokens_dtype=c["tokens_dtype"],
                    scales_dtype=c["scales_dtype"],
                )
                if c["capacity"]:
                    ref = capacity_reference(
                        c["tokens"], c["counts"], c["capacity"], c["scales"], c["ttype"], c["itype"]
                    )
                else:
                    ref = moe_re_routing_reference(
                        c["tokens"], c["counts"], c["scales"], c["ttype"], c["itype"]
                    )
                bad = mismatched_outputs(res, ref)
        except Exception as exc:
            bad = [f"{type(exc).__name__}: {exc}"]
        if bad:
            failures += 1
            print(f"case {i}: {c['desc']} type={c['ttype']} idx={c['itype']}: MISMATCH {', '.join(bad)}")
        bar.update(i + 1)
    print(f"verify: {args.cases - failures}/{args.cases} cases bit-exact (seed {args.seed})")
    return 1 if failures else 0


# ---- plan -------------------------------------------------------------------------------------


def _stats(cores: list[dict[str, Any]]) -> dict[str, float]:
    per = [int(c["bytes_in"]) + int(c["bytes_out"]) for c in cores]
    busy = [p for p in per if p > 0]
    stats: dict[str, float] = {
        "core_count": len(per),
        "busy_cores": len(busy),
        "max_bytes": max(per) if per else 0,
        "mean_bytes": (sum(per) / len(per)) if per else 0.0,
        "max_over_mean": (max(per) / (sum(per) / len(per))) if per and sum(per) else 0.0,
    }
    for key in ("scalar_ops", "vector_ops"):  # instruction counters of the emulator's trace
        if cores and key in cores[0]:
            stats[f"max_{key}"] = max(int(c[key]) for c in cores)
    return stats


def _plan_report(args: argparse.Namespace) -> dict[str, Any]:
    """Runs the shape traced on the requested platform; the tiling, our per-core schedule, the
    payload and the official split's model, as ``plan --json`` prints them."""
    from . import moe_re_routing, runtime
    from .official import official_split
    from .workload import make_case, payload

    rng = np.random.default_rng(args.seed)
    case = make_case(
        rng, args.A, args.H, args.N, args.E, args.dtype, args.count_dtype, args.scales, args.counts,
        args.capacity,
    )  # fmt: skip
    # The kernel on the emulator, tiled for the SoC (default: the library's default SoC); the
    # caller's platform and tracing are restored afterwards (main() may run in a caller's process).
    saved = runtime.get_platform()
    try:
        runtime.set_platform(args.soc or runtime.default_soc(), cores=args.cores or 0, ub_bytes=args.ub or 0)
        runtime.set_trace(True)
        with runtime.engine("emulator"):
            moe_re_routing(
                case.tokens,
                case.counts,
                case.scales,
                tokens_dtype=case.tokens_dtype,
                num_max_tokens_per_rank=args.capacity or None,
            )
        run = runtime.last_run()
    finally:
        runtime.set_trace(False)
        runtime.restore_platform(saved)
    cores_list = run.get("cores", [])
    row = case.tokens.shape[1] * case.tokens.itemsize if args.A else 0
    srow = case.scales.itemsize if case.scales is not None else 0
    in_row, out_row = row + srow, row + (srow or 4) + 4
    mb = payload(case.tokens, case.counts, case.scales, bool(args.capacity))
    total_in = sum(int(c["bytes_in"]) for c in cores_list)
    total_out = sum(int(c["bytes_out"]) for c in cores_list)
    official = official_split(case.counts, int(run["platform_cores"]), in_row, out_row)
    report = dict(run)
    report.update(
        {
            "problem": {
                "A": args.A,
                "H": args.H,
                "N": args.N,
                "E": args.E,
                "dtype": args.dtype,
                "count_dtype": args.count_dtype,
                "scales": bool(args.scales),
                "counts": args.counts,
                "capacity": args.capacity,
            },
            "payload": {"read": mb.read, "written": mb.written, "total": mb.total},
            "totals": {"bytes_in": total_in, "bytes_out": total_out, "bytes": total_in + total_out},
            "ours": _stats(cores_list),
            "official_model": {"cores": official, **_stats(official)},
        }
    )
    return report


def _print_plan(report: dict[str, Any]) -> None:
    """The text form of :func:`_plan_report`."""
    pb, mb, totals = report["problem"], report["payload"], report["totals"]
    cores_list = report.get("cores", [])
    print(
        f"MoeReRouting plan: A={pb['A']} H={pb['H']} N={pb['N']} E={pb['E']} tokens={pb['dtype']} "
        f"counts={pb['count_dtype']} ({pb['counts']} fill) scales={'[A] float32' if pb['scales'] else 'none'}"
        + (
            f" capacity={pb['capacity']} (MoeReRoutingWithCapacity: {pb['N'] * pb['capacity']} slotted rows)"
            if pb.get("capacity")
            else ""
        )
    )
    print(
        f"platform: {report['platform']}, {report['platform_cores']} AIV cores, "
        f"UB {report['platform_ub_bytes']} B per core (what the SoC leaves a kernel)"
    )
    print("tiling:")
    added = {"cores", "problem", "payload", "totals", "ours", "official_model"}
    added |= {"platform", "platform_cores", "platform_ub_bytes"}
    for k, v in report.items():
        if k not in added:
            print(f"  {k:20s} {v}")
    print(f"schedule (ours: destination rows split over cores):  {len(cores_list)} blocks")
    print(
        f"  {'core':>4} {'bytes_in':>12} {'bytes_out':>12} {'dma_ops':>8} {'scalar_ops':>10} "
        f"{'vector_ops':>10}"
    )
    for i, c in enumerate(cores_list):
        print(
            f"  {i:>4} {c['bytes_in']:>12} {c['bytes_out']:>12} {c['dma_ops']:>8} {c['scalar_ops']:>10} "
            f"{c['vector_ops']:>10}"
        )
    print(
        f"  total in {totals['bytes_in']} B, out {totals['bytes_out']} B; "
        f"payload read {mb['read']} B, written {mb['written']} B"
    )
    if cores_list:
        print(
            f"  busiest core by instructions: {report['ours'].get('max_scalar_ops', 0)} scalar (UB + GM "
            f"element accesses), {report['ours'].get('max_vector_ops', 0)} vector"
        )
    o, s = report["official_model"], report["ours"]
    print("comparison with the official A2/A3 split (whole source ranks per core, round-robin; model):")
    print(f"  {'':10s} {'busy cores':>10} {'max B/core':>14} {'mean B/core':>14} {'max/mean':>9}")
    print(
        f"  {'ours':10s} {s['busy_cores']:>10} {s['max_bytes']:>14} {s['mean_bytes']:>14.0f} "
        f"{s['max_over_mean']:>9.2f}"
    )
    print(
        f"  {'official':10s} {o['busy_cores']:>10} {o['max_bytes']:>14} {o['mean_bytes']:>14.0f} "
        f"{o['max_over_mean']:>9.2f}"
    )
    if s["max_bytes"]:
        print(f"  the busiest core moves {o['max_bytes'] / s['max_bytes']:.1f}x less with our split")


def cmd_plan(args: argparse.Namespace) -> int:
    report = _plan_report(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_plan(report)
    return 0


# ---- bench ------------------------------------------------------------------------------------


def cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    return bench.run(args)


# ---- info -------------------------------------------------------------------------------------


def _integration_info() -> dict[str, str]:
    """``"available"`` or ``"unavailable: <reason>"`` per framework integration (no runtime import)."""
    from ._integrations import INTEGRATIONS, status

    out = {}
    for name in INTEGRATIONS:
        reason = status(name)
        out[name] = "available" if reason is None else f"unavailable: {reason}"
    return out


def cmd_info(args: argparse.Namespace) -> int:
    from ._ffi import backend, cmake_prefix

    if args.cmake_prefix:
        print(cmake_prefix())
        return 0
    import cffi

    from . import runtime

    info: dict[str, Any] = {
        "backend": backend.name,
        "library": backend.library,
        "libraries": backend.libraries,
        "version": runtime.version(),
        "cmake_prefix": cmake_prefix(),
        "numpy": np.__version__,
        "cffi": cffi.__version__,
    }
    try:
        import ml_dtypes

        info["ml_dtypes"] = ml_dtypes.__version__
    except ImportError:
        info["ml_dtypes"] = None
    if backend.name == "cpu":
        p = runtime.get_platform()
        info.update(
            {
                "engine": runtime.get_engine(),
                "threads": runtime.get_threads(),
                "emulator_platform": p.name,
                "emulator_platform_cores": p.cores,
                "emulator_platform_ub_bytes": p.ub_bytes,
            }
        )
    info.update(_integration_info())
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for k, v in info.items():
            print(f"{k:18s} {v}")
    return 0


# ---- argument parsing -----------------------------------------------------------------------------


def _package_version() -> str:
    """The installed package's version (from its metadata: no library load)."""
    from importlib import metadata

    try:
        return metadata.version("moe-re-routing")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from .timemodel_cli import CAPACITY_HELP, FILLS_HELP
    from .workload import FILLS

    p = _Parser(
        prog=PROG,
        description="MoeReRouting operator tools (CPU backend: the native implementation behind the "
        "aclnn API; plan, profile and model run the Ascend C kernel on the emulator).",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {_package_version()}")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = p.add_subparsers(dest="command", required=True)
    engine_help = (
        "engine: native (the default, what applications run) or emulator (the Ascend C kernel, "
        "every hardware rule checked); default: MOE_RE_ROUTING_ENGINE or native"
    )

    d = sub.add_parser("demo", help="run the seed example, verify it bit-exactly and time it")
    d.add_argument("--tokens", type=_NONNEG, default=16384, help="A (default 16384)")
    d.add_argument("--hidden", type=_POS, default=7168, help="H (default 7168)")
    d.add_argument("--ranks", type=_POS, default=16, help="N (default 16)")
    d.add_argument("--experts", type=_POS, default=16, help="E (default 16)")
    d.add_argument("--repeat", type=_POS, default=5, help="timed runs, best reported (default 5)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--engine", choices=["native", "emulator"], default=None, help=engine_help)
    d.set_defaults(func=cmd_demo)

    v = sub.add_parser("verify", help="random cases (dtypes, attributes, shapes) against the numpy reference")
    v.add_argument("--cases", "-n", type=_NONNEG, default=200, help="number of cases (default 200)")
    v.add_argument("--seed", type=int, default=1)
    v.add_argument("--max-rows", type=_NONNEG, default=2000, help="largest A drawn (default 2000)")
    v.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    v.add_argument("--engine", choices=["native", "emulator"], default=None, help=engine_help)
    v.set_defaults(func=cmd_verify)

    pl = sub.add_parser("plan", help="show the tiling and per-core schedule of a shape (runs it traced)")
    pl.add_argument("A", type=_NONNEG)
    pl.add_argument("H", type=_POS)
    pl.add_argument("N", type=_POS)
    pl.add_argument("E", type=_POS)
    pl.add_argument("--dtype", default="bfloat16", help="tokens dtype (numpy name, float4_e2m1, hifloat8...)")
    pl.add_argument("--count-dtype", default="int32", choices=["int32", "int64"])
    pl.add_argument("--scales", action="store_true", help="with per_token_scales [A] float32")
    pl.add_argument("--counts", default="even", choices=FILLS, help=FILLS_HELP)
    pl.add_argument(
        "--capacity",
        type=_NONNEG,
        default=0,
        help=CAPACITY_HELP,
    )
    pl.add_argument(
        "--soc",
        default=None,
        help="platform: a SoC name of the library's table (default: its default SoC, Ascend910B)",
    )
    pl.add_argument("--cores", type=_NONNEG, default=0, help="AIV cores (default: the SoC's)")
    pl.add_argument(
        "--ub", type=_NONNEG, default=0, help="UB bytes per core (default: what the SoC leaves a kernel)"
    )
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--json", action="store_true", help="print JSON")
    pl.set_defaults(func=cmd_plan)

    b = sub.add_parser(
        "bench",
        help="time ours (allocating, out=), the numpy equivalent and memcpy side by side (benchmarks/)",
    )
    from .bench import add_arguments as _bench_arguments

    _bench_arguments(b)
    b.set_defaults(func=cmd_bench)

    from .timemodel_cli import add_parsers as _timemodel_parsers

    _timemodel_parsers(sub)

    i = sub.add_parser(
        "info", help="backend, library, version, platform, versions, framework integrations, cmake prefix"
    )
    i.add_argument("--cmake-prefix", action="store_true", help="print only the CMake prefix path")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_info)
    return p


def _one_line(exc: BaseException) -> str:
    from .errors import MoeReRoutingError

    text = exc.message if isinstance(exc, MoeReRoutingError) else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def _library_error(exc: BaseException) -> str:
    """The one line for a C library that could not be loaded, naming the environment variable that
    chose it when one did."""
    for var in ("MOE_RE_ROUTING_LIBRARY", "MOE_RE_ROUTING_BACKEND"):
        value = os.environ.get(var)
        if value and var not in _one_line(exc):
            return f"{var}={value}: {_one_line(exc)}"
    return _one_line(exc)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the CLI. Bad arguments, a C library that cannot be loaded (bad MOE_RE_ROUTING_LIBRARY or
    MOE_RE_ROUTING_BACKEND) and library errors print one line ``moe-re-routing: error: ...`` on
    stderr and return 2 (``--debug``: the traceback instead)."""
    from .errors import MoeReRoutingError

    try:
        parser = build_parser()  # imports the package's modules, which load the C library
    except (MoeReRoutingError, OSError) as exc:
        if "--debug" in (sys.argv[1:] if argv is None else argv):
            raise
        print(f"{PROG}: error: {_library_error(exc)}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        os._exit(0)
    except (MoeReRoutingError, ValueError, TypeError, OSError) as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
