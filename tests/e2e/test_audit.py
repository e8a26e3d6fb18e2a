"""The audit log (docs/api.md, "Audit log"): every change made through the
REST and gRPC admin surfaces leaves one record — actor, action, target,
time, request id and a redacted before/after summary — written in the
change's own transaction; GET /api/v1/audit and AuditService list them."""

import datetime
import os
import re
import sqlite3
import uuid

import pytest
import requests

from alerthub_e2e import Api, DaemonFactory, assert_problem, unique
from test_admin_grpc import pb  # noqa: F401  (the generated stubs, a fixture)

grpc = pytest.importorskip("grpc")


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    f = DaemonFactory(os.environ["ALERTHUB_BIN"], tmp_path_factory, "audit")
    d = f("--grpc_port=0")
    channel = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port())
    yield d, channel
    channel.close()
    f.close()


def key_of_role(api, role):
    r = api.post("/api/v1/api-keys", json={"name": unique("k"), "role": "ROLE_" + role.upper()})
    assert r.status_code == 201, r.text
    return r.json()["plaintext"], r.json()["api_key"]["id"]


def records(api, **params):
    r = api.get("/api/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json().get("records", [])


def test_each_change_leaves_one_record_with_its_request_id(audited):
    d, _ = audited
    owner = Api(d.base_url, d.api_key)
    admin_key, admin_key_id = key_of_role(owner, "admin")
    api = Api(d.base_url, admin_key)
    actor = "apikey:" + admin_key_id

    def call(method, path, request_id, **kw):
        r = api.request(method, path, headers={"X-Request-Id": request_id}, **kw)
        assert r.status_code < 300, r.text
        return r

    rid = lambda: str(uuid.uuid4())  # noqa: E731
    ids = {}
    steps = []  # (action, target key, request id)

    r_id = rid()
    hook = call("POST", "/api/v1/integrations", r_id, json={
        "name": unique("hook"), "channel": "webhook",
        "config": {"url": "https://hooks.example.com/x", "secret": "whsec_" + "A" * 32}}).json()
    ids["hook"] = hook["id"]
    steps.append(("integration.create", "hook", r_id))
    r_id = rid()
    call("PATCH", "/api/v1/integrations/" + hook["id"], r_id, json={"name": "renamed"})
    steps.append(("integration.update", "hook", r_id))

    r_id = rid()
    rule = call("POST", "/api/v1/rules", r_id, json={
        "name": unique("rule"), "match": {"type": "audit.*"}, "actions": {"suppress": True}}).json()
    ids["rule"] = rule["id"]
    steps.append(("rule.create", "rule", r_id))
    r_id = rid()
    call("PATCH", "/api/v1/rules/" + rule["id"], r_id, json={"enabled": False})
    steps.append(("rule.update", "rule", r_id))

    email = unique("person").replace(".", "-") + "@example.com"
    r_id = rid()
    user = call("POST", "/api/v1/users", r_id, json={
        "email": email, "name": "Ada Lovelace", "role": "member",
        "password": "correct horse battery staple"}).json()
    ids["user"] = user["id"]
    steps.append(("user.create", "user", r_id))
    steps.append(("user.set_password", "user", r_id))
    r_id = rid()
    call("PUT", "/api/v1/users/%s/preferences" % user["id"], r_id,
         json={"opt_out_channels": ["push"]})
    steps.append(("preferences.update", "user", r_id))

    r_id = rid()
    call("DELETE", "/api/v1/rules/" + rule["id"], r_id)
    steps.append(("rule.delete", "rule", r_id))

    # A failed change leaves nothing: an invalid patch, an unknown id.
    bad = api.request("PATCH", "/api/v1/integrations/" + hook["id"], json={"retry": "often"})
    assert bad.status_code in (400, 422), bad.text
    missing = api.request("DELETE", "/api/v1/rules/" + rule["id"])
    assert missing.status_code == 404, missing.text

    mine = [r for r in records(api, actor=actor, page_size=100)]
    got = [(r["action"], r["target"], r["request_id"]) for r in reversed(mine)]
    want = [(a, ids[k], r) for a, k, r in steps]
    assert got == want

    by_action = {r["action"]: r for r in mine}
    for r in mine:
        assert r["actor"] == actor and r["tenant_id"]
        when = datetime.datetime.fromisoformat(r["time"].replace("Z", "+00:00"))
        assert abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 120
    # Summaries: secrets redacted, personal data named but not shown.
    created_hook = by_action["integration.create"]
    assert "before" not in created_hook
    assert created_hook["after"]["config"]["secret"] == "[redacted]"
    assert by_action["integration.update"]["before"]["name"] == hook["name"]
    assert by_action["integration.update"]["after"]["name"] == "renamed"
    assert by_action["rule.update"]["before"]["enabled"] is True
    assert by_action["rule.update"]["after"]["enabled"] is False
    assert "after" not in by_action["rule.delete"]
    user_record = by_action["user.create"]["after"]
    assert user_record["role"] == "member" and user_record["email"] == "[personal data]"
    everything = str(mine)
    for secret in (email, "Ada Lovelace", "whsec_" + "A" * 32, "correct horse battery staple",
                   admin_key):
        assert secret not in everything


def test_filters_and_pages(audited):
    d, _ = audited
    api = Api(d.base_url, d.api_key)
    rules = []
    for _ in range(3):
        r = api.post("/api/v1/rules", json={"name": unique("rule"), "match": {"type": "f.*"},
                                            "actions": {"suppress": True}})
        assert r.status_code == 201, r.text
        rules.append(r.json()["id"])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    for rid in rules:
        assert api.request("DELETE", "/api/v1/rules/" + rid).status_code == 204

    deletes = records(api, action="rule.delete", page_size=500)
    assert set(rules) <= {r["target"] for r in deletes}
    assert all(r["action"] == "rule.delete" for r in deletes)
    prefixed = records(api, action="rule.", page_size=500)
    assert {r["action"] for r in prefixed} <= {"rule.create", "rule.update", "rule.delete"}
    assert [r["action"] for r in records(api, target=rules[1])] == ["rule.delete", "rule.create"]
    window = records(api, target=rules[0], start=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     end="2099-01-01T00:00:00Z")
    assert len(window) == 2
    assert records(api, target=rules[0], end=start.strftime("%Y-%m-%dT%H:%M:%SZ")) == []

    # Newest first, page by page, nothing twice.
    seen, token = [], ""
    while True:
        r = api.get("/api/v1/audit", params={"action": "rule.", "page_size": 2,
                                              "page_token": token})
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [x["id"] for x in page.get("records", [])]
        token = page.get("next_page_token", "")
        if not token:
            break
    assert seen == [r["id"] for r in prefixed]
    assert seen == sorted(seen, reverse=True)

    assert_problem(api.get("/api/v1/audit", params={"page_size": 501}), 400, "invalid-parameter",
                   errors=[("page_size", "must be 0-500")])
    assert_problem(api.get("/api/v1/audit", params={"page_size": "x"}), 400, "invalid-parameter",
                   errors=[("page_size", "must be a number")])
    assert_problem(api.get("/api/v1/audit", params={"start": "yesterday"}), 400, "invalid-parameter",
                   errors=[("range.start", "must be an RFC 3339 time (2026-01-01T00:00:00Z)")])
    assert_problem(api.get("/api/v1/audit", params={"color": "red"}), 400, "invalid-parameter",
                   errors=[("color", "unknown query parameter")])


def test_only_admins_and_owners_read_the_log_of_their_own_tenant(audited):
    d, _ = audited
    owner = Api(d.base_url, d.api_key)
    for role in ("viewer", "member"):
        key, _ = key_of_role(owner, role)
        assert_problem(Api(d.base_url, key).get("/api/v1/audit"), 403, "forbidden")
    assert_problem(Api(d.base_url, None).get("/api/v1/audit"), 401, "unauthenticated")
    admin_key, _ = key_of_role(owner, "admin")
    assert records(Api(d.base_url, admin_key))

    # A new tenant's log starts empty, and its creation is in the operator's.
    r = owner.post("/api/v1/tenants", json={"name": unique("t").replace(".", "-")})
    assert r.status_code == 201, r.text
    tenant_id, new_key = r.json()["tenant"]["id"], r.json()["owner_api_key"]
    assert records(Api(d.base_url, new_key)) == []
    created = records(owner, action="tenant.create", target=tenant_id)
    assert len(created) == 1 and created[0]["after"]["name"] == r.json()["tenant"]["name"]


def test_grpc_changes_are_recorded_and_listed(pb, audited):  # noqa: F811
    admin_pb2, admin_pb2_grpc, _, _, _ = pb
    d, channel = audited
    md = (("x-api-key", d.api_key), ("x-request-id", "grpc-req-0001"))
    keys = admin_pb2_grpc.ApiKeyServiceStub(channel)
    created = keys.CreateApiKey(admin_pb2.CreateApiKeyRequest(name="ci", role=admin_pb2.ROLE_MEMBER),
                                metadata=md)
    keys.RevokeApiKey(admin_pb2.RevokeApiKeyRequest(id=created.api_key.id), metadata=md)

    audit = admin_pb2_grpc.AuditServiceStub(channel)
    listed = audit.ListAuditRecords(
        admin_pb2.ListAuditRecordsRequest(target=created.api_key.id), metadata=md)
    assert [(r.action, r.request_id) for r in listed.records] == [
        ("api_key.revoke", "grpc-req-0001"), ("api_key.create", "grpc-req-0001")]
    revoke = listed.records[0]
    assert revoke.before.fields["name"].string_value == "ci"
    assert "revoked_at" in revoke.after.fields and "revoked_at" not in revoke.before.fields
    assert created.plaintext not in str(listed)

    with pytest.raises(grpc.RpcError) as e:
        audit.ListAuditRecords(admin_pb2.ListAuditRecordsRequest(page_size=501), metadata=md)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    member_key, _ = key_of_role(Api(d.base_url, d.api_key), "member")
    with pytest.raises(grpc.RpcError) as e:
        audit.ListAuditRecords(admin_pb2.ListAuditRecordsRequest(),
                               metadata=(("x-api-key", member_key),))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_database_holds_no_secret_in_the_log(audited):
    d, _ = audited
    db = sqlite3.connect(os.path.join(d.data_dir, "alerthub.db"))
    try:
        docs = [row[0] for row in db.execute("SELECT doc FROM audit_log")]
    finally:
        db.close()
    assert docs
    text = "\n".join(docs)
    # Key prefixes ("ahk_y5ubaqLY") identify keys; whole keys never appear.
    assert not re.search(r"ahk_[0-9A-Za-z]{30,}", text)
    assert "$argon2" not in text and "whsec_" not in text
