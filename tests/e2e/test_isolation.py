"""Tenant isolation, swept over the whole API: tenant A (the bootstrap
tenant) holds one of everything (integration, template, rule, user with
preferences, API key, notification and its delivery); tenant B, created
with POST /api/v1/tenants, calls every REST route and gRPC RPC that names
an object with A's ids, as its owner API key and as a JWT of its logged-in
owner. Each answers 404 / NOT_FOUND (the same as an absent id, so nothing
tells B that A's objects exist), B's lists hold none of A's ids, and A's
objects read the same afterwards, byte for byte. The tables are checked
against the route registrations (routes with an {id}) and admin.proto
(RPCs whose request carries an object id), so a new one fails here until
it has a row.
"""

import json
import re

import pytest
import requests

from admin_surface import (ADMIN_PROTO, OWNER, Credential, Maker, is_routing_miss,
                           new_login_user, notification_body, registered_routes, rule_body,
                           struct)
from alerthub_e2e import (REQUEST_TIMEOUT, DaemonFactory, assert_problem, default_tenant_id,
                          unique, uuid7)

grpc = pytest.importorskip("grpc")

from test_admin_grpc import pb  # noqa: E402,F401  (the generated stubs, a fixture)


class Tenants:
    """A with its objects, B with its two credentials, and A's snapshot."""

    def __init__(self, d, pb_modules):
        self.d = d
        self.base = d.base_url
        self.pb, self.pb_grpc = pb_modules[0], pb_modules[1]
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port())
        self.a_key = d.api_key
        self.a_tenant = default_tenant_id(d.data_dir)
        make = Maker(self.base, self.a_key)
        self.a = {
            "integration": make.integration(),
            "template": make.template(),
            "rule": make.rule(),
            "user": make.user(),
            "api_key": make.api_key(),
        }
        make.preferences(self.a["user"]["id"])
        self.a["notification"], self.a["delivery"] = make.delivery(self.a["integration"]["id"])
        created = make.tenant()
        self.b_tenant = created["tenant"]["id"]
        b_key = created["owner_api_key"]
        token, _ = new_login_user(self.base, b_key, OWNER, tenant_name=created["tenant"]["name"])
        self.b = {"apikey": Credential("apikey", OWNER, b_key),
                  "jwt": Credential("jwt", OWNER, token)}
        self.before = self.snapshot()

    def id(self, kind):
        if kind == "tenant":
            return self.a_tenant
        return self.a[kind]["id"]

    def get_as_a(self, path, **params):
        r = requests.get(self.base + path, headers={"X-API-Key": self.a_key}, params=params,
                         timeout=REQUEST_TIMEOUT)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    def snapshot(self):
        """Every GET body of A's objects, read with A's key."""
        a = self.a
        out = {}
        for path in ["/api/v1/integrations/" + a["integration"]["id"],
                     "/api/v1/templates/" + a["template"]["id"],
                     "/api/v1/rules/" + a["rule"]["id"],
                     "/api/v1/users/" + a["user"]["id"],
                     "/api/v1/users/%s/preferences" % a["user"]["id"],
                     "/api/v1/notifications/" + a["notification"]["id"],
                     "/api/v1/notifications/%s/events" % a["notification"]["id"],
                     "/api/v1/deliveries/" + a["delivery"]["id"],
                     "/api/v1/tenants/" + self.a_tenant]:
            out[path] = self.get_as_a(path)
        # Every delivery of A: none may appear from B's traffic.
        out["deliveries"] = self.get_as_a("/api/v1/deliveries", limit=500)
        keys = self.get_as_a("/api/v1/api-keys", prefix=a["api_key"]["prefix"])["api_keys"]
        out["api key"] = [k for k in keys if k["id"] == a["api_key"]["id"]]
        assert len(out["api key"]) == 1, keys
        return out


@pytest.fixture(scope="module")
def tenants(alerthub_bin, tmp_path_factory, pb):  # noqa: F811
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "isolation")
    d = f("--grpc_port=0")
    t = Tenants(d, pb)
    yield t
    t.channel.close()
    f.close()


# --- REST: every route with an {id} -------------------------------------------
# (method, path, whose id, request keyword arguments, the answer B gets).

