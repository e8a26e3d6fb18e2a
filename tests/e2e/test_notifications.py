"""Submitting, reading, listing, batching and deduplicating notifications
(docs/api.md, "Notifications"), against one shared daemon."""

import re
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from alerthub_e2e import REQUEST_TIMEOUT, default_tenant_id, set_notification_status, unique

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RFC3339_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

STATUS_DELIVERED = 4  # NotificationStatus::kDelivered


def parse_time(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def test_submit_answers_202_with_location_and_rate_limit_headers(api):
    r = api.submit({"type": unique("submit"), "title": "v2.3.1 is live",
                    "priority": "high", "tags": {"env": "prod"}})
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"id", "status"}
    assert UUID7.match(body["id"]), body
    assert body["status"] == "accepted"
    assert r.headers["Location"] == "/api/v1/notifications/" + body["id"]
    # Defaults: --rate_limit_burst=2000.
    assert r.headers["RateLimit-Limit"] == "2000"
    assert 0 <= int(r.headers["RateLimit-Remaining"]) < 2000
    assert int(r.headers["RateLimit-Reset"]) >= 0


def test_get_returns_every_request_field_and_the_assigned_ones(api, module_daemon):
    scheduled = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=123456)
    scheduled_text = scheduled.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    request = {
        "type": unique("deploy.finished"),
        "title": "v2.3.1 is live \u2713",
        "body": "All green.\nSee the dashboard.",
        "priority": 4,
        "data": {"build": {"number": 1234, "ok": True, "steps": [1, 2.5, None, "x"]}},
        "tags": {"env": "prod", "Region_1.a-b": ""},
        "recipients": ["user-1", "user-2"],
        "channels": ["slack", "webhook"],
        "integration_ids": ["0193a000-0000-7000-8000-000000000001"],
        "template": "deploy.v1",
        "dedup_key": unique("full"),
        "scheduled_at": scheduled_text,
    }
    before = datetime.now(timezone.utc)
    r = api.submit(request)
    assert r.status_code == 202, r.text
    nid = r.json()["id"]

    g = api.get(r.headers["Location"])
    assert g.status_code == 200, g.text
    assert g.headers["Content-Type"] == "application/json"
    got = g.json()
    expected = dict(request)
    expected["priority"] = "high"  # 4, answered by name
    expected.update({"id": nid, "tenant_id": default_tenant_id(module_daemon.data_dir),
                     "status": "accepted"})
    created, updated = got.pop("created_at"), got.pop("updated_at")
    assert got == expected
    assert RFC3339_MICROS.match(created) and created == updated
    assert before - timedelta(seconds=1) <= parse_time(created) <= datetime.now(timezone.utc)


def test_get_of_a_minimal_notification_has_defaults_and_no_empty_fields(api):
    t = unique("minimal")
    nid = api.submit_ok({"type": t})
    # Authorization: Bearer works as well as X-API-Key.
    g = api.get("/api/v1/notifications/" + nid, key=False,
                headers={"Authorization": "Bearer " + api.api_key})
    assert g.status_code == 200, g.text
    got = g.json()
    assert set(got) == {"id", "tenant_id", "type", "priority", "status", "created_at",
                        "updated_at"}
    assert (got["id"], got["type"], got["priority"], got["status"]) == (
        nid, t, "normal", "accepted")


