"""MoeReRoutingV2 (the weight pair) and the gradient of the MindSpore operator against the real
MindSpore (CPU), PyNative and GRAPH mode, bit-exactly against numpy.

The forward reference is moe_re_routing_reference (the weights move like a one-column scale, so
their reference is the scales output for the weights given as scales). The gradient reference is
the restore computed in numpy: the reference on the upstream gradients with the counts transposed.
Skipped (with the reason) only when mindspore is not installed; CI sets
MOE_RE_ROUTING_REQUIRE_RUNTIMES=1, which turns that skip into a failure.
"""

from __future__ import annotations

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

ms = require_module("mindspore")
require_integration("mindspore")

from moe_re_routing import mindspore as mrr_ms  # noqa: E402
from moe_re_routing.errors import MoeReRoutingTypeError  # noqa: E402

ms.set_device("CPU")


def weights_reference(tokens, counts, weights):
    return moe_re_routing_reference(tokens, counts, weights).permute_per_token_scales


def restore_reference(grad, counts, scales_grad=None):
    """The restore in numpy: the reference with the counts transposed (docs/spec.md)."""
    return moe_re_routing_reference(grad, np.ascontiguousarray(counts.T), scales_grad)


class Forward(ms.nn.Cell):
    """moe_re_routing(...) with weights inside construct (compiled in GRAPH mode)."""

    def __init__(self, ett=1, idx=0):
        super().__init__()
        self.ett = ett
        self.idx = idx

    def construct(self, tokens, counts, scales, weights):
        return mrr_ms.moe_re_routing(
            tokens, counts, scales, weights, expert_token_num_type=self.ett, idx_type=self.idx
        )


class Differentiated(ms.nn.Cell):
    """The outputs that have a gradient: permute_tokens, the scales output, permute_topk_weight."""

    def __init__(self, with_scales, with_weights, ett=1, idx=0):
        super().__init__()
        self.with_scales = with_scales
        self.with_weights = with_weights
        self.ett = ett
        self.idx = idx

    def construct(self, tokens, counts, scales, weights):
        if self.with_weights:
            out = mrr_ms.moe_re_routing(
                tokens, counts, scales, weights, expert_token_num_type=self.ett, idx_type=self.idx
            )
            return out[0], out[1], out[4]
        out = mrr_ms.moe_re_routing(tokens, counts, scales, expert_token_num_type=self.ett, idx_type=self.idx)
        return out[0], out[1]


def run_forward(mode, tokens, counts, scales, weights, ett=1, idx=0):
    args = [mrr_ms.tensor(tokens), mrr_ms.tensor(counts)]
    args += [None if scales is None else mrr_ms.tensor(scales), mrr_ms.tensor(weights)]
    if mode == "graph":
        out = Forward(ett, idx)(*args)
    else:
        out = mrr_ms.moe_re_routing(*args, expert_token_num_type=ett, idx_type=idx)
    assert len(out) == 5
    return [mrr_ms.to_numpy(o) for o in out]


@pytest.mark.parametrize("weights_shape", [(60, 1), (60,)], ids=["weights-Ax1", "weights-A"])
@pytest.mark.parametrize("scales_shape", [None, (60,), (60, 2)], ids=["no-scales", "scales-A", "scales-AxS"])
@pytest.mark.parametrize(("ett", "idx"), [(1, 0), (0, 1)])
def test_v2_forward_bit_exact(rng, mode, ett, idx, scales_shape, weights_shape):
    tokens = random_rows(rng, (60, 16), ml_dtypes.bfloat16)
    counts = random_counts(rng, 4, 3, 60, np.int32, zero_frac=0.2)
    scales = None if scales_shape is None else random_rows(rng, scales_shape, np.float32)
    weights = random_rows(rng, weights_shape, np.float32)
    got = run_forward(mode, tokens, counts, scales, weights, ett, idx)
    assert_result_equal(got[:4], moe_re_routing_reference(tokens, counts, scales, ett, idx))
    assert_bytes_equal(got[4], weights_reference(tokens, counts, weights), "permute_topk_weight")


