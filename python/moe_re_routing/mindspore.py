"""MoeReRouting (and MoeReRoutingV2, with top-k weights) as a differentiable MindSpore custom
operator (docs/mindspore.md). Importing this module imports MindSpore.

On the CPU the operator is ``ops.Custom(func_type="aot")`` on ``libmoe_re_routing_mindspore.so``
(built by this package): C++ shape inference, the attributes as primitive attributes, the optional
scales as ``None``. :func:`moe_re_routing` works in PyNative mode and inside a GRAPH-mode ``Cell``;
:class:`MoeReRouting` is the same as a ``Cell``::

    import mindspore as ms
    from moe_re_routing.mindspore import moe_re_routing
    y, y_scales, idx, per_expert = moe_re_routing(tokens, counts, scales)   # ms.Tensor in, out
    y, y_scales, idx, per_expert, y_weights = moe_re_routing(tokens, counts, scales, weights)

The gradient with respect to tokens (float dtypes), the scales and the weights is the restore of
the upstream gradients: the same operator on them with the counts transposed (a registered bprop).

Static capacity (MoeReRoutingWithCapacity, docs/spec.md "Static capacity"):
``moe_re_routing(..., num_max_tokens_per_rank=C)`` takes tokens ``[N*C, H]`` in per-rank slots and
returns ``N*C`` rows; :func:`restore` ``(..., num_max_tokens_per_rank=C)`` is its inverse. Each one's
gradient is the other (CPU only: the OPP package has no MoeReRoutingWithCapacity operator yet).

On Ascend (``device_target="Ascend"``) the primitive is ``ops.Custom("aclnnMoeReRouting",
func_type="aot")``, MindSpore's route to the aclnn operator of an installed OPP package
(``build.sh package``); written to MindSpore's documented interface, untested here (no NPU).
"""

from __future__ import annotations

import threading
from typing import Any, Optional

import mindspore as ms
import numpy as np
from mindspore import ops
from mindspore.ops import constexpr

from . import _integrations
from .errors import param_type_error, param_value_error

__all__ = [
    "ACLNN_FUNC",
    "ACLNN_FUNC_V2",
    "OP_NAME",
    "OP_NAME_CAPACITY",
    "OP_NAME_V2",
    "MoeReRouting",
    "available",
    "capacity_op",
    "custom_op",
    "library_path",
    "moe_re_routing",
    "restore",
    "tensor",
    "to_numpy",
]

OP_NAME = "MoeReRouting"  # the library's entry point (and its Init / InferShape companions)
OP_NAME_V2 = "MoeReRoutingV2"  # the same with the weight pair
ACLNN_FUNC = "aclnnMoeReRouting"  # the Ascend route: the OPP package's aclnn entry point
ACLNN_FUNC_V2 = "aclnnMoeReRoutingV2"
OP_NAME_CAPACITY = "MoeReRoutingWithCapacity"  # V2's tensors on per-rank slots (CPU only)
_INPUTS = ("tokens", "expert_token_num_per_rank", "per_token_scales")
_OUTPUTS = ("permute_tokens", "permute_per_token_scales", "permute_token_idx", "expert_token_num")
_INPUTS_V2 = (*_INPUTS, "expert_topk_weight")
_OUTPUTS_V2 = (*_OUTPUTS, "permute_topk_weight")
_ATTRS = ("expert_token_num_type", "idx_type")
# Tell the library's C++ shape inference which optional inputs are given: MindSpore passes it the
# shapes of the given inputs only, without their count.
_HAS_SCALES_ATTR = "has_per_token_scales"
_HAS_WEIGHTS_ATTR = "has_expert_topk_weight"
# The restore primitive (CPU): the library runs it on the transposed counts itself, so that the
# bprop needs no MindSpore operator besides the primitive.
_TRANSPOSE_COUNTS_ATTR = "transpose_counts"
_CAPACITY_ATTRS = ("num_max_tokens_per_rank", "restore")  # MoeReRoutingWithCapacity's own
_FLOAT_DTYPES = (ms.float16, ms.bfloat16, ms.float32, ms.float64)


