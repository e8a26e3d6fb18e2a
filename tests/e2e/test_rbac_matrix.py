"""The role table (alerthub/auth/rbac.h, docs/api.md "Roles") route by route
and RPC by RPC: every REST route and every gRPC RPC of admin.proto, called
by an API key and by a JWT access token (a logged-in user) of each role,
viewer, member, admin and owner, all of the bootstrap tenant (whose owners
are platform operators). Each role below the row's least answers 403
problem+json / PERMISSION_DENIED naming the role it needs; each at or
above it passes the gate (the exact success status where the body is
valid, never 401/403 nor the router's "no route"). The tables are checked
against the route registrations in alerthub/server and the rpc lines of
admin.proto, both ways, so a new route or RPC without a row fails here.
"""

import pytest
import requests

from admin_surface import (ADMIN, MEMBER, OWNER, ROLE_NAMES, VIEWER, Credential, Maker,
                           is_routing_miss, new_api_key, new_login_user, notification_body,
                           proto_rpcs, registered_routes, rule_body, struct, tenant_name,
                           time_range, window_params)
from alerthub_e2e import REQUEST_TIMEOUT, DaemonFactory, assert_problem, default_tenant_id, unique

grpc = pytest.importorskip("grpc")

from test_admin_grpc import pb  # noqa: E402,F401  (the generated stubs, a fixture)

PUBLIC = 5  # no credential needed: every role passes

CREDENTIALS = [(kind, role) for kind in ("apikey", "jwt") for role in (VIEWER, MEMBER, ADMIN, OWNER)]


def cred_id(c):
    return "%s-%s" % (c[0], ROLE_NAMES[c[1]])


class World:
    """The module's daemon, its credentials and the objects the rows read."""

    def __init__(self, d, pb_modules):
        self.d = d
        self.base = d.base_url
        self.make = Maker(d.base_url, d.api_key)
        self.default_tenant = default_tenant_id(d.data_dir)
        self.pb, self.pb_grpc = pb_modules[0], pb_modules[1]
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port())
        self.creds = {}
        for role in (VIEWER, MEMBER, ADMIN, OWNER):
            self.creds[("apikey", role)] = Credential(
                "apikey", role, new_api_key(self.base, d.api_key, role)[0])
            self.creds[("jwt", role)] = Credential(
                "jwt", role, new_login_user(self.base, d.api_key, role)[0])
        # Objects the read rows name (writes make their own, fresh per call).
        self.integration = self.make.integration()
        self.template = self.make.template()
        self.rule = self.make.rule()
        self.user = self.make.user()
        self.notification, self.delivery = self.make.delivery(self.integration["id"])

    def stub(self, service):
        return getattr(self.pb_grpc, service + "Stub")(self.channel)


@pytest.fixture(scope="module")
def world(alerthub_bin, tmp_path_factory, pb):  # noqa: F811
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "rbac_matrix")
    # Hundreds of calls in one tenant: no rate limit in the way.
    d = f("--grpc_port=0", "--rate_limit_per_second=100000", "--rate_limit_burst=100000")
    w = World(d, pb)
    yield w
    w.channel.close()
    f.close()


# --- REST ---------------------------------------------------------------------
# (method, path, least role, request builder, success statuses). A builder
# returns the path's {id} and requests' keyword arguments.

def _none(w):
    return {}


def _on(attr):
    return lambda w: {"id": getattr(w, attr)["id"]}


def _fresh(kind, **kw):
    return lambda w: dict(kw, id=getattr(w.make, kind)()["id"])


def _replace_user(w):
    u = w.make.user()
    return {"id": u["id"], "json": {"email": u["email"], "name": "Renamed", "role": "member"}}


def _fresh_key(w):
    return {"id": w.make.api_key()["id"]}


def _fresh_tenant(w):
    return {"id": w.make.tenant()["tenant"]["id"]}


