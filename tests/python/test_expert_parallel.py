"""examples/expert_parallel: the MoE layer on 2 and 4 MPI ranks, and the abort path.

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


@pytest.mark.parametrize("ranks", ["0", "x", "-1"])
def test_bad_ranks_argument(ranks: str) -> None:
    res = subprocess.run(["bash", str(RUN), ranks], capture_output=True, text=True, check=False, timeout=60)
    assert res.returncode == 2
    assert f"RANKS must be a positive integer, got '{ranks}'" in res.stderr
