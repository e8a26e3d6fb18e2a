"""Helpers for the AlertHub end-to-end suite: a real daemon process, API keys
minted straight into its SQLite store, and problem+json assertions.

Only the Python standard library plus Debian's python3-requests are used.
"""

import hashlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import time
import uuid
import zlib

import pytest
import requests

# ---------------------------------------------------------------------------
# Constants the server defines (alerthub/server/status_http.h, problem.cc).

PROBLEM_BASE = "https://alerthub.dev/problems/"
PROBLEM_CT = "application/problem+json"
KEY_CACHE_TTL_S = 5.0  # ApiKeyAuthenticatorOptions::cache_ttl
REQUEST_TIMEOUT = 10  # seconds, for every HTTP call of the suite

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# ---------------------------------------------------------------------------
# API keys (alerthub/auth/api_keys.cc).


def _base62_fixed(value, width):
    """`value` as exactly `width` base62 digits, most significant first."""
    out = []
    for _ in range(width):
        out.append(_BASE62[value % 62])
        value //= 62
    assert value == 0, "value does not fit"
    return "".join(reversed(out))


def make_token():
    """A fresh, well-formed token: ahk_ + 32 base62 + 6 base62 of CRC-32."""
    body = "ahk_" + "".join(secrets.choice(_BASE62) for _ in range(32))
    return body + _base62_fixed(zlib.crc32(body.encode()) & 0xFFFFFFFF, 6)


