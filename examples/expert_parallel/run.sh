#!/usr/bin/env bash
# Runs the expert-parallel MoE layer (moe_layer.py) on RANKS processes of this machine with mpirun.
#   bash examples/expert_parallel/run.sh [RANKS] [moe_layer.py options...]     (RANKS default 4)
#   e.g. run.sh 2 --static   (fixed-size slots and MoeReRoutingWithCapacity; README.md)
# Needs Open MPI (mpirun) and mpi4py, and the moe_re_routing package installed in $PYTHON
# (default python3). Prints one line per rank and `verified`; exits non-zero on any failure.
# TIMEOUT (seconds, default 600) bounds the whole job, so nothing can hang forever.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ranks=${1:-4}
shift || true
PYTHON=${PYTHON:-python3}

case "$ranks" in
    '' | *[!0-9]* | 0*) echo "run.sh: RANKS must be a positive integer, got '$ranks'" >&2; exit 2 ;;
esac
command -v mpirun >/dev/null || { echo "run.sh: mpirun not found (Debian: apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 2; }

args=(-np "$ranks")
# Open MPI refuses root unless told; more ranks than cores need --oversubscribe.
[ "$(id -u)" = 0 ] && args+=(--allow-run-as-root)
[ "$ranks" -gt "$(nproc)" ] && args+=(--oversubscribe)
# Each rank drives the operator from one thread: the ranks already share the cores.
export ASCENDC_CPU_THREADS=${ASCENDC_CPU_THREADS:-1}
exec timeout "${TIMEOUT:-600}" mpirun "${args[@]}" "$PYTHON" "$here/moe_layer.py" "$@"
