"""moe_re_routing: the MoeReRouting operator (MoE rank-major -> expert-major token reordering).

    import moe_re_routing as mrr
    res = mrr.moe_re_routing(tokens, expert_token_num_per_rank, per_token_scales=None,
                             expert_token_num_type=1, idx_type=0, out=None)

The C library is loaded with cffi (ABI mode) at import: the package's own CPU-backend
``lib/libmoe_re_routing.so`` (the native implementation; the Ascend C kernel on the emulator with
:func:`set_engine`), or CANN's ``libcust_opapi.so``
when an installed custom OPP is found (see :mod:`moe_re_routing._ffi`).
"""

from __future__ import annotations

from importlib import metadata as _metadata

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
from .errors import (
    MoeReRoutingError,
    MoeReRoutingNullError,
    MoeReRoutingRuntimeError,
    MoeReRoutingTilingError,
    MoeReRoutingTypeError,
    MoeReRoutingValueError,
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
