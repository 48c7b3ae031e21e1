"""Regenerate the result tables of docs/time_model.md from ``moe-re-routing model --json``.

    python benchmarks/official_model/make_time_model_doc.py benchmarks/results/time_model_a2.json \\
        --commit "<main commit>"

Replaces the text between the ``<!-- model-tables -->`` markers and the commit / count lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plot_time_model import markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "time_model.md"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report")
    p.add_argument("--commit", required=True, help="what our kernel's numbers were computed on")
    a = p.parse_args()
    rep = json.loads(Path(a.report).read_text())
    text = DOC.read_text()
    tables = "<!-- model-tables -->\n" + markdown(rep) + "<!-- /model-tables -->"
    text = re.sub(r"<!-- model-tables -->.*?<!-- /model-tables -->", lambda _: tables, text, flags=re.S)
    pub = [r for r in rep["shapes"] if r["official_us"] is not None]
    below = sum(1 for r in pub if r["ours_model_us"] <= r["official_us"])
    text = re.sub(r"\*\*Computed on: .*?\*\*", lambda _: f"**Computed on: {a.commit}.**", text, flags=re.S)
    text = re.sub(
        r"modelled below the published official time on \d+ of the 20",
        f"modelled below the published official time on {below} of the 20",
        text,
    )
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
