"""examples/expert_parallel: the MoE layer on 2 and 4 MPI ranks, dynamic (Alltoallv) and static
(--static: fixed-size slots, MoeReRoutingWithCapacity), and the abort paths.

Needs Open MPI's mpirun and mpi4py: skipped without them (the reason says what to install), a
failure with MOE_RE_ROUTING_REQUIRE_RUNTIMES=1, which .ci/run sets after installing both.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_mpi

RUN = Path(__file__).resolve().parents[2] / "examples" / "expert_parallel" / "run.sh"

require_mpi()


def _run(ranks: int, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHON=sys.executable, TIMEOUT=str(timeout - 30))
    return subprocess.run(
        ["bash", str(RUN), str(ranks), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("dtype", ["int8", "bf16"])
def test_layer_matches_dense_moe(ranks: int, dtype: str) -> None:
    res = _run(ranks, "--dtype", dtype, "--tokens", "200", "--hidden", "64", "--experts", "3", "--top-k", "2")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[-1] == "verified"
    rank_lines = [ln for ln in lines if ln.startswith("rank ")]
    assert [ln.split(":")[0] for ln in rank_lines] == [f"rank {r}/{ranks}" for r in range(ranks)]
    assert all(" ok |" in ln and "re-route" in ln for ln in rank_lines)
    # the return goes through the restore, checked against the index scatter on every rank
    assert all(" restore " in ln and " cross-check " in ln for ln in rank_lines)


@pytest.mark.parametrize(
    ("ranks", "args"),
    [
        # one row per rank: rank 3 receives none (A = 0 through V2 and the restore)
        (4, ("--tokens", "1", "--top-k", "1", "--experts", "1", "--hidden", "16")),
        # an odd rank count and five weighted rows summed per token
        (3, ("--tokens", "50", "--top-k", "5", "--experts", "2", "--hidden", "32", "--dtype", "bf16")),
    ],
)
def test_layer_edge_shapes(ranks: int, args: tuple[str, ...]) -> None:
    res = _run(ranks, *args)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[-1] == "verified"
    assert sum(" ok |" in ln for ln in lines) == ranks


def test_bad_counts_on_one_rank_abort_the_job() -> None:
    res = _run(4, "--tokens", "64", "--hidden", "32", "--corrupt-rank", "2", timeout=200)
    assert res.returncode != 0
    assert "verified" not in res.stdout
    assert "rank 2: error: MoeReRoutingValueError: expert_token_num_per_rank sums to" in res.stderr


# ---- --static: slots of C rows per peer, fixed-size Alltoall, MoeReRoutingWithCapacity -------------


def _assert_verified(res: subprocess.CompletedProcess[str], ranks: int, capacity: int) -> None:
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[-1] == "verified"
    rank_lines = [ln for ln in lines if ln.startswith("rank ")]
    assert [ln.split(":")[0] for ln in rank_lines] == [f"rank {r}/{ranks}" for r in range(ranks)]
    for ln in rank_lines:
        assert f", static slots of {capacity} rows: max |err| " in ln
        assert " ok |" in ln and " re-route " in ln
        # the capacity layout (index, zero tails, restore into slots) is checked on every rank
        assert " restore " in ln and " cross-check " in ln


@pytest.mark.parametrize("ranks", [2, 4])
@pytest.mark.parametrize("dtype", ["int8", "bf16"])
def test_static_layer_matches_dense_moe(ranks: int, dtype: str) -> None:
    res = _run(ranks, "--static", "--dtype", dtype, "--tokens", "200", "--hidden", "64", "--experts", "3",
               "--top-k", "2")  # fmt: skip
    _assert_verified(res, ranks, capacity=200 * 2)  # default C = tokens * min(top-k, experts)


@pytest.mark.parametrize(
    ("ranks", "args", "capacity"),
    [
        # C = 1: one row per rank, so every slot is either full or empty
        (4, ("--tokens", "1", "--top-k", "1", "--experts", "1", "--hidden", "16"), 1),
        # every token goes to every expert: every slot holds exactly C = tokens * experts rows
        (2, ("--tokens", "10", "--top-k", "4", "--experts", "2", "--hidden", "16"), 20),
        # an odd rank count, five weighted rows per token, C = tokens * min(5, 2)
        (3, ("--tokens", "50", "--top-k", "5", "--experts", "2", "--hidden", "32", "--dtype", "bf16"), 100),
        # a capacity far above what is sent: long slot tails that the operator must ignore
        (4, ("--tokens", "20", "--hidden", "16", "--capacity", "300"), 300),
    ],
)
def test_static_layer_edge_shapes(ranks: int, args: tuple[str, ...], capacity: int) -> None:
    _assert_verified(_run(ranks, "--static", *args), ranks, capacity)


def test_static_send_over_capacity_is_an_error() -> None:
    # top-4 of 4 experts on 2 ranks: each rank routes exactly 10 * 2 = 20 rows to each peer
    args = ("--static", "--tokens", "10", "--top-k", "4", "--experts", "2", "--hidden", "16")
    res = _run(2, *args, "--capacity", "19", timeout=200)
    assert res.returncode != 0
    assert "verified" not in res.stdout
    assert "routes 20 rows to rank 0, more than the capacity C = 19 rows per peer" in res.stderr
    _assert_verified(_run(2, *args, "--capacity", "20"), 2, 20)  # the same routing fits C = 20


def test_static_bad_counts_on_one_rank_abort_the_job() -> None:
    # rank 2 claims C + 1 rows in rank 0's slot: the operator's capacity check, then MPI_Abort
    res = _run(4, "--static", "--tokens", "64", "--hidden", "32", "--corrupt-rank", "2", timeout=200)
    assert res.returncode != 0
    assert "verified" not in res.stdout
    assert "rank 2: error: MoeReRoutingValueError: expert_token_num_per_rank row 0 (rank 0)" in res.stderr
    assert "but num_max_tokens_per_rank is 128" in res.stderr  # C = 64 * min(2, 4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--capacity", "8"), "--capacity needs --static"),
        (("--static", "--capacity", "0"), "--capacity must be >= 1, got 0"),
    ],
)
def test_bad_capacity_option(args: tuple[str, ...], message: str) -> None:
    res = _run(2, *args, timeout=120)
    assert res.returncode == 2
    assert message in res.stderr


@pytest.mark.parametrize("ranks", ["0", "x", "-1"])
def test_bad_ranks_argument(ranks: str) -> None:
    res = subprocess.run(["bash", str(RUN), ranks], capture_output=True, text=True, check=False, timeout=60)
    assert res.returncode == 2
    assert f"RANKS must be a positive integer, got '{ranks}'" in res.stderr
