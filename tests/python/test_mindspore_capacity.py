"""MoeReRoutingWithCapacity (static capacity, docs/spec.md "Static capacity") through MindSpore (CPU),
PyNative and GRAPH mode, bit-exactly against numpy: moe_re_routing(..., num_max_tokens_per_rank=C)
and restore(..., num_max_tokens_per_rank=C) against capacity_reference, the errors named, and the
gradients: the forward's is the capacity restore of the upstream gradients (rows back into their
slots, zeros in the slot tails, which do not affect the output), the restore's is the capacity
forward of them.

Skipped (with the reason) only when mindspore is not installed; CI sets
MOE_RE_ROUTING_REQUIRE_RUNTIMES=1, which turns that skip into a failure. The results are the
operator's contract, the same on either engine.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from moe_re_routing.reference import capacity_reference
from moe_re_routing.workload import slot_counts

from conftest import assert_bytes_equal, assert_result_equal, random_rows, require_integration, require_module

ms = require_module("mindspore")
require_integration("mindspore")

from moe_re_routing import mindspore as mrr_ms  # noqa: E402
from moe_re_routing.errors import MoeReRoutingTypeError  # noqa: E402

ms.set_device("CPU")


def forward_reference(x, counts, c, scales=None, ett=1, idx=0):
    return capacity_reference(x, counts, c, scales, ett, idx)


def restore_reference(x, counts, c, scales=None):
    """The capacity restore in numpy: capacity_reference on counts.T with restore."""
    return capacity_reference(x, np.ascontiguousarray(counts.T), c, scales, restore=True)


def moved(x, counts, c, restore=False):
    """A [R] or [R, 1] float column moved like the tokens (the weights' reference)."""
    ref = restore_reference if restore else forward_reference
    return ref(x, counts, c, x).permute_per_token_scales


class Capacity(ms.nn.Cell):
    """moe_re_routing(..., num_max_tokens_per_rank=C) or restore(...) inside construct."""

    def __init__(self, c, restore=False, ett=1, idx=0):
        super().__init__()
        self.c = c
        self.restore = restore
        self.ett = ett
        self.idx = idx

    def construct(self, tokens, counts, scales, weights):
        if self.restore:
            return mrr_ms.restore(tokens, counts, scales, weights, num_max_tokens_per_rank=self.c)
        return mrr_ms.moe_re_routing(
            tokens, counts, scales, weights, expert_token_num_type=self.ett, idx_type=self.idx,
            num_max_tokens_per_rank=self.c,
        )  # fmt: skip


def _tensor(x):
    return None if x is None else mrr_ms.tensor(x)


def run(mode, tokens, counts, c, scales=None, weights=None, restore=False, ett=1, idx=0):
    args = [_tensor(tokens), _tensor(counts), _tensor(scales), _tensor(weights)]
    if mode == "graph":
        out = Capacity(c, restore, ett, idx)(*args)
    elif restore:
        out = mrr_ms.restore(*args, num_max_tokens_per_rank=c)
    else:
        out = mrr_ms.moe_re_routing(*args, expert_token_num_type=ett, idx_type=idx, num_max_tokens_per_rank=c)
    assert len(out) == (4 if weights is None else 5)
    return [mrr_ms.to_numpy(o) for o in out]


def case(rng, n, e, c, h, dtype=np.float32, counts_dtype=np.int32):
    counts = slot_counts(rng, n, e, c, counts_dtype)
    return random_rows(rng, (n * c, h), dtype), counts  # slot tails hold garbage


@pytest.mark.parametrize("weights", [False, True], ids=["no-weights", "weights"])
@pytest.mark.parametrize("scales_cols", [None, 0, 2], ids=["no-scales", "scales-R", "scales-RxS"])
@pytest.mark.parametrize(("ett", "idx"), [(1, 0), (0, 1)])
def test_forward_bit_exact(rng, mode, ett, idx, scales_cols, weights):
    n, e, c = 4, 3, 15
    tokens, counts = case(rng, n, e, c, 16, ml_dtypes.bfloat16)
    scales = (
        None
        if scales_cols is None
        else random_rows(rng, (n * c,) if scales_cols == 0 else (n * c, scales_cols), np.float32)
    )
    w = random_rows(rng, (n * c, 1), np.float32) if weights else None
    got = run(mode, tokens, counts, c, scales, w, ett=ett, idx=idx)
    assert_result_equal(got[:4], forward_reference(tokens, counts, c, scales, ett, idx))
    if weights:
        assert_bytes_equal(got[4], moved(w, counts, c), "permute_topk_weight")
    t = int(counts.sum())
    assert got[0].shape == tokens.shape and not got[0][t:].view(np.uint8).any()


@pytest.mark.parametrize("counts_dtype", [np.int32, np.int64], ids=["int32", "int64"])
def test_restore_bit_exact_and_round_trip(rng, mode, counts_dtype):
    n, e, c = 3, 5, 12
    tokens, counts = case(rng, n, e, c, 8, np.int8, counts_dtype)
    scales = random_rows(rng, (n * c,), np.float32)
    weights = random_rows(rng, (n * c,), np.float32)
    fwd = run(mode, tokens, counts, c, scales, weights)
    back = run(mode, fwd[0], counts, c, fwd[1], fwd[4], restore=True)
    want = restore_reference(fwd[0], counts, c, fwd[1])
    assert_result_equal(back[:4], want)
    assert_bytes_equal(back[4], moved(fwd[4], counts, c, restore=True), "weights back")
    held = counts.sum(axis=1)
    for r in range(n):
        rows = slice(r * c, r * c + int(held[r]))
        tail = slice(r * c + int(held[r]), (r + 1) * c)
        assert_bytes_equal(back[0][rows], tokens[rows], f"rank {r} tokens")
        assert_bytes_equal(back[1][rows], scales[rows], f"rank {r} scales")
        assert_bytes_equal(back[4][rows], weights[rows], f"rank {r} weights")
        assert not back[0][tail].any() and not back[4][tail].view(np.uint8).any(), f"rank {r} tail"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("capacity_zero", "num_max_tokens_per_rank is 0 but must be >= 1"),
        ("rows", "tokens has 39 rows but must be N * num_max_tokens_per_rank = 4 * 10 = 40"),
        ("full", "expert_token_num_per_rank row 1 (rank 1) sums to 11 but num_max_tokens_per_rank is 10"),
    ],
)
def test_bad_capacity_raises_our_message_and_mindspore_goes_on(rng, mode, change, message):
    tokens, counts = case(rng, 4, 3, 10, 8)
    c = 0 if change == "capacity_zero" else 10
    if change == "rows":
        tokens = tokens[:-1]
    elif change == "full":
        counts[1] = 0
        counts[1, 2] = 11
    with pytest.raises(
        RuntimeError, match=r"MoeReRoutingWithCapacity: ACLNN_ERR_PARAM_INVALID \(161002\)"
    ) as info:
        run(mode, tokens, counts, c)
    assert message in str(info.value), str(info.value)
    good, good_counts = case(rng, 4, 3, 10, 8)
    assert_result_equal(run(mode, good, good_counts, 10), forward_reference(good, good_counts, 10))


