#!/usr/bin/env bash
# The single entry point of moe-re-routing.
#
#   ./build.sh            build and install: the C package (CMake package MoeReRouting) and the
#                         Python package moe_re_routing, into the active Python environment
#   ./build.sh demo       build, install, then run the demo (the seed example, verified and timed)
#   ./build.sh test       build, install, then run every test: C++ (GoogleTest under ctest), C++ under
#                         AddressSanitizer + UndefinedBehaviorSanitizer, Python (pytest, once per
#                         engine: native and emulator), ruff, mypy
#   ./build.sh bench      build, install, then run the benchmark report (benchmarks/report.py)
#   ./build.sh fuzz [S]   build the libFuzzer targets (tests/fuzz, clang-14, ASan + UBSan) and run
#                         each for S seconds (default 60); prints the executions and the findings
#   ./build.sh package    CANN only: configure, then build the targets `binary package`: the OPP
#                         package build/cann/custom_opp_<os>_<arch>.run (docs/cann_build.md)
#
# Backend: with the CANN toolkit (ASCEND_HOME_PATH or ASCEND_TOOLKIT_HOME set) the CANN path is
# taken and said so; otherwise the CPU backend (the native implementation, and the kernel on the
# Ascend C emulator as its checking engine).
# Environment: JOBS (parallel build jobs, default: nproc), PYTHON (default: python3),
# MOE_RE_ROUTING_FETCH_ORT_HEADERS=0 (do not try to fetch the ONNX Runtime headers; without them the
# ONNX Runtime adapter is skipped, everything else builds).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export CMAKE_BUILD_PARALLEL_LEVEL=$JOBS
action=${1:-build}

say() { printf '\n==> %s\n' "$*"; }

cann_home() {
    local home=${ASCEND_HOME_PATH:-${ASCEND_TOOLKIT_HOME:-}}
    if [ -n "$home" ] && [ -f "$home/include/acl/acl.h" ]; then
        echo "$home"
    fi
}

build_cann() {
    # The ASC CMake package reads ASCEND_HOME_PATH at configure and build time.
    export ASCEND_HOME_PATH=${ASCEND_HOME_PATH:-$(cann_home)}
    say "CANN toolkit found at $ASCEND_HOME_PATH: building the OPP package (backend: cann)"
    cmake -S "$ROOT" -B "$ROOT/build/cann" -DMOE_RE_ROUTING_BACKEND=cann -DCMAKE_BUILD_TYPE=Release
    # binary: the kernel per SoC of ASCEND_COMPUTE_UNIT and its binary configuration (not part of
    # ALL); package: ALL, then install and pack custom_opp_<os>_<arch>.run (docs/cann_build.md).
    cmake --build "$ROOT/build/cann" --target binary package -j "$JOBS"
    say "package: $(ls "$ROOT"/build/cann/custom_opp_*.run 2>/dev/null || echo 'see build/cann')"
}

python_deps() {
    say "Python dependencies"
    "$PYTHON" -m pip install -q --disable-pip-version-check \
        "numpy>=1.22" "cffi>=1.15" ml_dtypes "scikit-build-core>=0.11" ninja "$@"
}

onnxruntime_headers() {  # best effort: framework/onnxruntime/ is skipped without them
    if [ "${MOE_RE_ROUTING_FETCH_ORT_HEADERS:-1}" = 1 ]; then
        "$ROOT/framework/onnxruntime/fetch_headers.sh" || true
    fi
}

install_cpu() {
    say "No CANN toolkit: building the CPU backend and installing the Python package"
    python_deps
    onnxruntime_headers
    "$PYTHON" -m pip install -q --disable-pip-version-check --no-build-isolation "$ROOT"
    local prefix
    prefix=$("$PYTHON" -m moe_re_routing info --cmake-prefix)
    say "Installed. CMake package prefix (find_package(MoeReRouting)): $prefix"
}

ctest_tree() {  # ctest_tree <build dir> [extra cmake args...]
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$dir" -DMOE_RE_ROUTING_BACKEND=cpu -DBUILD_TESTING=ON "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS"
    (cd "$dir" && ctest --output-on-failure -j "$JOBS")
}

run_tests() {
    python_deps pytest ruff mypy hypothesis
    say "C++ tests (ctest)"
    ctest_tree "$ROOT/build/tests" -DCMAKE_BUILD_TYPE=Release -DMOE_RE_ROUTING_TEST_PYTHON="$PYTHON"
    say "C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
    ASAN_OPTIONS=detect_leaks=1 ctest_tree "$ROOT/build/asan" -DCMAKE_BUILD_TYPE=Debug -DMOE_RE_ROUTING_SANITIZE=ON
    say "ruff"
    "$PYTHON" -m ruff check python tests/python benchmarks examples
    say "mypy (the package, configured in pyproject.toml)"
    "$PYTHON" -m mypy
    # Both engines: native (the library's default, what users get) and the emulator (the Ascend C
    # kernel with every hardware rule checked).
    # -rs: every skipped test is listed with its reason, which names what to install (ONNX Runtime,
    # MindSpore: pip install '.[runtimes]'; the MPI example: Open MPI and mpi4py). With
    # MOE_RE_ROUTING_REQUIRE_RUNTIMES=1 (.ci/run) those skips are failures instead.
    say "Python tests (pytest), engine native"
    MOE_RE_ROUTING_ENGINE=native "$PYTHON" -m pytest -q -rs tests/python
    say "Python tests (pytest), engine emulator"
    MOE_RE_ROUTING_ENGINE=emulator "$PYTHON" -m pytest -q -rs tests/python
}

