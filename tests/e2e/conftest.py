"""Fixtures for the AlertHub end-to-end suite.

The daemon binary comes from $ALERTHUB_BIN. Each test module that uses the
`daemon` fixture shares one daemon (on a free loopback port, with its own
temporary data dir); tests that need special flags, a crash or a shutdown
start their own with `daemon_factory`.
"""

import os

import pytest

from alerthub_e2e import Api, DaemonFactory, create_tenant


def _binary():
    path = os.environ.get("ALERTHUB_BIN", "")
    if not path:
        raise pytest.UsageError(
            "ALERTHUB_BIN is not set. Build the daemon and point ALERTHUB_BIN at it:\n"
            "  tools/bazel.sh build //daemons/alerthub\n"
            "  ALERTHUB_BIN=$(tools/bazel.sh info bazel-bin)/daemons/alerthub/alerthub "
            "/usr/bin/python3 -m pytest tests/e2e -q")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise pytest.UsageError("ALERTHUB_BIN=%r is not an executable file" % path)
    return path


def pytest_configure(config):
    config.alerthub_bin = _binary()


@pytest.fixture(scope="session")
def alerthub_bin(pytestconfig):
    return pytestconfig.alerthub_bin


@pytest.fixture
def daemon_factory(alerthub_bin, tmp_path_factory, request):
    f = DaemonFactory(alerthub_bin, tmp_path_factory, request.node.name[:40])
    yield f
    f.close()


@pytest.fixture(scope="module")
def module_daemon(alerthub_bin, tmp_path_factory, request):
    """The module's shared daemon (a Daemon object). It does not deliver
    (--deliver=false), so the notifications the router tests submit keep the
    statuses the tests give them; test_delivery.py starts its own."""
    f = DaemonFactory(alerthub_bin, tmp_path_factory, request.module.__name__)
    d = f("--deliver=false")
    yield d
    f.close()


@pytest.fixture(scope="module")
def daemon(module_daemon):
    """(base_url, api_key, data_dir, process) of the module's shared daemon."""
    d = module_daemon
    return d.base_url, d.api_key, d.data_dir, d.proc


@pytest.fixture(scope="module")
def api(module_daemon):
    """An Api client for the shared daemon with the bootstrap owner key."""
    return Api(module_daemon.base_url, module_daemon.api_key)


@pytest.fixture(scope="module")
def other_tenant(module_daemon):
    """A second tenant of the shared daemon: (tenant_id, Api with its key)."""
    tenant_id, token = create_tenant(module_daemon.data_dir)
    return tenant_id, Api(module_daemon.base_url, token)


@pytest.fixture(autouse=True)
def _shared_daemon_still_alive(request):
    """Fails loudly when a test killed the module's shared daemon."""
    yield
    if "module_daemon" in request.fixturenames:
        d = request.getfixturevalue("module_daemon")
        if not d.alive() and not d.may_crash:
            pytest.fail("the shared daemon died during this test:\n" + d.stderr_tail())
