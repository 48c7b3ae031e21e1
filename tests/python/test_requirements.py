"""The suites' requirement helpers (conftest.py): a missing runtime skips its suite with a reason
that names what to install, and with MOE_RE_ROUTING_REQUIRE_RUNTIMES=1 (.ci/run) fails it instead.
Each case runs pytest in a subprocess on a one-test module next to a copy of conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

MODULES = {
    "mpi": "from conftest import require_mpi\nrequire_mpi()\n\n\ndef test_x():\n    pass\n",
    "module": "from conftest import require_module\nrequire_module('no_such_module_xyz')\n\n\n"
    "def test_x():\n    pass\n",
}


def _pytest(tmp_path: Path, kind: str, required: bool) -> subprocess.CompletedProcess[str]:
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / f"test_needs_{kind}.py").write_text(MODULES[kind])
    env = {k: v for k, v in os.environ.items() if k != "MOE_RE_ROUTING_REQUIRE_RUNTIMES"}
    env["PATH"] = str(tmp_path)  # no mpirun on it (python is run by its absolute path)
    if required:
        env["MOE_RE_ROUTING_REQUIRE_RUNTIMES"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("mpi", "mpirun not installed; install: apt-get install openmpi-bin libopenmpi-dev, then pip"),
        ("module", "no_such_module_xyz is not installed"),
    ],
)
def test_missing_requirement_skips_naming_what_to_install(tmp_path: Path, kind: str, hint: str) -> None:
    run = _pytest(tmp_path, kind, required=False)
    assert run.returncode == 5, run.stdout + run.stderr  # 5: no test ran (the module was skipped)
    assert "1 skipped" in run.stdout and "SKIPPED" in run.stdout and hint in run.stdout, run.stdout


@pytest.mark.parametrize("kind", ["mpi", "module"])
def test_missing_requirement_fails_when_runtimes_are_required(tmp_path: Path, kind: str) -> None:
    run = _pytest(tmp_path, kind, required=True)
    assert run.returncode != 0, run.stdout
    assert "skipped" not in run.stdout.splitlines()[-1], run.stdout
    expected = "MOE_RE_ROUTING_REQUIRE_RUNTIMES=1: mpirun" if kind == "mpi" else "no_such_module_xyz"
    assert expected in run.stdout, run.stdout
