"""``moe-re-routing model`` and ``moe-re-routing profile`` (docs/time_model.md)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from .workload import FILLS

__all__ = ["add_parsers"]


#: The help of ``--counts`` (plan and profile).
FILLS_HELP = (
    "counts fill: even (default; the benchmarks' fill: cells differ by at most one row, the extra rows in "
    "the first cells row-major), "
    "public (every cell A // (N*E), the last cell the remainder; all rows in one cell when A < N*E; "
    "the fill of the official traces and of `model`), random (multinomial)"
)
#: The help of ``--capacity`` (plan and profile).
CAPACITY_HELP = "num_max_tokens_per_rank C: static capacity, tokens in N slots of C rows (default 0: packed)"


def cmd_model(args: argparse.Namespace) -> int:
    """Prints the modelled times of the official kernel and ours next to the public numbers."""
    from . import timemodel

    rep = timemodel.model_report(with_ours=not args.no_ours)
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(timemodel.format_report(rep))
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """Runs one call and writes an msprof-shaped directory of modelled times. Bad arguments and an
    --output that cannot be written raise (the CLI's one-line error, status 2) before the run."""
    from . import timemodel
    from ._paths import check_output_dir
    from .errors import param_value_error

    for name in ("A", "H", "N", "E"):
        value = getattr(args, name)
        if value < (0 if name == "A" else 1):
            raise param_value_error(f"{name} must be >= {0 if name == 'A' else 1}, got {value}")
    if args.soc != timemodel.CALIBRATION_SOC:
        raise param_value_error(
            f"--soc must be {timemodel.CALIBRATION_SOC} (the only SoC the model is calibrated for), "
            f"got {args.soc}"
        )
    if args.capacity < 0:
        raise param_value_error(f"--capacity must be >= 0, got {args.capacity}")
    if args.top is not None and args.top < 1:
        raise param_value_error(f"--top must be >= 1, got {args.top}")
    check_output_dir(args.output, "--output")
    simulator = args.simulator or args.top is not None
    path = timemodel.profile(
        args.A,
        args.H,
        args.N,
        args.E,
        args.dtype,
        args.count_dtype,
        args.scales,
        args.output,
        args.counts,
        simulator,
        args.capacity,
    )
    print(path)
    if args.top is not None:
        from . import simulator as sim

        print(sim.format_top(sim.read(path), args.top))
        png = sim.plot_pipe_time(path, os.path.join(path, "pipe_time.png"))
        print(png if png else "no PNG of per-core pipe time: matplotlib is not installed")
    return 0


def add_parsers(sub: Any) -> None:
    """Registers ``model`` and ``profile`` on the CLI's subparsers."""
    m = sub.add_parser(
        "model",
        help="modelled Atlas A2 times (official kernel, leave-one-out, ours) next to the public numbers "
        "(counts: the public fill)",
    )
    m.add_argument("--json", action="store_true", help="print JSON")
    m.add_argument("--no-ours", action="store_true", help="skip running our kernel (official model only)")
    m.set_defaults(func=cmd_model)

    p = sub.add_parser(
        "profile",
        help="run one call and write an msprof-shaped OPPROF_* directory of MODELLED times",
    )
    p.add_argument("A", type=int)
    p.add_argument("H", type=int)
    p.add_argument("N", type=int)
    p.add_argument("E", type=int)
    p.add_argument(
        "--dtype", default="bfloat16", choices=["float16", "bfloat16", "int8"], help="tokens dtype"
    )
    p.add_argument("--count-dtype", default="int32", choices=["int32", "int64"])
    p.add_argument("--scales", action="store_true", help="with per_token_scales [A] float32")
    p.add_argument("--counts", default="even", choices=FILLS, help=FILLS_HELP)
    p.add_argument(
        "--capacity",
        type=int,
        default=0,
        help=CAPACITY_HELP,
    )
    p.add_argument("--soc", default="Ascend910B", help="SoC the times are modelled for (only Ascend910B)")
    p.add_argument("--output", required=True, help="directory that receives OPPROF_<timestamp>_<id>/")
    p.add_argument(
        "--simulator",
        action="store_true",
        help="also write simulator/ (msprof op simulator layout: per core, instruction and source line)",
    )
    p.add_argument(
        "--top",
        type=int,
        metavar="N",
        help="print the N most expensive kernel lines and write pipe_time.png (implies --simulator)",
    )
    p.set_defaults(func=cmd_profile)
