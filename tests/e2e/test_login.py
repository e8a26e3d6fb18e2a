"""User logins (issue 7): e-mail + password -> an RS256 access token and an
opaque refresh token rotated on every use, over REST (/api/v1/auth/*) and
over gRPC (AuthService, Python grpcio stubs generated at test time by the
`pb` fixture of test_admin_grpc.py); and what the database file holds."""

import base64
import hashlib
import json
import os
import stat

import pytest
import requests

grpc = pytest.importorskip("grpc")

from alerthub_e2e import assert_problem, default_tenant_id, unique  # noqa: E402
from test_admin_grpc import admin, md, pb  # noqa: E402,F401  (fixtures)

PASSWORD = "correct horse battery staple"


def b64json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def new_user(d, role="admin", password=PASSWORD, key=None):
    email = "%s@example.com" % unique("ada")
    r = requests.post(d.base_url + "/api/v1/users", headers={"X-API-Key": key or d.api_key},
                      json={"email": email, "name": "Ada", "role": role, "password": password})
    assert r.status_code == 201, r.text
    return email, r.json()


def login(d, email, password=PASSWORD, **extra):
    return requests.post(d.base_url + "/api/v1/auth/login",
                         json=dict(email=email, password=password, **extra))


def refresh(d, token):
    return requests.post(d.base_url + "/api/v1/auth/refresh", json={"refresh_token": token})


def bearer(token):
    return {"Authorization": "Bearer " + token}


