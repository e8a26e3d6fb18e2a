"""Client.watch in both forms and both modes: filters, timeouts, closing,
slow consumers and failing callbacks. Ctrl-C is in test_interrupt.py."""

import sys
import threading
import time

import pytest

from alerthub import Priority, Status


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def drain(w, quiet=0.5):
    """Every update that arrives until none has for `quiet` seconds."""
    out = []
    while True:
        u = w.next(timeout=quiet)
        if u is None:
            return out
        out.append(u)


def test_filters_by_type_and_min_priority(client, unique_type):
    other = unique_type + ".other"
    with client.watch(types=[unique_type], min_priority=Priority.HIGH) as w:
        client.submit(type=other, priority="critical")
        client.submit(type=unique_type, priority="normal")
        wanted = client.submit(type=unique_type, priority=4)
        u = w.next(timeout=10)
        assert (u.id, u.status, u.priority) == (wanted.id, Status.ACCEPTED, Priority.HIGH)
        # Later updates (routing moves a notification on) are of `wanted` only.
        assert {u.id for u in drain(w)} <= {wanted.id}


def test_min_priority_takes_names_numbers_and_members(client, unique_type):
    for i, level in enumerate(("critical", 5, Priority.CRITICAL)):
        with client.watch(types=[unique_type], min_priority=level) as w:
            client.submit(type=unique_type, priority="high", title="high %d" % i)
            top = client.submit(type=unique_type, priority="critical", title="critical %d" % i)
            # Updates of the previous round's notification may still arrive.
            got = [w.next(timeout=10)]
            while got[-1].id != top.id:
                got.append(w.next(timeout=10))
            assert {u.priority for u in got} == {Priority.CRITICAL}


def test_next_times_out_with_none_and_stops_once_closed(client):
    w = client.watch()
    started = time.monotonic()
    assert w.next(timeout=0.2) is None
    assert 0.15 < time.monotonic() - started < 2
    assert w.next(timeout=0) is None
    assert not w.closed
    w.close()
    assert w.closed
    with pytest.raises(StopIteration):
        w.next(timeout=1)
    assert list(w) == []
    w.close()  # idempotent


def test_close_from_another_thread_ends_the_for_loop(client, unique_type):
    w = client.watch(types=[unique_type])
    got = []

    def consume():
        for u in w:
            got.append(u)

    t = threading.Thread(target=consume)
    t.start()
    r = client.submit(type=unique_type)
    assert wait_until(lambda: got)
    w.close()
    t.join(5)
    assert not t.is_alive()
    assert {u.id for u in got} == {r.id}


def test_a_slow_consumer_loses_the_oldest_updates(client, unique_type):
    with client.watch(types=[unique_type], max_queue=2) as w:
        ids = [client.submit(type=unique_type, title=str(i)).id for i in range(5)]
        # Five "accepted" updates at least (routing may add more), two kept.
        assert wait_until(lambda: w.dropped >= 3), w.dropped
        settled = None
        while settled != w.dropped:  # until no more arrive
            settled = w.dropped
            time.sleep(0.5)
        kept = drain(w, quiet=0.2)
        assert len(kept) == 2
        assert {u.id for u in kept} <= set(ids)
        if all(u.status is Status.ACCEPTED for u in kept):
            assert [u.id for u in kept] == ids[3:]  # the newest two, in order


def test_callback_runs_on_its_own_thread_until_closed(client, unique_type):
    calls = []
    main = threading.get_ident()
    arrived = threading.Event()

    def on_update(u):
        calls.append((threading.get_ident(), u))
        arrived.set()

    w = client.watch(on_update, types=[unique_type])
    assert "callback open" in repr(w)
    r = client.submit(type=unique_type)
    assert arrived.wait(10)
    thread, update = calls[0]
    assert thread != main
    assert (update.id, update.status) == (r.id, Status.ACCEPTED)
    assert w.wait(timeout=0.1) is False
    w.close()
    assert w.wait(timeout=0) is True
    before = len(calls)
    client.submit(type=unique_type, title="after close")
    time.sleep(0.3)
    assert len(calls) == before
    with pytest.raises(TypeError, match="not iterable"):
        iter(w)
    with pytest.raises(TypeError, match="no iterator"):
        w.next(timeout=0)


def test_a_failing_callback_is_reported_and_the_watch_goes_on(client, unique_type, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    good = threading.Event()

    calls = []

    def on_update(u):
        calls.append(u)
        if len(calls) == 1:
            raise RuntimeError("callback bug")
        good.set()

    with client.watch(on_update, types=[unique_type]):
        client.submit(type=unique_type, title="first")
        client.submit(type=unique_type, title="second")
        assert good.wait(10)
    assert len(reported) == 1
    assert isinstance(reported[0].exc_value, RuntimeError)
    assert "alerthub watch callback" in str(reported[0].err_msg or reported[0].object)


def test_the_callback_may_close_its_own_watch(client, unique_type):
    closed_inside = threading.Event()
    calls = []
    holder = {}

    def on_update(u):
        calls.append(u)
        holder["w"].close()
        closed_inside.set()

    holder["w"] = client.watch(on_update, types=[unique_type])
    client.submit(type=unique_type, title="one")
    assert closed_inside.wait(10)
    assert holder["w"].closed
    assert holder["w"].wait(timeout=1)
    client.submit(type=unique_type, title="two")
    time.sleep(0.3)
    assert len(calls) == 1


def test_wait_returns_when_another_thread_closes(client):
    w = client.watch(lambda u: None)
    threading.Timer(0.2, w.close).start()
    started = time.monotonic()
    assert w.wait(timeout=10) is True
    assert time.monotonic() - started < 5
