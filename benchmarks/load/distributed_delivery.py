#!/usr/bin/python3
"""Distributed-mode delivery: notifications submitted to `alerthub-router`
and delivered by `alerthub-integrations` to a local webhook sink, the two
daemons on PostgreSQL + Redis + Kafka + RabbitMQ (the servers of
tools/services.sh), beside wrk POSTing to the same sink with as many
connections as the integrations daemon has webhook workers, in the same run.

Reports deliveries/s (submission of the first to arrival of the last),
latency from accept (the notification's created_at) to arrival at the sink,
and the ratio to wrk. Each figure is the median of --runs runs; each run uses
a fresh PostgreSQL database and RabbitMQ vhost.

  eval "$(tools/services.sh env)"
  benchmarks/load/distributed_delivery.py [--notifications 2000] [--workers 16] [--runs 3]

ALERTHUB_DIST_BIN_DIR names the directory holding daemons/router/... and
daemons/integrations/... (default: built -c opt); WEBHOOK_SINK_BIN the sink.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402
from delivery import deliver, wrk_rate  # noqa: E402

sys.path.insert(0, os.path.join(_common.ROOT, "tests", "distributed"))
from dist_harness import RunNames  # noqa: E402  (fresh database and vhost per run)

URL_VARS = {"postgres": "ALERTHUB_TEST_POSTGRES_URL", "redis": "ALERTHUB_TEST_REDIS_URL",
            "kafka": "ALERTHUB_TEST_KAFKA_URL", "amqp": "ALERTHUB_TEST_AMQP_URL"}


def binaries():
    bin_dir = os.environ.get("ALERTHUB_DIST_BIN_DIR")
    sink = os.environ.get("WEBHOOK_SINK_BIN")
    if not bin_dir or not sink:
        subprocess.run([os.path.join(_common.ROOT, "tools/bazel.sh"), "build", "-c", "opt",
                        "//daemons/router:alerthub-router",
                        "//daemons/integrations:alerthub-integrations",
                        "//benchmarks:webhook_sink"], cwd=_common.ROOT, check=True,
                       capture_output=True)
        b = _common.bazel_bin()
        bin_dir = bin_dir or b
        sink = sink or os.path.join(b, "benchmarks/webhook_sink")
    return (os.path.join(bin_dir, "daemons/router/alerthub-router"),
            os.path.join(bin_dir, "daemons/integrations/alerthub-integrations"), sink)


class Split:
    """A router and an integrations daemon on the run's URLs; `api` goes to
    the router for notifications and to the integrations daemon otherwise."""

    def __init__(self, router_bin, integrations_bin, names, cpu, workers, work):
        common = ["--store=" + names.store_url, "--bus=" + names.bus_url,
                  "--queue=" + names.amqp_url, "--kv=" + names.kv_url,
                  "--http_address=127.0.0.1", "--rate_limit_enabled=false", "--access_log=false"]
        key_file = os.path.join(work, "key-" + names.run_id)
        err = open(os.path.join(work, "daemons.err"), "ab")
        self.router_port = _common.free_port()
        self.router = subprocess.Popen(
            ["taskset", "-c", cpu, router_bin, *common, "--http_port=%d" % self.router_port,
             "--bootstrap_key_file=" + key_file], stdout=subprocess.DEVNULL, stderr=err)
        _common.wait_ready("http://127.0.0.1:%d/health/ready" % self.router_port, timeout=60)
        with open(key_file) as f:
            self.key = f.read().strip()
        self.integrations_port = _common.free_port()
        self.integrations = subprocess.Popen(
            ["taskset", "-c", cpu, integrations_bin, *common,
             "--http_port=%d" % self.integrations_port, "--secrets_key=" + "ab" * 32,
             "--allow_private_networks", "--delivery_workers=%d" % workers],
            stdout=subprocess.DEVNULL, stderr=err)
        _common.wait_ready("http://127.0.0.1:%d/health/ready" % self.integrations_port, timeout=60)

    def api(self, method, path, body=None):
        port = self.router_port if path.startswith("/api/v1/notifications") else \
            self.integrations_port
        return _common.http(method, "http://127.0.0.1:%d%s" % (port, path), body,
                            {"X-API-Key": self.key})

    def close(self):
        _common.stop(self.router, 30)
        _common.stop(self.integrations, 30)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notifications", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wrk_seconds", type=int, default=5)
    args = ap.parse_args()

    urls = {}
    for name, var in URL_VARS.items():
        urls[name] = os.environ.get(var)
        if not urls[name]:
            sys.exit("%s is not set: tools/services.sh start && eval \"$(tools/services.sh env)\""
                     % var)
    router_bin, integrations_bin, sink_bin = binaries()
    server_cpu, load_cpu = _common.cpus()
    results = {"wrk": [], "ok": [], "p50": [], "p99": []}
    with tempfile.TemporaryDirectory(prefix="alerthub-dist-delivery-") as work:
        for _ in range(args.runs):
            names = RunNames(urls, work)
            names.create_vhost()
            names.use_postgres()
            sink = _common.Sink(sink_bin, load_cpu)
            split = None
            try:
                results["wrk"].append(wrk_rate(sink.url, args.workers, args.wrk_seconds, load_cpu))
                split = Split(router_bin, integrations_bin, names, server_cpu, args.workers, work)
                split.api("POST", "/api/v1/integrations", {
                    "name": "bench sink", "channel": "webhook", "default": True,
                    "config": {"url": sink.url}})
                rate, p50, p99, _ = deliver(split, sink, args.notifications)
                results["ok"].append(rate)
                results["p50"].append(p50)
                results["p99"].append(p99)
            finally:
                if split is not None:
                    split.close()
                sink.close()
                names.cleanup()

    med = {k: statistics.median(v) for k, v in results.items()}
    print()
    print("machine: %s; server cpus %s, load/sink cpus %s; %d notifications, "
          "%d webhook workers = %d wrk connections; median of %d runs; "
          "router + integrations on postgres://, redis://, kafka://, amqp://"
          % (_common.machine(), server_cpu, load_cpu, args.notifications, args.workers,
             args.workers, args.runs))
    print()
    print("| scenario | rate (/s) | p50 accept->sink (ms) | p99 accept->sink (ms) | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("| wrk -> sink (baseline) | %.0f | | | 1.00 |" % med["wrk"])
    print("| AlertHub split daemons -> sink | %.0f | %.1f | %.1f | %.3f |"
          % (med["ok"], med["p50"], med["p99"], med["ok"] / med["wrk"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
