"""Health, metrics, request ids, tracing, access logs, restarts and the
bootstrap key (docs/api.md, "Health and metrics", "Request ids, tracing and
logs", "Authentication")."""

import asyncio
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import time
import uuid
import zlib

import pytest
import websockets
import websockets.exceptions

from alerthub_e2e import Api, db_connect, unique

PROMTOOL = "/usr/bin/promtool"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TOKEN = re.compile(r"^ahk_[0-9A-Za-z]{38}$")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# ---------------------------------------------------------------------------
# Health.


def test_health_live(daemon, api):
    base_url, api_key, data_dir, process = daemon
    assert process.poll() is None and api_key.startswith("ahk_")
    assert os.path.exists(os.path.join(data_dir, "alerthub.db"))
    assert base_url == api.base_url
    r = api.get("/health/live", key=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"status": "ok"}


def test_health_ready(api):
    r = api.get("/health/ready", key=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"status": "ready",
                        "checks": {"store": "ok", "kv": "ok", "bus": "ok", "queue": "ok"}}


# ---------------------------------------------------------------------------
# Metrics.

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(api):
    r = api.get("/metrics", key=False)
    assert r.status_code == 200
    samples = {}
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, "unparsable sample line %r" % line
        labels = frozenset(_LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return r, samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_pass_promtool(api):
    if not os.access(PROMTOOL, os.X_OK):
        pytest.fail("%s is missing (Debian package prometheus)" % PROMTOOL)
    # Some traffic first, so that every family has samples.
    api.submit_ok({"type": unique("promtool")})
    api.get("/api/v1/nope")
    r, _ = scrape(api)
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=r.content,
                       capture_output=True, timeout=30)
    assert p.returncode == 0, (p.stdout + p.stderr).decode()
    assert not (p.stdout + p.stderr).strip(), (p.stdout + p.stderr).decode()


DOCUMENTED_FAMILIES = [
    ("alerthub_http_requests_total", "counter"),
    ("alerthub_http_request_duration_seconds", "histogram"),
    ("alerthub_notifications_accepted_total", "counter"),
    ("alerthub_notifications_duplicate_total", "counter"),
    ("alerthub_rate_limited_total", "counter"),
    ("alerthub_outbox_pending", "gauge"),
    ("alerthub_ws_connections", "gauge"),
    ("alerthub_build_info", "gauge"),
]


def test_documented_metric_families_are_exposed(api):
    r, samples = scrape(api)
    for name, kind in DOCUMENTED_FAMILIES:
        assert "# TYPE %s %s\n" % (name, kind) in r.text, name
    build = [labels for (n, labels) in samples if n == "alerthub_build_info"]
    assert len(build) == 1 and {k for k, _ in build[0]} == {"version", "commit"}
    assert value(samples, "alerthub_build_info", **dict(build[0])) == 1
    assert value(samples, "alerthub_outbox_pending") >= 0


def test_slow_consumer_counter_has_the_documented_name(api):
    r, samples = scrape(api)
    assert "# TYPE alerthub_ws_slow_consumers_closed_total counter\n" in r.text
    assert ("alerthub_ws_slow_consumers_closed_total", frozenset()) in samples


def test_metrics_count_the_requests_made(api):
    _, before = scrape(api)
    for _ in range(3):
        assert api.get("/health/live", key=False).status_code == 200
    for _ in range(2):
        assert api.get("/api/v1/definitely-not-a-route").status_code == 404
    assert api.request("DELETE", "/api/v1/notifications").status_code == 405
    t = unique("metrics")
    api.submit_ok({"type": t, "dedup_key": t})
    assert api.submit({"type": t, "dedup_key": t}).status_code == 200
    assert api.submit({"type": "Bad"}).status_code == 422
    assert api.get("/api/v1/notifications", key=False).status_code == 401
    _, after = scrape(api)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    req = "alerthub_http_requests_total"
    assert delta(req, method="GET", route="/health/live", code="200") == 3
    assert delta(req, method="GET", route="unmatched", code="404") == 2
    assert delta(req, method="DELETE", route="/api/v1/notifications", code="405") == 1
    assert delta(req, method="POST", route="/api/v1/notifications", code="202") == 1
    assert delta(req, method="POST", route="/api/v1/notifications", code="200") == 1
    assert delta(req, method="POST", route="/api/v1/notifications", code="422") == 1
    assert delta(req, method="GET", route="/api/v1/notifications", code="401") == 1
    # The scrape before this one was counted once it was answered.
    assert delta(req, method="GET", route="/metrics", code="200") == 1
    hist = "alerthub_http_request_duration_seconds_count"
    assert delta(hist, method="GET", route="/health/live", code="200") == 3
    assert value(after, "alerthub_http_request_duration_seconds_bucket", method="GET",
                 route="/health/live", code="200", le="+Inf") == value(
        after, hist, method="GET", route="/health/live", code="200")
    assert delta("alerthub_notifications_accepted_total") == 1
    assert delta("alerthub_notifications_duplicate_total") == 1
    assert delta("alerthub_rate_limited_total") == 0


