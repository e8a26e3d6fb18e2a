"""API keys and tenant isolation (docs/api.md, "Authentication"). Extra
tenants and keys are written straight into the daemon's SQLite file, as an
admin API would."""

import json
import time

from alerthub_e2e import (KEY_CACHE_TTL_S, Api, assert_problem, create_api_key,
                          default_tenant_id, revoke_api_key, unique)


def test_second_tenant_cannot_see_the_firsts_notifications(api, other_tenant, module_daemon):
    b_tenant, b = other_tenant
    secret_type, secret_title = unique("secret.type"), "top secret title " + unique("t")
    a_id = api.submit_ok({"type": secret_type, "title": secret_title,
                          "tags": {"who": "tenant-a"}})

    for suffix in ("", "/events"):
        r = b.get("/api/v1/notifications/" + a_id + suffix)
        body = assert_problem(r, 404, "not-found", "Not Found", "no notification " + a_id)
        # Exactly what a notification that never existed answers: nothing leaks.
        assert set(body) == {"type", "title", "status", "detail"}
        text = r.text
        for leak in (secret_type, secret_title, "tenant-a",
                     default_tenant_id(module_daemon.data_dir)):
            assert leak not in text
        never = a_id[:-4] + ("0000" if not a_id.endswith("0000") else "1111")
        r2 = b.get("/api/v1/notifications/" + never + suffix)
        assert r2.json()["detail"].replace(never, a_id) == body["detail"]
        assert r2.status_code == r.status_code

    # Lists are per tenant.
    assert b.list(type=secret_type).json() == {"notifications": []}
    b_id = b.submit_ok({"type": secret_type, "title": "b's own"})
    listed = b.list(type=secret_type).json()["notifications"]
    assert [n["id"] for n in listed] == [b_id]
    assert listed[0]["tenant_id"] == b_tenant
    assert [n["id"] for n in api.list(type=secret_type).json()["notifications"]] == [a_id]
    # And the owner still reads its own.
    assert api.get("/api/v1/notifications/" + a_id).status_code == 200
    assert_problem(api.get("/api/v1/notifications/" + b_id), 404, "not-found", "Not Found",
                   "no notification " + b_id)


def test_dedup_is_per_tenant(api, other_tenant):
    _, b = other_tenant
    key = unique("shared-key")
    n = {"type": unique("dedup.tenant"), "title": "same content"}
    a1 = api.submit(dict(n, dedup_key=key))
    b1 = b.submit(dict(n, dedup_key=key))
    assert (a1.status_code, b1.status_code) == (202, 202)
    assert a1.json()["id"] != b1.json()["id"]
    # Identical content (no key) is a duplicate only within a tenant.
    assert api.submit(n).status_code == 202
    assert b.submit(n).status_code == 202
    assert b.submit(n).status_code == 200


def test_the_tenant_is_the_keys_never_the_bodys(api, other_tenant):
    b_tenant, b = other_tenant
    r = api.submit({"type": "a", "tenant_id": b_tenant})
    assert_problem(r, 422, "validation", "Unprocessable Content",
                   "invalid notification: tenant_id: is assigned by AlertHub and cannot be set",
                   [("tenant_id", "is assigned by AlertHub and cannot be set")])


def test_x_api_key_takes_precedence_over_authorization(api, other_tenant):
    b_tenant, b = other_tenant
    nid = b.submit_ok({"type": unique("precedence")})
    r = api.get("/api/v1/notifications/" + nid, key=False,
                headers={"X-API-Key": b.api_key, "Authorization": "Bearer " + api.api_key})
    assert r.status_code == 200 and r.json()["tenant_id"] == b_tenant


def test_a_new_key_of_the_same_tenant_works(api, module_daemon):
    token, _ = create_api_key(module_daemon.data_dir, default_tenant_id(module_daemon.data_dir),
                              name="second key", role=3)
    other = Api(module_daemon.base_url, token)
    nid = api.submit_ok({"type": unique("samekey")})
    assert other.get("/api/v1/notifications/" + nid).status_code == 200


def test_revoked_key_that_was_never_used_is_401_at_once(module_daemon):
    token, _ = create_api_key(module_daemon.data_dir, default_tenant_id(module_daemon.data_dir),
                              revoked=True)
    k = Api(module_daemon.base_url, token)
    for r in (k.list(), k.submit({"type": "a"})):
        assert_problem(r, 401, "unauthenticated", "Unauthorized", "API key revoked")


def test_revoked_key_is_401_once_the_cache_expires(module_daemon, other_tenant):
    b_tenant, _ = other_tenant
    token, _ = create_api_key(module_daemon.data_dir, b_tenant, name="to revoke")
    k = Api(module_daemon.base_url, token)
    assert k.list().status_code == 200  # verified, now cached
    revoke_api_key(module_daemon.data_dir, token)
    time.sleep(KEY_CACHE_TTL_S + 0.3)
    for r in (k.list(), k.submit({"type": "a"}),
              k.get("/api/v1/notifications/01a21b4f-e70c-7760-b0d0-c71c9833a5d0")):
        body = assert_problem(r, 401, "unauthenticated", "Unauthorized", "API key revoked")
        assert token not in json.dumps(body)
    # Other keys of the tenant are unaffected.
    _, still = other_tenant
    assert still.list().status_code == 200
