"""A real all-in-one `alerthub` daemon for the binding tests: started on a free
loopback port with its own data dir, stopped with SIGTERM.

Mirrors tests/e2e/alerthub_e2e.py (which the e2e suite owns) with the
standard library only.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


class DaemonError(AssertionError):
    pass


class Daemon:
    def __init__(self, binary, data_dir, log_path, extra_args=()):
        self.binary = binary
        self.data_dir = str(data_dir)
        self.log_path = str(log_path)
        self.extra_args = list(extra_args)
        self.port = 0
        self.proc = None

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def api_key(self):
        with open(os.path.join(self.data_dir, "bootstrap-api-key")) as f:
            return f.read().strip()

    def start(self, timeout=30.0):
        args = [self.binary, "--data_dir=" + self.data_dir, "--http_address=127.0.0.1",
                "--http_port=0", "--grpc_address=127.0.0.1", "--grpc_port=0"] + self.extra_args
        # The daemon reads ALERTHUB_<FLAG> variables; keep the caller's out.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTHUB_")}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         env=env)
        deadline = time.monotonic() + timeout
        while self.port == 0:
            self._check_alive()
            for rec in self._records():
                if rec.get("msg") == "listening" and "port" in rec:
                    self.port = int(rec["port"])
            if self.port == 0:
                self._check_deadline(deadline, "no 'listening' line")
                time.sleep(0.02)
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.base_url + "/health/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError):
                pass
            self._check_deadline(deadline, "not ready")
            time.sleep(0.02)

    def stop(self, timeout=20.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise DaemonError("no exit within %.0fs of SIGTERM:\n%s" % (timeout, self.log_tail()))

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def _records(self):
        out = []
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return out
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise DaemonError("the daemon exited with %r:\n%s"
                              % (self.proc.returncode, self.log_tail()))

    def _check_deadline(self, deadline, what):
        if time.monotonic() > deadline:
            self.stop()
            raise DaemonError("%s in time:\n%s" % (what, self.log_tail()))


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
