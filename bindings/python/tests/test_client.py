"""Every call of alerthub.Client, in embedded and remote mode (the `client`
fixture runs each test in both)."""

import datetime
import time
import uuid

import pytest

import alerthub
from alerthub import Channel, Priority, Status

UTC = datetime.timezone.utc


def is_aware_utc(t):
    return isinstance(t, datetime.datetime) and t.utcoffset() == datetime.timedelta(0)


# -- opening ------------------------------------------------------------------


def test_mode_repr_and_context_manager(client, request):
    mode = request.node.callspec.params["client"]
    assert client.mode == mode
    assert repr(client).startswith("<alerthub.Client %s " % mode)
    assert not client.closed
    with client as c:
        assert c is client
    assert client.closed
    assert repr(client).endswith(" closed>")
    with pytest.raises(ValueError, match="the alerthub.Client is closed"):
        client.get(str(uuid.uuid4()))
    client.close()  # idempotent


def test_embedded_and_remote_options_do_not_mix(daemon):
    with pytest.raises(ValueError, match="store only apply to embedded mode"):
        alerthub.Client(endpoint=daemon.base_url, api_key=daemon.api_key, store="sqlite://x.db")
    with pytest.raises(ValueError, match="api_key needs endpoint="):
        alerthub.Client(api_key="ahk_x", store="sqlite://:memory:")
    with pytest.raises(ValueError, match="rate_limit_burst must be positive"):
        alerthub.Client(store="sqlite://:memory:", rate_limit_burst=0)
    with pytest.raises(ValueError, match="dedup_window must be >= 0"):
        alerthub.Client(store="sqlite://:memory:", dedup_window=-1)


def test_embedded_options_reach_the_engine(tmp_path, unique_type):
    c = alerthub.Client(store="sqlite:///%s" % (tmp_path / "a.db"), tenant="team-a",
                        rate_limit_enabled=False, dedup_window=datetime.timedelta(0))
    with c:
        # Dedup window 0: identical content is stored twice.
        a = c.submit(type=unique_type, title="same")
        b = c.submit(type=unique_type, title="same")
        assert (a.duplicate, b.duplicate) == (False, False)
        assert a.id != b.id
        assert a.rate_limit.limit == 0  # limits off
    # The same file, another tenant: the first tenant's notification is not its.
    with alerthub.Client(store="sqlite:///%s" % (tmp_path / "a.db"), tenant="team-b") as other:
        with pytest.raises(alerthub.NotFound):
            other.get(a.id)


# -- submit -------------------------------------------------------------------


def test_submit_every_field_and_read_it_back(client, unique_type):
    scheduled = (datetime.datetime.now(UTC) + datetime.timedelta(days=1)).replace(microsecond=0)
    integration = "01890a5d-ac96-774b-bcce-b302099a8057"
    r = client.submit(
        type=unique_type, title="checkout v2.3.1 is live", body="12/12 hosts",
        priority=Priority.HIGH, data={"hosts": 12, "ratio": 0.5, "ok": True, "none": None,
                                      "nested": {"list": [1, "two", [3]]}},
        tags={"env": "prod", "service": "checkout"}, recipients=["u-1", "u-2"],
        channels=["webhook", Channel.SLACK], integration_ids=[integration],
        template="deploy.default", dedup_key="dk-" + unique_type, scheduled_at=scheduled)
    assert isinstance(r, alerthub.SubmitResult)
    assert r.status is Status.ACCEPTED and r.duplicate is False
    assert uuid.UUID(r.id).version == 7
    assert isinstance(r.rate_limit, alerthub.RateLimit)

    n = client.get(r.id)
    assert isinstance(n, alerthub.Notification)
    assert (n.id, n.type, n.title, n.body) == (r.id, unique_type, "checkout v2.3.1 is live",
                                               "12/12 hosts")
    assert n.priority is Priority.HIGH
    assert n.data == {"hosts": 12, "ratio": 0.5, "ok": True, "none": None,
                      "nested": {"list": [1, "two", [3]]}}
    assert n.tags == {"env": "prod", "service": "checkout"}
    assert n.recipients == ["u-1", "u-2"]
    assert n.channels == [Channel.WEBHOOK, Channel.SLACK]
    assert n.integration_ids == [integration]
    assert (n.template, n.dedup_key) == ("deploy.default", "dk-" + unique_type)
    assert n.scheduled_at == scheduled and is_aware_utc(n.scheduled_at)
    assert is_aware_utc(n.created_at) and is_aware_utc(n.updated_at)
    assert abs(n.created_at - datetime.datetime.now(UTC)) < datetime.timedelta(minutes=1)
    assert isinstance(n.status, Status)
    assert n.tenant_id
    assert hash(n) == hash(client.get(r.id))
    assert "Notification(id=%r" % r.id in repr(n)


