"""alerthub.Client and alerthub.Watch: the Python face of alerthub::Client."""

from __future__ import annotations

import atexit
import datetime as _dt
import threading
import weakref
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Union)

from alerthub import _alerthub
from alerthub._errors import Error, InvalidArgument
from alerthub._types import (FieldError, Notification, Event, Page, Priority, StatusUpdate,
                             SubmitResult, _micros)

# Client.list() fetches pages of this size unless told otherwise.
DEFAULT_PAGE_SIZE = 100
_MAX_PAGE_SIZE = 500

# Open clients and watches, closed at interpreter exit: a watch thread must
# not call into Python while the interpreter is being torn down.
_live: "weakref.WeakSet[Any]" = weakref.WeakSet()
_live_lock = threading.Lock()


def _track(obj: Any) -> None:
    with _live_lock:
        _live.add(obj)


@atexit.register
def _close_all() -> None:
    with _live_lock:
        objects = list(_live)
    # Watches first: they hold the C++ clients.
    for obj in sorted(objects, key=lambda o: not isinstance(o, Watch)):
        try:
            obj.close()
        except Exception:  # noqa: BLE001 -- best effort at exit
            pass


def _field_error(message: str, field: str, rule: str) -> InvalidArgument:
    return InvalidArgument("%s: %s: %s" % (message, field, rule), [FieldError(field, rule)])


def _request(notification: Optional[Mapping[str, Any]], fields: Mapping[str, Any]) -> Dict[str, Any]:
    """One notification request dict from a mapping and/or keyword fields;
    datetimes (scheduled_at) become RFC 3339 strings."""
    if notification is None:
        request: Dict[str, Any] = {}
    elif isinstance(notification, Mapping):
        request = dict(notification)
    else:
        raise TypeError("a notification is a mapping (dict), not %s" % type(notification).__name__)
    both = sorted(set(request) & set(fields))
    if both:
        raise TypeError("field %s given both in the mapping and as a keyword argument"
                        % ", ".join(repr(f) for f in both))
    request.update(fields)
    scheduled = request.get("scheduled_at")
    if isinstance(scheduled, _dt.datetime):
        _micros(scheduled, "scheduled_at")  # refuses naive datetimes
        request["scheduled_at"] = scheduled.astimezone(_dt.timezone.utc).isoformat()
    return request


