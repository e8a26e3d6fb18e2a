"""Helpers shared by the Python load scenarios in benchmarks/load/
(delivery.py, alertmanager.py): free ports, JSON over HTTP, core pinning,
the machine line, and the two processes both scenarios start — the
webhook sink (//benchmarks:webhook_sink) and the all-in-one daemon.
Standard library only; runs under /usr/bin/python3.
"""

import json
import os
import signal
import socket
import subprocess
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


def binaries():
    """Paths of ALERTHUB_BIN (//daemons/alerthub) and WEBHOOK_SINK_BIN
    (//benchmarks:webhook_sink), building them -c opt when either is unset."""
    daemon_bin = os.environ.get("ALERTHUB_BIN")
    sink_bin = os.environ.get("WEBHOOK_SINK_BIN")
    if not daemon_bin or not sink_bin:
        subprocess.run([os.path.join(ROOT, "tools/bazel.sh"), "build", "-c", "opt",
                        "//daemons/alerthub", "//benchmarks:webhook_sink"],
                       cwd=ROOT, check=True, capture_output=True)
        b = bazel_bin()
        daemon_bin = daemon_bin or os.path.join(b, "daemons/alerthub/alerthub")
        sink_bin = sink_bin or os.path.join(b, "benchmarks/webhook_sink")
    return daemon_bin, sink_bin


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
    """(server cpus, load-generator cpus) for taskset: halves of the machine,
    core 0 and core 1 on two cores, both 0 on one."""
    n = os.cpu_count() or 1
    if n >= 4:
        return "0-%d" % (n // 2 - 1), "%d-%d" % (n // 2, n - 1)
    if n >= 2:
        return "0", "1"
    return "0", "0"


def machine():
    """'2 cores, 24 GiB, load average 1.23 1.55 1.66' (the load average when
    called: figures measured on a busy machine are lower bounds)."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    la = os.getloadavg()
    return "%d cores, %.0f GiB, load average %.2f %.2f %.2f" % (os.cpu_count(), mem, *la)


def proc_status_kib(pid, field):
    """A /proc/<pid>/status field in KiB (VmRSS, VmHWM), 0 when unknown."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def stop(proc, timeout=30):
    """SIGTERM, then SIGKILL after `timeout` s: this process's child only."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Sink:
    """//benchmarks:webhook_sink on `cpu`, answering 500 to every
    fail_every-th request (0: never)."""

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

    def arrivals(self):
        """{bench id: arrival in Unix ns} of every item that carried one."""
        return http("GET", "http://127.0.0.1:%d/arrivals" % self.port, timeout=120)[1]

    def reset(self):
        http("POST", "http://127.0.0.1:%d/reset" % self.port)

    def close(self):
        stop(self.proc, 10)


class Daemon:
    """The all-in-one daemon on `cpu` with a fresh data dir under `work`:
    rate limits and access log off, private networks allowed (the sink is on
    loopback), `workers` webhook delivery workers."""

    def __init__(self, binary, cpu, workers, work, extra=()):
        self.port = free_port()
        self.data = os.path.join(work, "data-%d" % self.port)
        self.proc = subprocess.Popen(
            ["taskset", "-c", cpu, binary, "--data_dir=" + self.data, "--http_address=127.0.0.1",
             "--http_port=%d" % self.port, "--grpc_port=0", "--rate_limit_enabled=false", "--access_log=false",
             "--allow_private_networks", "--delivery_workers=%d" % workers, *extra],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "daemon.err"), "ab"))
        wait_ready("http://127.0.0.1:%d/health/ready" % self.port)
        with open(os.path.join(self.data, "bootstrap-api-key")) as f:
            self.key = f.read().strip()

    def api(self, method, path, body=None):
        return http(method, "http://127.0.0.1:%d%s" % (self.port, path), body,
                    {"X-API-Key": self.key})

    def close(self):
        stop(self.proc, 30)
