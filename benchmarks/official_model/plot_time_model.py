"""Plot and tabulate ``moe-re-routing model --json`` (docs/time_model.md).

    moe-re-routing model --json > benchmarks/results/time_model_a2.json
    python benchmarks/official_model/plot_time_model.py benchmarks/results/time_model_a2.json \\
        --png benchmarks/results/time_model_a2.png --markdown /tmp/time_model_tables.md

Every model time is *modelled* for Ascend910B (Atlas A2); official = the published baseline_us,
floor = the published t_hw_us.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Optional


def _f(v: Optional[float]) -> str:
    return "–" if v is None else f"{v:.2f}"


def markdown(rep: dict[str, Any]) -> str:
    """Two markdown tables: the public shapes with LOO errors, then the other shapes."""
    out = [
        "| # | A | H | N×E | official (µs, A2) | official *modelled* (full fit) | official *modelled* (LOO) "
        "| LOO error | ours *modelled* | ours / official | floor t_hw_us |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rep["shapes"]:
        if r["official_us"] is None:
            continue
        err = 100 * (r["official_model_loo_us"] / r["official_us"] - 1)
        out.append(
            f"| {r['case']} | {r['A']} | {r['H']} | {r['N']}×{r['E']} | {_f(r['official_us'])} "
            f"| {_f(r['official_model_us'])} | {_f(r['official_model_loo_us'])} | {err:+.1f} % "
            f"| {_f(r['ours_model_us'])} | {r['ours_model_us'] / r['official_us']:.2f} "
            f"| {_f(r['floor_us'])} |"
        )
    out += [
        "",
        "| shape | A | H | N×E | official *modelled* | ours *modelled* | ours / official model "
        "| floor (derived) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rep["shapes"]:
        if r["official_us"] is not None:
            continue
        out.append(
            f"| {r['case']} | {r['A']} | {r['H']} | {r['N']}×{r['E']} | {_f(r['official_model_us'])} "
            f"| {_f(r['ours_model_us'])} | {r['ours_model_us'] / r['official_model_us']:.2f} "
            f"| {_f(r['floor_us'])} |"
        )
    return "\n".join(out) + "\n"


def plot(rep: dict[str, Any], path: str) -> None:
    """Log-scale µs per shape: official (published), official modelled (LOO for public shapes),
    ours modelled, floor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = rep["shapes"]
    x = list(range(len(rows)))
    fig, ax = plt.subplots(figsize=(17, 5.5))
    off = [r["official_us"] if r["official_us"] is not None else float("nan") for r in rows]
    model = [
        r["official_model_loo_us"] if r["official_model_loo_us"] is not None else r["official_model_us"]
        for r in rows
    ]
    ax.plot(x, off, "ko", label="official, published (Atlas A2 baseline_us)")
    ax.plot(x, model, "bx", label="official kernel, modelled (LOO on public shapes, full fit elsewhere)")
    ax.plot(x, [r["ours_model_us"] for r in rows], "r^", label="ours, modelled")
    ax.plot(x, [r["floor_us"] for r in rows], "g_", markersize=12, label="floor (t_hw_us)")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([r["case"] for r in rows], rotation=70, fontsize=7)
    ax.set_ylabel("µs (log)")
    ax.set_title(
        f"MoeReRouting on {rep['soc']} (Atlas A2): MODELLED times (docs/time_model.md), not measured"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report", help="JSON of moe-re-routing model --json")
    p.add_argument("--png", help="write the plot here")
    p.add_argument("--markdown", help="write the tables here")
    a = p.parse_args(argv)
    with open(a.report) as f:
        rep = json.load(f)
    if a.png:
        plot(rep, a.png)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(markdown(rep))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
