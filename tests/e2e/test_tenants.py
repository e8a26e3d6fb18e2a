"""TenantService (docs/api.md, "Tenants") over REST and gRPC against the
all-in-one daemon: the bootstrap tenant's owner key is a platform operator
that creates, lists, updates and deletes tenants; every other credential
sees only its own tenant."""

import os
import subprocess
import sys

import pytest
import requests

from alerthub_e2e import Api, DaemonFactory, assert_problem, unique

grpc = pytest.importorskip("grpc")

MISSING_ID = "0193a000-0000-7000-8000-000000000001"


@pytest.fixture(scope="module")
def tenants_daemon(tmp_path_factory):
    f = DaemonFactory(os.environ["ALERTHUB_BIN"], tmp_path_factory, "tenants")
    d = f("--deliver=false", "--grpc_port=0")
    channel = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port())
    yield d, channel
    channel.close()
    f.close()


def name():
    return unique("t").replace(".", "-")


def create(d, tenant_name, key=None):
    return requests.post(d.base_url + "/api/v1/tenants", headers={"X-API-Key": key or d.api_key},
                         json={"name": tenant_name, "settings": {"rate_limit_per_second": 50}})


def test_operator_creates_a_tenant_whose_owner_sees_only_itself(tenants_daemon):
    d, _ = tenants_daemon
    operator = {"X-API-Key": d.api_key}
    bootstrap = requests.get(d.base_url + "/api/v1/tenants", headers=operator)
    assert bootstrap.status_code == 200, bootstrap.text
    default_id = [t["id"] for t in bootstrap.json()["tenants"] if t["name"] == "default"][0]

    tenant_name = name()
    r = create(d, tenant_name)
    assert r.status_code == 201, r.text
    body = r.json()
    tenant, owner_key = body["tenant"], body["owner_api_key"]
    assert owner_key.startswith("ahk_")
    assert tenant["name"] == tenant_name
    assert tenant["settings"]["rate_limit_per_second"] == 50
    assert tenant["create_time"].endswith("Z")

    # The owner key works on the new tenant's notification routes...
    new = Api(d.base_url, owner_key)
    t = unique()
    nid = new.submit_ok({"type": t, "title": "first of the new tenant"})
    assert [n["id"] for n in new.list(type=t).json()["notifications"]] == [nid]
    # ...and the operator's tenant does not see it.
    assert Api(d.base_url, d.api_key).list(type=t).json()["notifications"] == []

    # It reads its own tenant, not others: 404, not 403.
    own = {"X-API-Key": owner_key}
    r = requests.get(d.base_url + "/api/v1/tenants/" + tenant["id"], headers=own)
    assert r.status_code == 200 and r.json()["name"] == tenant_name, r.text
    assert_problem(requests.get(d.base_url + "/api/v1/tenants/" + default_id, headers=own),
                   404, "not-found")
    assert_problem(requests.get(d.base_url + "/api/v1/tenants", headers=own), 403, "forbidden")
    assert_problem(create(d, name(), key=owner_key), 403, "forbidden")
    assert_problem(requests.delete(d.base_url + "/api/v1/tenants/" + default_id, headers=own),
                   403, "forbidden")

    # The operator lists it, page by page.
    seen, token = [], ""
    while True:
        r = requests.get(d.base_url + "/api/v1/tenants", headers=operator,
                         params={"page_size": "1", "page_token": token})
        assert r.status_code == 200, r.text
        seen += [x["id"] for x in r.json()["tenants"]]
        token = r.json().get("next_page_token", "")
        if not token:
            break
    assert tenant["id"] in seen and default_id in seen and seen == sorted(seen)


def test_owners_update_their_tenant_with_a_field_mask(tenants_daemon):
    d, _ = tenants_daemon
    body = create(d, name()).json()
    tid, own = body["tenant"]["id"], {"X-API-Key": body["owner_api_key"]}
    url = d.base_url + "/api/v1/tenants/" + tid

    r = requests.patch(url, headers=own, params={"update_mask": "settings.rate_limit_burst"},
                       json={"name": "ignored-not-in-mask", "settings": {"rate_limit_burst": 80}})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == body["tenant"]["name"]
    assert r.json()["settings"]["rate_limit_burst"] == 80
    assert r.json()["settings"]["rate_limit_per_second"] == 50  # kept

    assert_problem(requests.patch(url, headers=own, params={"update_mask": "colour"},
                                  json={"name": "x"}), 422, "validation",
                   errors=[("update_mask.paths",
                            "\"colour\" is not a field of Tenant that can be updated")])
    r = requests.patch(url, headers=own, params={"update_mask": "settings"},
                       json={"settings": {"rate_limit_per_second": -1}})
    assert_problem(r, 422, "validation", errors=[("settings.rate_limit_per_second",
                                    "must be a finite number, 0 or more")])

    # An admin of the tenant may read it but not change it.
    admin_key = requests.post(d.base_url + "/api/v1/api-keys", headers=own,
                              json={"name": "a", "role": "ROLE_ADMIN"}).json()["plaintext"]
    r = requests.get(url, headers={"X-API-Key": admin_key})
    assert r.status_code == 200, r.text
    assert_problem(requests.patch(url, headers={"X-API-Key": admin_key}, json={"name": "y"}),
                   403, "forbidden")