def test_v2_cell_and_empty_input(rng, mode):
    cell = mrr_ms.MoeReRouting(expert_token_num_type=0, idx_type=1)
    tokens = random_rows(rng, (48, 8), np.int8)
    counts = random_counts(rng, 2, 5, 48, np.int64)
    weights = random_rows(rng, (48, 1), np.float32)
    out = cell(mrr_ms.tensor(tokens), mrr_ms.tensor(counts), None, mrr_ms.tensor(weights))
    got = [mrr_ms.to_numpy(o) for o in out]
    assert_result_equal(got[:4], moe_re_routing_reference(tokens, counts, None, 0, 1))
    assert_bytes_equal(got[4], weights_reference(tokens, counts, weights), "permute_topk_weight")
    empty = run_forward(
        mode, np.zeros((0, 8), np.int8), np.zeros((2, 5), np.int32), None, np.zeros((0, 1), np.float32)
    )
    assert [g.shape for g in empty] == [(0, 8), (0,), (0,), (5,), (0, 1)]


def test_v2_bad_weights_raise_our_message_and_mindspore_goes_on(rng, mode):
    tokens = random_rows(rng, (32, 4), np.float16)
    counts = random_counts(rng, 2, 2, 32, np.int32)
    with pytest.raises(
        RuntimeError, match=r"MoeReRoutingV2: ACLNN_ERR_PARAM_INVALID \(161002\): expert_topk_weight"
    ):
        run_forward(mode, tokens, counts, None, random_rows(rng, (31, 1), np.float32))
    with pytest.raises(RuntimeError, match="expert_topk_weight has dtype FLOAT16"):
        run_forward(mode, tokens, counts, None, random_rows(rng, (32, 1), np.float16))
    weights = random_rows(rng, (32, 1), np.float32)
    got = run_forward(mode, tokens, counts, None, weights)
    assert_bytes_equal(got[4], weights_reference(tokens, counts, weights), "permute_topk_weight")


def test_v2_weights_must_be_a_tensor():
    tokens = mrr_ms.tensor(np.zeros((4, 2), np.int8))
    counts = mrr_ms.tensor(np.array([[1, 3]], np.int32))
    with pytest.raises(
        MoeReRoutingTypeError, match=r"expert_topk_weight must be a mindspore\.Tensor or None"
    ):
        mrr_ms.moe_re_routing(tokens, counts, None, np.zeros((4, 1), np.float32))


def grads_with_sens(tokens, counts, scales, weights, sens, ett=1, idx=0):
    """ops.GradOperation(get_all, sens_param): the gradients for given upstream gradients."""
    net = Differentiated(scales is not None, weights is not None, ett, idx)
    args = [mrr_ms.tensor(tokens), mrr_ms.tensor(counts)]
    args += [
        None if scales is None else mrr_ms.tensor(scales),
        None if weights is None else mrr_ms.tensor(weights),
    ]
    grads = ms.ops.GradOperation(get_all=True, sens_param=True)(net)(
        *args, tuple(mrr_ms.tensor(s) for s in sens)
    )
    return [mrr_ms.to_numpy(g) for g in grads]


