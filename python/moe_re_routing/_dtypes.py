"""numpy <-> aclDataType mapping.

The operator's dtype table (codes, bits, roles) lives once in C (``MoeReRoutingDtypeTable``) and is
read from the library at import. This module only knows which numpy dtype carries which ACL type
name. Types numpy has no dtype for are carried in ``uint8`` arrays and named explicitly
(``tokens_dtype="float4_e2m1" | "float4_e1m2" | "hifloat8"``, ``scales_dtype="float8_e8m0"``).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Union

import ml_dtypes  # bf16 / fp8 numpy types (a dependency)
import numpy as np

from ._ffi import facts, ffi
from .errors import param_type_error

__all__ = ["DtypeSpec", "acl_code", "dtype_table", "numpy_dtype_for", "resolve"]

# numpy dtype name -> ACL type name (the only retyped fact: which numpy type carries which ACL type).
NUMPY_TO_ACL: dict[str, str] = {
    "float32": "FLOAT",
    "float16": "FLOAT16",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "bfloat16": "BF16",
    "float8_e4m3fn": "FLOAT8_E4M3FN",
    "float8_e5m2": "FLOAT8_E5M2",
    "float8_e8m0fnu": "FLOAT8_E8M0",
    # Known to aclnn but not accepted by this operator: mapped so that the C checks reject them with
    # their own message (validation lives once, in C).
    "float64": "DOUBLE",
    "bool": "BOOL",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "complex64": "COMPLEX64",
    "complex128": "COMPLEX128",
}
# Explicit names for types carried as raw bytes (uint8) because numpy/ml_dtypes cannot hold them
# (packed fp4, hifloat8) or may not (e8m0 on old ml_dtypes).
EXPLICIT_TO_ACL: dict[str, str] = {
    "float4_e2m1": "FLOAT4_E2M1",
    "float4_e1m2": "FLOAT4_E1M2",
    "hifloat8": "HIFLOAT8",
    "float8_e8m0": "FLOAT8_E8M0",
}

# Role bits of TableEntry.roles, from C (MoeReRoutingDtypeRole).
ROLE_TOKENS: int = int(facts.MoeReRoutingDtypeRole(b"tokens"))
ROLE_TOKENS_OFFICIAL: int = int(facts.MoeReRoutingDtypeRole(b"tokens_official"))
ROLE_COUNTS: int = int(facts.MoeReRoutingDtypeRole(b"counts"))
ROLE_SCALES: int = int(facts.MoeReRoutingDtypeRole(b"scales"))
ROLE_PACKED4: int = int(facts.MoeReRoutingDtypeRole(b"packed4"))


class TableEntry(NamedTuple):
    code: int
    name: str
    bits: int
    roles: int


def _read_table() -> dict[str, TableEntry]:
    pp = ffi.new("MoeReRoutingDtypeInfo **")
    n = facts.MoeReRoutingDtypeTable(pp)
    out = {}
    for i in range(n):
        e = pp[0][i]
        name = ffi.string(e.name).decode()
        out[name] = TableEntry(int(e.code), name, int(e.bits), int(e.roles))
    return out


_TABLE = _read_table()


def dtype_table() -> dict[str, TableEntry]:
    """The operator's dtype table as read from C: ACL name -> (code, name, bits, roles)."""
    return dict(_TABLE)


def acl_code(acl_name: str) -> int:
    """aclDataType code of an ACL type name (``"BF16"`` -> 27)."""
    return _TABLE[acl_name].code


def _carrier(acl_name: str) -> np.dtype:
    for np_name, a in NUMPY_TO_ACL.items():
        if a == acl_name:
            try:
                return np.dtype(np_name)
            except TypeError:
                if hasattr(ml_dtypes, np_name):
                    carrier: np.dtype = np.dtype(getattr(ml_dtypes, np_name))
                    return carrier
    return np.dtype(np.uint8)


def numpy_dtype_for(acl_name: str) -> np.dtype:
    """The numpy dtype that carries ``acl_name`` (``uint8`` for fp4/hifloat8, or e8m0 without
    ml_dtypes support)."""
    return _carrier(acl_name)


class DtypeSpec(NamedTuple):
    """A resolved dtype: ACL name and code, bits per element, and whether it is packed 4-bit."""

    acl_name: str
    code: int
    bits: int
    packed4: bool