REST = [
    ("POST", "/api/v1/notifications", MEMBER, lambda w: {"json": notification_body()}, {202}),
    ("GET", "/api/v1/notifications", VIEWER, _none, {200}),
    ("POST", "/api/v1/notifications/batch", MEMBER,
     lambda w: {"json": {"notifications": [notification_body()]}}, {200}),
    ("GET", "/api/v1/notifications/{id}", VIEWER, _on("notification"), {200}),
    # Cancelling: 409 once it is past cancelling; either way past the gate.
    ("DELETE", "/api/v1/notifications/{id}", MEMBER, _fresh("notification"), {200, 409}),
    ("GET", "/api/v1/notifications/{id}/events", VIEWER, _on("notification"), {200}),
    ("GET", "/health/live", PUBLIC, _none, {200}),
    ("GET", "/health/ready", PUBLIC, _none, {200}),
    ("GET", "/metrics", PUBLIC, _none, {200}),

    ("POST", "/api/v1/integrations", ADMIN,
     lambda w: {"json": {"name": unique("hook"), "channel": "webhook",
                         "config": {"url": "http://127.0.0.1:9/x"}}}, {201}),
    ("GET", "/api/v1/integrations", VIEWER, _none, {200}),
    ("GET", "/api/v1/integrations/{id}", VIEWER, _on("integration"), {200}),
    ("PATCH", "/api/v1/integrations/{id}", ADMIN, _fresh("integration", json={"name": "renamed"}),
     {200}),
    ("DELETE", "/api/v1/integrations/{id}", ADMIN, _fresh("integration"), {204}),
    ("POST", "/api/v1/integrations/{id}/test", ADMIN, _on("integration"), {200}),
    ("POST", "/api/v1/templates", ADMIN,
     lambda w: {"json": {"name": unique("tpl").lower(), "channel": "webhook",
                         "fields": {"body": '{"t": "{{title}}"}'}}}, {201}),
    ("GET", "/api/v1/templates", VIEWER, _none, {200}),
    ("GET", "/api/v1/templates/{id}", VIEWER, _on("template"), {200}),
    ("PATCH", "/api/v1/templates/{id}", ADMIN,
     _fresh("template", json={"fields": {"body": '{"x": "{{title}}"}'}}), {200}),
    ("DELETE", "/api/v1/templates/{id}", ADMIN, _fresh("template"), {204}),
    ("GET", "/api/v1/deliveries", VIEWER, _none, {200}),
    ("GET", "/api/v1/deliveries/{id}", VIEWER, _on("delivery"), {200}),
    # 409 while an earlier replay is still pending.
    ("POST", "/api/v1/deliveries/{id}/replay", ADMIN, _on("delivery"), {202, 409}),

    ("POST", "/api/v1/rules", ADMIN, lambda w: {"json": rule_body()}, {201}),
    ("GET", "/api/v1/rules", VIEWER, _none, {200}),
    ("POST", "/api/v1/rules/evaluate", VIEWER, lambda w: {"json": notification_body()}, {200}),
    ("GET", "/api/v1/rules/{id}", VIEWER, _on("rule"), {200}),
    ("PUT", "/api/v1/rules/{id}", ADMIN, _fresh("rule", json=rule_body()), {200}),
    ("PATCH", "/api/v1/rules/{id}", ADMIN, _fresh("rule", json={"enabled": False}), {200}),
    ("DELETE", "/api/v1/rules/{id}", ADMIN, _fresh("rule"), {204}),
    ("POST", "/api/v1/users", ADMIN,
     lambda w: {"json": {"email": "%s@example.com" % unique("u")}}, {201}),
    ("GET", "/api/v1/users", VIEWER, _none, {200}),
    ("GET", "/api/v1/users/{id}", VIEWER, _on("user"), {200}),
    ("PUT", "/api/v1/users/{id}", ADMIN, _replace_user, {200}),
    ("DELETE", "/api/v1/users/{id}", ADMIN, _fresh("user"), {204}),
    ("GET", "/api/v1/users/{id}/preferences", VIEWER, _on("user"), {200}),
    ("PUT", "/api/v1/users/{id}/preferences", ADMIN,
     _fresh("user", json={"min_priority": "low"}), {200}),
    # GDPR: owners only.
    ("GET", "/api/v1/users/{id}/export", OWNER, _fresh("user"), {200}),
    ("POST", "/api/v1/users/{id}/erase", OWNER, _fresh("user"), {200, 204}),

    # The login routes carry their credential in the body: no role.
    ("POST", "/api/v1/auth/login", PUBLIC, lambda w: {"json": {}}, {422}),
    ("POST", "/api/v1/auth/refresh", PUBLIC, lambda w: {"json": {}}, {422}),
    ("POST", "/api/v1/auth/logout", PUBLIC, lambda w: {"json": {"refresh_token": "ahr_unknown"}},
     {204}),
    ("POST", "/api/v1/api-keys", ADMIN,
     lambda w: {"json": {"name": unique("k"), "role": "ROLE_VIEWER"}}, {201}),
    ("GET", "/api/v1/api-keys", ADMIN, _none, {200}),
    ("DELETE", "/api/v1/api-keys/{id}", ADMIN, _fresh_key, {200}),
    ("GET", "/api/v1/analytics/stats", VIEWER, lambda w: {"params": window_params()}, {200}),
    ("GET", "/api/v1/analytics/metrics", VIEWER, lambda w: {"params": window_params()}, {200}),
    ("GET", "/api/v1/analytics/channels", VIEWER,
     lambda w: {"params": window_params(bucket=False)}, {200}),
    # Creating, listing and deleting tenants: platform operators (owners of
    # the bootstrap tenant; every owner here is one).
    ("POST", "/api/v1/tenants", OWNER, lambda w: {"json": {"name": tenant_name()}}, {201}),
    ("GET", "/api/v1/tenants", OWNER, _none, {200}),
    ("GET", "/api/v1/tenants/{id}", VIEWER, lambda w: {"id": w.default_tenant}, {200}),
    ("PATCH", "/api/v1/tenants/{id}", OWNER,
     lambda w: {"id": w.default_tenant, "json": {"name": "default"},
                "params": {"update_mask": "name"}}, {200}),
    ("DELETE", "/api/v1/tenants/{id}", OWNER, _fresh_tenant, {204}),
    # The audit log.
    ("GET", "/api/v1/audit", ADMIN, _none, {200}),
]


