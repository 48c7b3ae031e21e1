"""MoeReRouting, MoeReRoutingV2 and MoeReRoutingWithCapacity as ONNX Runtime custom operators
(docs/onnxruntime.md).

The node: op type ``MoeReRouting`` in the custom domain ``moe_re_routing`` (version 1); inputs
``tokens [A, H]``, ``expert_token_num_per_rank [N, E]`` (int32/int64), optional
``per_token_scales [A]`` or ``[A, S]`` (float32); int attributes ``expert_token_num_type``
(default 1) and ``idx_type`` (default 0); outputs ``permute_tokens``, ``permute_per_token_scales``,
``permute_token_idx``, ``expert_token_num`` (types and shapes inferred: graph outputs need no
annotations). ``MoeReRoutingV2`` (``make_node(..., v2=True)``) is the same node with an optional
4th input ``expert_topk_weight`` (float32 ``[A, 1]`` or ``[A]``) and an optional 5th output
``permute_topk_weight``, given together or not at all. ``MoeReRoutingWithCapacity``
(``make_node(..., num_max_tokens_per_rank=C, restore=False)``) is the V2 node on fixed per-rank
slots of ``C`` rows (docs/spec.md, "Static capacity"): int attribute ``num_max_tokens_per_rank``
(required) and ``restore`` (0 forward, default; 1 the inverse, fed the transposed counts). All run
in ``onnxruntime`` through
``libmoe_re_routing_onnxruntime.so`` (built by this package) and are the nodes the ATC plugin
(``framework/onnx_plugin/``) maps to the CANN operators.

    import onnxruntime as ort
    from moe_re_routing import onnxruntime as mrr_ort
    node = mrr_ort.make_node(["tokens", "counts", "scales"], ["y", "y_scales", "idx", "per_expert"])
    model = onnx.helper.make_model(graph, opset_imports=mrr_ort.opset_imports())
    sess = ort.InferenceSession(model.SerializeToString(), mrr_ort.session_options())

Only ``onnx`` (for :func:`make_node`, :func:`opset_imports`, :func:`for_atc`) and ``onnxruntime``
(for :func:`session_options`, :func:`ortvalue`, :func:`to_numpy`) are imported on use.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from . import _integrations
from .errors import param_type_error, param_value_error

__all__ = [
    "ATTRIBUTES",
    "CAPACITY_ATTRIBUTES",
    "DOMAIN",
    "DOMAIN_VERSION",
    "INPUTS",
    "INPUTS_V2",
    "OP_TYPE",
    "OP_TYPE_CAPACITY",
    "OP_TYPE_V2",
    "OUTPUTS",
    "OUTPUTS_V2",
    "available",
    "for_atc",
    "library_path",
    "make_node",
    "opset_imports",
    "ortvalue",
    "session_options",
    "to_numpy",
]

# The node; framework/onnx_plugin/moe_re_routing_onnx_node.h holds the same values for the C++
# side (ONNX Runtime library and ATC plugin) and a test checks that they agree.
DOMAIN = "moe_re_routing"
DOMAIN_VERSION = 1
OP_TYPE = "MoeReRouting"
INPUTS = ("tokens", "expert_token_num_per_rank", "per_token_scales")
OUTPUTS = ("permute_tokens", "permute_per_token_scales", "permute_token_idx", "expert_token_num")
OP_TYPE_V2 = "MoeReRoutingV2"  # the same attributes; the weight pair is optional, both or neither
INPUTS_V2 = (*INPUTS, "expert_topk_weight")
OUTPUTS_V2 = (*OUTPUTS, "permute_topk_weight")
ATTRIBUTES = {"expert_token_num_type": 1, "idx_type": 0}  # name -> default
# MoeReRoutingWithCapacity: V2's inputs, outputs and ATTRIBUTES, plus these two (name -> default;
# num_max_tokens_per_rank has none: the node must carry it).
OP_TYPE_CAPACITY = "MoeReRoutingWithCapacity"
CAPACITY_ATTRIBUTES: dict[str, Optional[int]] = {"num_max_tokens_per_rank": None, "restore": 0}

DEFAULT_ONNX_OPSET = 17
_ONNX_DEFAULT_DOMAIN_ALIAS = "ai.onnx"
_FLOAT4E2M1 = 23  # onnx.TensorProto.FLOAT4E2M1: two elements a byte


def library_path() -> str:
    """Path of the custom-operator library (``$MOE_RE_ROUTING_ORT_LIBRARY`` overrides).

    Raises:
        FileNotFoundError: the package was built without the ONNX Runtime headers (see
            ``framework/onnxruntime/fetch_headers.sh``; reinstall after running it).
    """
    return _integrations.library_path("onnxruntime")


def available() -> Optional[str]:
    """None when the integration can be used, else the reason (``moe-re-routing info`` shows it)."""
    return _integrations.status("onnxruntime")


def make_node(
    inputs: Sequence[Optional[str]],
    outputs: Sequence[Optional[str]],
    *,
    name: Optional[str] = None,
    v2: bool = False,
    num_max_tokens_per_rank: Optional[int] = None,
    restore: bool = False,
    **attrs: int,
) -> Any:
    """An ``onnx.NodeProto`` of the MoeReRouting node, or with ``v2=True`` of MoeReRoutingV2, or
    with ``num_max_tokens_per_rank`` of MoeReRoutingWithCapacity (V2's inputs and outputs).

    Args:
        inputs: value names: tokens, expert_token_num_per_rank[, per_token_scales] (MoeReRouting:
            2 or 3); V2 also takes a 4th, expert_topk_weight (2 to 4). A None or ``""`` optional
            input means it is not given (e.g. ``[t, c, None, w]``: weights without scales).
        outputs: 4 value names (permute_tokens, permute_per_token_scales, permute_token_idx,
            expert_token_num); V2 takes a 5th, permute_topk_weight, which it needs exactly when
            expert_topk_weight is given.
        name: the node name (optional).
        v2: build a ``MoeReRoutingV2`` node.
        num_max_tokens_per_rank: C (an int): build a ``MoeReRoutingWithCapacity`` node with this
            attribute (``v2`` is then implied): tokens ``[N*C, H]``, rank r's tokens at rows
            ``r*C ..``; the outputs have ``N*C`` rows.
        restore: (with ``num_max_tokens_per_rank``) the attribute ``restore = 1``: the inverse,
            whose counts input is the forward's counts transposed (``[E, N]``).
        attrs: ``expert_token_num_type`` / ``idx_type`` (ints); absent ones take the defaults.

    Raises:
        MoeReRoutingTypeError / MoeReRoutingValueError: unknown attribute, non-int value, wrong
        number of inputs or outputs, a V2 weight input without the weight output or the other way
        round, ``restore`` without ``num_max_tokens_per_rank`` (the value ranges are checked by
        the operator at run time).
    """
    from onnx import helper

    if not isinstance(v2, bool):
        raise param_type_error(f"make_node: v2 must be a bool, got {type(v2).__name__}")
    if not isinstance(restore, bool):
        raise param_type_error(f"make_node: restore must be a bool, got {type(restore).__name__}")
    capacity = num_max_tokens_per_rank is not None
    if capacity and (
        isinstance(num_max_tokens_per_rank, bool)
        or not isinstance(num_max_tokens_per_rank, (int, np.integer))
    ):
        raise param_type_error(
            f"make_node: num_max_tokens_per_rank must be an int, got {type(num_max_tokens_per_rank).__name__}"
        )
    if restore and not capacity:
        raise param_value_error(
            "make_node: restore=True is an attribute of MoeReRoutingWithCapacity: give "
            "num_max_tokens_per_rank too (without capacity the restore is the same node fed the "
            "transposed counts)"
        )
    v2 = v2 or capacity
    for key, value in attrs.items():
        if key not in ATTRIBUTES:
            raise param_type_error(
                f"make_node: unknown attribute {key!r}; expected one of {sorted(ATTRIBUTES)}"
            )
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise param_type_error(f"make_node: attribute {key} must be an int, got {type(value).__name__}")
    op_type, input_spec = (OP_TYPE_V2, INPUTS_V2) if v2 else (OP_TYPE, INPUTS)
    if capacity:
        op_type = OP_TYPE_CAPACITY
    names = ["" if v is None else str(v) for v in inputs]
    if not 2 <= len(names) <= len(input_spec) or not names[0] or not names[1]:
        optional = ", ".join(input_spec[2:])
        raise param_value_error(
            f"make_node: inputs must be [tokens, expert_token_num_per_rank] followed by at most "
            f"{len(input_spec) - 2} optional ({optional}) for {op_type}, got {list(inputs)!r}"
        )
    outs = ["" if v is None else str(v) for v in outputs]
    while len(outs) > len(OUTPUTS) and outs[-1] == "":  # an absent optional 5th output
        outs.pop()
    if len(outs) not in ((len(OUTPUTS), len(OUTPUTS_V2)) if v2 else (len(OUTPUTS),)) or not all(outs):
        expected = f"4 or 5 names {OUTPUTS_V2}" if v2 else f"{len(OUTPUTS)} names {OUTPUTS}"
        raise param_value_error(f"make_node: outputs must be {expected} for {op_type}, got {list(outputs)!r}")
    if v2:
        has_weights = len(names) == len(INPUTS_V2) and names[-1] != ""
        if has_weights != (len(outs) == len(OUTPUTS_V2)):
            given, missing = (
                ("the input expert_topk_weight", "the output permute_topk_weight")
                if has_weights
                else ("the output permute_topk_weight", "the input expert_topk_weight")
            )
            raise param_value_error(
                f"make_node: {op_type} has {given} but not {missing}; expert_topk_weight and "
                "permute_topk_weight go together (both or neither)"
            )
    while names and names[-1] == "":  # trailing absent optional inputs: leave them out
        names.pop()
    node = helper.make_node(op_type, names, outs, name=name, domain=DOMAIN)
    node.attribute.extend(helper.make_attribute(k, int(v)) for k, v in attrs.items())
    if num_max_tokens_per_rank is not None:
        node.attribute.extend(
            [
                helper.make_attribute("num_max_tokens_per_rank", int(num_max_tokens_per_rank)),
                helper.make_attribute("restore", int(restore)),
            ]
        )
    return node


def opset_imports(onnx_opset: int = DEFAULT_ONNX_OPSET) -> list[Any]:
    """The model's ``opset_import``: the default ONNX domain at ``onnx_opset`` and ours."""
    from onnx import helper

    return [helper.make_opsetid("", onnx_opset), helper.make_opsetid(DOMAIN, DOMAIN_VERSION)]


def session_options(options: Any = None) -> Any:
    """``onnxruntime.SessionOptions`` (``options`` or a new one) with the library registered."""
    import onnxruntime

    opts = onnxruntime.SessionOptions() if options is None else options
    opts.register_custom_ops_library(library_path())
    return opts


def for_atc(model: Any) -> Any:
    """A copy of ``model`` that ATC's ONNX parser accepts, in one call; ONNX Runtime runs it unchanged.

    ATC names a node ``<domain>::<opset>::<op type>`` and takes the domain of a node without one
    from the model's only opset import: with our domain imported too, a default-domain node has no
    single answer and ATC rejects the model. This spells the default domain out as ``ai.onnx`` in
    every node (subgraphs included) and in the opset imports; ONNX Runtime and the ONNX spec treat
    ``ai.onnx`` and ``""`` as the same domain. The MoeReRouting(V2) nodes themselves are unchanged.
    """
    import onnx

    out = onnx.ModelProto()
    out.CopyFrom(model)
    for opset in out.opset_import:
        if opset.domain == "":
            opset.domain = _ONNX_DEFAULT_DOMAIN_ALIAS

    def visit(graph: Any) -> None:
        for node in graph.node:
            if node.domain == "":
                node.domain = _ONNX_DEFAULT_DOMAIN_ALIAS
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)
                for sub in attr.graphs:
                    visit(sub)

    visit(out.graph)
    return out


