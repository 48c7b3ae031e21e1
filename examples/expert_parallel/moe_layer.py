"""One expert-parallel MoE layer across MPI processes, with MoeReRouting in the middle.

Every process ("rank") owns ``T`` tokens of width ``H`` and ``E`` local experts; expert ``g`` of
the ``G = R * E`` global experts lives on rank ``g // E`` as local expert ``g % E``. The layer:

1. route     router logits ``x @ Wg``, top-k experts per token and their softmax weights
             (float32: MoeReRoutingV2's weight dtype);
2. dispatch  per-(destination rank, local expert) counts exchanged with Alltoall (each rank's
             received ``[R, E]`` matrix is MoeReRouting's ``expert_token_num_per_rank``), then
             the tokens (int8 + float32 per-token scales, or bf16) and each row's top-k weight
             with Alltoallv. They arrive rank-major: all rows from rank 0 (expert 0 first, then
             expert 1, ...), then rank 1;
3. re-route  ``moe_re_routing(..., expert_topk_weight=...)`` (MoeReRoutingV2): rank-major ->
             expert-major, scales and weights moved with their tokens;
4. experts   per local expert: dequantise its contiguous row range, multiply by its matrix, then
             multiply every output row by its weight (``permute_topk_weight``), here on the
             expert's rank;
5. restore   ``moe_re_routing.restore``: the same operator with the counts transposed brings the
             weighted rows back to the received (rank-major) order; the index-based un-permute
             (a scatter with ``permute_token_idx``) is kept only as an asserted cross-check;
6. combine   Alltoallv back to the source ranks, then the sum of each token's k weighted rows.

With ``--static`` every shape is fixed (a captured graph's needs): each rank sends each peer a slot
of ``C`` rows (``--capacity``, default ``T * min(k, E)``), slots and counts travel with fixed-size
Alltoall, MoeReRoutingWithCapacity re-routes the ``[R*C, H]`` slots, and its restore puts the
results back into per-source slots for the fixed-size return (``moe_layer_static``).

Every rank checks its output against a dense single-process MoE computed from the same seeds,
prints one line (timings per stage), and rank 0 prints ``verified`` when all ranks agree.
Any error on any rank prints ``rank <r>: error: ...`` and aborts the whole job (MPI Abort), so
a bad input never leaves the other ranks waiting in a collective.

Run with ``run.sh [RANKS]`` (mpirun) or ``mpirun -np R python moe_layer.py --help``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import NamedTuple

import ml_dtypes
import numpy as np
from mpi4py import MPI

import moe_re_routing as mrr

BF16 = np.dtype(ml_dtypes.bfloat16)


class Config(NamedTuple):
    tokens_per_rank: int  # T
    hidden: int  # H
    local_experts: int  # E
    top_k: int
    dtype: str  # "int8" (with float32 per-token scales) or "bf16"
    seed: int
    corrupt_rank: int  # -1: none; else that rank corrupts its received counts before re-routing
    static: bool = False  # fixed-size slots of `capacity` rows per peer (MoeReRoutingWithCapacity)
    capacity: int = 0  # C of the static mode; 0: default_capacity(cfg)


def default_capacity(cfg: Config) -> int:
    """The most rows one rank can send to one peer: a token's top-k experts are distinct and a peer
    owns E of them, so a token sends at most ``min(k, E)`` rows to one peer: ``C = T * min(k, E)``."""
    return cfg.tokens_per_rank * min(cfg.top_k, cfg.local_experts)


class Weights(NamedTuple):
    gate: np.ndarray  # [H, G] float64, the router
    experts: np.ndarray  # [G, H, H] float64, one matrix per global expert


class Routed(NamedTuple):
    experts: np.ndarray  # [T, k] int64: global expert of each (token, slot)
    weights: np.ndarray  # [T, k] float32: softmax of the k chosen logits, as they travel


# ---- model: everything every rank (and the dense reference) derives from the seed --------------


def make_weights(cfg: Config, ranks: int) -> Weights:
    """The router ``[H, G]`` and the experts ``[G, H, H]`` (float64), identical on every rank."""
    g = ranks * cfg.local_experts
    rng = np.random.default_rng([cfg.seed, 0])
    gate = rng.standard_normal((cfg.hidden, g)) / np.sqrt(cfg.hidden)
    experts = rng.standard_normal((g, cfg.hidden, cfg.hidden)) / np.sqrt(cfg.hidden)
    return Weights(gate, experts)


def make_tokens(cfg: Config, rank: int) -> np.ndarray:
    """Rank ``rank``'s activations ``[T, H]`` float32 (any rank can regenerate any other's)."""
    rng = np.random.default_rng([cfg.seed, 1, rank])
    return rng.standard_normal((cfg.tokens_per_rank, cfg.hidden)).astype(np.float32)


def quantise(x: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``x [T, H]`` float32 -> (tokens as sent: int8 ``[T, H]`` + float32 scales ``[T]``, or bf16)."""
    if dtype == "bf16":
        return x.astype(BF16), None
    scale = np.maximum(np.abs(x).max(axis=1), 1e-12).astype(np.float32) / np.float32(127.0)
    q = np.clip(np.rint(x / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantise(tokens: np.ndarray, scales: np.ndarray | None) -> np.ndarray:
    """Tokens as received ``[n, H]`` (+ scales ``[n]``) -> float64 ``[n, H]``."""
    x = tokens.astype(np.float64)
    return x if scales is None else x * scales.astype(np.float64)[:, None]


def route(x: np.ndarray, w: Weights, top_k: int) -> Routed:
    """Top-k experts per token (ties broken by expert id) and their softmax weights, rounded to
    float32 (the dtype MoeReRoutingV2 moves; the dense reference uses the same float32 values)."""
    logits = x.astype(np.float64) @ w.gate
    order = np.argsort(-logits, axis=1, kind="stable")[:, :top_k]
    chosen = np.take_along_axis(logits, order, axis=1)
    p = np.exp(chosen - chosen.max(axis=1, keepdims=True))
    return Routed(order.astype(np.int64), (p / p.sum(axis=1, keepdims=True)).astype(np.float32))


def weight_rows(rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Expert output rows ``[n, H]`` float64 times their top-k weight ``[n, 1]`` float32, per row.

    The one place a weight is applied, in the distributed layer (on the expert's rank, to the
    expert-major rows) and in the dense reference alike, so both round the same products."""
    return rows * weights.astype(np.float64).reshape(-1, 1)


def dense_moe(cfg: Config, rank: int, ranks: int, w: Weights) -> np.ndarray:
    """The single-process answer for ``rank``'s tokens: ``sum_k (deq(q(x)) @ W_{e_k}) * w_k``.

    Computed the way the distributed layer computes it, so that the comparison is about the data
    movement: one matrix product per expert over all its (token, slot) rows, each output row then
    multiplied by its float32 weight (as the expert's rank does), the k rows of a token summed in
    slot order (as the combine does)."""
    x = make_tokens(cfg, rank)
    q, s = quantise(x, cfg.dtype)
    deq = dequantise(q, s)
    r = route(x, w, cfg.top_k)
    per_slot = np.empty((cfg.top_k, cfg.tokens_per_rank, cfg.hidden))
    for g in range(len(w.experts)):
        t, k = np.nonzero(r.experts == g)
        per_slot[k, t] = weight_rows(deq[t] @ w.experts[g], r.weights[t, k])
    out = np.zeros((cfg.tokens_per_rank, cfg.hidden))
    for rows in per_slot:
        out += rows
    return out


# ---- the distributed layer ------------------------------------------------------------------------


def alltoallv_rows(
    comm: MPI.Comm, send: np.ndarray, send_rows: np.ndarray, recv_rows: np.ndarray
) -> np.ndarray:
    """Alltoallv of whole rows: ``send [sum(send_rows), ...]`` -> ``[sum(recv_rows), ...]``, as bytes."""
    row_bytes = int(np.prod(send.shape[1:], dtype=np.int64)) * send.dtype.itemsize
    recv = np.empty((int(recv_rows.sum()), *send.shape[1:]), dtype=send.dtype)
    sc = (send_rows * row_bytes).astype(np.int64)
    rc = (recv_rows * row_bytes).astype(np.int64)
    sd = np.concatenate(([0], np.cumsum(sc)[:-1]))
    rd = np.concatenate(([0], np.cumsum(rc)[:-1]))
    comm.Alltoallv(
        [send.view(np.uint8).reshape(-1), (sc, sd), MPI.BYTE],
        [recv.view(np.uint8).reshape(-1), (rc, rd), MPI.BYTE],
    )
    return recv


class Timer:
    """Wall time per stage on this rank (``MPI.Wtime``)."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._t = MPI.Wtime()

    def lap(self, name: str) -> None:
        now = MPI.Wtime()
        self.stages[name] = self.stages.get(name, 0.0) + now - self._t
        self._t = now


class SendPlan(NamedTuple):
    order: np.ndarray  # [T*k]: the (token, slot) rows, flattened, in send order
    token: np.ndarray  # [T*k]: the token of each row in send order
    counts: np.ndarray  # [R, E] int32: rows for (destination rank, local expert)


def send_plan(cfg: Config, r: Routed, ranks: int) -> SendPlan:
    """One row per (token, slot), sorted by global expert = by (destination rank, local expert):
    rank-major on the receiving side, expert order inside each source block, token order inside a
    cell."""
    flat_expert = r.experts.reshape(-1)
    order = np.argsort(flat_expert, kind="stable")
    token = np.repeat(np.arange(cfg.tokens_per_rank), cfg.top_k)[order]
    counts = np.bincount(flat_expert, minlength=ranks * cfg.local_experts).reshape(ranks, cfg.local_experts)
    return SendPlan(order, token, counts.astype(np.int32))


def run_experts(
    cfg: Config, w: Weights, rank: int, deq: np.ndarray, expert_token_num: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Expert-major rows ``deq [n, H]`` -> weighted expert outputs ``[n, H]`` float64.

    Local expert j owns rows ``[bounds[j], bounds[j+1])``, ``bounds`` the running sum of
    ``expert_token_num``; each output row is multiplied by its weight here, on the expert's rank
    (``permute_topk_weight``). Rows past the last expert's (the static mode's empty tail) are zero."""
    bounds = np.concatenate(([0], np.cumsum(expert_token_num.astype(np.int64))))
    out = np.zeros((len(deq), cfg.hidden))
    for j in range(cfg.local_experts):
        lo, hi = bounds[j], bounds[j + 1]
        out[lo:hi] = weight_rows(deq[lo:hi] @ w.experts[rank * cfg.local_experts + j], weights[lo:hi])
    return out


def sum_slots(cfg: Config, plan: SendPlan, back: np.ndarray) -> np.ndarray:
    """The returned rows ``[T*k, H]`` in send order -> ``y [T, H]``: un-sort to (token, slot), then
    sum each token's k rows (already weighted) slot by slot, in the order the dense reference sums."""
    per_slot = np.empty_like(back)
    per_slot[plan.order] = back  # back to (token, slot) order
    out = np.zeros((cfg.tokens_per_rank, cfg.hidden))
    for rows in per_slot.reshape(cfg.tokens_per_rank, cfg.top_k, cfg.hidden).transpose(1, 0, 2):
        out += rows
    return out


def moe_layer(comm: MPI.Comm, cfg: Config, w: Weights, timer: Timer) -> np.ndarray:
    """This rank's output ``[T, H]`` float64 of the expert-parallel MoE layer (Alltoallv)."""
    rank, ranks = comm.rank, comm.size
    x = make_tokens(cfg, rank)
    q, s = quantise(x, cfg.dtype)
    r = route(x, w, cfg.top_k)
    timer.lap("route")

    # dispatch: the rows in send order (send_plan), counts first, then rows of variable size
    plan = send_plan(cfg, r, ranks)
    order, send_counts = plan.order, plan.counts
    recv_counts = np.empty_like(send_counts)  # [R, E]: row r = what rank r sends to this rank
    comm.Alltoall(send_counts, recv_counts)
    send_rows, recv_rows = send_counts.sum(axis=1), recv_counts.sum(axis=1)
    tokens = alltoallv_rows(comm, q[plan.token], send_rows, recv_rows)
    scales = None if s is None else alltoallv_rows(comm, s[plan.token], send_rows, recv_rows)
    # each row's routing weight travels with it: [T*k, 1] float32 -> [A, 1] (V2's official shape)
    weights = alltoallv_rows(comm, r.weights.reshape(-1, 1)[order], send_rows, recv_rows)
    timer.lap("dispatch")

    # re-route: rank-major -> expert-major (counts as received: N = R source ranks, E local experts)
    if rank == cfg.corrupt_rank:
        recv_counts[0, 0] += 1  # a counts matrix that does not match the tokens received
    # MoeReRoutingV2: tokens, scales and weights all move to expert-major order
    routed = mrr.moe_re_routing(tokens, recv_counts, scales, expert_topk_weight=weights,
                                expert_token_num_type=1, idx_type=0)
    timer.lap("re-route")

    # experts: local expert j owns rows [bounds[j], bounds[j+1]) of the expert-major tokens; each
    # output row is multiplied by its weight here, on the expert's rank (permute_topk_weight)
    deq = dequantise(routed.permute_tokens, None if scales is None else routed.permute_per_token_scales)
    permute_weights = routed.permute_topk_weight
    if permute_weights is None:  # never: with expert_topk_weight, V2 returns the permuted weights
        raise RuntimeError("moe_re_routing returned no permute_topk_weight")
    expert_out = run_experts(cfg, w, rank, deq, routed.expert_token_num, permute_weights)
    timer.lap("experts")

    # restore: the operator with the counts transposed puts the rows back in the received
    # (rank-major) order. It only copies rows, so the float64 rows travel as their bytes, viewed as
    # int32 [A, 2H] (float64 is not a tokens dtype; an NPU's expert output, bf16/fp16, is one).
    restored = mrr.restore(expert_out.view(np.int32), recv_counts).tokens.view(np.float64)
    timer.lap("restore")

    # cross-check (asserted, not part of the data path): the index-based un-permute agrees, and the
    # weights were the received ones moved with their rows
    idx = routed.permute_token_idx  # gather index: permute_tokens == tokens[idx]
    by_index = np.empty_like(expert_out)
    by_index[idx] = expert_out
    if not np.array_equal(restored, by_index):
        raise RuntimeError("restore() disagrees with the scatter by permute_token_idx")
    if not np.array_equal(permute_weights, weights[idx]):
        raise RuntimeError("permute_topk_weight is not expert_topk_weight[permute_token_idx]")
    timer.lap("cross-check")

    # combine: back to the source ranks (the reverse Alltoallv), then the sum over the k slots
    # (the rows are already weighted)
    back = alltoallv_rows(comm, restored, recv_rows, send_rows)
    out = sum_slots(cfg, plan, back)
    timer.lap("combine")
    return out


# ---- the static layer (--static): fixed-size slots, MoeReRoutingWithCapacity ---------------------


def alltoall_slots(comm: MPI.Comm, send: np.ndarray) -> np.ndarray:
    """Fixed-size Alltoall of slots, as bytes: ``send [R*C, ...]`` -> ``[R*C, ...]``; slot ``d`` of
    ``send`` goes to rank ``d``, slot ``r`` of the result came from rank ``r``. Every size comes
    from the shape alone, never from a count."""
    send = np.ascontiguousarray(send)
    recv = np.empty_like(send)
    comm.Alltoall([send.view(np.uint8).reshape(-1), MPI.BYTE], [recv.view(np.uint8).reshape(-1), MPI.BYTE])
    return recv


def fill_slots(rows: np.ndarray, slot_row: np.ndarray, n: int, fill: float) -> np.ndarray:
    """``rows [m, ...]`` placed at rows ``slot_row`` of a new ``[n, ...]`` array; every other row
    holds ``fill`` (NaN where the dtype has one), which the operator must never read."""
    out = np.full((n, *rows.shape[1:]), fill, dtype=rows.dtype)
    out[slot_row] = rows
    return out


def moe_layer_static(comm: MPI.Comm, cfg: Config, w: Weights, timer: Timer) -> np.ndarray:
    """This rank's output ``[T, H]`` float64 of the layer with static shapes (``--static``).

    Every rank sends every peer a slot of ``C`` rows (its rows for that peer first, in expert
    order, then an unused tail), so both AlltoAlls are fixed-size and nothing on the receiving side
    waits for the counts on the host: MoeReRoutingWithCapacity re-routes the ``[R*C, H]`` slots as
    they arrive, and its restore puts the weighted results back into per-source slots of ``C``
    rows for the fixed-size return."""
    rank, ranks = comm.rank, comm.size
    cap = cfg.capacity or default_capacity(cfg)
    x = make_tokens(cfg, rank)
    q, s = quantise(x, cfg.dtype)
    r = route(x, w, cfg.top_k)
    timer.lap("route")

    # pack: the rows for peer d (send order, as the dynamic layer) at rows d*C .. of the send slots
    plan = send_plan(cfg, r, ranks)
    send_rows = plan.counts.sum(axis=1)
    if send_rows.max(initial=0) > cap:
        d = int(np.argmax(send_rows))
        raise ValueError(
            f"rank {rank} routes {int(send_rows[d])} rows to rank {d}, more than the capacity "
            f"C = {cap} rows per peer (--capacity; default tokens * min(top-k, experts) = "
            f"{default_capacity(cfg)})"
        )
    dest = np.repeat(np.arange(ranks), send_rows)  # destination of each row in send order
    first = np.concatenate(([0], np.cumsum(send_rows)[:-1]))
    slot_row = dest * cap + np.arange(len(dest)) - first[dest]  # its row in the send slots
    n = ranks * cap
    # the unused tail rows hold poison (NaN tokens/scales/weights, int8 -128 with NaN scales): a
    # row the operator read from a tail would make the output differ from the dense MoE
    tokens_fill = -128 if cfg.dtype == "int8" else np.nan
    send_tokens = fill_slots(q[plan.token], slot_row, n, tokens_fill)
    send_scales = None if s is None else fill_slots(s[plan.token], slot_row, n, np.nan)
    send_weights = fill_slots(r.weights.reshape(-1, 1)[plan.order], slot_row, n, np.nan)

    # dispatch: fixed-size Alltoalls of the slots, then of the counts. The receive buffers are
    # [R*C, ...] whatever the counts are: the data exchange is posted without them (on a device,
    # all of this is one stream with no host synchronisation; here the counts simply come second).
    tokens = alltoall_slots(comm, send_tokens)
    scales = None if send_scales is None else alltoall_slots(comm, send_scales)
    weights = alltoall_slots(comm, send_weights)
    recv_counts = np.empty_like(plan.counts)  # [R, E]: row r = what rank r put in its slot here
    comm.Alltoall(plan.counts, recv_counts)
    timer.lap("dispatch")

    if rank == cfg.corrupt_rank:
        recv_counts[0, 0] = cap + 1  # rank 0's slot claims more rows than the capacity
    # re-route (MoeReRoutingWithCapacity): the T received rows expert-major first, then zeros
    routed = mrr.moe_re_routing(tokens, recv_counts, scales, expert_topk_weight=weights,
                                expert_token_num_type=1, idx_type=0, num_max_tokens_per_rank=cap)
    timer.lap("re-route")

    # experts: on the first T rows (split per expert by expert_token_num, read after the exchange)
    permute_weights = routed.permute_topk_weight
    if permute_weights is None:  # never: with expert_topk_weight, the operator returns them
        raise RuntimeError("moe_re_routing returned no permute_topk_weight")
    t = int(routed.expert_token_num.sum())
    deq = dequantise(routed.permute_tokens[:t],
                     None if scales is None else routed.permute_per_token_scales[:t])
    expert_out = np.zeros((n, cfg.hidden))  # [R*C, H]: a static shape again, zeros after row T
    expert_out[:t] = run_experts(cfg, w, rank, deq, routed.expert_token_num, permute_weights[:t])
    timer.lap("experts")

    # restore with capacity: every source rank's weighted rows back into its slot of C rows, in
    # the order it sent them, zeros in the tail (float64 rows as their bytes, as in the dynamic layer)
    restored = mrr.restore(expert_out.view(np.int32), recv_counts,
                           num_max_tokens_per_rank=cap).tokens.view(np.float64)
    timer.lap("restore")

    # cross-check (asserted, not part of the data path): the layout the spec promises
    idx = routed.permute_token_idx  # gather: permute_tokens[:T] == tokens[idx[:T]], -1 after
    gather = idx[:t]
    recv_rows = recv_counts.sum(axis=1)
    used = (np.arange(n) % cap) < np.repeat(recv_rows, cap)  # the received rows holding a token
    if not (np.array_equal(np.sort(gather), np.flatnonzero(used)) and np.all(idx[t:] == -1)):
        raise RuntimeError("permute_token_idx is not the received slots' rows, then -1")
    by_index = np.zeros_like(expert_out)
    by_index[gather] = expert_out[:t]
    if not np.array_equal(restored, by_index):
        raise RuntimeError("restore() with capacity disagrees with the scatter by permute_token_idx")
    if not np.array_equal(permute_weights[:t], weights[gather]) or np.any(permute_weights[t:] != 0):
        raise RuntimeError("permute_topk_weight is not expert_topk_weight[permute_token_idx], then zeros")
    if np.any(routed.permute_tokens[t:] != 0):
        raise RuntimeError("permute_tokens is not zero after the T tokens")
    timer.lap("cross-check")

    # combine: the fixed-size return Alltoall of the slots, this rank's rows out of each, then the
    # sum over the k slots
    back = alltoall_slots(comm, restored)
    out = sum_slots(cfg, plan, back[slot_row])
    timer.lap("combine")
    return out


def parse_args(argv: list[str]) -> Config:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens", type=int, default=1024, help="tokens per rank T (default 1024)")
    p.add_argument("--hidden", type=int, default=256, help="hidden size H (default 256)")
    p.add_argument("--experts", type=int, default=4, help="local experts per rank E (default 4)")
    p.add_argument("--top-k", type=int, default=2, help="experts per token (default 2)")
    p.add_argument("--dtype", choices=["int8", "bf16"], default="int8",
                   help="int8 tokens with float32 per-token scales (default), or bf16 tokens")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--corrupt-rank", type=int, default=-1,
                   help="this rank corrupts its counts before re-routing (shows the abort path)")
    p.add_argument("--static", action="store_true",
                   help="static shapes: fixed-size Alltoall of slots of C rows per peer and of the "
                        "counts, MoeReRoutingWithCapacity and its restore")
    p.add_argument("--capacity", type=int, default=None,
                   help="C, rows per peer slot with --static (default tokens * min(top-k, experts), "
                        "the most one rank can route to one peer); a rank routing more to one peer "
                        "is an error")
    a = p.parse_args(argv)
    if a.capacity is not None and not a.static:
        p.error("--capacity needs --static")
    if a.capacity is not None and a.capacity < 1:
        p.error(f"--capacity must be >= 1, got {a.capacity}")
    return Config(a.tokens, a.hidden, a.experts, a.top_k, a.dtype, a.seed, a.corrupt_rank,
                  a.static, a.capacity or 0)


def main(argv: list[str]) -> int:
    comm = MPI.COMM_WORLD
    cfg = parse_args(argv)
    try:
        if not 1 <= cfg.top_k <= comm.size * cfg.local_experts:
            raise ValueError(f"--top-k must be in [1, {comm.size * cfg.local_experts}], got {cfg.top_k}")
        w = make_weights(cfg, comm.size)
        comm.Barrier()
        timer = Timer()
        out = (moe_layer_static if cfg.static else moe_layer)(comm, cfg, w, timer)
        total = sum(timer.stages.values())
        expected = dense_moe(cfg, comm.rank, comm.size, w)
        err = float(np.max(np.abs(out - expected))) if out.size else 0.0
        # Same float32 weights applied at the same point, the same products and sums: bit-identical
        # wherever the BLAS rounds a row of a product independently of the other rows of the block
        # (max |err| 0 in the default configuration here). A BLAS need not (a single row goes to a
        # matrix-vector routine, blocking, threads), so the check allows 1e-9 (README).
        ok = np.allclose(out, expected, rtol=1e-9, atol=1e-9)
    except Exception as exc:  # any failure on any rank ends the whole job, never a hang
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"rank {comm.rank}: error: {type(exc).__name__}: {msg}\n")
        if "--debug" in sys.argv:
            traceback.print_exc()
        sys.stderr.flush()
        comm.Abort(1)
        return 1
    stages = " ".join(f"{k} {v * 1e3:.2f} ms" for k, v in timer.stages.items())
    share = timer.stages["re-route"] / total if total > 0 else 0.0
    mode = f", static slots of {cfg.capacity or default_capacity(cfg)} rows" if cfg.static else ""
    line = (f"rank {comm.rank}/{comm.size}: {cfg.tokens_per_rank} tokens x {cfg.hidden} {cfg.dtype}, "
            f"{cfg.local_experts} local experts, top-{cfg.top_k}{mode}: max |err| {err:.2e} "
            f"{'ok' if ok else 'MISMATCH'} | {stages} | re-route share {share:.1%}")
    lines = comm.gather(line, root=0)
    all_ok = comm.allreduce(bool(ok), op=MPI.LAND)
    if comm.rank == 0:
        print("\n".join(lines or []))
        print("verified" if all_ok else "NOT verified: a rank's output differs from the dense MoE")
        sys.stdout.flush()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