def test_every_registered_route_has_a_row():
    table = {(m, p) for m, p, _, _, _ in REST}
    assert len(table) == len(REST), "a route has two rows"
    missing = registered_routes() - table
    assert not missing, "routes without a row in REST: %s" % sorted(missing)


def test_every_row_is_a_registered_route():
    """Fails when a row names a route the sources no longer register."""
    stale = {(m, p) for m, p, _, _, _ in REST} - registered_routes()
    assert not stale, "rows for routes the sources do not register: %s" % sorted(stale)


@pytest.mark.parametrize("credential", CREDENTIALS, ids=cred_id)
@pytest.mark.parametrize("method,path,least,build,ok", REST,
                         ids=["%s %s" % (r[0], r[1]) for r in REST])
def test_rest_route_by_role(world, credential, method, path, least, build, ok):
    cred = world.creds[credential]
    kw = build(world)
    object_id = kw.pop("id", None)
    url = world.base + (path.replace("{id}", object_id) if object_id else path)
    r = requests.request(method, url, headers=cred.headers(), timeout=REQUEST_TIMEOUT, **kw)
    assert not is_routing_miss(r), "route not served: %s %s: %s" % (method, path, r.text)
    if cred.role <= least:
        assert r.status_code in ok, (cred.name, r.status_code, r.text)
    else:
        body = assert_problem(r, 403, "forbidden")
        assert body["detail"].startswith("role %s may not " % ROLE_NAMES[cred.role]), body
        assert body["detail"].endswith("(needs %s)" % ROLE_NAMES[least]), body