# The fuzz targets need clang with libFuzzer (Debian: clang-14, libclang-rt-14-dev); installed when
# missing if we may (root with apt-get), as .ci/run does for the other suites.
FUZZ_CXX=${FUZZ_CXX:-clang++-14}
FUZZ_CC=${FUZZ_CC:-clang-14}
FUZZ_TARGETS=(fuzz_aclnn fuzz_kernel)

need_fuzz_compiler() {
    local probe
    probe=$(mktemp -d)
    printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char *, unsigned long) { return 0; }\n' \
        >"$probe/probe.cpp"
    if ! "$FUZZ_CXX" -fsanitize=fuzzer "$probe/probe.cpp" -o "$probe/probe" >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "Installing clang-14 and libclang-rt-14-dev (libFuzzer)"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
        else
            echo "build.sh fuzz needs $FUZZ_CXX with libFuzzer (Debian: clang-14 libclang-rt-14-dev)" >&2
            rm -rf "$probe"
            exit 2
        fi
    fi
    rm -rf "$probe"
}

run_fuzz() {  # run_fuzz [seconds per target]
    local seconds=${1:-60}
    local dir="$ROOT/build/fuzz"
    need_fuzz_compiler
    say "libFuzzer targets under AddressSanitizer + UndefinedBehaviorSanitizer, ${seconds} s each"
    CC=$FUZZ_CC CXX=$FUZZ_CXX cmake -S "$ROOT" -B "$dir" -DMOE_RE_ROUTING_BACKEND=cpu -DMOE_RE_ROUTING_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$dir" -j "$JOBS" --target "${FUZZ_TARGETS[@]}"
    local total=0 target log runs seeds
    for target in "${FUZZ_TARGETS[@]}"; do
        mkdir -p "$dir/corpus/$target" "$dir/findings"
        log="$dir/$target.log"
        seeds=("$dir/corpus/$target")  # plus the target's past findings, when it has any
        [ -d "$ROOT/tests/fuzz/regressions/$target" ] && seeds+=("$ROOT/tests/fuzz/regressions/$target")
        # MOE_RE_ROUTING_FUZZ_SEED: a fixed seed replays the same mutations (.ci/run uses one, so a
        # gate's verdict is reproducible); unset or 0, libFuzzer picks a new seed each run.
        if ! "$dir/tests/fuzz/$target" -max_total_time="$seconds" -seed="${MOE_RE_ROUTING_FUZZ_SEED:-0}" \
            -print_final_stats=1 -max_len=4096 -timeout=60 \
            -rss_limit_mb=4096 -artifact_prefix="$dir/findings/$target-" "${seeds[@]}" >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            echo "fuzz: $target FOUND A PROBLEM; the input is in $dir/findings/, the log in $log" >&2
            exit 1
        fi
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "  $target: ${runs:-0} executions in ${seconds} s, 0 findings (corpus $dir/corpus/$target)"
        total=$((total + ${runs:-0}))
    done
    echo "fuzz: $total executions in total, 0 findings"
}

if [ -n "$(cann_home)" ]; then
    case "$action" in
        build | package) build_cann ;;
        *) echo "build.sh $action: on a CANN machine only 'build' and 'package' are available" >&2; exit 2 ;;
    esac
    exit 0
fi

case "$action" in
    build) install_cpu ;;
    demo) install_cpu; say "Demo"; "$PYTHON" -m moe_re_routing demo ;;
    test) install_cpu; run_tests ;;
    bench)
        install_cpu; python_deps matplotlib; say "Benchmarks (benchmarks/report.py: results in benchmarks/results/)"
        # OpenBLAS core-type overrides slow a current numpy; unset for this command only.
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PYTHON" benchmarks/report.py --suite all \
            --json benchmarks/results/all.json --markdown benchmarks/results/all.md \
            --plot benchmarks/results/throughput.png ;;
    fuzz) run_fuzz "${2:-60}" ;;
    package) echo "build.sh package needs the CANN toolkit (set ASCEND_HOME_PATH)" >&2; exit 2 ;;
    *) echo "usage: ./build.sh [build|demo|test|bench|fuzz [SECONDS]|package]" >&2; exit 2 ;;
esac
