"""The SoC platform table read from the C library, the emulator engine's platform selection, the
engine selection, and both engines against the numpy reference (the native engine split over 1-3
threads, the emulator engine on the default SoC)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import moe_re_routing as mrr

from conftest import assert_bytes_equal, random_counts, random_rows


@pytest.fixture
def restore_platform():
    yield
    mrr.set_platform(mrr.default_soc())
    mrr.set_engine(None)
    mrr.set_threads(0)


def test_soc_table_comes_from_the_library():
    table = mrr.soc_table()
    assert mrr.default_soc() in table
    for soc in table.values():
        assert soc.ub_usable_bytes == soc.ub_bytes - soc.ub_reserved_bytes
    a2 = table["Ascend910B"]
    assert (a2.cores, a2.ub_bytes, a2.ub_reserved_bytes) == (48, 196352, 8192)
    assert table["Ascend910_93"].ub_usable_bytes == 196608 - 8192
    assert table["Ascend950"].cores == 0  # not known
    assert table["Ascend950"].ub_usable_bytes == 248 * 1024


def test_the_emulator_platform_is_the_default_soc_until_another_is_selected(restore_platform):
    soc = mrr.soc_table()[mrr.default_soc()]
    assert mrr.get_platform() == (soc.name, soc.cores, soc.ub_usable_bytes)
    mrr.set_platform("Ascend910_93")
    assert mrr.get_platform().name == "Ascend910_93"
    assert mrr.get_platform().ub_bytes == mrr.soc_table()["Ascend910_93"].ub_usable_bytes


def test_engine_selection(restore_platform):
    env = mrr.get_engine()  # MOE_RE_ROUTING_ENGINE of this run (build.sh runs both)
    mrr.set_engine("emulator")
    assert mrr.get_engine() == "emulator"
    with mrr.engine("native"):
        assert mrr.get_engine() == "native"
    assert mrr.get_engine() == "emulator"
    with pytest.raises(mrr.MoeReRoutingValueError, match="engine must be 'native' or 'emulator'"):
        mrr.set_engine("fast")
    mrr.set_engine(None)
    assert mrr.get_engine() == env


def test_bad_platform_names_the_parameter(restore_platform):
    with pytest.raises(mrr.MoeReRoutingValueError, match="name is Ascend1, expected one of Ascend910B"):
        mrr.set_platform("Ascend1")
    with pytest.raises(mrr.MoeReRoutingValueError, match="core count of Ascend950 is not known"):
        mrr.set_platform("Ascend950")
    mrr.set_platform("Ascend950", cores=32)
    assert mrr.get_platform()[:3] == ("custom", 32, 248 * 1024)
    with pytest.raises(mrr.MoeReRoutingTypeError, match="platform must be a str"):
        mrr.set_platform(48)  # type: ignore[arg-type]
    for removed in ("host", "auto"):  # the host-sized platform of the former fast mode is gone
        with pytest.raises(mrr.MoeReRoutingValueError, match=f"name is {removed}, expected one of"):
            mrr.set_platform(removed)


@pytest.mark.parametrize(
    "engine,threads", [("native", 1), ("native", 2), ("native", 3), ("emulator", 2)]
)
def test_every_engine_matches_the_reference(restore_platform, engine, threads):
    mrr.set_engine(engine)
    mrr.set_threads(threads)
    rng = np.random.default_rng(threads)
    for a, h, n, e, scale_cols in [(0, 16, 3, 4, 0), (1, 7168, 16, 16, 1), (3000, 1000, 32, 8, 56),
                                   (500, 3, 300, 2, 0), (8, 600000, 2, 2, 1)]:
        tokens = random_rows(rng, (a, h), np.int8)
        counts = random_counts(rng, n, e, a, np.int32, 0.3)
        shape = (a, scale_cols) if scale_cols > 1 else (a,)
        scales = None if scale_cols == 0 else random_rows(rng, shape, np.float32)
        for ttype in (0, 1):
            for itype in (0, 1):
                got = mrr.moe_re_routing(tokens, counts, scales, expert_token_num_type=ttype, idx_type=itype)
                run = mrr.last_run()
                assert run["engine"] == engine
                if engine == "native":
                    # A thread per 512 KiB moved (docs/architecture.md, Engines), at most `threads`.
                    scale_row = 4 * scale_cols
                    moved = a * (2 * (h + scale_row) + (scale_row or 4) + 4)
                    assert run["threads"] == max(1, min(threads, moved // (512 * 1024), a)), (a, h, run)
                else:
                    assert run["platform"] == mrr.default_soc()
                want = mrr.moe_re_routing_reference(tokens, counts, scales, ttype, itype)
                for name, x, y in zip(got._fields, got, want):
                    assert_bytes_equal(x, y, f"A={a} H={h} {name}")


def _cli(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "moe_re_routing", *args], check=True, capture_output=True, text=True
    ).stdout


def test_plan_defaults_to_the_default_soc_and_takes_soc_names():
    soc = mrr.soc_table()[mrr.default_soc()]
    plan = json.loads(_cli("plan", "64", "7168", "16", "16", "--dtype", "int8", "--json"))
    assert plan["platform"] == soc.name
    assert (plan["platform_cores"], plan["platform_ub_bytes"]) == (soc.cores, soc.ub_usable_bytes)
    b3 = mrr.soc_table()["Ascend910B3"]
    plan = json.loads(_cli("plan", "4096", "512", "8", "8", "--soc", "Ascend910B3", "--json"))
    assert (plan["platform"], plan["platform_cores"]) == ("Ascend910B3", b3.cores)
    assert plan["ubBytesUsed"] <= b3.ub_usable_bytes
    assert plan["engine"] == "emulator"  # plan runs the kernel, whatever engine the library runs


def test_info_says_which_engine_runs():
    info = json.loads(_cli("info", "--json"))  # the subprocess inherits MOE_RE_ROUTING_ENGINE
    assert info["engine"] == mrr.get_engine()
    assert info["emulator_platform"] == mrr.default_soc()


_MAPS_PROBE = """
import sys, numpy as np, moe_re_routing as mrr
def mapped():
    with open("/proc/self/maps") as f:
        maps = f.read()
    return {n for n in ("libascendc_cpu", "libmoe_re_routing_emulator") if n in maps}
