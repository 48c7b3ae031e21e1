"""Exceptions raised by the moe_re_routing package.

Every exception carries ``.code`` (the aclnn status, e.g. 161002) and ``.message`` (the C layer's
message from ``aclGetRecentErrMsg()``, or the Python layer's own for container problems).

Mapping rule from an aclnn status to a class:

=========================  ==========================================================
status                     class
=========================  ==========================================================
161001 PARAM_NULLPTR       :class:`MoeReRoutingNullError` (a ``TypeError``)
161002 PARAM_INVALID       :class:`MoeReRoutingTypeError` when the message contains
                           "dtype", else :class:`MoeReRoutingValueError`
561002 INNER_TILING_ERROR  :class:`MoeReRoutingTilingError`
361001 RUNTIME_ERROR       :class:`MoeReRoutingRuntimeError` (also AscendCL runtime failures)
anything else              :class:`MoeReRoutingError`
=========================  ==========================================================
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "ACLNN_ERR_INNER_TILING_ERROR",
    "ACLNN_ERR_PARAM_INVALID",
    "ACLNN_ERR_PARAM_NULLPTR",
    "ACLNN_ERR_RUNTIME_ERROR",
    "ACLNN_SUCCESS",
    "MoeReRoutingError",
    "MoeReRoutingNullError",
    "MoeReRoutingRuntimeError",
    "MoeReRoutingTilingError",
    "MoeReRoutingTypeError",
    "MoeReRoutingValueError",
    "error_from_status",
]

# Public aclnn status values (the ABI of aclnn_base.h). Only used to pick an exception class and to
# tag Python-side parameter errors; names for messages come from the C library
# (MoeReRoutingStatusName) and a test checks that these agree with it.
ACLNN_SUCCESS = 0
ACLNN_ERR_PARAM_NULLPTR = 161001
ACLNN_ERR_PARAM_INVALID = 161002
ACLNN_ERR_RUNTIME_ERROR = 361001
ACLNN_ERR_INNER_TILING_ERROR = 561002


class MoeReRoutingError(Exception):
    """Base class. ``code``: aclnn status (or AscendCL error); ``message``: the reason."""

    def __init__(self, code: int, message: str, status_name: Optional[str] = None) -> None:
        self.code = int(code)
        self.message = message
        self.status_name = status_name
        tag = f"{status_name} {self.code}" if status_name else str(self.code)
        super().__init__(f"{message} [{tag}]")


class MoeReRoutingValueError(MoeReRoutingError, ValueError):
    """A bad value or shape (aclnn 161002 not about a dtype)."""


class MoeReRoutingTypeError(MoeReRoutingError, TypeError):
    """A bad type or dtype (aclnn 161002 about a dtype, or a Python container problem)."""


class MoeReRoutingNullError(MoeReRoutingTypeError):
    """A required tensor or pointer is missing (aclnn 161001)."""


class MoeReRoutingTilingError(MoeReRoutingError):
    """The tiling could not be built for the platform (aclnn 561002)."""


class MoeReRoutingRuntimeError(MoeReRoutingError):
    """The launch, the stream or an AscendCL runtime call failed (aclnn 361001, aclError)."""


def error_from_status(code: int, message: str, status_name: Optional[str] = None) -> MoeReRoutingError:
    """The exception for a non-zero aclnn status and its C message (see the module docstring)."""
    if code == ACLNN_ERR_PARAM_NULLPTR:
        return MoeReRoutingNullError(code, message, status_name)
    if code == ACLNN_ERR_PARAM_INVALID:
        if "dtype" in message.lower():
            return MoeReRoutingTypeError(code, message, status_name)
        return MoeReRoutingValueError(code, message, status_name)
    if code == ACLNN_ERR_INNER_TILING_ERROR:
        return MoeReRoutingTilingError(code, message, status_name)
    if code == ACLNN_ERR_RUNTIME_ERROR:
        return MoeReRoutingRuntimeError(code, message, status_name)
    return MoeReRoutingError(code, message, status_name)


def param_type_error(message: str) -> MoeReRoutingTypeError:
    """A Python-side type/dtype problem, tagged ACLNN_ERR_PARAM_INVALID."""
    return MoeReRoutingTypeError(ACLNN_ERR_PARAM_INVALID, message, "ACLNN_ERR_PARAM_INVALID")


def param_value_error(message: str) -> MoeReRoutingValueError:
    """A Python-side value/shape problem, tagged ACLNN_ERR_PARAM_INVALID."""
    return MoeReRoutingValueError(ACLNN_ERR_PARAM_INVALID, message, "ACLNN_ERR_PARAM_INVALID")