REST = [
    ("GET", "/api/v1/notifications/{id}", "notification", {}, 404),
    ("DELETE", "/api/v1/notifications/{id}", "notification", {}, 404),
    ("GET", "/api/v1/notifications/{id}/events", "notification", {}, 404),
    ("GET", "/api/v1/integrations/{id}", "integration", {}, 404),
    ("PATCH", "/api/v1/integrations/{id}", "integration",
     {"json": {"name": "taken", "enabled": False}}, 404),
    ("DELETE", "/api/v1/integrations/{id}", "integration", {}, 404),
    ("POST", "/api/v1/integrations/{id}/test", "integration", {}, 404),
    ("GET", "/api/v1/templates/{id}", "template", {}, 404),
    ("PATCH", "/api/v1/templates/{id}", "template",
     {"json": {"fields": {"body": '{"pwned": "{{title}}"}'}}}, 404),
    ("DELETE", "/api/v1/templates/{id}", "template", {}, 404),
    ("GET", "/api/v1/deliveries/{id}", "delivery", {}, 404),
    ("POST", "/api/v1/deliveries/{id}/replay", "delivery", {}, 404),
    ("GET", "/api/v1/rules/{id}", "rule", {}, 404),
    ("PUT", "/api/v1/rules/{id}", "rule", {"json": rule_body()}, 404),
    ("PATCH", "/api/v1/rules/{id}", "rule", {"json": {"enabled": False}}, 404),
    ("DELETE", "/api/v1/rules/{id}", "rule", {}, 404),
    ("GET", "/api/v1/users/{id}", "user", {}, 404),
    ("PUT", "/api/v1/users/{id}", "user",
     {"json": {"email": "taken@example.com", "role": "viewer"}}, 404),
    ("DELETE", "/api/v1/users/{id}", "user", {}, 404),
    ("GET", "/api/v1/users/{id}/preferences", "user", {}, 404),
    ("PUT", "/api/v1/users/{id}/preferences", "user", {"json": {"min_priority": "critical"}}, 404),
    ("GET", "/api/v1/users/{id}/export", "user", {}, 404),
    ("POST", "/api/v1/users/{id}/erase", "user", {}, 404),
    ("DELETE", "/api/v1/api-keys/{id}", "api_key", {}, 404),
    ("GET", "/api/v1/tenants/{id}", "tenant", {}, 404),
    ("PATCH", "/api/v1/tenants/{id}", "tenant",
     {"json": {"settings": {"rate_limit_per_second": 1}}, "params": {"update_mask": "settings"}},
     404),
    # Deleting tenants is for platform operators, whatever the id: B's owner
    # is refused before any lookup, which tells nothing either.
    ("DELETE", "/api/v1/tenants/{id}", "tenant", {}, 403),
]

KINDS = ["apikey", "jwt"]


def test_every_route_with_an_id_has_a_row():
    table = {(m, p) for m, p, _, _, _ in REST}
    assert len(table) == len(REST)
    with_id = {(m, p) for m, p in registered_routes() if "{id}" in p}
    missing = with_id - table
    assert not missing, "routes with an {id} and no row in REST: %s" % sorted(missing)
    stale = table - with_id
    assert not stale, "rows for routes the sources do not register: %s" % sorted(stale)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method,path,whose,kw,want", REST,
                         ids=["%s %s" % (r[0], r[1]) for r in REST])
def test_b_cannot_reach_a_over_rest(tenants, kind, method, path, whose, kw, want):
    cred = tenants.b[kind]

    def call(object_id):
        return requests.request(method, tenants.base + path.replace("{id}", object_id),
                                headers=cred.headers(), timeout=REQUEST_TIMEOUT, **kw)

    object_id = tenants.id(whose)
    r = call(object_id)
    assert not is_routing_miss(r), "route not served: %s %s: %s" % (method, path, r.text)
    body = assert_problem(r, want, "not-found" if want == 404 else "forbidden")
    # Exactly what an id that exists nowhere gets, so B learns nothing.
    absent = uuid7()
    assert call(absent).json() == json.loads(json.dumps(body).replace(object_id, absent)), body


LISTS = [
    ("/api/v1/notifications", {"limit": 500}, "notifications", "notification"),
    ("/api/v1/integrations", {"limit": 500}, "integrations", "integration"),
    ("/api/v1/templates", {"limit": 500}, "templates", "template"),
    ("/api/v1/rules", {}, "rules", "rule"),  # listed whole
    ("/api/v1/users", {"limit": 500}, "users", "user"),
    ("/api/v1/deliveries", {"limit": 500}, "deliveries", "delivery"),
    ("/api/v1/api-keys", {"page_size": 500}, "api_keys", "api_key"),
]