t = np.arange(64 * 8, dtype=np.int8).reshape(64, 8)
c = np.full((4, 4), 4, np.int32)
mrr.moe_re_routing(t, c)
before = mapped()
with mrr.engine("emulator"):
    mrr.moe_re_routing(t, c)
print(sorted(before), sorted(mapped()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_the_native_engine_loads_no_emulator_and_the_emulator_engine_loads_it_on_demand():
    env = {k: v for k, v in os.environ.items() if k != "MOE_RE_ROUTING_ENGINE"}
    out = subprocess.run(
        [sys.executable, "-c", _MAPS_PROBE], check=True, capture_output=True, text=True, env=env
    ).stdout.split("] [")
    assert out[0] == "[", out
    assert "libascendc_cpu" in out[1] and "libmoe_re_routing_emulator" in out[1], out


def test_the_library_does_not_link_the_emulator():
    lib = Path(mrr.cmake_prefix()) / "lib" / "libmoe_re_routing.so"
    needed = _elf_needed(lib.read_bytes())
    assert "libc.so.6" in needed  # the parser reads the real dynamic section
    assert not [n for n in needed if "ascendc" in n or "emulator" in n], needed


def _elf_needed(image: bytes) -> list[str]:
    """DT_NEEDED names of a little-endian ELF64 shared object (what ``readelf -d`` lists)."""
    assert image[:4] == b"\x7fELF" and image[4] == 2 and image[5] == 1
    shoff, = struct.unpack_from("<Q", image, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", image, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", image, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC
    strtab = sections[dynamic[6]]  # sh_link: its string table
    names = []
    for off in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", image, off)
        if tag == 0:
            break
        if tag == 1:  # DT_NEEDED
            start = strtab[4] + value
            names.append(image[start : image.index(b"\0", start)].decode())
    return names