def library_path() -> str:
    """Path of the AOT library (``$MOE_RE_ROUTING_MS_LIBRARY`` overrides)."""
    return _integrations.library_path("mindspore")


def available() -> Optional[str]:
    """None when the integration can be used, else the reason (``moe-re-routing info`` shows it)."""
    return _integrations.status("mindspore")


def _out_dtype(tokens: Any, counts: Any, scales: Any) -> tuple[Any, Any, Any, Any]:
    # An absent per_token_scales arrives as None: the scales output is then float32 [A] zeros.
    scales_out = scales if isinstance(scales, ms.dtype.TensorType) else ms.float32
    return (tokens, scales_out, ms.int32, counts)


def _out_dtype_v2(tokens: Any, counts: Any, scales: Any, weights: Any) -> tuple[Any, Any, Any, Any, Any]:
    return (*_out_dtype(tokens, counts, scales), weights)


def _reg_info(target: str, attrs: tuple[int, int], v2: bool, name: Optional[str] = None) -> Any:
    inputs, outputs = (_INPUTS_V2, _OUTPUTS_V2) if v2 else (_INPUTS, _OUTPUTS)
    reg = ops.CustomRegOp(name or (OP_NAME_V2 if v2 else OP_NAME))
    for i, name in enumerate(inputs):
        reg = reg.input(i, name, "required" if i < 2 else "optional")
    for i, name in enumerate(outputs):
        reg = reg.output(i, name)
    if target == "Ascend":  # the aclnn route takes the attributes, in order, from the registration
        for name, value in zip(_ATTRS, attrs):
            reg = reg.attr(name, "required", "int", value=value)
    any_type = [ops.DataType.None_None] * (len(inputs) + len(outputs))
    return reg.dtype_format(*any_type).target(target).get_op_info()


# (device target, expert_token_num_type, idx_type, has_scales, has_weights, restore) -> primitive
_ops: dict[tuple[str, int, int, bool, bool, bool], Any] = {}
_ops_lock = threading.RLock()


@constexpr
def _is_float(dtype: Any) -> bool:
    """Whether tokens of ``dtype`` get a gradient (a constant when GRAPH mode compiles a bprop)."""
    return dtype in _FLOAT_DTYPES


def _make_bprop(has_scales: bool, has_weights: bool, inverse: Any = None) -> Any:
    """The gradient of the operator: the restore of the upstream gradients of permute_tokens, the
    scales and the weights, i.e. the operator on them with the counts transposed (docs/spec.md,
    "The restore"), by the restore primitive (no bprop; on the CPU it transposes the counts
    itself). Integer tokens and the counts get zeros; an input given as None gets None.
    ``inverse``: the primitive that computes it instead (the capacity pair, each the other's
    inverse; CPU, called with the counts as they are)."""
    restore = _primitive(1, 0, has_scales, has_weights, restore=True) if inverse is None else inverse
    on_ascend = inverse is None and ms.get_context("device_target") == "Ascend"

    def grads(tokens: Any, counts: Any, dout: Any) -> Any:
        transposed = ops.transpose(counts, (1, 0)) if on_ascend else counts
        if has_weights:
            back = restore(dout[0], transposed, dout[1] if has_scales else None, dout[4])
        else:
            back = restore(dout[0], transposed, dout[1] if has_scales else None)
        grad_tokens = back[0] if _is_float(tokens.dtype) else ops.zeros_like(tokens)
        return back, grad_tokens, ops.zeros_like(counts)

    if has_weights:

        def bprop_v2(tokens: Any, counts: Any, scales: Any, weights: Any, out: Any, dout: Any) -> Any:
            back, grad_tokens, grad_counts = grads(tokens, counts, dout)
            return grad_tokens, grad_counts, back[1] if has_scales else None, back[4]

        return bprop_v2

    def bprop(tokens: Any, counts: Any, scales: Any, out: Any, dout: Any) -> Any:
        back, grad_tokens, grad_counts = grads(tokens, counts, dout)
        return grad_tokens, grad_counts, back[1] if has_scales else None

    return bprop


