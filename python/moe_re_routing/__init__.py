"""moe_re_routing: the MoeReRouting operator (MoE rank-major -> expert-major token reordering).

    import moe_re_routing as mrr
    res = mrr.moe_re_routing(tokens, expert_token_num_per_rank, per_token_scales=None,
                             expert_token_num_type=1, idx_type=0, out=None)

The C library is loaded with cffi (ABI mode) when the first operator name is used: the package's
own CPU-backend
``lib/libmoe_re_routing.so`` (the native implementation; the Ascend C kernel on the emulator with
:func:`set_engine`), or CANN's ``libcust_opapi.so``
when an installed custom OPP is found (see :mod:`moe_re_routing._ffi`).
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

from .errors import (
    MoeReRoutingError,
    MoeReRoutingNullError,
    MoeReRoutingRuntimeError,
    MoeReRoutingTilingError,
    MoeReRoutingTypeError,
    MoeReRoutingValueError,
)

if TYPE_CHECKING:  # the names below are loaded on first use (see __getattr__)
    from ._dtypes import dtype_table
    from ._ffi import backend, cmake_prefix
    from .api import (
        DeviceTensor,
        MoeReRoutingDeviceResult,
        MoeReRoutingResult,
        RestoreResult,
        moe_re_routing,
        moe_re_routing_device,
        restore,
    )
    from .reference import moe_re_routing_reference
    from .runtime import (
        PlatformInfo,
        SocInfo,
        default_soc,
        engine,
        free,
        get_engine,
        get_platform,
        last_run,
        malloc,
        memcpy,
        restore_platform,
        set_engine,
        set_platform,
        set_threads,
        set_trace,
        soc_table,
        status_name,
        synchronize,
        version,
    )

__version__: str = _metadata.version("moe-re-routing")

# Where each public name lives. The C library is loaded when one of them is first used, not at
# `import moe_re_routing`, so that a program (the CLI among them) can report a library that cannot
# be loaded (a bad MOE_RE_ROUTING_LIBRARY or MOE_RE_ROUTING_BACKEND) as its own error.
_LAZY = {
    "dtype_table": "._dtypes",
    "backend": "._ffi",
    "cmake_prefix": "._ffi",
    "moe_re_routing_reference": ".reference",
    **dict.fromkeys(
        ("DeviceTensor", "MoeReRoutingDeviceResult", "MoeReRoutingResult", "RestoreResult", "moe_re_routing",
         "moe_re_routing_device", "restore"),
        ".api",
    ),
    **dict.fromkeys(
        ("PlatformInfo", "SocInfo", "default_soc", "engine", "free", "get_engine", "get_platform", "last_run",
         "malloc", "memcpy", "restore_platform", "set_engine", "set_platform", "set_threads", "set_trace",
         "soc_table", "status_name", "synchronize", "version"),
        ".runtime",
    ),
}  # fmt: skip


def __getattr__(name: str) -> Any:
    """Loads the module of a public name on first use (and the C library with it)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DeviceTensor",
    "MoeReRoutingDeviceResult",
    "MoeReRoutingError",
    "MoeReRoutingNullError",
    "MoeReRoutingResult",
    "MoeReRoutingRuntimeError",
    "MoeReRoutingTilingError",
    "MoeReRoutingTypeError",
    "MoeReRoutingValueError",
    "PlatformInfo",
    "RestoreResult",
    "SocInfo",
    "backend",
    "cmake_prefix",
    "default_soc",
    "dtype_table",
    "engine",
    "free",
    "get_engine",
    "get_platform",
    "last_run",
    "malloc",
    "memcpy",
    "moe_re_routing",
    "moe_re_routing_device",
    "moe_re_routing_reference",
    "restore",
    "restore_platform",
    "set_engine",
    "set_platform",
    "set_threads",
    "set_trace",
    "soc_table",
    "status_name",
    "synchronize",
    "version",
]
