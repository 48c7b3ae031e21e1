"""Concurrency: 8 threads x 1000 mixed calls are correct, errors are per thread, and a call
releases the GIL."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import ml_dtypes
import numpy as np

import moe_re_routing as mrr
from moe_re_routing._ffi import ffi, lib
from moe_re_routing.reference import moe_re_routing_reference

from conftest import assert_result_equal, random_counts, random_rows

THREADS = 8
CALLS_PER_THREAD = 1000
_TOKEN_DTYPES = [np.int8, np.float16, ml_dtypes.bfloat16, np.float32, np.uint8, np.int32, np.uint16]


def _recent_message() -> str:
    return ffi.string(lib.aclGetRecentErrMsg()).decode()


def test_eight_threads_thousand_mixed_calls_match_the_reference():
    """8 threads x 1000 calls: shapes, dtypes, scales, attributes, out= or not, the engine flipped
    process-wide under the other threads, and one call in eight rejected on purpose with a
    value only this thread uses. Every result equals the reference; every rejection reports this
    thread's own value; after every success this thread's C error message is empty."""
    problems: list[str] = []
    done = [0] * THREADS

    def job(t: int) -> None:
        rng = np.random.default_rng(500 + t)
        for i in range(CALLS_PER_THREAD):
            if rng.random() < 0.1:
                mrr.set_engine("native" if rng.random() < 0.5 else "emulator")
            n, e = int(rng.integers(1, 7)), int(rng.integers(1, 7))
            cdt = np.int32 if rng.random() < 0.5 else np.int64
            c = random_counts(rng, n, e, int(rng.integers(0, 60)), cdt, 0.3)
            a = int(c.sum())
            t_dtype = _TOKEN_DTYPES[int(rng.integers(len(_TOKEN_DTYPES)))]
            tok = random_rows(rng, (a, int(rng.choice([1, 2, 7, 16, 33, 64]))), t_dtype)
            kind = int(rng.integers(3))
            sc = None if kind == 0 else random_rows(rng, (a,) if kind == 1 else (a, 3), np.float32)
            ttype, itype = int(rng.integers(2)), int(rng.integers(2))
            if rng.random() < 0.125:
                mine = 100 + t
                try:
                    mrr.moe_re_routing(tok, c, sc, idx_type=mine)
                    problems.append(f"thread {t} call {i}: idx_type={mine} was accepted")
                except mrr.MoeReRoutingValueError as exc:
                    if f"idx_type is {mine} " not in exc.message:
                        problems.append(f"thread {t} call {i}: my failure reads {exc.message!r}")
                done[t] += 1
                continue
            out = None
            if rng.random() < 0.3:
                ref0 = moe_re_routing_reference(tok, c, sc, ttype, itype)
                out = tuple(np.full_like(x, 0x5A) for x in ref0)
            res = mrr.moe_re_routing(tok, c, sc, expert_token_num_type=ttype, idx_type=itype, out=out)
            msg = _recent_message()
            if msg:
                problems.append(f"thread {t} call {i}: after my success the C message is {msg!r}")
            try:
                assert_result_equal(res, moe_re_routing_reference(tok, c, sc, ttype, itype))
            except AssertionError as exc:
                problems.append(f"thread {t} call {i}: {exc}")
            done[t] += 1

    try:
        with ThreadPoolExecutor(THREADS) as ex:
            for f in [ex.submit(job, t) for t in range(THREADS)]:
                f.result()
    finally:
        mrr.set_engine(None)
    assert problems == []
    assert done == [CALLS_PER_THREAD] * THREADS


def test_errors_are_per_thread():
    """Two failing threads with different values each read their own message; a third thread that
    only succeeds reads an empty C message after every call. With a process-wide message (the
    broken variant this guards against) the succeeding thread would read the others' messages and
    the failing ones each other's."""
    t = np.zeros((10, 4), np.float16)
    good = np.array([[10]], np.int32)
    problems: list[str] = []
    stop = threading.Event()

    def failer(value: int) -> None:
        while not stop.is_set():
            try:
                mrr.moe_re_routing(t, good, expert_token_num_type=value)
                problems.append(f"expert_token_num_type={value} accepted")
            except mrr.MoeReRoutingValueError as e:
                if f"expert_token_num_type is {value} " not in e.message:
                    problems.append(f"failer {value} read {e.message!r}")

    def succeeder() -> None:
        for _ in range(3000):
            mrr.moe_re_routing(t, good)
            msg = _recent_message()
            if msg:
                problems.append(f"succeeder read {msg!r}")

    th = [threading.Thread(target=failer, args=(v,)) for v in (7, 9)]
    for x in th:
        x.start()
    try:
        succeeder()
    finally:
        stop.set()
        for x in th:
            x.join()
    assert problems == []


def test_call_releases_the_gil():
    """While this thread is inside the operator, another Python thread makes progress.

    Deterministic, not timing-based: the switch interval is raised to 100 s, so the interpreter
    never takes the GIL away from a running thread; another thread can only run while the holder
    releases it voluntarily (a C call that drops it, or a blocking call). A spinner thread counts
    iterations while a plain flag is set and gives the GIL back with ``time.sleep(0)``. A control
    run of pure Python work under the flag must see exactly zero increments; the operator calls
    must see some. (How many depends on the call's duration and on the machine's load, so the
    test asks for progress, not for a rate: a rate would be a timing assertion.)
    """
    rng = np.random.default_rng(3)
    a, h = 16384, 2048  # 32 MiB of tokens per call
    t = rng.integers(-128, 128, size=(a, h), dtype=np.int8)
    c = random_counts(rng, 16, 16, a)
    out = tuple(mrr.moe_re_routing(t, c))
    flag = [False]
    stop = [False]
    seen = [0]

    def spinner() -> None:
        while not stop[0]:
            if flag[0]:
                seen[0] += 1
            time.sleep(0)  # releases the GIL

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    th = threading.Thread(target=spinner)
    th.start()
    try:
        flag[0] = True
        sum(i * i for i in range(300_000))  # control: holds the GIL, never releases it
        flag[0] = False
        control = seen[0]
        flag[0] = True
        for _ in range(4):
            mrr.moe_re_routing(t, c, out=out)
        flag[0] = False
        during = seen[0] - control
    finally:
        stop[0] = True
        th.join()
        sys.setswitchinterval(old)
    assert control == 0, control
    assert during > 0, during
    print(f"spinner iterations: control {control}, during the calls {during}")
