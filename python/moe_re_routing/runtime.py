"""AscendCL runtime helpers: lazy init, per-thread streams, device memory, and the CPU backend's
extension controls (engine, threads, the emulator engine's platform and trace, last-run report).

On the CPU backend "device memory" is host memory handed out by the emulated ``aclrtMalloc``; the
same calls drive a real NPU when the CANN libraries were loaded.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple, Optional, Union

import numpy as np

from ._ffi import backend, facts, ffi, lib
from .errors import (
    MoeReRoutingError,
    MoeReRoutingRuntimeError,
    error_from_status,
    param_type_error,
    param_value_error,
    status_codes,
)

__all__ = [
    "ENGINES",
    "MEMCPY_KINDS",
    "PlatformInfo",
    "SocInfo",
    "default_soc",
    "engine",
    "free",
    "get_engine",
    "get_platform",
    "get_threads",
    "last_run",
    "last_run_json",
    "malloc",
    "memcpy",
    "restore_platform",
    "set_engine",
    "set_platform",
    "set_threads",
    "set_trace",
    "soc_table",
    "status_name",
    "stream_for_thread",
    "synchronize",
    "version",
]

# aclrtMemcpyKind values (public AscendCL enum).
MEMCPY_KINDS = {"h2h": 0, "h2d": 1, "d2h": 2, "d2d": 3}
_MEM_MALLOC_HUGE_FIRST = 0

_init_lock = threading.Lock()
_initialized = False
_tls = threading.local()
_streams: list[Any] = []
_DEVICE_ID = int(os.environ.get("MOE_RE_ROUTING_DEVICE", "0"))


def _recent_msg() -> str:
    try:
        p = lib.aclGetRecentErrMsg()
    except MoeReRoutingError:
        return ""
    return ffi.string(p).decode(errors="replace") if p != ffi.NULL else ""


def _kind_name() -> Optional[str]:
    """The C error kind of this thread's last error ("value", "type"...), None when the library does
    not report kinds."""
    if not lib.has("MoeReRoutingLastErrorKind"):
        return None
    return str(ffi.string(lib.MoeReRoutingErrorKindName(lib.MoeReRoutingLastErrorKind())).decode())


def last_error(status: int, what: str) -> MoeReRoutingError:
    """The exception for a failed C call on this thread: ``status``, the thread's last message (or
    "``what`` failed") and the C error kind, which picks the class."""
    return error_from_status(status, _recent_msg() or f"{what} failed", status_name(status), _kind_name())


def check_acl(ret: int, what: str) -> None:
    """Raise :class:`MoeReRoutingRuntimeError` for a non-zero aclError."""
    if ret != status_codes()["ACL_SUCCESS"]:
        msg = _recent_msg()
        raise MoeReRoutingRuntimeError(ret, f"{what} failed" + (f": {msg}" if msg else ""), "aclError")


def _ensure_init() -> None:
    global _initialized
    if _initialized:
        return
    with _init_lock:
        if _initialized:
            return
        ret = lib.aclInit(ffi.NULL)
        codes = status_codes()
        if ret not in (codes["ACL_SUCCESS"], codes["ACL_ERROR_REPEAT_INITIALIZE"]):
            check_acl(ret, "aclInit")
        _initialized = True


def _ensure_thread() -> None:
    """aclInit once per process, aclrtSetDevice once per thread (CANN binds the context per thread)."""
    if getattr(_tls, "device_set", False):
        return
    _ensure_init()
    check_acl(lib.aclrtSetDevice(_DEVICE_ID), f"aclrtSetDevice({_DEVICE_ID})")
    _tls.device_set = True


def stream_for_thread() -> Any:
    """This thread's default stream (created on first use, destroyed at exit)."""
    s = getattr(_tls, "stream", None)
    if s is None:
        _ensure_thread()
        p = ffi.new("aclrtStream *")
        check_acl(lib.aclrtCreateStream(p), "aclrtCreateStream")
        s = p[0]
        _tls.stream = s
        with _init_lock:
            _streams.append(s)
    return s