# --- gRPC ---------------------------------------------------------------------
# ("Service.Rpc", least role, request builder (World -> message), success code).

OK = "OK"


def _mask(*paths):
    from google.protobuf import field_mask_pb2
    return field_mask_pb2.FieldMask(paths=list(paths))


def _rule_message(w):
    r = rule_body()
    return w.pb.NotificationRule(name=r["name"], enabled=True, match=struct(r["match"]),
                                 actions=struct(r["actions"]))


RPCS = [
    ("TenantService.CreateTenant", OWNER, lambda w: w.pb.CreateTenantRequest(name=tenant_name()),
     OK),
    ("TenantService.GetTenant", VIEWER, lambda w: w.pb.GetTenantRequest(id=w.default_tenant), OK),
    ("TenantService.UpdateTenant", OWNER,
     lambda w: w.pb.UpdateTenantRequest(tenant=w.pb.Tenant(id=w.default_tenant, name="default"),
                                        update_mask=_mask("name")), OK),
    ("TenantService.ListTenants", OWNER, lambda w: w.pb.ListTenantsRequest(), OK),
    ("TenantService.DeleteTenant", OWNER,
     lambda w: w.pb.DeleteTenantRequest(id=w.make.tenant()["tenant"]["id"]), OK),

    ("UserService.CreateUser", ADMIN,
     lambda w: w.pb.CreateUserRequest(user=w.pb.User(email="%s@example.com" % unique("g"),
                                                     role=w.pb.ROLE_MEMBER)), OK),
    ("UserService.GetUser", VIEWER, lambda w: w.pb.GetUserRequest(id=w.user["id"]), OK),
    ("UserService.UpdateUser", ADMIN,
     lambda w: w.pb.UpdateUserRequest(user=w.pb.User(id=w.make.user()["id"], name="Renamed"),
                                      update_mask=_mask("name")), OK),
    ("UserService.ListUsers", VIEWER, lambda w: w.pb.ListUsersRequest(), OK),
    ("UserService.DeleteUser", ADMIN, lambda w: w.pb.DeleteUserRequest(id=w.make.user()["id"]),
     OK),
    ("UserService.UpdatePreferences", ADMIN,
     lambda w: w.pb.UpdatePreferencesRequest(user_id=w.make.user()["id"],
                                             preferences=w.pb.UserPreferences(min_priority="low"),
                                             update_mask=_mask("min_priority")), OK),
    ("UserService.ExportUser", OWNER, lambda w: w.pb.ExportUserRequest(id=w.make.user()["id"]),
     OK),
    ("UserService.EraseUser", OWNER, lambda w: w.pb.EraseUserRequest(id=w.make.user()["id"]), OK),

    ("RuleService.CreateRule", ADMIN, lambda w: w.pb.CreateRuleRequest(rule=_rule_message(w)), OK),
    ("RuleService.GetRule", VIEWER, lambda w: w.pb.GetRuleRequest(id=w.rule["id"]), OK),
    ("RuleService.UpdateRule", ADMIN,
     lambda w: w.pb.UpdateRuleRequest(rule=w.pb.NotificationRule(id=w.make.rule()["id"],
                                                                 enabled=False),
                                      update_mask=_mask("enabled")), OK),
    ("RuleService.ListRules", VIEWER, lambda w: w.pb.ListRulesRequest(), OK),
    ("RuleService.DeleteRule", ADMIN, lambda w: w.pb.DeleteRuleRequest(id=w.make.rule()["id"]),
     OK),
    ("RuleService.EvaluateRule", VIEWER,
     lambda w: w.pb.EvaluateRuleRequest(notification=struct(notification_body())), OK),

    ("AnalyticsService.GetNotificationStats", VIEWER,
     lambda w: w.pb.StatsRequest(range=time_range(w.pb)), OK),
    ("AnalyticsService.GetDeliveryMetrics", VIEWER,
     lambda w: w.pb.MetricsRequest(range=time_range(w.pb)), OK),
    ("AnalyticsService.GetChannelBreakdown", VIEWER,
     lambda w: w.pb.BreakdownRequest(range=time_range(w.pb)), OK),

    ("ApiKeyService.CreateApiKey", ADMIN,
     lambda w: w.pb.CreateApiKeyRequest(name=unique("k"), role=w.pb.ROLE_VIEWER), OK),
    ("ApiKeyService.ListApiKeys", ADMIN, lambda w: w.pb.ListApiKeysRequest(), OK),
    ("ApiKeyService.RevokeApiKey", ADMIN,
     lambda w: w.pb.RevokeApiKeyRequest(id=w.make.api_key()["id"]), OK),

    ("AuditService.ListAuditRecords", ADMIN, lambda w: w.pb.ListAuditRecordsRequest(), OK),

    # The credential is in the message: no role.
    ("AuthService.Login", PUBLIC, lambda w: w.pb.LoginRequest(), "INVALID_ARGUMENT"),
    ("AuthService.Refresh", PUBLIC, lambda w: w.pb.RefreshRequest(), "INVALID_ARGUMENT"),
    ("AuthService.Logout", PUBLIC, lambda w: w.pb.LogoutRequest(refresh_token="ahr_unknown"), OK),
]