def key_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def uuid7():
    """A UUIDv7 string (48-bit Unix ms, version 7, variant 10, random)."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def _now_micros():
    return time.time_ns() // 1000


def db_connect(data_dir):
    conn = sqlite3.connect(os.path.join(data_dir, "alerthub.db"), timeout=10)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def default_tenant_id(data_dir):
    with db_connect(data_dir) as conn:
        row = conn.execute("SELECT id FROM tenants WHERE name = 'default'").fetchone()
    assert row is not None, "the daemon did not create tenant 'default'"
    return row[0]


def create_api_key(data_dir, tenant_id, name="e2e key", role=1, revoked=False):
    """Inserts a key for `tenant_id`; returns (token, key_id)."""
    token = make_token()
    key_id = uuid7()
    now = _now_micros()
    with db_connect(data_dir) as conn:
        conn.execute(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role,"
            " created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key_id, tenant_id, name, token[:12], key_hash(token), role, now,
             now if revoked else None),
        )
    return token, key_id


def create_tenant(data_dir, name=None):
    """Inserts a tenant and an owner key; returns (tenant_id, token)."""
    tenant_id = uuid7()
    name = name or ("e2e-" + secrets.token_hex(4))
    with db_connect(data_dir) as conn:
        conn.execute(
            "INSERT INTO tenants (id, name, settings, created_at) VALUES (?, ?, ?, ?)",
            (tenant_id, name,
             json.dumps({"rate_limit_burst": 0.0, "rate_limit_per_second": 0.0}),
             _now_micros()),
        )
    token, _ = create_api_key(data_dir, tenant_id, name="owner of " + name)
    return tenant_id, token


def revoke_api_key(data_dir, token):
    """Sets revoked_at on the key of `token`. The daemon may keep accepting a
    key it verified recently for KEY_CACHE_TTL_S: callers wait past that."""
    with db_connect(data_dir) as conn:
        cur = conn.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_hash = ?",
            (_now_micros(), key_hash(token)),
        )
        assert cur.rowcount == 1, "no such key"


def set_notification_status(data_dir, notification_id, status_code):
    """Moves a notification to another NotificationStatus (1 = accepted, 4 =
    delivered, ...) as a delivery worker would; the daemon reads the column."""
    with db_connect(data_dir) as conn:
        cur = conn.execute(
            "UPDATE notifications SET status = ?, updated_at = ? WHERE id = ?",
            (status_code, _now_micros(), notification_id),
        )
        assert cur.rowcount == 1


# ---------------------------------------------------------------------------
# The daemon process.


class DaemonError(AssertionError):
    pass


class Daemon:
    """One `alerthub` process on 127.0.0.1 with its own data dir. stdout and
    stderr go to files under `log_dir` (one pair per start)."""

    def __init__(self, binary, data_dir, log_dir, extra_args=(), port=0):
        self.binary = binary
        self.data_dir = str(data_dir)
        self.log_dir = str(log_dir)
        self.extra_args = list(extra_args)
        self.port = port
        self.proc = None
        self.starts = 0
        self.stdout_path = None
        self.stderr_path = None
        # Set by tests that expect the process to die (the teardown then
        # does not require a clean exit).
        self.may_crash = False

    # -- lifecycle ---------------------------------------------------------

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def ws_url(self):
        return "ws://127.0.0.1:%d" % self.port

    @property
    def key_file(self):
        return os.path.join(self.data_dir, "bootstrap-api-key")

    @property
    def api_key(self):
        with open(self.key_file) as f:
            return f.read().strip()

    def start(self, timeout=20.0):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        os.makedirs(self.log_dir, exist_ok=True)
        self.stdout_path = os.path.join(self.log_dir, "stdout.%d.log" % self.starts)
        self.stderr_path = os.path.join(self.log_dir, "stderr.%d.log" % self.starts)
        args = [
            self.binary,
            "--data_dir=" + self.data_dir,
            "--http_address=127.0.0.1",
            "--http_port=%d" % self.port,
            "--grpc_address=127.0.0.1",
            "--grpc_port=0",
        ] + self.extra_args
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                env={k: v for k, v in os.environ.items() if not k.startswith("ALERTHUB_")
                     or k == "ALERTHUB_BIN"},
            )
        deadline = time.monotonic() + timeout
        # The port: ours (restart) or the one the daemon logs ("listening").
        while self.port == 0:
            self._check_alive("while starting")
            for rec in self.log_records():
                if rec.get("msg") == "listening":
                    self.port = int(rec["port"])
            if self.port == 0:
                if time.monotonic() > deadline:
                    raise DaemonError("no 'listening' line within %.0fs:\n%s"
                                      % (timeout, self.stderr_tail()))
                time.sleep(0.02)
        while True:
            self._check_alive("while starting")
            try:
                r = requests.get(self.base_url + "/health/ready", timeout=2)
                if r.status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise DaemonError("not ready within %.0fs:\n%s" % (timeout, self.stderr_tail()))
            time.sleep(0.02)

    def stop(self, check=True, timeout=20.0):
        """SIGTERM, wait; with `check`, require exit code 0. Returns the code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise DaemonError("did not exit within %.0fs of SIGTERM:\n%s"
                                  % (timeout, self.stderr_tail()))
        code = self.proc.returncode
        if check and code != 0:
            raise DaemonError("exit code %r after SIGTERM (want 0):\n%s"
                              % (code, self.stderr_tail()))
        return code

    def restart(self):
        """Stops (cleanly) and starts again on the same data dir and port."""
        self.stop(check=True)
        return self.start()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _check_alive(self, when):
        if self.proc.poll() is not None:
            raise DaemonError("daemon exited with %r %s:\n%s"
                              % (self.proc.returncode, when, self.stderr_tail()))

    # -- logs --------------------------------------------------------------

    def stderr_text(self):
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return ""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout_text(self):
        if not self.stdout_path or not os.path.exists(self.stdout_path):
            return ""
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr_tail(self, n=30):
        return "\n".join(self.stderr_text().splitlines()[-n:])

    def log_records(self):
        """Every complete stderr line that parses as a JSON object."""
        out = []
        for line in self.stderr_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def access_log(self, request_id, timeout=3.0):
        """The access-log record of `request_id` (written after the response,
        so poll briefly)."""
        deadline = time.monotonic() + timeout
        while True:
            for rec in self.log_records():
                if rec.get("msg") == "request" and rec.get("request_id") == request_id:
                    return rec
            if time.monotonic() > deadline:
                raise AssertionError("no access-log line for request id %s:\n%s"
                                     % (request_id, self.stderr_tail()))
            time.sleep(0.02)

    def grpc_port(self, timeout=10.0):
        """The admin gRPC port of a daemon started with --grpc_port=0, from
        its "grpc listening" log line."""
        deadline = time.monotonic() + timeout
        while True:
            for rec in self.log_records():
                if rec.get("msg") == "grpc listening":
                    return int(rec["port"])
            if time.monotonic() > deadline:
                raise AssertionError("no \"grpc listening\" line:\n%s" % self.stderr_tail())
            time.sleep(0.02)


