"""The documentation matches the CLI: every subcommand is in docs/python.md's command table and in
the README, and every option the table shows exists on that subcommand (docs/python.md once
advertised `bench --markdown/--plot`, which only benchmarks/report.py has)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from moe_re_routing import cli

ROOT = Path(__file__).resolve().parents[2]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _command_table() -> dict[str, str]:
    """docs/python.md, "## Command line": command name -> its first column."""
    text = (ROOT / "docs" / "python.md").read_text()
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| `(\w+)([^`]*)` \|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_every_subcommand_is_documented() -> None:
    commands = set(_subparsers())
    assert commands == {"demo", "verify", "plan", "bench", "model", "profile", "info"}
    assert set(_command_table()) == commands
    readme = (ROOT / "README.md").read_text()
    for c in commands:
        assert f"| `{c}" in readme, f"README's CLI table lacks {c}"
    assert "--version" in readme and "--version" in (ROOT / "docs" / "python.md").read_text()


def test_every_documented_option_exists() -> None:
    subs = _subparsers()
    for command, usage in _command_table().items():
        options = {s for a in subs[command]._actions for s in a.option_strings}
        for flag in re.findall(r"(--[a-z][a-z-]*)", usage):
            assert flag in options, f"docs/python.md shows `{command} {flag}`, which the CLI does not have"