def test_members_of_the_bootstrap_tenant_are_not_operators(tenants_daemon):
    d, _ = tenants_daemon
    member = requests.post(d.base_url + "/api/v1/api-keys", headers={"X-API-Key": d.api_key},
                           json={"name": "m", "role": "ROLE_MEMBER"}).json()["plaintext"]
    assert_problem(create(d, name(), key=member), 403, "forbidden")
    assert_problem(requests.get(d.base_url + "/api/v1/tenants",
                                headers={"X-API-Key": member}), 403, "forbidden")
    assert_problem(requests.get(d.base_url + "/api/v1/tenants"), 401, "unauthenticated")


def test_deleting_a_tenant_revokes_its_keys_and_keeps_its_name(tenants_daemon):
    d, _ = tenants_daemon
    operator = {"X-API-Key": d.api_key}
    tenant_name = name()
    body = create(d, tenant_name).json()
    tid, owner_key = body["tenant"]["id"], body["owner_api_key"]
    Api(d.base_url, owner_key).submit_ok({"type": unique(), "title": "accepted before delete"})

    r = requests.delete(d.base_url + "/api/v1/tenants/" + tid, headers=operator)
    assert r.status_code == 204, r.text
    # Revoked in the same transaction; this process drops its cache entry.
    r = requests.get(d.base_url + "/api/v1/notifications", headers={"X-API-Key": owner_key})
    assert r.status_code == 401, r.text
    tenant_url = d.base_url + "/api/v1/tenants/" + tid
    assert_problem(requests.get(tenant_url, headers=operator), 404, "not-found")
    assert_problem(requests.delete(tenant_url, headers=operator), 404, "not-found")
    r = create(d, tenant_name)
    assert r.status_code == 409, r.text

    default_id = [t["id"] for t in requests.get(d.base_url + "/api/v1/tenants", headers=operator)
                  .json()["tenants"] if t["name"] == "default"][0]
    assert_problem(requests.delete(d.base_url + "/api/v1/tenants/" + default_id,
                                   headers=operator), 409, "conflict")
    r = create(d, "Not A Name")
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["name"]


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = tmp_path_factory.mktemp("tenant_stubs")
    subprocess.run(
        ["protoc", "--proto_path=" + root, "--proto_path=/usr/include",
         "--python_out=%s" % out, "--grpc_out=%s" % out,
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
         "alerthub/proto/admin.proto"], check=True)
    sys.path.insert(0, str(out))
    try:
        from alerthub.proto import admin_pb2, admin_pb2_grpc
    finally:
        sys.path.remove(str(out))
    return admin_pb2, admin_pb2_grpc


def test_the_same_over_grpc(pb, tenants_daemon):
    admin_pb2, admin_pb2_grpc = pb
    d, channel = tenants_daemon
    stub = admin_pb2_grpc.TenantServiceStub(channel)
    op = (("x-api-key", d.api_key),)

    created = stub.CreateTenant(admin_pb2.CreateTenantRequest(name=name()), metadata=op)
    assert created.owner_api_key.startswith("ahk_")
    own = (("x-api-key", created.owner_api_key),)
    assert stub.GetTenant(admin_pb2.GetTenantRequest(id=created.tenant.id),
                          metadata=own).name == created.tenant.name

    listed = stub.ListTenants(admin_pb2.ListTenantsRequest(page_size=500), metadata=op)
    assert created.tenant.id in [t.id for t in listed.tenants]
    default_id = [t.id for t in listed.tenants if t.name == "default"][0]

    for call, request, code in [
            (stub.ListTenants, admin_pb2.ListTenantsRequest(), grpc.StatusCode.PERMISSION_DENIED),
            (stub.GetTenant, admin_pb2.GetTenantRequest(id=default_id), grpc.StatusCode.NOT_FOUND),
            (stub.CreateTenant, admin_pb2.CreateTenantRequest(name=name()),
             grpc.StatusCode.PERMISSION_DENIED)]:
        with pytest.raises(grpc.RpcError) as e:
            call(request, metadata=own)
        assert e.value.code() == code

    renamed = name()
    req = admin_pb2.UpdateTenantRequest(tenant=admin_pb2.Tenant(id=created.tenant.id, name=renamed))
    req.update_mask.paths.append("name")
    assert stub.UpdateTenant(req, metadata=own).name == renamed
    req.update_mask.paths.append("owner")
    with pytest.raises(grpc.RpcError) as e:
        stub.UpdateTenant(req, metadata=own)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "owner" in e.value.details()

    stub.DeleteTenant(admin_pb2.DeleteTenantRequest(id=created.tenant.id), metadata=op)
    with pytest.raises(grpc.RpcError) as e:
        stub.GetTenant(admin_pb2.GetTenantRequest(id=created.tenant.id), metadata=op)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as e:
        stub.GetTenant(admin_pb2.GetTenantRequest(id=MISSING_ID), metadata=own)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED  # its key was revoked
