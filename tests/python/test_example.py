"""examples/python_example.py runs and agrees with itself (it asserts internally)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python_example.py"


def test_python_example_runs():
    if not EXAMPLE.is_file():
        pytest.skip("examples/python_example.py not in this checkout")
    p = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "device path: same permute_token_idx" in p.stdout
    assert "error 161002" in p.stdout
