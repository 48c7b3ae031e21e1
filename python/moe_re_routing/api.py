"""The numpy / device-buffer API of MoeReRouting.

Python only maps containers and dtypes, builds aclTensors and calls the two-phase aclnn API; every
check of ranks, shapes, dtypes, attributes and count values happens once, in C, and a non-zero
status is raised as a :class:`~moe_re_routing.errors.MoeReRoutingError` subclass carrying the C
message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Optional, Union

import numpy as np

from . import _dtypes
from ._dtypes import ROLE_COUNTS, ROLE_SCALES, ROLE_TOKENS, DtypeLike, DtypeSpec
from ._ffi import backend, ffi, lib
from .errors import (
    MoeReRoutingNullError,
    error_from_status,
    param_type_error,
    param_value_error,
)
from .runtime import _recent_msg, as_stream, check_acl, free, malloc, memcpy, status_name

__all__ = ["DeviceTensor", "MoeReRoutingResult", "moe_re_routing", "moe_re_routing_device"]

ACL_FORMAT_ND = 2
_KDL_CPU = 1


class MoeReRoutingResult(NamedTuple):
    """The four outputs, in the order of ``torch_npu.npu_moe_re_routing``.

    permute_tokens: ``[A, H]`` (fp4: ``[A, H/2]`` uint8), dtype of ``tokens``; expert-major rows.
    permute_per_token_scales: shape and dtype of ``per_token_scales`` (``[A]`` or ``[A, S]``), or
        float32 ``[A]`` zeros when no scales were given.
    permute_token_idx: int32 ``[A]``; gather (idx_type 0): ``permute_tokens == tokens[idx]``;
        scatter (idx_type 1): ``permute_tokens[idx] == tokens``.
    expert_token_num: ``[E]``, dtype of the counts; per-expert counts (type 1) or their inclusive
        running total (type 0).
    """

    permute_tokens: Any
    permute_per_token_scales: Any
    permute_token_idx: Any
    expert_token_num: Any


class DeviceTensor:
    """A tensor in device memory (an ``aclrtMalloc`` pointer, or memory of another runtime).

    Args:
        ptr: the address of element 0, an int (e.g. from :func:`moe_re_routing.malloc`, a
            MindSpore/ONNX Runtime tensor's data pointer).
        shape: the aclTensor view shape in ELEMENTS (packed fp4: ``[A, H]`` with ``H/2`` bytes a row).
        dtype: a numpy dtype (``np.int8``, ``ml_dtypes.bfloat16``...) or a name
            (``"bfloat16"``, ``"float4_e2m1"``, ``"hifloat8"``, ``"float8_e8m0"``, or an ACL name
            such as ``"BF16"``).
        strides: view strides in elements (default: row-major contiguous). The operator requires
            contiguous tensors; other strides are passed through and rejected by the C checks.

    The object does not own the memory; the caller keeps it alive until the call returns (or, with
    an explicit ``stream``, until the stream has been synchronised).
    """

    __slots__ = ("dtype", "ptr", "shape", "spec", "strides")

    def __init__(
        self, ptr: int, shape: Sequence[int], dtype: DtypeLike, *, strides: Optional[Sequence[int]] = None
    ) -> None:
        if isinstance(ptr, bool) or not isinstance(ptr, (int, np.integer)):
            raise param_type_error(f"DeviceTensor ptr must be an int address, got {type(ptr).__name__}")
        self.ptr = int(ptr)
        self.shape = tuple(int(d) for d in shape)
        self.dtype, self.spec = _dtypes.to_np_dtype(dtype, "DeviceTensor")
        self.strides = None if strides is None else tuple(int(s) for s in strides)

    @property
    def nbytes(self) -> int:
        """Bytes of the contiguous tensor (packed fp4: half a byte per element)."""
        n = int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1
        return (n * self.spec.bits + 7) // 8

    @classmethod
    def from_array(cls, array: np.ndarray, *, dtype: DtypeLike = None) -> DeviceTensor:
        """Copy a host array into new device memory (:func:`malloc` + H2D copy); free with
        :meth:`free`. ``dtype`` names the ACL type for uint8-carried fp4/hifloat8 (then the
        shape's last dim doubles for fp4)."""
        a = np.ascontiguousarray(array)
        spec = _dtypes.resolve("array", a.dtype, dtype)
        shape = list(a.shape)
        if spec.packed4 and shape:
            shape[-1] *= 2
        ptr = malloc(a.nbytes)
        memcpy(ptr, a, a.nbytes, "h2d")
        return cls(ptr, shape, dtype if dtype is not None else a.dtype)

    @classmethod
    def empty(cls, shape: Sequence[int], dtype: DtypeLike) -> DeviceTensor:
        """New uninitialised device memory of ``shape``/``dtype``; free with :meth:`free`."""
        t = cls(0, shape, dtype)
        t.ptr = malloc(t.nbytes)
        return t

    def to_numpy(self) -> np.ndarray:
        """Copy to a new host array (fp4: uint8 ``[..., H/2]``)."""
        shape = list(self.shape)
        if self.spec.packed4 and shape:
            shape[-1] //= 2
        out = np.empty(shape, dtype=self.dtype)
        memcpy(out, self.ptr, out.nbytes, "d2h")
        return out

    def free(self) -> None:
        """aclrtFree the memory (only for tensors from :meth:`from_array` / :meth:`empty`)."""
        if self.ptr:
            free(self.ptr)
            self.ptr = 0

    def __repr__(self) -> str:
        return f"DeviceTensor(ptr=0x{self.ptr:x}, shape={self.shape}, dtype={self.spec.acl_name})"


# ---- one aclTensor argument ------------------------------------------------------------------------


class _Arg(NamedTuple):
    dims: list[int]
    strides: Optional[list[int]]
    spec: DtypeSpec
    ptr: int


def _contig_strides(dims: list[int]) -> list[int]:
    out = [1] * len(dims)
    acc = 1
    for i in range(len(dims) - 1, -1, -1):
        out[i] = acc
        acc *= max(dims[i], 1)
    return out


def _create(arg: _Arg) -> Any:
    n = len(arg.dims)
    dims = ffi.new("int64_t[]", arg.dims or [0])
    strides = ffi.new(
        "int64_t[]", (arg.strides if arg.strides is not None else _contig_strides(arg.dims)) or [0]
    )
    if arg.strides is None:
        storage, ns = dims, n
    else:
        extent = 1 + sum((d - 1) * s for d, s in zip(arg.dims, arg.strides) if d > 0)
        storage, ns = ffi.new("int64_t[]", [extent]), 1
    t = lib.aclCreateTensor(
        dims, n, arg.spec.code, strides, 0, ACL_FORMAT_ND, storage, ns, ffi.cast("void *", arg.ptr)
    )
    if t == ffi.NULL:
        raise error_from_status(
            161002, _recent_msg() or "aclCreateTensor returned NULL", "ACLNN_ERR_PARAM_INVALID"
        )
    return t


def _launch(args: list[Optional[_Arg]], token_type: int, idx_type: int, stream: Any, sync: bool) -> None:
    """Create the nine aclTensors, GetWorkspaceSize, run, (sync), destroy. args: tokens, counts,
    scales (or None), then the four outputs."""
    tensors: list[Any] = []
    try:
        for a in args:
            tensors.append(ffi.NULL if a is None else _create(a))
        ws = ffi.new("uint64_t *")
        ex = ffi.new("aclOpExecutor **")
        st = lib.aclnnMoeReRoutingGetWorkspaceSize(
            tensors[0],
            tensors[1],
            tensors[2],
            token_type,
            idx_type,
            tensors[3],
            tensors[4],
            tensors[5],
            tensors[6],
            ws,
            ex,
        )
        if st != 0:
            raise error_from_status(
                st, _recent_msg() or "aclnnMoeReRoutingGetWorkspaceSize failed", status_name(st)
            )
        wsize = int(ws[0])
        wptr = malloc(wsize) if wsize > 0 else 0
        try:
            st = lib.aclnnMoeReRouting(ffi.cast("void *", wptr) if wptr else ffi.NULL, wsize, ex[0], stream)
            if st != 0:
                raise error_from_status(st, _recent_msg() or "aclnnMoeReRouting failed", status_name(st))
            if sync or wptr:
                check_acl(lib.aclrtSynchronizeStream(stream), "aclrtSynchronizeStream")
        finally:
            if wptr:
                free(wptr)
    finally:
        for t in tensors:
            if t != ffi.NULL:
                lib.aclDestroyTensor(t)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _check_attr(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise param_type_error(f"{name} must be an int (0 or 1), got {type(value).__name__} {value!r}")
    if not _INT64_MIN <= int(value) <= _INT64_MAX:  # the C attribute is int64: say so, not OverflowError
        raise param_value_error(f"{name} is {int(value)}, outside int64; it must be 0 or 1")
    return int(value)


# ---- host (numpy) fast path -------------------------------------------------------------------------
# The common call (contiguous numpy arrays, no explicit dtypes, CPU backend) goes to C in one call,
# MoeReRoutingCpuRunHost, skipping the seven aclTensors: it costs a few microseconds instead of
# ~150. Anything else, and any non-zero status, takes the general path below, which re-validates
# and raises exactly as before (the C checks write nothing on error, so running them twice is safe).

_run_host = (
    lib.MoeReRoutingCpuRunHost if backend.name == "cpu" and lib.has("MoeReRoutingCpuRunHost") else None
)
_from_buffer = ffi.from_buffer
_new = ffi.new
_NULL = ffi.NULL
_ACL_FLOAT = _dtypes.acl_code("FLOAT")
_ACL_INT32 = _dtypes.acl_code("INT32")
_codes: dict[np.dtype, Optional[int]] = {}  # numpy dtype -> ACL code, None: general path


def _code(dt: np.dtype) -> Optional[int]:
    code = _codes.get(dt, -1)
    if code != -1:
        return code
    try:
        spec = _dtypes.resolve("array", dt)
        code = None if spec.packed4 else spec.code
    except Exception:
        code = None
    _codes[dt] = code
    return code


def _fast_out(o: Any) -> Optional[int]:
    if type(o) is not np.ndarray or not o.flags.c_contiguous or not o.flags.writeable:
        return None
    return _code(o.dtype)


def _fast_host(t: Any, c: Any, s: Any, ttype: Any, itype: Any, out: Any) -> Optional[MoeReRoutingResult]:
    """The result, or None when the call needs the general path."""
    if (
        _run_host is None
        or type(t) is not np.ndarray
        or type(c) is not np.ndarray
        or type(ttype) is not int
        or type(itype) is not int
        or t.ndim != 2
        or not t.flags.c_contiguous
        or not c.flags.c_contiguous
    ):
        return None
    tc = _code(t.dtype)
    cc = _code(c.dtype)
    if tc is None or cc is None:
        return None
    if s is None:
        desc = [tc, 2, *t.shape, cc, c.ndim, *c.shape, -1, 0]
    else:
        if type(s) is not np.ndarray or not s.flags.c_contiguous:
            return None
        sc = _code(s.dtype)
        if sc is None:
            return None
        desc = [tc, 2, *t.shape, cc, c.ndim, *c.shape, sc, s.ndim, *s.shape]
    if out is None:
        a_rows = t.shape[0]
        o_tok = np.empty(t.shape, dtype=t.dtype)
        o_idx = np.empty(a_rows, dtype=np.int32)
        o_cnt = np.empty(c.shape[-1] if c.ndim >= 1 else 1, dtype=c.dtype)
        if s is None:
            o_sc = np.empty(a_rows, dtype=np.float32)
            desc += [tc, 2, *t.shape, _ACL_FLOAT, 1, a_rows, _ACL_INT32, 1, a_rows, cc, 1, o_cnt.shape[0]]
        else:
            o_sc = np.empty(s.shape, dtype=s.dtype)
            desc += [tc, 2, *t.shape, sc, s.ndim, *s.shape, _ACL_INT32, 1, a_rows, cc, 1, o_cnt.shape[0]]
    else:
        if type(out) not in (tuple, list, MoeReRoutingResult) or len(out) != 4:
            return None
        o_tok, o_sc, o_idx, o_cnt = out
        for o in out:
            code = _fast_out(o)
            if code is None:
                return None
            desc += [code, o.ndim, *o.shape]
    try:
        st = _run_host(
            _new("int64_t[]", desc),
            len(desc),
            _from_buffer(t),
            _from_buffer(c),
            _NULL if s is None else _from_buffer(s),
            _from_buffer(o_tok),
            _from_buffer(o_sc),
            _from_buffer(o_idx),
            _from_buffer(o_cnt),
            ttype,
            itype,
        )
    except (TypeError, ValueError, OverflowError):  # a buffer cffi cannot view, an int out of range
        return None
    if st != 0:
        return None
    return MoeReRoutingResult(o_tok, o_sc, o_idx, o_cnt)


# ---- host (numpy) path ---------------------------------------------------------------------------


def _as_input(x: Any, name: str, required: bool) -> Optional[np.ndarray]:
    if x is None:
        if required:
            raise MoeReRoutingNullError(161001, f"{name} is required, got None", "ACLNN_ERR_PARAM_NULLPTR")
        return None
    if isinstance(x, (str, bytes, bytearray)):
        raise param_type_error(f"{name} must be a numpy array, got {type(x).__name__}")
    if not isinstance(x, np.ndarray) and hasattr(x, "__dlpack__"):
        dev = x.__dlpack_device__() if hasattr(x, "__dlpack_device__") else (_KDL_CPU, 0)
        if int(dev[0]) != _KDL_CPU:
            raise param_value_error(
                f"{name} lives on DLPack device {tuple(int(v) for v in dev)}; the {backend.name} backend "
                f"takes "
                f"host (kDLCPU=1) DLPack tensors only: pass a DeviceTensor for device memory"
            )
        x = np.from_dlpack(x)
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as exc:
            raise param_type_error(f"{name} cannot be viewed as a numpy array: {exc}") from None
    if x.dtype.hasobject or x.dtype.kind in "US" or x.dtype.names is not None:
        raise param_type_error(f"{name} has dtype {x.dtype}; expected a numeric array")
    # Non-contiguous inputs are copied (documented); the operator itself takes contiguous ND tensors.
    # (np.ascontiguousarray would turn a 0-d array into shape (1,) and hide the caller's mistake.)
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def _ptr(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


def _host_arg(a: np.ndarray, spec: DtypeSpec) -> _Arg:
    dims = list(a.shape)
    if spec.packed4 and dims:
        dims[-1] *= 2
    return _Arg(dims, None, spec, _ptr(a))


def _check_out(o: Any, name: str) -> np.ndarray:
    if not isinstance(o, np.ndarray):
        raise param_type_error(f"out.{name} must be a numpy array, got {type(o).__name__}")
    if o.dtype.hasobject:
        raise param_type_error(f"out.{name} has dtype object")
    if not o.flags.c_contiguous:
        raise param_value_error(f"out.{name} must be C-contiguous (shape {o.shape}, strides {o.strides})")
    if not o.flags.writeable:
        raise param_value_error(f"out.{name} is read-only")
    return o


def moe_re_routing(
    tokens: Any,
    expert_token_num_per_rank: Any,
    per_token_scales: Any = None,
    *,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    out: Optional[Sequence[Any]] = None,
    tokens_dtype: DtypeLike = None,
    scales_dtype: DtypeLike = None,
    stream: Union[int, Any, None] = None,
) -> MoeReRoutingResult:
    """Reorder tokens from rank-major to expert-major order (MoeReRouting).

    Args:
        tokens: ``[A, H]`` float16, bfloat16 (``ml_dtypes.bfloat16``), int8, float8_e4m3fn,
            float8_e5m2, uint8, int16, uint16, float32 or int32. Packed fp4 and hifloat8 are passed as
            uint8 with ``tokens_dtype`` ("float4_e2m1" / "float4_e1m2": the array is ``[A, H/2]``,
            H = 2 * columns; "hifloat8": ``[A, H]``).
        expert_token_num_per_rank: ``[N, E]`` int32 or int64, values >= 0 summing to A.
        per_token_scales: optional ``[A]`` or ``[A, S]`` float32, or float8_e8m0
            (``ml_dtypes.float8_e8m0fnu``, or uint8 with ``scales_dtype="float8_e8m0"``).
        expert_token_num_type: 1 count (default), 0 cumsum (inclusive running total) [ext].
        idx_type: 0 gather (default), 1 scatter [ext].
        out: optional four preallocated outputs (tuple or :class:`MoeReRoutingResult`) with the
            shapes/dtypes listed in :class:`MoeReRoutingResult`; C-contiguous and writeable. They are
            filled in place and returned (no new arrays are allocated).
        tokens_dtype / scales_dtype: name the ACL type of a uint8/raw-carried array.
        stream: only with :class:`DeviceTensor` arguments (see :func:`moe_re_routing_device`).

    Inputs may be numpy arrays, anything ``np.asarray`` accepts, DLPack host tensors
    (``__dlpack__``), or :class:`DeviceTensor` (then ``out`` is required; see
    :func:`moe_re_routing_device`). Non-contiguous numpy inputs are copied to a contiguous array
    first; on the CPU backend contiguous inputs and the outputs are used in place (zero-copy).

    Returns:
        :class:`MoeReRoutingResult` ``(permute_tokens, permute_per_token_scales, permute_token_idx,
        expert_token_num)``.

    Raises:
        MoeReRoutingTypeError: bad container or dtype (also ``TypeError``).
        MoeReRoutingValueError: bad rank, shape, value, attribute (also ``ValueError``).
        MoeReRoutingNullError: a required argument is None (a ``TypeError``).
    """
    if isinstance(tokens, DeviceTensor) or isinstance(expert_token_num_per_rank, DeviceTensor):
        if out is None:
            raise param_type_error("out= (four DeviceTensor outputs) is required with DeviceTensor inputs")
        return moe_re_routing_device(
            tokens,
            expert_token_num_per_rank,
            per_token_scales,
            expert_token_num_type=expert_token_num_type,
            idx_type=idx_type,
            out=out,
            stream=stream,
        )
    if stream is not None:
        raise param_type_error("stream= applies to DeviceTensor arguments only; numpy calls are synchronous")
    if tokens_dtype is None and scales_dtype is None:
        fast = _fast_host(
            tokens, expert_token_num_per_rank, per_token_scales, expert_token_num_type, idx_type, out
        )
        if fast is not None:
            return fast
    ttype = _check_attr("expert_token_num_type", expert_token_num_type)
    itype = _check_attr("idx_type", idx_type)
    t = _as_input(tokens, "tokens", True)
    c = _as_input(expert_token_num_per_rank, "expert_token_num_per_rank", True)
    s = _as_input(per_token_scales, "per_token_scales", False)
    assert t is not None and c is not None
    tspec = _dtypes.resolve("tokens", t.dtype, tokens_dtype, ROLE_TOKENS)
    cspec = _dtypes.resolve("expert_token_num_per_rank", c.dtype, None, ROLE_COUNTS)
    sspec = None if s is None else _dtypes.resolve("per_token_scales", s.dtype, scales_dtype, ROLE_SCALES)
    if s is None and scales_dtype is not None:
        raise param_type_error("scales_dtype given but per_token_scales is None")

    a_rows = t.shape[0] if t.ndim >= 1 else 0
    e_cols = c.shape[-1] if c.ndim >= 1 else 1
    if out is None:
        o_tok = np.empty(t.shape, dtype=t.dtype)
        o_sc = np.empty(s.shape, dtype=s.dtype) if s is not None else np.empty(a_rows, dtype=np.float32)
        o_idx = np.empty(a_rows, dtype=np.int32)
        o_cnt = np.empty(e_cols, dtype=c.dtype)
    else:
        if isinstance(out, (str, bytes)) or not isinstance(out, Sequence) or len(out) != 4:
            raise param_type_error(
                "out must be a sequence of four arrays (permute_tokens, permute_per_token_scales, "
                f"permute_token_idx, expert_token_num), got {type(out).__name__}"
            )
        o_tok = _check_out(out[0], "permute_tokens")
        o_sc = _check_out(out[1], "permute_per_token_scales")
        o_idx = _check_out(out[2], "permute_token_idx")
        o_cnt = _check_out(out[3], "expert_token_num")
    otspec = _dtypes.resolve("out.permute_tokens", o_tok.dtype, tokens_dtype, ROLE_TOKENS)
    osspec = _dtypes.resolve(
        "out.permute_per_token_scales", o_sc.dtype, scales_dtype if s is not None else None, ROLE_SCALES
    )
    oispec = _dtypes.resolve("out.permute_token_idx", o_idx.dtype)
    ocspec = _dtypes.resolve("out.expert_token_num", o_cnt.dtype)

    host = [
        (t, tspec),
        (c, cspec),
        (s, sspec),
        (o_tok, otspec),
        (o_sc, osspec),
        (o_idx, oispec),
        (o_cnt, ocspec),
    ]
    if backend.name == "cpu":
        args = [None if arr is None else _host_arg(arr, spec) for arr, spec in host]  # zero-copy
        _launch(args, ttype, itype, as_stream(None), True)
    else:
        _run_staged(host, ttype, itype)
    return MoeReRoutingResult(o_tok, o_sc, o_idx, o_cnt)


def _run_staged(host: list[tuple[Optional[np.ndarray], Optional[DtypeSpec]]], ttype: int, itype: int) -> None:
    """NPU path for host arrays: copy inputs to device memory, run, copy outputs back."""
    ptrs: list[int] = []
    try:
        args: list[Optional[_Arg]] = []
        for i, (arr, spec) in enumerate(host):
            if arr is None or spec is None:
                args.append(None)
                continue
            p = malloc(arr.nbytes)
            ptrs.append(p)
            if i < 3:
                memcpy(p, arr, arr.nbytes, "h2d")
            args.append(_host_arg(arr, spec)._replace(ptr=p))
        _launch(args, ttype, itype, as_stream(None), True)
        for i in range(3, 7):
            arr = host[i][0]
            a = args[i]
            if arr is not None and a is not None:
                memcpy(arr, a.ptr, arr.nbytes, "d2h")
    finally:
        for p in ptrs:
            free(p)


# ---- device path -----------------------------------------------------------------------------------


def _dev_arg(x: Any, name: str) -> _Arg:
    if not isinstance(x, DeviceTensor):
        raise param_type_error(f"{name} must be a DeviceTensor, got {type(x).__name__}")
    return _Arg(list(x.shape), None if x.strides is None else list(x.strides), x.spec, x.ptr)


def moe_re_routing_device(
    tokens: DeviceTensor,
    expert_token_num_per_rank: DeviceTensor,
    per_token_scales: Optional[DeviceTensor] = None,
    *,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    out: Sequence[DeviceTensor],
    stream: Union[int, Any, None] = None,
) -> MoeReRoutingResult:
    """MoeReRouting on device buffers, with no host copies.

    Shapes and dtypes as in :func:`moe_re_routing` (DeviceTensor shapes are in elements, so fp4
    tokens are ``[A, H]``). ``out``: four DeviceTensors (permute_tokens, permute_per_token_scales,
    permute_token_idx, expert_token_num). ``stream``: an ``aclrtStream`` (int address or cffi
    pointer); the call is then asynchronous (synchronise the stream before reading the outputs),
    except that a non-zero workspace is released after a synchronise. With ``stream=None`` the call
    runs on this thread's default stream and returns after it has finished.

    Returns ``MoeReRoutingResult`` of the ``out`` DeviceTensors.
    """
    ttype = _check_attr("expert_token_num_type", expert_token_num_type)
    itype = _check_attr("idx_type", idx_type)
    if tokens is None:
        raise MoeReRoutingNullError(161001, "tokens is required, got None", "ACLNN_ERR_PARAM_NULLPTR")
    if expert_token_num_per_rank is None:
        raise MoeReRoutingNullError(
            161001, "expert_token_num_per_rank is required, got None", "ACLNN_ERR_PARAM_NULLPTR"
        )
    if isinstance(out, (str, bytes)) or not isinstance(out, Sequence) or len(out) != 4:
        raise param_type_error("out must be a sequence of four DeviceTensor outputs")
    names = ["permute_tokens", "permute_per_token_scales", "permute_token_idx", "expert_token_num"]
    args: list[Optional[_Arg]] = [
        _dev_arg(tokens, "tokens"),
        _dev_arg(expert_token_num_per_rank, "expert_token_num_per_rank"),
        None if per_token_scales is None else _dev_arg(per_token_scales, "per_token_scales"),
    ] + [_dev_arg(o, f"out.{n}") for o, n in zip(out, names)]
    _launch(args, ttype, itype, as_stream(stream), stream is None)
    return MoeReRoutingResult(*out)
