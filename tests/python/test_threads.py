"""Concurrency: calls from several threads are correct, and a call releases the GIL."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import moe_re_routing as mrr
from moe_re_routing.reference import moe_re_routing_reference

from conftest import assert_result_equal, random_counts, random_rows


def test_concurrent_calls_are_correct():
    def job(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(5):
            a = int(rng.integers(0, 800))
            c = random_counts(
                rng,
                int(rng.integers(1, 10)),
                int(rng.integers(1, 10)),
                a,
                np.int32 if seed % 2 else np.int64,
                0.3,
            )
            t = random_rows(rng, (a, int(rng.integers(1, 100))), np.int8)
            s = rng.random(a, dtype=np.float32) if seed % 3 else None
            it = int(rng.integers(2))
            assert_result_equal(
                mrr.moe_re_routing(t, c, s, idx_type=it), moe_re_routing_reference(t, c, s, 1, it)
            )

    with ThreadPoolExecutor(4) as ex:
        for f in [ex.submit(job, seed) for seed in range(8)]:
            f.result()


def test_errors_are_per_thread():
    # An error on one thread while another succeeds: each gets its own message.
    t = np.zeros((10, 4), np.float16)
    good = np.array([[10]], np.int32)
    bad = np.array([[11]], np.int32)
    errors: list[str] = []

    def worker(counts) -> None:
        for _ in range(30):
            try:
                mrr.moe_re_routing(t, counts)
            except mrr.MoeReRoutingValueError as e:
                errors.append(e.message)

    th = [threading.Thread(target=worker, args=(x,)) for x in (good, bad)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    assert len(errors) == 30 and all("sum" in m for m in errors)


def test_call_releases_the_gil():
    """While this thread is inside the operator, another Python thread makes progress.

    Deterministic, not timing-based: the switch interval is raised to 100 s, so the interpreter
    never takes the GIL away from a running thread; another thread can only run while the holder
    releases it voluntarily (a C call that drops it, or a blocking call). A spinner thread counts
    iterations while a plain flag is set and gives the GIL back with ``time.sleep(0)``. A control
    run of pure Python work under the flag must see exactly zero increments; the operator call
    must see many (the big data-movement call releases the GIL for its whole duration, small
    cffi helpers at most a few iterations each).
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
    assert during > 200, during
    print(f"spinner iterations: control {control}, during the calls {during}")
