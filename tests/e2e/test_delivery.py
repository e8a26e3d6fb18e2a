"""Delivery end to end in the all-in-one daemon: integrations, templates,
webhooks to a local sink, retries, dead letters and replay, the status
changes a WebSocket client sees, and the SSRF default."""

import asyncio
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

import pytest
import websockets

from alerthub_e2e import Api, assert_problem, unique


class Sink:
    """A local webhook receiver. `answers` is consumed one status per
    request (200 when empty); every request is recorded."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    sink.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body, "path": self.path})
                    status = sink.answers.pop(0) if sink.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.server.server_address[1]

    def received(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def delivering(alerthub_bin, tmp_path_factory):
    """A daemon that may deliver to loopback, with an Api for its owner."""
    from alerthub_e2e import DaemonFactory
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "delivery")
    d = f("--allow_private_networks")
    yield d, Api(d.base_url, d.api_key)
    f.close()


def wait_for(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def create_webhook(api, url, **extra):
    body = {"name": unique("hook"), "channel": "webhook", "config": {"url": url}}
    body.update(extra)
    r = api.post("/api/v1/integrations", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def status_of(api, nid):
    return api.get("/api/v1/notifications/" + nid).json()["status"]


def verify_standard_webhook(secret, req):
    key = base64.b64decode(secret[len("whsec_"):])
    h = req["headers"]
    signed = "%s.%s.%s" % (h["webhook-id"], h["webhook-timestamp"], req["body"].decode())
    expected = base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha256).digest()).decode()
    assert "v1," + expected in h["webhook-signature"].split(" ")


def test_webhook_delivery_is_signed_and_the_notification_becomes_delivered(delivering, sink):
    d, api = delivering
    hook = create_webhook(api, sink.url)
    secret = hook["config"]["secret"]
    assert secret.startswith("whsec_")  # shown once, at creation
    nid = api.submit_ok({"type": "deploy.finished", "title": "v2 is live",
                         "integration_ids": [hook["id"]]})
    wait_for(lambda: status_of(api, nid) == "delivered", what="delivered")
    reqs = sink.received()
    assert len(reqs) == 1
    verify_standard_webhook(secret, reqs[0])
    payload = json.loads(reqs[0]["body"])
    assert payload["id"] == nid and payload["title"] == "v2 is live"
    events = api.get("/api/v1/notifications/%s/events" % nid).json()["events"]
    types = [e["type"] for e in events]
    assert types == ["alerthub.notification.accepted", "alerthub.notification.routed",
                     "alerthub.delivery.attempted", "alerthub.notification.delivered"]
    attempt = events[2]["data"]
    assert attempt["attempt"] == 1 and attempt["code"] == 200 and attempt["outcome"] == "success"
    assert attempt["integration_id"] == hook["id"]
    # The secret is never shown again.
    got = api.get("/api/v1/integrations/" + hook["id"]).json()
    assert got["config"]["secret"] == "[redacted]"


def test_failing_twice_then_succeeding_is_three_attempts_and_one_delivery(delivering, sink):
    d, api = delivering
    # A short schedule of its own, so the retries come within the test.
    hook = create_webhook(api, sink.url, retry={"schedule": ["0s", "1s", "1s", "1s"], "jitter": 0})
    sink.answers.extend([500, 503])
    nid = api.submit_ok({"type": "deploy.finished", "integration_ids": [hook["id"]]})
    wait_for(lambda: status_of(api, nid) == "delivered", what="delivered after two failures")
    reqs = sink.received()
    assert len(reqs) == 3
    deliveries = api.get("/api/v1/deliveries", params={"notification_id": nid}).json()["deliveries"]
    assert len(deliveries) == 1
    assert deliveries[0]["attempts"] == 3 and deliveries[0]["status"] == "delivered"
    # The same webhook-id on every retry, each signed afresh.
    assert {r["headers"]["webhook-id"] for r in reqs} == {deliveries[0]["id"]}
    for r in reqs:
        verify_standard_webhook(hook["config"]["secret"], r)
    events = api.get("/api/v1/notifications/%s/events" % nid).json()["events"]
    attempts = [e["data"] for e in events if e["type"] == "alerthub.delivery.attempted"]
    assert [(a["attempt"], a.get("code"), a["outcome"]) for a in attempts] == [
        (1, 500, "retriable"), (2, 503, "retriable"), (3, 200, "success")]
    assert "next_attempt_at" in attempts[0]


def test_dead_letter_and_replay(delivering, sink):
    d, api = delivering
    hook = create_webhook(api, sink.url)
    sink.answers.append(400)  # permanent
    nid = api.submit_ok({"type": "deploy.finished", "integration_ids": [hook["id"]]})
    wait_for(lambda: status_of(api, nid) == "failed", what="failed")
    dead = api.get("/api/v1/deliveries", params={"status": "dead"}).json()["deliveries"]
    mine = [x for x in dead if x["notification_id"] == nid]
    assert len(mine) == 1 and mine[0]["status"] == "failed"
    r = api.post("/api/v1/deliveries/%s/replay" % mine[0]["id"])
    assert r.status_code == 202, r.text
    wait_for(lambda: status_of(api, nid) == "delivered", what="delivered after replay")
    assert len(sink.received()) == 2
    assert_problem(api.post("/api/v1/deliveries/%s/replay" % mine[0]["id"]), 409, "conflict")


def test_gone_disables_the_integration(delivering, sink):
    d, api = delivering
    hook = create_webhook(api, sink.url)
    sink.answers.append(410)
    nid = api.submit_ok({"type": "deploy.finished", "integration_ids": [hook["id"]]})
    wait_for(lambda: status_of(api, nid) == "failed", what="failed")
    assert api.get("/api/v1/integrations/" + hook["id"]).json()["enabled"] is False


def test_websocket_sees_each_status_change(delivering, sink):
    d, api = delivering
    hook = create_webhook(api, sink.url)

    async def run():
        async with websockets.connect(d.ws_url + "/api/v1/ws", extra_headers={"X-API-Key": d.api_key},
                                      open_timeout=5) as ws:
            nid = await asyncio.get_running_loop().run_in_executor(
                None, lambda: api.submit_ok({"type": "deploy.finished",
                                             "integration_ids": [hook["id"]]}))
            seen = []
            while "delivered" not in seen:
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                if msg.get("id") == nid:
                    seen.append(msg["status"])
            return seen

    assert asyncio.run(run()) == ["accepted", "routed", "delivering", "delivered"]


def test_templates_render_the_webhook_body(delivering, sink):
    d, api = delivering
    hook = create_webhook(api, sink.url)
    name = unique("tpl").lower()
    r = api.post("/api/v1/templates", json={
        "name": name, "channel": "webhook",
        "fields": {"body": '{"text": "{{title}} on {{tags.env}}"}'}})
    assert r.status_code == 201, r.text
    nid = api.submit_ok({"type": "deploy.finished", "title": 'say "hi"', "tags": {"env": "prod"},
                         "template": name, "integration_ids": [hook["id"]]})
    wait_for(lambda: status_of(api, nid) == "delivered", what="delivered")
    assert json.loads(sink.received()[0]["body"]) == {"text": 'say "hi" on prod'}


def test_integration_crud_and_errors(delivering):
    d, api = delivering
    assert_problem(api.post("/api/v1/integrations", json={"name": "x", "channel": "pager"}), 422, "validation",
                   errors=[("channel", "must be one of webhook, slack, discord, email, push"),
                           ("config", "is required")])
    r = api.post("/api/v1/integrations", json={
        "name": "mail", "channel": "email",
        "config": {"smtp_url": "smtp://127.0.0.1:1", "from": "a@example.com",
                   "to": ["ops@example.com"], "username": "u", "password": "hunter2"}})
    assert r.status_code == 201, r.text
    i = r.json()
    assert i["config"]["password"] == "[redacted]"
    r = api.request("PATCH", "/api/v1/integrations/" + i["id"], json={"name": "renamed"})
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    listed = api.get("/api/v1/integrations", params={"channel": "email"}).json()["integrations"]
    assert i["id"] in [x["id"] for x in listed]
    assert_problem(api.get("/api/v1/integrations", params={"channel": "fax"}), 400, "invalid-parameter",
                   errors=[("channel", "must be one of webhook, slack, discord, email, push")])
    assert api.request("DELETE", "/api/v1/integrations/" + i["id"]).status_code == 204
    assert_problem(api.get("/api/v1/integrations/" + i["id"]), 404, "not-found")
    assert_problem(api.get("/api/v1/integrations/not-an-id"), 404, "not-found")
    assert_problem(api.get("/api/v1/integrations", key=False), 401, "unauthenticated")


def test_test_endpoint_reports_the_outcome(delivering, sink):
    d, api = delivering
    hook = create_webhook(api, sink.url)
    sink.answers.append(503)
    r = api.post("/api/v1/integrations/%s/test" % hook["id"])
    assert r.status_code == 200, r.text
    assert r.json()["success"] is False and r.json()["code"] == 503
    r = api.post("/api/v1/integrations/%s/test" % hook["id"])
    assert r.json()["success"] is True and r.json()["code"] == 200


def test_loopback_is_refused_by_default(daemon_factory, sink):
    d = daemon_factory()
    api = Api(d.base_url, d.api_key)
    hook = create_webhook(api, sink.url)
    r = api.post("/api/v1/integrations/%s/test" % hook["id"])
    assert r.status_code == 200
    assert r.json()["success"] is False
    assert "allow_private_networks" in r.json()["error"]
    nid = api.submit_ok({"type": "deploy.finished", "integration_ids": [hook["id"]]})
    wait_for(lambda: status_of(api, nid) == "failed", what="refused delivery fails")
    assert sink.received() == []


def _start_split_daemon(binary, args, log_path):
    """Starts alerthub-router or alerthub-integrations on a free port; returns
    (process, base_url) once /health/ready answers."""
    import socket
    import subprocess
    import requests
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([binary, "--http_address=127.0.0.1", "--http_port=%d" % port] + args,
                            stdout=open(log_path + ".out", "wb"), stderr=open(log_path + ".err", "wb"),
                            env={k: v for k, v in __import__("os").environ.items()
                                 if not k.startswith("ALERTHUB_")})
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + 20
    while True:
        assert proc.poll() is None, open(log_path + ".err").read()
        try:
            if requests.get(url + "/health/ready", timeout=2).status_code == 200:
                return proc, url
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "not ready: " + open(log_path + ".err").read()
        time.sleep(0.05)


def test_separate_router_and_integrations_daemons_deliver(alerthub_bin, tmp_path, sink):
    """alerthub-router takes the submission, alerthub-integrations (same
    SQLite file, in-process bus) routes and delivers it."""
    import os
    from alerthub_e2e import create_tenant
    bin_root = os.path.dirname(os.path.dirname(os.path.dirname(alerthub_bin)))
    router_bin = os.path.join(bin_root, "daemons/router/alerthub-router")
    integrations_bin = os.path.join(bin_root, "daemons/integrations/alerthub-integrations")
    store = "--store=sqlite://%s/alerthub.db" % tmp_path
    key_file = tmp_path / "secrets.key"
    key_file.write_text(base64.b64encode(b"k" * 32).decode() + "\n")

    # The integrations daemon refuses to start without a secrets key.
    import subprocess
    r = subprocess.run([integrations_bin, store], capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and "secrets_key_file" in r.stderr

    procs = []
    try:
        p, integrations_url = _start_split_daemon(
            integrations_bin, [store, "--secrets_key_file=%s" % key_file, "--allow_private_networks"],
            str(tmp_path / "integrations"))
        procs.append(p)
        p, router_url = _start_split_daemon(router_bin, [store], str(tmp_path / "router"))
        procs.append(p)
        _, token = create_tenant(str(tmp_path))
        integrations, router = Api(integrations_url, token), Api(router_url, token)
        # Each daemon serves its own routes only.
        assert router.get("/api/v1/integrations").status_code == 404
        assert integrations.get("/api/v1/notifications").status_code == 404
        hook = create_webhook(integrations, sink.url, default=True)
        nid = router.submit_ok({"type": "deploy.finished", "title": "split"})
        wait_for(lambda: status_of(router, nid) == "delivered", what="delivered across daemons")
        assert len(sink.received()) == 1
        verify_standard_webhook(hook["config"]["secret"], sink.received()[0])
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            assert p.wait(timeout=20) == 0
