"""The runnable examples of docs/onnxruntime.md and docs/mindspore.md run as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_integration_status

DOCS = Path(__file__).resolve().parents[2] / "docs"
MARKER = "Run by `tests/python/test_docs_examples.py`:"


def example(doc: str) -> str:
    """The first python code block after the marker line of ``doc``."""
    text = (DOCS / doc).read_text()
    after = text[text.index(MARKER) :]
    start = after.index("```python\n") + len("```python\n")
    return after[start : after.index("```", start)]


@pytest.mark.parametrize(
    ("doc", "integration", "expected"),
    [
        ("onnxruntime.md", "onnxruntime", "rejected: MoeReRouting: ACLNN_ERR_PARAM_INVALID (161002): "),
        ("mindspore.md", "mindspore", "rejected: MoeReRouting: ACLNN_ERR_PARAM_INVALID (161002): "),
    ],
)
def test_doc_example_runs(doc, integration, expected, tmp_path):
    require_integration_status(integration)
    script = tmp_path / "example.py"  # a file: GRAPH mode reads a Cell's source
    script.write_text(example(doc))
    p = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert expected in p.stdout, p.stdout
    assert "expert_token_num" in p.stdout
