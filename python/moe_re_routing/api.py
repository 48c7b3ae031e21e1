"""The numpy / device-buffer API of MoeReRouting.

Python only maps containers and dtypes, builds aclTensors and calls the two-phase aclnn API; every
check of ranks, shapes, dtypes, attributes and count values happens once, in C, and a non-zero
status is raised as a :class:`~moe_re_routing.errors.MoeReRoutingError` subclass carrying the C
message.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, NamedTuple, Optional, Protocol, Union, overload

import numpy as np
import numpy.typing as npt

from . import _dtypes
from ._dtypes import ROLE_COUNTS, ROLE_SCALES, ROLE_TOKENS, DtypeLike, DtypeSpec
from ._ffi import backend, facts, ffi, lib
from .errors import param_null_error, param_type_error, param_value_error, status_codes
from .runtime import as_stream, check_acl, free, last_error, malloc, memcpy

__all__ = [
    "ArrayInput",
    "DeviceTensor",
    "MoeReRoutingDeviceResult",
    "MoeReRoutingResult",
    "RestoreResult",
    "StreamLike",
    "moe_re_routing",
    "moe_re_routing_device",
    "restore",
]

ACL_FORMAT_ND = 2
_PARAM_INVALID = status_codes()["ACLNN_ERR_PARAM_INVALID"]
_KDL_CPU = 1


class _SupportsDLPack(Protocol):
    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any: ...


#: A host input: a numpy array, anything ``np.asarray`` accepts, or a host DLPack tensor.
ArrayInput = Union[npt.ArrayLike, _SupportsDLPack]
#: An ``aclrtStream``: an int address or a cffi pointer (``None``: this thread's default stream).
StreamLike = Union[int, object, None]


class _Outputs(NamedTuple):
    """The four outputs every call has, in the order of ``torch_npu.npu_moe_re_routing``."""

    permute_tokens: np.ndarray
    permute_per_token_scales: np.ndarray
    permute_token_idx: np.ndarray
    expert_token_num: np.ndarray


class MoeReRoutingResult(_Outputs):
    """The outputs of a host call: a tuple of the four outputs in the order of
    ``torch_npu.npu_moe_re_routing`` (so ``a, b, c, d = moe_re_routing(...)`` works), plus
    ``permute_topk_weight`` (MoeReRoutingV2), which is not part of the tuple.

    permute_tokens: ``[A, H]`` (fp4: ``[A, H/2]`` uint8), dtype of ``tokens``; expert-major rows.
    permute_per_token_scales: shape and dtype of ``per_token_scales`` (``[A]`` or ``[A, S]``), or
        float32 ``[A]`` zeros when no scales were given.
    permute_token_idx: int32 ``[A]``; gather (idx_type 0): ``permute_tokens == tokens[idx]``;
        scatter (idx_type 1): ``permute_tokens[idx] == tokens``.
    expert_token_num: ``[E]``, dtype of the counts; per-expert counts (type 1) or their inclusive
        running total (type 0).
    permute_topk_weight: the ``expert_topk_weight`` rows in expert-major order (float32, its shape:
        ``[A, 1]`` or ``[A]``), or ``None`` when no weights were given.
    """

    permute_topk_weight: Optional[np.ndarray] = None


def _result(outputs: Sequence[np.ndarray], weights: Optional[np.ndarray]) -> MoeReRoutingResult:
    """The result of four outputs and the permuted weights (or None)."""
    r = MoeReRoutingResult(*outputs[:4])
    if weights is not None:
        r.permute_topk_weight = weights
    return r


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

    A tensor made with the constructor does not own the memory: the caller keeps it alive until
    the call returns (or, with an explicit ``stream``, until the stream has been synchronised).
    Tensors from :meth:`from_array` and :meth:`empty` own theirs: release it with :meth:`free`, or
    use the tensor as a context manager (``with DeviceTensor.empty(...) as t:``), which frees owned
    memory on exit and leaves borrowed memory alone.
    """

    __slots__ = ("dtype", "owned", "ptr", "shape", "spec", "strides")

    ptr: int
    shape: tuple[int, ...]
    dtype: np.dtype
    spec: DtypeSpec
    strides: Optional[tuple[int, ...]]
    owned: bool

    def __init__(
        self, ptr: int, shape: Sequence[int], dtype: DtypeLike, *, strides: Optional[Sequence[int]] = None
    ) -> None:
        if isinstance(ptr, bool) or not isinstance(ptr, (int, np.integer)):
            raise param_type_error(f"DeviceTensor ptr must be an int address, got {type(ptr).__name__}")
        self.ptr = int(ptr)
        self.shape = tuple(int(d) for d in shape)
        self.dtype, self.spec = _dtypes.to_np_dtype(dtype, "DeviceTensor")
        self.strides = None if strides is None else tuple(int(s) for s in strides)
        self.owned = False

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
        t = cls(ptr, shape, dtype if dtype is not None else a.dtype)
        t.owned = True
        return t

    @classmethod
    def empty(cls, shape: Sequence[int], dtype: DtypeLike) -> DeviceTensor:
        """New uninitialised device memory of ``shape``/``dtype``; free with :meth:`free`."""
        t = cls(0, shape, dtype)
        t.ptr = malloc(t.nbytes)
        t.owned = True
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
        self.owned = False

    def __enter__(self) -> DeviceTensor:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Frees the memory if this tensor owns it (:meth:`from_array`, :meth:`empty`)."""
        if self.owned:
            self.free()

    def __repr__(self) -> str:
        return f"DeviceTensor(ptr=0x{self.ptr:x}, shape={self.shape}, dtype={self.spec.acl_name})"


class _DeviceOutputs(NamedTuple):
    permute_tokens: DeviceTensor
    permute_per_token_scales: DeviceTensor
    permute_token_idx: DeviceTensor
    expert_token_num: DeviceTensor


class MoeReRoutingDeviceResult(_DeviceOutputs):
    """The outputs of a device call: the four ``out`` DeviceTensors as a tuple, in the order and
    with the contents described in :class:`MoeReRoutingResult`, and ``permute_topk_weight``: the
    fifth ``out`` DeviceTensor with weights, else ``None``."""

    permute_topk_weight: Optional[DeviceTensor] = None


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
    if t == ffi.NULL:  # aclCreateTensor returns no status: its failures are parameter errors
        raise last_error(_PARAM_INVALID, "aclCreateTensor")
    return t


#: MoeReRoutingWithCapacity's attributes: (num_max_tokens_per_rank, restore), or None for a call
#: without static capacity.
_Capacity = Optional[tuple[int, bool]]


def _launch(
    args: list[Optional[_Arg]],
    token_type: int,
    idx_type: int,
    stream: Any,
    sync: bool,
    capacity: _Capacity = None,
) -> None:
    """Create the aclTensors, GetWorkspaceSize, run, (sync), destroy. ``args``: nine, in the order of
    aclnnMoeReRoutingV2GetWorkspaceSize (tokens, counts, scales, weights, then the five outputs;
    ``None`` for an absent optional tensor). Without the weight pair the call is
    aclnnMoeReRouting's, which exists on every backend; with ``capacity`` it is
    aclnnMoeReRoutingWithCapacity's."""
    tensors: list[Any] = []
    try:
        for a in args:
            tensors.append(ffi.NULL if a is None else _create(a))
        ws = ffi.new("uint64_t *")
        ex = ffi.new("aclOpExecutor **")
        t = tensors
        v2 = args[3] is not None or args[8] is not None
        if capacity is not None:
            api = "aclnnMoeReRoutingWithCapacity"
            st = lib.aclnnMoeReRoutingWithCapacityGetWorkspaceSize(
                t[0], t[1], t[2], t[3], capacity[0], token_type, idx_type, capacity[1],
                t[4], t[5], t[6], t[7], t[8], ws, ex,
            )  # fmt: skip
        elif v2:
            api = "aclnnMoeReRoutingV2"
            st = lib.aclnnMoeReRoutingV2GetWorkspaceSize(
                t[0], t[1], t[2], t[3], token_type, idx_type, t[4], t[5], t[6], t[7], t[8], ws, ex
            )
        else:
            api = "aclnnMoeReRouting"
            st = lib.aclnnMoeReRoutingGetWorkspaceSize(
                t[0], t[1], t[2], token_type, idx_type, t[4], t[5], t[6], t[7], ws, ex
            )
        if st != 0:
            raise last_error(st, api + "GetWorkspaceSize")
        wsize = int(ws[0])
        wptr = malloc(wsize) if wsize > 0 else 0
        try:
            run = (
                lib.aclnnMoeReRoutingWithCapacity
                if capacity is not None
                else (lib.aclnnMoeReRoutingV2 if v2 else lib.aclnnMoeReRouting)
            )
            st = run(ffi.cast("void *", wptr) if wptr else ffi.NULL, wsize, ex[0], stream)
            if st != 0:
                raise last_error(st, api)
            if sync or wptr:
                check_acl(lib.aclrtSynchronizeStream(stream), "aclrtSynchronizeStream")
        finally:
            if wptr:
                free(wptr)
    finally:
        for tensor in tensors:
            if tensor != ffi.NULL:
                lib.aclDestroyTensor(tensor)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _check_attr(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise param_type_error(f"{name} must be an int (0 or 1), got {type(value).__name__} {value!r}")
    if not _INT64_MIN <= int(value) <= _INT64_MAX:  # the C attribute is int64: say so, not OverflowError
        raise param_value_error(f"{name} is {int(value)}, outside int64; it must be 0 or 1")
    return int(value)


def _check_capacity(value: object) -> int:
    """num_max_tokens_per_rank as an int (its range, >= 1, is checked in C with the shapes)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise param_type_error(
            f"num_max_tokens_per_rank must be an int (>= 1), got {type(value).__name__} {value!r}"
        )
    if not _INT64_MIN <= int(value) <= _INT64_MAX:
        raise param_value_error(f"num_max_tokens_per_rank is {int(value)}, outside int64; it must be >= 1")
    return int(value)


# ---- host (numpy) one-call path ----------------------------------------------------------------------
# The common call (contiguous numpy arrays, no explicit dtypes, CPU backend) goes to C in one call,
# MoeReRoutingCpuRunHost, skipping the seven aclTensors: it costs a few microseconds instead of
# ~150. It runs the same checks as the aclnn entry points and a failure raises from here, with the C
# message. Arguments it cannot describe (not a contiguous numpy array, a dtype numpy cannot name the
# ACL type of, a read-only output) take the general path below, which converts and checks them.

_run_host = (
    lib.MoeReRoutingCpuRunHost if backend.name == "cpu" and lib.has("MoeReRoutingCpuRunHost") else None
)
_run_host_v2 = (
    lib.MoeReRoutingCpuRunHostV2 if backend.name == "cpu" and lib.has("MoeReRoutingCpuRunHostV2") else None
)
_run_host_capacity = (
    lib.MoeReRoutingCpuRunHostWithCapacity
    if backend.name == "cpu" and lib.has("MoeReRoutingCpuRunHostWithCapacity")
    else None
)
# ffi.from_buffer without its Python wrapper (a fifth of a small call's cost otherwise). It refuses,
# with ValueError, an array that is not C-contiguous and, when asked to, a read-only one.
_CHAR_ARRAY = ffi.typeof("char[]")
_buffer = ffi._backend.from_buffer
_new = ffi.new
_NULL = ffi.NULL
_codes: dict[np.dtype, Optional[int]] = {}  # numpy dtype -> ACL code, None: general path
# The desc of MoeReRoutingCpuRunHost by the dtypes and shapes of the seven arrays: calls repeat
# their shapes, so the list and its C copy are built once per signature.
_descs: dict[tuple[Any, ...], tuple[Any, int]] = {}
_DESC_CACHE_SIZE = 512


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


# Output inference is op_host's (InferOutputs, through MoeReRoutingInferOutputs): the shapes and
# dtypes of the outputs, by the dtypes and shapes of the inputs, asked once per signature. An input's
# dtype is passed as a placeholder code the inference copies through (it never interprets them), so
# any carrier dtype (fp4 or hifloat8 in uint8) comes back as itself.
_PLACEHOLDER_CODE = 1000  # + input index: not an aclDataType
_INFERRED_DTYPES = {
    _dtypes.resolve("permute_per_token_scales", np.dtype(np.float32)).code: np.dtype(np.float32),
    _dtypes.resolve("permute_token_idx", np.dtype(np.int32)).code: np.dtype(np.int32),
}


def _infer_outputs(inputs: Sequence[Optional[np.ndarray]]) -> list[tuple[tuple[int, ...], np.dtype]]:
    """(shape, dtype) of each output for ``inputs`` (tokens, counts, scales[, weights])."""
    desc: list[int] = []
    for i, x in enumerate(inputs):
        desc += [-1, 0] if x is None else [_PLACEHOLDER_CODE + i, x.ndim, *x.shape]
    slot = int(facts.MOE_RE_ROUTING_INFER_SLOT)
    out = ffi.new("int64_t[]", int(facts.MOE_RE_ROUTING_INFER_OUTPUTS_LEN))
    st = facts.MoeReRoutingInferOutputs(ffi.new("int64_t[]", desc), len(desc), out)
    if st != 0:
        raise last_error(st, "MoeReRoutingInferOutputs")
    specs = []
    for k in range(4 if len(inputs) < 4 or inputs[3] is None else 5):
        code, ndim = int(out[k * slot]), int(out[k * slot + 1])
        x = inputs[code - _PLACEHOLDER_CODE] if code >= _PLACEHOLDER_CODE else None
        dtype = x.dtype if x is not None else _INFERRED_DTYPES[code]
        specs.append((tuple(int(out[k * slot + 2 + d]) for d in range(ndim)), dtype))
    return specs


def _new_outputs(
    t: np.ndarray, c: np.ndarray, s: Optional[np.ndarray], w: Optional[np.ndarray]
) -> list[np.ndarray]:
    """Fresh outputs for tokens ``t`` ``[A, H]``, counts ``c`` ``[N, E]``, scales ``s`` and weights
    ``w``, of the shapes and dtypes op_host's inference gives: tokens and scales like the inputs
    (float32 ``[A]`` without scales), int32 ``[A]`` index, ``[E]`` counts of the counts' dtype, and
    with weights an array like them. A rank the operator never takes raises its error."""
    specs, _ = _alloc_plan((t, c, s) if w is None else (t, c, s, w))
    return [np.empty(shape, dtype=dtype) for shape, dtype in specs]


_Signature = tuple[Optional[tuple[np.dtype, tuple[int, ...]]], ...]


def _signature(arrays: Sequence[Optional[np.ndarray]]) -> _Signature:
    """(dtype, shape) of each array (``None`` for an absent one): what a desc depends on."""
    return tuple(None if x is None else (x.dtype, x.shape) for x in arrays)


def _fast_desc(signature: _Signature) -> Optional[tuple[Any, int]]:
    """The ``desc`` of MoeReRoutingCpuRunHost(V2) (as a C array, and its length) for host arrays of
    ``signature``, or ``None`` when a dtype has no ACL type numpy can name."""
    hit = _descs.get(signature)
    if hit is not None:
        return hit
    desc: list[int] = []
    for sig in signature:
        if sig is None:
            desc += [-1, 0]
            continue
        code = _code(sig[0])
        if code is None:
            return None
        desc += [code, len(sig[1]), *sig[1]]
    if len(_descs) >= _DESC_CACHE_SIZE:
        _descs.clear()
    entry = (_new("int64_t[]", desc), len(desc))
    _descs[signature] = entry
    return entry


# The allocating call's plan by the inputs' signature: the outputs to allocate (op_host's inference)
# and the desc of inputs and outputs together, so that such a call makes one dictionary lookup.
# Four inputs with no weights (MoeReRoutingWithCapacity without them) are the nine-tensor layout
# with the weight pair absent: the desc ends with the absent permute_topk_weight.
_AllocPlan = tuple[list[tuple[tuple[int, ...], np.dtype]], Optional[tuple[Any, int]]]
_alloc_plans: dict[_Signature, _AllocPlan] = {}


def _alloc_plan(inputs: Sequence[Optional[np.ndarray]]) -> _AllocPlan:
    key = _signature(inputs)
    plan = _alloc_plans.get(key)
    if plan is None:
        specs = _infer_outputs(inputs)
        outs: _Signature = tuple((dtype, shape) for shape, dtype in specs)
        if len(inputs) == 4 and inputs[3] is None:
            outs += (None,)
        plan = (specs, _fast_desc(key + outs))
        if len(_alloc_plans) >= _DESC_CACHE_SIZE:
            _alloc_plans.clear()
        _alloc_plans[key] = plan
    return plan


def _fast_host(
    t: object,
    c: object,
    s: object,
    w: object,
    ttype: object,
    itype: object,
    out: object,
    capacity: _Capacity = None,
) -> Optional[MoeReRoutingResult]:
    """The result through MoeReRoutingCpuRunHost (MoeReRoutingCpuRunHostV2 with weights,
    MoeReRoutingCpuRunHostWithCapacity with a capacity), or None when the arguments need the general
    path. A non-zero status raises its error (the C checks wrote nothing)."""
    if _run_host is None or type(ttype) is not int or type(itype) is not int:
        return None
    if type(t) is not np.ndarray or type(c) is not np.ndarray or t.ndim != 2:
        return None
    if (s is not None and type(s) is not np.ndarray) or (w is not None and type(w) is not np.ndarray):
        return None
    # MoeReRouting takes seven tensors; V2 and WithCapacity the nine of V2's order (the four inputs,
    # then the five outputs), the weight pair absent (None) when not given.
    nine = w is not None or capacity is not None
    if capacity is not None:
        run = _run_host_capacity
        attrs: tuple[int, ...] = (capacity[0], ttype, itype, int(capacity[1]))
    else:
        run = _run_host_v2 if w is not None else _run_host
        attrs = (ttype, itype)
    if run is None:
        return None
    inputs = (t, c, s, w) if nine else (t, c, s)
    if out is None:
        specs, desc = _alloc_plan(inputs)
        outputs = [np.empty(shape, dtype=dtype) for shape, dtype in specs]
    elif (
        isinstance(out, (tuple, list))
        and len(out) == (4 if w is None else 5)
        and all(type(o) is np.ndarray for o in out)
    ):
        outputs = list(out)
        desc = _fast_desc(_signature((*inputs, *outputs, *((None,) if nine and w is None else ()))))
    else:
        return None
    if desc is None:
        return None
    try:
        views = [_NULL if x is None else _buffer(_CHAR_ARRAY, x, False) for x in inputs]
        views += [_buffer(_CHAR_ARRAY, o, True) for o in outputs]
        if nine and w is None:
            views.append(_NULL)  # the absent permute_topk_weight
        st = run(desc[0], desc[1], *views, *attrs)
    except (TypeError, ValueError, OverflowError):  # not C-contiguous, read-only, an int out of range
        return None
    if st != 0:
        raise last_error(st, "moe_re_routing")
    return _result(outputs, None if w is None else outputs[4])


# ---- host (numpy) path ---------------------------------------------------------------------------


def _as_input(x: Any, name: str, required: bool) -> Optional[np.ndarray]:
    if x is None:
        if required:
            raise param_null_error(f"{name} is required, got None")
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


def _required_input(x: object, name: str) -> np.ndarray:
    """:func:`_as_input` of a required argument (None raises MoeReRoutingNullError)."""
    a = _as_input(x, name, True)
    if a is None:  # not reached: _as_input raises MoeReRoutingNullError for a required argument
        raise param_type_error(f"{name} is required, got None")
    return a


def _ptr(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


def _host_arg(a: np.ndarray, spec: DtypeSpec) -> _Arg:
    dims = list(a.shape)
    if spec.packed4 and dims:
        dims[-1] *= 2
    return _Arg(dims, None, spec, _ptr(a))


def _check_out(o: object, name: str) -> np.ndarray:
    if not isinstance(o, np.ndarray):
        raise param_type_error(f"out.{name} must be a numpy array, got {type(o).__name__}")
    if o.dtype.hasobject:
        raise param_type_error(f"out.{name} has dtype object")
    if not o.flags.c_contiguous:
        raise param_value_error(f"out.{name} must be C-contiguous (shape {o.shape}, strides {o.strides})")
    if not o.flags.writeable:
        raise param_value_error(f"out.{name} is read-only")
    return o


@overload
def moe_re_routing(
    tokens: DeviceTensor,
    expert_token_num_per_rank: DeviceTensor,
    per_token_scales: Optional[DeviceTensor] = None,
    expert_topk_weight: Optional[DeviceTensor] = None,
    *,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    num_max_tokens_per_rank: Optional[int] = None,
    out: Sequence[DeviceTensor],
    tokens_dtype: None = None,
    scales_dtype: None = None,
    stream: StreamLike = None,
) -> MoeReRoutingDeviceResult: ...


@overload
def moe_re_routing(
    tokens: ArrayInput,
    expert_token_num_per_rank: ArrayInput,
    per_token_scales: Optional[ArrayInput] = None,
    expert_topk_weight: Optional[ArrayInput] = None,
    *,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    num_max_tokens_per_rank: Optional[int] = None,
    out: Optional[Sequence[np.ndarray]] = None,
    tokens_dtype: DtypeLike = None,
    scales_dtype: DtypeLike = None,
    stream: None = None,
) -> MoeReRoutingResult: ...


def moe_re_routing(
    tokens: Union[ArrayInput, DeviceTensor],
    expert_token_num_per_rank: Union[ArrayInput, DeviceTensor],
    per_token_scales: Union[ArrayInput, DeviceTensor, None] = None,
    expert_topk_weight: Union[ArrayInput, DeviceTensor, None] = None,
    *,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    num_max_tokens_per_rank: Optional[int] = None,
    out: Union[Sequence[np.ndarray], Sequence[DeviceTensor], None] = None,
    tokens_dtype: DtypeLike = None,
    scales_dtype: DtypeLike = None,
    stream: StreamLike = None,
) -> Union[MoeReRoutingResult, MoeReRoutingDeviceResult]:
    """Reorder tokens from rank-major to expert-major order (MoeReRouting, and MoeReRoutingV2 with
    ``expert_topk_weight``; docs/spec.md).

    Args:
        tokens: ``[A, H]`` float16, bfloat16 (``ml_dtypes.bfloat16``), int8, float8_e4m3fn,
            float8_e5m2, uint8, int16, uint16, float32 or int32. Packed fp4 and hifloat8 are passed as
            uint8 with ``tokens_dtype`` ("float4_e2m1" / "float4_e1m2": the array is ``[A, H/2]``,
            H = 2 * columns; "hifloat8": ``[A, H]``).
        expert_token_num_per_rank: ``[N, E]`` int32 or int64, values >= 0 summing to A.
        per_token_scales: optional ``[A]`` or ``[A, S]`` float32, or float8_e8m0
            (``ml_dtypes.float8_e8m0fnu``, or uint8 with ``scales_dtype="float8_e8m0"``).
        expert_topk_weight: optional float32 ``[A, 1]`` (as the official MoeReRoutingV2) or ``[A]``:
            a top-k weight per token, moved with it into ``permute_topk_weight`` (MoeReRoutingV2).
        expert_token_num_type: 1 count (default), 0 cumsum (inclusive running total) [ext].
        idx_type: 0 gather (default), 1 scatter [ext].
        num_max_tokens_per_rank: C >= 1 for static shapes (MoeReRoutingWithCapacity [ext],
            docs/spec.md "Static capacity"): ``tokens`` is ``[N*C, H]`` with rank r's tokens at rows
            ``r*C ..`` (the rest of each slot ignored), the counts' row sums at most C; every
            output keeps ``N*C`` rows: the T = counts.sum() tokens expert-major first, then zeros,
            and ``permute_token_idx`` is -1 on rows without a token. ``None`` (default): packed.
        out: optional preallocated outputs with the shapes/dtypes listed in
            :class:`MoeReRoutingResult`: the four outputs, and ``permute_topk_weight`` fifth when
            ``expert_topk_weight`` is given; C-contiguous and writeable. They are filled in place and
            returned (no new arrays are allocated).
        tokens_dtype / scales_dtype: name the ACL type of a uint8/raw-carried array.
        stream: only with :class:`DeviceTensor` arguments (see :func:`moe_re_routing_device`).

    Inputs may be numpy arrays, anything ``np.asarray`` accepts, DLPack host tensors
    (``__dlpack__``), or :class:`DeviceTensor` (then ``out`` is required and the result is a
    :class:`MoeReRoutingDeviceResult`; see :func:`moe_re_routing_device`). Non-contiguous numpy
    inputs are copied to a contiguous array first; on the CPU backend contiguous inputs and the
    outputs are used in place (zero-copy).

    Returns:
        :class:`MoeReRoutingResult` ``(permute_tokens, permute_per_token_scales, permute_token_idx,
        expert_token_num)`` with ``.permute_topk_weight`` (``None`` without weights).

    Raises:
        MoeReRoutingTypeError: bad container or dtype (also ``TypeError``).
        MoeReRoutingValueError: bad rank, shape, value, attribute (also ``ValueError``).
        MoeReRoutingNullError: a required argument is None (a ``TypeError``).
    """
    if isinstance(tokens, DeviceTensor) or isinstance(expert_token_num_per_rank, DeviceTensor):
        if out is None:
            raise param_type_error("out= (four DeviceTensor outputs) is required with DeviceTensor inputs")
        return moe_re_routing_device(
            tokens,  # type: ignore[arg-type]  # moe_re_routing_device checks every argument
            expert_token_num_per_rank,  # type: ignore[arg-type]
            per_token_scales,  # type: ignore[arg-type]
            expert_topk_weight,  # type: ignore[arg-type]
            expert_token_num_type=expert_token_num_type,
            idx_type=idx_type,
            num_max_tokens_per_rank=num_max_tokens_per_rank,
            out=out,  # type: ignore[arg-type]
            stream=stream,
        )
    if stream is not None:
        raise param_type_error("stream= applies to DeviceTensor arguments only; numpy calls are synchronous")
    capacity = None if num_max_tokens_per_rank is None else (_check_capacity(num_max_tokens_per_rank), False)
    return _host(
        tokens, expert_token_num_per_rank, per_token_scales, expert_topk_weight, expert_token_num_type,
        idx_type, out, tokens_dtype, scales_dtype, capacity,
    )  # fmt: skip


def _host(
    tokens: object,
    counts: object,
    scales: object,
    weights: object,
    expert_token_num_type: object,
    idx_type: object,
    out: object,
    tokens_dtype: DtypeLike,
    scales_dtype: DtypeLike,
    capacity: _Capacity,
) -> MoeReRoutingResult:
    """A host call: the one-call path when it can take the arguments, else the general one."""
    if tokens_dtype is None and scales_dtype is None:
        fast = _fast_host(tokens, counts, scales, weights, expert_token_num_type, idx_type, out, capacity)
        if fast is not None:
            return fast
    return _host_call(
        tokens, counts, scales, weights, expert_token_num_type, idx_type, out, tokens_dtype, scales_dtype,
        capacity,
    )  # fmt: skip


_OUTPUT_NAMES = (
    "permute_tokens",
    "permute_per_token_scales",
    "permute_token_idx",
    "expert_token_num",
    "permute_topk_weight",
)


def _host_outputs(
    t: np.ndarray, c: np.ndarray, s: Optional[np.ndarray], w: Optional[np.ndarray], out: object
) -> list[np.ndarray]:
    """The caller's ``out`` arrays, checked, or new ones: four, five with weights."""
    if out is None:
        return _new_outputs(t, c, s, w)
    n = 4 if w is None else 5
    if isinstance(out, (str, bytes)) or not isinstance(out, Sequence) or len(out) != n:
        raise param_type_error(
            f"out must be a sequence of {n} arrays ({', '.join(_OUTPUT_NAMES[:n])}), got "
            f"{type(out).__name__}{f' of {len(out)}' if isinstance(out, Sequence) else ''}"
        )
    return [_check_out(o, name) for o, name in zip(out, _OUTPUT_NAMES)]


def _weights_input(w: object) -> Optional[np.ndarray]:
    """expert_topk_weight as an array: float32 only (the check that names the weights)."""
    a = _as_input(w, "expert_topk_weight", False)
    if a is not None and a.dtype != np.float32:
        raise param_type_error(
            f"expert_topk_weight has dtype {a.dtype}; expected float32 ([A, 1] or [A])"
        )
    return a


def _host_call(
    tokens: object,
    counts: object,
    scales: object,
    weights: object,
    expert_token_num_type: object,
    idx_type: object,
    out: object,
    tokens_dtype: DtypeLike,
    scales_dtype: DtypeLike,
    capacity: _Capacity = None,
) -> MoeReRoutingResult:
    """The general host path: every argument converted and checked, then the aclnn calls."""
    ttype = _check_attr("expert_token_num_type", expert_token_num_type)
    itype = _check_attr("idx_type", idx_type)
    t = _required_input(tokens, "tokens")
    c = _required_input(counts, "expert_token_num_per_rank")
    s = _as_input(scales, "per_token_scales", False)
    w = _weights_input(weights)
    tspec = _dtypes.resolve("tokens", t.dtype, tokens_dtype, ROLE_TOKENS)
    cspec = _dtypes.resolve("expert_token_num_per_rank", c.dtype, None, ROLE_COUNTS)
    sspec = None if s is None else _dtypes.resolve("per_token_scales", s.dtype, scales_dtype, ROLE_SCALES)
    wspec = None if w is None else _dtypes.resolve("expert_topk_weight", w.dtype)
    if s is None and scales_dtype is not None:
        raise param_type_error("scales_dtype given but per_token_scales is None")
    o = _host_outputs(t, c, s, w, out)
    ow = o[4] if w is not None else None
    host: list[tuple[Optional[np.ndarray], Optional[DtypeSpec]]] = [
        (t, tspec),
        (c, cspec),
        (s, sspec),
        (w, wspec),
        (o[0], _dtypes.resolve("out.permute_tokens", o[0].dtype, tokens_dtype, ROLE_TOKENS)),
        (
            o[1],
            _dtypes.resolve(
                "out.permute_per_token_scales",
                o[1].dtype,
                scales_dtype if s is not None else None,
                ROLE_SCALES,
            ),
        ),
        (o[2], _dtypes.resolve("out.permute_token_idx", o[2].dtype)),
        (o[3], _dtypes.resolve("out.expert_token_num", o[3].dtype)),
        (ow, None if ow is None else _dtypes.resolve("out.permute_topk_weight", ow.dtype)),
    ]
    if backend.name == "cpu":
        # zero-copy: the arrays themselves are the tensors
        args = [None if arr is None or spec is None else _host_arg(arr, spec) for arr, spec in host]
        _launch(args, ttype, itype, as_stream(None), True, capacity)
    else:
        _run_staged(host, ttype, itype, capacity)
    return _result(o, ow)


_FIRST_OUTPUT = 4  # host/args index of permute_tokens (the order of aclnnMoeReRoutingV2)


def _run_staged(
    host: list[tuple[Optional[np.ndarray], Optional[DtypeSpec]]], ttype: int, itype: int, capacity: _Capacity
) -> None:
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
            if i < _FIRST_OUTPUT:
                memcpy(p, arr, arr.nbytes, "h2d")
            args.append(_host_arg(arr, spec)._replace(ptr=p))
        _launch(args, ttype, itype, as_stream(None), True, capacity)
        for i in range(_FIRST_OUTPUT, len(host)):
            arr = host[i][0]
            a = args[i]
            if arr is not None and a is not None:
                memcpy(arr, a.ptr, arr.nbytes, "d2h")
    finally:
        for p in ptrs:
            free(p)


# ---- device path -----------------------------------------------------------------------------------


def _dev_arg(x: object, name: str) -> _Arg:
    if not isinstance(x, DeviceTensor):
        raise param_type_error(f"{name} must be a DeviceTensor, got {type(x).__name__}")
    return _Arg(list(x.shape), None if x.strides is None else list(x.strides), x.spec, x.ptr)


def moe_re_routing_device(
    tokens: DeviceTensor,
    expert_token_num_per_rank: DeviceTensor,
    per_token_scales: Optional[DeviceTensor] = None,
    expert_topk_weight: Optional[DeviceTensor] = None,
    *,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    num_max_tokens_per_rank: Optional[int] = None,
    out: Sequence[DeviceTensor],
    stream: StreamLike = None,
) -> MoeReRoutingDeviceResult:
    """MoeReRouting (MoeReRoutingV2 with ``expert_topk_weight``, MoeReRoutingWithCapacity with
    ``num_max_tokens_per_rank``) on device buffers, with no host copies.

    Shapes and dtypes as in :func:`moe_re_routing` (DeviceTensor shapes are in elements, so fp4
    tokens are ``[A, H]``). ``out``: four DeviceTensors (permute_tokens, permute_per_token_scales,
    permute_token_idx, expert_token_num), and permute_topk_weight fifth with weights. ``stream``: an
    ``aclrtStream`` (int address or cffi pointer); the call is then asynchronous (synchronise the
    stream before reading the outputs), except that a non-zero workspace is released after a
    synchronise. With ``stream=None`` the call runs on this thread's default stream and returns after
    it has finished.

    Returns :class:`MoeReRoutingDeviceResult` of the ``out`` DeviceTensors.
    """
    ttype = _check_attr("expert_token_num_type", expert_token_num_type)
    itype = _check_attr("idx_type", idx_type)
    capacity = None if num_max_tokens_per_rank is None else (_check_capacity(num_max_tokens_per_rank), False)
    if tokens is None:
        raise param_null_error("tokens is required, got None")
    if expert_token_num_per_rank is None:
        raise param_null_error("expert_token_num_per_rank is required, got None")
    n = 4 if expert_topk_weight is None else 5
    if isinstance(out, (str, bytes)) or not isinstance(out, Sequence) or len(out) != n:
        names = ", ".join(_OUTPUT_NAMES[:n])
        raise param_type_error(f"out must be a sequence of {n} DeviceTensor outputs ({names})")
    outs = [_dev_arg(o, f"out.{name}") for o, name in zip(out, _OUTPUT_NAMES)]
    args: list[Optional[_Arg]] = [
        _dev_arg(tokens, "tokens"),
        _dev_arg(expert_token_num_per_rank, "expert_token_num_per_rank"),
        None if per_token_scales is None else _dev_arg(per_token_scales, "per_token_scales"),
        None if expert_topk_weight is None else _dev_arg(expert_topk_weight, "expert_topk_weight"),
        *outs[:4],
        outs[4] if n == 5 else None,
    ]
    _launch(args, ttype, itype, as_stream(stream), stream is None, capacity)
    result = MoeReRoutingDeviceResult(*out[:4])
    if n == 5:
        result.permute_topk_weight = out[4]
    return result


# ---- the restore -----------------------------------------------------------------------------------


class RestoreResult(NamedTuple):
    """What :func:`restore` returns, in the original rank-major order.

    tokens: ``[A, H]``, dtype of ``permute_tokens``.
    per_token_scales: shape and dtype of ``permute_per_token_scales``, or ``None`` when none given.
    topk_weight: shape and dtype of ``permute_topk_weight``, or ``None`` when none given.
    """

    tokens: np.ndarray
    per_token_scales: Optional[np.ndarray]
    topk_weight: Optional[np.ndarray]


def restore(
    permute_tokens: ArrayInput,
    expert_token_num_per_rank: ArrayInput,
    permute_per_token_scales: Optional[ArrayInput] = None,
    permute_topk_weight: Optional[ArrayInput] = None,
    *,
    num_max_tokens_per_rank: Optional[int] = None,
    tokens_dtype: DtypeLike = None,
    scales_dtype: DtypeLike = None,
) -> RestoreResult:
    """The inverse of :func:`moe_re_routing`: expert-major rows back in rank-major order.

    Re-routing with the transposed count matrix is the inverse (docs/spec.md, "The restore"): cell
    ``(r, e)`` starts at the column-major prefix in the expert-major layout, which is the row-major
    prefix of ``counts.T``, and vice versa. So this is the same operator called with
    ``expert_token_num_per_rank.T`` (made contiguous), ``per_token_scales`` =
    ``permute_per_token_scales`` and ``expert_topk_weight`` = ``permute_topk_weight``.

    Args:
        permute_tokens: ``[A, H]`` in expert-major order (any tokens dtype, as :func:`moe_re_routing`).
        expert_token_num_per_rank: the ``[N, E]`` counts of the forward call.
        permute_per_token_scales: optional ``[A]`` or ``[A, S]`` float32 / float8_e8m0.
        permute_topk_weight: optional float32 ``[A, 1]`` or ``[A]``.
        num_max_tokens_per_rank: C of a forward call with static capacity: the inputs are its
            ``[N*C, ...]`` outputs (tokens expert-major first) and each rank's tokens go back into
            its slot of C rows (rows ``r*C ..``), zeros in the rest of the slot, ready for the return
            AlltoAll. (MoeReRoutingWithCapacity with ``restore``, called with ``counts.T``.)
        tokens_dtype / scales_dtype: as for :func:`moe_re_routing`.

    Returns:
        :class:`RestoreResult` ``(tokens, per_token_scales, topk_weight)``.
    """
    c = _required_input(expert_token_num_per_rank, "expert_token_num_per_rank")
    if c.ndim != 2:
        raise param_value_error(f"expert_token_num_per_rank must be 2-D [N, E] but has shape {list(c.shape)}")
    capacity = None if num_max_tokens_per_rank is None else (_check_capacity(num_max_tokens_per_rank), True)
    res = _host(
        permute_tokens, np.ascontiguousarray(c.T), permute_per_token_scales, permute_topk_weight, 1, 0, None,
        tokens_dtype, scales_dtype, capacity,
    )  # fmt: skip
    scales = res.permute_per_token_scales if permute_per_token_scales is not None else None
    return RestoreResult(res.permute_tokens, scales, res.permute_topk_weight)
