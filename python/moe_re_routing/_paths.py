"""Output-path checks of the CLI commands, made before any work so that a long run does not end in
a failed write. Both raise :class:`~moe_re_routing.MoeReRoutingValueError` naming the option and
the path."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import param_value_error

__all__ = ["check_output_dir", "check_output_file"]


def check_output_file(path: str, what: str) -> None:
    """A file can be written at ``path``: its directory exists and is writable, and ``path`` is
    not a directory (nor an existing read-only file)."""
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        raise param_value_error(f"{what} {path!r} is a directory; give a file path")
    if not parent.is_dir():
        raise param_value_error(f"{what} {path!r}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise param_value_error(f"{what} {path!r} is not writable")


def check_output_dir(path: str, what: str) -> None:
    """A directory can be used or created at ``path``: it is a writable directory, or it does not
    exist and its nearest existing ancestor is a writable directory."""
    target = Path(path).absolute()
    if target.exists():
        if not target.is_dir():
            raise param_value_error(f"{what} {path!r} exists and is not a directory")
        if not os.access(target, os.W_OK):
            raise param_value_error(f"{what} {path!r} is not writable")
        return
    ancestor = target.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK):
        raise param_value_error(
            f"{what} {path!r} cannot be created: {str(ancestor)!r} is not a writable directory"
        )
