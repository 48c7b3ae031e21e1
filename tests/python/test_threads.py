"""Concurrency: calls from several threads are correct, and a call releases the GIL."""

from __future__ import annotations

import threading
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
    """While one thread runs a large call, a pure-Python counter thread keeps making progress.

    Robust on 2 cores and independent of speed: instead of timing, count how many increments the
    Python thread makes DURING the C call (a flag set right before/after the call). If the GIL were
    held for the whole call, the counter could not advance between the two flags at all (the
    interpreter switch interval is 5 ms, so one switch can happen at the call boundary; we demand
    far more progress than that over several calls, each long compared with the interval).
    """
    rng = np.random.default_rng(3)
    a, h = 16384, 2048  # 32 MiB of int8 tokens: each call takes well over the 5 ms switch interval
    t = rng.integers(-128, 128, size=(a, h), dtype=np.int8)
    c = random_counts(rng, 16, 16, a)
    out = tuple(mrr.moe_re_routing(t, c))
    inside = threading.Event()
    stop = threading.Event()
    counts_inside = [0]

    def spinner() -> None:
        while not stop.is_set():
            if inside.is_set():
                counts_inside[0] += 1

    th = threading.Thread(target=spinner)
    th.start()
    try:
        for _ in range(3):
            inside.set()
            mrr.moe_re_routing(t, c, out=out)
            inside.clear()
    finally:
        stop.set()
        th.join()
    # With the GIL released the spinner runs freely for the whole C call (millions of iterations
    # per second); with the GIL held it could get at most a switch interval per call boundary.
    assert counts_inside[0] > 1000, counts_inside[0]