def test_every_rpc_has_a_row():
    table = {name for name, _, _, _ in RPCS}
    assert len(table) == len(RPCS), "an RPC has two rows"
    missing = proto_rpcs() - table
    assert not missing, "RPCs of admin.proto without a row in RPCS: %s" % sorted(missing)
    stale = table - proto_rpcs()
    assert not stale, "rows for RPCs admin.proto does not declare: %s" % sorted(stale)


@pytest.mark.parametrize("credential", CREDENTIALS, ids=cred_id)
@pytest.mark.parametrize("name,least,build,ok", RPCS, ids=[r[0] for r in RPCS])
def test_rpc_by_role(world, credential, name, least, build, ok):
    cred = world.creds[credential]
    service, rpc = name.split(".")
    call = getattr(world.stub(service), rpc)
    request = build(world)
    try:
        call(request, metadata=cred.metadata(), timeout=REQUEST_TIMEOUT)
        code, details = grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        code, details = e.code(), e.details()
    assert code != grpc.StatusCode.UNIMPLEMENTED, "%s is not served: %s" % (name, details)
    if cred.role <= least:
        assert code == getattr(grpc.StatusCode, ok), (cred.name, code, details)
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED, (cred.name, code, details)
        assert details.startswith("role %s may not " % ROLE_NAMES[cred.role]), details
        assert details.endswith("(needs %s)" % ROLE_NAMES[least]), details


# --- Owners of other tenants are no platform operators ----------------------------

def test_tenant_management_is_for_the_bootstrap_tenants_owners_only(world):
    created = world.make.tenant()
    theirs = Credential("apikey", OWNER, created["owner_api_key"])
    victim = world.make.tenant()["tenant"]["id"]
    calls = [("POST", "/api/v1/tenants", {"json": {"name": tenant_name()}}),
             ("GET", "/api/v1/tenants", {}),
             ("DELETE", "/api/v1/tenants/" + victim, {})]
    for method, path, kw in calls:
        r = requests.request(method, world.base + path, headers=theirs.headers(),
                             timeout=REQUEST_TIMEOUT, **kw)
        body = assert_problem(r, 403, "forbidden")
        assert "platform operators" in body["detail"], body
    tenants = world.stub("TenantService")
    for rpc, request in [("CreateTenant", world.pb.CreateTenantRequest(name=tenant_name())),
                         ("ListTenants", world.pb.ListTenantsRequest()),
                         ("DeleteTenant", world.pb.DeleteTenantRequest(id=victim))]:
        with pytest.raises(grpc.RpcError) as e:
            getattr(tenants, rpc)(request, metadata=theirs.metadata(), timeout=REQUEST_TIMEOUT)
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED, (rpc, e.value.details())
    # The victim is still there.
    r = requests.get(world.base + "/api/v1/tenants/" + victim,
                     headers={"X-API-Key": world.d.api_key}, timeout=REQUEST_TIMEOUT)
    assert r.status_code == 200, r.text


