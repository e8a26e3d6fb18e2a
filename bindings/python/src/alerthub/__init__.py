"""AlertHub for Python: send, track and watch notifications.

The same ``alerthub::Client`` as the C++ library, through pybind11: embedded
(the whole engine in this process, on a SQLite file) or remote (a running
AlertHub router, over HTTP and WebSocket)::

    import alerthub

    with alerthub.Client(store="sqlite:///tmp/alerthub.db") as client:
        r = client.submit(type="deploy.finished", title="v2 is live", priority="high")
        print(r.id, r.duplicate)
        print(client.get(r.id).status)          # Status.ACCEPTED
        for n in client.list(limit=10):
            print(n.type, n.created_at)

    remote = alerthub.Client(endpoint="http://localhost:8080", api_key="ahk_...")

Failures raise subclasses of ``alerthub.Error`` (InvalidArgument with
``field_errors``, RateLimited with ``retry_after``, NotFound,
Unauthenticated, Unavailable, ...). See help(alerthub.Client).
"""

try:
    from alerthub import _alerthub  # noqa: F401  (the compiled extension)
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        "alerthub's compiled extension (alerthub/_alerthub.so) is missing or cannot be "
        "loaded: %s. Install the package with `python3 -m pip install "
        "--no-build-isolation ./bindings/python` (see bindings/python/README.md)." % e) from e

from alerthub._client import Client, Watch
from alerthub._errors import (Aborted, AlreadyExists, Cancelled, DataLoss, DeadlineExceeded,
                              Error, FailedPrecondition, Internal, InvalidArgument, NotFound,
                              OutOfRange, PermissionDenied, RateLimited, ResourceExhausted,
                              Unauthenticated, Unavailable, Unimplemented, Unknown)
from alerthub._types import (Channel, Event, FieldError, Notification, Page, Priority, RateLimit,
                             Status, StatusUpdate, SubmitResult)

__version__ = "0.1.0"

__all__ = [
    # The client.
    "Client",
    "Watch",
    # Results.
    "Channel",
    "Event",
    "FieldError",
    "Notification",
    "Page",
    "Priority",
    "RateLimit",
    "Status",
    "StatusUpdate",
    "SubmitResult",
    # Errors.
    "Error",
    "Aborted",
    "AlreadyExists",
    "Cancelled",
    "DataLoss",
    "DeadlineExceeded",
    "FailedPrecondition",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "OutOfRange",
    "PermissionDenied",
    "RateLimited",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "Unknown",
]
