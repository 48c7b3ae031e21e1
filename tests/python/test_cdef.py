"""The cffi cdef of the binding agrees with the installed C headers, declaration by declaration.

The headers are run through the C preprocessor (with empty stand-ins for the system headers, so
only the package's own declarations remain) and parsed by cffi; every function of the binding's
cdef must have the same signature there (enums count as ``int``, their C ABI type), and every
struct the binding declares must have the same fields at the same offsets.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cffi
import pytest

import moe_re_routing as mrr
from moe_re_routing import _ffi

HEADERS = [
    "acl/acl.h",
    "aclnn/acl_meta.h",
    "aclnn_moe_re_routing.h",
    "aclnn_moe_re_routing_v2.h",
    "aclnn_moe_re_routing_with_capacity.h",
    "moe_re_routing_cpu.h",
]
# The integer macros the binding's cdef repeats as literals (cffi's ABI mode takes no expressions).
MACROS = ["MOE_RE_ROUTING_INFER_SLOT", "MOE_RE_ROUTING_INFER_OUTPUTS_LEN"]


def _compiler() -> str:
    for candidate in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate):
            return candidate
    pytest.fail("no C compiler (CC, cc, gcc or clang) to preprocess the headers with")


@pytest.fixture(scope="module")
def header_ffi(tmp_path_factory: pytest.TempPathFactory) -> cffi.FFI:
    include = Path(mrr.cmake_prefix()) / "include"
    assert (include / "moe_re_routing_cpu.h").is_file(), f"no installed headers under {include}"
    work = tmp_path_factory.mktemp("cdef")
    stubs = work / "stubs"
    stubs.mkdir()
    for name in ("stdint.h", "stddef.h", "stdbool.h"):  # cffi knows these types itself
        (stubs / name).write_text("")
    source = work / "all.h"
    source.write_text("".join(f'#include "{h}"\n' for h in HEADERS))
    pre = subprocess.run(
        [_compiler(), "-E", "-P", "-nostdinc", f"-I{stubs}", f"-I{include}", "-D__attribute__(x)=", "-x", "c",
         str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    ffi = cffi.FFI()
    ffi.cdef(pre.stdout)
    return ffi


def _shape(ffi: cffi.FFI, ctype: Any) -> Any:
    """A comparable description of a ctype: enums as int, pointers and functions structurally."""
    if ctype.kind == "enum":
        return "int"
    if ctype.kind == "pointer":
        return ("*", _shape(ffi, ctype.item))
    if ctype.kind == "function":
        return (_shape(ffi, ctype.result), tuple(_shape(ffi, a) for a in ctype.args), ctype.ellipsis)
    if ctype.kind == "struct":
        return ctype.cname.replace("struct ", "")
    return ctype.cname  # primitive, void


def _functions(cdef: str) -> list[str]:
    """Names of the functions the binding declares (a name followed by '(' at the end of a type)."""
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    lib = ffi.dlopen(mrr.backend.library)
    names = []
    for name in dir(lib):
        value = getattr(lib, name, None)
        if isinstance(value, ffi.CData) and ffi.typeof(value).kind == "function":
            names.append(name)
    return names


def test_every_cdef_function_matches_its_header_declaration(header_ffi: cffi.FFI) -> None:
    ffi = _ffi.ffi
    ours = ffi.dlopen(mrr.backend.library)
    theirs = header_ffi.dlopen(mrr.backend.library)
    names = _functions(_ffi.CDEF)
    assert "aclnnMoeReRoutingGetWorkspaceSize" in names and "MoeReRoutingDtypeTable" in names
    for name in names:
        try:
            declared = header_ffi.typeof(getattr(theirs, name))
        except AttributeError:
            pytest.fail(f"{name} is in the binding's cdef but not declared in {', '.join(HEADERS)}")
        assert _shape(ffi, ffi.typeof(getattr(ours, name))) == _shape(header_ffi, declared), name


def test_cdef_structs_match_the_headers(header_ffi: cffi.FFI) -> None:
    ffi = _ffi.ffi
    for struct in ("MoeReRoutingDtypeInfo",):
        ours = [(n, f.offset, _shape(ffi, f.type)) for n, f in ffi.typeof(struct).fields]
        theirs = [(n, f.offset, _shape(header_ffi, f.type)) for n, f in header_ffi.typeof(struct).fields]
        assert ours == theirs, struct
        assert ffi.sizeof(struct) == header_ffi.sizeof(struct)


def test_cdef_macros_have_the_headers_values(tmp_path: Path) -> None:
    include = Path(mrr.cmake_prefix()) / "include"
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in ("stdint.h", "stddef.h", "stdbool.h"):
        (stubs / name).write_text("")
    source = tmp_path / "macros.h"
    # "MACRO_<name>" is another identifier, so only the right-hand side is expanded.
    source.write_text('#include "moe_re_routing_cpu.h"\n' + "".join(f"MACRO_{m} = {m}\n" for m in MACROS))
    pre = subprocess.run(
        [_compiler(), "-E", "-P", "-nostdinc", f"-I{stubs}", f"-I{include}", "-D__attribute__(x)=", "-x", "c",
         str(source)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    values = {}
    for line in pre.splitlines():
        if line.startswith("MACRO_"):
            name, expr = line[len("MACRO_") :].split(" = ", 1)
            values[name] = eval(expr, {})  # an integer expression of the header (literals and + *)
    for m in MACROS:
        assert getattr(_ffi.lib, m) == values[m], m