def as_stream(stream: object) -> Any:
    """An ``aclrtStream`` from None (this thread's stream), an int address or a cffi pointer."""
    if stream is None:
        return stream_for_thread()
    _ensure_thread()
    if isinstance(stream, int):
        return ffi.cast("aclrtStream", stream)
    if isinstance(stream, ffi.CData):
        return ffi.cast("aclrtStream", stream)
    raise param_type_error(
        f"stream must be None, an int address or a cffi pointer, got {type(stream).__name__}"
    )


def synchronize(stream: object = None) -> None:
    """aclrtSynchronizeStream on ``stream`` (default: this thread's stream)."""
    check_acl(lib.aclrtSynchronizeStream(as_stream(stream)), "aclrtSynchronizeStream")


def _cleanup() -> None:  # pragma: no cover - exit path
    for s in _streams:
        with contextlib.suppress(Exception):
            lib.aclrtDestroyStream(s)


atexit.register(_cleanup)


# ---- device memory --------------------------------------------------------------------------------


def malloc(nbytes: int) -> int:
    """aclrtMalloc ``nbytes`` (at least 1) of device memory; returns the address as an int."""
    _ensure_thread()
    p = ffi.new("void **")
    check_acl(lib.aclrtMalloc(p, max(int(nbytes), 1), _MEM_MALLOC_HUGE_FIRST), f"aclrtMalloc({nbytes})")
    return int(ffi.cast("uintptr_t", p[0]))


def free(ptr: int) -> None:
    """aclrtFree a pointer returned by :func:`malloc`."""
    check_acl(lib.aclrtFree(ffi.cast("void *", ptr)), "aclrtFree")


def _addr(x: Union[int, np.ndarray], writeable: bool, name: str) -> tuple[int, int]:
    if isinstance(x, np.ndarray):
        if not x.flags.c_contiguous:
            raise param_type_error(f"memcpy {name} array must be C-contiguous")
        if writeable and not x.flags.writeable:
            raise param_type_error(f"memcpy {name} array is read-only")
        return int(x.__array_interface__["data"][0]), int(x.nbytes)
    if isinstance(x, (int, np.integer)):
        return int(x), -1
    raise param_type_error(f"memcpy {name} must be an int address or a numpy array, got {type(x).__name__}")


def memcpy(
    dst: Union[int, np.ndarray], src: Union[int, np.ndarray], nbytes: Optional[int] = None, kind: str = "h2d"
) -> None:
    """aclrtMemcpy. ``dst``/``src``: int addresses or C-contiguous numpy arrays (host side);
    ``kind``: "h2d", "d2h", "d2d" or "h2h". ``nbytes`` defaults to the array's size."""
    if kind not in MEMCPY_KINDS:
        raise param_type_error(f"memcpy kind must be one of {sorted(MEMCPY_KINDS)}, got {kind!r}")
    _ensure_thread()
    d, dcap = _addr(dst, True, "dst")
    s, scap = _addr(src, False, "src")
    if nbytes is None:
        nbytes = scap if scap >= 0 else dcap
        if nbytes < 0:
            raise param_type_error("memcpy needs nbytes when both dst and src are addresses")
    cap = dcap if dcap >= 0 else nbytes
    if nbytes > cap or (scap >= 0 and nbytes > scap):
        raise param_value_error(f"memcpy of {nbytes} bytes exceeds a buffer (dst {dcap}, src {scap} bytes)")
    if nbytes == 0:
        return
    check_acl(
        lib.aclrtMemcpy(ffi.cast("void *", d), cap, ffi.cast("void *", s), nbytes, MEMCPY_KINDS[kind]),
        "aclrtMemcpy",
    )


# ---- CPU backend extensions ---------------------------------------------------------------------


def _need_cpu(what: str) -> None:
    if backend.name != "cpu":
        raise MoeReRoutingError(None, f"{what} needs the CPU backend (loaded: {backend.name})")


