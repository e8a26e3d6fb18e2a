"""The realtime WebSocket, GET /api/v1/ws (docs/api.md, "WebSocket"), with the
python3-websockets client (asyncio API of websockets 10)."""

import asyncio
import base64
import json
import os
import signal
import socket
import time

import pytest
import websockets
import websockets.exceptions

from alerthub_e2e import (Api, create_api_key, create_tenant, default_tenant_id, make_token,
                          unique)

RECV_TIMEOUT = 5.0


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def connect(daemon, key=None, query_key=None, headers=None):
    url = daemon.ws_url + "/api/v1/ws"
    if query_key is not None:
        url += "?api_key=" + query_key
    h = dict(headers or {})
    if key is not None:
        h["X-API-Key"] = key
    return websockets.connect(url, extra_headers=h, open_timeout=5, close_timeout=5)


async def recv_json(ws, timeout=RECV_TIMEOUT):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_update_for(ws, nid):
    """The next notification.updated message about `nid` (others are skipped)."""
    while True:
        m = await recv_json(ws)
        if m.get("type") == "notification.updated" and m.get("id") == nid:
            return m


async def expect_silence(ws, seconds=0.3):
    try:
        m = await asyncio.wait_for(ws.recv(), seconds)
    except asyncio.TimeoutError:
        return
    pytest.fail("unexpected message: %s" % m)


def test_header_key_receives_the_update_of_a_submission(module_daemon, api):
    t = unique("ws.header")

    async def main():
        async with connect(module_daemon, key=api.api_key) as ws:
            assert ws.response_headers["X-Request-Id"]
            nid = api.submit_ok({"type": t, "priority": "high"})
            msg = await recv_update_for(ws, nid)
            created = api.get("/api/v1/notifications/" + nid).json()["created_at"]
            assert msg == {"type": "notification.updated", "id": nid, "status": "accepted",
                           "at": created, "notification_type": t, "priority": "high"}

    run(main())


def test_query_key_receives_updates_and_never_reaches_the_log(module_daemon, api):
    t = unique("ws.query")

    async def main():
        async with connect(module_daemon, query_key=api.api_key) as ws:
            nid = api.submit_ok({"type": t})
            msg = await recv_update_for(ws, nid)
            assert (msg["notification_type"], msg["priority"]) == (t, "normal")
            return ws.response_headers["X-Request-Id"]

    request_id = run(main())
    rec = module_daemon.access_log(request_id)
    assert (rec["path"], rec["route"], rec["status"]) == ("/api/v1/ws", "/api/v1/ws", 101)
    assert api.api_key not in module_daemon.stderr_text()


def test_authorization_bearer_header_is_accepted(module_daemon, api):
    async def main():
        async with connect(module_daemon,
                           headers={"Authorization": "Bearer " + api.api_key}) as ws:
            nid = api.submit_ok({"type": unique("ws.bearer")})
            await recv_update_for(ws, nid)

    run(main())


def test_subscribe_filter_narrows_the_stream(module_daemon, api):
    wanted, other = unique("ws.wanted"), unique("ws.other")

    async def main():
        async with connect(module_daemon, key=api.api_key) as ws:
            flt = {"types": [wanted], "min_priority": "high"}
            await ws.send(json.dumps({"type": "subscribe", "filter": flt}))
            assert await recv_json(ws) == {"type": "subscribed", "filter": flt}

            sent = {}
            for typ, prio in [(other, "critical"), (wanted, "low"), (wanted, "high"),
                              (wanted, "normal"), (other, "high"), (wanted, "critical")]:
                sent[(typ, prio)] = api.submit_ok({"type": typ, "priority": prio})
            m1, m2 = await recv_json(ws), await recv_json(ws)
            assert (m1["id"], m1["priority"]) == (sent[(wanted, "high")], "high")
            assert (m2["id"], m2["priority"]) == (sent[(wanted, "critical")], "critical")

            # An empty filter means everything again. Messages arrive in order,
            # so anything filtered out above would show up before "subscribed".
            await ws.send(json.dumps({"type": "subscribe", "filter": {}}))
            assert await recv_json(ws) == {"type": "subscribed", "filter": {}}
            sentinel = api.submit_ok({"type": other, "priority": "min"})
            m3 = await recv_json(ws)
            assert (m3["id"], m3["notification_type"], m3["priority"]) == (
                sentinel, other, "min")

            # Numeric priorities and type-only filters work too.
            await ws.send(json.dumps({"type": "subscribe", "filter": {"min_priority": 5}}))
            assert (await recv_json(ws))["type"] == "subscribed"
            api.submit_ok({"type": wanted, "priority": "high", "title": "filtered out"})
            crit = api.submit_ok({"type": other, "priority": 5, "title": "numeric"})
            assert (await recv_json(ws))["id"] == crit

    run(main())


BAD_MESSAGES = [
    ("not json", "expected {\"type\": \"subscribe\", \"filter\": {...}}"),
    ("[1, 2]", "expected {\"type\": \"subscribe\", \"filter\": {...}}"),
    ('{"type": "unsubscribe"}', "expected {\"type\": \"subscribe\", \"filter\": {...}}"),
    ('{"filter": {}}', "expected {\"type\": \"subscribe\", \"filter\": {...}}"),
    ('{"type": "subscribe", "filter": 5}', "filter: must be an object"),
    ('{"type": "subscribe", "filter": {"types": "x"}}',
     "filter.types: must be an array of strings"),
    ('{"type": "subscribe", "filter": {"types": ["a", 1]}}',
     "filter.types: must be an array of strings"),
    ('{"type": "subscribe", "filter": {"min_priority": "urgent"}}',
     "filter.min_priority: priority must be one of min, low, normal, high, critical or 1-5"),
    ('{"type": "subscribe", "filter": {"min_priority": 9}}',
     "filter.min_priority: priority must be one of min, low, normal, high, critical or 1-5"),
]


