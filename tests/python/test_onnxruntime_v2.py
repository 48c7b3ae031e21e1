"""The ONNX Runtime node MoeReRoutingV2 (the weight pair) against the real onnxruntime, bit-exactly
against the reference: the weights move like a one-column scale, so their reference is the
reference's scales output for the weights given as scales.

Skipped (with the reason) only when onnxruntime/onnx is not installed or the package was built
without the ONNX Runtime headers; CI sets MOE_RE_ROUTING_REQUIRE_RUNTIMES=1, which turns those
skips into failures.
"""

from __future__ import annotations

import re
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from moe_re_routing.reference import moe_re_routing_reference

from conftest import (
    assert_bytes_equal,
    assert_result_equal,
    random_counts,
    random_rows,
    require_integration,
    require_module,
)

onnx = require_module("onnx")
ort = require_module("onnxruntime")
require_integration("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from moe_re_routing import onnxruntime as mrr_ort  # noqa: E402
from moe_re_routing.errors import MoeReRoutingTypeError, MoeReRoutingValueError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUTS = list(mrr_ort.OUTPUTS_V2)


def weights_reference(tokens, counts, weights):
    """permute_topk_weight: the weights moved like a scale column (the reference's scales output)."""
    return moe_re_routing_reference(tokens, counts, weights).permute_per_token_scales


def build_model(
    tokens_type=TensorProto.FLOAT16,
    counts_type=TensorProto.INT32,
    scales_shape=None,
    weights_shape=None,
    weights_type=TensorProto.FLOAT,
    **attrs,
):
    """A one-node V2 model; outputs carry names only (types and shapes are inferred)."""
    inputs = [
        helper.make_tensor_value_info("tokens", tokens_type, ["A", "H"]),
        helper.make_tensor_value_info("counts", counts_type, ["N", "E"]),
    ]
    names = ["tokens", "counts", None, None]
    if scales_shape is not None:
        inputs.append(helper.make_tensor_value_info("scales", TensorProto.FLOAT, list(scales_shape)))
        names[2] = "scales"
    if weights_shape is not None:
        inputs.append(helper.make_tensor_value_info("weights", weights_type, list(weights_shape)))
        names[3] = "weights"
    outs = OUTS if weights_shape is not None else OUTS[:4]
    node = mrr_ort.make_node(names, outs, name="reroute_v2", v2=True, **attrs)
    graph = helper.make_graph(
        [node], "moe_re_routing_v2", inputs, [onnx.ValueInfoProto(name=n) for n in outs]
    )
    return helper.make_model(graph, opset_imports=mrr_ort.opset_imports())


def session(model):
    return ort.InferenceSession(model.SerializeToString(), mrr_ort.session_options())


def run(sess, tokens, counts, scales=None, weights=None):
    feeds = {"tokens": mrr_ort.ortvalue(tokens), "counts": mrr_ort.ortvalue(counts)}
    if scales is not None:
        feeds["scales"] = mrr_ort.ortvalue(scales)
    if weights is not None:
        feeds["weights"] = mrr_ort.ortvalue(weights)
    return [mrr_ort.to_numpy(v) for v in sess.run_with_ort_values(None, feeds)]


def check(got, tokens, counts, scales, weights, ett=1, idx=0):
    assert len(got) == (4 if weights is None else 5)
    assert_result_equal(got[:4], moe_re_routing_reference(tokens, counts, scales, ett, idx))
    if weights is not None:
        assert_bytes_equal(got[4], weights_reference(tokens, counts, weights), "permute_topk_weight")


@pytest.mark.parametrize(
    "weights_shape", [None, (72, 1), (72,)], ids=["no-weights", "weights-Ax1", "weights-A"]
)
@pytest.mark.parametrize("scales_shape", [None, (72,), (72, 3)], ids=["no-scales", "scales-A", "scales-AxS"])
@pytest.mark.parametrize(("ett", "idx"), [(1, 0), (0, 1)])
def test_v2_bit_exact(rng, ett, idx, scales_shape, weights_shape):
    tokens = random_rows(rng, (72, 12), np.float16)
    counts = random_counts(rng, 3, 4, 72, np.int32)
    scales = None if scales_shape is None else random_rows(rng, scales_shape, np.float32)
    weights = None if weights_shape is None else random_rows(rng, weights_shape, np.float32)
    symbolic = lambda shape: None if shape is None else ["A", *shape[1:]]  # noqa: E731
    model = build_model(
        scales_shape=symbolic(scales_shape), weights_shape=symbolic(weights_shape),
        expert_token_num_type=ett, idx_type=idx,
    )  # fmt: skip
    got = run(session(model), tokens, counts, scales, weights)
    check(got, tokens, counts, scales, weights, ett, idx)


@pytest.mark.parametrize("counts_dtype", [np.int32, np.int64], ids=["int32", "int64"])
@pytest.mark.parametrize(
    ("carrier", "onnx_type"),
    [
        (np.int8, TensorProto.INT8),
        (ml_dtypes.bfloat16, TensorProto.BFLOAT16),
        (np.float32, TensorProto.FLOAT),
    ],
    ids=["int8", "bfloat16", "float32"],
)
def test_v2_tokens_and_counts_dtypes(rng, carrier, onnx_type, counts_dtype):
    tokens = random_rows(rng, (50, 7), carrier)
    counts = random_counts(rng, 5, 2, 50, counts_dtype, zero_frac=0.3)
    weights = random_rows(rng, (50, 1), np.float32)
    counts_type = TensorProto.INT32 if counts_dtype == np.int32 else TensorProto.INT64
    sess = session(build_model(onnx_type, counts_type, weights_shape=["A", 1]))
    check(run(sess, tokens, counts, None, weights), tokens, counts, None, weights)


def test_v2_empty_input(rng):
    sess = session(build_model(scales_shape=["A"], weights_shape=["A", 1]))
    empty = np.zeros((0, 4), np.float16)
    counts = np.zeros((2, 3), np.int32)
    scales, weights = np.zeros(0, np.float32), np.zeros((0, 1), np.float32)
    got = run(sess, empty, counts, scales, weights)
    assert [g.shape for g in got] == [(0, 4), (0,), (0,), (3,), (0, 1)]
    check(got, empty, counts, scales, weights)


def test_v2_types_and_shapes_are_inferred():
    sess = session(
        build_model(TensorProto.BFLOAT16, TensorProto.INT64, scales_shape=["A", "S"], weights_shape=["A", 1])
    )
    outs = {o.name: (o.type, o.shape) for o in sess.get_outputs()}
    assert outs == {
        "permute_tokens": ("tensor(bfloat16)", ["A", "H"]),
        "permute_per_token_scales": ("tensor(float)", ["A", "S"]),
        "permute_token_idx": ("tensor(int32)", ["A"]),
        "expert_token_num": ("tensor(int64)", ["E"]),
        "permute_topk_weight": ("tensor(float)", ["A", 1]),
    }
    flat = session(build_model(weights_shape=["A"]))
    assert (flat.get_outputs()[4].type, flat.get_outputs()[4].shape) == ("tensor(float)", ["A"])
    assert len(session(build_model()).get_outputs()) == 4


def test_restore_is_a_second_node_with_transposed_counts(rng):
    """V2 forward, then V2 on its outputs with Transpose(counts): the graph returns its inputs."""
    forward = mrr_ort.make_node(
        ["tokens", "counts", "scales", "weights"], ["y", "ys", "idx", "n", "yw"], v2=True
    )
    transpose = helper.make_node("Transpose", ["counts"], ["counts_t"], perm=[1, 0])
    restore = mrr_ort.make_node(
        ["y", "counts_t", "ys", "yw"],
        ["tokens_back", "scales_back", "idx_back", "n_back", "weights_back"],
        v2=True,
    )
    graph = helper.make_graph(
        [forward, transpose, restore], "round_trip",
        [helper.make_tensor_value_info("tokens", TensorProto.FLOAT16, ["A", "H"]),
         helper.make_tensor_value_info("counts", TensorProto.INT32, ["N", "E"]),
         helper.make_tensor_value_info("scales", TensorProto.FLOAT, ["A"]),
         helper.make_tensor_value_info("weights", TensorProto.FLOAT, ["A", 1])],
        [onnx.ValueInfoProto(name=n)
         for n in ("tokens_back", "scales_back", "weights_back", "idx", "idx_back")],
    )  # fmt: skip
    sess = session(helper.make_model(graph, opset_imports=mrr_ort.opset_imports()))
    tokens = random_rows(rng, (90, 6), np.float16)
    counts = random_counts(rng, 4, 5, 90, np.int32, zero_frac=0.2)
    scales = random_rows(rng, (90,), np.float32)
    weights = random_rows(rng, (90, 1), np.float32)
    got = sess.run(None, {"tokens": tokens, "counts": counts, "scales": scales, "weights": weights})
    assert_bytes_equal(got[0], tokens, "tokens")
    assert_bytes_equal(got[1], scales, "scales")
    assert_bytes_equal(got[2], weights, "weights")
    # The restore's gather index is the forward call's scatter index.
    scatter = moe_re_routing_reference(tokens, counts, None, 1, 1).permute_token_idx
    assert_bytes_equal(got[4], scatter, "idx_back")


def _run_error(sess, *args):
    with pytest.raises(Exception) as info:  # onnxruntime's own exception types
        run(sess, *args)
    assert type(info.value).__module__.startswith("onnxruntime"), type(info.value)
    return str(info.value)


def test_v2_bad_weights_name_the_weights_and_the_session_survives(rng):
    tokens = random_rows(rng, (40, 4), np.float16)
    counts = random_counts(rng, 2, 2, 40, np.int32)
    weights = random_rows(rng, (40, 1), np.float32)
    sess = session(build_model(weights_shape=["W", "K"]))
    text = _run_error(sess, tokens, counts, None, random_rows(rng, (39, 1), np.float32))
    assert "MoeReRoutingV2: ACLNN_ERR_PARAM_INVALID (161002): " in text and "expert_topk_weight" in text, text
    text = _run_error(sess, tokens, counts, None, random_rows(rng, (40, 2), np.float32))
    assert "expert_topk_weight" in text, text
    bad_counts = counts.copy()
    bad_counts[0, 0] += 1
    assert "expert_token_num_per_rank sums to 41 but tokens has 40 rows" in _run_error(
        sess, tokens, bad_counts, None, weights
    )
    check(run(sess, tokens, counts, None, weights), tokens, counts, None, weights)


def test_v2_weights_of_another_dtype_are_named(rng):
    sess = session(build_model(weights_shape=["A", 1], weights_type=TensorProto.FLOAT16))
    tokens = random_rows(rng, (8, 4), np.float16)
    counts = np.array([[3, 5]], np.int32)
    text = _run_error(sess, tokens, counts, None, np.zeros((8, 1), np.float16))
    assert "expert_topk_weight has dtype FLOAT16" in text, text


@pytest.mark.parametrize(
    "weights_given", [True, False], ids=["weights-without-output", "output-without-weights"]
)
def test_v2_pair_is_checked_by_the_operator(rng, weights_given):
    """A hand-built node (make_node refuses it) with half the weight pair: the operator's message."""
    inputs = ["tokens", "counts", "", "weights"] if weights_given else ["tokens", "counts"]
    outs = OUTS[:4] if weights_given else OUTS
    node = helper.make_node(mrr_ort.OP_TYPE_V2, inputs, outs, domain=mrr_ort.DOMAIN)
    vis = [
        helper.make_tensor_value_info("tokens", TensorProto.FLOAT16, ["A", "H"]),
        helper.make_tensor_value_info("counts", TensorProto.INT32, ["N", "E"]),
        helper.make_tensor_value_info("weights", TensorProto.FLOAT, ["A", 1]),
    ][: 3 if weights_given else 2]
    graph = helper.make_graph([node], "g", vis, [onnx.ValueInfoProto(name=n) for n in outs])
    sess = session(helper.make_model(graph, opset_imports=mrr_ort.opset_imports()))
    tokens = random_rows(rng, (10, 4), np.float16)
    counts = np.array([[4, 6]], np.int32)
    text = _run_error(
        sess, tokens, counts, None, random_rows(rng, (10, 1), np.float32) if weights_given else None
    )
    assert "MoeReRoutingV2: ACLNN_ERR_PARAM" in text, text
    assert "expert_topk_weight and permute_topk_weight go together" in text, text


def test_v2_node_with_an_empty_fifth_output_name(rng):
    """An optional output may also be given as "": without weights that is the 4-output node."""
    node = helper.make_node(mrr_ort.OP_TYPE_V2, ["tokens", "counts"], [*OUTS[:4], ""], domain=mrr_ort.DOMAIN)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("tokens", TensorProto.INT8, ["A", "H"]),
         helper.make_tensor_value_info("counts", TensorProto.INT32, ["N", "E"])],
        [onnx.ValueInfoProto(name=n) for n in OUTS[:4]],
    )  # fmt: skip
    sess = session(helper.make_model(graph, opset_imports=mrr_ort.opset_imports()))
    tokens = random_rows(rng, (30, 4), np.int8)
    counts = random_counts(rng, 3, 3, 30, np.int32)
    check(run(sess, tokens, counts), tokens, counts, None, None)


