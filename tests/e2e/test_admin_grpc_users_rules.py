"""UserService and RuleService (docs/api.md, "Users and rules over gRPC")
driven by a real grpcio client against the all-in-one daemon: every RPC,
field masks, INVALID_ARGUMENT with google.rpc.BadRequest field violations,
NOT_FOUND across tenants, permissions by role, and rules created over gRPC
routing what the REST dry run (POST /api/v1/rules/evaluate) shows."""

import os

import pytest
import requests

from alerthub_e2e import DaemonFactory, create_api_key, create_tenant, default_tenant_id, unique
# The generated stubs (protoc + grpc_python_plugin at test time), shared.
from test_admin_grpc import pb  # noqa: F401  (a fixture)

grpc = pytest.importorskip("grpc")
from google.protobuf import field_mask_pb2, json_format, struct_pb2  # noqa: E402

ROLE_ADMIN, ROLE_MEMBER, ROLE_VIEWER = 2, 3, 4
MISSING_ID = "0193a000-0000-7000-8000-000000000001"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(daemon, channel, keys): keys by role name for tenant "default"
    ("owner" is the bootstrap key) and "other", an owner of another tenant."""
    f = DaemonFactory(os.environ["ALERTHUB_BIN"], tmp_path_factory, "users_rules_grpc")
    d = f("--deliver=false", "--grpc_port=0")
    tenant = default_tenant_id(d.data_dir)
    keys = {"owner": d.api_key}
    for name, role in (("admin", ROLE_ADMIN), ("member", ROLE_MEMBER), ("viewer", ROLE_VIEWER)):
        keys[name], _ = create_api_key(d.data_dir, tenant, name=name, role=role)
    _, keys["other"] = create_tenant(d.data_dir)
    channel = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port())
    yield d, channel, keys
    channel.close()
    f.close()


def md(key):
    return (("x-api-key", key),)


def struct(value):
    s = struct_pb2.Struct()
    s.update(value)
    return s


def as_dict(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def mask(*paths):
    return field_mask_pb2.FieldMask(paths=list(paths))


def rpc_error(call, *args, **kw):
    with pytest.raises(grpc.RpcError) as e:
        call(*args, **kw)
    return e.value


def violations(error, status_pb2):
    """The fields of the google.rpc.BadRequest in an INVALID_ARGUMENT."""
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    status = status_pb2.Status.FromString(dict(error.trailing_metadata())["grpc-status-details-bin"])
    bad = status_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    return [v.field for v in bad.field_violations]


def email():
    return unique("u") + "@example.com"


# --- UserService ---------------------------------------------------------------


def test_users_are_created_read_listed_updated_and_deleted(pb, env):
    admin_pb2, admin_pb2_grpc, status_pb2, _, _ = pb
    d, channel, keys = env
    users = admin_pb2_grpc.UserServiceStub(channel)
    address = email()
    created = users.CreateUser(admin_pb2.CreateUserRequest(user=admin_pb2.User(
        email=address, name="Ada", role=admin_pb2.ROLE_MEMBER,
        addresses=admin_pb2.ChannelAddresses(slack_user_id="U024BE7LH", fcm_tokens=["fcm-1"]))),
        metadata=md(keys["admin"]))
    assert len(created.id) == 36 and created.email == address and created.name == "Ada"
    assert created.role == admin_pb2.ROLE_MEMBER
    assert created.addresses.slack_user_id == "U024BE7LH"
    assert list(created.addresses.fcm_tokens) == ["fcm-1"]
    assert created.create_time.seconds > 0

    # The REST routes see the same user (and the other way round).
    r = requests.get(d.base_url + "/api/v1/users/" + created.id, headers={"X-API-Key": keys["viewer"]})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == address and r.json()["role"] == "member"
    got = users.GetUser(admin_pb2.GetUserRequest(id=created.id), metadata=md(keys["viewer"]))
    assert got == created

    # UpdateUser replaces only what the mask names.
    updated = users.UpdateUser(admin_pb2.UpdateUserRequest(
        user=admin_pb2.User(id=created.id, name="Ada Lovelace", email="ignored@example.com"),
        update_mask=mask("name")), metadata=md(keys["admin"]))
    assert updated.name == "Ada Lovelace" and updated.email == address
    assert updated.addresses.slack_user_id == "U024BE7LH"
    updated = users.UpdateUser(admin_pb2.UpdateUserRequest(
        user=admin_pb2.User(id=created.id, role=admin_pb2.ROLE_ADMIN), update_mask=mask("role", "addresses")),
        metadata=md(keys["admin"]))
    assert updated.role == admin_pb2.ROLE_ADMIN and updated.addresses.slack_user_id == ""
    # No mask: all of email, name, role and addresses (an unspecified role is kept).
    other_address = email()
    updated = users.UpdateUser(admin_pb2.UpdateUserRequest(
        user=admin_pb2.User(id=created.id, email=other_address)), metadata=md(keys["admin"]))
    assert updated.email == other_address and updated.name == "" and updated.role == admin_pb2.ROLE_ADMIN
    assert requests.get(d.base_url + "/api/v1/users/" + created.id,
                        headers={"X-API-Key": keys["viewer"]}).json()["email"] == other_address

    # ListUsers pages with opaque tokens.
    second = users.CreateUser(admin_pb2.CreateUserRequest(user=admin_pb2.User(email=email())),
                              metadata=md(keys["admin"]))
    seen, token = [], ""
    while True:
        page = users.ListUsers(admin_pb2.ListUsersRequest(page_size=1, page_token=token),
                               metadata=md(keys["viewer"]))
        assert len(page.users) <= 1
        seen += [u.id for u in page.users]
        token = page.next_page_token
        if not token:
            break
    assert created.id in seen and second.id in seen and len(seen) == len(set(seen))

    users.DeleteUser(admin_pb2.DeleteUserRequest(id=second.id), metadata=md(keys["admin"]))
    e = rpc_error(users.GetUser, admin_pb2.GetUserRequest(id=second.id), metadata=md(keys["viewer"]))
    assert e.code() == grpc.StatusCode.NOT_FOUND
    assert requests.get(d.base_url + "/api/v1/users/" + second.id,
                        headers={"X-API-Key": keys["viewer"]}).status_code == 404


def test_user_errors_are_invalid_argument_with_field_violations(pb, env):
    admin_pb2, admin_pb2_grpc, status_pb2, _, _ = pb
    _, channel, keys = env
    users = admin_pb2_grpc.UserServiceStub(channel)
    admin = md(keys["admin"])

    e = rpc_error(users.CreateUser, admin_pb2.CreateUserRequest(user=admin_pb2.User(
        email="not an email", addresses=admin_pb2.ChannelAddresses(discord_user_id="abc")),
        password="short"), metadata=admin)
    assert sorted(violations(e, status_pb2)) == ["addresses.discord_user_id", "email", "password"]

    user = users.CreateUser(admin_pb2.CreateUserRequest(
        user=admin_pb2.User(email=email()), password="a long enough password"), metadata=admin)
    e = rpc_error(users.CreateUser, admin_pb2.CreateUserRequest(user=admin_pb2.User(email=user.email.upper())),
                  metadata=admin)
    assert e.code() == grpc.StatusCode.ALREADY_EXISTS

    e = rpc_error(users.UpdateUser, admin_pb2.UpdateUserRequest(
        user=admin_pb2.User(id=user.id, name="x"), update_mask=mask("name", "colour")), metadata=admin)
    assert violations(e, status_pb2) == ["update_mask.paths"]
    assert '"colour"' in e.details()
    e = rpc_error(users.UpdateUser, admin_pb2.UpdateUserRequest(
        user=admin_pb2.User(id=user.id), update_mask=mask("create_time")), metadata=admin)
    assert violations(e, status_pb2) == ["update_mask.paths"]
    e = rpc_error(users.UpdateUser, admin_pb2.UpdateUserRequest(
        user=admin_pb2.User(id=user.id), update_mask=mask("role")), metadata=admin)
    assert violations(e, status_pb2) == ["role"]
    e = rpc_error(users.UpdateUser, admin_pb2.UpdateUserRequest(
        user=admin_pb2.User(name="no id"), update_mask=mask("name")), metadata=admin)
    assert violations(e, status_pb2) == ["user.id"]
    e = rpc_error(users.ListUsers, admin_pb2.ListUsersRequest(page_size=501), metadata=admin)
    assert violations(e, status_pb2) == ["page_size"]
    e = rpc_error(users.ListUsers, admin_pb2.ListUsersRequest(page_token="garbage"), metadata=admin)
    assert violations(e, status_pb2) == ["page_token"]


def test_preferences_are_replaced_by_mask(pb, env):
    admin_pb2, admin_pb2_grpc, status_pb2, _, _ = pb
    d, channel, keys = env
    users = admin_pb2_grpc.UserServiceStub(channel)
    admin = md(keys["admin"])
    user = users.CreateUser(admin_pb2.CreateUserRequest(user=admin_pb2.User(email=email())), metadata=admin)
    prefs = admin_pb2.UserPreferences(
        opt_out_channels=["email"], opt_out_types=["marketing.*"], min_priority="high",
        time_zone="Europe/Berlin",
        quiet_hours=[admin_pb2.QuietHours(days=["mon", "tue"], start="22:00", end="07:00")])
    got = users.UpdatePreferences(admin_pb2.UpdatePreferencesRequest(user_id=user.id, preferences=prefs),
                                  metadata=admin)
    assert got == prefs
    rest = requests.get(d.base_url + "/api/v1/users/%s/preferences" % user.id,
                        headers={"X-API-Key": keys["viewer"]}).json()
    assert rest["time_zone"] == "Europe/Berlin" and rest["quiet_hours"][0]["start"] == "22:00"

    got = users.UpdatePreferences(admin_pb2.UpdatePreferencesRequest(
        user_id=user.id, preferences=admin_pb2.UserPreferences(time_zone="Asia/Tokyo"),
        update_mask=mask("time_zone")), metadata=admin)
    assert got.time_zone == "Asia/Tokyo" and list(got.opt_out_channels) == ["email"]
    assert got.min_priority == "high" and len(got.quiet_hours) == 1
    # Empty mask: everything, the unset fields back to their defaults.
    got = users.UpdatePreferences(admin_pb2.UpdatePreferencesRequest(
        user_id=user.id, preferences=admin_pb2.UserPreferences(opt_out_types=["x.*"])), metadata=admin)
    assert list(got.opt_out_types) == ["x.*"] and got.time_zone == "UTC" and got.min_priority == "min"
    assert not got.opt_out_channels and not got.quiet_hours

    e = rpc_error(users.UpdatePreferences, admin_pb2.UpdatePreferencesRequest(
        user_id=user.id, preferences=admin_pb2.UserPreferences(time_zone="Mars/Olympus",
                                                                  opt_out_channels=["pigeon"])),
        metadata=admin)
    assert sorted(violations(e, status_pb2)) == ["opt_out_channels[0]", "time_zone"]
    e = rpc_error(users.UpdatePreferences, admin_pb2.UpdatePreferencesRequest(
        user_id=user.id, update_mask=mask("timezone")), metadata=admin)
    assert violations(e, status_pb2) == ["update_mask.paths"]
    e = rpc_error(users.UpdatePreferences, admin_pb2.UpdatePreferencesRequest(user_id=MISSING_ID),
                  metadata=admin)
    assert e.code() == grpc.StatusCode.NOT_FOUND


def test_owners_export_and_erase_users(pb, env):
    admin_pb2, admin_pb2_grpc, _, _, _ = pb
    d, channel, keys = env
    users = admin_pb2_grpc.UserServiceStub(channel)
    address = email()
    user = users.CreateUser(admin_pb2.CreateUserRequest(user=admin_pb2.User(email=address)),
                            metadata=md(keys["admin"]))

    e = rpc_error(users.ExportUser, admin_pb2.ExportUserRequest(id=user.id), metadata=md(keys["admin"]))
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    exported = users.ExportUser(admin_pb2.ExportUserRequest(id=user.id), metadata=md(keys["owner"]))
    data = as_dict(exported.data)
    assert data["user"]["email"] == address and data["user"]["id"] == user.id

    e = rpc_error(users.EraseUser, admin_pb2.EraseUserRequest(id=user.id), metadata=md(keys["admin"]))
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    users.EraseUser(admin_pb2.EraseUserRequest(id=user.id), metadata=md(keys["owner"]))
    for call, req in ((users.GetUser, admin_pb2.GetUserRequest(id=user.id)),
                      (users.ExportUser, admin_pb2.ExportUserRequest(id=user.id)),
                      (users.EraseUser, admin_pb2.EraseUserRequest(id=user.id))):
        assert rpc_error(call, req, metadata=md(keys["owner"])).code() == grpc.StatusCode.NOT_FOUND

    # Both are audited, with the user as the target.
    r = requests.get(d.base_url + "/api/v1/audit", headers={"X-API-Key": keys["owner"]},
                     params={"target": user.id})
    assert r.status_code == 200, r.text
    actions = [rec["action"] for rec in r.json()["records"]]
    assert "user.export" in actions and "user.erase" in actions and "user.create" in actions


def test_users_of_other_tenants_are_not_found_and_roles_are_enforced(pb, env):
    admin_pb2, admin_pb2_grpc, _, _, _ = pb
    _, channel, keys = env
    users = admin_pb2_grpc.UserServiceStub(channel)
    user = users.CreateUser(admin_pb2.CreateUserRequest(user=admin_pb2.User(email=email())),
                            metadata=md(keys["admin"]))
    other = md(keys["other"])
    for call, req in (
            (users.GetUser, admin_pb2.GetUserRequest(id=user.id)),
            (users.UpdateUser, admin_pb2.UpdateUserRequest(user=admin_pb2.User(id=user.id, name="x"),
                                                           update_mask=mask("name"))),
            (users.DeleteUser, admin_pb2.DeleteUserRequest(id=user.id)),
            (users.UpdatePreferences, admin_pb2.UpdatePreferencesRequest(user_id=user.id)),
            (users.ExportUser, admin_pb2.ExportUserRequest(id=user.id)),
            (users.EraseUser, admin_pb2.EraseUserRequest(id=user.id))):
        assert rpc_error(call, req, metadata=other).code() == grpc.StatusCode.NOT_FOUND, call
    assert user.id not in [u.id for u in users.ListUsers(admin_pb2.ListUsersRequest(page_size=500),
                                                         metadata=other).users]
    assert users.GetUser(admin_pb2.GetUserRequest(id=user.id), metadata=md(keys["viewer"])).name == ""

    # Viewers and members read; admins manage, but not above themselves.
    for role in ("viewer", "member"):
        e = rpc_error(users.CreateUser, admin_pb2.CreateUserRequest(user=admin_pb2.User(email=email())),
                      metadata=md(keys[role]))
        assert e.code() == grpc.StatusCode.PERMISSION_DENIED
        e = rpc_error(users.DeleteUser, admin_pb2.DeleteUserRequest(id=user.id), metadata=md(keys[role]))
        assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = rpc_error(users.CreateUser, admin_pb2.CreateUserRequest(
        user=admin_pb2.User(email=email(), role=admin_pb2.ROLE_OWNER)), metadata=md(keys["admin"]))
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = rpc_error(users.UpdateUser, admin_pb2.UpdateUserRequest(
        user=admin_pb2.User(id=user.id, role=admin_pb2.ROLE_OWNER), update_mask=mask("role")),
        metadata=md(keys["admin"]))
    assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    e = rpc_error(users.GetUser, admin_pb2.GetUserRequest(id=user.id))
    assert e.code() == grpc.StatusCode.UNAUTHENTICATED


# --- RuleService ---------------------------------------------------------------


def evaluate_rest(d, key, notification):
    r = requests.post(d.base_url + "/api/v1/rules/evaluate", headers={"X-API-Key": key},
                      json=notification)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_rule_created_over_grpc_routes_as_rest_evaluates(pb, env):
    admin_pb2, admin_pb2_grpc, _, _, _ = pb
    d, channel, keys = env
    rules = admin_pb2_grpc.RuleServiceStub(channel)
    t = unique("deploy")
    notification = {"type": t + ".prod", "title": "v2 is live", "priority": "high"}

    before = evaluate_rest(d, keys["viewer"], notification)
    assert before["suppressed"] is False and before["evaluation"]["matched_rules"] == []

    rule = rules.CreateRule(admin_pb2.CreateRuleRequest(rule=admin_pb2.NotificationRule(
        name="quiet " + t, enabled=True, position=5,
        match=struct({"type": t + ".*", "min_priority": "high"}),
        actions=struct({"suppress": True}))), metadata=md(keys["admin"]))
    assert as_dict(rule.match) == {"type": t + ".*", "min_priority": "high"}
    assert as_dict(rule.actions) == {"suppress": True}

    # At once, the REST dry run and EvaluateRule agree that it suppresses.
    after = evaluate_rest(d, keys["viewer"], notification)
    assert after["suppressed"] is True
    assert [m["id"] for m in after["evaluation"]["matched_rules"]] == [rule.id]
    plan = rules.EvaluateRule(admin_pb2.EvaluateRuleRequest(notification=struct(notification)),
                              metadata=md(keys["viewer"]))
    assert list(plan.matched_rule_ids) == [rule.id]
    assert as_dict(plan.plan) == after

    # Disabled by mask, it routes nothing; deleted, it is gone from both.
    rules.UpdateRule(admin_pb2.UpdateRuleRequest(rule=admin_pb2.NotificationRule(id=rule.id, enabled=False),
                                                 update_mask=mask("enabled")), metadata=md(keys["admin"]))
    assert evaluate_rest(d, keys["viewer"], notification)["suppressed"] is False
    assert list(rules.EvaluateRule(admin_pb2.EvaluateRuleRequest(notification=struct(notification)),
                                   metadata=md(keys["viewer"])).matched_rule_ids) == []
    rules.DeleteRule(admin_pb2.DeleteRuleRequest(id=rule.id), metadata=md(keys["admin"]))
    r = requests.get(d.base_url + "/api/v1/rules/" + rule.id, headers={"X-API-Key": keys["viewer"]})
    assert r.status_code == 404


def test_rules_are_read_updated_by_mask_and_listed_in_order(pb, env):
    admin_pb2, admin_pb2_grpc, _, _, _ = pb
    d, channel, keys = env
    rules = admin_pb2_grpc.RuleServiceStub(channel)
    admin = md(keys["admin"])
    t = unique("order")
    created = [rules.CreateRule(admin_pb2.CreateRuleRequest(rule=admin_pb2.NotificationRule(
        name="%s %d" % (t, p), enabled=True, position=p, match=struct({"type": t}),
        actions=struct({"route": {"channels": ["slack"]}}))), metadata=admin) for p in (300, 100, 200)]

    got = rules.GetRule(admin_pb2.GetRuleRequest(id=created[0].id), metadata=md(keys["viewer"]))
    assert got == created[0]
    r = requests.get(d.base_url + "/api/v1/rules/" + created[0].id, headers={"X-API-Key": keys["viewer"]})
    assert r.json()["actions"] == {"route": {"channels": ["slack"]}}

    updated = rules.UpdateRule(admin_pb2.UpdateRuleRequest(
        rule=admin_pb2.NotificationRule(id=created[0].id, name="renamed", position=1),
        update_mask=mask("name", "continue")), metadata=admin)
    assert updated.name == "renamed" and updated.position == 300 and updated.enabled
    assert as_dict(updated.match) == {"type": t}
    assert updated.update_time.ToNanoseconds() >= created[0].update_time.ToNanoseconds()
    # No mask: all six fields.
    updated = rules.UpdateRule(admin_pb2.UpdateRuleRequest(rule=admin_pb2.NotificationRule(
        id=created[0].id, name="whole", position=400, actions=struct({"delay_s": 60}))), metadata=admin)
    assert (updated.name, updated.position, updated.enabled) == ("whole", 400, False)
    assert as_dict(updated.match) == {} and as_dict(updated.actions) == {"delay_s": 60}
    assert requests.get(d.base_url + "/api/v1/rules/" + created[0].id,
                        headers={"X-API-Key": keys["viewer"]}).json()["position"] == 400

    # Evaluation order (position, then id), page by page.
    ours = {c.id for c in created}
    listed, token = [], ""
    while True:
        page = rules.ListRules(admin_pb2.ListRulesRequest(page_size=2, page_token=token),
                               metadata=md(keys["viewer"]))
        assert len(page.rules) <= 2
        listed += [(r.position, r.id) for r in page.rules]
        token = page.next_page_token
        if not token:
            break
    assert listed == sorted(listed)
    assert [i for _, i in listed if i in ours] == [created[1].id, created[2].id, created[0].id]
    rest = requests.get(d.base_url + "/api/v1/rules", headers={"X-API-Key": keys["viewer"]}).json()
    assert [r["id"] for r in rest["rules"]] == [i for _, i in listed]

    for c in created:
        rules.DeleteRule(admin_pb2.DeleteRuleRequest(id=c.id), metadata=admin)


def test_rule_errors_codes_and_tenancy(pb, env):
    admin_pb2, admin_pb2_grpc, status_pb2, _, _ = pb
    _, channel, keys = env
    rules = admin_pb2_grpc.RuleServiceStub(channel)
    admin = md(keys["admin"])

    e = rpc_error(rules.CreateRule, admin_pb2.CreateRuleRequest(rule=admin_pb2.NotificationRule(
        match=struct({"tags": [{"key": "env", "op": "~", "value": "x"}]}),
        actions=struct({"throttle": {"window_s": 60}}))), metadata=admin)
    assert sorted(violations(e, status_pb2)) == ["actions.throttle.limit", "match.tags[0].op", "name"]

    rule = rules.CreateRule(admin_pb2.CreateRuleRequest(rule=admin_pb2.NotificationRule(
        name=unique("r"), enabled=True, match=struct({"type": unique("nothing")}))), metadata=admin)
    e = rpc_error(rules.UpdateRule, admin_pb2.UpdateRuleRequest(
        rule=admin_pb2.NotificationRule(id=rule.id), update_mask=mask("priority")), metadata=admin)
    assert violations(e, status_pb2) == ["update_mask.paths"] and '"priority"' in e.details()
    e = rpc_error(rules.UpdateRule, admin_pb2.UpdateRuleRequest(
        rule=admin_pb2.NotificationRule(id=rule.id), update_mask=mask("name")), metadata=admin)
    assert violations(e, status_pb2) == ["name"]
    e = rpc_error(rules.ListRules, admin_pb2.ListRulesRequest(page_token="nope"), metadata=admin)
    assert violations(e, status_pb2) == ["page_token"]
    e = rpc_error(rules.EvaluateRule, admin_pb2.EvaluateRuleRequest(
        notification=struct({"title": "no type", "priority": "urgent"})), metadata=admin)
    assert sorted(violations(e, status_pb2)) == ["priority", "type"]
    e = rpc_error(rules.GetRule, admin_pb2.GetRuleRequest(), metadata=admin)
    assert violations(e, status_pb2) == ["id"]

    # Another tenant's rule is NOT_FOUND, as is an id that does not exist.
    other = md(keys["other"])
    for call, req in (
            (rules.GetRule, admin_pb2.GetRuleRequest(id=rule.id)),
            (rules.UpdateRule, admin_pb2.UpdateRuleRequest(rule=admin_pb2.NotificationRule(id=rule.id, name="x"),
                                                           update_mask=mask("name"))),
            (rules.DeleteRule, admin_pb2.DeleteRuleRequest(id=rule.id))):
        assert rpc_error(call, req, metadata=other).code() == grpc.StatusCode.NOT_FOUND
    assert rpc_error(rules.GetRule, admin_pb2.GetRuleRequest(id=MISSING_ID),
                     metadata=admin).code() == grpc.StatusCode.NOT_FOUND
    assert rule.id not in [r.id for r in rules.ListRules(admin_pb2.ListRulesRequest(), metadata=other).rules]

    # Viewers and members read and dry-run; only admins and owners manage.
    for role in ("viewer", "member"):
        key = md(keys[role])
        assert rules.GetRule(admin_pb2.GetRuleRequest(id=rule.id), metadata=key).id == rule.id
        e = rpc_error(rules.CreateRule, admin_pb2.CreateRuleRequest(
            rule=admin_pb2.NotificationRule(name="x")), metadata=key)
        assert e.code() == grpc.StatusCode.PERMISSION_DENIED
        e = rpc_error(rules.DeleteRule, admin_pb2.DeleteRuleRequest(id=rule.id), metadata=key)
        assert e.code() == grpc.StatusCode.PERMISSION_DENIED
    rules.DeleteRule(admin_pb2.DeleteRuleRequest(id=rule.id), metadata=md(keys["owner"]))
    assert rpc_error(rules.DeleteRule, admin_pb2.DeleteRuleRequest(id=rule.id),
                     metadata=admin).code() == grpc.StatusCode.NOT_FOUND


def test_the_services_are_listed_by_reflection(pb, env):
    _, _, _, reflection_pb2, reflection_pb2_grpc = pb
    _, channel, _ = env
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = [s.name for r in responses for s in r.list_services_response.service]
    assert "alerthub.admin.v1.UserService" in names and "alerthub.admin.v1.RuleService" in names