def test_restore_of_a_slot_over_capacity_is_named(rng, mode):
    # Rank 0 would get 3 + 2 = 5 tokens back into its slot of 4 rows.
    counts = np.array([[3, 2], [0, 1]], np.int32)
    with pytest.raises(RuntimeError, match=r"rank 0 of the restore's counts.T\) sums to 5"):
        run(mode, random_rows(rng, (2 * 4, 4), np.int8), counts, 4, restore=True)


def test_capacity_must_be_an_int_and_inputs_tensors():
    tokens = mrr_ms.tensor(np.zeros((4, 2), np.int8))
    counts = mrr_ms.tensor(np.array([[1, 3]], np.int32))
    for bad in (True, 4.0, "4"):
        with pytest.raises(MoeReRoutingTypeError, match="num_max_tokens_per_rank must be an int"):
            mrr_ms.moe_re_routing(tokens, counts, num_max_tokens_per_rank=bad)  # type: ignore[arg-type]
        with pytest.raises(MoeReRoutingTypeError, match="num_max_tokens_per_rank must be an int"):
            mrr_ms.restore(tokens, counts, num_max_tokens_per_rank=bad)  # type: ignore[arg-type]
    with pytest.raises(MoeReRoutingTypeError, match=r"tokens must be a mindspore\.Tensor"):
        mrr_ms.restore(np.zeros((4, 2), np.int8), counts, num_max_tokens_per_rank=4)


class Differentiated(ms.nn.Cell):
    """The outputs with a gradient: tokens, scales and weights outputs (forward or restore)."""

    def __init__(self, c, restore, with_scales, with_weights):
        super().__init__()
        self.c = c
        self.restore = restore
        self.with_scales = with_scales
        self.with_weights = with_weights

    def construct(self, tokens, counts, scales, weights):
        if self.restore:
            out = mrr_ms.restore(tokens, counts, scales, weights, num_max_tokens_per_rank=self.c)
        else:
            out = mrr_ms.moe_re_routing(tokens, counts, scales, weights, num_max_tokens_per_rank=self.c)
        if self.with_weights:
            return out[0], out[1], out[4]
        return out[0], out[1]


def grads_with_sens(c, restore, tokens, counts, scales, weights, sens):
    net = Differentiated(c, restore, scales is not None, weights is not None)
    args = [_tensor(tokens), _tensor(counts), _tensor(scales), _tensor(weights)]
    grads = ms.ops.GradOperation(get_all=True, sens_param=True)(net)(
        *args, tuple(mrr_ms.tensor(s) for s in sens)
    )
    return [mrr_ms.to_numpy(g) for g in grads]