class Client:
    """A client of AlertHub: the C++ ``alerthub::Client`` through pybind11.

    Remote mode talks to a running router::

        client = alerthub.Client(endpoint="http://localhost:8080", api_key="ahk_...")

    Embedded mode runs the whole engine in this process on a SQLite file::

        client = alerthub.Client(store="sqlite:///var/lib/myapp/alerthub.db")

    Both modes have the same calls and raise the same ``alerthub.Error``
    subclasses. Calls release the GIL while they wait on the database or the
    network, and one Client may be shared by many threads. ``close()`` (or a
    ``with`` block) releases it; open watches keep working until closed.

    Embedded options (docs/library.md): ``store`` (default
    ``"sqlite://alerthub.db"``, relative to the working directory), ``bus``,
    ``queue``, ``kv``, ``tenant`` (default ``"default"``, created on first
    use), ``rate_limit_per_second`` / ``rate_limit_burst`` (token buckets per
    tenant and per endpoint, default 1000/s and 2000), ``rate_limit_enabled``,
    ``dedup_window`` (content dedup window in seconds, default 300; 0 turns it
    off). Remote options: ``endpoint``, ``api_key`` and ``timeout`` (seconds
    per request, default 10; also bounds watch start-up).
    """

    def __init__(self, endpoint: Optional[str] = None, api_key: Optional[str] = None, *,
                 store: Optional[str] = None, tenant: Optional[str] = None,
                 timeout: float = 10.0, bus: Optional[str] = None, queue: Optional[str] = None,
                 kv: Optional[str] = None, rate_limit_per_second: Optional[float] = None,
                 rate_limit_burst: Optional[float] = None,
                 rate_limit_enabled: Optional[bool] = None,
                 dedup_window: Union[float, _dt.timedelta, None] = None) -> None:
        embedded = {"store": store, "tenant": tenant, "bus": bus, "queue": queue, "kv": kv,
                    "rate_limit_per_second": rate_limit_per_second,
                    "rate_limit_burst": rate_limit_burst,
                    "rate_limit_enabled": rate_limit_enabled, "dedup_window": dedup_window}
        if endpoint:
            given = sorted(k for k, v in embedded.items() if v is not None)
            if given:
                raise ValueError("%s only apply to embedded mode; a remote client (endpoint=) "
                                 "gets its tenant and limits from the router" % ", ".join(given))
        elif api_key is not None:
            raise ValueError("api_key needs endpoint= (remote mode); embedded mode has no keys")
        for name in ("rate_limit_per_second", "rate_limit_burst"):
            value = embedded[name]
            if value is not None and not value > 0:
                raise ValueError("%s must be positive (use rate_limit_enabled=False to turn "
                                 "limits off)" % name)
        if isinstance(dedup_window, _dt.timedelta):
            dedup_window = dedup_window.total_seconds()
        if dedup_window is not None and dedup_window < 0:
            raise ValueError("dedup_window must be >= 0 seconds")
        self._native = _alerthub.NativeClient(
            endpoint or "", api_key or "", float(timeout), store=store, bus=bus, queue=queue,
            kv=kv, tenant=tenant, rate_limit_enabled=rate_limit_enabled,
            rate_limit_per_second=rate_limit_per_second, rate_limit_burst=rate_limit_burst,
            dedup_window_s=None if dedup_window is None else float(dedup_window))
        self._where = endpoint if endpoint else (store or "sqlite://alerthub.db")
        _track(self)

    # -- lifecycle ----------------------------------------------------------

    @property
    def mode(self) -> str:
        """``"embedded"`` or ``"remote"``."""
        return self._native.mode

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._native.closed

    def close(self) -> None:
        """Releases the client; later calls raise ValueError. Idempotent.
        Calls running in other threads and open watches finish first."""
        self._native.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return "<alerthub.Client %s %s%s>" % (self.mode, self._where, state)

    # -- submitting ---------------------------------------------------------

    def submit(self, notification: Optional[Mapping[str, Any]] = None, /, *,
               idempotency_key: Optional[str] = None, **fields: Any) -> SubmitResult:
        """Submits one notification; the result means it is durable.

        Give the fields as keyword arguments, as a mapping, or both::

            client.submit(type="deploy.finished", title="v2 is live", priority="high",
                          tags={"env": "prod"})
            client.submit({"type": "disk.full", "data": {"host": "db1"}})

        Fields as in the REST API (docs/library.md): type (required), title,
        body, priority (a Priority, a name or 1-5), data, tags, recipients,
        channels, integration_ids, template, dedup_key, scheduled_at (an aware
        datetime or an RFC 3339 string). ``idempotency_key`` makes a repeat
        return the original id with ``duplicate=True``.

        Raises InvalidArgument (``field_errors`` names each bad field),
        RateLimited (``retry_after``), Unavailable (retry), Unauthenticated.
        """
        request = _request(notification, fields)
        return SubmitResult._from_native(self._native.submit(request, idempotency_key or ""))

    def submit_batch(self, notifications: Iterable[Mapping[str, Any]], *,
                     idempotency_key: Optional[str] = None) -> List[Union[SubmitResult, Error]]:
        """Submits 1-100 notifications at once. Returns one entry per item, in
        order: its SubmitResult, or the alerthub.Error (not raised) that
        rejected it -- a bad item does not sink the others. With an
        ``idempotency_key``, item i is keyed ``"<key>#<i>"``.

        Raises (for the whole call) InvalidArgument for a batch of 0 or more
        than 100 items, RateLimited, Unavailable, Unauthenticated.
        """
        requests = [_request(n, {}) for n in notifications]
        out: List[Union[SubmitResult, Error]] = []
        for item in self._native.submit_batch(requests, idempotency_key or ""):
            out.append(item if isinstance(item, Error) else SubmitResult._from_native(item))
        return out

    # -- reading ------------------------------------------------------------

    def get(self, id: str) -> Notification:
        """The notification with this id. Raises NotFound (also for another
        tenant's id)."""
        return Notification._from_native(self._native.get(id))

    def events(self, id: str) -> List[Event]:
        """The notification's history (CloudEvents), oldest first. Raises
        NotFound."""
        return [Event._from_native(e) for e in self._native.events(id)]

    def list_page(self, *, status: Union[str, None] = None, type: Optional[str] = None,
                  since: Optional[_dt.datetime] = None, limit: int = 50,
                  cursor: Optional[str] = None) -> Page:
        """One page of the tenant's notifications, newest first: at most
        ``limit`` (1-500) of them, filtered by ``status`` (a Status or its
        name), exact ``type`` and ``since`` (an aware datetime: created at or
        after). Pass the page's ``next_cursor`` as ``cursor`` for the next.
        Raises InvalidArgument for a bad filter, limit or cursor."""
        items, next_cursor = self._native.list_page(
            None if status is None else str(_enum_value(status)), type or "",
            None if since is None else _micros(since, "since"), int(limit), cursor or "")
        return Page([Notification._from_native(n) for n in items], next_cursor or None)

    def list(self, *, status: Union[str, None] = None, type: Optional[str] = None,
             since: Optional[_dt.datetime] = None, limit: Optional[int] = None,
             page_size: int = DEFAULT_PAGE_SIZE) -> Iterator[Notification]:
        """The tenant's notifications, newest first, as an iterator that
        follows cursors page by page (``page_size`` per request, 1-500).
        ``limit`` caps the total (None: all); filters as in list_page().

        The first page is fetched by this call, so a bad argument raises here
        (InvalidArgument); later pages are fetched as you iterate."""
        if limit is not None and limit < 0:
            raise _field_error("invalid list request", "limit", "must not be negative")
        if not 1 <= page_size <= _MAX_PAGE_SIZE:
            raise _field_error("invalid list request", "page_size",
                               "must be an integer between 1 and %d" % _MAX_PAGE_SIZE)
        if limit == 0:
            return iter(())
        first_size = page_size if limit is None else min(page_size, limit)
        first = self.list_page(status=status, type=type, since=since, limit=first_size)
        return self._follow(first, status, type, since, limit, page_size)

    def _follow(self, page: Page, status: Union[str, None], type: Optional[str],
                since: Optional[_dt.datetime], limit: Optional[int],
                page_size: int) -> Iterator[Notification]:
        remaining = limit
        while True:
            for n in page.items:
                if remaining is not None:
                    if remaining == 0:
                        return
                    remaining -= 1
                yield n
            if page.next_cursor is None or remaining == 0:
                return
            size = page_size if remaining is None else min(page_size, remaining)
            page = self.list_page(status=status, type=type, since=since, limit=size,
                                  cursor=page.next_cursor)

    # -- watching -----------------------------------------------------------

    def watch(self, callback: Optional[Callable[[StatusUpdate], Any]] = None, *,
              types: Optional[Iterable[str]] = None,
              min_priority: Union[Priority, str, int, None] = None,
              max_queue: int = 10000) -> Watch:
        """Follows status changes of the tenant's notifications from now on.

        Iterator form (no callback)::

            with client.watch(types=["deploy.finished"]) as updates:
                for u in updates:               # Ctrl-C raises KeyboardInterrupt
                    print(u.id, u.status)

        Callback form: ``callback(update)`` runs on the watch's own thread,
        one update at a time, until ``close()``::

            w = client.watch(print, min_priority="high")
            ...
            w.close()

        ``types`` keeps only these notification types, ``min_priority`` only
        updates at least that high. At most ``max_queue`` updates wait for a
        slow consumer; older ones are dropped (``Watch.dropped`` counts them;
        ``get()`` reads the current state back). Every update committed after
        this returns is delivered (remote mode: while connected; it reconnects
        by itself). Raises Unauthenticated or Unavailable (remote mode) when
        the stream cannot be opened.
        """
        native_callback = None
        if callback is not None:
            if not callable(callback):
                raise TypeError("callback must be callable")
            user_callback = callback

            def native_callback(update: Dict[str, Any]) -> None:
                user_callback(StatusUpdate._from_native(update))

        if isinstance(types, str):
            raise TypeError("types is a list of notification types, not a str")
        type_list = [] if types is None else [str(t) for t in types]
        native = self._native.watch(type_list, _enum_value(min_priority), int(max_queue),
                                    native_callback)
        return Watch(native, callback)


