"""Fixtures for the Python binding tests.

The `alerthub` package must be importable (installed, or on PYTHONPATH; see
bindings/python/README.md) and $ALERTHUB_BIN must name the all-in-one daemon,
which remote-mode tests start on a free loopback port.
"""

import os
import secrets
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from daemon import Daemon  # noqa: E402

_HOW = (
    "  tools/bazel.sh build -c opt //daemons/alerthub //bindings/python:_alerthub.so\n"
    "  /usr/bin/python3 -m pip install --no-build-isolation --target /tmp/alerthub-py "
    "./bindings/python\n"
    "  PYTHONPATH=/tmp/alerthub-py ALERTHUB_BIN=$(tools/bazel.sh info -c opt bazel-bin)"
    "/daemons/alerthub/alerthub /usr/bin/python3 -m pytest bindings/python/tests -q")


def pytest_configure(config):
    try:
        import alerthub  # noqa: F401
    except ImportError as e:
        raise pytest.UsageError("cannot import alerthub (%s). Install it first:\n%s" % (e, _HOW))
    path = os.environ.get("ALERTHUB_BIN", "")
    if not (path and os.path.isfile(path) and os.access(path, os.X_OK)):
        raise pytest.UsageError("ALERTHUB_BIN=%r is not the alerthub daemon. Run:\n%s"
                                % (path, _HOW))
    config.alerthub_bin = path


@pytest.fixture(scope="session")
def start_daemon(pytestconfig, tmp_path_factory):
    """start_daemon(*flags) -> a running Daemon, stopped at the end of the session."""
    started = []

    def start(*flags):
        base = tmp_path_factory.mktemp("daemon")
        d = Daemon(pytestconfig.alerthub_bin, base / "data", base / "daemon.log", flags)
        started.append(d)
        return d.start()

    yield start
    for d in started:
        d.stop()


@pytest.fixture(scope="session")
def daemon(start_daemon):
    """The session's shared daemon (default flags)."""
    return start_daemon()


@pytest.fixture
def embedded_client(tmp_path):
    import alerthub
    c = alerthub.Client(store="sqlite:///%s" % (tmp_path / "alerthub.db"))
    yield c
    c.close()


@pytest.fixture
def remote_client(daemon):
    import alerthub
    c = alerthub.Client(endpoint=daemon.base_url, api_key=daemon.api_key)
    yield c
    c.close()


@pytest.fixture(params=["embedded", "remote"])
def client(request):
    """A Client in each mode: embedded on a fresh SQLite file, remote against
    the shared daemon (whose tenant other tests share: filter by a unique
    type)."""
    return request.getfixturevalue(request.param + "_client")


@pytest.fixture
def unique_type():
    return "py.%s" % secrets.token_hex(6)