def _primitive(
    expert_token_num_type: int, idx_type: int, has_scales: bool, has_weights: bool, restore: bool = False
) -> Any:
    """The primitive (with its bprop), or with ``restore`` the one the bprop runs (no bprop; on the
    CPU it runs on the transposed counts)."""
    target = ms.get_context("device_target")
    key = (
        target, int(expert_token_num_type), int(idx_type), bool(has_scales), bool(has_weights), bool(restore)
    )  # fmt: skip
    with _ops_lock:
        op = _ops.get(key)
        if op is None:
            v2 = key[4]
            out_dtype = _out_dtype_v2 if v2 else _out_dtype
            bprop = None if restore else _make_bprop(key[3], key[4])
            reg = _reg_info(target if target == "Ascend" else "CPU", key[1:3], v2)
            if target == "Ascend":
                func = ACLNN_FUNC_V2 if v2 else ACLNN_FUNC
                op = ops.Custom(func, None, out_dtype, func_type="aot", bprop=bprop, reg_info=reg)
            else:
                func = f"{library_path()}:{OP_NAME_V2 if v2 else OP_NAME}"
                op = ops.Custom(func, None, out_dtype, func_type="aot", bprop=bprop, reg_info=reg)
                op.add_prim_attr(_ATTRS[0], key[1])  # read by MoeReRouting(V2)Init
                op.add_prim_attr(_ATTRS[1], key[2])
                op.add_prim_attr(_HAS_SCALES_ATTR, int(key[3]))  # read by MoeReRouting(V2)InferShape
                if v2:
                    op.add_prim_attr(_HAS_WEIGHTS_ATTR, 1)
                if restore:
                    op.add_prim_attr(_TRANSPOSE_COUNTS_ATTR, 1)  # read by Init and InferShape
            _ops[key] = op
    return op


# (expert_token_num_type, idx_type, has_scales, has_weights, C, restore, with bprop) -> primitive
_capacity_ops: dict[tuple[int, int, bool, bool, int, bool, bool], Any] = {}


def _capacity_primitive(
    expert_token_num_type: int, idx_type: int, has_scales: bool, has_weights: bool, capacity: int,
    restore: bool, with_bprop: bool = True,
) -> Any:  # fmt: skip
    """The CPU primitive of MoeReRoutingWithCapacity: forward, or with ``restore`` the inverse (the
    attribute restore = 1 on the transposed counts, which the library transposes itself, so both
    take the forward's ``[N, E]`` counts). ``with_bprop``: the gradient is the other direction
    (that one without a bprop). Without weights it has V1's 3 inputs and 4 outputs."""
    if ms.get_context("device_target") == "Ascend":
        raise param_value_error(
            "num_max_tokens_per_rank: MoeReRoutingWithCapacity runs on the CPU only (the OPP package "
            "has no MoeReRoutingWithCapacity operator yet)"
        )
    key = (
        int(expert_token_num_type), int(idx_type), bool(has_scales), bool(has_weights), int(capacity),
        bool(restore), bool(with_bprop),
    )  # fmt: skip
    with _ops_lock:
        op = _capacity_ops.get(key)
        if op is None:
            bprop = None
            if with_bprop:
                inverse = _capacity_primitive(1, 0, key[2], key[3], key[4], not key[5], with_bprop=False)
                bprop = _make_bprop(key[2], key[3], inverse)
            out_dtype = _out_dtype_v2 if has_weights else _out_dtype
            func = f"{library_path()}:{OP_NAME_CAPACITY}"
            # MindSpore keeps one registration per name: the 3 + 4 form gets its own.
            reg_name = OP_NAME_CAPACITY if key[3] else f"{OP_NAME_CAPACITY}_without_weights"
            reg = _reg_info("CPU", (key[0], key[1]), key[3], reg_name)
            op = ops.Custom(func, None, out_dtype, func_type="aot", bprop=bprop, reg_info=reg)
            op.add_prim_attr(_ATTRS[0], key[0])  # read by MoeReRoutingWithCapacityInit
            op.add_prim_attr(_ATTRS[1], key[1])
            op.add_prim_attr(_CAPACITY_ATTRS[0], key[4])
            op.add_prim_attr(_CAPACITY_ATTRS[1], int(key[5]))
            op.add_prim_attr(_TRANSPOSE_COUNTS_ATTR, int(key[5]))
            op.add_prim_attr(_HAS_SCALES_ATTR, int(key[2]))  # read by MoeReRoutingWithCapacityInferShape
            op.add_prim_attr(_HAS_WEIGHTS_ATTR, int(key[3]))  # and by Init: 3 + 4 or 4 + 5 parameters
            _capacity_ops[key] = op
    return op


