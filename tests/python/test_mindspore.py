"""The MindSpore custom operator against the real MindSpore (CPU), PyNative and GRAPH mode,
bit-exactly against the reference.

Skipped (with the reason) only when mindspore is not installed; CI sets
MOE_RE_ROUTING_REQUIRE_RUNTIMES=1, which turns that skip into a failure.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from moe_re_routing.reference import moe_re_routing_reference

from conftest import assert_result_equal, random_counts, random_rows, require_integration, require_module

ms = require_module("mindspore")
require_integration("mindspore")

from moe_re_routing import mindspore as mrr_ms  # noqa: E402

ms.set_device("CPU")

# (id, numpy carrier, explicit MindSpore dtype name for carriers numpy cannot name)
TOKEN_TYPES = [
    ("int8", np.int8, None),
    ("uint8", np.uint8, None),
    ("int16", np.int16, None),
    ("uint16", np.uint16, None),
    ("int32", np.int32, None),
    ("float16", np.float16, None),
    ("bfloat16", ml_dtypes.bfloat16, None),
    ("float32", np.float32, None),
    ("float8_e4m3fn", ml_dtypes.float8_e4m3fn, None),
    ("float8_e5m2", ml_dtypes.float8_e5m2, None),
    ("hifloat8", np.uint8, "hifloat8"),
]


class FunctionNet(ms.nn.Cell):
    """moe_re_routing() called inside construct (compiled in GRAPH mode)."""

    def __init__(self, expert_token_num_type=1, idx_type=0):
        super().__init__()
        self.ett = expert_token_num_type
        self.idx = idx_type

    def construct(self, tokens, counts, scales=None):
        return mrr_ms.moe_re_routing(
            tokens, counts, scales, expert_token_num_type=self.ett, idx_type=self.idx
        )


def call(mode, tokens, counts, scales=None, ett=1, idx=0, tokens_dtype=None):
    """Runs the operator on numpy inputs (bit-exact conversions) and returns numpy outputs."""
    t = mrr_ms.tensor(tokens, tokens_dtype)
    c = mrr_ms.tensor(counts)
    s = None if scales is None else mrr_ms.tensor(scales)
    if mode == "graph":
        out = FunctionNet(ett, idx)(t, c, s)
    else:
        out = mrr_ms.moe_re_routing(t, c, s, expert_token_num_type=ett, idx_type=idx)
    assert len(out) == 4
    return [mrr_ms.to_numpy(o) for o in out]


@pytest.mark.parametrize("counts_dtype", [np.int32, np.int64], ids=["int32", "int64"])
@pytest.mark.parametrize(("name", "carrier", "explicit"), TOKEN_TYPES, ids=[t[0] for t in TOKEN_TYPES])
def test_every_token_dtype_bit_exact_pynative(rng, name, carrier, explicit, counts_dtype):
    tokens = random_rows(rng, (72, 20), carrier)
    counts = random_counts(rng, 3, 4, 72, counts_dtype)
    scales = random_rows(rng, (72,), np.float32)
    got = call("pynative", tokens, counts, scales, tokens_dtype=explicit)
    assert_result_equal(got, moe_re_routing_reference(tokens, counts, scales))


@pytest.mark.parametrize("scales_shape", [None, (60,), (60, 2)], ids=["no-scales", "scales-A", "scales-AxS"])
@pytest.mark.parametrize(("ett", "idx"), [(1, 0), (0, 1), (1, 1), (0, 0)])
def test_attributes_and_scales(rng, mode, ett, idx, scales_shape):
    tokens = random_rows(rng, (60, 16), ml_dtypes.bfloat16)
    counts = random_counts(rng, 4, 3, 60, np.int32)
    scales = None if scales_shape is None else random_rows(rng, scales_shape, np.float32)
    got = call(mode, tokens, counts, scales, ett, idx)
    assert_result_equal(got, moe_re_routing_reference(tokens, counts, scales, ett, idx))


def test_cell_in_both_modes(rng, mode):
    tokens = random_rows(rng, (48, 8), np.int8)
    counts = random_counts(rng, 2, 5, 48, np.int64)
    scales = random_rows(rng, (48,), np.float32)
    out = mrr_ms.MoeReRouting(expert_token_num_type=0, idx_type=1)(
        mrr_ms.tensor(tokens), mrr_ms.tensor(counts), mrr_ms.tensor(scales)
    )
    got = [mrr_ms.to_numpy(o) for o in out]
    assert_result_equal(got, moe_re_routing_reference(tokens, counts, scales, 0, 1))


def test_zero_cells_and_empty_input(rng, mode):
    tokens = random_rows(rng, (40, 8), np.float16)
    counts = random_counts(rng, 5, 5, 40, np.int32, zero_frac=0.6)
    assert (counts == 0).any()
    assert_result_equal(call(mode, tokens, counts), moe_re_routing_reference(tokens, counts))
    empty = np.zeros((0, 8), np.float16)
    zero_counts = np.zeros((5, 5), np.int32)
    got = call(mode, empty, zero_counts)
    assert [g.shape for g in got] == [(0, 8), (0,), (0,), (5,)]
    assert_result_equal(got, moe_re_routing_reference(empty, zero_counts))


def test_bad_counts_raise_our_message_and_mindspore_goes_on(rng, mode):
    tokens = random_rows(rng, (64, 8), np.int8)
    counts = random_counts(rng, 2, 2, 64, np.int32)
    bad = counts.copy()
    bad[1, 1] += 6
    with pytest.raises(RuntimeError, match="expert_token_num_per_rank sums to 70 but tokens has 64 rows"):
        call(mode, tokens, bad)
    assert_result_equal(call(mode, tokens, counts), moe_re_routing_reference(tokens, counts))


@pytest.mark.parametrize(
    ("tokens", "counts", "scales", "expected"),
    [
        (np.zeros((4, 2), np.float64), np.array([[1, 3]], np.int32), None, "tokens has dtype DOUBLE"),
        (
            np.zeros((4, 2), np.int8),
            np.array([[1.0, 3.0]], np.float32),
            None,
            "expert_token_num_per_rank has dtype FLOAT",
        ),
        (
            np.zeros((4, 2), np.int8),
            np.array([[1, 3]], np.int32),
            np.zeros(4, np.int8),
            "per_token_scales has dtype INT8",
        ),
        (
            np.zeros((4, 2), np.int8),
            np.array([[1, 3]], np.int32),
            np.zeros(5, np.float32),
            "per_token_scales",
        ),
    ],
    ids=["tokens-double", "counts-float", "scales-int8", "scales-rows"],
)
def test_wrong_inputs_raise_our_message(tokens, counts, scales, expected):
    with pytest.raises(RuntimeError, match=expected):
        call("pynative", tokens, counts, scales)


def test_attribute_out_of_range_and_type():
    from moe_re_routing.errors import MoeReRoutingTypeError

    tokens, counts = np.zeros((4, 2), np.int8), np.array([[1, 3]], np.int32)
    with pytest.raises(RuntimeError, match="idx_type"):
        call("pynative", tokens, counts, idx=2)
    with pytest.raises(MoeReRoutingTypeError, match="expert_token_num_type must be an int"):
        mrr_ms.custom_op(expert_token_num_type=1.5)


def test_tensor_helpers_are_bit_exact(rng):
    for carrier, explicit in [
        (ml_dtypes.bfloat16, None),
        (ml_dtypes.float8_e5m2, None),
        (np.uint8, "hifloat8"),
    ]:
        a = random_rows(rng, (3, 5), carrier)
        back = mrr_ms.to_numpy(mrr_ms.tensor(a, explicit))
        assert back.dtype == a.dtype and np.array_equal(back.view(np.uint8), a.view(np.uint8))


def test_numpy_inputs_are_a_type_error_not_a_crash():
    """MindSpore hands a custom operator's non-tensor inputs to its shape inference without a
    shape; the wrapper stops them first. Run in a subprocess: the old behaviour was a segfault."""
    import subprocess
    import sys

    script = """
