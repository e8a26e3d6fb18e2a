#!/usr/bin/python3
"""Delivery benchmark: notifications submitted to the all-in-one daemon and
delivered to a local webhook sink that answers at once, beside wrk POSTing to
the same sink with as many connections as the daemon has webhook workers, in
the same run. Then the same with 1% of the sink's answers being 500s.

Reports deliveries/s (submission of the first to arrival of the last),
latency from accept (the notification's created_at) to arrival at the sink,
and the ratios. Each figure is the median of --runs runs.

  benchmarks/load/delivery.py [--notifications 2000] [--workers 16] [--runs 3]
                              [--submitters 4]

ALERTHUB_BIN and WEBHOOK_SINK_BIN name the binaries (default: built -c opt).
"""

import argparse
import concurrent.futures
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _common import ROOT, Daemon, Sink, binaries, cpus, machine


def wrk_rate(url, connections, duration, cpu):
    script = os.path.join(ROOT, "benchmarks/load/webhook.lua")
    out = subprocess.run(["taskset", "-c", cpu, "wrk", "-t1", "-c%d" % connections,
                          "-d%ds" % duration, "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError("wrk printed no rate:\n" + out)


def deliver(daemon, sink, count, submitters=4, expect=None, timeout=600):
    """Submits `count` notifications in batches of 100 from `submitters`
    concurrent clients and waits until the sink has accepted `expect`
    (default: all) of them. Returns (accepted deliveries/s, p50 ms, p99 ms,
    the sink's stats)."""
    expect = count if expect is None else expect
    sink.reset()
    start = time.monotonic()

    def submit(first):
        batch = [{"type": "bench.delivery", "title": "n%d" % i, "data": {"i": i}}
                 for i in range(first, min(count, first + 100))]
        status, _ = daemon.api("POST", "/api/v1/notifications/batch", {"notifications": batch})
        assert status == 200, status

    with concurrent.futures.ThreadPoolExecutor(submitters) as pool:
        for f in [pool.submit(submit, first) for first in range(0, count, 100)]:
            f.result()
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
    ap.add_argument("--submitters", type=int, default=4,
                    help="concurrent clients submitting the batches")
    args = ap.parse_args()

    daemon_bin, sink_bin = binaries()
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
                    rate, p50, p99, _ = deliver(daemon, sink, args.notifications, args.submitters)
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
                    rate, p50, p99, _ = deliver(daemon, sink, args.notifications, args.submitters, target)
                    results["fail"].append(rate)
                    results["fail_p99"].append(p99)
                finally:
                    daemon.close()
            finally:
                sink.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    print()
    print("machine: %s; server cpus %s, load/sink cpus %s; %d notifications from %d "
          "submitters, %d webhook workers = %d wrk connections; median of %d runs"
          % (machine(), server_cpu, load_cpu, args.notifications, args.submitters,
             args.workers, args.workers, args.runs))
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