def capacity_op(
    num_max_tokens_per_rank: int,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    has_scales: bool = True,
    has_weights: bool = False,
    restore: bool = False,
) -> Any:
    """The ``ops.Custom`` primitive of MoeReRoutingWithCapacity (CPU): ``"<lib>:MoeReRoutingWithCapacity"``
    for one C (``num_max_tokens_per_rank``), attribute pair, ``has_scales`` / ``has_weights`` (with
    weights 4 inputs and 5 outputs, else 3 and 4) and direction (``restore``: the inverse, called
    with the forward's counts). Its bprop is the other direction.

    Raises:
        MoeReRoutingTypeError: an attribute is not an int (``restore`` not a bool).
        MoeReRoutingValueError: the device target is Ascend (no such operator in the OPP package).
    """
    _check_int_attrs(expert_token_num_type, idx_type)
    _check_capacity(num_max_tokens_per_rank)
    if not isinstance(restore, bool):
        raise param_type_error(f"restore must be a bool, got {type(restore).__name__}")
    return _capacity_primitive(
        expert_token_num_type, idx_type, has_scales, has_weights, num_max_tokens_per_rank, restore
    )


def _check_int_attrs(expert_token_num_type: Any, idx_type: Any) -> None:
    for name, value in zip(_ATTRS, (expert_token_num_type, idx_type)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise param_type_error(f"{name} must be an int, got {type(value).__name__}")


def _check_capacity(value: Any) -> None:
    """C must be an int (its range is the operator's check: >= 1, tokens rows N * C)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise param_type_error(f"num_max_tokens_per_rank must be an int, got {type(value).__name__}")


def custom_op(
    expert_token_num_type: int = 1, idx_type: int = 0, has_scales: bool = True, has_weights: bool = False
) -> Any:
    """The ``ops.Custom`` primitive for one attribute pair (cached per device target, pair,
    ``has_scales``: whether it will be called with a per_token_scales tensor or with None, and
    ``has_weights``: MoeReRoutingV2, called with an expert_topk_weight tensor, five outputs).

    CPU: ``"<libmoe_re_routing_mindspore.so>:MoeReRouting"`` (``:MoeReRoutingV2``); output shapes
    come from the library's ``MoeReRouting(V2)InferShape`` (``out_shape=None`` + ``reg_info``), the
    attributes (``add_prim_attr``) are read by its ``MoeReRouting(V2)Init``. Ascend:
    ``"aclnnMoeReRouting"`` (``"aclnnMoeReRoutingV2"``) with the attributes in ``reg_info``
    (untested here: no NPU). Attribute values are range-checked by the operator when it runs. The
    primitive carries the bprop (the restore of the upstream gradients).

    Raises:
        MoeReRoutingTypeError: an attribute is not an int.
    """
    _check_int_attrs(expert_token_num_type, idx_type)
    return _primitive(expert_token_num_type, idx_type, has_scales, has_weights)


# What MindSpore takes as a tensor input: ms.Tensor and its C++ base TensorPy (what
# ms.Tensor.convert_bytes_to_tensor, and so tensor() below, returns).
_TENSOR_TYPES: tuple[type, ...] = tuple(
    {ms.Tensor, getattr(getattr(ms, "_c_expression", None), "TensorPy", ms.Tensor)}
)


def _check_tensors(tokens: Any, counts: Any, scales: Any, weights: Any = None) -> None:
    """Raises MoeReRoutingTypeError unless tokens and counts are ``ms.Tensor`` and scales and
    weights one or None. MindSpore hands a custom operator's inputs that are not tensors (numpy
    arrays, lists) to its shape inference without a shape (the library's InferShape then reads a
    null pointer), so they must be stopped here. PyNative only: see :func:`_pynative`."""
    if not isinstance(tokens, _TENSOR_TYPES):
        raise param_type_error(_not_a_tensor("tokens", tokens, False))
    if not isinstance(counts, _TENSOR_TYPES):
        raise param_type_error(_not_a_tensor("expert_token_num_per_rank", counts, False))
    if scales is not None and not isinstance(scales, _TENSOR_TYPES):
        raise param_type_error(_not_a_tensor("per_token_scales", scales, True))
    if weights is not None and not isinstance(weights, _TENSOR_TYPES):
        raise param_type_error(_not_a_tensor("expert_topk_weight", weights, True))


@constexpr
def _pynative() -> bool:
    """True in PyNative mode. A constant when GRAPH mode compiles a caller, which drops the checks
    (a graph cannot raise this package's exceptions, and its inputs are tensors already)."""
    return bool(ms.get_context("mode") == ms.PYNATIVE_MODE)


def _not_a_tensor(name: str, value: Any, optional: bool) -> str:
    return (
        f"{name} must be a mindspore.Tensor{' or None' if optional else ''}, got {type(value).__name__}; "
        "convert a numpy array with moe_re_routing.mindspore.tensor(array)"
    )


@constexpr
def _compile_time_op(expert_token_num_type: int, idx_type: int, has_scales: bool, has_weights: bool) -> Any:
    """:func:`custom_op`, evaluated in Python when GRAPH mode compiles a caller of moe_re_routing."""
    return custom_op(expert_token_num_type, idx_type, has_scales, has_weights)


@constexpr
def _compile_time_capacity_op(
    capacity: int, expert_token_num_type: int, idx_type: int, has_scales: bool, has_weights: bool,
    restore: bool,
) -> Any:  # fmt: skip
    """:func:`capacity_op`, evaluated in Python when GRAPH mode compiles a caller."""
    return capacity_op(capacity, expert_token_num_type, idx_type, has_scales, has_weights, restore)


def moe_re_routing(
    tokens: Any,
    expert_token_num_per_rank: Any,
    per_token_scales: Any = None,
    expert_topk_weight: Any = None,
    *,
    expert_token_num_type: int = 1,
    idx_type: int = 0,
    num_max_tokens_per_rank: Optional[int] = None,
) -> Any:
    """Reorder rank-major tokens expert-major (PyNative, or inside a GRAPH-mode ``Cell``).

    Args:
        tokens: ``ms.Tensor [A, H]``: int8, uint8, int16, uint16, int32, float16, bfloat16,
            float32, float8_e4m3fn, float8_e5m2 or hifloat8.
        expert_token_num_per_rank: ``ms.Tensor [N, E]``, int32 or int64, summing to A.
        per_token_scales: ``ms.Tensor [A]`` or ``[A, S]`` float32, or None.
        expert_topk_weight: ``ms.Tensor [A, 1]`` or ``[A]`` float32 (MoeReRoutingV2), or None.
        expert_token_num_type: 1 count (default), 0 cumsum.
        idx_type: 0 gather (default), 1 scatter.
        num_max_tokens_per_rank: C (an int): MoeReRoutingWithCapacity (CPU). tokens (and the
            scales and weights) have ``N*C`` rows, rank r's tokens at rows ``r*C ..`` (the rest of
            each slot is ignored); the outputs have ``N*C`` rows, the T tokens expert-major first,
            then zeros, permute_token_idx -1 where no token is (docs/spec.md, "Static capacity").
            Its gradient is :func:`restore` with C of the upstream gradients (rows back into their
            slots, zeros in the slot tails).

    Returns:
        ``(permute_tokens [A, H], permute_per_token_scales (as per_token_scales, or float32 [A]
        zeros), permute_token_idx int32 [A], expert_token_num [E] (dtype of the counts))``, each a
        ``ms.Tensor`` (docs/spec.md); with ``expert_topk_weight`` a fifth, ``permute_topk_weight``
        (the weights in expert-major order, their shape).

    Gradient (``mindspore.grad``, PyNative and GRAPH): with respect to tokens (float dtypes), the
    scales and the weights it is the restore of the upstream gradients of permute_tokens, the
    scales output and permute_topk_weight: the operator on them with the counts transposed. Integer
    tokens and the counts get zeros.

    Raises:
        MoeReRoutingTypeError: (PyNative) ``tokens`` or ``expert_token_num_per_rank`` is not an
            ``ms.Tensor``, or ``per_token_scales`` is neither one nor None: a numpy array is not
            converted by MindSpore for a custom operator (it reaches the shape inference with no
            shape); convert it with :func:`tensor`.
        RuntimeError: raised by MindSpore for bad input, carrying the operator's message (e.g.
            ``expert_token_num_per_rank sums to 70 but tokens has 64 rows``); nothing is written.
    """
    if _pynative():
        _check_tensors(tokens, expert_token_num_per_rank, per_token_scales, expert_topk_weight)
    has_scales = per_token_scales is not None
    if num_max_tokens_per_rank is not None:
        return _run_capacity(
            tokens, expert_token_num_per_rank, per_token_scales, expert_topk_weight, num_max_tokens_per_rank,
            expert_token_num_type, idx_type, False,
        )  # fmt: skip
    if expert_topk_weight is None:
        op = _compile_time_op(expert_token_num_type, idx_type, has_scales, False)
        return op(tokens, expert_token_num_per_rank, per_token_scales)
    op = _compile_time_op(expert_token_num_type, idx_type, has_scales, True)
    return op(tokens, expert_token_num_per_rank, per_token_scales, expert_topk_weight)


def _run_capacity(
    tokens: Any, counts: Any, scales: Any, weights: Any, capacity: int, ett: int, idx: int, restore: bool
) -> Any:
    has_scales = scales is not None
    if weights is None:
        op = _compile_time_capacity_op(capacity, ett, idx, has_scales, False, restore)
        return op(tokens, counts, scales)
    op = _compile_time_capacity_op(capacity, ett, idx, has_scales, True, restore)
    return op(tokens, counts, scales, weights)


def restore(
    permute_tokens: Any,
    expert_token_num_per_rank: Any,
    permute_per_token_scales: Any = None,
    permute_topk_weight: Any = None,
    *,
    num_max_tokens_per_rank: int,
) -> Any:
    """The inverse of ``moe_re_routing(..., num_max_tokens_per_rank=C)`` (CPU; PyNative, or inside
    a GRAPH-mode ``Cell``): MoeReRoutingWithCapacity with ``restore``, on the transposed counts.

    Args:
        permute_tokens: ``ms.Tensor [N*C, H]``, the forward's output (tokens expert-major first;
            the rows past T are ignored).
        expert_token_num_per_rank: the forward's ``[N, E]`` counts (transposed by the operator's
            library, not by the caller).
        permute_per_token_scales / permute_topk_weight: the forward's scales / weights outputs, or
            None.
        num_max_tokens_per_rank: C of the forward call.

    Returns:
        The operator's outputs: ``(tokens [N*C, H] with rank r's tokens back at rows r*C .. and
        zeros in the rest of its slot, per_token_scales (likewise, or float32 zeros), the index,
        the per-rank counts [N])``, and with ``permute_topk_weight`` a fifth, the weights back in
        their slots.

    Gradient: ``moe_re_routing(..., num_max_tokens_per_rank=C)`` of the upstream gradients.

    Raises:
        MoeReRoutingTypeError: (PyNative) an input is not an ``ms.Tensor`` (or None where
            optional), or C is not an int.
        RuntimeError: raised by MindSpore for bad input, carrying the operator's message (e.g. a
            slot over capacity).
    """
    if _pynative():
        _check_tensors(
            permute_tokens, expert_token_num_per_rank, permute_per_token_scales, permute_topk_weight
        )
    return _run_capacity(
        permute_tokens, expert_token_num_per_rank, permute_per_token_scales, permute_topk_weight,
        num_max_tokens_per_rank, 1, 0, True,
    )  # fmt: skip


class MoeReRouting(ms.nn.Cell):
    """``nn.Cell`` running the operator (GRAPH or PyNative mode).

    ``MoeReRouting(expert_token_num_type=1, idx_type=0)(tokens, counts, per_token_scales=None,
    expert_topk_weight=None)`` returns the same four (five with weights) tensors as
    :func:`moe_re_routing`, with the same gradient, and raises the same ``MoeReRoutingTypeError``
    for inputs that are not ``ms.Tensor`` (PyNative).
    """

    def __init__(self, expert_token_num_type: int = 1, idx_type: int = 0) -> None:
        super().__init__()
        self.op_with_scales = custom_op(expert_token_num_type, idx_type, True)
        self.op_without_scales = custom_op(expert_token_num_type, idx_type, False)
        self.op_v2_with_scales = custom_op(expert_token_num_type, idx_type, True, True)
        self.op_v2_without_scales = custom_op(expert_token_num_type, idx_type, False, True)

    def construct(
        self, tokens: Any, counts: Any, per_token_scales: Any = None, expert_topk_weight: Any = None
    ) -> Any:
        if _pynative():  # numpy arrays are not converted to tensors there
            _check_tensors(tokens, counts, per_token_scales, expert_topk_weight)
        if expert_topk_weight is None:
            if per_token_scales is None:
                return self.op_without_scales(tokens, counts, None)
            return self.op_with_scales(tokens, counts, per_token_scales)
        if per_token_scales is None:
            return self.op_v2_without_scales(tokens, counts, None, expert_topk_weight)
        return self.op_v2_with_scales(tokens, counts, per_token_scales, expert_topk_weight)


# ---- numpy <-> ms.Tensor, bit-exact also for the types MindSpore's numpy bridge does not take ------


def tensor(array: np.ndarray, dtype: Optional[str] = None) -> Any:
    """A ``ms.Tensor`` holding the bytes of ``array``, bit-exact: bf16 / fp8 from ``ml_dtypes``
    arrays, hifloat8 from uint8 bytes with ``dtype="hifloat8"``."""
    arr = np.ascontiguousarray(array)
    name = dtype if dtype is not None else arr.dtype.name
    ms_dtype = getattr(ms, name, None)
    if not isinstance(ms_dtype, ms.dtype.Type):
        raise param_type_error(f"tensor: dtype {name} has no MindSpore counterpart")
    return ms.Tensor.convert_bytes_to_tensor(arr.tobytes(), arr.shape, ms_dtype)


def to_numpy(t: Any) -> np.ndarray:
    """A numpy copy of a ``ms.Tensor``: bf16 / fp8 as ``ml_dtypes`` arrays, hifloat8 as uint8 bytes."""
    import ml_dtypes

    carriers = {
        "bfloat16": ml_dtypes.bfloat16, "float8e4m3fn": ml_dtypes.float8_e4m3fn,
        "float8e5m2": ml_dtypes.float8_e5m2, "hifloat8": np.uint8,
    }  # fmt: skip
    carrier = carriers.get(str(t.dtype).lower())
    if carrier is None:
        return np.array(t.asnumpy(), copy=True)
    return np.frombuffer(t.get_bytes(), dtype=carrier).reshape(tuple(t.shape)).copy()