import numpy as np
from moe_re_routing.errors import MoeReRoutingTypeError
from moe_re_routing.mindspore import MoeReRouting, moe_re_routing, tensor
t, c = np.zeros((4, 8), np.float16), np.array([[2, 2]], np.int32)
cases = [
    (moe_re_routing, (t, c), "tokens must be a mindspore.Tensor, got ndarray"),
    (moe_re_routing, (tensor(t), c), "expert_token_num_per_rank must be a mindspore.Tensor, got ndarray"),
    (moe_re_routing, (tensor(t), tensor(c), np.zeros(4, np.float32)),
     "per_token_scales must be a mindspore.Tensor or None, got ndarray"),
    (MoeReRouting(), (t, c), "tokens must be a mindspore.Tensor, got ndarray"),
]
for fn, args, message in cases:
    try:
        fn(*args)
    except MoeReRoutingTypeError as e:
        assert isinstance(e, TypeError) and message in e.message, e.message
    else:
        raise SystemExit("no error for " + message)
assert len(moe_re_routing(tensor(t), tensor(c))) == 4
# The primitive itself (no Python check): the library's InferShape refuses a shapeless input.
from moe_re_routing.mindspore import custom_op
try:
    custom_op(has_scales=False)(t, c, None)
except RuntimeError as e:
    assert "MoeReRouting: tokens has no shape: pass a mindspore.Tensor" in str(e), str(e)
else:
    raise SystemExit("the primitive took a numpy array")
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    assert run.stdout.strip().endswith("ok")