@pytest.mark.parametrize("kind", KINDS)
def test_b_lists_hold_none_of_a(tenants, kind):
    cred = tenants.b[kind]
    for path, params, key, whose in LISTS:
        r = requests.get(tenants.base + path, headers=cred.headers(), params=params,
                         timeout=REQUEST_TIMEOUT)
        assert r.status_code == 200, (path, r.text)
        ids = [x["id"] for x in r.json()[key]]
        assert tenants.id(whose) not in ids, (path, ids)
    # Filters naming A's ids find nothing either.
    r = requests.get(tenants.base + "/api/v1/deliveries", headers=cred.headers(),
                     params={"notification_id": tenants.id("notification")},
                     timeout=REQUEST_TIMEOUT)
    assert r.status_code == 200 and r.json()["deliveries"] == [], r.text
    # The audit log shows B's records only.
    r = requests.get(tenants.base + "/api/v1/audit", headers=cred.headers(),
                     timeout=REQUEST_TIMEOUT)
    assert r.status_code == 200, r.text
    a_ids = {tenants.id(k) for k in tenants.a} | {tenants.a_tenant}
    for record in r.json().get("records", []):
        assert record.get("tenant_id") == tenants.b_tenant, record
        assert record.get("target") not in a_ids, record
    listed = getattr(tenants.pb_grpc, "AuditServiceStub")(tenants.channel).ListAuditRecords(
        tenants.pb.ListAuditRecordsRequest(page_size=500), metadata=cred.metadata(),
        timeout=REQUEST_TIMEOUT)
    for record in listed.records:
        assert record.tenant_id == tenants.b_tenant and record.target not in a_ids, record
    # The dry run sees B's rules only: A's rule matches nothing here.
    r = requests.post(tenants.base + "/api/v1/rules/evaluate", headers=cred.headers(),
                      json=dict(notification_body(), type="never.sent.x"),
                      timeout=REQUEST_TIMEOUT)
    assert r.status_code == 200, r.text
    assert tenants.id("rule") not in r.text, r.text


@pytest.mark.parametrize("kind", KINDS)
def test_b_cannot_send_through_a(tenants, kind):
    """A's integration, template and user named in B's submissions: never
    used (nothing is delivered for B, A's objects and deliveries stay as
    they were, checked at the end)."""
    import time
    cred = tenants.b[kind]
    submissions = [
        dict(notification_body(), integration_ids=[tenants.id("integration")]),
        dict(notification_body(), template=tenants.a["template"]["name"]),
        dict(notification_body(), recipients=[tenants.id("user")]),
    ]
    ids = []
    for body in submissions:
        r = requests.post(tenants.base + "/api/v1/notifications", headers=cred.headers(),
                          json=body, timeout=REQUEST_TIMEOUT)
        assert r.status_code in (202, 422), r.text
        if r.status_code == 202:
            ids.append(r.json()["id"])
    deadline = time.monotonic() + 10
    for nid in ids:
        while True:
            n = requests.get(tenants.base + "/api/v1/notifications/" + nid,
                             headers=cred.headers(), timeout=REQUEST_TIMEOUT).json()
            if n["status"] not in ("accepted", "routed", "delivering"):
                break
            assert time.monotonic() < deadline, n
            time.sleep(0.05)
        assert n["status"] != "delivered", n
        r = requests.get(tenants.base + "/api/v1/deliveries", headers=cred.headers(),
                         params={"notification_id": nid}, timeout=REQUEST_TIMEOUT)
        for delivery in r.json()["deliveries"]:
            assert delivery["integration_id"] != tenants.id("integration"), delivery


# --- gRPC: every RPC whose request names an object ---------------------------------
# ("Service.Rpc", request builder (Tenants -> message), the code B gets).

def _mask(*paths):
    from google.protobuf import field_mask_pb2
    return field_mask_pb2.FieldMask(paths=list(paths))


NOT_FOUND = "NOT_FOUND"

