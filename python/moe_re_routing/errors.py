"""Exceptions raised by the moe_re_routing package.

Every exception carries ``.code`` (the aclnn status, e.g. 161002, or an AscendCL ``aclError``;
``None`` when no C call reported one, e.g. the library could not be loaded), ``.message`` (the C
layer's message from ``aclGetRecentErrMsg()``, or the Python layer's own for container problems),
``.status_name`` and ``.kind``.

The class follows the error kind the C library reports for the failed call
(``MoeReRoutingLastErrorKind()``, see ``moe_re_routing_cpu.h``), never the message text:

=========  ====================================================================
kind       class
=========  ====================================================================
nullptr    :class:`MoeReRoutingNullError` (a ``TypeError``)
type       :class:`MoeReRoutingTypeError` (a ``TypeError``): a dtype the parameter does not take
value      :class:`MoeReRoutingValueError` (a ``ValueError``): rank, shape, format, attribute,
           count values, overlapping outputs
tiling     :class:`MoeReRoutingTilingError`
runtime    :class:`MoeReRoutingRuntimeError` (also AscendCL runtime failures)
other      :class:`MoeReRoutingError`
=========  ====================================================================

A library that does not report kinds (CANN's ``libcust_opapi.so``) is classified by status:
PARAM_NULLPTR -> null, PARAM_INVALID -> value, INNER_TILING_ERROR -> tiling, RUNTIME_ERROR ->
runtime.

The status values are defined once, in C: ``ACLNN_SUCCESS``, ``ACLNN_ERR_PARAM_INVALID``... (every
``ACLNN_*`` and ``ACL_*`` name of the status table ``MoeReRoutingStatusTable()``) are attributes of
this module read from the library on first use; :func:`status_codes` returns the whole table.
"""

from __future__ import annotations

import functools
from typing import Optional

__all__ = [
    "MoeReRoutingError",
    "MoeReRoutingNullError",
    "MoeReRoutingRuntimeError",
    "MoeReRoutingTilingError",
    "MoeReRoutingTypeError",
    "MoeReRoutingValueError",
    "error_from_status",
    "status_codes",
]


class MoeReRoutingError(Exception):
    """Base class. ``code``: aclnn status or aclError (None: no C status); ``message``: the reason;
    ``kind``: the C error kind ("type", "value", ...) or None."""

    def __init__(
        self,
        code: Optional[int],
        message: str,
        status_name: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> None:
        self.code = None if code is None else int(code)
        self.message = message
        self.status_name = status_name
        self.kind = kind
        tag = f"{status_name} {self.code}" if status_name else ("" if code is None else str(self.code))
        super().__init__(f"{message} [{tag}]" if tag else message)


class MoeReRoutingValueError(MoeReRoutingError, ValueError):
    """A bad value or shape (kind "value": aclnn 161002 not about a dtype)."""


class MoeReRoutingTypeError(MoeReRoutingError, TypeError):
    """A bad type or dtype (kind "type", or a Python container problem)."""


class MoeReRoutingNullError(MoeReRoutingTypeError):
    """A required tensor or pointer is missing (kind "nullptr", aclnn 161001)."""


class MoeReRoutingTilingError(MoeReRoutingError):
    """The tiling could not be built for the platform (kind "tiling", aclnn 561002)."""


class MoeReRoutingRuntimeError(MoeReRoutingError):
    """The launch, the stream or an AscendCL runtime call failed (kind "runtime", aclError)."""


_KIND_CLASSES: dict[str, type[MoeReRoutingError]] = {
    "nullptr": MoeReRoutingNullError,
    "type": MoeReRoutingTypeError,
    "value": MoeReRoutingValueError,
    "tiling": MoeReRoutingTilingError,
    "runtime": MoeReRoutingRuntimeError,
}

_STATUS_KINDS = {
    "ACLNN_ERR_PARAM_NULLPTR": "nullptr",
    "ACLNN_ERR_PARAM_INVALID": "value",
    "ACLNN_ERR_INNER_TILING_ERROR": "tiling",
    "ACLNN_ERR_RUNTIME_ERROR": "runtime",
}


@functools.cache
def status_codes() -> dict[str, int]:
    """Name -> value of every status of the C library's table (``MoeReRoutingStatusTable``)."""
    from ._ffi import facts, ffi

    pp = ffi.new("MoeReRoutingStatusInfo **")
    n = facts.MoeReRoutingStatusTable(pp)
    return {ffi.string(pp[0][i].name).decode(): int(pp[0][i].code) for i in range(n)}


def __getattr__(name: str) -> int:  # ACLNN_ERR_PARAM_INVALID etc., from the C table
    if name.startswith(("ACLNN_", "ACL_")):
        codes = status_codes()
        if name in codes:
            return codes[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def error_from_status(
    code: int, message: str, status_name: Optional[str] = None, kind: Optional[str] = None
) -> MoeReRoutingError:
    """The exception for a non-zero status, its message and the C error kind (see the module
    docstring); without a kind the status decides."""
    if kind is None or kind in ("none", "unknown"):
        name = status_name or next((k for k, v in status_codes().items() if v == code), None)
        kind = _STATUS_KINDS.get(name or "")
    cls = _KIND_CLASSES.get(kind or "", MoeReRoutingError)
    return cls(code, message, status_name, kind)


def param_type_error(message: str) -> MoeReRoutingTypeError:
    """A Python-side type/dtype problem, tagged ACLNN_ERR_PARAM_INVALID."""
    return MoeReRoutingTypeError(
        status_codes()["ACLNN_ERR_PARAM_INVALID"], message, "ACLNN_ERR_PARAM_INVALID", "type"
    )


def param_value_error(message: str) -> MoeReRoutingValueError:
    """A Python-side value/shape problem, tagged ACLNN_ERR_PARAM_INVALID."""
    return MoeReRoutingValueError(
        status_codes()["ACLNN_ERR_PARAM_INVALID"], message, "ACLNN_ERR_PARAM_INVALID", "value"
    )


def param_null_error(message: str) -> MoeReRoutingNullError:
    """A required argument is None, tagged ACLNN_ERR_PARAM_NULLPTR."""
    return MoeReRoutingNullError(
        status_codes()["ACLNN_ERR_PARAM_NULLPTR"], message, "ACLNN_ERR_PARAM_NULLPTR", "nullptr"
    )
