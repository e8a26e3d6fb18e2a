#!/usr/bin/python3
"""AlertHub side by side with Prometheus Alertmanager, in the same run.

The same N events are posted to each system in turn, and each system
delivers every event on its own to the same local webhook sink
(//benchmarks:webhook_sink, which answers at once and timestamps arrivals):

  Alertmanager  POST /api/v2/alerts, --batch alerts per POST (Prometheus'
                notifier sends up to 64), each alert with a unique bench_id
                label; route `group_by: ['...']`, `group_wait: 0s`,
                group/repeat intervals of hours, webhook receiver with
                `send_resolved: false` (so: one webhook call per alert).
  AlertHub      POST /api/v1/notifications/batch, --batch per POST, each
                notification with data.bench_id; the all-in-one daemon with
                a default webhook integration pointing at the sink.

One client posts the batches back to back on one keep-alive connection (as a
Prometheus server does). Reported for each system: ingest rate (events
accepted/s: from the first POST to the last 2xx), delivered/s (from the first
POST to the last arrival at the sink), latency from accept (the 2xx of the
POST that carried the event) to arrival at the sink, p50 and p99 (back to
back, this is mostly the backlog of whichever system accepts faster than it
delivers; --rate paces the POSTs below both systems' delivery rate), the
server's CPU seconds and peak RSS, and the ratios AlertHub/Alertmanager.
Each figure is the median of --runs runs; the systems alternate which goes
first. Servers run on the first half of the cores, the client and the sink
on the second (`taskset`); Alertmanager is stopped by its pid after each run
(under load it keeps both cores busy for a while after the last alert).

  benchmarks/load/alertmanager.py [--events 5000] [--runs 3] [--batch 64] [--workers 16]
  benchmarks/load/alertmanager.py --events 2000 --rate 200   # paced: latency without backlog
  benchmarks/load/alertmanager.py --events 50 --runs 1           # smoke

Needs `prometheus-alertmanager` on PATH (Debian package of that name, in
tools/bootstrap.sh; this script installs nothing). ALERTHUB_BIN and
WEBHOOK_SINK_BIN name AlertHub's binaries (default: built -c opt).
"""

import argparse
import datetime
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _common import (ROOT, Daemon, Sink, binaries, cpus, free_port, machine, proc_status_kib,
                     stop, wait_ready)

AM_BINARY = "prometheus-alertmanager"


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def cpu_seconds(pid):
    """utime + stime of `pid` (all its threads), in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]


class Alertmanager:
    """prometheus-alertmanager on `cpu`, its own storage dir, no cluster
    (empty --cluster.listen-address), routing every alert alone to `sink_url`."""

    def __init__(self, cpu, sink_url, work):
        self.port = free_port()
        d = tempfile.mkdtemp(prefix="am-", dir=work)
        config = os.path.join(d, "alertmanager.yml")
        with open(config, "w") as f:
            f.write("""route:
  receiver: sink
  group_by: ['...']
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 24h
receivers:
  - name: sink
    webhook_configs:
      - url: %s
        send_resolved: false
