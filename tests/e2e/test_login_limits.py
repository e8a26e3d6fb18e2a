"""Failed-login limits (docs/api.md "Login, refresh and logout"): per account
(tenant + e-mail, any case) and per client address, token buckets shared by
REST and gRPC; a limited attempt answers 429 problem+json with Retry-After
(gRPC RESOURCE_EXHAUSTED with `retry-after` metadata) before any password
is checked, even when the password is right; successes do not count."""

import os
import subprocess
import time

import pytest
import requests

from alerthub_e2e import REQUEST_TIMEOUT, assert_problem, unique

grpc = pytest.importorskip("grpc")

from test_admin_grpc import pb  # noqa: E402,F401  (the generated stubs, a fixture)

PASSWORD = "limits password, long enough"
WRONG = "not the password at all"
PER_ACCOUNT = 3
# One failure back every 200 s: none comes back while a test runs, however
# slow the Argon2id runs are (the refill itself is unit-tested with a
# simulated clock in auth_sessions_test.cc).
WINDOW_S = 600


@pytest.fixture(scope="module")
def limited(alerthub_bin, tmp_path_factory):
    from alerthub_e2e import DaemonFactory
    f = DaemonFactory(alerthub_bin, tmp_path_factory, "login_limits")
    d = f("--deliver=false", "--grpc_port=0",
          "--login_failures_per_account=%d" % PER_ACCOUNT,
          "--login_failure_window_s=%d" % WINDOW_S)
    channel = grpc.insecure_channel("127.0.0.1:%d" % d.grpc_port())
    yield d, channel
    channel.close()
    f.close()


def new_user(d):
    email = "%s@example.com" % unique("lim")
    r = requests.post(d.base_url + "/api/v1/users", headers={"X-API-Key": d.api_key},
                      json={"email": email, "role": "member", "password": PASSWORD},
                      timeout=REQUEST_TIMEOUT)
    assert r.status_code == 201, r.text
    return email


def login(d, email, password=PASSWORD):
    return requests.post(d.base_url + "/api/v1/auth/login",
                         json={"email": email, "password": password}, timeout=REQUEST_TIMEOUT)


def assert_limited(r, what="for this account"):
    body = assert_problem(r, 429, "rate-limited",
                          detail="too many failed logins %s; try again later" % what)
    retry = int(r.headers["Retry-After"])
    assert body["retry_after_s"] == retry
    return retry


def test_failures_per_account_then_429_even_with_the_right_password(limited):
    d, _ = limited
    email = new_user(d)
    failed = []
    for _ in range(PER_ACCOUNT):
        t0 = time.monotonic()
        assert_problem(login(d, email, WRONG), 401, "unauthenticated",
                       detail="invalid e-mail or password")
        failed.append(time.monotonic() - t0)
    spent = []
    for _ in range(3):
        t0 = time.monotonic()
        retry = assert_limited(login(d, email.upper()))  # any case: the same account
        spent.append(time.monotonic() - t0)
        assert WINDOW_S // PER_ACCOUNT - 30 <= retry <= WINDOW_S // PER_ACCOUNT
    # No Argon2id run for a limited attempt: far quicker than a failure.
    assert min(spent) < min(failed), (spent, failed)

    # Other accounts are not limited by this one's failures.
    assert login(d, new_user(d)).status_code == 200


def test_unknown_accounts_are_limited_alike(limited):
    d, _ = limited
    ghost = "%s@example.com" % unique("ghost")
    for _ in range(PER_ACCOUNT):
        assert login(d, ghost).status_code == 401
    assert_limited(login(d, ghost))


def test_successes_and_malformed_requests_do_not_count(limited):
    d, _ = limited
    email = new_user(d)
    for _ in range(PER_ACCOUNT + 2):
        assert login(d, email).status_code == 200
        r = requests.post(d.base_url + "/api/v1/auth/login", json={"email": email},
                          timeout=REQUEST_TIMEOUT)
        assert r.status_code == 422, r.text
    for _ in range(PER_ACCOUNT):
        assert login(d, email, WRONG).status_code == 401
    assert_limited(login(d, email))


def test_grpc_shares_the_buckets_and_says_when_to_retry(pb, limited):  # noqa: F811
    admin_pb2, admin_pb2_grpc = pb[0], pb[1]
    d, channel = limited
    auth = admin_pb2_grpc.AuthServiceStub(channel)
    email = new_user(d)
    assert login(d, email, WRONG).status_code == 401
    for _ in range(PER_ACCOUNT - 1):
        with pytest.raises(grpc.RpcError) as e:
            auth.Login(admin_pb2.LoginRequest(email=email, password=WRONG))
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as e:
        auth.Login(admin_pb2.LoginRequest(email=email, password=PASSWORD))
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert e.value.details() == "too many failed logins for this account; try again later"
    retry = int(dict(e.value.trailing_metadata())["retry-after"])
    assert WINDOW_S // PER_ACCOUNT - 30 <= retry <= WINDOW_S // PER_ACCOUNT
    # The REST side sees the same bucket.
    assert_limited(login(d, email))


def test_failures_per_address_across_accounts(daemon_factory):
    d = daemon_factory("--deliver=false", "--login_failures_per_account=100",
                       "--login_failures_per_address=4", "--login_failure_window_s=600")
    email = new_user(d)
    for i in range(4):
        assert login(d, "%s@example.com" % unique("spray"), WRONG).status_code == 401
    # The fifth from this address is refused, whatever the account.
    assert_limited(login(d, email), "from this address")
    assert_limited(login(d, "%s@example.com" % unique("spray")), "from this address")


def test_bad_limit_flags_stop_the_daemon(alerthub_bin, tmp_path):
    for flag in ("--login_failure_window_s=0", "--login_failures_per_account=-1"):
        p = subprocess.run([alerthub_bin, "--data_dir=" + str(tmp_path), "--http_port=0", flag],
                           capture_output=True, text=True, timeout=30,
                           env={k: v for k, v in os.environ.items()
                                if not k.startswith("ALERTHUB_")})
        assert p.returncode != 0, flag
        assert flag.split("=")[0] in p.stderr, p.stderr