RPCS = [
    ("TenantService.GetTenant", lambda t: t.pb.GetTenantRequest(id=t.a_tenant), NOT_FOUND),
    ("TenantService.UpdateTenant",
     lambda t: t.pb.UpdateTenantRequest(tenant=t.pb.Tenant(id=t.a_tenant, name="taken"),
                                        update_mask=_mask("name")), NOT_FOUND),
    ("TenantService.DeleteTenant", lambda t: t.pb.DeleteTenantRequest(id=t.a_tenant),
     "PERMISSION_DENIED"),
    ("UserService.GetUser", lambda t: t.pb.GetUserRequest(id=t.id("user")), NOT_FOUND),
    ("UserService.UpdateUser",
     lambda t: t.pb.UpdateUserRequest(user=t.pb.User(id=t.id("user"), name="Taken"),
                                      update_mask=_mask("name")), NOT_FOUND),
    ("UserService.DeleteUser", lambda t: t.pb.DeleteUserRequest(id=t.id("user")), NOT_FOUND),
    ("UserService.UpdatePreferences",
     lambda t: t.pb.UpdatePreferencesRequest(
         user_id=t.id("user"), preferences=t.pb.UserPreferences(min_priority="critical")),
     NOT_FOUND),
    ("UserService.ExportUser", lambda t: t.pb.ExportUserRequest(id=t.id("user")), NOT_FOUND),
    ("UserService.EraseUser", lambda t: t.pb.EraseUserRequest(id=t.id("user")), NOT_FOUND),
    ("RuleService.GetRule", lambda t: t.pb.GetRuleRequest(id=t.id("rule")), NOT_FOUND),
    ("RuleService.UpdateRule",
     lambda t: t.pb.UpdateRuleRequest(rule=t.pb.NotificationRule(id=t.id("rule"), enabled=False),
                                      update_mask=_mask("enabled")), NOT_FOUND),
    ("RuleService.DeleteRule", lambda t: t.pb.DeleteRuleRequest(id=t.id("rule")), NOT_FOUND),
    ("ApiKeyService.RevokeApiKey", lambda t: t.pb.RevokeApiKeyRequest(id=t.id("api_key")),
     NOT_FOUND),
    # Creating with A's ids in the message: the id is the server's to pick,
    # so this creates B's own object (or is refused), never touches A's.
    ("UserService.CreateUser",
     lambda t: t.pb.CreateUserRequest(user=t.pb.User(
         id=t.id("user"), tenant_id=t.a_tenant, email="%s@example.com" % unique("b"))),
     ("OK", "INVALID_ARGUMENT")),
    ("RuleService.CreateRule",
     lambda t: t.pb.CreateRuleRequest(rule=t.pb.NotificationRule(
         id=t.id("rule"), name=unique("r"), enabled=True, match=struct({"type": "b.*"}),
         actions=struct({"suppress": True}))), ("OK", "INVALID_ARGUMENT")),
    ("TenantService.CreateTenant",
     lambda t: t.pb.CreateTenantRequest(name=unique("t").replace(".", "-")),
     "PERMISSION_DENIED"),
]


def _messages_with_ids():
    """From admin.proto: {message: [(type, field)]}, and the RPCs whose
    request has an `id`/`user_id` field, directly or in a message field."""
    with open(ADMIN_PROTO) as f:
        text = f.read()
    messages = {}
    for m in re.finditer(r"^message\s+(\w+)\s*\{(.*?)^\}", text, re.M | re.S):
        messages[m.group(1)] = re.findall(r"^\s*(?:repeated\s+)?([\w.]+)\s+(\w+)\s*=", m.group(2),
                                          re.M)

    def has_id(name, depth=0):
        for ftype, field in messages.get(name, []):
            if field in ("id", "user_id"):
                return True
            if depth == 0 and ftype in messages and has_id(ftype, 1):
                return True
        return False

    rpcs, service = set(), None
    for line in text.splitlines():
        s = re.match(r"^\s*service\s+(\w+)", line)
        if s:
            service = s.group(1)
        r = re.match(r"^\s*rpc\s+(\w+)\s*\(\s*(\w+)\s*\)", line)
        if r and has_id(r.group(2)):
            rpcs.add("%s.%s" % (service, r.group(1)))
    return rpcs


def test_every_rpc_naming_an_object_has_a_row():
    table = {name for name, _, _ in RPCS}
    assert len(table) == len(RPCS)
    missing = _messages_with_ids() - table
    assert not missing, "RPCs whose request names an object, without a row: %s" % sorted(missing)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name,build,want", RPCS, ids=[r[0] for r in RPCS])
def test_b_cannot_reach_a_over_grpc(tenants, kind, name, build, want):
    cred = tenants.b[kind]
    service, rpc = name.split(".")
    stub = getattr(tenants.pb_grpc, service + "Stub")(tenants.channel)
    try:
        got = getattr(stub, rpc)(build(tenants), metadata=cred.metadata(),
                                 timeout=REQUEST_TIMEOUT)
        code, details = "OK", ""
    except grpc.RpcError as e:
        got, code, details = None, e.code().name, e.details()
    assert code != "UNIMPLEMENTED", "%s is not served" % name
    wanted = want if isinstance(want, tuple) else (want,)
    assert code in wanted, (name, code, details)
    if got is not None and hasattr(got, "id"):
        # What it created is B's, under an id of the server's choosing.
        assert got.id not in (tenants.id("user"), tenants.id("rule")), got
    if got is not None and hasattr(got, "tenant_id"):
        assert got.tenant_id == tenants.b_tenant, got


# --- Afterwards --------------------------------------------------------------------

def test_a_reads_the_same_afterwards(tenants):
    """Runs after the sweeps above (pytest keeps the file's order)."""
    after = tenants.snapshot()
    for path, before in tenants.before.items():
        assert after[path] == before, path
    # A's key still works, and B's owner key only on B.
    r = requests.get(tenants.base + "/api/v1/tenants/" + tenants.b_tenant,
                     headers=tenants.b["apikey"].headers(), timeout=REQUEST_TIMEOUT)
    assert r.status_code == 200 and r.json()["id"] == tenants.b_tenant, r.text