def test_make_node_v2_checks_its_arguments():
    node = mrr_ort.make_node(["t", "c", None, "w"], OUTS, v2=True, idx_type=1)
    assert (node.domain, node.op_type) == ("moe_re_routing", "MoeReRoutingV2")
    assert list(node.input) == ["t", "c", "", "w"]
    assert list(node.output) == OUTS
    assert [(a.name, a.i) for a in node.attribute] == [("idx_type", 1)]
    node = mrr_ort.make_node(["t", "c", "s", ""], [*OUTS[:4], ""], v2=True)
    assert (list(node.input), list(node.output)) == (["t", "c", "s"], OUTS[:4])
    with pytest.raises(MoeReRoutingValueError, match="has the input expert_topk_weight but not the output"):
        mrr_ort.make_node(["t", "c", None, "w"], OUTS[:4], v2=True)
    with pytest.raises(MoeReRoutingValueError, match="has the output permute_topk_weight but not the input"):
        mrr_ort.make_node(["t", "c", "s"], OUTS, v2=True)
    with pytest.raises(MoeReRoutingValueError, match="at most 2 optional"):
        mrr_ort.make_node(["t", "c", "s", "w", "x"], OUTS, v2=True)
    with pytest.raises(MoeReRoutingValueError, match=r"at most 1 optional .* for MoeReRouting,"):
        mrr_ort.make_node(["t", "c", "s", "w"], OUTS[:4])
    with pytest.raises(MoeReRoutingValueError, match=r"outputs must be 4 names .* for MoeReRouting,"):
        mrr_ort.make_node(["t", "c"], OUTS)
    with pytest.raises(MoeReRoutingValueError, match="outputs must be 4 or 5 names"):
        mrr_ort.make_node(["t", "c"], OUTS[:3], v2=True)
    with pytest.raises(MoeReRoutingTypeError, match="v2 must be a bool"):
        mrr_ort.make_node(["t", "c"], OUTS[:4], v2=1)  # type: ignore[arg-type]