# ---- numpy <-> OrtValue for the types numpy cannot hand to onnxruntime directly ----------------


def _onnx_type(array: np.ndarray) -> int:
    from onnx import helper

    try:
        return int(helper.np_dtype_to_tensor_dtype(array.dtype))
    except (KeyError, TypeError, ValueError) as e:
        raise param_type_error(f"ortvalue: numpy dtype {array.dtype} has no ONNX element type") from e


def ortvalue(array: np.ndarray, onnx_type: Optional[int] = None) -> Any:
    """An ``onnxruntime.OrtValue`` holding a copy of ``array`` (bf16 / fp8 via ``ml_dtypes`` too).

    Args:
        array: a numpy array; for ``onnx_type=TensorProto.FLOAT4E2M1`` a uint8 array of packed
            bytes ``[..., H/2]`` (the OrtValue then has ``H`` elements in its last dimension).
        onnx_type: the ONNX element type; default: from the array's dtype.
    """
    import onnxruntime

    arr = np.ascontiguousarray(array)
    etype = _onnx_type(arr) if onnx_type is None else int(onnx_type)
    shape = list(arr.shape)
    if etype == _FLOAT4E2M1 and arr.dtype == np.uint8:
        if not shape:
            raise param_value_error("ortvalue: a packed FLOAT4E2M1 array needs at least one dimension")
        shape[-1] *= 2
    value = onnxruntime.OrtValue.ortvalue_from_shape_and_type(shape, etype)
    if value.tensor_size_in_bytes() != arr.nbytes:
        raise param_value_error(
            f"ortvalue: {arr.nbytes} bytes of {arr.dtype} do not fill an ONNX type {etype} tensor "
            f"of shape {shape}"
        )
    if arr.nbytes:
        ctypes.memmove(value.data_ptr(), arr.ctypes.data, arr.nbytes)
    return value


def to_numpy(value: Any) -> np.ndarray:
    """A numpy copy of an ``OrtValue`` tensor: bf16 / fp8 as ``ml_dtypes`` arrays, FLOAT4E2M1 as
    packed uint8 ``[..., H/2]``, other types as ``value.numpy()`` gives them."""
    from onnx import helper

    type_name = value.data_type()  # "tensor(bfloat16)"
    etype = {
        "tensor(bfloat16)": 16, "tensor(float8e4m3fn)": 17, "tensor(float8e5m2)": 19,
        "tensor(float4e2m1)": _FLOAT4E2M1,
    }.get(type_name)  # fmt: skip
    if etype is None:
        return np.array(value.numpy(), copy=True)
    shape = list(value.shape())
    if etype == _FLOAT4E2M1:
        dtype = np.dtype(np.uint8)
        shape[-1] //= 2
    else:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(etype))
    out = np.empty(shape, dtype=dtype)
    if out.nbytes:
        ctypes.memmove(out.ctypes.data, value.data_ptr(), out.nbytes)
    return out
