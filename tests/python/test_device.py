"""Device buffers (aclrtMalloc + DeviceTensor), DLPack inputs and the runtime helpers."""

from __future__ import annotations

import numpy as np
import pytest

import moe_re_routing as mrr
from moe_re_routing._dtypes import numpy_dtype_for
from moe_re_routing.reference import moe_re_routing_reference

from conftest import assert_result_equal, random_counts, random_rows


def test_malloc_memcpy_roundtrip(rng):
    x = random_rows(rng, (1000,), np.uint8)
    p = mrr.malloc(x.nbytes)
    try:
        mrr.memcpy(p, x, kind="h2d")
        y = np.empty_like(x)
        mrr.memcpy(y, p, x.nbytes, kind="d2h")
        assert np.array_equal(x, y)
    finally:
        mrr.free(p)


@pytest.mark.parametrize("scales", [False, True])
@pytest.mark.parametrize("itype", [0, 1])
def test_device_path_matches_reference(rng, scales, itype):
    a, h = 500, 48
    bf16 = numpy_dtype_for("BF16")
    t = random_rows(rng, (a, h), bf16)
    c = random_counts(rng, 5, 7, a, np.int64, 0.3)
    s = random_rows(rng, (a, 2), np.float32) if scales else None
    dt = mrr.DeviceTensor.from_array(t)
    dc = mrr.DeviceTensor.from_array(c)
    ds = mrr.DeviceTensor.from_array(s) if scales else None
    outs = [
        mrr.DeviceTensor.empty((a, h), "bfloat16"),
        mrr.DeviceTensor.empty(s.shape if scales else (a,), np.float32),
        mrr.DeviceTensor.empty((a,), np.int32),
        mrr.DeviceTensor.empty((7,), np.int64),
    ]
    try:
        res = mrr.moe_re_routing_device(dt, dc, ds, idx_type=itype, expert_token_num_type=0, out=outs)
        assert all(x is y for x, y in zip(res, outs))
        host = [o.to_numpy() for o in res]
        assert_result_equal(host, moe_re_routing_reference(t, c, s, 0, itype))
        # The same through moe_re_routing() with DeviceTensor arguments and an explicit stream.
        res2 = mrr.moe_re_routing(dt, dc, ds, idx_type=itype, expert_token_num_type=0, out=outs)
        mrr.synchronize()
        assert_result_equal([o.to_numpy() for o in res2], moe_re_routing_reference(t, c, s, 0, itype))
    finally:
        for d in [dt, dc, ds, *outs]:
            if d is not None:
                d.free()


def test_device_fp4(rng):
    a, h = 40, 10
    t = random_rows(rng, (a, h // 2), np.uint8)
    c = random_counts(rng, 3, 3, a)
    dt = mrr.DeviceTensor.from_array(t, dtype="float4_e2m1")
    assert dt.shape == (a, h) and dt.nbytes == t.nbytes
    dc = mrr.DeviceTensor.from_array(c)
    outs = [
        mrr.DeviceTensor.empty((a, h), "float4_e2m1"),
        mrr.DeviceTensor.empty((a,), np.float32),
        mrr.DeviceTensor.empty((a,), np.int32),
        mrr.DeviceTensor.empty((3,), np.int32),
    ]
    try:
        mrr.moe_re_routing_device(dt, dc, None, out=outs)
        assert_result_equal([o.to_numpy() for o in outs], moe_re_routing_reference(t, c))
    finally:
        for d in [dt, dc, *outs]:
            d.free()


def test_device_errors(rng):
    a = 16
    t = mrr.DeviceTensor.from_array(random_rows(rng, (a, 8), np.int8))
    c = mrr.DeviceTensor.from_array(np.array([[a]], np.int32))
    outs = [
        mrr.DeviceTensor.empty((a, 8), np.int8),
        mrr.DeviceTensor.empty((a,), np.float32),
        mrr.DeviceTensor.empty((a,), np.int32),
        mrr.DeviceTensor.empty((1,), np.int32),
    ]
    try:
        with pytest.raises(TypeError, match="out"):
            mrr.moe_re_routing(t, c)
        with pytest.raises(TypeError, match="DeviceTensor"):
            mrr.moe_re_routing_device(t, np.array([[a]], np.int32), out=outs)
        with pytest.raises(TypeError, match="ptr"):
            mrr.DeviceTensor("0x1234", (1,), np.int8)
        bad = [mrr.DeviceTensor(outs[0].ptr, (a, 9), np.int8), *outs[1:]]
        with pytest.raises(ValueError, match="permute_tokens"):
            mrr.moe_re_routing_device(t, c, out=bad)
        strided = mrr.DeviceTensor(t.ptr, (a // 2, 8), np.int8, strides=(16, 1))
        with pytest.raises(mrr.MoeReRoutingError):
            mrr.moe_re_routing_device(strided, c, out=outs)
    finally:
        for d in [t, c, *outs]:
            d.free()


class _DLPackOnly:
    """An object exposing only the DLPack protocol (like a foreign framework's tensor)."""

    def __init__(self, arr, device=(1, 0)):
        self._arr = arr
        self._device = device

    def __dlpack__(self, **kw):
        return self._arr.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self._device


def test_dlpack_inputs(rng):
    a = 90
    t = random_rows(rng, (a, 12), np.float16)
    c = random_counts(rng, 3, 3, a)
    s = rng.random(a, dtype=np.float32)
    res = mrr.moe_re_routing(_DLPackOnly(t), _DLPackOnly(c), _DLPackOnly(s))
    assert_result_equal(res, moe_re_routing_reference(t, c, s))


def test_dlpack_non_cpu_rejected(rng):
    t = random_rows(rng, (4, 2), np.float16)
    with pytest.raises(ValueError, match=r"tokens.*DLPack device"):
        mrr.moe_re_routing(_DLPackOnly(t, device=(2, 0)), np.array([[4]], np.int32))


def test_device_tensor_as_context_manager_frees_only_owned_memory(rng):
    a, h = 64, 16
    t = random_rows(rng, (a, h), np.float16)
    c = random_counts(rng, 2, 3, a, np.int32)
    with mrr.DeviceTensor.from_array(t) as dt, mrr.DeviceTensor.from_array(c) as dc, mrr.DeviceTensor.empty(
        (a, h), np.float16
    ) as o_tok, mrr.DeviceTensor.empty((a,), np.float32) as o_sc, mrr.DeviceTensor.empty(
        (a,), np.int32
    ) as o_idx, mrr.DeviceTensor.empty((3,), np.int32) as o_cnt:
        assert dt.owned and o_cnt.owned and dt.ptr != 0
        res = mrr.moe_re_routing(dt, dc, out=(o_tok, o_sc, o_idx, o_cnt))
        assert isinstance(res, mrr.MoeReRoutingDeviceResult) and res.permute_tokens is o_tok
        assert_result_equal([o.to_numpy() for o in res], moe_re_routing_reference(t, c))
        # A borrowed view of the same memory is not freed by its own `with`.
        with mrr.DeviceTensor(dt.ptr, (a, h), np.float16) as view:
            assert not view.owned
        assert view.ptr == dt.ptr
        assert np.array_equal(dt.to_numpy().view(np.uint16), t.view(np.uint16))
    assert dt.ptr == 0 and not dt.owned and o_cnt.ptr == 0  # freed on exit


def test_device_tensor_context_manager_frees_on_error():
    d = mrr.DeviceTensor.empty((8,), np.int32)
    with pytest.raises(RuntimeError, match="inside"), d:
        assert d.ptr != 0
        raise RuntimeError("inside")
    assert d.ptr == 0
