"""The ONNX Runtime node MoeReRoutingWithCapacity (static capacity, docs/spec.md "Static capacity")
against the real onnxruntime, bit-exactly against capacity_reference: forward and restore, a graph
forward + Transpose(counts) + restore giving the slots back, and the errors named (the missing
num_max_tokens_per_rank attribute, tokens rows != N*C, a slot over capacity).

Skipped (with the reason) only when onnxruntime/onnx is not installed or the package was built
without the ONNX Runtime headers; CI sets MOE_RE_ROUTING_REQUIRE_RUNTIMES=1, which turns those
skips into failures. The results are the operator's contract, the same on either engine.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from moe_re_routing.reference import capacity_reference
from moe_re_routing.workload import slot_counts

from conftest import assert_bytes_equal, assert_result_equal, random_rows, require_integration, require_module

onnx = require_module("onnx")
ort = require_module("onnxruntime")
require_integration("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from moe_re_routing import onnxruntime as mrr_ort  # noqa: E402
from moe_re_routing.errors import MoeReRoutingTypeError, MoeReRoutingValueError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUTS = list(mrr_ort.OUTPUTS_V2)


def weights_reference(tokens, counts, capacity, weights, restore=False):
    """permute_topk_weight: the weights moved like a scale column."""
    return capacity_reference(tokens, counts, capacity, weights, restore=restore).permute_per_token_scales


def build_model(capacity, tokens_type=TensorProto.FLOAT16, counts_type=TensorProto.INT32, scales_shape=None,
                weights=False, restore=False, **attrs):  # fmt: skip
    inputs = [
        helper.make_tensor_value_info("tokens", tokens_type, ["R", "H"]),
        helper.make_tensor_value_info("counts", counts_type, ["N", "E"]),
    ]
    names = ["tokens", "counts", None, None]
    if scales_shape is not None:
        inputs.append(helper.make_tensor_value_info("scales", TensorProto.FLOAT, list(scales_shape)))
        names[2] = "scales"
    if weights:
        inputs.append(helper.make_tensor_value_info("weights", TensorProto.FLOAT, ["R", 1]))
        names[3] = "weights"
    outs = OUTS if weights else OUTS[:4]
    node = mrr_ort.make_node(
        names, outs, name="capacity", num_max_tokens_per_rank=capacity, restore=restore, **attrs
    )
    graph = helper.make_graph([node], "capacity", inputs, [onnx.ValueInfoProto(name=n) for n in outs])
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


def case(rng, n, e, c, h, dtype=np.float16, counts_dtype=np.int32):
    counts = slot_counts(rng, n, e, c, counts_dtype)
    tokens = random_rows(rng, (n * c, h), dtype)  # slot tails hold garbage: it must not leak
    return tokens, counts


@pytest.mark.parametrize("weights", [False, True], ids=["no-weights", "weights"])
@pytest.mark.parametrize("scales_cols", [None, 0, 3], ids=["no-scales", "scales-R", "scales-RxS"])
@pytest.mark.parametrize(("ett", "idx"), [(1, 0), (0, 1)])
def test_forward_bit_exact(rng, ett, idx, scales_cols, weights):
    n, e, c = 4, 5, 16
    tokens, counts = case(rng, n, e, c, 12)
    scales_shape = None if scales_cols is None else ((n * c,) if scales_cols == 0 else (n * c, scales_cols))
    scales = None if scales_shape is None else random_rows(rng, scales_shape, np.float32)
    w = random_rows(rng, (n * c, 1), np.float32) if weights else None
    symbolic = None if scales_shape is None else ["R", *scales_shape[1:]]
    sess = session(
        build_model(c, scales_shape=symbolic, weights=weights, expert_token_num_type=ett, idx_type=idx)
    )
    got = run(sess, tokens, counts, scales, w)
    assert len(got) == (5 if weights else 4)
    assert_result_equal(got[:4], capacity_reference(tokens, counts, c, scales, ett, idx))
    if weights:
        assert_bytes_equal(got[4], weights_reference(tokens, counts, c, w), "permute_topk_weight")
    t = int(counts.sum())
    assert got[0].shape == tokens.shape and not got[0][t:].view(np.uint8).any()
    if idx == 0:
        assert (got[2][t:] == -1).all()


@pytest.mark.parametrize("counts_dtype", [np.int32, np.int64], ids=["int32", "int64"])
@pytest.mark.parametrize(
    ("carrier", "onnx_type"),
    [(np.int8, TensorProto.INT8), (np.float32, TensorProto.FLOAT)],
    ids=["int8", "float32"],
)
def test_restore_bit_exact(rng, carrier, onnx_type, counts_dtype):
    """restore = 1 fed counts.T: packed rows back into the slots, zeros in the slot tails."""
    n, e, c = 3, 6, 20
    counts = slot_counts(rng, n, e, c, counts_dtype)
    permuted = random_rows(rng, (n * c, 7), carrier)  # rows past T are ignored
    weights = random_rows(rng, (n * c, 1), np.float32)
    counts_t = np.ascontiguousarray(counts.T)
    counts_type = TensorProto.INT32 if counts_dtype == np.int32 else TensorProto.INT64
    sess = session(build_model(c, onnx_type, counts_type, weights=True, restore=True))
    got = run(sess, permuted, counts_t, None, weights)
    assert_result_equal(got[:4], capacity_reference(permuted, counts_t, c, restore=True))
    assert_bytes_equal(got[4], weights_reference(permuted, counts_t, c, weights, restore=True), "weights")
    held = counts.sum(axis=1)
    for r in range(n):
        assert not got[0][r * c + int(held[r]) : (r + 1) * c].view(np.uint8).any(), f"rank {r} tail"


def test_types_and_shapes_are_inferred():
    sess = session(
        build_model(8, TensorProto.BFLOAT16, TensorProto.INT64, scales_shape=["R", "S"], weights=True)
    )
    outs = {o.name: (o.type, o.shape) for o in sess.get_outputs()}
    assert outs == {
        "permute_tokens": ("tensor(bfloat16)", ["R", "H"]),
        "permute_per_token_scales": ("tensor(float)", ["R", "S"]),
        "permute_token_idx": ("tensor(int32)", ["R"]),
        "expert_token_num": ("tensor(int64)", ["E"]),
        "permute_topk_weight": ("tensor(float)", ["R", 1]),
    }


def test_forward_transpose_restore_gives_the_slots_back(rng):
    """Forward, Transpose(counts), restore = 1: every rank's tokens, scales and weights are back in
    their slots, zeros in the slot tails; the restore's gather index is the forward's scatter index."""
    n, e, c = 4, 3, 12
    forward = mrr_ort.make_node(
        ["tokens", "counts", "scales", "weights"], ["y", "ys", "idx", "n", "yw"], num_max_tokens_per_rank=c
    )
    transpose = helper.make_node("Transpose", ["counts"], ["counts_t"], perm=[1, 0])
    restore = mrr_ort.make_node(
        ["y", "counts_t", "ys", "yw"],
        ["tokens_back", "scales_back", "idx_back", "n_back", "weights_back"],
        num_max_tokens_per_rank=c,
        restore=True,
    )
    graph = helper.make_graph(
        [forward, transpose, restore], "round_trip",
        [helper.make_tensor_value_info("tokens", TensorProto.FLOAT16, ["R", "H"]),
         helper.make_tensor_value_info("counts", TensorProto.INT32, ["N", "E"]),
         helper.make_tensor_value_info("scales", TensorProto.FLOAT, ["R"]),
         helper.make_tensor_value_info("weights", TensorProto.FLOAT, ["R", 1])],
        [onnx.ValueInfoProto(name=v)
         for v in ("tokens_back", "scales_back", "weights_back", "idx", "idx_back", "n_back")],
    )  # fmt: skip
    sess = session(helper.make_model(graph, opset_imports=mrr_ort.opset_imports()))
    tokens, counts = case(rng, n, e, c, 6)
    scales = random_rows(rng, (n * c,), np.float32)
    weights = random_rows(rng, (n * c, 1), np.float32)
    got = sess.run(None, {"tokens": tokens, "counts": counts, "scales": scales, "weights": weights})
    held = counts.sum(axis=1)
    for r in range(n):
        rows = slice(r * c, r * c + int(held[r]))
        tail = slice(r * c + int(held[r]), (r + 1) * c)
        assert_bytes_equal(got[0][rows], tokens[rows], f"rank {r} tokens")
        assert_bytes_equal(got[1][rows], scales[rows], f"rank {r} scales")
        assert_bytes_equal(got[2][rows], weights[rows], f"rank {r} weights")
        for out in got[:3]:
            assert not out[tail].view(np.uint8).any(), f"rank {r} slot tail is not zero"
    scatter = capacity_reference(tokens, counts, c, None, 1, 1).permute_token_idx
    assert_bytes_equal(got[4], scatter, "idx_back")
    assert_bytes_equal(got[5], held.astype(np.int32), "per-rank counts")


def _run_error(sess, *args):
    with pytest.raises(Exception) as info:  # onnxruntime's own exception types
        run(sess, *args)
    assert type(info.value).__module__.startswith("onnxruntime"), type(info.value)
    return str(info.value)


def _hand_built(attributes):
    """A MoeReRoutingWithCapacity node with exactly `attributes` (make_node always writes C)."""
    node = helper.make_node(
        mrr_ort.OP_TYPE_CAPACITY, ["tokens", "counts"], OUTS[:4], domain=mrr_ort.DOMAIN, **attributes
    )
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("tokens", TensorProto.INT8, ["R", "H"]),
         helper.make_tensor_value_info("counts", TensorProto.INT32, ["N", "E"])],
        [onnx.ValueInfoProto(name=v) for v in OUTS[:4]],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=mrr_ort.opset_imports())


def test_missing_capacity_attribute_is_named():
    with pytest.raises(
        Exception, match="MoeReRoutingWithCapacity: the int attribute num_max_tokens_per_rank is required"
    ):
        session(_hand_built({"idx_type": 1}))


def test_restore_attribute_must_be_0_or_1():
    message = r"the attribute restore is 2 but must be 0 \(forward\) or 1 \(restore\)"
    with pytest.raises(Exception, match=message):
        session(_hand_built({"num_max_tokens_per_rank": 4, "restore": 2}))


def test_hand_built_node_defaults(rng):
    """Only num_max_tokens_per_rank given: count, gather, forward."""
    sess = session(_hand_built({"num_max_tokens_per_rank": 10}))
    tokens, counts = case(rng, 3, 2, 10, 5, np.int8)
    assert_result_equal(run(sess, tokens, counts), capacity_reference(tokens, counts, 10))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("capacity_zero", "num_max_tokens_per_rank is 0 but must be >= 1"),
        ("rows", "tokens has 39 rows but must be N * num_max_tokens_per_rank = 4 * 10 = 40"),
        ("full", "expert_token_num_per_rank row 1 (rank 1) sums to 11 but num_max_tokens_per_rank is 10"),
    ],
)
def test_bad_capacity_is_named_and_the_session_survives(rng, change, message):
    tokens, counts = case(rng, 4, 3, 10, 8, np.int8)
    sess = session(build_model(0 if change == "capacity_zero" else 10, TensorProto.INT8))
    if change == "rows":
        tokens = tokens[:-1]
    elif change == "full":
        counts[1] = 0
        counts[1, 2] = 11
    text = _run_error(sess, tokens, counts)
    assert "MoeReRoutingWithCapacity: ACLNN_ERR_PARAM_INVALID (161002): " in text, text
    assert message in text, text
    if change != "capacity_zero":  # the same session runs good input afterwards
        good_tokens, good_counts = case(rng, 4, 3, 10, 8, np.int8)
        assert_result_equal(
            run(sess, good_tokens, good_counts), capacity_reference(good_tokens, good_counts, 10)
        )


def test_restore_of_a_slot_over_capacity_is_named(rng):
    # The restore's counts.T [E, N]: rank 0 gets 3 tokens back from expert 0 and 2 from expert 1,
    # 5 in a slot of 4.
    counts_t = np.array([[3, 0], [2, 1]], np.int32)
    sess = session(build_model(4, TensorProto.INT8, restore=True))
    text = _run_error(sess, random_rows(rng, (2 * 4, 4), np.int8), counts_t)
    assert re.search(r"rank 0 of the restore's counts.T\) sums to 5", text), text


def test_make_node_capacity_checks_its_arguments():
    node = mrr_ort.make_node(["t", "c", None, "w"], OUTS, num_max_tokens_per_rank=8, idx_type=1)
    assert (node.domain, node.op_type) == ("moe_re_routing", "MoeReRoutingWithCapacity")
    assert list(node.input) == ["t", "c", "", "w"]
    attrs = {a.name: a.i for a in node.attribute}
    assert attrs == {"idx_type": 1, "num_max_tokens_per_rank": 8, "restore": 0}
    node = mrr_ort.make_node(["t", "c"], OUTS[:4], num_max_tokens_per_rank=np.int64(3), restore=True)
    assert {a.name: a.i for a in node.attribute} == {"num_max_tokens_per_rank": 3, "restore": 1}
    with pytest.raises(
        MoeReRoutingValueError, match="restore=True is an attribute of MoeReRoutingWithCapacity"
    ):
        mrr_ort.make_node(["t", "c"], OUTS[:4], restore=True)
    with pytest.raises(MoeReRoutingValueError, match="has the input expert_topk_weight but not the output"):
        mrr_ort.make_node(["t", "c", None, "w"], OUTS[:4], num_max_tokens_per_rank=8)
    for bad in (True, 8.0, "8"):
        with pytest.raises(MoeReRoutingTypeError, match="num_max_tokens_per_rank must be an int"):
            mrr_ort.make_node(["t", "c"], OUTS[:4], num_max_tokens_per_rank=bad)  # type: ignore[arg-type]
    with pytest.raises(MoeReRoutingTypeError, match="restore must be a bool"):
        mrr_ort.make_node(["t", "c"], OUTS[:4], num_max_tokens_per_rank=8, restore=1)  # type: ignore[arg-type]


def test_capacity_constants_match_the_shared_header_and_the_atc_plugin():
    header = (REPO / "framework/onnx_plugin/moe_re_routing_onnx_node.h").read_text()
    macros = dict(re.findall(r"#define (MOE_RE_ROUTING_ONNX_\w+) (\"[^\"]*\"|\d+)", header))
    assert macros["MOE_RE_ROUTING_ONNX_OP_TYPE_CAPACITY"] == f'"{mrr_ort.OP_TYPE_CAPACITY}"'
    assert macros["MOE_RE_ROUTING_ONNX_ATTR_NUM_MAX_TOKENS_PER_RANK"] == '"num_max_tokens_per_rank"'
    assert macros["MOE_RE_ROUTING_ONNX_ATTR_RESTORE"] == '"restore"'
    assert macros["MOE_RE_ROUTING_ONNX_DEFAULT_RESTORE"] == str(mrr_ort.CAPACITY_ATTRIBUTES["restore"])
    assert mrr_ort.CAPACITY_ATTRIBUTES["num_max_tokens_per_rank"] is None  # required: no default
    plugin = (REPO / "framework/onnx_plugin/moe_re_routing_onnx_plugin.cc").read_text()
    assert 'REGISTER_CUSTOM_OP("MoeReRoutingWithCapacity")' in plugin
    assert "AscendString(MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE_CAPACITY)" in plugin
    # The OpDef's attribute names, as the plugin sets them on the CANN operator.
    for name in ("num_max_tokens_per_rank", "expert_token_num_type", "idx_type", "restore"):
        assert f'op.SetAttr("{name}"' in plugin, name


def test_all_three_nodes_in_one_model(rng):
    """V1, V2 and the capacity node of the one library side by side (C = the packed token count:
    one rank, so the capacity node is V2 on a full slot)."""
    tokens = random_rows(rng, (30, 4), np.uint8)
    counts = np.array([[7, 0, 23]], np.int64)
    v1 = mrr_ort.make_node(["tokens", "counts"], ["a0", "a1", "a2", "a3"])
    v2 = mrr_ort.make_node(["tokens", "counts"], ["b0", "b1", "b2", "b3"], v2=True)
    cap = mrr_ort.make_node(["tokens", "counts"], ["c0", "c1", "c2", "c3"], num_max_tokens_per_rank=30)
    names = [f"{p}{i}" for p in "abc" for i in range(4)]
    graph = helper.make_graph(
        [v1, v2, cap], "all",
        [helper.make_tensor_value_info("tokens", TensorProto.UINT8, ["A", "H"]),
         helper.make_tensor_value_info("counts", TensorProto.INT64, ["N", "E"])],
        [onnx.ValueInfoProto(name=v) for v in names],
    )  # fmt: skip
    sess = session(helper.make_model(graph, opset_imports=mrr_ort.opset_imports()))
    got = sess.run(None, {"tokens": tokens, "counts": counts})
    want = capacity_reference(tokens, counts, 30)
    for k in range(3):
        assert_result_equal(got[4 * k : 4 * k + 4], want)
