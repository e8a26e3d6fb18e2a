"""alerthub.Error and its subclasses, one per absl status code.

The C++ library reports every failure as an absl::Status; the extension turns
each into the subclass below for its code (``_from_status``), so callers catch
what they can handle::

    try:
        client.submit(type="Deploy!")
    except alerthub.InvalidArgument as e:
        for fe in e.field_errors:            # FieldError(field='type', message='must be ...')
            print(fe.field, fe.message)
    except alerthub.RateLimited as e:
        time.sleep(e.retry_after)
    except alerthub.Unavailable:
        ...                                  # retry later
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple, Type

from alerthub._types import FieldError, RateLimit


class Error(Exception):
    """Base class of every error the AlertHub client raises.

    ``code`` is the absl status code name (``"NOT_FOUND"``), ``message`` the
    library's message (also ``str(error)``).
    """

    code: ClassVar[str] = "UNKNOWN"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.message,))


class Cancelled(Error):
    """The operation was cancelled."""

    code = "CANCELLED"


class Unknown(Error):
    """An error the library could not classify (an unexpected HTTP status)."""

    code = "UNKNOWN"


class InvalidArgument(Error):
    """The request breaks a rule. ``field_errors`` names each offending field
    as the REST API does (``"type"``, ``"tags.env"``, ``"recipients[3]"``)."""

    code = "INVALID_ARGUMENT"

    def __init__(self, message: str, field_errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.field_errors: List[FieldError] = list(field_errors)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.message, self.field_errors))

    def __repr__(self) -> str:
        return "InvalidArgument(%r, field_errors=%r)" % (self.message, self.field_errors)


class DeadlineExceeded(Error):
    """The operation did not finish in time."""

    code = "DEADLINE_EXCEEDED"


class NotFound(Error):
    """No such notification for this tenant (another tenant's id is not found either)."""

    code = "NOT_FOUND"


class AlreadyExists(Error):
    """The object exists already."""

    code = "ALREADY_EXISTS"


class PermissionDenied(Error):
    """The credential is valid but its role may not do this."""

    code = "PERMISSION_DENIED"


class ResourceExhausted(Error):
    """A resource ran out. Rate limiting is the subclass RateLimited."""

    code = "RESOURCE_EXHAUSTED"


class RateLimited(ResourceExhausted):
    """Rate limited: try again after ``retry_after`` seconds. ``rate_limit``
    holds the bucket's state (limit, remaining, reset_after, retry_after)."""

    def __init__(self, message: str, rate_limit: RateLimit) -> None:
        super().__init__(message)
        self.rate_limit = rate_limit
        self.retry_after: float = rate_limit.retry_after

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.message, self.rate_limit))

    def __repr__(self) -> str:
        return "RateLimited(%r, retry_after=%r)" % (self.message, self.retry_after)


class FailedPrecondition(Error):
    """The system is not in a state the operation needs."""

    code = "FAILED_PRECONDITION"


class Aborted(Error):
    """The operation was aborted (a conflict); it may be retried."""

    code = "ABORTED"


class OutOfRange(Error):
    """A value is past the end of its valid range."""

    code = "OUT_OF_RANGE"


class Unimplemented(Error):
    """The router or library does not implement this operation."""

    code = "UNIMPLEMENTED"


class Internal(Error):
    """An internal error (a bug, or a malformed answer from the router)."""

    code = "INTERNAL"


class Unavailable(Error):
    """The store or router cannot be reached; the call may be retried."""

    code = "UNAVAILABLE"


class DataLoss(Error):
    """Unrecoverable data loss or corruption."""

    code = "DATA_LOSS"


class Unauthenticated(Error):
    """The API key is missing, malformed, unknown or revoked."""

    code = "UNAUTHENTICATED"


# absl::StatusCode values (never renumbered) -> class.
_BY_CODE: Dict[int, Type[Error]] = {
    1: Cancelled,
    2: Unknown,
    3: InvalidArgument,
    4: DeadlineExceeded,
    5: NotFound,
    6: AlreadyExists,
    7: PermissionDenied,
    8: ResourceExhausted,
    9: FailedPrecondition,
    10: Aborted,
    11: OutOfRange,
    12: Unimplemented,
    13: Internal,
    14: Unavailable,
    15: DataLoss,
    16: Unauthenticated,
}


def _from_status(code: int, message: str, field_errors: Sequence[Tuple[str, str]],
                 rate_limit: Optional[Dict[str, Any]]) -> Error:
    """The exception for an absl::Status (called by the extension module)."""
    if code == 3:
        return InvalidArgument(message, [FieldError(f, m) for f, m in field_errors])
    if code == 8 and rate_limit is not None:
        return RateLimited(message, RateLimit(**rate_limit))
    cls = _BY_CODE.get(code, Unknown)
    return cls(message)