def test_submit_takes_a_mapping_keywords_or_both(client, unique_type):
    a = client.submit({"type": unique_type, "title": "from a dict", "priority": 5})
    b = client.submit({"type": unique_type}, title="dict and keywords", priority="low")
    assert client.get(a.id).priority is Priority.CRITICAL
    got = client.get(b.id)
    assert (got.title, got.priority) == ("dict and keywords", Priority.LOW)
    with pytest.raises(TypeError, match="field 'title' given both"):
        client.submit({"type": unique_type, "title": "x"}, title="y")
    with pytest.raises(TypeError, match="a notification is a mapping"):
        client.submit(["type", unique_type])


def test_submit_with_the_minimum_gets_the_defaults(client, unique_type):
    n = client.get(client.submit(type=unique_type).id)
    assert (n.title, n.body, n.template, n.dedup_key) == ("", "", "", "")
    assert n.priority is Priority.NORMAL
    assert (n.data, n.tags, n.recipients, n.channels, n.integration_ids) == ({}, {}, [], [], [])
    assert n.scheduled_at is None


def test_idempotency_key_and_dedup_key_return_the_original(client, unique_type):
    key = "idem-" + unique_type
    first = client.submit(type=unique_type, title="one", idempotency_key=key)
    again = client.submit(type=unique_type, title="one, retried", idempotency_key=key)
    assert (again.id, again.duplicate) == (first.id, True)

    dk = client.submit(type=unique_type, title="two", dedup_key="dk-" + key)
    dk_again = client.submit(type=unique_type, title="two", dedup_key="dk-" + key)
    assert (dk_again.id, dk_again.duplicate) == (dk.id, True)