@pytest.mark.parametrize("weights_shape", [None, (1,), ()], ids=["no-weights", "weights-Rx1", "weights-R"])
@pytest.mark.parametrize("scales_cols", [None, 0, 3], ids=["no-scales", "scales-R", "scales-RxS"])
@pytest.mark.parametrize("restore", [False, True], ids=["forward", "restore"])
def test_gradient_is_the_other_direction(rng, mode, restore, scales_cols, weights_shape):
    """Forward: the gradient is the capacity restore of the upstream gradients; restore: the
    capacity forward of them. Byte for byte against numpy (random bytes, NaNs included)."""
    n, e, c = 3, 4, 10
    tokens, counts = case(rng, n, e, c, 6)
    rows = n * c
    s_shape = None if scales_cols is None else ((rows,) if scales_cols == 0 else (rows, scales_cols))
    scales = None if s_shape is None else random_rows(rng, s_shape, np.float32)
    weights = None if weights_shape is None else random_rows(rng, (rows, *weights_shape), np.float32)
    d_tokens = random_rows(rng, (rows, 6), np.float32)
    d_scales = random_rows(rng, s_shape or (rows,), np.float32)
    d_weights = None if weights is None else random_rows(rng, weights.shape, np.float32)
    sens = [d_tokens, d_scales] + ([] if d_weights is None else [d_weights])
    grads = grads_with_sens(c, restore, tokens, counts, scales, weights, sens)
    inverse = forward_reference if restore else restore_reference
    back = inverse(d_tokens, counts, c, d_scales)
    assert_bytes_equal(grads[0], back.permute_tokens, "grad tokens")
    assert_bytes_equal(grads[1], np.zeros_like(counts), "grad counts")
    k = 2
    if scales is not None:
        assert_bytes_equal(grads[k], back.permute_per_token_scales, "grad scales")
        k += 1
    if weights is not None:
        assert_bytes_equal(grads[k], moved(d_weights, counts, c, restore=not restore), "grad weights")
        k += 1
    assert len(grads) == k
    if not restore:  # slot tails do not reach the output: their gradient is zero
        held = counts.sum(axis=1)
        for r in range(n):
            assert not grads[0][r * c + int(held[r]) : (r + 1) * c].view(np.uint8).any(), f"rank {r} tail"


@pytest.mark.parametrize(
    ("carrier", "differentiable"),
    [(np.float16, True), (np.int8, False)],
    ids=["float16", "int8"],
)
def test_gradient_by_tokens_dtype(rng, mode, carrier, differentiable):
    n, e, c = 2, 3, 9
    tokens, counts = case(rng, n, e, c, 5, carrier, np.int64)
    weights = random_rows(rng, (n * c, 1), np.float32)
    d_tokens = random_rows(rng, (n * c, 5), carrier)
    d_weights = random_rows(rng, (n * c, 1), np.float32)
    grads = grads_with_sens(
        c, False, tokens, counts, None, weights, [d_tokens, np.zeros(n * c, np.float32), d_weights]
    )
    want = restore_reference(d_tokens, counts, c).permute_tokens if differentiable else np.zeros_like(tokens)
    assert_bytes_equal(grads[0], want, "grad tokens")
    assert_bytes_equal(grads[1], np.zeros_like(counts), "grad counts")
    assert_bytes_equal(grads[2], moved(d_weights, counts, c, restore=True), "grad weights")


class Loss(ms.nn.Cell):
    """sum(permute_tokens * a) + sum(permute_topk_weight * b) of the capacity forward."""

    def __init__(self, c, a, b):
        super().__init__()
        self.c = c
        self.a = a
        self.b = b

    def construct(self, tokens, counts, weights):
        out = mrr_ms.moe_re_routing(tokens, counts, None, weights, num_max_tokens_per_rank=self.c)
        return (out[0] * self.a).sum() + (out[4] * self.b).sum()


def test_mindspore_grad_of_a_loss(rng, mode):
    """mindspore.grad of a scalar loss: the gradients are the capacity restore of the coefficients
    (normal finite numbers: MindSpore's own multiplication canonicalises NaNs and flushes denormals)."""
    n, e, c = 4, 2, 14
    counts = slot_counts(rng, n, e, c)
    tokens = rng.standard_normal((n * c, 5), dtype=np.float32)
    weights = rng.standard_normal((n * c, 1), dtype=np.float32)
    a = rng.standard_normal((n * c, 5), dtype=np.float32)
    b = rng.standard_normal((n * c, 1), dtype=np.float32)
    loss = Loss(c, mrr_ms.tensor(a), mrr_ms.tensor(b))
    grad_tokens, grad_weights = ms.grad(loss, grad_position=(0, 2))(
        mrr_ms.tensor(tokens), mrr_ms.tensor(counts), mrr_ms.tensor(weights)
    )
    assert_bytes_equal(
        mrr_ms.to_numpy(grad_tokens), restore_reference(a, counts, c).permute_tokens, "grad tokens"
    )
    assert_bytes_equal(mrr_ms.to_numpy(grad_weights), moved(b, counts, c, restore=True), "grad weights")