def test_ws_connections_gauge_follows_open_sockets(api, module_daemon):
    def gauge():
        return value(scrape(api)[1], "alerthub_ws_connections")

    async def main():
        async with websockets.connect(module_daemon.ws_url + "/api/v1/ws",
                                      extra_headers={"X-API-Key": api.api_key}):
            async with websockets.connect(module_daemon.ws_url + "/api/v1/ws?api_key="
                                          + api.api_key):
                assert gauge() == 2
            deadline = time.monotonic() + 5
            while gauge() != 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert gauge() == 1

    asyncio.run(main())
    deadline = time.monotonic() + 5
    while gauge() != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gauge() == 0


# ---------------------------------------------------------------------------
# X-Request-Id and traceparent.


def test_request_id_is_echoed_or_generated(api):
    rid = "e2e-" + uuid.uuid4().hex + " with spaces/and:punctuation"
    r = api.get("/health/live", headers={"X-Request-Id": rid})
    assert r.headers["X-Request-Id"] == rid
    # On errors too.
    r = api.get("/api/v1/nope", headers={"X-Request-Id": rid})
    assert r.status_code == 404 and r.headers["X-Request-Id"] == rid
    r = api.get("/api/v1/notifications", key=False, headers={"X-Request-Id": rid})
    assert r.status_code == 401 and r.headers["X-Request-Id"] == rid
    # Insane ones (too long) are replaced, as is a missing one.
    for headers in ({"X-Request-Id": "x" * 129}, {}):
        r = api.get("/health/live", headers=headers)
        assert UUID7.match(r.headers["X-Request-Id"]), r.headers["X-Request-Id"]
    a = api.get("/health/live").headers["X-Request-Id"]
    b = api.get("/health/live").headers["X-Request-Id"]
    assert a != b


def test_traceparent_continues_the_clients_trace(api):
    trace_id, span_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    for flags in ("01", "00"):
        sent = "00-%s-%s-%s" % (trace_id, span_id, flags)
        r = api.get("/health/live", headers={"traceparent": sent})
        m = TRACEPARENT.match(r.headers["traceparent"])
        assert m, r.headers["traceparent"]
        assert m.group(1) == trace_id
        assert m.group(2) != span_id and m.group(2) != "0" * 16
        assert m.group(3) == flags
    # Two requests with the same parent get different spans.
    sent = "00-%s-%s-01" % (trace_id, span_id)
    spans = {api.get("/health/live", headers={"traceparent": sent}).headers["traceparent"]
             for _ in range(3)}
    assert len(spans) == 3


@pytest.mark.parametrize("sent", [
    None,
    "garbage",
    "00-%s-%s-01" % ("A" * 32, "b" * 16),         # uppercase hex
    "00-%s-%s-01" % ("0" * 32, "b" * 16),         # all-zero trace id
    "00-%s-%s-01" % ("a" * 32, "0" * 16),         # all-zero span id
    "00-%s-%s-01-extra" % ("a" * 32, "b" * 16),   # wrong length for version 00
    "ff-%s-%s-01" % ("a" * 32, "b" * 16),         # forbidden version
])
def test_traceparent_is_generated_when_absent_or_invalid(api, sent):
    headers = {"traceparent": sent} if sent else {}
    r = api.get("/health/live", headers=headers)
    m = TRACEPARENT.match(r.headers["traceparent"])
    assert m, r.headers["traceparent"]
    assert m.group(1) not in ("a" * 32, "0" * 32, "A" * 32)
    assert m.group(2) != "0" * 16
    assert m.group(3) == "01"
    other = TRACEPARENT.match(api.get("/health/live", headers=headers).headers["traceparent"])
    assert other.group(1) != m.group(1), "a new trace per request"


# ---------------------------------------------------------------------------
# Access log.

LOG_FIELDS = {"ts", "method", "path", "route", "status", "bytes", "duration_ms",
              "request_id", "traceparent", "remote"}


