"""The C package installed inside the Python package is usable from CMake:
find_package(MoeReRouting) with CMAKE_PREFIX_PATH = moe_re_routing.cmake_prefix()."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import moe_re_routing as mrr

CMAKELISTS = """cmake_minimum_required(VERSION 3.20)
project(consumer LANGUAGES C CXX)
find_package(MoeReRouting REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE MoeReRouting::aclnn)
"""

MAIN_C = r"""#include <stdio.h>
#include "aclnn_moe_re_routing.h"
#include "moe_re_routing_cpu.h"
int main(void) {
    const MoeReRoutingDtypeInfo *table = 0;
    int n = MoeReRoutingDtypeTable(&table);
    printf("version %s dtypes %d status %s\n", MoeReRoutingVersion(), n, MoeReRoutingStatusName(161002));
    return n > 0 ? 0 : 1;
}
"""


def test_find_package_from_the_python_install(tmp_path: Path):
    prefix = Path(mrr.cmake_prefix())
    if not (prefix / "lib" / "cmake" / "MoeReRouting").is_dir():
        pytest.skip("no CMake package inside the Python package (development tree)")
    if shutil.which("cmake") is None:
        pytest.skip("cmake not available")
    (tmp_path / "CMakeLists.txt").write_text(CMAKELISTS)
    (tmp_path / "main.c").write_text(MAIN_C)
    build = tmp_path / "build"
    subprocess.run(
        ["cmake", "-S", str(tmp_path), "-B", str(build), f"-DCMAKE_PREFIX_PATH={prefix}"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True, timeout=120)
    p = subprocess.run([str(build / "consumer")], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert f"version {mrr.__version__}" in p.stdout and "ACLNN_ERR_PARAM_INVALID" in p.stdout
