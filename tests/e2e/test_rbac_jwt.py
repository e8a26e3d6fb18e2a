"""Roles (owner > admin > member > viewer) on every route family, and JWT
access tokens (RS256) accepted beside API keys by a daemon given the public
key. Tokens are signed here with the openssl command line, so nothing of the
daemon's code makes them."""

import base64
import json
import os
import subprocess
import time
import uuid

import pytest
import requests

from alerthub_e2e import Api, create_api_key, create_tenant, default_tenant_id, unique

OWNER, ADMIN, MEMBER, VIEWER = 1, 2, 3, 4


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """(private PEM path, public PEM path) of a fresh RSA-2048 key."""
    d = tmp_path_factory.mktemp("jwt")
    private, public = str(d / "key.pem"), str(d / "key.pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", private], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True,
                   capture_output=True)
    return private, public


@pytest.fixture(scope="module")
def jwt_daemon(alerthub_bin, tmp_path_factory, keys):
    from alerthub_e2e import DaemonFactory
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "rbac_jwt")
    d = f("--deliver=false", "--jwt_verification_key_files=" + keys[1],
          "--jwt_issuer=alerthub-e2e", "--jwt_audience=alerthub-api")
    yield d
    f.close()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(public_pem_path):
    """The kid AlertHub derives: 16 hex digits of SHA-256 of the public PEM."""
    import hashlib
    with open(public_pem_path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def sign(private_pem, header, payload):
    signing_input = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode()))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", private_pem],
                         input=signing_input.encode(), capture_output=True, check=True).stdout
    return signing_input + "." + b64(sig)


def token(keys, tenant_id, role="member", **overrides):
    now = int(time.time())
    payload = {"iss": "alerthub-e2e", "aud": "alerthub-api", "sub": "user-" + uuid.uuid4().hex[:8],
               "tid": tenant_id, "role": role, "jti": str(uuid.uuid4()),
               "iat": now, "nbf": now, "exp": now + 900}
    payload.update(overrides)
    header = {"alg": "RS256", "typ": "JWT", "kid": key_id(keys[1])}
    return sign(keys[0], header, payload)


def bearer(t):
    return {"Authorization": "Bearer " + t}


# --- Roles --------------------------------------------------------------------

ROUTES = [
    # (method, path, body, least role that may)
    ("GET", "/api/v1/notifications", None, VIEWER),
    ("POST", "/api/v1/notifications", {"type": "rbac.check", "title": "x"}, MEMBER),
    ("GET", "/api/v1/rules", None, VIEWER),
    ("POST", "/api/v1/rules", {"name": "r", "match": {"type": "rbac.*"}, "actions": {"suppress": True}},
     ADMIN),
    ("GET", "/api/v1/users", None, VIEWER),
    ("POST", "/api/v1/users", {"email": "someone@example.com"}, ADMIN),
    ("GET", "/api/v1/api-keys", None, ADMIN),
]


@pytest.mark.parametrize("role", [OWNER, ADMIN, MEMBER, VIEWER])
@pytest.mark.parametrize("method,path,body,least", ROUTES)
def test_each_route_family_checks_the_role(module_daemon, role, method, path, body, least):
    tenant_id, _ = create_tenant(module_daemon.data_dir)
    t, _ = create_api_key(module_daemon.data_dir, tenant_id, role=role)
    api = Api(module_daemon.base_url, t)
    if body is not None and "email" in body:
        body = dict(body, email=unique("u") + "@example.com")
    r = api.request(method, path, json=body)
    if role <= least:
        assert r.status_code in (200, 201, 202), (role, r.text)
    else:
        assert r.status_code == 403, (role, r.text)
        assert r.headers["Content-Type"] == "application/problem+json"
        assert "may not" in r.json()["detail"]


# --- JWT access tokens ------------------------------------------------------

def test_a_valid_token_authenticates_with_its_tenant_and_role(jwt_daemon, keys):
    tenant = default_tenant_id(jwt_daemon.data_dir)
    t = token(keys, tenant, role="member")
    r = requests.post(jwt_daemon.base_url + "/api/v1/notifications", headers=bearer(t),
                      json={"type": "jwt.ok", "title": "hello"})
    assert r.status_code == 202, r.text
    nid = r.json()["id"]
    r = requests.get(jwt_daemon.base_url + "/api/v1/notifications/" + nid, headers=bearer(t))
    assert r.status_code == 200, r.text
    # A viewer's token reads but does not send.
    v = token(keys, tenant, role="viewer")
    assert requests.get(jwt_daemon.base_url + "/api/v1/notifications/" + nid,
                        headers=bearer(v)).status_code == 200
    assert requests.post(jwt_daemon.base_url + "/api/v1/notifications", headers=bearer(v),
                         json={"type": "jwt.no", "title": "x"}).status_code == 403
    # Another tenant's token does not see this tenant's notification.
    other, _ = create_tenant(jwt_daemon.data_dir)
    assert requests.get(jwt_daemon.base_url + "/api/v1/notifications/" + nid,
                        headers=bearer(token(keys, other))).status_code == 404


def attacks(keys, tenant):
    """(name, token) pairs that must all be refused with 401."""
    now = int(time.time())
    good = token(keys, tenant)
    h, p, s = good.split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=="))
    kid = key_id(keys[1])
    with open(keys[1], "rb") as f:
        public_pem = f.read()
    import hmac
    import hashlib
    out = []
    for alg in ("none", "None", "NONE", "nOnE"):
        out.append(("alg " + alg, b64(json.dumps({"alg": alg, "kid": kid}).encode()) + "." + p + "."))
    hs_input = b64(json.dumps({"alg": "HS256", "kid": kid}).encode()) + "." + p
    out.append(("HS256 keyed with the public key",
                hs_input + "." + b64(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())))
    out.append(("unknown kid", sign(keys[0], {"alg": "RS256", "kid": "ffffffffffffffff"}, payload)))
    out.append(("path-like kid", sign(keys[0], {"alg": "RS256", "kid": "../../../dev/null"}, payload)))
    out.append(("expired", token(keys, tenant, exp=now - 120, iat=now - 1000, nbf=now - 1000)))
    out.append(("nbf beyond leeway", token(keys, tenant, nbf=now + 600)))
    out.append(("wrong issuer", token(keys, tenant, iss="someone-else")))
    out.append(("wrong audience", token(keys, tenant, aud="another-api")))
    tampered = dict(payload, role="owner")
    out.append(("tampered payload", h + "." + b64(json.dumps(tampered).encode()) + "." + s))
    out.append(("truncated", good[:-10]))
    out.append(("two segments", h + "." + p))
    return out


def test_the_jwt_attack_catalogue_is_refused(jwt_daemon, keys):
    tenant = default_tenant_id(jwt_daemon.data_dir)
    for name, t in attacks(keys, tenant):
        r = requests.get(jwt_daemon.base_url + "/api/v1/notifications", headers=bearer(t))
        assert r.status_code == 401, (name, r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/problem+json", name


def test_without_keys_a_daemon_refuses_tokens(module_daemon, keys):
    t = token(keys, default_tenant_id(module_daemon.data_dir))
    r = requests.get(module_daemon.base_url + "/api/v1/notifications", headers=bearer(t))
    assert r.status_code == 401
