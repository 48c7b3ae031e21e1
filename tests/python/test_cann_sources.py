"""The CANN build's inputs agree with what the CPU build compiles and tests.

- cmake/sources.cmake lists every host and plugin source exactly once, so both builds compile
  the same files (a source missing from it is built by neither);
- the OpDef columns of op_host/moe_re_routing_def.cpp (one kernel binary per column and SoC) are
  combinations of types the dtype table gives those roles, which the CPU suites run, and they
  include every combination of the official operator.
"""

from __future__ import annotations

import re
from pathlib import Path

from moe_re_routing._dtypes import (
    ROLE_COUNTS,
    ROLE_SCALES,
    ROLE_TOKENS,
    ROLE_TOKENS_OFFICIAL,
    dtype_table,
)

ROOT = Path(__file__).resolve().parents[2]


def listed_sources() -> list[str]:
    """Repository-relative paths named in cmake/sources.cmake (``${_moe_root}/<path>``)."""
    text = (ROOT / "cmake" / "sources.cmake").read_text()
    return re.findall(r"\$\{_moe_root\}/([\w./]+)", text)


def opdef_lists() -> dict[str, list[str]]:
    """The dtype vectors of the OpDef, by variable name, as ACL names (``DT_`` prefix dropped)."""
    text = (ROOT / "op_host" / "moe_re_routing_def.cpp").read_text()
    lists: dict[str, list[str]] = {}
    for name, body in re.findall(r"std::vector<ge::DataType>\s+(\w+)\s*=\s*\{([^}]*)\}", text):
        lists[name] = re.findall(r"ge::DT_(\w+)", body)
    return lists


def test_sources_cmake_lists_every_host_and_plugin_source_once() -> None:
    listed = [p for p in listed_sources() if p.endswith((".cpp", ".cc"))]
    assert len(listed) == len(set(listed)), f"listed twice: {listed}"
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / "op_host").glob("*.cpp")}
    on_disk |= {str(p.relative_to(ROOT)) for p in (ROOT / "framework" / "onnx_plugin").glob("*.cc")}
    assert set(listed) == on_disk
    kernel_dir = re.search(r'MOE_RE_ROUTING_KERNEL_DIR\s+"\$\{_moe_root\}/([\w./]+)"',
                           (ROOT / "cmake" / "sources.cmake").read_text())
    kernel_file = re.search(r'MOE_RE_ROUTING_KERNEL_FILE\s+"([\w.]+)"',
                            (ROOT / "cmake" / "sources.cmake").read_text())
    assert kernel_dir is not None and kernel_file is not None
    assert (ROOT / kernel_dir.group(1) / kernel_file.group(1)).is_file()


def check_columns(lists: dict[str, list[str]], suffix: str, columns: int) -> list[tuple[str, str]]:
    """One configuration's lists (``tokens<suffix>``, ...): `columns` combinations of types the
    dtype table gives those roles, INT32 index, no two alike; returns its (tokens, counts) pairs."""
    names = [n + suffix for n in ("tokens", "counts", "scales", "index")]
    assert all(len(lists[n]) == columns for n in names), {n: len(lists[n]) for n in names}
    table = dtype_table()
    for role, name in ((ROLE_TOKENS, names[0]), (ROLE_COUNTS, names[1]), (ROLE_SCALES, names[2])):
        for acl in lists[name]:
            assert acl in table and table[acl].roles & role, f"{name} column type {acl} lacks the role"
    assert set(lists[names[3]]) == {"INT32"}
    columns_seen = list(zip(lists[names[0]], lists[names[1]], lists[names[2]]))
    assert len(set(columns_seen)) == columns, "two columns with the same types"
    return list(zip(lists[names[0]], lists[names[1]]))


def test_opdef_columns_are_types_the_table_gives_those_roles() -> None:
    lists = opdef_lists()
    roles = ("tokens", "counts", "scales", "index")
    assert set(lists) == set(roles) | {f"{r}950" for r in roles}
    pairs = check_columns(lists, "", 8)  # Atlas A2/A3
    pairs950 = check_columns(lists, "950", 18)  # Ascend 950
    table = dtype_table()
    official = {n for n, e in table.items() if e.roles & ROLE_TOKENS_OFFICIAL}
    assert official, "the table names no official tokens type"
    for tokens in official:
        for counts in ("INT32", "INT64"):
            assert (tokens, counts) in pairs, f"official combination {tokens} x {counts} missing"
            assert (tokens, counts) in pairs950, f"official combination {tokens} x {counts} missing on 950"
    for tokens in ("FLOAT8_E5M2", "FLOAT8_E4M3FN", "HIFLOAT8", "FLOAT4_E2M1", "FLOAT4_E1M2"):
        for counts in ("INT32", "INT64"):
            assert (tokens, counts) in pairs950, f"950 combination {tokens} x {counts} missing"
    assert "FLOAT8_E8M0" in lists["scales950"]