def test_login_refresh_and_logout_over_rest(admin):
    d, _ = admin
    email, user = new_user(d)
    assert "password" not in user and "password_hash" not in user

    r = login(d, email.upper())  # e-mail addresses match in any case
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    tokens = r.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert tokens["refresh_token"].startswith("ahr_")

    header_b64, payload_b64, _ = tokens["access_token"].split(".")
    header, claims = b64json(header_b64), b64json(payload_b64)
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == "alerthub" and claims["aud"] == "alerthub-api"
    assert claims["sub"] == user["id"]
    assert claims["tid"] == default_tenant_id(d.data_dir)
    assert claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 900 and claims["nbf"] == claims["iat"]
    assert claims["jti"]

    # The access token is a credential on the other routes.
    r = requests.get(d.base_url + "/api/v1/users", headers=bearer(tokens["access_token"]))
    assert r.status_code == 200, r.text

    # Rotation: a new pair; the old refresh token is spent.
    r = refresh(d, tokens["refresh_token"])
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    r = requests.get(d.base_url + "/api/v1/users", headers=bearer(rotated["access_token"]))
    assert r.status_code == 200, r.text

    # Reuse of the spent token: refused, and the whole session is revoked, so
    # the token the rotation just gave fails too.
    for spent in (tokens["refresh_token"], rotated["refresh_token"]):
        assert_problem(refresh(d, spent), 401, "unauthenticated", detail="invalid refresh token")

    # Logout ends a session; it is idempotent.
    session = login(d, email).json()
    r = requests.post(d.base_url + "/api/v1/auth/logout",
                      json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 204, r.text
    assert_problem(refresh(d, session["refresh_token"]), 401, "unauthenticated")
    r = requests.post(d.base_url + "/api/v1/auth/logout",
                      json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 204, r.text


def test_bad_credentials_are_one_401(admin):
    d, _ = admin
    email, _ = new_user(d)
    nopass = "%s@example.com" % unique("nopass")
    r = requests.post(d.base_url + "/api/v1/users", headers={"X-API-Key": d.api_key},
                      json={"email": nopass, "role": "member"})
    assert r.status_code == 201, r.text
    bodies = [
        assert_problem(login(d, email, "wrong password!!"), 401, "unauthenticated"),
        assert_problem(login(d, "nobody@example.com"), 401, "unauthenticated"),
        assert_problem(login(d, nopass), 401, "unauthenticated"),
        assert_problem(login(d, email, tenant="no-such-tenant"), 401, "unauthenticated"),
    ]
    assert all(b == bodies[0] for b in bodies), bodies
    assert bodies[0]["detail"] == "invalid e-mail or password"
    assert login(d, email, tenant="default").status_code == 200


def test_bad_bodies_name_their_fields(admin):
    d, _ = admin
    r = requests.post(d.base_url + "/api/v1/auth/login", json={})
    assert_problem(r, 422, "validation",
                   errors=[("email", "is required"), ("password", "is required")])
    r = requests.post(d.base_url + "/api/v1/auth/refresh", json={})
    assert_problem(r, 422, "validation", errors=[("refresh_token", "is required")])
    r = requests.post(d.base_url + "/api/v1/auth/logout", json={"refresh_token": ""})
    assert_problem(r, 422, "validation", errors=[("refresh_token", "is required")])
    r = requests.post(d.base_url + "/api/v1/auth/login", json={"email": "a@b.c", "colour": "red"})
    assert r.status_code == 422, r.text

    # The users API: the password is checked before the user is written.
    email = "%s@example.com" % unique("short")
    owner = {"X-API-Key": d.api_key}
    r = requests.post(d.base_url + "/api/v1/users", headers=owner,
                      json={"email": email, "password": "short"})
    assert_problem(r, 422, "validation", errors=[("password", "must be at least 12 characters")])
    r = requests.post(d.base_url + "/api/v1/users", headers=owner,
                      json={"email": email, "password": 12345678901234})
    assert_problem(r, 422, "validation", errors=[("password", "must be a string")])
    r = requests.post(d.base_url + "/api/v1/users", headers=owner,
                      json={"email": "not-an-address", "password": "short"})
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"email", "password"}
    assert requests.get(d.base_url + "/api/v1/users", headers=owner,
                        params={"limit": 500}).text.count(email) == 0


def test_passwords_follow_the_role_table_and_replacing_one_ends_sessions(admin):
    d, _ = admin
    r = requests.post(d.base_url + "/api/v1/api-keys", headers={"X-API-Key": d.api_key},
                      json={"name": "an admin", "role": "ROLE_ADMIN"})
    assert r.status_code == 201, r.text
    admin_key = r.json()["plaintext"]
    # An admin may not give an owner a password (they could then log in as one).
    r = requests.post(d.base_url + "/api/v1/users", headers={"X-API-Key": admin_key},
                      json={"email": "%s@example.com" % unique("o"), "role": "owner",
                            "password": PASSWORD})
    assert r.status_code == 403, r.text
    email, user = new_user(d, role="owner")
    r = requests.put(d.base_url + "/api/v1/users/" + user["id"], headers={"X-API-Key": admin_key},
                     json={"email": email, "role": "owner", "password": "an admin's choice"})
    assert r.status_code == 403, r.text

    # A new password (PUT by the owner key) ends the user's sessions.
    session = login(d, email).json()
    r = requests.put(d.base_url + "/api/v1/users/" + user["id"], headers={"X-API-Key": d.api_key},
                     json={"email": email, "role": "owner", "password": "a brand new password"})
    assert r.status_code == 200, r.text
    assert "password" not in r.json()
    assert refresh(d, session["refresh_token"]).status_code == 401
    assert login(d, email).status_code == 401
    assert login(d, email, "a brand new password").status_code == 200
    # Without a password the record is replaced and the password kept.
    r = requests.put(d.base_url + "/api/v1/users/" + user["id"], headers={"X-API-Key": d.api_key},
                     json={"email": email, "name": "Renamed", "role": "owner"})
    assert r.status_code == 200, r.text
    assert login(d, email, "a brand new password").status_code == 200


def test_login_refresh_and_logout_over_grpc(pb, admin):
    admin_pb2, admin_pb2_grpc, status_pb2, reflection_pb2, reflection_pb2_grpc = pb
    d, channel = admin
    email, user = new_user(d)
    auth = admin_pb2_grpc.AuthServiceStub(channel)

    tokens = auth.Login(admin_pb2.LoginRequest(email=email, password=PASSWORD))
    assert tokens.token_type == "Bearer" and tokens.expires_in == 900
    # The access token authenticates gRPC calls too (admins manage keys).
    keys = admin_pb2_grpc.ApiKeyServiceStub(channel).ListApiKeys(
        admin_pb2.ListApiKeysRequest(), metadata=(("authorization", "Bearer " + tokens.access_token),))
    assert len(keys.api_keys) >= 1

    rotated = auth.Refresh(admin_pb2.RefreshRequest(refresh_token=tokens.refresh_token))
    assert rotated.refresh_token != tokens.refresh_token
    for spent in (tokens.refresh_token, rotated.refresh_token):
        with pytest.raises(grpc.RpcError) as e:
            auth.Refresh(admin_pb2.RefreshRequest(refresh_token=spent))
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED

    session = auth.Login(admin_pb2.LoginRequest(email=email, password=PASSWORD, tenant="default"))
    auth.Logout(admin_pb2.LogoutRequest(refresh_token=session.refresh_token))
    with pytest.raises(grpc.RpcError) as e:
        auth.Refresh(admin_pb2.RefreshRequest(refresh_token=session.refresh_token))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED

    with pytest.raises(grpc.RpcError) as e:
        auth.Login(admin_pb2.LoginRequest(email=email, password="wrong password!!"))
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as e:
        auth.Login(admin_pb2.LoginRequest(email=email))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = status_pb2.Status.FromString(
        dict(e.value.trailing_metadata())["grpc-status-details-bin"])
    bad = status_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["password"]

    responses = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = [s.name for r in responses for s in r.list_services_response.service]
    assert "alerthub.admin.v1.AuthService" in names


def test_the_database_holds_no_plaintext_secret(admin):
    d, _ = admin
    secrets = [d.api_key, PASSWORD]
    r = requests.post(d.base_url + "/api/v1/api-keys", headers={"X-API-Key": d.api_key},
                      json={"name": "dump check", "role": "ROLE_MEMBER"})
    assert r.status_code == 201, r.text
    secrets.append(r.json()["plaintext"])
    email, _ = new_user(d)
    first = login(d, email).json()
    second = refresh(d, first["refresh_token"]).json()
    live = login(d, email).json()
    secrets += [first["refresh_token"], second["refresh_token"], live["refresh_token"]]

    # Every byte the database keeps: the file, its WAL, and a full SQL dump.
    blobs = []
    for suffix in ("", "-wal"):
        path = os.path.join(d.data_dir, "alerthub.db" + suffix)
        if os.path.exists(path):
            with open(path, "rb") as f:
                blobs.append(f.read())
    from alerthub_e2e import db_connect
    with db_connect(d.data_dir) as conn:
        dump = "\n".join(conn.iterdump())
        hashes = {row[0] for row in conn.execute("SELECT token_hash FROM refresh_tokens")}
        stored = conn.execute("SELECT password_hash FROM users WHERE email = ?",
                              (email,)).fetchone()[0]
    blobs.append(dump.encode())
    for secret in secrets:
        for form in {secret, secret[4:]}:  # also without the ahk_/ahr_ prefix
            for blob in blobs:
                assert form.encode() not in blob, "plaintext secret in the database"
    # What is there instead: SHA-256 of the refresh tokens, Argon2id of the password.
    for token in (first["refresh_token"], second["refresh_token"], live["refresh_token"]):
        assert hashlib.sha256(token.encode()).hexdigest() in hashes
    assert stored.startswith("$argon2id$")


def test_the_signing_key_is_made_once_and_kept(daemon_factory):
    d = daemon_factory("--deliver=false")
    key_file = os.path.join(d.data_dir, "jwt-signing-key.pem")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with open(key_file) as f:
        pem = f.read()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    with open(os.path.join(d.data_dir, "jwt-signing-key.pub.pem")) as f:
        assert f.read().startswith("-----BEGIN PUBLIC KEY-----")
    email, _ = new_user(d)
    tokens = login(d, email).json()

    d.stop()
    d.start()
    with open(key_file) as f:
        assert f.read() == pem
    # Tokens issued before the restart still verify, and refresh.
    r = requests.get(d.base_url + "/api/v1/users", headers=bearer(tokens["access_token"]))
    assert r.status_code == 200, r.text
    assert refresh(d, tokens["refresh_token"]).status_code == 200