def test_v2_constants_match_the_shared_header_and_the_atc_plugin():
    header = (REPO / "framework/onnx_plugin/moe_re_routing_onnx_node.h").read_text()
    macros = dict(re.findall(r"#define (MOE_RE_ROUTING_ONNX_\w+) (\"[^\"]*\"|\d+)", header))
    assert macros["MOE_RE_ROUTING_ONNX_OP_TYPE_V2"] == f'"{mrr_ort.OP_TYPE_V2}"'
    assert mrr_ort.INPUTS_V2[:3] == mrr_ort.INPUTS and mrr_ort.INPUTS_V2[3] == "expert_topk_weight"
    assert mrr_ort.OUTPUTS_V2[:4] == mrr_ort.OUTPUTS and mrr_ort.OUTPUTS_V2[4] == "permute_topk_weight"
    plugin = (REPO / "framework/onnx_plugin/moe_re_routing_onnx_plugin.cc").read_text()
    assert 'REGISTER_CUSTOM_OP("MoeReRoutingV2")' in plugin
    assert "AscendString(MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE_V2)" in plugin


def test_v1_and_v2_nodes_in_one_model(rng):
    """Both node types of the one library side by side give the same four outputs."""
    v1 = mrr_ort.make_node(["tokens", "counts", "scales"], ["a0", "a1", "a2", "a3"])
    v2 = mrr_ort.make_node(["tokens", "counts", "scales", "weights"], ["b0", "b1", "b2", "b3", "b4"], v2=True)
    names = ["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "b4"]
    graph = helper.make_graph(
        [v1, v2], "both",
        [helper.make_tensor_value_info("tokens", TensorProto.UINT8, ["A", "H"]),
         helper.make_tensor_value_info("counts", TensorProto.INT64, ["N", "E"]),
         helper.make_tensor_value_info("scales", TensorProto.FLOAT, ["A", 2]),
         helper.make_tensor_value_info("weights", TensorProto.FLOAT, ["A"])],
        [onnx.ValueInfoProto(name=n) for n in names],
    )  # fmt: skip
    sess = session(helper.make_model(graph, opset_imports=mrr_ort.opset_imports()))
    tokens = random_rows(rng, (64, 9), np.uint8)
    counts = random_counts(rng, 4, 4, 64, np.int64)
    scales = random_rows(rng, (64, 2), np.float32)
    weights = random_rows(rng, (64,), np.float32)
    got = sess.run(None, {"tokens": tokens, "counts": counts, "scales": scales, "weights": weights})
    check(got[:4], tokens, counts, scales, None)
    check(got[4:], tokens, counts, scales, weights)