# --- Grants: nobody gives a role above their own ------------------------------------

def _admin_key(world):
    return world.creds[("apikey", ADMIN)].headers()


def _create_owner(w):
    return "POST", "/api/v1/users", {"email": "%s@example.com" % unique("o"), "role": "owner"}


def _raise_to_owner(w):
    u = w.make.user(role="admin")
    return "PUT", "/api/v1/users/" + u["id"], {"email": u["email"], "role": "owner"}


def _demote_owner(w):
    u = w.make.user(role="owner")
    return "PUT", "/api/v1/users/" + u["id"], {"email": u["email"], "role": "viewer"}


def _delete_owner(w):
    return "DELETE", "/api/v1/users/" + w.make.user(role="owner")["id"], None


def _set_owner_preferences(w):
    u = w.make.user(role="owner")
    return "PUT", "/api/v1/users/%s/preferences" % u["id"], {"opt_out_channels": ["push"]}


@pytest.mark.parametrize("attempt", [
    pytest.param(_create_owner, id="create an owner"),
    pytest.param(_raise_to_owner, id="raise a user to owner"),
    pytest.param(_demote_owner, id="demote an owner"),
    pytest.param(_delete_owner, id="delete an owner"),
    pytest.param(_set_owner_preferences, id="change an owner's preferences"),
])
def test_an_admin_may_not_grant_or_take_owner_over_rest(world, attempt):
    method, path, body = attempt(world)
    r = requests.request(method, world.base + path, headers=_admin_key(world), json=body,
                         timeout=REQUEST_TIMEOUT)
    assert_problem(r, 403, "forbidden")


def test_grants_over_grpc_follow_the_role_table(world):
    users = world.stub("UserService")
    md = world.creds[("apikey", ADMIN)].metadata()
    owner = world.make.user(role="owner")
    attempts = [
        ("CreateUser", world.pb.CreateUserRequest(
            user=world.pb.User(email="%s@example.com" % unique("o"), role=world.pb.ROLE_OWNER))),
        ("UpdateUser", world.pb.UpdateUserRequest(
            user=world.pb.User(id=world.make.user(role="admin")["id"], role=world.pb.ROLE_OWNER),
            update_mask=_mask("role"))),
        ("UpdateUser", world.pb.UpdateUserRequest(
            user=world.pb.User(id=owner["id"], role=world.pb.ROLE_VIEWER),
            update_mask=_mask("role"))),
        ("DeleteUser", world.pb.DeleteUserRequest(id=owner["id"])),
    ]
    for rpc, request in attempts:
        with pytest.raises(grpc.RpcError) as e:
            getattr(users, rpc)(request, metadata=md, timeout=REQUEST_TIMEOUT)
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED, (rpc, e.value.details())
    keys = world.stub("ApiKeyService")
    with pytest.raises(grpc.RpcError) as e:
        keys.CreateApiKey(world.pb.CreateApiKeyRequest(name="up", role=world.pb.ROLE_OWNER),
                          metadata=md, timeout=REQUEST_TIMEOUT)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    r = requests.post(world.base + "/api/v1/api-keys", headers=_admin_key(world),
                      json={"name": "up", "role": "ROLE_OWNER"}, timeout=REQUEST_TIMEOUT)
    assert_problem(r, 403, "forbidden")
