"""One Client shared by many threads, and the GIL released while calls wait."""

import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

import alerthub

THREADS = 8
PER_THREAD = 20


def test_threads_share_one_client(client, unique_type):
    def work(t):
        ids = []
        for i in range(PER_THREAD):
            r = client.submit(type=unique_type, title="thread %d item %d" % (t, i))
            assert not r.duplicate
            assert client.get(r.id).title == "thread %d item %d" % (t, i)
            ids.append(r.id)
        return ids

    with ThreadPoolExecutor(THREADS) as pool:
        ids = [i for chunk in pool.map(work, range(THREADS)) for i in chunk]
    assert len(set(ids)) == THREADS * PER_THREAD
    assert {n.id for n in client.list(type=unique_type, page_size=37)} == set(ids)


def test_threads_share_one_watch(client, unique_type):
    """Two threads iterate the same watch; every update reaches exactly one."""
    got, lock = [], threading.Lock()

    with client.watch(types=[unique_type]) as w:
        def consume():
            while True:
                u = w.next(timeout=0.5)
                if u is None:
                    return
                with lock:
                    got.append((u.id, u.status))

        consumers = [threading.Thread(target=consume) for _ in range(2)]
        for t in consumers:
            t.start()
        ids = [r.id for r in client.submit_batch([{"type": unique_type, "title": str(i)}
                                                  for i in range(20)])]
        for t in consumers:
            t.join(30)
    # Each update reached one consumer only; routing may add later statuses.
    assert len(got) == len(set(got))
    assert sorted(i for i, status in got if status is alerthub.Status.ACCEPTED) == sorted(ids)


def _progress_during(call):
    """Runs `call` in a thread while this thread counts loop iterations;
    returns (result or exception, iterations while the call was running)."""
    box = {}

    def run():
        box["start"] = time.monotonic()
        try:
            box["result"] = call()
        except Exception as e:  # noqa: BLE001 -- reported to the caller
            box["result"] = e
        box["end"] = time.monotonic()

    t = threading.Thread(target=run)
    stamps = []
    t.start()
    while t.is_alive():
        stamps.append(time.monotonic())
        time.sleep(0.001)
    t.join()
    inside = [s for s in stamps if box["start"] + 0.1 < s < box["end"] - 0.1]
    return box["result"], inside


def test_the_gil_is_released_while_a_request_waits():
    """A router that accepts and never answers: submit waits out its 1.5 s
    timeout, and this thread keeps running meanwhile."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        with alerthub.Client(endpoint="http://127.0.0.1:%d" % server.getsockname()[1],
                             api_key="ahk_x", timeout=1.5) as c:
            result, inside = _progress_during(lambda: c.submit(type="x"))
    assert isinstance(result, alerthub.Unavailable)
    assert len(inside) > 100  # ~1 per ms over ~1.3 s; none if the GIL were held


def test_the_gil_is_released_while_a_watch_waits(client):
    with client.watch() as w:
        result, inside = _progress_during(lambda: w.next(timeout=1.0))
    assert result is None
    assert len(inside) > 100


def test_close_while_other_threads_call(tmp_path, unique_type):
    """Closing a client that other threads are using: their calls finish or
    raise ValueError, nothing crashes, and the engine shuts down once the
    last call is done."""
    c = alerthub.Client(store="sqlite:///%s" % (tmp_path / "close.db"))
    stop = threading.Event()
    outcomes = []

    def hammer():
        while not stop.is_set():
            try:
                c.submit(type=unique_type, title=str(uuid.uuid4()))
                outcomes.append("ok")
            except ValueError as e:
                assert "closed" in str(e)
                outcomes.append("closed")
                return

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    c.close()
    for t in threads:
        t.join(10)
    stop.set()
    assert "ok" in outcomes and outcomes.count("closed") == 4
    assert c.closed


def test_a_watch_outlives_its_clients_close(tmp_path, unique_type, daemon):
    """Remote: close the client that opened a watch, submit through another;
    the watch still delivers until it is closed itself."""
    watcher = alerthub.Client(endpoint=daemon.base_url, api_key=daemon.api_key)
    w = watcher.watch(types=[unique_type])
    watcher.close()
    with alerthub.Client(endpoint=daemon.base_url, api_key=daemon.api_key) as sender:
        r = sender.submit(type=unique_type)
    u = w.next(timeout=10)
    assert u is not None and u.id == r.id
    w.close()
    with pytest.raises(StopIteration):
        w.next(timeout=1)
