"""The admin API over gRPC, driven by Python grpcio with stubs generated at
test time from alerthub/proto/admin.proto (protoc + grpc_python_plugin), and
by server reflection (grpc/reflection/v1alpha from Debian's grpc-proto)."""

import os
import subprocess
import sys

import pytest
import requests

grpc = pytest.importorskip("grpc")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFLECTION_PROTO_DIR = "/usr/share/grpc-proto"


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """The generated modules: (admin_pb2, admin_pb2_grpc, status_pb2,
    reflection_pb2, reflection_pb2_grpc)."""
    out = tmp_path_factory.mktemp("stubs")
    # The reflection proto is compiled from a copy under another directory:
    # its own path (grpc/reflection/...) would make Python look for the
    # module inside the grpcio package.
    os.makedirs(out / "reflection_v1alpha")
    with open(os.path.join(REFLECTION_PROTO_DIR, "grpc/reflection/v1alpha/reflection.proto")) as f:
        (out / "reflection_v1alpha" / "reflection.proto").write_text(f.read())
    subprocess.run(
        ["protoc", "--proto_path=" + ROOT, "--proto_path=%s" % out,
         "--proto_path=/usr/include", "--python_out=%s" % out, "--grpc_out=%s" % out,
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
         "alerthub/proto/admin.proto", "alerthub/proto/google/rpc/status.proto",
         "reflection_v1alpha/reflection.proto"], check=True)
    sys.path.insert(0, str(out))
    try:
        from alerthub.proto import admin_pb2, admin_pb2_grpc
        from alerthub.proto.google.rpc import status_pb2
        from reflection_v1alpha import reflection_pb2, reflection_pb2_grpc
    finally:
        sys.path.remove(str(out))
    return admin_pb2, admin_pb2_grpc, status_pb2, reflection_pb2, reflection_pb2_grpc


@pytest.fixture(scope="module")
def admin(tmp_path_factory):
    from alerthub_e2e import DaemonFactory
    f = DaemonFactory(os.environ["ALERTHUB_BIN"], tmp_path_factory, "admin_grpc")
    d = f("--deliver=false", "--grpc_port=0")
    channel = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port())
    yield d, channel
    channel.close()
    f.close()


def md(key):
    return (("x-api-key", key),)


def test_api_keys_are_created_listed_and_revoked_over_grpc(pb, admin):
    admin_pb2, admin_pb2_grpc, _, _, _ = pb
    d, channel = admin
    stub = admin_pb2_grpc.ApiKeyServiceStub(channel)

    created = stub.CreateApiKey(admin_pb2.CreateApiKeyRequest(name="ci", role=admin_pb2.ROLE_MEMBER),
                                metadata=(("authorization", "Bearer " + d.api_key),))
    assert created.plaintext.startswith("ahk_")
    assert created.api_key.role == admin_pb2.ROLE_MEMBER
    assert not created.api_key.HasField("revoke_time")

    # The key works on the REST side at once.
    r = requests.get(d.base_url + "/api/v1/notifications", headers={"X-API-Key": created.plaintext})
    assert r.status_code == 200, r.text

    listed = stub.ListApiKeys(admin_pb2.ListApiKeysRequest(prefix=created.api_key.prefix),
                              metadata=md(d.api_key))
    assert [k.id for k in listed.api_keys] == [created.api_key.id]
    everything = stub.ListApiKeys(admin_pb2.ListApiKeysRequest(page_size=1), metadata=md(d.api_key))
    assert len(everything.api_keys) == 1 and everything.next_page_token

    revoked = stub.RevokeApiKey(admin_pb2.RevokeApiKeyRequest(id=created.api_key.id),
                                metadata=md(d.api_key))
    assert revoked.HasField("revoke_time")
    r = requests.get(d.base_url + "/api/v1/notifications", headers={"X-API-Key": created.plaintext})
    assert r.status_code == 401, r.text


def test_errors_are_canonical_codes_with_field_violations(pb, admin):
    admin_pb2, admin_pb2_grpc, status_pb2, _, _ = pb
    d, channel = admin
    stub = admin_pb2_grpc.ApiKeyServiceStub(channel)

    with pytest.raises(grpc.RpcError) as e:
        stub.CreateApiKey(admin_pb2.CreateApiKeyRequest(role=admin_pb2.ROLE_MEMBER),
                          metadata=md(d.api_key))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = dict(e.value.trailing_metadata())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(details)
    bad = status_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["name"]

    with pytest.raises(grpc.RpcError) as e:
        stub.ListApiKeys(admin_pb2.ListApiKeysRequest())
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED

    member = stub.CreateApiKey(admin_pb2.CreateApiKeyRequest(name="m", role=admin_pb2.ROLE_MEMBER),
                               metadata=md(d.api_key)).plaintext
    with pytest.raises(grpc.RpcError) as e:
        stub.ListApiKeys(admin_pb2.ListApiKeysRequest(), metadata=md(member))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED

    with pytest.raises(grpc.RpcError) as e:
        stub.RevokeApiKey(admin_pb2.RevokeApiKeyRequest(id="0193a000-0000-7000-8000-000000000001"),
                          metadata=md(d.api_key))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_server_reflection_lists_the_admin_services(pb, admin):
    _, _, _, reflection_pb2, reflection_pb2_grpc = pb
    _, channel = admin
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = [s.name for r in responses for s in r.list_services_response.service]
    assert "alerthub.admin.v1.ApiKeyService" in names


def test_the_rest_mapping_serves_the_same_operations(pb, admin):
    admin_pb2, admin_pb2_grpc, _, _, _ = pb
    d, channel = admin
    owner = {"X-API-Key": d.api_key}
    r = requests.post(d.base_url + "/api/v1/api-keys", headers=owner,
                      json={"name": "from rest", "role": "ROLE_VIEWER"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["plaintext"].startswith("ahk_")
    key = body["api_key"]
    assert key["role"] == "ROLE_VIEWER" and key["name"] == "from rest"
    assert key["create_time"].endswith("Z")

    # What REST made, gRPC sees (and the other way round).
    listed = admin_pb2_grpc.ApiKeyServiceStub(channel).ListApiKeys(
        admin_pb2.ListApiKeysRequest(prefix=key["prefix"]), metadata=md(d.api_key))
    assert [k.id for k in listed.api_keys] == [key["id"]]
    r = requests.get(d.base_url + "/api/v1/api-keys", headers=owner,
                     params={"prefix": key["prefix"], "page_size": "10"})
    assert r.status_code == 200, r.text
    assert [k["id"] for k in r.json()["api_keys"]] == [key["id"]]

    # A viewer may not manage keys: 403 problem+json.
    r = requests.get(d.base_url + "/api/v1/api-keys", headers={"X-API-Key": body["plaintext"]})
    assert r.status_code == 403, r.text
    assert r.headers["Content-Type"] == "application/problem+json"

    r = requests.delete(d.base_url + "/api/v1/api-keys/" + key["id"], headers=owner)
    assert r.status_code == 200, r.text
    assert "revoke_time" in r.json()
    r = requests.get(d.base_url + "/api/v1/api-keys", headers={"X-API-Key": body["plaintext"]})
    assert r.status_code == 401

    # Bad bodies name what is wrong.
    r = requests.post(d.base_url + "/api/v1/api-keys", headers=owner,
                      json={"name": "x", "role": "ROLE_MEMBER", "colour": "red"})
    assert r.status_code == 422, r.text
    r = requests.post(d.base_url + "/api/v1/api-keys", headers=owner, json={"role": "ROLE_MEMBER"})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["name"]
