#!/usr/bin/env python3
"""Follows AlertHub status updates as they happen, with alerthub.Client.watch,
in its iterator form (Ctrl-C stops it) or its callback form.

    python3 examples/python/watch.py --endpoint http://localhost:8080 --api-key "$KEY"
    python3 examples/python/watch.py --store sqlite:///tmp/example.db --demo 3

Remote mode by default ($ALERTHUB_URL, $ALERTHUB_API_KEY or
./alerthub-data/bootstrap-api-key); --store watches an embedded engine
instead (which only this process writes to, so use --demo). --demo N submits
N notifications from a background thread and exits once they settle.
"""

import argparse
import os
import threading

import alerthub


def default_key():
    if os.environ.get("ALERTHUB_API_KEY"):
        return os.environ["ALERTHUB_API_KEY"]
    try:
        with open("alerthub-data/bootstrap-api-key") as f:
            return f.read().strip()
    except OSError:
        return None


def open_client(args):
    if args.store:
        return alerthub.Client(store=args.store)
    if not args.api_key:
        raise SystemExit("no API key: pass --api-key or set ALERTHUB_API_KEY")
    return alerthub.Client(endpoint=args.endpoint, api_key=args.api_key)


def submit_demo(client, n, notification_type):
    for i in range(n):
        client.submit(type=notification_type, title="demo %d" % i,
                      priority=["low", "normal", "high"][i % 3])


def show(u):
    print("%s  %-10s %-9s %s %s" % (u.at.isoformat(), u.status, u.priority,
                                    u.notification_type, u.id), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", default=os.environ.get("ALERTHUB_URL", "http://localhost:8080"))
    p.add_argument("--api-key", default=default_key())
    p.add_argument("--store", help="watch an embedded engine on this store URL instead")
    p.add_argument("--type", action="append", dest="types", help="only this type (repeatable)")
    p.add_argument("--min-priority", help="only updates at least this priority")
    p.add_argument("--demo", type=int, default=0, metavar="N",
                   help="submit N notifications and exit once they settle")
    args = p.parse_args()
    demo_type = "watch.demo.%d" % os.getpid()
    types = args.types or ([demo_type] if args.demo else None)

    with open_client(args) as client:
        # Callback form: runs on the watch's own thread, one update at a time.
        notified = set()
        all_notified = threading.Event()

        def note(update):
            notified.add(update.id)
            if args.demo and len(notified) >= args.demo:
                all_notified.set()

        with client.watch(note, types=types):
            # Iterator form: blocks between updates; Ctrl-C raises KeyboardInterrupt.
            with client.watch(types=types, min_priority=args.min_priority) as updates:
                if args.demo:
                    threading.Thread(target=submit_demo, args=(client, args.demo, demo_type),
                                     daemon=True).start()
                print("watching %s (Ctrl-C to stop)" % ("types " + ", ".join(types)
                                                        if types else "every type"), flush=True)
                try:
                    if args.demo:
                        follow_demo(updates, args.demo)
                    else:
                        for u in updates:
                            show(u)
                except KeyboardInterrupt:
                    print("\nstopped")
            if args.demo:
                all_notified.wait(timeout=10)
            print("the callback heard of %d notifications" % len(notified))


def follow_demo(updates, n):
    """Shows updates until the demo's notifications are all final, or none
    moved for a second after each was seen (nothing routes them when no
    delivery workers run, as in embedded mode)."""
    latest = {}
    while True:
        seen_all = len(latest) >= n
        u = updates.next(timeout=1 if seen_all else 10)
        if u is None:
            if not seen_all:
                print("only %d of %d notifications were seen (filtered out?)" % (len(latest), n))
            return
        show(u)
        latest[u.id] = u.status
        if len(latest) >= n and all(s.terminal for s in latest.values()):
            return


if __name__ == "__main__":
    main()
