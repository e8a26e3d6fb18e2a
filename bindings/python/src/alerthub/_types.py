"""Typed results of the AlertHub client: small frozen dataclasses and
str-valued enums. Times are timezone-aware ``datetime`` objects in UTC.

The extension module returns plain dicts (times as Unix microseconds); the
``_from_native`` constructors here turn them into these classes.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
from typing import Any, Dict, List, Mapping, Optional

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MICROSECOND = _dt.timedelta(microseconds=1)


def _time(micros: Optional[int]) -> Optional[_dt.datetime]:
    return None if micros is None else _EPOCH + micros * _MICROSECOND


def _micros(value: _dt.datetime, name: str) -> int:
    """Unix microseconds of an aware datetime; naive ones are refused, since
    their zone would be a guess."""
    if not isinstance(value, _dt.datetime):
        raise TypeError("%s must be a datetime, not %s" % (name, type(value).__name__))
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("%s must be timezone-aware (e.g. datetime.now(timezone.utc))" % name)
    return (value - _EPOCH) // _MICROSECOND


class Status(str, enum.Enum):
    """A notification's lifecycle: ACCEPTED -> ROUTED -> DELIVERING ->
    DELIVERED | PARTIALLY_DELIVERED | FAILED | SUPPRESSED, or CANCELLED
    before routing. Members compare equal to their names (``"accepted"``)."""

    ACCEPTED = "accepted"
    ROUTED = "routed"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value

    @property
    def terminal(self) -> bool:
        """True once the status can no longer change."""
        return self not in (Status.ACCEPTED, Status.ROUTED, Status.DELIVERING)


class Priority(str, enum.Enum):
    """A notification's priority, lowest first. Requests may also give
    ``"high"`` or an int 1-5."""

    MIN = "min"
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"

    def __str__(self) -> str:
        return self.value

    @property
    def level(self) -> int:
        """1 (MIN) to 5 (CRITICAL)."""
        return list(Priority).index(self) + 1


class Channel(str, enum.Enum):
    """A delivery channel."""

    WEBHOOK = "webhook"
    SLACK = "slack"
    DISCORD = "discord"
    EMAIL = "email"
    PUSH = "push"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One broken rule of one input field; ``field`` is a JSON path of the
    request (``"type"``, ``"tags.env"``, ``"notifications[2].priority"``)."""

    field: str
    message: str


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """The state of the tenant's token bucket, as the RateLimit-* headers
    report it. Durations are seconds."""

    limit: int
    remaining: int
    reset_after: float
    retry_after: float


@dataclasses.dataclass(frozen=True)
class SubmitResult:
    """The outcome of an accepted submission: it is durable. ``duplicate``
    says it repeated an earlier one (same dedup_key, idempotency key or
    content within the dedup window); ``id`` is then the original's."""

    id: str
    status: Status
    duplicate: bool
    rate_limit: RateLimit

    @classmethod
    def _from_native(cls, d: Dict[str, Any]) -> SubmitResult:
        return cls(id=d["id"], status=Status(d["status"]), duplicate=d["duplicate"],
                   rate_limit=RateLimit(**d["rate_limit"]))


@dataclasses.dataclass(frozen=True)
class Notification:
    """A stored notification: the submitted fields plus what AlertHub
    assigned (id, tenant_id, status, created_at, updated_at). Hashable by id;
    equal when every field is."""

    id: str
    tenant_id: str
    status: Status
    created_at: Optional[_dt.datetime]
    updated_at: Optional[_dt.datetime]
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
    scheduled_at: Optional[_dt.datetime]

    def __hash__(self) -> int:
        return hash(("Notification", self.id))

    @classmethod
    def _from_native(cls, d: Dict[str, Any]) -> Notification:
        return cls(
            id=d["id"], tenant_id=d["tenant_id"], status=Status(d["status"]),
            created_at=_time(d["created_at"]), updated_at=_time(d["updated_at"]),
            type=d["type"], title=d["title"], body=d["body"],
            priority=Priority(d["priority"]), data=d["data"], tags=d["tags"],
            recipients=d["recipients"], channels=[Channel(c) for c in d["channels"]],
            integration_ids=d["integration_ids"], template=d["template"],
            dedup_key=d["dedup_key"], scheduled_at=_time(d["scheduled_at"]))


@dataclasses.dataclass(frozen=True)
class Event:
    """One entry of a notification's history: a CloudEvents 1.0 event with
    the attribute names of the spec (``subject`` is the notification id,
    ``tenantid`` and ``traceparent`` are extensions)."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: Optional[_dt.datetime]
    datacontenttype: str
    data: Any
    tenantid: str
    traceparent: str

    def __hash__(self) -> int:
        return hash(("Event", self.id))

    @classmethod
    def _from_native(cls, d: Dict[str, Any]) -> Event:
        fields = dict(d)
        fields["time"] = _time(d["time"])
        return cls(**fields)


@dataclasses.dataclass(frozen=True)
class StatusUpdate:
    """A status change of one of the tenant's notifications, as Client.watch
    delivers it."""

    id: str
    status: Status
    at: Optional[_dt.datetime]
    notification_type: str
    priority: Priority

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> StatusUpdate:
        return cls(id=d["id"], status=Status(d["status"]), at=_time(d["at"]),
                   notification_type=d["notification_type"], priority=Priority(d["priority"]))


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of Client.list_page(): ``items`` newest first; pass
    ``next_cursor`` as ``cursor`` for the next page (None on the last)."""

    items: List[Notification]
    next_cursor: Optional[str]