def test_events_are_cloudevents_with_every_required_attribute(api, module_daemon):
    trace_id = uuid.uuid4().hex
    parent = "00-%s-%s-01" % (trace_id, "00f067aa0ba902b7")
    r = api.submit({"type": unique("evt"), "title": "events"},
                   headers={"traceparent": parent})
    assert r.status_code == 202, r.text
    nid = r.json()["id"]
    server_span = r.headers["traceparent"]
    assert TRACEPARENT.match(server_span).group(1) == trace_id

    n = api.get("/api/v1/notifications/" + nid).json()
    e = api.get("/api/v1/notifications/%s/events" % nid)
    assert e.status_code == 200, e.text
    assert e.headers["Content-Type"] == "application/json"
    body = e.json()
    assert set(body) == {"events"}
    assert len(body["events"]) == 1
    ev = body["events"][0]
    assert set(ev) == {"specversion", "id", "source", "type", "subject", "time",
                       "datacontenttype", "data", "tenantid", "traceparent"}
    assert ev["specversion"] == "1.0"
    assert UUID7.match(ev["id"]) and ev["id"] != nid
    assert ev["source"] == "/alerthub/pipeline"
    assert ev["type"] == "alerthub.notification.accepted"
    assert ev["subject"] == nid
    assert ev["time"] == n["created_at"]
    assert ev["datacontenttype"] == "application/json"
    assert ev["data"] == {"status": "accepted"}
    assert ev["tenantid"] == default_tenant_id(module_daemon.data_dir)
    # The event carries the request's server span, a child of the client's.
    assert ev["traceparent"] == server_span


def _submit_n(api, t, n):
    return [api.submit_ok({"type": t, "title": "item %d" % i}) for i in range(n)]


def test_list_is_newest_first_and_cursors_walk_every_page(api):
    t = unique("page")
    ids = _submit_n(api, t, 8)
    newest_first = list(reversed(ids))

    pages, cursor = [], None
    while True:
        params = {"type": t, "limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        r = api.list(**params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) <= {"notifications", "next_cursor"}
        pages.append([n["id"] for n in body["notifications"]])
        for n in body["notifications"]:
            assert n["type"] == t and set(n) >= {"id", "tenant_id", "status", "created_at",
                                                 "updated_at", "title", "priority"}
        if "next_cursor" not in body:
            break
        cursor = body["next_cursor"]
        assert isinstance(cursor, str) and cursor
        assert len(pages) < 10, "cursor loop"
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [i for p in pages for i in p] == newest_first

    # A page that ends exactly at the last item has no next_cursor.
    r = api.list(type=t, limit=8).json()
    assert [n["id"] for n in r["notifications"]] == newest_first
    assert "next_cursor" not in r
    r = api.list(type=t, limit=4).json()
    r = api.list(type=t, limit=4, cursor=r["next_cursor"]).json()
    assert [n["id"] for n in r["notifications"]] == newest_first[4:]
    assert "next_cursor" not in r


def test_list_default_limit_is_50(api):
    t = unique("deflimit")
    api.post("/api/v1/notifications/batch",
             json={"notifications": [{"type": t, "title": str(i)} for i in range(51)]})
    r = api.list(type=t)
    assert r.status_code == 200
    body = r.json()
    assert len(body["notifications"]) == 50 and "next_cursor" in body
    rest = api.list(type=t, cursor=body["next_cursor"]).json()
    assert len(rest["notifications"]) == 1 and "next_cursor" not in rest


def test_list_filters_by_status_type_and_since(api, module_daemon):
    t = unique("filter")
    ids = _submit_n(api, t, 5)
    other = api.submit_ok({"type": t + "x", "title": "other type"})

    # type is exact: neither a prefix nor a longer type matches.
    assert [n["id"] for n in api.list(type=t).json()["notifications"]] == ids[::-1]
    assert [n["id"] for n in api.list(type=t + "x").json()["notifications"]] == [other]
    assert api.list(type=t[:-1]).json() == {"notifications": []}

    # status: move one to "delivered" as a delivery worker would.
    set_notification_status(module_daemon.data_dir, ids[1], STATUS_DELIVERED)
    r = api.list(type=t, status="delivered").json()
    assert [n["id"] for n in r["notifications"]] == [ids[1]]
    assert r["notifications"][0]["status"] == "delivered"
    r = api.list(type=t, status="accepted").json()
    assert [n["id"] for n in r["notifications"]] == [ids[4], ids[3], ids[2], ids[0]]
    assert api.list(type=t, status="failed").json() == {"notifications": []}

    # since: created at or after (inclusive).
    created = [api.get("/api/v1/notifications/" + i).json()["created_at"] for i in ids]
    r = api.list(type=t, since=created[2]).json()
    assert [n["id"] for n in r["notifications"]] == [ids[4], ids[3], ids[2]]
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.list(type=t, since=future).json() == {"notifications": []}
    # Offsets are RFC 3339 too.
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).astimezone(
        timezone(timedelta(hours=2))).isoformat()
    assert len(api.list(type=t, since=past).json()["notifications"]) == 5

    # Filters combine with paging.
    r = api.list(type=t, status="accepted", limit=3).json()
    assert [n["id"] for n in r["notifications"]] == [ids[4], ids[3], ids[2]]
    r = api.list(type=t, status="accepted", limit=3, cursor=r["next_cursor"]).json()
    assert [n["id"] for n in r["notifications"]] == [ids[0]] and "next_cursor" not in r


