#!/usr/bin/python3
"""Delivery benchmark: notifications submitted to the all-in-one daemon and
delivered to a local webhook sink that answers at once, beside wrk POSTing to
the same sink with as many connections as the daemon has webhook workers, in
the same run. Then the same with 1% of the sink's answers being 500s.

Reports deliveries/s (submission of the first to arrival of the last),
latency from accept (the notification's created_at) to arrival at the sink,
and the ratios. Each figure is the median of --runs runs.

  benchmarks/load/delivery.py [--notifications 2000] [--workers 16] [--runs 3]

ALERTHUB_BIN and WEBHOOK_SINK_BIN name the binaries (default: built -c opt).
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bazel_bin():
    out = subprocess.run([os.path.join(ROOT, "tools/bazel.sh"), "info", "-c", "opt", "bazel-bin"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def http(method, url, body=None, headers=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read()
        return r.status, (json.loads(text) if text and r.headers.get_content_type().endswith("json") else None)


def wait_ready(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError("not ready: " + url)


def cpus():
    n = os.cpu_count() or 1
    if n >= 4:
        return "0-%d" % (n // 2 - 1), "%d-%d" % (n // 2, n - 1)
    if n >= 2:
        return "0", "1"
    return "0", "0"


class Sink:
    def __init__(self, binary, cpu, fail_every=0):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["taskset", "-c", cpu, binary, "--port=%d" % self.port, "--fail_every=%d" % fail_every],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready("http://127.0.0.1:%d/stats" % self.port)

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def stats(self):
        return http("GET", "http://127.0.0.1:%d/stats" % self.port)[1]

    def reset(self):
        http("POST", "http://127.0.0.1:%d/reset" % self.port)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Daemon:
    def __init__(self, binary, cpu, workers, work):
        self.port = free_port()
        self.data = os.path.join(work, "data-%d" % self.port)
        self.proc = subprocess.Popen(
            ["taskset", "-c", cpu, binary, "--data_dir=" + self.data, "--http_address=127.0.0.1",
             "--http_port=%d" % self.port, "--rate_limit_enabled=false", "--access_log=false",
             "--allow_private_networks", "--delivery_workers=%d" % workers],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "daemon.err"), "ab"))
        wait_ready("http://127.0.0.1:%d/health/ready" % self.port)
        with open(os.path.join(self.data, "bootstrap-api-key")) as f:
            self.key = f.read().strip()

    def api(self, method, path, body=None):
        return http(method, "http://127.0.0.1:%d%s" % (self.port, path), body,
                    {"X-API-Key": self.key})

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def wrk_rate(url, connections, duration, cpu):
    script = os.path.join(ROOT, "benchmarks/load/webhook.lua")
    out = subprocess.run(["taskset", "-c", cpu, "wrk", "-t1", "-c%d" % connections,
                          "-d%ds" % duration, "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError("wrk printed no rate:\n" + out)


def deliver(daemon, sink, count, expect=None, timeout=600):
    """Submits `count` notifications in batches of 100 and waits until the
    sink has accepted `expect` (default: all) of them. Returns (accepted
    deliveries/s, p50 ms, p99 ms, the sink's stats)."""
    expect = count if expect is None else expect
    sink.reset()
    start = time.monotonic()
    for first in range(0, count, 100):
        batch = [{"type": "bench.delivery", "title": "n%d" % i, "data": {"i": i}}
                 for i in range(first, min(count, first + 100))]
        status, _ = daemon.api("POST", "/api/v1/notifications/batch", {"notifications": batch})
        assert status == 200, status
    deadline = start + timeout
    while True:
        s = sink.stats()
        if s["delivered"] >= expect:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("only %d of %d delivered" % (s["delivered"], expect))
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    return expect / elapsed, s["latency_ms"]["p50"], s["latency_ms"]["p99"], s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notifications", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wrk_seconds", type=int, default=5)
    args = ap.parse_args()

    daemon_bin = os.environ.get("ALERTHUB_BIN")
    sink_bin = os.environ.get("WEBHOOK_SINK_BIN")
    if not daemon_bin or not sink_bin:
        subprocess.run([os.path.join(ROOT, "tools/bazel.sh"), "build", "-c", "opt",
                        "//daemons/alerthub", "//benchmarks:webhook_sink"],
                       cwd=ROOT, check=True, capture_output=True)
        b = bazel_bin()
        daemon_bin = daemon_bin or os.path.join(b, "daemons/alerthub/alerthub")
        sink_bin = sink_bin or os.path.join(b, "benchmarks/webhook_sink")
    server_cpu, load_cpu = cpus()
    work = tempfile.mkdtemp(prefix="alerthub-delivery-bench-")
    results = {"wrk": [], "ok": [], "ok_p50": [], "ok_p99": [], "fail": [], "fail_p99": []}
    try:
        for _ in range(args.runs):
            sink = Sink(sink_bin, load_cpu)
            try:
                results["wrk"].append(wrk_rate(sink.url, args.workers, args.wrk_seconds, load_cpu))
                daemon = Daemon(daemon_bin, server_cpu, args.workers, work)
                try:
                    daemon.api("POST", "/api/v1/integrations", {
                        "name": "bench sink", "channel": "webhook", "default": True,
                        "config": {"url": sink.url}})
                    rate, p50, p99, _ = deliver(daemon, sink, args.notifications)
                    results["ok"].append(rate)
                    results["ok_p50"].append(p50)
                    results["ok_p99"].append(p99)
                finally:
                    daemon.close()
            finally:
                sink.close()
            # 1% of answers are 500s: each is retried (the schedule's second
            # step, 5 s later), so goodput is measured over the first pass.
            sink = Sink(sink_bin, load_cpu, fail_every=100)
            try:
                daemon = Daemon(daemon_bin, server_cpu, args.workers, work)
                try:
                    daemon.api("POST", "/api/v1/integrations", {
                        "name": "bench sink", "channel": "webhook", "default": True,
                        "config": {"url": sink.url}})
                    # The first pass: every delivery the sink accepted the
                    # first time (the 1% it refused are retried 5 s later).
                    target = args.notifications - args.notifications // 100
                    rate, p50, p99, _ = deliver(daemon, sink, args.notifications, target)
                    results["fail"].append(rate)
                    results["fail_p99"].append(p99)
                finally:
                    daemon.close()
            finally:
                sink.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print()
    print("machine: %d cores, %.0f GiB; server cpus %s, load/sink cpus %s; %d notifications, "
          "%d webhook workers = %d wrk connections; median of %d runs"
          % (os.cpu_count(), mem, server_cpu, load_cpu, args.notifications, args.workers,
             args.workers, args.runs))
    print()
    print("| scenario | rate (/s) | p50 accept->sink (ms) | p99 accept->sink (ms) | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("| wrk -> sink (baseline) | %.0f | | | 1.00 |" % med["wrk"])
    print("| AlertHub deliveries -> sink | %.0f | %.1f | %.1f | %.3f |"
          % (med["ok"], med["ok_p50"], med["ok_p99"], med["ok"] / med["wrk"]))
    print("| AlertHub, 1%% 500s (goodput of the first pass) | %.0f | | %.1f | %.3f |"
          % (med["fail"], med["fail_p99"], med["fail"] / med["wrk"]))
    print()
    print("goodput with 1%% injected 500s vs none: %.1f%% lower"
          % (100 * (1 - med["fail"] / med["ok"])))
    print("RESULT wrk=%.0f deliveries=%.0f ratio=%.3f" % (med["wrk"], med["ok"], med["ok"] / med["wrk"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
