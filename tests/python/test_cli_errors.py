"""CLI errors: bad arguments and library errors print one line ``moe-re-routing: error: ...`` on
stderr and exit with status 2, without a traceback; ``--debug`` shows the traceback instead."""

from __future__ import annotations

import subprocess
import sys

import pytest

import moe_re_routing as mrr
from moe_re_routing import cli


def _status(argv: list[str]) -> int:
    """main()'s status, whether argparse exits (SystemExit) or main returns."""
    try:
        return cli.main(argv)
    except SystemExit as e:  # argparse's exit for bad arguments
        return int(e.code or 0)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["plan", "10", "7", "3", "0"], ["argument E", ">= 1", "0"]),  # was a ZeroDivisionError
        (["plan", "10", "7", "0", "3"], ["argument N"]),
        (["plan", "-1", "7", "3", "3"], ["argument A", ">= 0"]),
        (["plan", "10", "0", "3", "3"], ["argument H"]),
        (["plan", "10", "x", "3", "3"], ["argument H", "integer", "'x'"]),
        (["plan", "10", "7", "3", "3", "--dtype", "float5"], ["unknown dtype", "float5"]),
        (["plan", "9", "7", "3", "3", "--dtype", "float4_e2m1"], ["even H", "7"]),
        (["plan", "10", "8", "3", "2", "--ub", "64"], ["ubBytes is 64"]),  # from the C library
        (["plan", "10", "8", "3", "2", "--cores", "5000"], ["aivCoreNum is 5000"]),
        (["demo", "--experts", "0"], ["argument --experts"]),
        (["verify", "--cases", "-3"], ["argument --cases"]),
        (["bench", "--shape", "1,2"], ["--shape wants"]),
        (["bench", "--suite", "nope"], ["--suite", "nope"]),
        (["bench", "--shape", "64,128,4,4,int8,int32,maybe"], ["scales must be yes or no", "'maybe'"]),
        (["bench", "--shape", "64,x,4,4"], ["H must be an integer", "'x'"]),
        (["bench", "--shape", "64,128,0,4"], ["N must be >= 1, got 0"]),
        (["bench", "--shape", "64,128,4,4,float5"], ["unknown dtype", "float5"]),
        (["bench", "--shape", "64,128,4,4,int8,int16"], ["count_dtype must be int32 or int64", "'int16'"]),
        (["bench", "--shape", "64,128,4,4,int8,int32,yes,extra"], ["--shape wants"]),
        (["bench", "--json", "/nonexistent-dir/x.json"], ["--json", "'/nonexistent-dir' does not exist"]),
        (["bench", "--json", "/"], ["--json", "is a directory"]),
        (["nosuch"], ["nosuch"]),
        ([], ["required"]),
    ],
)
def test_one_line_and_status_2(argv, words, capsys):
    assert _status(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("moe-re-routing: error: "), lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert "Traceback" not in captured.err


def test_library_error_from_a_subprocess_has_no_traceback():
    p = subprocess.run(
        [sys.executable, "-m", "moe_re_routing", "plan", "10", "7", "3", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2
    assert p.stderr.startswith("moe-re-routing: error: ") and p.stderr.count("\n") == 1, p.stderr


def test_bad_arguments_fail_before_the_run(capsys):
    """A bad --json path or --shape is reported before any shape is timed (the public suite would
    run for minutes first): nothing but the error line is printed."""
    for argv in (["bench", "--json", "/nonexistent-dir/x.json"],
                 ["bench", "--shape", "64,128,4,4", "--shape", "64,128,4,4,int8,int32,maybe"]):
        assert _status(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == "", captured.out  # no table header: nothing ran


def test_version():
    p = subprocess.run([sys.executable, "-m", "moe_re_routing", "--version"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and p.stdout == f"moe-re-routing {mrr.__version__}\n"


def test_main_reports_a_library_that_cannot_be_loaded_in_one_line(monkeypatch, capsys):
    """main()'s side of the bad-environment-variable errors: whatever the loader raises while the
    subcommands' modules are imported becomes one line naming the variable (the package loads the
    library on first use, so the loader runs inside main(): see the test below)."""

    def cannot_load() -> None:
        raise OSError("cannot load library '/x/libmoe_re_routing.so': No such file or directory")

    monkeypatch.setattr(cli, "build_parser", cannot_load)
    monkeypatch.setenv("MOE_RE_ROUTING_LIBRARY", "/x/libmoe_re_routing.so")
    assert cli.main(["info"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "moe-re-routing: error: MOE_RE_ROUTING_LIBRARY=/x/libmoe_re_routing.so: "
        "cannot load library '/x/libmoe_re_routing.so': No such file or directory\n"
    ), err
    with pytest.raises(OSError):
        cli.main(["--debug", "info"])

    def bad_backend() -> None:
        raise mrr.MoeReRoutingError(None, "MOE_RE_ROUTING_BACKEND must be auto, cpu or cann, got 'x'")

    monkeypatch.setattr(cli, "build_parser", bad_backend)
    monkeypatch.delenv("MOE_RE_ROUTING_LIBRARY")
    monkeypatch.setenv("MOE_RE_ROUTING_BACKEND", "x")
    assert cli.main(["info"]) == 2
    assert capsys.readouterr().err == (
        "moe-re-routing: error: MOE_RE_ROUTING_BACKEND must be auto, cpu or cann, got 'x'\n"
    )


@pytest.mark.parametrize(
    "env, words",
    [
        ({"MOE_RE_ROUTING_LIBRARY": "/nonexistent/libmoe_re_routing.so"},
         ["MOE_RE_ROUTING_LIBRARY", "/nonexistent/libmoe_re_routing.so"]),
        ({"MOE_RE_ROUTING_BACKEND": "bogus"}, ["MOE_RE_ROUTING_BACKEND must be auto, cpu or cann", "bogus"]),
        ({"MOE_RE_ROUTING_BACKEND": "cann", "ASCEND_CUSTOM_OPP_PATH": ""}, ["MOE_RE_ROUTING_BACKEND=cann"]),
    ],
    ids=["library", "backend", "backend-cann"],
)
def test_bad_environment_variables_are_one_line(env, words):
    import os

    p = subprocess.run([sys.executable, "-m", "moe_re_routing", "info"], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, **env))
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("moe-re-routing: error: ") and p.stderr.count("\n") == 1, p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)


def test_debug_shows_the_exception():
    with pytest.raises(mrr.MoeReRoutingValueError, match="ubBytes is 64"):
        cli.main(["--debug", "plan", "10", "8", "3", "2", "--ub", "64"])


def test_helpers_raise_exceptions_not_system_exit():
    import numpy as np

    from moe_re_routing import bench, workload

    rng = np.random.default_rng(0)
    with pytest.raises(mrr.MoeReRoutingValueError):
        workload.make_case(rng, 4, 7, 1, 1, "float4_e2m1", "int32", False)
    with pytest.raises(mrr.MoeReRoutingValueError):
        workload.public_counts(3, 0, 10, "int32")
    with pytest.raises(mrr.MoeReRoutingValueError):
        workload.random_counts(rng, 0, 3, 10)
    with pytest.raises(mrr.MoeReRoutingValueError):
        workload.parse_dtype("float5")
    with pytest.raises(mrr.MoeReRoutingValueError):
        bench.suite_shapes("nope", 1)
