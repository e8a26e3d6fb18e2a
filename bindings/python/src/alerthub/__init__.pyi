# Type stubs for the public API of the `alerthub` package. Kept in step with
# the module by bindings/python/tests/test_stubs.py.
import datetime
import enum
from typing import (Any, Callable, ClassVar, Dict, Iterable, Iterator, List, Literal, Mapping,
                    Optional, Sequence, Union)

__version__: str
__all__: List[str]

# -- results ----------------------------------------------------------------

class Status(str, enum.Enum):
    ACCEPTED = "accepted"
    ROUTED = "routed"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"
    @property
    def terminal(self) -> bool: ...

class Priority(str, enum.Enum):
    MIN = "min"
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"
    @property
    def level(self) -> int: ...

class Channel(str, enum.Enum):
    WEBHOOK = "webhook"
    SLACK = "slack"
    DISCORD = "discord"
    EMAIL = "email"
    PUSH = "push"

class FieldError:
    field: str
    message: str
    def __init__(self, field: str, message: str) -> None: ...

class RateLimit:
    limit: int
    remaining: int
    reset_after: float
    retry_after: float
    def __init__(self, limit: int, remaining: int, reset_after: float,
                 retry_after: float) -> None: ...

class SubmitResult:
    id: str
    status: Status
    duplicate: bool
    rate_limit: RateLimit
    def __init__(self, id: str, status: Status, duplicate: bool,
                 rate_limit: RateLimit) -> None: ...

class Notification:
    id: str
    tenant_id: str
    status: Status
    created_at: Optional[datetime.datetime]
    updated_at: Optional[datetime.datetime]
    type: str
    title: str
    body: str
    priority: Priority
    data: Dict[str, Any]
    tags: Dict[str, str]
    recipients: List[str]
    channels: List[Channel]
    integration_ids: List[str]
    template: str
    dedup_key: str
    scheduled_at: Optional[datetime.datetime]
    def __init__(self, id: str, tenant_id: str, status: Status,
                 created_at: Optional[datetime.datetime],
                 updated_at: Optional[datetime.datetime], type: str, title: str, body: str,
                 priority: Priority, data: Dict[str, Any], tags: Dict[str, str],
                 recipients: List[str], channels: List[Channel], integration_ids: List[str],
                 template: str, dedup_key: str,
                 scheduled_at: Optional[datetime.datetime]) -> None: ...
    def __hash__(self) -> int: ...

class Event:
    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: Optional[datetime.datetime]
    datacontenttype: str
    data: Any
    tenantid: str
    traceparent: str
    def __init__(self, specversion: str, id: str, source: str, type: str, subject: str,
                 time: Optional[datetime.datetime], datacontenttype: str, data: Any,
                 tenantid: str, traceparent: str) -> None: ...
    def __hash__(self) -> int: ...

class StatusUpdate:
    id: str
    status: Status
    at: Optional[datetime.datetime]
    notification_type: str
    priority: Priority
    def __init__(self, id: str, status: Status, at: Optional[datetime.datetime],
                 notification_type: str, priority: Priority) -> None: ...

class Page:
    items: List[Notification]
    next_cursor: Optional[str]
    def __init__(self, items: List[Notification], next_cursor: Optional[str]) -> None: ...

# -- errors -----------------------------------------------------------------

class Error(Exception):
    code: ClassVar[str]
    message: str
    def __init__(self, message: str) -> None: ...

class Cancelled(Error): ...
class Unknown(Error): ...

class InvalidArgument(Error):
    field_errors: List[FieldError]
    def __init__(self, message: str, field_errors: Sequence[FieldError] = ...) -> None: ...

class DeadlineExceeded(Error): ...
class NotFound(Error): ...
class AlreadyExists(Error): ...
class PermissionDenied(Error): ...
class ResourceExhausted(Error): ...

class RateLimited(ResourceExhausted):
    rate_limit: RateLimit
    retry_after: float
    def __init__(self, message: str, rate_limit: RateLimit) -> None: ...

class FailedPrecondition(Error): ...
class Aborted(Error): ...
class OutOfRange(Error): ...
class Unimplemented(Error): ...
class Internal(Error): ...
class Unavailable(Error): ...
class DataLoss(Error): ...
class Unauthenticated(Error): ...

# -- the client -------------------------------------------------------------

class Watch:
    @property
    def closed(self) -> bool: ...
    @property
    def dropped(self) -> int: ...
    def close(self) -> None: ...
    def next(self, timeout: Optional[float] = None) -> Optional[StatusUpdate]: ...
    def wait(self, timeout: Optional[float] = None) -> bool: ...
    def __iter__(self) -> Watch: ...
    def __next__(self) -> StatusUpdate: ...
    def __enter__(self) -> Watch: ...
    def __exit__(self, *exc_info: Any) -> None: ...

class Client:
    def __init__(self, endpoint: Optional[str] = None, api_key: Optional[str] = None, *,
                 store: Optional[str] = None, tenant: Optional[str] = None,
                 timeout: float = 10.0, bus: Optional[str] = None, queue: Optional[str] = None,
                 kv: Optional[str] = None, rate_limit_per_second: Optional[float] = None,
                 rate_limit_burst: Optional[float] = None,
                 rate_limit_enabled: Optional[bool] = None,
                 dedup_window: Union[float, datetime.timedelta, None] = None) -> None: ...
    @property
    def mode(self) -> Literal["embedded", "remote"]: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Client: ...
    def __exit__(self, *exc_info: Any) -> None: ...
    def submit(self, notification: Optional[Mapping[str, Any]] = None, /, *,
               idempotency_key: Optional[str] = None, **fields: Any) -> SubmitResult: ...
    def submit_batch(self, notifications: Iterable[Mapping[str, Any]], *,
                     idempotency_key: Optional[str] = None) -> List[Union[SubmitResult, Error]]: ...
    def get(self, id: str) -> Notification: ...
    def events(self, id: str) -> List[Event]: ...
    def list_page(self, *, status: Union[Status, str, None] = None, type: Optional[str] = None,
                  since: Optional[datetime.datetime] = None, limit: int = 50,
                  cursor: Optional[str] = None) -> Page: ...
    def list(self, *, status: Union[Status, str, None] = None, type: Optional[str] = None,
             since: Optional[datetime.datetime] = None, limit: Optional[int] = None,
             page_size: int = 100) -> Iterator[Notification]: ...
    def watch(self, callback: Optional[Callable[[StatusUpdate], Any]] = None, *,
              types: Optional[Iterable[str]] = None,
              min_priority: Union[Priority, str, int, None] = None,
              max_queue: int = 10000) -> Watch: ...