def _enum_value(value: Any) -> Any:
    """The wire value of an enum member (priorities, statuses); others as is."""
    return getattr(value, "value", value)


class Watch:
    """A running watch (see Client.watch). Iterate it for StatusUpdate values,
    or, in the callback form, let the callback run until ``close()``. A
    context manager that closes on exit."""

    def __init__(self, native: Any, callback: Optional[Callable[[StatusUpdate], Any]]) -> None:
        self._native = native
        self._callback = callback
        _track(self)

    @property
    def closed(self) -> bool:
        """True once the watch has ended (close() was called)."""
        return self._native.closed

    @property
    def dropped(self) -> int:
        """Updates lost because the consumer fell more than max_queue behind."""
        return self._native.dropped

    def close(self) -> None:
        """Ends the watch: no callback runs after this returns (unless called
        from the callback itself), and iteration stops. Idempotent."""
        self._native.close()

    def next(self, timeout: Optional[float] = None) -> Optional[StatusUpdate]:
        """The next update, or None when ``timeout`` seconds pass first (None:
        wait as long as it takes). Raises StopIteration once closed,
        KeyboardInterrupt on Ctrl-C, TypeError in the callback form."""
        update = self._native.next(timeout)
        return None if update is None else StatusUpdate._from_native(update)

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the watch is closed (e.g. by its callback); False when
        ``timeout`` seconds passed first. Interruptible by Ctrl-C."""
        return self._native.wait(timeout)

    def __iter__(self) -> Watch:
        if self._native.has_callback:
            raise TypeError("this watch delivers updates to its callback; it is not iterable")
        return self

    def __next__(self) -> StatusUpdate:
        return StatusUpdate._from_native(self._native.next(None))

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        form = "callback" if self._native.has_callback else "iterator"
        state = "closed" if self.closed else "open"
        return "<alerthub.Watch %s %s dropped=%d>" % (form, state, self.dropped)