def version() -> str:
    """Version of the loaded C library ("unknown" on CANN)."""
    if lib.has("MoeReRoutingVersion"):
        return str(ffi.string(lib.MoeReRoutingVersion()).decode())
    return "unknown"


def status_name(code: int) -> str:
    """aclnn status name from the C library ("ACLNN_ERR_PARAM_INVALID"); "UNKNOWN" otherwise."""
    return str(ffi.string(facts.MoeReRoutingStatusName(int(code))).decode())


class SocInfo(NamedTuple):
    """One SoC of the C library's platform table (``ascendc_cpu/platform.h``)."""

    name: str  #: SoC version name, e.g. "Ascend910B"
    cores: int  #: AIV (vector) cores; 0 when not known
    ub_bytes: int  #: UB per core as the SoC reports it (GetCoreMemSize(UB))
    ub_reserved_bytes: int  #: kept by the Ascend C runtime (the kernel is built keeping it)
    ub_usable_bytes: int  #: ub_bytes - ub_reserved_bytes: what the tiling plans within


class PlatformInfo(NamedTuple):
    """The SoC platform the emulator engine tiles for."""

    name: str  #: a SoC name, or "custom" (numbers set by hand)
    cores: int  #: AIV cores
    ub_bytes: int  #: UB bytes per core the tiling plans within


def soc_table() -> dict[str, SocInfo]:
    """The SoCs the CPU backend can stand in for, by name, read from the C library."""
    _need_cpu("soc_table")
    p = ffi.new("const MoeReRoutingSocInfo **")
    n = int(lib.MoeReRoutingCpuSocTable(p))
    out = {}
    for i in range(n):
        e = p[0][i]
        name = ffi.string(e.name).decode()
        out[name] = SocInfo(
            name, int(e.aivCoreNum), int(e.ubBytes), int(e.ubReservedBytes), int(e.ubUsableBytes)
        )
    return out


def default_soc() -> str:
    """Name of the SoC of the default platform ("Ascend910B")."""
    _need_cpu("default_soc")
    return str(ffi.string(lib.MoeReRoutingCpuDefaultSoc()).decode())


def get_platform() -> PlatformInfo:
    """The SoC platform the next emulator run uses (plan, profile, model, the emulator engine)."""
    _need_cpu("get_platform")
    c = ffi.new("uint32_t *")
    u = ffi.new("uint32_t *")
    lib.MoeReRoutingCpuGetPlatform(c, u)
    name = ffi.string(lib.MoeReRoutingCpuPlatformName()).decode()
    return PlatformInfo(name, int(c[0]), int(u[0]))


