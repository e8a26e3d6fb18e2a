#!/usr/bin/python3
"""WebSocket benchmark: idle memory per connection and update fan-out.

Starts the all-in-one daemon, opens N idle WebSocket connections for one
tenant, reports the daemon's RSS growth per connection, then submits M
notifications and measures how many `notification.updated` messages reach
the N clients per second (N x M deliveries in all).

  benchmarks/load/ws_fanout.py --connections 10000 --notifications 20 --runs 3
  benchmarks/load/ws_fanout.py --connections 50 --notifications 3 --runs 1   # smoke

The daemon runs on the first half of the cores and this client on the
second (`taskset`); each figure is the median of --runs runs, each against a
fresh daemon. The open-file limit is raised to what --connections needs
(the client holds one socket per connection, the daemon another).

ALERTHUB_BIN names the daemon binary (default: built with -c opt).
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

from _common import cpus, free_port, machine, proc_status_kib


def rss_kib(pid):
    return proc_status_kib(pid, "VmRSS")


def raise_fd_limit(needed=0):
    """Soft open-file limit up to the hard one, and both up to `needed` when
    the hard limit is lower (possible as root, up to fs.nr_open)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = max(hard, needed) if hard != resource.RLIM_INFINITY else hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, target))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def daemon_binary():
    if os.environ.get("ALERTHUB_BIN"):
        return os.environ["ALERTHUB_BIN"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([f"{root}/tools/bazel.sh", "build", "-c", "opt", "//daemons/alerthub"],
                   check=True, capture_output=True)
    out = subprocess.run([f"{root}/tools/bazel.sh", "info", "-c", "opt", "bazel-bin"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return f"{out}/daemons/alerthub/alerthub"


async def one_run(args, binary, server_cpu, needed, errors):
    work = tempfile.mkdtemp()
    port = free_port()
    proc = subprocess.Popen(
        ["taskset", "-c", server_cpu, binary, f"--data_dir={work}/data",
         "--http_address=127.0.0.1", f"--http_port={port}", "--grpc_port=0", "--access_log=false",
         "--rate_limit_enabled=false",
         # Only the accepted update per notification: fan-out, not delivery.
         "--deliver=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: raise_fd_limit(needed))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/health/ready", timeout=1)
                break
            except Exception:
                time.sleep(0.05)
        key = open(f"{work}/data/bootstrap-api-key").read().strip()
        await asyncio.sleep(0.5)
        rss_before = rss_kib(proc.pid)

        sockets = []
        opened_at = time.monotonic()
        for i in range(0, args.connections, 200):
            batch = [websockets.connect(f"ws://127.0.0.1:{port}/api/v1/ws?api_key={key}",
                                        max_queue=None, ping_interval=None, open_timeout=60)
                     for _ in range(min(200, args.connections - i))]
            opened = await asyncio.gather(*batch, return_exceptions=True)
            sockets += [ws for ws in opened if not isinstance(ws, BaseException)]
            failures = [e for e in opened if isinstance(e, BaseException)]
            if failures:  # report how far the client got, and why it stopped
                errors.append(f"{len(failures)} connects failed after {len(sockets)} opened: "
                              f"{failures[0]!r}")
                break
        open_s = time.monotonic() - opened_at
        await asyncio.sleep(1.0)
        rss_after = rss_kib(proc.pid)
        per_conn = (rss_after - rss_before) / max(1, len(sockets))

        expected = len(sockets) * args.notifications
        received = 0
        done = asyncio.Event()
        last = [0.0]

        async def reader(ws):
            nonlocal received
            async for message in ws:
                if json.loads(message).get("type") == "notification.updated":
                    received += 1
                    last[0] = time.monotonic()
                    if received >= expected:
                        done.set()

        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        start = time.monotonic()

        def submit(i):
            body = json.dumps({"type": "bench.fanout", "title": f"fan-out {i}"}).encode()
            req = urllib.request.Request(f"{base}/api/v1/notifications", data=body,
                                         headers={"X-API-Key": key,
                                                  "Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=30).read()

        for i in range(args.notifications):
            await asyncio.get_running_loop().run_in_executor(None, submit, i)
        try:
            await asyncio.wait_for(done.wait(), timeout=120)
        except asyncio.TimeoutError:
            pass
        elapsed = max(1e-6, (last[0] or time.monotonic()) - start)
        for t in readers:
            t.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

        return {"opened": len(sockets), "open_s": open_s, "rss_before": rss_before,
                "rss_after": rss_after, "per_conn": per_conn, "received": received,
                "expected": expected, "rate": received / elapsed}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--notifications", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    needed = args.connections + 1024
    limit = raise_fd_limit(needed)
    server_cpu, load_cpu = cpus()
    lo, _, hi = load_cpu.partition("-")
    try:
        os.sched_setaffinity(0, set(range(int(lo), int(hi or lo) + 1)))
    except OSError:
        pass
    binary = daemon_binary()
    load_before = machine()
    errors = []
    runs = [await one_run(args, binary, server_cpu, needed, errors) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    print()
    print(f"machine: {load_before} (at start); {machine().split(', ', 2)[2]} (at end)")
    print(f"python {sys.version.split()[0]}, websockets {websockets.__version__}, open-file "
          f"limit {limit}; daemon cpus {server_cpu}, client cpus {load_cpu}; "
          f"median of {args.runs} runs")
    print()
    print("| metric | value |")
    print("| --- | --- |")
    print(f"| connections opened | {med['opened']:.0f} of {args.connections} in "
          f"{med['open_s']:.1f} s |")
    print(f"| daemon RSS before / after | {med['rss_before'] / 1024:.1f} MiB / "
          f"{med['rss_after'] / 1024:.1f} MiB |")
    print(f"| RSS per idle connection | {med['per_conn']:.1f} KiB |")
    print(f"| updates delivered | {med['received']:.0f} of {med['expected']:.0f} |")
    print(f"| fan-out rate | {med['rate']:.0f} updates/s |")
    for e in errors:
        print(f"connection error: {e}")
    print(f"RESULT connections={med['opened']:.0f} rss_per_conn_kib={med['per_conn']:.1f} "
          f"updates_per_s={med['rate']:.0f}")
    return 0 if not errors and all(r["received"] == r["expected"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