def test_bad_messages_answer_an_error_and_keep_the_connection(module_daemon, api):
    async def main():
        async with connect(module_daemon, key=api.api_key) as ws:
            for text, detail in BAD_MESSAGES:
                await ws.send(text)
                assert await recv_json(ws) == {"type": "error", "detail": detail}, text
            # A rejected subscribe leaves the previous (empty) filter in place.
            nid = api.submit_ok({"type": unique("ws.after-errors"), "priority": "min"})
            m = await recv_json(ws)
            assert m["id"] == nid

    run(main())


@pytest.mark.parametrize("how,detail", [
    ("none", "missing credentials"),
    ("unknown-key", "invalid API key"),
    ("malformed-key", "malformed API key"),
    ("query-unknown", "invalid API key"),
    ("query-revoked", "API key revoked"),
])
def test_unauthenticated_upgrade_is_401_without_upgrade(module_daemon, how, detail):
    headers, query = {}, None
    if how == "unknown-key":
        headers["X-API-Key"] = make_token()
    elif how == "malformed-key":
        headers["X-API-Key"] = "ahk_short"
    elif how == "query-unknown":
        query = make_token()
    elif how == "query-revoked":
        query, _ = create_api_key(module_daemon.data_dir,
                                  default_tenant_id(module_daemon.data_dir), revoked=True)

    async def main():
        with pytest.raises(websockets.exceptions.InvalidStatusCode) as e:
            async with connect(module_daemon, query_key=query, headers=headers):
                pass
        assert e.value.status_code == 401

    run(main())

    # The same with a raw socket: a plain HTTP 401 problem, no upgrade.
    target = "/api/v1/ws" + ("?api_key=" + query if query else "")
    extra = "".join("%s: %s\r\n" % kv for kv in headers.items())
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n%s\r\n" % (target, extra)).encode()
    with socket.create_connection(("127.0.0.1", module_daemon.port), timeout=5) as s:
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 401 "), lines[0]
        fields = {k.strip().lower(): v.strip() for k, v in
                  (line.split(":", 1) for line in lines[1:])}
        assert "upgrade" not in fields and "sec-websocket-accept" not in fields
        assert fields["www-authenticate"] == 'Bearer realm="alerthub"'
        assert fields["content-type"] == "application/problem+json"
        length = int(fields["content-length"])
        while len(rest) < length:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        body = json.loads(rest[:length])
        assert body == {"type": "https://alerthub.dev/problems/unauthenticated",
                        "title": "Unauthorized", "status": 401, "detail": detail}


def test_plain_get_of_the_websocket_path_is_426(api):
    r = api.get("/api/v1/ws")
    assert r.status_code == 426
    assert r.headers["Upgrade"] == "websocket"
    assert r.headers["Content-Type"] == "application/problem+json"


def test_updates_are_per_tenant(module_daemon, api):
    _, token_b = create_tenant(module_daemon.data_dir)
    b = Api(module_daemon.base_url, token_b)

    async def main():
        async with connect(module_daemon, key=token_b) as ws:
            api.submit_ok({"type": unique("ws.tenant-a")})
            mine = b.submit_ok({"type": unique("ws.tenant-b")})
            # B's first message is its own: A's never arrives.
            assert (await recv_json(ws))["id"] == mine
            await expect_silence(ws)

    run(main())


def test_sigterm_closes_websockets_with_1001(daemon_factory):
    d = daemon_factory()
    key = d.api_key

    async def main():
        async with connect(d, key=key) as ws1, connect(d, query_key=key) as ws2:
            d.proc.send_signal(signal.SIGTERM)
            for ws in (ws1, ws2):
                with pytest.raises(websockets.exceptions.ConnectionClosed) as e:
                    await asyncio.wait_for(ws.recv(), 10)
                assert e.value.rcvd is not None, "closed without a close frame"
                assert e.value.rcvd.code == 1001
                assert ws.close_code == 1001

    run(main())
    assert d.proc.wait(timeout=15) == 0, d.stderr_tail()


@pytest.mark.parametrize("message,code", [(b"binary frame", 1003), ("x" * (64 * 1024 + 1), 1009)])
def test_binary_or_oversized_messages_close_the_socket(module_daemon, api, message, code):
    async def main():
        async with connect(module_daemon, key=api.api_key) as ws:
            await ws.send(message)
            with pytest.raises(websockets.exceptions.ConnectionClosed) as e:
                await asyncio.wait_for(ws.recv(), 5)
            assert e.value.rcvd is not None and e.value.rcvd.code == code

    run(main())


def _raw_ws_handshake(port, key):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(("GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\nX-API-Key: %s\r\n\r\n"
               % (base64.b64encode(os.urandom(16)).decode(), key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, "closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101 "), head[:100]
    return s


def test_server_pings_a_quiet_client_within_20_seconds(module_daemon, api):
    # A raw client that sends nothing (no pings of its own to reset the timer).
    s = _raw_ws_handshake(module_daemon.port, api.api_key)
    with s:
        start = time.monotonic()
        s.settimeout(21.5)
        try:
            frame = s.recv(2)
        except socket.timeout:
            pytest.fail("no frame within 21.5 s of a quiet connection")
        assert frame[:1] == b"\x89", "expected a ping frame, got %r" % frame
        assert time.monotonic() - start <= 21.5
