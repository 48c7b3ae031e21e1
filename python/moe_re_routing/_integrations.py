"""Where the framework adapter libraries are and whether each integration can be used, without
importing ONNX Runtime or MindSpore (``moe-re-routing info`` calls :func:`status`)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Optional

__all__ = ["INTEGRATIONS", "library_path", "status"]

# integration -> (runtime module, adapter library in the package's lib/, env var overriding its path)
INTEGRATIONS: dict[str, tuple[str, str, str]] = {
    "onnxruntime": ("onnxruntime", "libmoe_re_routing_onnxruntime.so", "MOE_RE_ROUTING_ORT_LIBRARY"),
    "mindspore": ("mindspore", "libmoe_re_routing_mindspore.so", "MOE_RE_ROUTING_MS_LIBRARY"),
}
_MISSING_HINT = {
    "onnxruntime": "moe_re_routing was built without the ONNX Runtime headers; run "
    "framework/onnxruntime/fetch_headers.sh (or set MOE_RE_ROUTING_ORT_INCLUDE_DIR) and reinstall",
    "mindspore": "reinstall moe_re_routing (pip install .)",
}


def library_path(integration: str) -> str:
    """Path of the adapter library of ``integration`` ("onnxruntime" or "mindspore").

    Raises:
        FileNotFoundError: the library was not built (the message says why and what to do).
    """
    _, name, env = INTEGRATIONS[integration]
    override = os.environ.get(env)
    path = Path(override) if override else Path(__file__).resolve().parent / "lib" / name
    if not path.is_file():
        why = f"${env} names it" if override else _MISSING_HINT[integration]
        raise FileNotFoundError(f"{path} does not exist: {why}")
    return str(path)


def status(integration: str) -> Optional[str]:
    """None when ``integration`` can be used, else the reason it cannot."""
    try:
        library_path(integration)
    except FileNotFoundError as e:
        return str(e)
    module = INTEGRATIONS[integration][0]
    if importlib.util.find_spec(module) is None:
        hint = "or pip install '.[runtimes]' in the repository"
        return f"{module} is not installed (pip install {module}, {hint})"
    return None