def test_scheduled_at_accepts_aware_datetimes_and_strings(client, unique_type):
    later = datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    soon = datetime.datetime.now(UTC) + datetime.timedelta(hours=1)
    r = client.submit(type=unique_type, scheduled_at=soon)
    assert client.get(r.id).scheduled_at == soon
    r2 = client.submit(type=unique_type, title="string",
                       scheduled_at=soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert client.get(r2.id).scheduled_at == soon.replace(microsecond=0)
    with pytest.raises(ValueError, match="scheduled_at must be timezone-aware"):
        client.submit(type=unique_type, scheduled_at=datetime.datetime(2030, 1, 1))
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.submit(type=unique_type, scheduled_at=later)  # beyond 30 days
    assert [f.field for f in e.value.field_errors] == ["scheduled_at"]


# -- submit_batch -------------------------------------------------------------


def test_submit_batch_gives_one_result_per_item(client, unique_type):
    results = client.submit_batch([
        {"type": unique_type, "title": "first"},
        {"type": "Not A Type", "titel": "x"},
        {"type": unique_type, "title": "third", "priority": "critical"},
    ])
    assert len(results) == 3
    ok0, bad, ok2 = results
    assert isinstance(ok0, alerthub.SubmitResult) and isinstance(ok2, alerthub.SubmitResult)
    assert ok0.status is Status.ACCEPTED and not ok0.duplicate
    assert isinstance(bad, alerthub.InvalidArgument)
    assert [(f.field, f.message) for f in bad.field_errors] == [
        ("titel", "unknown field"),
        ("type", "must be 1-128 characters of a-z, 0-9, '.', '_' or '-'")]
    assert client.get(ok2.id).priority is Priority.CRITICAL


def test_submit_batch_idempotency_key_keys_each_item(client, unique_type):
    items = [{"type": unique_type, "title": "a"}, {"type": "BAD"}, {"type": unique_type,
                                                                     "title": "c"}]
    key = "batch-" + unique_type
    first = client.submit_batch(items, idempotency_key=key)
    again = client.submit_batch(items, idempotency_key=key)
    assert [r.id for r in again if isinstance(r, alerthub.SubmitResult)] == \
        [r.id for r in first if isinstance(r, alerthub.SubmitResult)]
    assert [r.duplicate for r in again if isinstance(r, alerthub.SubmitResult)] == [True, True]
    # Item 2 is keyed "<key>#2" by its position in the request.
    assert client.submit(type=unique_type, title="c", dedup_key=key + "#2").id == first[2].id


@pytest.mark.parametrize("size", [0, 101])
def test_submit_batch_of_a_wrong_size_fails_as_a_whole(client, unique_type, size):
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.submit_batch([{"type": unique_type}] * size)
    assert len(e.value.field_errors) == 1
    assert "1-100" in e.value.field_errors[0].message


def test_submit_batch_accepts_any_iterable(client, unique_type):
    results = client.submit_batch({"type": unique_type, "title": str(i)} for i in range(3))
    assert [type(r) for r in results] == [alerthub.SubmitResult] * 3


# -- get and events -----------------------------------------------------------


def test_events_are_cloudevents_oldest_first(client, unique_type):
    r = client.submit(type=unique_type, title="with history")
    events = client.events(r.id)
    assert len(events) >= 1
    first = events[0]
    assert isinstance(first, alerthub.Event)
    assert (first.specversion, first.type, first.subject) == (
        "1.0", "alerthub.notification.accepted", r.id)
    assert first.data == {"status": "accepted"}
    assert first.datacontenttype == "application/json"
    assert first.tenantid == client.get(r.id).tenant_id
    assert is_aware_utc(first.time)
    assert [e.time for e in events] == sorted(e.time for e in events)


@pytest.mark.parametrize("missing", [str(uuid.uuid4()), "not-a-uuid"])
def test_get_and_events_of_an_unknown_id_raise_not_found(client, missing):
    with pytest.raises(alerthub.NotFound):
        client.get(missing)
    with pytest.raises(alerthub.NotFound):
        client.events(missing)


# -- list ---------------------------------------------------------------------


@pytest.fixture
def seven(client, unique_type):
    """Seven notifications of a unique type, oldest first."""
    return [client.submit(type=unique_type, title="n%d" % i, priority=1 + i % 5).id
            for i in range(7)]


def test_list_follows_cursors_newest_first(client, unique_type, seven):
    listed = client.list(type=unique_type, page_size=3)
    assert iter(listed) is listed
    got = [n.id for n in listed]
    assert got == list(reversed(seven))
    assert all(isinstance(n, alerthub.Notification) for n in client.list(type=unique_type))


def test_list_limit_caps_the_total(client, unique_type, seven):
    assert [n.id for n in client.list(type=unique_type, limit=5, page_size=2)] == \
        list(reversed(seven))[:5]
    assert list(client.list(type=unique_type, limit=0)) == []
    assert len(list(client.list(type=unique_type, limit=100))) == 7


def settled_statuses(client, ids, quiet=0.5, timeout=15):
    """{id: status} once every status is terminal or none changed for
    `quiet` seconds (a deployment that routes moves notifications on)."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        now = {i: client.get(i).status for i in ids}
        if now != last:
            last, since = now, time.monotonic()
        if all(s.terminal for s in now.values()) or time.monotonic() - since >= quiet:
            return now
        assert time.monotonic() < deadline, now
        time.sleep(0.05)


def test_list_filters_by_status_and_since(client, unique_type, seven):
    statuses = settled_statuses(client, seven)
    for status in Status:
        want = [i for i in reversed(seven) if statuses[i] is status]
        assert [n.id for n in client.list(type=unique_type, status=status)] == want
        assert [n.id for n in client.list(type=unique_type, status=status.value)] == want
    since = client.get(seven[3]).created_at
    assert [n.id for n in client.list(type=unique_type, since=since)] == \
        list(reversed(seven[3:]))


def test_list_page_returns_a_cursor_to_follow(client, unique_type, seven):
    page = client.list_page(type=unique_type, limit=4)
    assert isinstance(page, alerthub.Page)
    assert [n.id for n in page.items] == list(reversed(seven))[:4]
    assert page.next_cursor
    rest = client.list_page(type=unique_type, limit=4, cursor=page.next_cursor)
    assert [n.id for n in rest.items] == list(reversed(seven))[4:]
    assert rest.next_cursor is None


def test_list_rejects_bad_arguments(client, unique_type):
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.list(page_size=501)
    assert [(f.field, f.message) for f in e.value.field_errors] == [
        ("page_size", "must be an integer between 1 and 500")]
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.list(limit=-1)
    assert e.value.field_errors[0].field == "limit"
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.list(status="bogus")  # the first page is fetched by the call
    assert e.value.field_errors[0].field == "status"
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.list_page(limit=0)
    assert e.value.field_errors == [alerthub.FieldError("limit",
                                                        "must be an integer between 1 and 500")]
    with pytest.raises(alerthub.InvalidArgument) as e:
        client.list_page(cursor="not-a-cursor")
    assert e.value.field_errors == [alerthub.FieldError("cursor", "is malformed")]
    with pytest.raises(ValueError, match="since must be timezone-aware"):
        client.list(since=datetime.datetime(2020, 1, 1))
    with pytest.raises(TypeError, match="since must be a datetime"):
        client.list(since="2020-01-01T00:00:00Z")


# -- watch (more in test_watch.py) ---------------------------------------------


def test_watch_iterator_and_callback_see_a_submission(client, unique_type):
    import threading
    seen = []
    arrived = threading.Event()

    def on_update(u):
        if u.notification_type == unique_type:
            seen.append(u)
            arrived.set()

    with client.watch(types=[unique_type]) as updates, client.watch(on_update):
        r = client.submit(type=unique_type, priority="high")
        u = updates.next(timeout=10)
        assert isinstance(u, alerthub.StatusUpdate)
        assert (u.id, u.status, u.notification_type, u.priority) == (
            r.id, Status.ACCEPTED, unique_type, Priority.HIGH)
        assert is_aware_utc(u.at)
        assert u.at == client.get(r.id).created_at
        assert arrived.wait(10)
        assert seen[0] == u