def set_platform(platform: Optional[str] = None, *, cores: int = 0, ub_bytes: int = 0) -> None:
    """Select the SoC platform the emulator engine tiles for (CPU backend).

    ``platform``: a SoC name of :func:`soc_table` (its AIV cores and the UB Ascend C leaves a
    kernel). ``cores`` overrides the SoC's core count (required for a SoC whose count is not
    known). Without ``platform``, ``cores`` / ``ub_bytes`` set the numbers by hand (0 keeps a field;
    the platform is then named "custom"). The native engine has no platform. Bad values raise
    MoeReRoutingValueError.
    """
    _need_cpu("set_platform")
    for name, v in (("cores", cores), ("ub_bytes", ub_bytes)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise param_type_error(f"set_platform {name} must be an int, got {type(v).__name__}")
        if not 0 <= int(v) < 2**32:
            raise param_value_error(f"set_platform {name} is {int(v)}; expected 0 (keep) or a positive value")
    if platform is not None:
        if not isinstance(platform, str):
            raise param_type_error(f"platform must be a str (a SoC name), got {type(platform).__name__}")
        st = lib.MoeReRoutingCpuSelectPlatform(platform.encode(), int(cores))
        if st == 0 and ub_bytes:
            st = lib.MoeReRoutingCpuSetPlatform(0, int(ub_bytes))
    else:
        st = lib.MoeReRoutingCpuSetPlatform(int(cores), int(ub_bytes))
    if st != 0:
        raise last_error(st, f"set_platform({platform!r}, cores={cores}, ub_bytes={ub_bytes})")


def restore_platform(saved: PlatformInfo) -> None:
    """Selects again what :func:`get_platform` returned before a temporary :func:`set_platform`."""
    table = soc_table()
    if saved.name in table and saved.cores == table[saved.name].cores:
        set_platform(saved.name)
    else:
        set_platform(cores=saved.cores, ub_bytes=saved.ub_bytes)


ENGINES = ("native", "emulator")


def get_engine() -> str:
    """The engine that runs the operator: "native" (the native implementation, the default) or
    "emulator" (the Ascend C kernel on the emulator, every hardware rule checked). Raises
    MoeReRoutingValueError when ``MOE_RE_ROUTING_ENGINE`` names no engine."""
    _need_cpu("get_engine")
    name = str(ffi.string(lib.MoeReRoutingCpuEngineName()).decode())
    if name not in ENGINES:
        env = os.environ.get("MOE_RE_ROUTING_ENGINE", "")
        raise param_value_error(
            f"the environment variable MOE_RE_ROUTING_ENGINE is {env!r}; expected native or emulator"
        )
    return name


def set_engine(engine: Optional[str]) -> None:
    """Select the engine of later runs on every thread: "native" or "emulator"; ``None`` goes back
    to the environment's choice (``MOE_RE_ROUTING_ENGINE``, default native)."""
    _need_cpu("set_engine")
    if engine is not None and engine not in ENGINES:
        raise param_value_error(f"engine must be 'native' or 'emulator' (or None), got {engine!r}")
    st = lib.MoeReRoutingCpuSetEngine(ffi.NULL if engine is None else engine.encode())
    if st != 0:
        raise last_error(st, f"set_engine({engine!r})")


@contextlib.contextmanager
def engine(name: str) -> Iterator[None]:
    """``with engine("emulator"):`` runs the block on that engine, then restores the selection."""
    previous = get_engine()
    set_engine(name)
    try:
        yield
    finally:
        set_engine(previous)


def set_threads(threads: int) -> None:
    """Threads of later runs, the caller included (0 = hardware concurrency): the native engine
    splits large calls over up to this many; the emulator runs its blocks on this many."""
    _need_cpu("set_threads")
    st = lib.MoeReRoutingCpuSetThreads(int(threads))
    if st != 0:
        raise last_error(st, f"MoeReRoutingCpuSetThreads({threads})")


def get_threads() -> int:
    """Threads of later runs (see :func:`set_threads`)."""
    _need_cpu("get_threads")
    return int(lib.MoeReRoutingCpuGetThreads())


def set_trace(enabled: bool, chrome_trace_path: Optional[str] = None) -> None:
    """Enable per-core tracing of later emulator runs; optionally write a Chrome trace per run."""
    _need_cpu("set_trace")
    path = ffi.NULL if chrome_trace_path is None else ffi.new("char[]", os.fsencode(chrome_trace_path))
    st = lib.MoeReRoutingCpuSetTrace(1 if enabled else 0, path)
    if st != 0:
        raise last_error(st, "MoeReRoutingCpuSetTrace")


def last_run_json() -> str:
    """Raw JSON of the last run on this thread ("" when none)."""
    _need_cpu("last_run_json")
    p = lib.MoeReRoutingCpuLastRunJson()
    return ffi.string(p).decode() if p != ffi.NULL else ""


def last_run() -> dict[str, Any]:
    """The last run on this thread as a dict: ``engine`` and, for a native run, ``threads`` and the
    problem; for an emulator run the tiling fields, block_dim, ub_bytes, platform, cores..."""
    s = last_run_json()
    return json.loads(s) if s else {}
