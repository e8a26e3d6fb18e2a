#!/usr/bin/python3
"""WebSocket benchmark: idle memory per connection and update fan-out.

Starts the all-in-one daemon, opens N idle WebSocket connections for one
tenant, reports the daemon's RSS growth per connection, then submits M
notifications and measures how many `notification.updated` messages reach
the N clients per second (N x M deliveries in all).

  benchmarks/load/ws_fanout.py --connections 10000 --notifications 20
  benchmarks/load/ws_fanout.py --connections 50 --notifications 3     # smoke

ALERTHUB_BIN names the daemon binary (default: built with -c opt).
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def daemon_binary():
    if os.environ.get("ALERTHUB_BIN"):
        return os.environ["ALERTHUB_BIN"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([f"{root}/tools/bazel.sh", "build", "-c", "opt", "//daemons/alerthub"],
                   check=True, capture_output=True)
    out = subprocess.run([f"{root}/tools/bazel.sh", "info", "-c", "opt", "bazel-bin"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return f"{out}/daemons/alerthub/alerthub"


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--notifications", type=int, default=20)
    args = ap.parse_args()
    raise_fd_limit()

    work = tempfile.mkdtemp()
    port = free_port()
    proc = subprocess.Popen(
        [daemon_binary(), f"--data_dir={work}/data", "--http_address=127.0.0.1",
         f"--http_port={port}", "--access_log=false", "--rate_limit_enabled=false",
         # Only the accepted update per notification: fan-out, not delivery.
         "--deliver=false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=raise_fd_limit)
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
            sockets += await asyncio.gather(*batch)
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

        print(f"machine: {os.cpu_count()} cores; websockets {websockets.__version__}")
        print(f"| metric | value |")
        print(f"|---|---|")
        print(f"| connections opened | {len(sockets)} in {open_s:.1f} s |")
        print(f"| daemon RSS before / after | {rss_before / 1024:.1f} MiB / {rss_after / 1024:.1f} MiB |")
        print(f"| RSS per idle connection | {per_conn:.1f} KiB |")
        print(f"| updates delivered | {received} of {expected} |")
        print(f"| fan-out rate | {received / elapsed:.0f} updates/s |")
        return 0 if received == expected else 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
