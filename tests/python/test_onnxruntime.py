"""The ONNX Runtime custom operator against the real onnxruntime, bit-exactly against the reference.

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

from conftest import assert_result_equal, random_counts, random_rows, require_integration, require_module

onnx = require_module("onnx")
ort = require_module("onnxruntime")
require_integration("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from moe_re_routing import onnxruntime as mrr_ort  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUT_NAMES = ["permute_tokens", "permute_per_token_scales", "permute_token_idx", "expert_token_num"]
FLOAT4E2M1 = int(TensorProto.FLOAT4E2M1)

# (id, numpy carrier, ONNX element type): every tokens dtype of the operator ONNX can express.
TOKEN_TYPES = [
    ("int8", np.int8, TensorProto.INT8),
    ("uint8", np.uint8, TensorProto.UINT8),
    ("int16", np.int16, TensorProto.INT16),
    ("uint16", np.uint16, TensorProto.UINT16),
    ("int32", np.int32, TensorProto.INT32),
    ("float16", np.float16, TensorProto.FLOAT16),
    ("bfloat16", ml_dtypes.bfloat16, TensorProto.BFLOAT16),
    ("float32", np.float32, TensorProto.FLOAT),
    ("float8_e4m3fn", ml_dtypes.float8_e4m3fn, TensorProto.FLOAT8E4M3FN),
    ("float8_e5m2", ml_dtypes.float8_e5m2, TensorProto.FLOAT8E5M2),
    ("float4_e2m1", np.uint8, FLOAT4E2M1),  # packed two a byte: the array is [A, H/2] uint8
]


def build_model(tokens_type, counts_type, scales_shape=None, scales_type=TensorProto.FLOAT, **attrs):
    """A one-node model built with onnx.helper; outputs carry names only (types are inferred)."""
    inputs = [
        helper.make_tensor_value_info("tokens", tokens_type, ["A", "H"]),
        helper.make_tensor_value_info("counts", counts_type, ["N", "E"]),
    ]
    names = ["tokens", "counts"]
    if scales_shape is not None:
        inputs.append(helper.make_tensor_value_info("scales", scales_type, list(scales_shape)))
        names.append("scales")
    node = mrr_ort.make_node(names, OUT_NAMES, name="reroute", **attrs)
    outputs = [onnx.ValueInfoProto(name=n) for n in OUT_NAMES]
    graph = helper.make_graph([node], "moe_re_routing", inputs, outputs)
    return helper.make_model(graph, opset_imports=mrr_ort.opset_imports())


def session(model_or_path):
    src = model_or_path if isinstance(model_or_path, (str, Path)) else model_or_path.SerializeToString()
    return ort.InferenceSession(str(src) if isinstance(src, Path) else src, mrr_ort.session_options())


def run(sess, tokens, counts, scales=None, tokens_type=None):
    feeds = {"tokens": mrr_ort.ortvalue(tokens, tokens_type), "counts": mrr_ort.ortvalue(counts)}
    if scales is not None:
        feeds["scales"] = mrr_ort.ortvalue(scales)
    return [mrr_ort.to_numpy(v) for v in sess.run_with_ort_values(None, feeds)]


def case(rng, a=96, h=24, n=4, e=3, carrier=np.int8, counts_dtype=np.int32, scales_shape=None, zero_frac=0.0):
    tokens = random_rows(rng, (a, h), carrier)
    counts = random_counts(rng, n, e, a, counts_dtype, zero_frac)
    scales = None if scales_shape is None else random_rows(rng, scales_shape, np.float32)
    return tokens, counts, scales


@pytest.mark.parametrize("counts_dtype", [np.int32, np.int64], ids=["int32", "int64"])
@pytest.mark.parametrize(("name", "carrier", "onnx_type"), TOKEN_TYPES, ids=[t[0] for t in TOKEN_TYPES])
def test_every_token_dtype_bit_exact(rng, name, carrier, onnx_type, counts_dtype):
    tokens, counts, scales = case(rng, carrier=carrier, counts_dtype=counts_dtype, scales_shape=(96,))
    counts_type = TensorProto.INT32 if counts_dtype == np.int32 else TensorProto.INT64
    sess = session(build_model(onnx_type, counts_type, scales_shape=["A"]))
    got = run(sess, tokens, counts, scales, tokens_type=onnx_type)
    assert_result_equal(got, moe_re_routing_reference(tokens, counts, scales))


@pytest.mark.parametrize("scales_shape", [None, (80,), (80, 3)], ids=["no-scales", "scales-A", "scales-AxS"])
@pytest.mark.parametrize("idx_type", [0, 1])
@pytest.mark.parametrize("expert_token_num_type", [0, 1])
def test_attributes_and_scales(rng, expert_token_num_type, idx_type, scales_shape):
    tokens, counts, scales = case(rng, a=80, h=16, n=3, e=5, carrier=np.float16, scales_shape=scales_shape)
    symbolic = None if scales_shape is None else ["A", "S"][: len(scales_shape)]
    model = build_model(
        TensorProto.FLOAT16, TensorProto.INT32, scales_shape=symbolic,
        expert_token_num_type=expert_token_num_type, idx_type=idx_type,
    )  # fmt: skip
    got = run(session(model), tokens, counts, scales)
    assert_result_equal(
        got, moe_re_routing_reference(tokens, counts, scales, expert_token_num_type, idx_type)
    )


def test_attribute_defaults_are_count_and_gather(rng):
    tokens, counts, _ = case(rng, a=40, h=8)
    got = run(session(build_model(TensorProto.INT8, TensorProto.INT32)), tokens, counts)
    assert_result_equal(got, moe_re_routing_reference(tokens, counts, None, 1, 0))


def test_zero_cells_and_empty_input(rng):
    tokens, counts, scales = case(rng, a=64, h=8, n=6, e=6, scales_shape=(64,), zero_frac=0.6)
    assert (counts == 0).any()
    sess = session(build_model(TensorProto.INT8, TensorProto.INT32, scales_shape=["A"]))
    assert_result_equal(run(sess, tokens, counts, scales), moe_re_routing_reference(tokens, counts, scales))
    # A = 0: empty outputs, expert_token_num all zeros; same session.
    empty = np.zeros((0, 8), np.int8)
    zero_counts = np.zeros((6, 6), np.int32)
    got = run(sess, empty, zero_counts, np.zeros(0, np.float32))
    assert [g.shape for g in got] == [(0, 8), (0,), (0,), (6,)]
    assert_result_equal(got, moe_re_routing_reference(empty, zero_counts, np.zeros(0, np.float32)))


def test_types_and_shapes_are_inferred():
    sess = session(build_model(TensorProto.BFLOAT16, TensorProto.INT64, scales_shape=["A", "S"]))
    outs = {o.name: (o.type, o.shape) for o in sess.get_outputs()}
    assert outs == {
        "permute_tokens": ("tensor(bfloat16)", ["A", "H"]),
        "permute_per_token_scales": ("tensor(float)", ["A", "S"]),
        "permute_token_idx": ("tensor(int32)", ["A"]),
        "expert_token_num": ("tensor(int64)", ["E"]),
    }
    no_scales = session(build_model(TensorProto.INT8, TensorProto.INT32))
    assert no_scales.get_outputs()[1].type == "tensor(float)"
    assert no_scales.get_outputs()[1].shape == ["A"]


def test_model_saved_to_disk_and_reloaded(rng, tmp_path):
    tokens, counts, scales = case(rng, carrier=ml_dtypes.bfloat16, scales_shape=(96, 2))
    path = tmp_path / "moe_re_routing.onnx"
    onnx.save(
        build_model(TensorProto.BFLOAT16, TensorProto.INT32, scales_shape=["A", 2], idx_type=1), str(path)
    )
    reloaded = onnx.load(str(path))
    node = reloaded.graph.node[0]
    assert (node.domain, node.op_type) == (mrr_ort.DOMAIN, mrr_ort.OP_TYPE)
    got = run(session(path), tokens, counts, scales)
    assert_result_equal(got, moe_re_routing_reference(tokens, counts, scales, 1, 1))


def test_inside_a_larger_graph_and_for_atc(rng):
    # Standard ONNX nodes around the custom one: Identity -> MoeReRouting -> Add on the index.
    ident = helper.make_node("Identity", ["x"], ["tokens"])
    node = mrr_ort.make_node(["tokens", "counts", None], OUT_NAMES)
    add = helper.make_node("Add", ["permute_token_idx", "one"], ["idx_plus_one"])
    one = helper.make_tensor("one", TensorProto.INT32, [1], [1])
    graph = helper.make_graph(
        [ident, node, add], "g",
        [helper.make_tensor_value_info("x", TensorProto.INT8, ["A", "H"]),
         helper.make_tensor_value_info("counts", TensorProto.INT64, ["N", "E"])],
        [onnx.ValueInfoProto(name="permute_tokens"), onnx.ValueInfoProto(name="idx_plus_one")],
        initializer=[one],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=mrr_ort.opset_imports())
    tokens, counts, _ = case(rng, a=50, h=4, counts_dtype=np.int64)
    ref = moe_re_routing_reference(tokens, counts)
    for m in (model, mrr_ort.for_atc(model)):
        sess = session(m)
        got = sess.run_with_ort_values(
            None, {"x": mrr_ort.ortvalue(tokens), "counts": mrr_ort.ortvalue(counts)}
        )
        np.testing.assert_array_equal(mrr_ort.to_numpy(got[0]), ref.permute_tokens)
        np.testing.assert_array_equal(mrr_ort.to_numpy(got[1]), ref.permute_token_idx + 1)
    converted = mrr_ort.for_atc(model)
    assert {n.domain for n in converted.graph.node} == {"ai.onnx", mrr_ort.DOMAIN}
    assert {o.domain for o in converted.opset_import} == {"ai.onnx", mrr_ort.DOMAIN}
    assert {n.domain for n in model.graph.node} == {"", mrr_ort.DOMAIN}  # the input is not modified


def _expect_run_error(sess, tokens, counts, scales, *fragments):
    with pytest.raises(Exception) as info:  # onnxruntime's own exception types (InvalidArgument, Fail)
        run(sess, tokens, counts, scales)
    text = str(info.value)
    assert type(info.value).__module__.startswith("onnxruntime"), type(info.value)
    for fragment in fragments:
        assert fragment in text, text
    return text


def test_bad_counts_give_our_message_and_the_session_survives(rng):
    tokens, counts, scales = case(rng, a=64, h=8, n=2, e=2, scales_shape=(64,))
    sess = session(build_model(TensorProto.INT8, TensorProto.INT32, scales_shape=["A"]))
    bad = counts.copy()
    bad[0, 0] += 6
    _expect_run_error(
        sess,
        tokens,
        bad,
        scales,
        "ACLNN_ERR_PARAM_INVALID",
        "expert_token_num_per_rank sums to 70 but tokens has 64 rows",
    )
    negative = counts.copy()
    negative[0, 0], negative[0, 1] = -1, negative[0, 1] + negative[0, 0] + 1
    _expect_run_error(sess, tokens, negative, scales, "expert_token_num_per_rank")
    # The same session still runs good input.
    assert_result_equal(run(sess, tokens, counts, scales), moe_re_routing_reference(tokens, counts, scales))


@pytest.mark.parametrize(
    ("tokens_type", "counts_type", "scales_type", "expected"),
    [
        (TensorProto.DOUBLE, TensorProto.INT32, None, "tokens has dtype DOUBLE"),
        (TensorProto.INT8, TensorProto.FLOAT, None, "expert_token_num_per_rank has dtype FLOAT"),
        (TensorProto.INT8, TensorProto.INT32, TensorProto.BFLOAT16, "per_token_scales has dtype BF16"),
        (TensorProto.FLOAT8E4M3FNUZ, TensorProto.INT32, None, "tokens has ONNX element type 18"),
    ],
    ids=["tokens-double", "counts-float", "scales-bf16", "tokens-fnuz"],
)
def test_wrong_dtypes_give_our_message(tokens_type, counts_type, scales_type, expected):
    model = build_model(
        tokens_type,
        counts_type,
        scales_shape=None if scales_type is None else ["A"],
        scales_type=scales_type or 1,
    )
    sess = session(model)
    tokens = np.zeros((4, 2), helper.tensor_dtype_to_np_dtype(tokens_type))
    counts = np.array([[1, 3]], helper.tensor_dtype_to_np_dtype(counts_type))
    scales = None if scales_type is None else np.zeros(4, helper.tensor_dtype_to_np_dtype(scales_type))
    feeds = {"tokens": mrr_ort.ortvalue(tokens, tokens_type), "counts": mrr_ort.ortvalue(counts)}
    if scales is not None:
        feeds["scales"] = mrr_ort.ortvalue(scales)
    with pytest.raises(Exception) as info:
        sess.run_with_ort_values(None, feeds)
    assert expected in str(info.value), str(info.value)


def test_attribute_out_of_range_is_reported_at_run(rng):
    tokens, counts, _ = case(rng, a=8, h=2, n=1, e=2)
    sess = session(build_model(TensorProto.INT8, TensorProto.INT32, idx_type=2))
    _expect_run_error(sess, tokens, counts, None, "idx_type")


def test_make_node_checks_its_arguments():
    from moe_re_routing.errors import MoeReRoutingTypeError, MoeReRoutingValueError

    with pytest.raises(MoeReRoutingTypeError, match="unknown attribute 'idx'"):
        mrr_ort.make_node(["t", "c"], OUT_NAMES, idx=1)
    with pytest.raises(MoeReRoutingTypeError, match="idx_type must be an int"):
        mrr_ort.make_node(["t", "c"], OUT_NAMES, idx_type=1.0)
    with pytest.raises(MoeReRoutingValueError, match="inputs must be"):
        mrr_ort.make_node(["t"], OUT_NAMES)
    with pytest.raises(MoeReRoutingValueError, match="outputs must be 4 names"):
        mrr_ort.make_node(["t", "c"], OUT_NAMES[:3])
    node = mrr_ort.make_node(["t", "c", ""], OUT_NAMES)
    assert list(node.input) == ["t", "c"]  # a trailing absent optional input is left out
    assert (node.domain, node.op_type, len(node.attribute)) == ("moe_re_routing", "MoeReRouting", 0)


def test_python_constants_match_the_shared_header():
    """DOMAIN, OP_TYPE, the version and the attributes are what the ORT library and the ATC plugin use."""
    header = (REPO / "framework/onnx_plugin/moe_re_routing_onnx_node.h").read_text()
    macros = dict(re.findall(r"#define (MOE_RE_ROUTING_ONNX_\w+) (\"[^\"]*\"|\d+)", header))
    assert macros["MOE_RE_ROUTING_ONNX_DOMAIN"] == f'"{mrr_ort.DOMAIN}"'
    assert macros["MOE_RE_ROUTING_ONNX_OP_TYPE"] == f'"{mrr_ort.OP_TYPE}"'
    assert int(macros["MOE_RE_ROUTING_ONNX_DOMAIN_VERSION"]) == mrr_ort.DOMAIN_VERSION
    for name, default in mrr_ort.ATTRIBUTES.items():
        key = name.upper()
        assert macros[f"MOE_RE_ROUTING_ONNX_ATTR_{key}"] == f'"{name}"'
        assert int(macros[f"MOE_RE_ROUTING_ONNX_DEFAULT_{key}"]) == default
    plugin = (REPO / "framework/onnx_plugin/moe_re_routing_onnx_plugin.cc").read_text()
    assert "AscendString(MOE_RE_ROUTING_ONNX_ATC_ORIGIN_TYPE)" in plugin


def test_one_session_from_several_threads(rng):
    """ONNX Runtime may run a session from many threads at once; each run gets its own results."""
    from concurrent.futures import ThreadPoolExecutor

    sess = session(build_model(TensorProto.FLOAT16, TensorProto.INT64, scales_shape=["A"], idx_type=1))
    cases = [
        case(rng, a=32 + 8 * i, h=8, carrier=np.float16, counts_dtype=np.int64, scales_shape=(32 + 8 * i,))
        for i in range(8)
    ]

    def one(c):
        tokens, counts, scales = c
        return run(sess, tokens, counts, scales)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, cases * 3))
    for (tokens, counts, scales), got in zip(cases * 3, results):
        assert_result_equal(got, moe_re_routing_reference(tokens, counts, scales, 1, 1))
