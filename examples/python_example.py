"""MoeReRouting from Python: numpy in, numpy out; then the same on device buffers.

    pip install .            # from the repository root (CPU backend without an NPU)
    python examples/python_example.py

A device holds A tokens that arrived rank-major from N ranks, for its E local experts; the
operator reorders them expert-major for the grouped matmul, moving each token's scale with it.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

import moe_re_routing as mrr


def main() -> None:
    rng = np.random.default_rng(0)
    hidden = 8
    # counts[r, e]: tokens that rank r sent for local expert e (zeros are fine). N = 4, E = 3.
    counts = np.array([[2, 0, 1], [1, 3, 0], [0, 1, 2], [1, 1, 0]], dtype=np.int32)
    n_experts = counts.shape[1]
    a = int(counts.sum())
    tokens = rng.standard_normal((a, hidden)).astype(ml_dtypes.bfloat16)  # [A, H] bf16
    scales = rng.random(a, dtype=np.float32)  # [A] float32

    print(f"backend: {mrr.backend.name} ({mrr.backend.library})")
    res = mrr.moe_re_routing(tokens, counts, scales)  # same call as torch_npu.npu_moe_re_routing
    print("permute_token_idx (gather):", res.permute_token_idx.tolist())
    print("expert_token_num          :", res.expert_token_num.tolist())
    assert np.array_equal(res.permute_tokens, tokens[res.permute_token_idx])
    assert np.array_equal(res.permute_per_token_scales, scales[res.permute_token_idx])

    # [ext] cumsum counts and the scatter index, into preallocated outputs (no allocation).
    out = mrr.MoeReRoutingResult(
        np.empty_like(tokens), np.empty_like(scales), np.empty(a, np.int32), np.empty(n_experts, np.int32)
    )
    mrr.moe_re_routing(tokens, counts, scales, expert_token_num_type=0, idx_type=1, out=out)
    print("expert_token_num (cumsum) :", out.expert_token_num.tolist())
    assert np.array_equal(out.permute_tokens[out.permute_token_idx], tokens)

    # The numpy reference written from the spec agrees bit for bit.
    ref = mrr.moe_re_routing_reference(tokens, counts, scales)
    assert all(np.array_equal(x.view(np.uint8), y.view(np.uint8)) for x, y in zip(res, ref))

    # Errors name the parameter and carry the aclnn status.
    try:
        mrr.moe_re_routing(tokens[:-1], counts, scales[:-1])
    except mrr.MoeReRoutingValueError as e:
        print(f"error {e.code}: {e.message}")

    # Device buffers (aclrtMalloc memory; on the CPU backend host memory of the emulated runtime):
    # how a runtime holding NPU tensors calls the operator with no host copies.
    d_tokens = mrr.DeviceTensor.from_array(tokens)
    d_counts = mrr.DeviceTensor.from_array(counts)
    d_scales = mrr.DeviceTensor.from_array(scales)
    d_out = [
        mrr.DeviceTensor.empty((a, hidden), "bfloat16"),
        mrr.DeviceTensor.empty((a,), np.float32),
        mrr.DeviceTensor.empty((a,), np.int32),
        mrr.DeviceTensor.empty((n_experts,), np.int32),
    ]
    try:
        mrr.moe_re_routing_device(d_tokens, d_counts, d_scales, out=d_out)
        assert np.array_equal(d_out[2].to_numpy(), res.permute_token_idx)
        print("device path: same permute_token_idx")
    finally:
        for t in [d_tokens, d_counts, d_scales, *d_out]:
            t.free()


if __name__ == "__main__":
    main()