def _spec(acl_name: str) -> DtypeSpec:
    e = _TABLE.get(acl_name)
    if e is None:
        raise KeyError(acl_name)
    return DtypeSpec(acl_name, e.code, e.bits, e.bits == 4)


def supported_names(role: int) -> list[str]:
    """numpy/explicit names accepted for a role (for error messages)."""
    names = []
    for np_name, a in NUMPY_TO_ACL.items():
        e = _TABLE.get(a)
        if e is not None and e.roles & role:
            names.append(np_name)
    return names


DtypeLike = Union[str, np.dtype, type, None]


def _np_name(dt: np.dtype) -> str:
    return dt.name if dt.names is None else "structured"


def resolve(param: str, array_dtype: np.dtype, explicit: DtypeLike = None, role: int = 0) -> DtypeSpec:
    """ACL dtype of the array ``param`` whose numpy dtype is ``array_dtype``.

    ``explicit`` names the ACL type when the array only carries its bytes: a name from
    ``EXPLICIT_TO_ACL`` (packed fp4 and hifloat8 in ``uint8``, e8m0 in ``uint8``), an ACL name
    (``"BF16"``) or a numpy-mapped name/dtype of the same item size. Raises
    :class:`MoeReRoutingTypeError` naming the parameter and the accepted dtypes.
    """
    if array_dtype.hasobject:
        raise param_type_error(f"{param} has dtype object; expected a numeric numpy array")
    if array_dtype.byteorder == ">" or (array_dtype.byteorder == "<" and not np.little_endian):
        raise param_type_error(f"{param} has non-native byte order {array_dtype.str}; use .astype(native)")
    if explicit is None:
        acl = NUMPY_TO_ACL.get(_np_name(array_dtype))
        if acl is None or acl not in _TABLE:
            hint = ""
            if "float4" in array_dtype.name:
                hint = (
                    " (ml_dtypes fp4 stores one value per byte; pack two per byte into a uint8 "
                    "[A, H/2] array and pass tokens_dtype='float4_e2m1')"
                )
            raise param_type_error(
                f"{param} has dtype {array_dtype.name}, which has no ACL equivalent{hint}; expected one of "
                f"{', '.join(supported_names(role) if role else NUMPY_TO_ACL)}"
            )
        return _spec(acl)
    # Explicit dtype.
    name: Any = explicit
    if not isinstance(name, str):
        try:
            name = np.dtype(name).name
        except TypeError:
            raise param_type_error(f"{param}_dtype {explicit!r} is not a dtype or dtype name") from None
    key = name
    acl = EXPLICIT_TO_ACL.get(key.lower()) or NUMPY_TO_ACL.get(key.lower())
    if acl is None and key.upper() in _TABLE:
        acl = key.upper()
    if acl is None or acl not in _TABLE:
        raise param_type_error(
            f"{param}_dtype {explicit!r} is unknown; expected one of "
            f"{', '.join(list(EXPLICIT_TO_ACL) + list(NUMPY_TO_ACL))} or an ACL name"
        )
    spec = _spec(acl)
    carried_bits = 8 if spec.packed4 else spec.bits
    if array_dtype.itemsize * 8 != carried_bits:
        raise param_type_error(
            f"{param} with {param}_dtype={name!r} must be carried in a {carried_bits // 8}-byte dtype "
            f"(e.g. uint8 for fp4/hifloat8), got {array_dtype.name}"
        )
    if array_dtype.kind not in "uif" and _np_name(array_dtype) not in NUMPY_TO_ACL:
        raise param_type_error(f"{param} has dtype {array_dtype.name}; expected a numeric carrier dtype")
    return spec


def to_np_dtype(value: DtypeLike, param: str) -> tuple[np.dtype, DtypeSpec]:
    """A DeviceTensor dtype argument -> (carrier numpy dtype, its ACL dtype)."""
    if isinstance(value, str):
        key = value.lower()
        acl = (
            EXPLICIT_TO_ACL.get(key)
            or NUMPY_TO_ACL.get(key)
            or (value.upper() if value.upper() in _TABLE else None)
        )
        if acl is None or acl not in _TABLE:
            raise param_type_error(f"{param} dtype {value!r} is unknown")
        return numpy_dtype_for(acl), _spec(acl)
    try:
        dt = np.dtype(value)
    except TypeError:
        raise param_type_error(f"{param} dtype {value!r} is not a dtype") from None
    return dt, resolve(param, dt)
