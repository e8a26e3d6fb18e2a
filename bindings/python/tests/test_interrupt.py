"""Ctrl-C ends a blocked watch: a subprocess runs a watch loop, the test sends
it SIGINT and expects KeyboardInterrupt promptly. Also: a process that exits
with a watch still open ends cleanly."""

import os
import signal
import subprocess
import sys
import time

import pytest

import alerthub

PROMPT = 2.0  # seconds from SIGINT to exit; the watch polls every 50 ms

OPEN = {
    "embedded": "client = alerthub.Client(store='sqlite:///' + sys.argv[1])",
    "remote": "client = alerthub.Client(endpoint=sys.argv[2], api_key=sys.argv[3])",
}

# (open the watch, then block on it); READY is printed in between.
WAITS = {
    "for loop": ("w = client.watch()", "for u in w:\n    pass"),
    "next()": ("w = client.watch()", "w.next()"),
    "next(timeout)": ("w = client.watch()", "w.next(timeout=3600)"),
    "callback wait()": ("w = client.watch(print)", "w.wait()"),
}


def run_child(open_client, setup, block, tmp_path, daemon):
    """Starts a Python process that opens a client, runs `setup`, prints
    READY and runs `block`; argv carries the store path and the daemon's URL
    and key."""
    lines = ["import sys", "import alerthub", open_client] + setup.splitlines() + \
        ["print('READY', flush=True)"] + block.splitlines()
    path = tmp_path / "child.py"
    path.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.Popen(
        [sys.executable, str(path), str(tmp_path / "child.db"), daemon.base_url, daemon.api_key],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


@pytest.mark.parametrize("mode", sorted(OPEN))
@pytest.mark.parametrize("wait", sorted(WAITS))
def test_sigint_interrupts_a_blocked_watch(mode, wait, tmp_path, daemon):
    child = run_child(OPEN[mode], *WAITS[wait], tmp_path, daemon)
    try:
        assert child.stdout.readline().strip() == "READY", child.stderr.read()
        time.sleep(0.3)  # blocked in the watch by now
        assert child.poll() is None, child.stderr.read()
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        code = child.wait(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stderr = child.stderr.read()
    assert "KeyboardInterrupt" in stderr, stderr
    assert code != 0
    assert elapsed < PROMPT, elapsed


@pytest.mark.parametrize("mode", sorted(OPEN))
def test_exit_with_open_watches_is_clean(mode, tmp_path, daemon):
    """Watches (both forms) and the client left open at exit are closed by
    the package's atexit hook; the process neither hangs nor crashes."""
    setup = "w1 = client.watch(print)\nw2 = client.watch()"
    block = "client.submit(type='exit.test')\nassert w2.next(timeout=10) is not None"
    child = run_child(OPEN[mode], setup, block, tmp_path, daemon)
    try:
        code = child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert code == 0, child.stderr.read()


def test_signal_check_interval_is_short():
    assert alerthub._alerthub.SIGNAL_CHECK_INTERVAL_S <= 0.1