""" % sink_url)
        self.proc = subprocess.Popen(
            ["taskset", "-c", cpu, AM_BINARY, "--config.file=" + config,
             "--storage.path=" + os.path.join(d, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address=",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "alertmanager.err"), "ab"))
        wait_ready("http://127.0.0.1:%d/-/ready" % self.port)

    def close(self):
        stop(self.proc, 10)


def am_batch(ids):
    now = time.time()
    return "/api/v2/alerts", [{
        "labels": {"alertname": "BenchAlert", "bench_id": i, "instance": "host-%s:9100" % i,
                   "job": "node", "severity": "critical"},
        "annotations": {"summary": "Instance %s is down" % i},
        "startsAt": rfc3339(now), "endsAt": rfc3339(now + 3600),
        "generatorURL": "http://prometheus.example/graph"} for i in ids]


def alerthub_batch(ids):
    return "/api/v1/notifications/batch", {"notifications": [{
        "type": "alert.firing", "title": "BenchAlert on host-%s:9100" % i, "priority": "critical",
        "body": "Instance %s is down" % i,
        "tags": {"instance": "host-%s:9100" % i, "job": "node", "severity": "critical"},
        "data": {"bench_id": i}} for i in ids]}


def run_phase(name, port, headers, make_batch, pid, sink, events, batch, timeout, rate=0):
    """Posts `events` events in batches on one connection (back to back, or
    paced to `rate` events/s), waits for the sink to have them all (or
    `timeout` s), returns this phase's figures."""
    sink.reset()
    ids = ["%s-%d" % (name, i) for i in range(events)]
    accepted_ns = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    cpu0 = cpu_seconds(pid)
    start_ns = time.time_ns()
    for first in range(0, events, batch):
        if rate > 0:  # open loop: batch k leaves at k * batch / rate
            delay = start_ns / 1e9 + first / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        chunk = ids[first:first + batch]
        path, body = make_batch(chunk)
        conn.request("POST", path, json.dumps(body).encode(),
                     {"Content-Type": "application/json", **headers})
        r = conn.getresponse()
        text = r.read()
        now_ns = time.time_ns()
        if r.status >= 300:
            raise RuntimeError("%s: POST %s -> %d %s" % (name, path, r.status, text[:200]))
        if text:
            reply = json.loads(text)
            if isinstance(reply, dict) and reply.get("accepted", len(chunk)) != len(chunk):
                raise RuntimeError("%s: only %s of %d accepted" % (name, reply.get("accepted"),
                                                                   len(chunk)))
        for i in chunk:
            accepted_ns[i] = now_ns
    conn.close()
    ingest_s = (now_ns - start_ns) / 1e9
    deadline = time.monotonic() + timeout
    while sink.stats()["items"] < events and time.monotonic() < deadline:
        time.sleep(0.05)
    arrivals = sink.arrivals()
    requests = sink.stats()["requests"]
    cpu = cpu_seconds(pid) - cpu0
    got = [i for i in ids if i in arrivals]
    last_ns = max((arrivals[i] for i in got), default=start_ns)
    lat_ms = [(arrivals[i] - accepted_ns[i]) / 1e6 for i in got]
    return {
        "ingest": events / ingest_s,
        "delivered": len(got),
        "requests_per_event": requests / max(1, len(got)),  # 1.0: each delivered on its own
        "delivered_per_s": len(got) / max(1e-9, (last_ns - start_ns) / 1e9),
        "p50": percentile(lat_ms, 0.50),
        "p99": percentile(lat_ms, 0.99),
        "cpu_s": cpu,
        "rss_mib": proc_status_kib(pid, "VmHWM") / 1024,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64, help="events per POST (AlertHub: at most 100)")
    ap.add_argument("--workers", type=int, default=16, help="AlertHub webhook workers")
    ap.add_argument("--rate", type=float, default=0,
                    help="events/s to pace the POSTs at (0: back to back, saturating); "
                         "below both systems' delivery rate, latency is the systems' own "
                         "rather than queueing")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds to wait for deliveries after the last POST, per system and run")
    args = ap.parse_args()

    if shutil.which(AM_BINARY) is None:
        print("alertmanager.py: %s not found; install the Debian package prometheus-alertmanager "
              "(tools/bootstrap.sh lists it)" % AM_BINARY, file=sys.stderr)
        return 2
    am_version = subprocess.run([AM_BINARY, "--version"], capture_output=True,
                                text=True).stdout.splitlines()[0]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    if subprocess.run(["git", "--no-optional-locks", "-C", ROOT, "status", "--porcelain",
                       "--untracked-files=no"], capture_output=True, text=True).stdout.strip():
        commit += "+local changes"
    daemon_bin, sink_bin = binaries()
    server_cpu, load_cpu = cpus()
    lo, _, hi = load_cpu.partition("-")
    try:  # the client shares the sink's cores, away from the servers
        os.sched_setaffinity(0, set(range(int(lo), int(hi or lo) + 1)))
    except OSError:
        pass
    load_before = machine()
    work = tempfile.mkdtemp(prefix="alerthub-am-bench-")
    results = {"am": [], "ah": []}
    try:
        for run in range(args.runs):
            sink = Sink(sink_bin, load_cpu)
            try:
                order = ["ah", "am"] if run % 2 == 0 else ["am", "ah"]
                for system in order:
                    if system == "am":
                        am = Alertmanager(server_cpu, sink.url, work)
                        try:
                            results["am"].append(run_phase(
                                "am%d" % run, am.port, {}, am_batch, am.proc.pid, sink,
                                args.events, args.batch, args.timeout, args.rate))
                        finally:
                            am.close()
                    else:
                        daemon = Daemon(daemon_bin, server_cpu, args.workers, work)
                        try:
                            daemon.api("POST", "/api/v1/integrations", {
                                "name": "bench sink", "channel": "webhook", "default": True,
                                "config": {"url": sink.url}})
                            results["ah"].append(run_phase(
                                "ah%d" % run, daemon.port, {"X-API-Key": daemon.key},
                                alerthub_batch, daemon.proc.pid, sink, args.events,
                                args.batch, args.timeout, args.rate))
                        finally:
                            daemon.close()
            finally:
                sink.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {s: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for s, rs in results.items()}
    am, ah = med["am"], med["ah"]

    def ratio(a, b):
        return a / b if b else float("inf")

    print()
    print("machine: %s (at start); %s (at end)" % (load_before, machine().split(", ", 2)[2]))
    print("versions: %s; AlertHub %s (%d webhook workers); python %s"
          % (am_version, commit, args.workers, sys.version.split()[0]))
    print("%d events per system, %d per POST, one client connection, %s; server cpus %s, "
          "client+sink cpus %s; median of %d runs"
          % (args.events, args.batch,
             "paced at %.0f events/s" % args.rate if args.rate > 0 else "back to back",
             server_cpu, load_cpu, args.runs))
    print()
    print("| system | ingest (events/s) | delivered/s | delivered | p50 accept->sink (ms) "
          "| p99 accept->sink (ms) | server CPU (s) | peak RSS (MiB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, m in (("Alertmanager", am), ("AlertHub", ah)):
        print("| %s | %.0f | %.0f | %d/%d | %.1f | %.1f | %.2f | %.0f |"
              % (label, m["ingest"], m["delivered_per_s"], m["delivered"], args.events,
                 m["p50"], m["p99"], m["cpu_s"], m["rss_mib"]))
    print("| ratio AlertHub/Alertmanager | %.2f | %.2f | | %.2f | %.2f | %.2f | %.2f |"
          % (ratio(ah["ingest"], am["ingest"]), ratio(ah["delivered_per_s"], am["delivered_per_s"]),
             ratio(ah["p50"], am["p50"]), ratio(ah["p99"], am["p99"]),
             ratio(ah["cpu_s"], am["cpu_s"]), ratio(ah["rss_mib"], am["rss_mib"])))
    for label, key in (("Alertmanager", "am"), ("AlertHub", "ah")):
        print("%s per run: delivered/s %s; p99 ms %s; webhook requests per event %s" % (
            label, " ".join("%.0f" % r["delivered_per_s"] for r in results[key]),
            " ".join("%.0f" % r["p99"] for r in results[key]),
            " ".join("%.2f" % r["requests_per_event"] for r in results[key])))
    print()
    d_ratio = ratio(ah["delivered_per_s"], am["delivered_per_s"])
    p_ratio = ratio(ah["p99"], am["p99"])
    print("targets: delivered/s >= 10x Alertmanager's: %.2fx (%s); p99 accept->sink <= 0.1x "
          "Alertmanager's: %.2fx (%s)" % (d_ratio, "met" if d_ratio >= 10 else "not met",
                                          p_ratio, "met" if p_ratio <= 0.1 else "not met"))
    print("RESULT am_ingest=%.0f ah_ingest=%.0f am_delivered_per_s=%.0f ah_delivered_per_s=%.0f "
          "am_p99_ms=%.1f ah_p99_ms=%.1f" % (am["ingest"], ah["ingest"], am["delivered_per_s"],
                                              ah["delivered_per_s"], am["p99"], ah["p99"]))
    complete = all(r["delivered"] == args.events for rs in results.values() for r in rs)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
