"""``moe-re-routing info`` reports whether each framework integration can be used, and why not."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from moe_re_routing import _integrations


@pytest.mark.parametrize("integration", ["onnxruntime", "mindspore"])
def test_missing_library_is_reported_with_the_reason(integration, monkeypatch, tmp_path):
    env = _integrations.INTEGRATIONS[integration][2]
    monkeypatch.setenv(env, str(tmp_path / "missing.so"))
    reason = _integrations.status(integration)
    assert reason is not None and "missing.so does not exist" in reason and env in reason
    with pytest.raises(FileNotFoundError, match=env):
        _integrations.library_path(integration)


def test_info_lists_both_integrations(monkeypatch, tmp_path):
    monkeypatch.setenv("MOE_RE_ROUTING_ORT_LIBRARY", str(tmp_path / "absent.so"))
    cmd = [sys.executable, "-m", "moe_re_routing", "info", "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["onnxruntime"].startswith("unavailable: ") and "absent.so" in info["onnxruntime"]
    expected = "available" if _integrations.status("mindspore") is None else "unavailable: "
    assert info["mindspore"].startswith(expected)
