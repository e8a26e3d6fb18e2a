"""The daemon's whole API surface as its sources declare it, and credentials
of every role, for the RBAC matrix (test_rbac_matrix.py) and the tenant
isolation sweep (test_isolation.py).

The route list is read from the registrations in alerthub/server/**/*.cc
(`add("METHOD", "/path", ...)` and `router.Add("METHOD", "/path", ...)`,
test files excluded), the RPC list from the `rpc` lines of
alerthub/proto/admin.proto, so a route or RPC added without a row in the
tests' tables fails their completeness checks.
"""

import datetime
import os
import re

import requests

from alerthub_e2e import REQUEST_TIMEOUT, unique

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER_DIR = os.path.join(ROOT, "alerthub", "server")
ADMIN_PROTO = os.path.join(ROOT, "alerthub", "proto", "admin.proto")

OWNER, ADMIN, MEMBER, VIEWER = 1, 2, 3, 4
ROLE_NAMES = {OWNER: "owner", ADMIN: "admin", MEMBER: "member", VIEWER: "viewer"}
PASSWORD = "matrix password of some length"

_ROUTE_RE = re.compile(r'(?:\badd|\brouter\.Add)\(\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(/[^"]*)"')
_SERVICE_RE = re.compile(r"^\s*service\s+(\w+)\s*\{")
_RPC_RE = re.compile(r"^\s*rpc\s+(\w+)\s*\(")


def registered_routes():
    """{(method, path)} of every route the server sources register."""
    routes = set()
    for dirpath, _, files in os.walk(SERVER_DIR):
        for name in files:
            if not name.endswith(".cc") or name.endswith("_test.cc") or "benchmark" in name:
                continue
            with open(os.path.join(dirpath, name)) as f:
                routes.update(_ROUTE_RE.findall(f.read()))
    assert len(routes) > 40, "the route scan found too little: %r" % sorted(routes)
    return routes


def proto_rpcs():
    """{"Service.Rpc"} of every RPC in admin.proto."""
    rpcs, service = set(), None
    with open(ADMIN_PROTO) as f:
        for line in f:
            m = _SERVICE_RE.match(line)
            if m:
                service = m.group(1)
                continue
            m = _RPC_RE.match(line)
            if m:
                assert service, "rpc outside a service: " + line
                rpcs.add("%s.%s" % (service, m.group(1)))
    assert len(rpcs) > 20, "the proto scan found too little: %r" % sorted(rpcs)
    return rpcs


def is_routing_miss(r):
    """True for the router's own answers (no such route, or not with this
    method), which a handler never gives: the route is not served."""
    if r.status_code == 405:
        return True
    if r.status_code != 404:
        return False
    try:
        return r.json().get("type") == "about:blank" and \
            r.json().get("detail", "").startswith("no route for")
    except ValueError:
        return False


# --- Credentials --------------------------------------------------------------

def new_api_key(base_url, owner_key, role):
    """A key of `role` (1-4) made through the admin API; (plaintext, id)."""
    r = requests.post(base_url + "/api/v1/api-keys", headers={"X-API-Key": owner_key},
                      json={"name": unique("key"), "role": "ROLE_" + ROLE_NAMES[role].upper()},
                      timeout=REQUEST_TIMEOUT)
    assert r.status_code == 201, r.text
    return r.json()["plaintext"], r.json()["api_key"]["id"]


def new_login_user(base_url, key, role, tenant_name=""):
    """A user of `role` with a password, created with `key`, logged in:
    (access token, user id)."""
    email = "%s@example.com" % unique("jwt")
    r = requests.post(base_url + "/api/v1/users", headers={"X-API-Key": key},
                      json={"email": email, "name": "Matrix", "role": ROLE_NAMES[role],
                            "password": PASSWORD}, timeout=REQUEST_TIMEOUT)
    assert r.status_code == 201, r.text
    body = {"email": email, "password": PASSWORD}
    if tenant_name:
        body["tenant"] = tenant_name
    login = requests.post(base_url + "/api/v1/auth/login", json=body, timeout=REQUEST_TIMEOUT)
    assert login.status_code == 200, login.text
    return login.json()["access_token"], r.json()["id"]