def test_batch_keeps_order_and_reports_each_item(api):
    t = unique("batch")
    existing_key = unique("batch-dup")
    original = api.submit_ok({"type": t, "title": "earlier", "dedup_key": existing_key})
    items = [
        {"type": t, "title": "first"},
        {"type": t, "title": ""},
        {"type": t, "title": "again", "dedup_key": existing_key},
        "not an object",
        {"type": t, "title": "last", "priority": "critical"},
        {"type": "Bad Type", "colour": "red"},
    ]
    r = api.post("/api/v1/notifications/batch", json={"notifications": items})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["RateLimit-Limit"] == "2000"
    body = r.json()
    assert set(body) == {"results", "accepted", "duplicates", "failed"}
    res = body["results"]
    assert [x["index"] for x in res] == list(range(len(items)))
    assert [x["status"] for x in res] == [202, 422, 200, 422, 202, 422]
    assert (body["accepted"], body["duplicates"], body["failed"]) == (2, 1, 3)

    assert UUID7.match(res[0]["id"]) and "duplicate" not in res[0] and "error" not in res[0]
    assert UUID7.match(res[4]["id"]) and res[4]["id"] != res[0]["id"]
    assert res[2]["id"] == original and res[2]["duplicate"] is True

    def problem(detail, errors):
        return {"type": "https://alerthub.dev/problems/validation",
                "title": "Unprocessable Content", "status": 422, "detail": detail,
                "errors": [{"field": f, "message": m} for f, m in errors]}

    assert res[1]["error"] == problem("invalid notification: title: must not be empty",
                                      [("title", "must not be empty")])
    assert res[3]["error"] == problem("invalid notification: : must be a JSON object",
                                      [("", "must be a JSON object")])
    slug = "must be 1-128 characters of a-z, 0-9, '.', '_' or '-'"
    assert res[5]["error"] == problem(
        "invalid notification: colour: unknown field; type: " + slug,
        [("colour", "unknown field"), ("type", slug)])
    for bad in (1, 3, 5):
        assert "id" not in res[bad]

    # The accepted items are stored, in order, with their own content.
    first = api.get("/api/v1/notifications/" + res[0]["id"]).json()
    last = api.get("/api/v1/notifications/" + res[4]["id"]).json()
    assert (first["title"], first["priority"]) == ("first", "normal")
    assert (last["title"], last["priority"]) == ("last", "critical")
    listed = [n["id"] for n in api.list(type=t).json()["notifications"]]
    assert listed == [res[4]["id"], res[0]["id"], original]