@pytest.mark.parametrize(
    "weights_shape", [None, (72, 1), (72,)], ids=["no-weights", "weights-Ax1", "weights-A"]
)
@pytest.mark.parametrize("scales_shape", [None, (72,), (72, 3)], ids=["no-scales", "scales-A", "scales-AxS"])
def test_gradient_is_the_restore_of_the_upstream_gradients(rng, mode, scales_shape, weights_shape):
    tokens = random_rows(rng, (72, 10), np.float32)
    counts = random_counts(rng, 3, 4, 72, np.int32, zero_frac=0.2)
    scales = None if scales_shape is None else random_rows(rng, scales_shape, np.float32)
    weights = None if weights_shape is None else random_rows(rng, weights_shape, np.float32)
    d_tokens = random_rows(rng, (72, 10), np.float32)
    d_scales = random_rows(rng, scales_shape or (72,), np.float32)
    d_weights = None if weights is None else random_rows(rng, weights_shape, np.float32)
    sens = [d_tokens, d_scales] + ([] if weights is None else [d_weights])
    grads = grads_with_sens(tokens, counts, scales, weights, sens, ett=0, idx=1)
    back = restore_reference(d_tokens, counts, d_scales)
    assert_bytes_equal(grads[0], back.permute_tokens, "grad tokens")
    assert_bytes_equal(grads[1], np.zeros_like(counts), "grad counts")
    n = 2
    if scales is not None:
        assert_bytes_equal(grads[n], back.permute_per_token_scales, "grad scales")
        n += 1
    if weights is not None:
        assert_bytes_equal(
            grads[n], restore_reference(d_weights, counts, None).permute_tokens, "grad weights"
        )
        n += 1
    assert len(grads) == n


@pytest.mark.parametrize(
    ("carrier", "differentiable"),
    [(np.float16, True), (ml_dtypes.bfloat16, True), (np.int8, False), (np.int32, False)],
    ids=["float16", "bfloat16", "int8", "int32"],
)
def test_gradient_by_tokens_dtype(rng, mode, carrier, differentiable):
    tokens = random_rows(rng, (40, 6), carrier)
    counts = random_counts(rng, 2, 3, 40, np.int64)
    weights = random_rows(rng, (40, 1), np.float32)
    d_tokens = random_rows(rng, (40, 6), carrier)
    d_scales = np.zeros(40, np.float32)
    d_weights = random_rows(rng, (40, 1), np.float32)
    grads = grads_with_sens(tokens, counts, None, weights, [d_tokens, d_scales, d_weights])
    expected = restore_reference(d_tokens, counts).permute_tokens if differentiable else np.zeros_like(tokens)
    assert_bytes_equal(grads[0], expected, "grad tokens")
    assert_bytes_equal(grads[1], np.zeros_like(counts), "grad counts")
    assert_bytes_equal(grads[2], restore_reference(d_weights, counts).permute_tokens, "grad weights")


class Loss(ms.nn.Cell):
    """A scalar loss of the operator's outputs: sum(permute_tokens * a) + sum(permute_topk_weight * b)."""

    def __init__(self, a, b):
        super().__init__()
        self.a = a
        self.b = b

    def construct(self, tokens, counts, weights):
        out = mrr_ms.moe_re_routing(tokens, counts, None, weights)
        return (out[0] * self.a).sum() + (out[4] * self.b).sum()


def test_mindspore_grad_of_a_loss(rng, mode):
    """mindspore.grad of a scalar loss: the gradients are the restore of the loss's coefficients.
    The coefficients are normal finite numbers: MindSpore's own multiplication (PyNative) flushes
    denormals and canonicalises NaNs, which would change the upstream gradient before our bprop."""
    tokens = rng.standard_normal((56, 5), dtype=np.float32)
    counts = random_counts(rng, 4, 2, 56, np.int32)
    weights = rng.standard_normal((56, 1), dtype=np.float32)
    a = rng.standard_normal((56, 5), dtype=np.float32)
    b = rng.standard_normal((56, 1), dtype=np.float32)
    loss = Loss(mrr_ms.tensor(a), mrr_ms.tensor(b))
    grad_tokens, grad_weights = ms.grad(loss, grad_position=(0, 2))(
        mrr_ms.tensor(tokens), mrr_ms.tensor(counts), mrr_ms.tensor(weights)
    )
    assert_bytes_equal(
        mrr_ms.to_numpy(grad_tokens), restore_reference(a, counts).permute_tokens, "grad tokens"
    )
    assert_bytes_equal(
        mrr_ms.to_numpy(grad_weights), restore_reference(b, counts).permute_tokens, "grad weights"
    )