class Credential:
    """One caller: an API key or a JWT access token, as REST headers and as
    gRPC metadata."""

    def __init__(self, kind, role, secret):
        self.kind, self.role, self.secret = kind, role, secret

    @property
    def name(self):
        return "%s-%s" % (self.kind, ROLE_NAMES[self.role])

    def headers(self):
        if self.kind == "apikey":
            return {"X-API-Key": self.secret}
        return {"Authorization": "Bearer " + self.secret}

    def metadata(self):
        if self.kind == "apikey":
            return (("x-api-key", self.secret),)
        return (("authorization", "Bearer " + self.secret),)


# --- Times --------------------------------------------------------------------

def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def last_hour():
    """An analytics window ending now: (start, end) datetimes."""
    end = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
        datetime.timedelta(minutes=1)
    return end - datetime.timedelta(hours=1), end


def window_params(bucket=True):
    start, end = last_hour()
    params = {"start": rfc3339(start), "end": rfc3339(end)}
    if bucket:
        params["bucket"] = "10m"
    return params


def time_range(admin_pb2):
    """The same window as an admin.v1.TimeRange."""
    start, end = last_hour()
    r = admin_pb2.TimeRange()
    r.start.FromDatetime(start.replace(tzinfo=None))
    r.end.FromDatetime(end.replace(tzinfo=None))
    r.bucket.FromSeconds(600)
    return r


def struct(fields):
    """A google.protobuf.Struct holding the dict `fields`."""
    from google.protobuf import struct_pb2
    s = struct_pb2.Struct()
    s.update(fields)
    return s


# --- Objects --------------------------------------------------------------------

class Maker:
    """Makes one of each kind of object in the tenant of `key` over REST,
    with valid bodies; each returns the created JSON (with "id")."""

    def __init__(self, base_url, key):
        self.base_url = base_url
        self.key = key
        self.session = requests.Session()

    def call(self, method, path, want, **kw):
        r = self.session.request(method, self.base_url + path, headers={"X-API-Key": self.key},
                                 timeout=REQUEST_TIMEOUT, **kw)
        assert r.status_code == want, (method, path, r.status_code, r.text)
        return r.json() if r.content else None

    def integration(self):
        # Loopback: refused at send time (no --allow_private_networks), so
        # its deliveries fail at once and for good.
        return self.call("POST", "/api/v1/integrations", 201, json={
            "name": unique("hook"), "channel": "webhook",
            "config": {"url": "http://127.0.0.1:9/hook"}})

    def template(self):
        return self.call("POST", "/api/v1/templates", 201, json={
            "name": unique("tpl").lower(), "channel": "webhook",
            "fields": {"body": '{"text": "{{title}}"}'}})

    def rule(self):
        return self.call("POST", "/api/v1/rules", 201, json=rule_body())

    def user(self, role="member"):
        return self.call("POST", "/api/v1/users", 201, json={
            "email": "%s@example.com" % unique("u"), "name": "Someone", "role": role})

    def preferences(self, user_id):
        return self.call("PUT", "/api/v1/users/%s/preferences" % user_id, 200, json={
            "opt_out_channels": ["email"], "min_priority": "high", "time_zone": "Europe/Berlin"})

    def notification(self, **extra):
        body = dict(notification_body(), **extra)
        return self.call("POST", "/api/v1/notifications", 202, json=body)

    def delivery(self, integration_id, timeout=15.0):
        """A notification sent to `integration_id` and its delivery, once it
        has failed for good (so it changes no more): (notification, delivery)."""
        import time
        n = self.notification(integration_ids=[integration_id])
        deadline = time.monotonic() + timeout
        while True:
            got = self.call("GET", "/api/v1/deliveries", 200,
                            params={"notification_id": n["id"]})["deliveries"]
            status = self.call("GET", "/api/v1/notifications/" + n["id"], 200)["status"]
            if got and got[0]["status"] == "failed" and status == "failed":
                return n, got[0]
            assert time.monotonic() < deadline, ("delivery did not fail", got, status)
            time.sleep(0.05)

    def api_key(self, role="ROLE_VIEWER"):
        return self.call("POST", "/api/v1/api-keys", 201,
                         json={"name": unique("key"), "role": role})["api_key"]

    def tenant(self):
        """Needs a platform operator's key: {"tenant": ..., "owner_api_key": ...}."""
        return self.call("POST", "/api/v1/tenants", 201, json={"name": tenant_name()})


def rule_body():
    return {"name": unique("rule"), "match": {"type": "never.sent.*"}, "actions": {"suppress": True}}


def notification_body():
    return {"type": unique("matrix"), "title": "matrix check"}


def tenant_name():
    return unique("t").replace(".", "-")
