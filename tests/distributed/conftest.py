"""Fixtures for the distributed suite (README.md).

Servers: ALERTHUB_TEST_{POSTGRES,REDIS,AMQP,KAFKA}_URL, as printed by
`tools/services.sh env`; the suite is skipped, saying so, when Redis, RabbitMQ
or Kafka is unset (PostgreSQL is optional: without it the store is SQLite).
Binaries: $ALERTHUB_DIST_BIN_DIR is an optimized bazel-bin
(`tools/bazel.sh info -c opt bazel-bin`) holding daemons/router/alerthub-router,
daemons/integrations/alerthub-integrations and daemons/alerthub/alerthub.
Store: $ALERTHUB_DIST_STORE = auto (default: postgres when its URL is set and
the daemons can open it, else sqlite), postgres or sqlite.
"""

import os

import pytest

from dist_harness import URL_VARS

BINARIES = {
    "router": "daemons/router/alerthub-router",
    "integrations": "daemons/integrations/alerthub-integrations",
    "alerthub": "daemons/alerthub/alerthub",
}


def _bin_dir():
    d = os.environ.get("ALERTHUB_DIST_BIN_DIR", "")
    if not d and os.environ.get("ALERTHUB_BIN"):
        # The e2e convention: ALERTHUB_BIN=<bazel-bin>/daemons/alerthub/alerthub.
        d = os.path.dirname(os.path.dirname(os.path.dirname(os.environ["ALERTHUB_BIN"])))
    if not d:
        raise pytest.UsageError(
            "ALERTHUB_DIST_BIN_DIR is not set. Build the daemons and point it at bazel-bin:\n"
            "  tools/bazel.sh build -c opt //daemons/...\n"
            "  ALERTHUB_DIST_BIN_DIR=$(tools/bazel.sh info -c opt bazel-bin) "
            "/usr/bin/python3 -m pytest tests/distributed -q")
    return d


@pytest.fixture(scope="session")
def bins():
    d = _bin_dir()
    out = {}
    for name, rel in BINARIES.items():
        path = os.path.join(d, rel)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise pytest.UsageError("%s: no executable %s (build -c opt //daemons/...)"
                                    % (name, path))
        out[name] = path
    return out


@pytest.fixture(scope="session")
def service_urls():
    urls = {k: os.environ.get(v, "") for k, v in URL_VARS.items()}
    missing = [URL_VARS[k] for k in ("redis", "amqp", "kafka") if not urls[k]]
    if missing:
        pytest.skip("distributed suite needs the servers of tools/services.sh; unset: %s "
                    "(run: tools/services.sh start && eval \"$(tools/services.sh env)\")"
                    % ", ".join(missing))
    return urls


@pytest.fixture(scope="session")
def store_choice():
    choice = os.environ.get("ALERTHUB_DIST_STORE", "auto") or "auto"
    if choice not in ("auto", "postgres", "sqlite"):
        raise pytest.UsageError("ALERTHUB_DIST_STORE must be auto, postgres or sqlite, not %r"
                                % choice)
    return choice


@pytest.fixture
def cluster(bins, service_urls, store_choice, tmp_path, request):
    """A started Cluster on fresh names; stopped (SIGTERM, exit 0 required)
    and its database and vhost removed afterwards. With
    ALERTHUB_DIST_KEEP=1 the names and logs are kept for inspection."""
    from dist_cluster import Cluster
    c = Cluster(bins, service_urls, store_choice, tmp_path)
    try:
        c.start()
        yield c
    finally:
        problems = c.stop()
        failed = getattr(request.node, "rep_call", None)
        keep = os.environ.get("ALERTHUB_DIST_KEEP") == "1"
        if not keep:
            c.cleanup()
        else:
            print("kept: store %s, vhost %s, logs %s" % (c.names.store_url, c.names.vhost, c.log_dir))
        if problems and not (failed is not None and failed.failed):
            pytest.fail("daemons did not stop cleanly:\n" + "\n".join(problems))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
