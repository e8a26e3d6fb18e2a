"""GDPR export and erasure of one user (issue 7), end to end in the
all-in-one daemon: `GET /api/v1/users/{id}/export` and `POST
/api/v1/users/{id}/erase` (owners only). The user gets notifications through a
Discord integration whose receiver refuses them with an answer naming the
user (a dead letter), one held by quiet hours and one shared with another
user; after the erasure the API and a byte-for-byte scan of the SQLite file
find the user's e-mail address, name and chat ids nowhere."""

import datetime
import hashlib
import http.server
import json
import threading

import pytest
import requests

from alerthub_e2e import (Api, DaemonFactory, assert_problem, create_api_key, create_tenant,
                          db_connect, default_tenant_id, unique)
from test_delivery import wait_for

USERS = "/api/v1/users"
PASSWORD = "correct horse battery staple"
ROLES = {"admin": 2, "member": 3, "viewer": 4}


class RefusingDiscord:
    """A Discord webhook receiver: a message mentioning `refused` (a Discord
    user id) gets 400 with an error naming `leak`; any other gets 204."""

    def __init__(self, refused, leak):
        self.requests = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(body)
                if refused.encode() in body:
                    answer = json.dumps({"message": "Unknown user " + leak, "code": 10013})
                    self.send_response(400)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer.encode())
                else:
                    self.send_response(204)
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def daemon(alerthub_bin, tmp_path_factory):
    """A daemon that routes and may deliver to loopback."""
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "gdpr")
    d = f("--allow_private_networks")
    yield d
    f.close()


def quiet_now():
    """Quiet hours (UTC) holding anything not critical for the next hour."""
    start = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    end = start + datetime.timedelta(hours=2)
    return {"time_zone": "UTC",
            "quiet_hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                             "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}]}


def create_user(api, email, name, discord_id, password=None, preferences=None):
    body = {"email": email, "name": name, "role": "member",
            "addresses": {"discord_user_id": discord_id, "slack_user_id": "U" + discord_id[-8:]}}
    if password:
        body["password"] = password
    r = api.post(USERS, json=body)
    assert r.status_code == 201, r.text
    user = r.json()
    if preferences is not None:
        r = api.request("PUT", USERS + "/" + user["id"] + "/preferences", json=preferences)
        assert r.status_code == 200, r.text
    return user


def deliveries_of(api, nid):
    r = api.get("/api/v1/deliveries", params={"notification_id": nid})
    assert r.status_code == 200, r.text
    return {d.get("recipient", ""): d for d in r.json()["deliveries"]}


def database_text(data_dir):
    """Every value of every row of every table of the daemon's database."""
    out = []
    with db_connect(data_dir) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute('SELECT * FROM "%s"' % table):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    out.append("%s: %s" % (table, value))
    return "\n".join(out)