def test_access_log_lines_are_json_with_the_documented_fields(api, module_daemon):
    nid = api.submit_ok({"type": unique("log")})
    rid = "e2e-log-" + uuid.uuid4().hex
    # A key in the query string (ignored here) must not reach the log.
    r = api.get("/api/v1/notifications/%s?api_key=%s" % (nid, api.api_key),
                headers={"X-Request-Id": rid})
    assert r.status_code == 200
    rec = module_daemon.access_log(rid)
    assert LOG_FIELDS <= set(rec), rec
    assert rec["method"] == "GET"
    assert rec["path"] == "/api/v1/notifications/" + nid
    assert rec["route"] == "/api/v1/notifications/{id}"
    assert rec["status"] == 200
    assert rec["bytes"] == len(r.content)
    assert isinstance(rec["duration_ms"], (int, float)) and rec["duration_ms"] >= 0
    assert rec["request_id"] == rid
    assert rec["traceparent"] == r.headers["traceparent"]
    assert re.match(r"^127\.0\.0\.1:\d+$", rec["remote"]), rec["remote"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", rec["ts"]), rec["ts"]

    # A list request with the key in the query, and an unmatched route.
    rid2 = "e2e-log2-" + uuid.uuid4().hex
    r2 = api.get("/api/v1/notifications?limit=1&api_key=" + api.api_key,
                 headers={"X-Request-Id": rid2})
    assert r2.status_code == 200
    rec2 = module_daemon.access_log(rid2)
    assert (rec2["path"], rec2["route"]) == ("/api/v1/notifications", "/api/v1/notifications")
    rid3 = "e2e-log3-" + uuid.uuid4().hex
    api.get("/no/such/route?api_key=" + api.api_key, headers={"X-Request-Id": rid3})
    rec3 = module_daemon.access_log(rid3)
    assert (rec3["path"], rec3["route"], rec3["status"]) == ("/no/such/route", "unmatched", 404)

    # Every stderr line is one JSON object, and none holds the key.
    text = module_daemon.stderr_text()
    for line in text.splitlines():
        assert isinstance(json.loads(line), dict), line
    assert api.api_key not in text
    assert "api_key" not in text


# ---------------------------------------------------------------------------
# Restart and the bootstrap key.


def _check_token(token):
    assert TOKEN.match(token), token
    value = 0
    for c in token[-6:]:
        value = value * 62 + BASE62.index(c)
    assert value == zlib.crc32(token[:-6].encode()), "bad checksum"


def test_bootstrap_key_file_is_0600_and_shown_once(daemon_factory):
    d = daemon_factory()
    key = d.api_key
    _check_token(key)
    st = os.stat(d.key_file)
    assert stat.S_IMODE(st.st_mode) == 0o600
    with open(d.key_file, "rb") as f:
        assert f.read() == key.encode() + b"\n"
    out = d.stdout_text()
    assert 'Created tenant "default"' in out and key in out
    assert key not in d.stderr_text()
    with db_connect(d.data_dir) as conn:
        rows = conn.execute("SELECT key_hash, prefix, role, revoked_at FROM api_keys").fetchall()
    assert rows == [(hashlib.sha256(key.encode()).hexdigest(), key[:12], 1, None)]

    d.restart()
    st2 = os.stat(d.key_file)
    assert (st2.st_ino, st2.st_mtime_ns, stat.S_IMODE(st2.st_mode)) == (
        st.st_ino, st.st_mtime_ns, 0o600)
    assert d.api_key == key
    assert "Created tenant" not in d.stdout_text() and key not in d.stdout_text()
    with db_connect(d.data_dir) as conn:
        assert conn.execute("SELECT COUNT(*) FROM api_keys").fetchone() == (1,)
        assert conn.execute("SELECT name FROM tenants").fetchall() == [("default",)]
    assert Api(d.base_url, key).list().status_code == 200


def test_notifications_survive_a_restart(daemon_factory):
    d = daemon_factory("--deliver=false")
    api = Api(d.base_url, d.api_key)
    t = unique("restart")
    key = unique("restart-key")
    ids = [api.submit_ok({"type": t, "title": "one", "dedup_key": key}),
           api.submit_ok({"type": t, "title": "two", "priority": "critical",
                          "data": {"n": 1}, "tags": {"a": "b"}}),
           api.submit_ok({"type": t, "title": "three"})]
    before = {i: api.get("/api/v1/notifications/" + i).json() for i in ids}
    events = {i: api.get("/api/v1/notifications/%s/events" % i).json() for i in ids}
    listed = api.list(type=t).json()
    port = d.port

    d.restart()  # SIGTERM, exit code 0, same data dir and port
    assert d.port == port
    api = Api(d.base_url, d.api_key)
    for i in ids:
        assert api.get("/api/v1/notifications/" + i).json() == before[i]
        assert api.get("/api/v1/notifications/%s/events" % i).json() == events[i]
    assert api.list(type=t).json() == listed
    # dedup keys are forever, across restarts.
    r = api.submit({"type": t, "title": "again", "dedup_key": key})
    assert r.status_code == 200
    assert r.json() == {"id": ids[0], "status": "accepted", "duplicate": True}
    new = api.submit_ok({"type": t, "title": "four"})
    assert [n["id"] for n in api.list(type=t).json()["notifications"]] == [new] + ids[::-1]


def test_fresh_data_dir_is_created_with_mode_0700(daemon_factory, tmp_path):
    data = tmp_path / "nested-new-dir"
    d = daemon_factory(data_dir=data)
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert os.path.exists(os.path.join(data, "alerthub.db"))
    d.stop()
    shutil.rmtree(data)


# ---------------------------------------------------------------------------
# HTTP/1.1 details every client relies on.


def _read_responses(sock, count, timeout=5):
    """Reads `count` complete responses (Content-Length bodies)."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while len(out) < count:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            assert chunk, "connection closed after %d responses" % len(out)
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, v in
                  (line.split(":", 1) for line in lines[1:])}
        n = int(fields.get("content-length", "0"))
        while len(buf) < n:
            chunk = sock.recv(65536)
            assert chunk
            buf += chunk
        out.append((lines[0], fields, buf[:n]))
        buf = buf[n:]
    return out


def test_pipelined_requests_are_answered_in_order(module_daemon):
    with socket.create_connection(("127.0.0.1", module_daemon.port), timeout=5) as s:
        s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: p1\r\n\r\n"
                  b"GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: p2\r\n\r\n"
                  b"GET /health/ready HTTP/1.1\r\nHost: x\r\nX-Request-Id: p3\r\n"
                  b"Connection: close\r\n\r\n")
        rs = _read_responses(s, 3)
    assert [r[0] for r in rs] == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found",
                                  "HTTP/1.1 200 OK"]
    assert [r[1]["x-request-id"] for r in rs] == ["p1", "p2", "p3"]


def test_expect_100_continue(module_daemon):
    body = json.dumps({"type": unique("expect")}).encode()
    with socket.create_connection(("127.0.0.1", module_daemon.port), timeout=5) as s:
        s.sendall(("POST /api/v1/notifications HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n"
                   "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                   "Content-Length: %d\r\n\r\n" % (module_daemon.api_key, len(body))).encode())
        assert s.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        (status, fields, payload), = _read_responses(s, 1)
    assert status == "HTTP/1.1 202 Accepted"
    assert json.loads(payload)["status"] == "accepted"


def test_http_1_0_and_head(api, module_daemon):
    with socket.create_connection(("127.0.0.1", module_daemon.port), timeout=5) as s:
        s.sendall(b"GET /health/live HTTP/1.0\r\n\r\n")
        (status, _, payload), = _read_responses(s, 1)
    assert status == "HTTP/1.0 200 OK" and json.loads(payload) == {"status": "ok"}
    r = api.request("HEAD", "/health/live", key=False)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == str(len(b'{"status":"ok"}'))


# ---------------------------------------------------------------------------
# The command line.


def test_help_lists_the_daemons_flags(alerthub_bin):
    p = subprocess.run([alerthub_bin, "--help"], capture_output=True, text=True, timeout=30)
    out = p.stdout + p.stderr
    for flag in ("--data_dir", "--http_port", "--http_address", "--rate_limit_per_second",
                 "--dedup_window_s", "--http_header_timeout_ms"):
        assert flag in out, out


def test_helpfull_lists_the_daemons_flags(alerthub_bin):
    p = subprocess.run([alerthub_bin, "--helpfull"], capture_output=True, text=True,
                       timeout=30)
    out = p.stdout + p.stderr
    assert "Flags from daemons/alerthub/main.cc" in out
    for flag in ("--data_dir", "--http_port", "--http_address", "--rate_limit_per_second",
                 "--rate_limit_burst", "--dedup_window_s", "--http_header_timeout_ms"):
        assert flag in out, flag