class DaemonFactory:
    """Starts daemons and stops every one of them at teardown, requiring a
    clean exit (code 0 after SIGTERM) unless the test set `may_crash`."""

    def __init__(self, binary, tmp_factory, name):
        self.binary = binary
        self.tmp_factory = tmp_factory
        self.name = name
        self.daemons = []

    def __call__(self, *extra_args, data_dir=None, start=True):
        base = self.tmp_factory.mktemp(self.name)
        d = Daemon(self.binary, data_dir or base / "data", base / "logs", extra_args)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def close(self):
        problems = []
        for d in self.daemons:
            if d.proc is None:
                continue
            if d.may_crash:
                d.kill()
                continue
            try:
                d.stop(check=True)
            except DaemonError as e:
                problems.append(str(e))
        if problems:
            pytest.fail("daemon did not stop cleanly:\n" + "\n".join(problems))


# ---------------------------------------------------------------------------
# HTTP helpers.


class Api:
    """A requests session bound to one daemon and one API key."""

    def __init__(self, base_url, api_key):
        self.base_url = base_url
        self.api_key = api_key
        self.session = requests.Session()

    def headers(self, extra=None, key=True):
        h = {}
        if key and self.api_key:
            h["X-API-Key"] = self.api_key
        if extra:
            h.update(extra)
        return h

    def request(self, method, path, key=True, headers=None, **kw):
        kw.setdefault("timeout", REQUEST_TIMEOUT)
        return self.session.request(method, self.base_url + path,
                                    headers=self.headers(headers, key), **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def submit(self, notification, headers=None, **kw):
        return self.post("/api/v1/notifications", json=notification, headers=headers, **kw)

    def submit_ok(self, notification, headers=None):
        r = self.submit(notification, headers=headers)
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def list(self, **params):
        return self.get("/api/v1/notifications", params=params)


def assert_problem(r, status, type_suffix=None, title=None, detail=None, errors=None,
                   type_uri=None):
    """Checks an RFC 9457 problem response exactly: status code, content type,
    `type`, `title`, `status`, `detail` and (when given) `errors`. Returns the
    parsed body."""
    assert r.status_code == status, "want %d, got %d: %s" % (status, r.status_code, r.text)
    ct = r.headers.get("Content-Type", "")
    assert ct.split(";")[0].strip() == PROBLEM_CT, "Content-Type %r: %s" % (ct, r.text)
    body = r.json()
    assert isinstance(body, dict), body
    if type_uri is None:
        type_uri = PROBLEM_BASE + type_suffix if type_suffix else "about:blank"
    assert body.get("type") == type_uri, body
    assert body.get("status") == status, body
    if title is not None:
        assert body.get("title") == title, body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert isinstance(body.get("detail"), str), body
    if detail is not None:
        assert body["detail"] == detail, body
    if errors is None:
        assert "errors" not in body, body
    else:
        assert body.get("errors") == [{"field": f, "message": m} for f, m in errors], body
    return body


def unique(prefix="e2e"):
    """A unique, slug-safe suffix for types and dedup keys."""
    return "%s.%s" % (prefix, secrets.token_hex(6))