def test_export_then_erase_leaves_nothing_of_the_user(daemon):
    api = Api(daemon.base_url, daemon.api_key)  # the bootstrap key: an owner
    tag = unique("gdpr")
    email, name, discord_id = tag + ".ada@example.com", "Ada " + tag, "80351110224679101"
    secrets = {"email": email, "name": name, "discord": discord_id,
               "slack": "U" + discord_id[-8:]}
    receiver = RefusingDiscord(discord_id, email)
    try:
        r = api.post("/api/v1/integrations", json={"name": unique("discord"), "channel": "discord",
                                                   "config": {"webhook_url": receiver.url}})
        assert r.status_code == 201, r.text
        discord = r.json()["id"]
        quiet = quiet_now()
        ada = create_user(api, email, name, discord_id, PASSWORD, quiet)
        bob = create_user(api, tag + ".bob@example.com", "Bob", "80351110224679102")

        # A login session: the export shows it, never its token.
        r = requests.post(daemon.base_url + "/api/v1/auth/login",
                          json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        refresh_token = r.json()["refresh_token"]

        # Critical: past her quiet hours, refused by the receiver -> dead letter.
        dead = api.submit_ok({"type": tag + ".dead", "title": "for " + name, "body": email,
                              "priority": "critical", "recipients": [ada["id"]],
                              "integration_ids": [discord]})
        # Normal: held by her quiet hours.
        held = api.submit_ok({"type": tag + ".held", "title": "digest", "body": "hi " + name,
                              "recipients": [ada["id"]], "integration_ids": [discord]})
        # Shared with Bob: keeps its content for him.
        shared = api.submit_ok({"type": tag + ".shared", "title": "release", "body": "v2 shipped",
                                "priority": "critical", "recipients": [ada["id"], bob["id"]],
                                "integration_ids": [discord]})
        wait_for(lambda: deliveries_of(api, dead).get(ada["id"], {}).get("status") == "failed",
                 what="the dead letter")
        wait_for(lambda: deliveries_of(api, held).get(ada["id"], {}).get("status") == "held",
                 what="the held delivery")
        wait_for(lambda: deliveries_of(api, shared).get(bob["id"], {}).get("status") == "delivered"
                 and deliveries_of(api, shared).get(ada["id"], {}).get("status") == "failed",
                 what="the shared notification's deliveries")
        assert email in deliveries_of(api, dead)[ada["id"]]["last_error"]
        before = database_text(daemon.data_dir)
        for what in ("email", "name", "discord", "slack"):
            assert secrets[what] in before, what  # planted, so the scan below can fail

        # --- Export: one document about her, without secrets.
        r = api.get(USERS + "/" + ada["id"] + "/export")
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("application/json")
        e = r.json()
        assert sorted(e) == ["audit_records", "deliveries", "events", "exported_at",
                             "has_password", "notifications", "preferences", "sessions", "user"]
        assert e["user"]["id"] == ada["id"] and e["user"]["email"] == email
        assert e["user"]["name"] == name
        assert e["user"]["addresses"]["discord_user_id"] == discord_id
        assert e["preferences"]["quiet_hours"] == quiet["quiet_hours"]
        assert e["has_password"] is True
        assert len(e["sessions"]) == 1 and "revoked_at" not in e["sessions"][0]
        assert [n["id"] for n in e["notifications"]] == [dead, held, shared]
        assert e["notifications"][0]["body"] == email
        assert e["notifications"][2]["recipients"] == [ada["id"]]
        assert e["notifications"][2]["other_recipients"] == 1
        mine = {d["notification_id"]: d for d in e["deliveries"]}
        assert set(mine) == {dead, held, shared}
        assert all(d["recipient"] == ada["id"] for d in e["deliveries"])
        assert mine[dead]["status"] == "failed" and mine[held]["status"] == "held"
        attempts = [ev for ev in e["events"] if ev["type"] == "alerthub.delivery.attempted"]
        assert {ev["data"]["delivery_id"] for ev in attempts} == {mine[dead]["id"],
                                                                   mine[shared]["id"]}
        text = json.dumps(e)
        assert PASSWORD not in text and "$argon2id" not in text
        assert refresh_token not in text
        assert hashlib.sha256(refresh_token.encode()).hexdigest() not in text
        assert bob["id"] not in text and "Bob" not in text

        # --- Only owners; another tenant's id is a 404.
        tenant = default_tenant_id(daemon.data_dir)
        for role, number in ROLES.items():
            key, _ = create_api_key(daemon.data_dir, tenant, name=role, role=number)
            lesser = Api(daemon.base_url, key)
            for r in (lesser.get(USERS + "/" + ada["id"] + "/export"),
                      lesser.post(USERS + "/" + ada["id"] + "/erase")):
                assert_problem(r, 403, "forbidden", "Forbidden",
                               "role %s may not manage the tenant (needs owner)" % role)
        _, other_key = create_tenant(daemon.data_dir)
        other = Api(daemon.base_url, other_key)
        for r in (other.get(USERS + "/" + ada["id"] + "/export"),
                  other.post(USERS + "/" + ada["id"] + "/erase")):
            assert_problem(r, 404, "not-found", "Not Found", 'no user "%s"' % ada["id"])
        assert api.get(USERS + "/" + ada["id"]).status_code == 200  # still there

        # --- Erase.
        r = api.post(USERS + "/" + ada["id"] + "/erase")
        assert r.status_code == 204, r.text
        assert r.content == b""
        for r in (api.get(USERS + "/" + ada["id"] + "/export"),
                  api.post(USERS + "/" + ada["id"] + "/erase")):
            assert_problem(r, 404, "not-found", "Not Found", 'no user "%s"' % ada["id"])
        assert api.get(USERS + "/" + ada["id"]).status_code == 404
        r = requests.post(daemon.base_url + "/api/v1/auth/refresh",
                          json={"refresh_token": refresh_token})
        assert r.status_code == 401, r.text
        r = requests.post(daemon.base_url + "/api/v1/auth/login",
                          json={"email": email, "password": PASSWORD})
        assert r.status_code == 401, r.text

        # Her held delivery will not be sent; the dead letter forgot the answer.
        assert deliveries_of(api, held)[ada["id"]]["status"] == "suppressed"
        assert deliveries_of(api, held)[ada["id"]]["last_error"] == "recipient erased"
        gone = deliveries_of(api, dead)[ada["id"]]
        assert gone["status"] == "failed" and gone.get("last_error", "") == ""
        for nid in (dead, held):
            n = api.get("/api/v1/notifications/" + nid).json()
            assert "title" not in n and "body" not in n and "recipients" not in n, n
        n = api.get("/api/v1/notifications/" + shared).json()
        assert n["recipients"] == [bob["id"]] and n["body"] == "v2 shipped"
        assert deliveries_of(api, shared)[bob["id"]]["status"] == "delivered"
        for nid in (dead, held, shared):
            events = api.get("/api/v1/notifications/%s/events" % nid).json()["events"]
            assert email not in json.dumps(events)

        # The audit log (read from the database: GET /api/v1/audit is the
        # lead's) holds both operations on her id, with ids only.
        with db_connect(daemon.data_dir) as conn:
            rows = conn.execute("SELECT action, doc FROM audit_log WHERE target = ? ORDER BY at",
                                (ada["id"],)).fetchall()
        records = {action: json.loads(doc) for action, doc in rows}
        assert {"user.export", "user.erase"} <= set(records), sorted(records)
        assert records["user.erase"]["before"] == {"id": ada["id"], "role": "member"}
        assert records["user.erase"].get("after") is None

        # Nothing in any table of the database names her.
        after = database_text(daemon.data_dir)
        for what, value in secrets.items():
            leaks = [line for line in after.splitlines() if value in line]
            assert not leaks, "%s still stored: %s" % (what, leaks[:3])
    finally:
        receiver.close()