def test_batch_of_100_is_accepted(api):
    t = unique("batch100")
    r = api.post("/api/v1/notifications/batch",
                 json={"notifications": [{"type": t, "title": str(i)} for i in range(100)]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["failed"]) == (100, 0, 0)
    assert len({x["id"] for x in body["results"]}) == 100


def test_batch_with_idempotency_key_keys_items_by_request_position(api):
    t = unique("batchidem")
    key = unique("idem-batch")
    batch = {"notifications": [{"type": t, "title": "a"}, {"type": t, "title": ""},
                               {"type": t, "title": "c"}]}
    r = api.post("/api/v1/notifications/batch", json=batch, headers={"Idempotency-Key": key})
    assert r.status_code == 200, r.text
    first = r.json()
    assert [x["status"] for x in first["results"]] == [202, 422, 202]
    a, c = first["results"][0]["id"], first["results"][2]["id"]
    assert api.get("/api/v1/notifications/" + a).json()["dedup_key"] == key + "#0"
    assert api.get("/api/v1/notifications/" + c).json()["dedup_key"] == key + "#2"

    again = api.post("/api/v1/notifications/batch", json=batch,
                     headers={"Idempotency-Key": key}).json()
    assert [x["status"] for x in again["results"]] == [200, 422, 200]
    assert [again["results"][0]["id"], again["results"][2]["id"]] == [a, c]
    assert again["results"][0]["duplicate"] is True
    assert (again["accepted"], again["duplicates"], again["failed"]) == (0, 2, 1)


def test_duplicate_dedup_key_answers_200_with_the_original(api, module_daemon):
    key = unique("dedup")
    t = unique("dup")
    r1 = api.submit({"type": t, "title": "one", "dedup_key": key})
    assert r1.status_code == 202
    original = r1.json()["id"]
    # Different content, same dedup_key: still the original.
    r2 = api.submit({"type": t, "title": "two", "priority": "high", "dedup_key": key})
    assert r2.status_code == 200, r2.text
    assert r2.json() == {"id": original, "status": "accepted", "duplicate": True}
    assert r2.headers["Location"] == "/api/v1/notifications/" + original
    assert "RateLimit-Limit" in r2.headers
    # The duplicate answer reports the original's current status.
    set_notification_status(module_daemon.data_dir, original, STATUS_DELIVERED)
    r3 = api.submit({"type": t, "title": "three", "dedup_key": key})
    assert r3.status_code == 200
    assert r3.json() == {"id": original, "status": "delivered", "duplicate": True}
    # Nothing new was stored.
    assert [n["id"] for n in api.list(type=t).json()["notifications"]] == [original]


def test_duplicate_idempotency_key_answers_200_with_the_original(api):
    key = unique("idem")
    t = unique("idem")
    r1 = api.submit({"type": t, "title": "one"}, headers={"Idempotency-Key": key})
    assert r1.status_code == 202, r1.text
    original = r1.json()["id"]
    assert api.get("/api/v1/notifications/" + original).json()["dedup_key"] == key
    r2 = api.submit({"type": t, "title": "other content"}, headers={"Idempotency-Key": key})
    assert r2.status_code == 200, r2.text
    assert r2.json() == {"id": original, "status": "accepted", "duplicate": True}
    # The header is the dedup_key: a body dedup_key equal to it is the same key.
    r3 = api.submit({"type": t, "title": "third", "dedup_key": key})
    assert r3.status_code == 200 and r3.json()["id"] == original

    # A body dedup_key wins over the header, which is then not used.
    key2, body_key = unique("idem2"), unique("body")
    r4 = api.submit({"type": t, "title": "four", "dedup_key": body_key},
                    headers={"Idempotency-Key": key2})
    assert r4.status_code == 202
    assert api.get(r4.headers["Location"]).json()["dedup_key"] == body_key
    r5 = api.submit({"type": t, "title": "five"}, headers={"Idempotency-Key": key2})
    assert r5.status_code == 202, r5.text


def test_identical_content_within_the_window_is_a_duplicate(api):
    n = {"type": unique("content"), "title": "same", "body": "same body",
         "tags": {"a": "b"}}
    r1 = api.submit(n)
    assert r1.status_code == 202
    original = r1.json()["id"]
    r2 = api.submit(dict(n))
    assert r2.status_code == 200, r2.text
    assert r2.json() == {"id": original, "status": "accepted", "duplicate": True}
    assert r2.headers["Location"] == "/api/v1/notifications/" + original
    # Any change of content is a new notification.
    r3 = api.submit(dict(n, body="other body"))
    assert r3.status_code == 202
    assert r3.json()["id"] != original


def test_repeated_dedup_key_within_one_batch_is_a_duplicate(api):
    t, key = unique("batchkey"), unique("batchkey")
    r = api.post("/api/v1/notifications/batch", json={"notifications": [
        {"type": t, "title": "a", "dedup_key": key},
        {"type": t, "title": "b", "dedup_key": key}]})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == [202, 200]
    assert res[1]["id"] == res[0]["id"] and res[1]["duplicate"] is True
    assert len(api.list(type=t).json()["notifications"]) == 1


def test_identical_content_within_one_batch_is_a_duplicate(api):
    t = unique("batchcontent")
    item = {"type": t, "title": "same", "body": "same"}
    r = api.post("/api/v1/notifications/batch", json={"notifications": [item, dict(item)]})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == [202, 200], res
    assert res[1]["id"] == res[0]["id"]


def _concurrently(api, body, n=16):
    """`n` submissions of `body` released at once; returns the responses."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def one(i):
        s = requests.Session()
        barrier.wait(timeout=10)
        out[i] = s.post(api.base_url + "/api/v1/notifications", json=body,
                        headers={"X-API-Key": api.api_key}, timeout=REQUEST_TIMEOUT)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def test_concurrent_submissions_with_one_dedup_key_store_one(api):
    t = unique("concurrent-key")
    rs = _concurrently(api, {"type": t, "title": "x", "dedup_key": t})
    codes = sorted(r.status_code for r in rs)
    assert codes == [200] * 15 + [202], [r.text for r in rs]
    assert len({r.json()["id"] for r in rs}) == 1
    assert len(api.list(type=t).json()["notifications"]) == 1


def test_concurrent_identical_content_stores_one(api):
    for trial in range(3):
        t = unique("concurrent-content")
        rs = _concurrently(api, {"type": t, "title": "same"})
        assert sorted(r.status_code for r in rs) == [200] * 15 + [202], "trial %d" % trial
        assert len(api.list(type=t).json()["notifications"]) == 1


def test_cancel_before_sending_makes_the_notification_final(api, other_tenant):
    # The shared daemon runs with --deliver=false: nothing is routed, so a
    # fresh notification can still be cancelled.
    nid = api.submit_ok({"type": unique("cancel.me"), "title": "maybe"})

    _, foreign = other_tenant
    r = foreign.request("DELETE", "/api/v1/notifications/" + nid)
    assert r.status_code == 404, r.text
    assert r.headers["Content-Type"] == "application/problem+json"

    r = api.request("DELETE", "/api/v1/notifications/" + nid)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == nid
    assert r.json()["status"] == "cancelled"
    assert api.get("/api/v1/notifications/" + nid).json()["status"] == "cancelled"
    events = api.get("/api/v1/notifications/" + nid + "/events").json()["events"]
    assert [e["type"] for e in events] == ["alerthub.notification.accepted",
                                           "alerthub.notification.cancelled"]

    # Final: a second cancel is a conflict that says why.
    r = api.request("DELETE", "/api/v1/notifications/" + nid)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["status"] == 409
    assert "cancelled already" in problem["detail"]


def test_cancel_of_unknown_or_malformed_ids_is_not_found(api):
    for nid in [str(uuid.uuid4()), "not-a-uuid"]:
        r = api.request("DELETE", "/api/v1/notifications/" + nid)
        assert r.status_code == 404, r.text
        assert r.json()["status"] == 404
    r = api.request("DELETE", "/api/v1/notifications/" + str(uuid.uuid4()), key=False)
    assert r.status_code == 401
