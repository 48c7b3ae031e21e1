"""Workloads and comparisons shared by the CLI, the benchmarks and the tests.

One home for: the count fills (``[N, E]`` matrices summing to ``A``: ``even``, ``public`` and
``random``, see :data:`FILLS`; their C++ twins are in tests/common/moe_re_routing_reference.h),
random token bytes, dtype names as the CLI and the benchmarks spell them, random cases of a shape,
the payload a call moves, and the bit-exact comparison of results.

Everything here is plain numpy and deterministic for a given ``numpy.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Optional

import numpy as np
import numpy.typing as npt

from ._dtypes import EXPLICIT_TO_ACL, NUMPY_TO_ACL, ROLE_PACKED4, ROLE_TOKENS, dtype_table, numpy_dtype_for
from .errors import param_value_error

__all__ = [
    "FILLS",
    "OUTPUT_NAMES",
    "Case",
    "DtypeName",
    "Payload",
    "bytes_mismatch",
    "even_counts",
    "fill_counts",
    "make_case",
    "mismatched_outputs",
    "parse_dtype",
    "payload",
    "public_counts",
    "random_bytes",
    "random_counts",
    "slot_counts",
    "slotted_rows",
    "token_dtypes",
]

#: The four outputs, in the order of :class:`~moe_re_routing.MoeReRoutingResult`.
OUTPUT_NAMES = ("permute_tokens", "permute_per_token_scales", "permute_token_idx", "expert_token_num")

# Short names accepted next to the numpy and explicit ones.
_ALIASES = {"fp16": "float16", "half": "float16", "bf16": "bfloat16", "fp32": "float32", "float": "float32"}


# ---- counts and bytes --------------------------------------------------------------------------


def _check_counts_shape(n: int, e: int, a: int) -> None:
    if n < 1 or e < 1 or a < 0:
        raise param_value_error(f"counts need N >= 1, E >= 1 and A >= 0, got N={n}, E={e}, A={a}")


def public_counts(n: int, e: int, a: int, dtype: npt.DTypeLike = np.int32) -> np.ndarray:
    """``[N, E]`` counts of ``dtype`` summing to ``a``, the **public** fill: every cell
    ``a // (N*E)`` and the last cell the remainder. It is the fill of the test-only
    official-schedule traces the time model is calibrated on (``moe-re-routing model`` runs ours
    with it too, so both see the same counts). Not spread: when ``a < N*E`` every row lands in the
    last cell (use :func:`even_counts` for a spread fill)."""
    _check_counts_shape(n, e, a)
    c = np.full(n * e, a // (n * e), dtype=np.int64)
    c[-1] += a - int(c.sum())
    return c.reshape(n, e).astype(dtype)


def even_counts(n: int, e: int, a: int, dtype: npt.DTypeLike = np.int32) -> np.ndarray:
    """``[N, E]`` counts of ``dtype`` summing to ``a``, the **even** fill (the benchmarks' and
    ``plan``'s default): cells differ by at most one row, every cell ``a // (N*E)`` and the first
    ``a mod (N*E)`` cells (row-major) one more. With fewer tokens than cells (decode) that is one
    row in each of the first ``a`` cells, i.e. in the first ranks' cells."""
    _check_counts_shape(n, e, a)
    c = np.full(n * e, a // (n * e), dtype=np.int64)
    c[: a % (n * e)] += 1
    return c.reshape(n, e).astype(dtype)


def random_counts(
    rng: np.random.Generator,
    n: int,
    e: int,
    a: int,
    dtype: npt.DTypeLike = np.int32,
    zero_frac: float = 0.0,
) -> np.ndarray:
    """``[N, E]`` non-negative counts of ``dtype`` summing to ``a``: a multinomial draw over random
    cell weights, with about ``zero_frac`` of the cells forced to zero (at least one cell stays
    live)."""
    _check_counts_shape(n, e, a)
    cells = n * e
    weights = rng.random(cells)
    if zero_frac > 0:
        weights[rng.random(cells) < zero_frac] = 0.0
    if weights.sum() == 0:
        weights[int(rng.integers(cells))] = 1.0
    c = rng.multinomial(a, weights / weights.sum()) if a > 0 else np.zeros(cells, dtype=np.int64)
    return c.reshape(n, e).astype(dtype)


def slot_counts(
    rng: np.random.Generator, n: int, e: int, capacity: int, dtype: npt.DTypeLike = np.int32
) -> np.ndarray:
    """``[N, E]`` counts for static capacity (``num_max_tokens_per_rank`` = ``capacity``): rank r
    sends a uniform 0..C tokens (rank 0 exactly C when N > 1, the last rank none when N > 2, so
    full and empty slots both occur), spread over the experts by a multinomial draw."""
    _check_counts_shape(n, e, 0)
    if capacity < 1:
        raise param_value_error(f"capacity must be >= 1, got {capacity}")
    per_rank = rng.integers(0, capacity + 1, size=n)
    if n > 1:
        per_rank[0] = capacity
    if n > 2:
        per_rank[-1] = 0
    c = np.stack([rng.multinomial(int(k), np.full(e, 1.0 / e)) for k in per_rank])
    return c.astype(dtype)


def random_bytes(rng: np.random.Generator, shape: Sequence[int], dtype: npt.DTypeLike) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` filled with random bytes (every bit pattern, NaNs
    included: compare results bytewise)."""
    dt = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    return rng.integers(0, 256, size=nbytes, dtype=np.uint8).view(dt).reshape(tuple(shape))


#: The named count fills, in the order the CLI offers them: ``even`` (:func:`even_counts`),
#: ``public`` (:func:`public_counts`), ``random`` (:func:`random_counts`, multinomial).
FILLS = ("even", "public", "random")


def fill_counts(
    fill: str, rng: np.random.Generator, n: int, e: int, a: int, dtype: npt.DTypeLike = np.int32
) -> np.ndarray:
    """``[N, E]`` counts of ``dtype`` summing to ``a`` by the named fill (one of :data:`FILLS`;
    ``rng`` is used by ``random`` only). Raises
    :class:`~moe_re_routing.MoeReRoutingValueError` for another name."""
    if fill == "even":
        return even_counts(n, e, a, dtype)
    if fill == "public":
        return public_counts(n, e, a, dtype)
    if fill == "random":
        return random_counts(rng, n, e, a, dtype)
    raise param_value_error(f"unknown counts fill {fill!r}; expected one of {', '.join(FILLS)}")


# ---- dtype names -------------------------------------------------------------------------------


class DtypeName(NamedTuple):
    """A tokens dtype as named on a command line: the numpy dtype that carries it, the explicit
    ``tokens_dtype=`` name the call needs (``None`` when numpy names the type itself) and whether
    two values share a byte (fp4: the array is ``[A, H/2]``)."""

    carrier: np.dtype
    explicit: Optional[str]
    packed: bool


def parse_dtype(name: str) -> DtypeName:
    """A dtype name (numpy: ``"bfloat16"``; explicit: ``"float4_e2m1"``, ``"hifloat8"``; short:
    ``"bf16"``, ``"fp16"``...) as a :class:`DtypeName`. Raises
    :class:`~moe_re_routing.MoeReRoutingValueError` naming the accepted names."""
    key = name.lower()
    if key in EXPLICIT_TO_ACL:
        acl = EXPLICIT_TO_ACL[key]
        return DtypeName(numpy_dtype_for(acl), key, bool(dtype_table()[acl].roles & ROLE_PACKED4))
    key = _ALIASES.get(key, key)
    if key in NUMPY_TO_ACL:
        return DtypeName(numpy_dtype_for(NUMPY_TO_ACL[key]), None, False)
    raise param_value_error(
        f"unknown dtype {name!r}; expected one of {sorted(set(NUMPY_TO_ACL) | set(EXPLICIT_TO_ACL))}"
    )


def token_dtypes() -> list[tuple[str, np.dtype, Optional[str]]]:
    """Every tokens dtype of the C table: (ACL name, numpy carrier, explicit ``tokens_dtype`` or
    ``None``)."""
    out = []
    for acl, entry in dtype_table().items():
        if not entry.roles & ROLE_TOKENS:
            continue
        carrier = numpy_dtype_for(acl)
        explicit = None
        if acl not in NUMPY_TO_ACL.values() or (carrier == np.dtype(np.uint8) and acl != "UINT8"):
            explicit = next((k for k, v in EXPLICIT_TO_ACL.items() if v == acl), acl)
        out.append((acl, carrier, explicit))
    return out


# ---- cases and payload ---------------------------------------------------------------------------


class Case(NamedTuple):
    """Inputs of one call: tokens ``[A, H]`` (fp4: ``[A, H/2]`` uint8), counts ``[N, E]``, optional
    float32 scales ``[A]`` and the explicit ``tokens_dtype`` the call needs."""

    tokens: np.ndarray
    counts: np.ndarray
    scales: Optional[np.ndarray]
    tokens_dtype: Optional[str]


def make_case(
    rng: np.random.Generator,
    a: int,
    h: int,
    n: int,
    e: int,
    dtype: str = "bfloat16",
    count_dtype: npt.DTypeLike = np.int32,
    scales: bool = False,
    counts: str = "even",
    capacity: int = 0,
) -> Case:
    """Random inputs of a shape; ``counts`` names the fill (:data:`FILLS`, :func:`fill_counts`).
    With a ``capacity`` C (static capacity, ``num_max_tokens_per_rank``) the tokens and scales are
    N slots of C rows and the A tokens of the fill must fit them (each rank's share at most C)."""
    carrier, explicit, packed = parse_dtype(dtype)
    if packed and h % 2:
        raise param_value_error(f"fp4 needs an even H, got {h}")
    cols = h // 2 if packed else h
    cdt = np.dtype(count_dtype)
    c = fill_counts(counts, rng, n, e, a, cdt)
    rows = slotted_rows(c, capacity, f"the {counts} fill of {a} tokens") if capacity else a
    return Case(
        tokens=random_bytes(rng, (rows, cols), carrier),
        counts=c,
        scales=rng.random(rows, dtype=np.float32) if scales else None,
        tokens_dtype=explicit,
    )


def slotted_rows(counts: np.ndarray, capacity: int, what: str) -> int:
    """The N*C rows of slotted tokens for ``counts`` ``[N, E]`` and capacity C, after checking that
    every rank's tokens fit its slot (a MoeReRoutingValueError naming ``what`` otherwise)."""
    most = int(counts.astype(np.int64).sum(axis=1).max())
    if most > capacity:
        raise param_value_error(
            f"{what} gives a rank {most} tokens but the capacity (num_max_tokens_per_rank) is {capacity}"
        )
    return int(counts.shape[0]) * capacity


class Payload(NamedTuple):
    """Bytes a call must read and write (outputs as the operator defines them; no metadata
    re-reads)."""

    read: int
    written: int

    @property
    def total(self) -> int:
        return self.read + self.written


def payload(
    tokens: np.ndarray, counts: np.ndarray, scales: Optional[np.ndarray], capacity: bool = False
) -> Payload:
    """The payload of a call: it reads tokens, counts and scales, and writes the permuted tokens,
    the permuted scales (float32 ``[A]`` zeros without scales), the int32 index and
    ``expert_token_num``. With ``capacity`` (slotted tokens) only the rows holding tokens are
    read; every output row is written."""
    a = tokens.shape[0]
    e = counts.shape[1]
    held = int(counts.astype(np.int64).sum()) if capacity else a
    row_bytes = tokens.nbytes // a if a else 0
    scale_bytes = scales.nbytes // a if scales is not None and a else 0
    read = held * (row_bytes + scale_bytes) + counts.nbytes
    written = tokens.nbytes + (scales.nbytes if scales is not None else 4 * a) + 4 * a + e * counts.itemsize
    return Payload(int(read), int(written))


# ---- comparison --------------------------------------------------------------------------------


def bytes_mismatch(actual: np.ndarray, expected: np.ndarray) -> Optional[str]:
    """``None`` when the arrays have the same shape, dtype and bytes; else what differs."""
    if actual.shape != expected.shape:
        return f"shape {actual.shape} != {expected.shape}"
    if actual.dtype != expected.dtype:
        return f"dtype {actual.dtype} != {expected.dtype}"
    a = np.ascontiguousarray(actual).view(np.uint8).reshape(-1)
    b = np.ascontiguousarray(expected).view(np.uint8).reshape(-1)
    if np.array_equal(a, b):
        return None
    bad = np.flatnonzero(a != b)
    return f"{bad.size} bytes differ, first at byte {bad[0]}"


def mismatched_outputs(result: Sequence[np.ndarray], reference: Sequence[np.ndarray]) -> list[str]:
    """Names of the outputs (see :data:`OUTPUT_NAMES`) whose bytes differ from the reference."""
    return [n for n, x, y in zip(OUTPUT_NAMES, result, reference) if bytes_mismatch(x, y) is not None]
