"""Rate limits, the slowloris header timeout and the content-dedup window, on
daemons started with small limits."""

import select
import socket
import time

import pytest

from alerthub_e2e import Api, DaemonFactory, assert_problem, unique

HEADER_TIMEOUT_MS = 500


@pytest.fixture(scope="module")
def limited(alerthub_bin, tmp_path_factory):
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "limited")
    d = f("--rate_limit_per_second=1", "--rate_limit_burst=2",
          "--http_header_timeout_ms=%d" % HEADER_TIMEOUT_MS)
    yield d
    f.close()


def _rate_headers(r):
    return (r.headers.get("RateLimit-Limit"), r.headers.get("RateLimit-Remaining"))


def test_third_submit_in_a_burst_of_2_is_429(limited):
    api = Api(limited.base_url, limited.api_key)
    t = unique("rl")
    r1 = api.submit({"type": t, "title": "1"})
    r2 = api.submit({"type": t, "title": "2"})
    r3 = api.submit({"type": t, "title": "3"})
    assert (r1.status_code, r2.status_code) == (202, 202), (r1.text, r2.text)
    assert _rate_headers(r1) == ("2", "1")
    assert _rate_headers(r2) == ("2", "0")
    assert int(r2.headers["RateLimit-Reset"]) in (1, 2)

    body = assert_problem(r3, 429, "rate-limited", "Too Many Requests",
                          "rate limit exceeded for endpoint notifications.submit")
    retry = int(r3.headers["Retry-After"])
    assert 1 <= retry <= 2
    assert body["retry_after_s"] == retry
    assert _rate_headers(r3) == ("2", "0")
    assert int(r3.headers["RateLimit-Reset"]) in (1, 2)
    # Refused submissions are not stored and are counted.
    assert [n["title"] for n in api.list(type=t).json()["notifications"]] == ["2", "1"]
    metrics = api.get("/metrics", key=False).text
    assert "\nalerthub_rate_limited_total 1\n" in metrics

    # A batch is refused as a whole (one token per valid item).
    b = api.post("/api/v1/notifications/batch",
                 json={"notifications": [{"type": t, "title": "b1"},
                                         {"type": t, "title": "b2"}]})
    assert_problem(b, 429, "rate-limited", "Too Many Requests",
                   "rate limit exceeded for tenant")
    assert int(b.headers["Retry-After"]) >= 1
    assert b.headers["RateLimit-Limit"] == "2"
    assert len(api.list(type=t).json()["notifications"]) == 2

    # The bucket refills at 1/s.
    time.sleep(retry + 0.1)
    assert api.submit({"type": t, "title": "later"}).status_code == 202


def _read_until_closed(sock, deadline, drip=None):
    """Drips `drip` one byte every 100 ms until the server closes. Returns
    (closed_at, bytes received)."""
    got = b""
    i = 0
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.1)
        if readable:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                return time.monotonic(), got
            if not chunk:
                return time.monotonic(), got
            got += chunk
        elif drip is not None and i < len(drip):
            try:
                sock.sendall(drip[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic(), got
            i += 1
    return None, got


def test_slowloris_header_is_cut_off(limited):
    with socket.create_connection(("127.0.0.1", limited.port), timeout=5) as s:
        s.sendall(b"GET /health/live HTTP/1.1\r\n")
        start = time.monotonic()
        closed_at, got = _read_until_closed(s, start + 5,
                                            drip=b"Host: 127.0.0.1\r\nX-Slow: " + b"z" * 200)
        assert closed_at is not None, "the server kept a slowloris connection open for 5 s"
        assert got == b"", "no response is owed to a slowloris: %r" % got[:200]
        # Measured from the first byte; allow for scheduling on a busy box.
        assert closed_at - start < HEADER_TIMEOUT_MS / 1000 + 2.0


def test_silent_connection_is_cut_off(limited):
    with socket.create_connection(("127.0.0.1", limited.port), timeout=5) as s:
        start = time.monotonic()
        closed_at, got = _read_until_closed(s, start + 5)
        assert closed_at is not None and got == b""
        assert closed_at - start < HEADER_TIMEOUT_MS / 1000 + 2.0


def test_the_daemon_still_serves_after_slow_clients(limited):
    api = Api(limited.base_url, limited.api_key)
    assert api.get("/health/live", key=False).json() == {"status": "ok"}


def test_content_dedup_window_expires(daemon_factory):
    d = daemon_factory("--dedup_window_s=1")
    api = Api(d.base_url, d.api_key)
    n = {"type": unique("window"), "title": "same"}
    first = api.submit_ok(n)
    r = api.submit(n)
    assert r.status_code == 200 and r.json()["id"] == first
    time.sleep(1.3)
    r = api.submit(n)
    assert r.status_code == 202 and r.json()["id"] != first


def test_dedup_window_0_disables_content_dedup(daemon_factory):
    d = daemon_factory("--dedup_window_s=0")
    api = Api(d.base_url, d.api_key)
    n = {"type": unique("nowindow"), "title": "same"}
    assert api.submit_ok(n) != api.submit_ok(n)
    # dedup_key still applies.
    key = unique("k")
    first = api.submit_ok(dict(n, dedup_key=key))
    r = api.submit(dict(n, dedup_key=key))
    assert r.status_code == 200 and r.json()["id"] == first
