#!/usr/bin/env python3
"""Embeds AlertHub in this Python process: the whole engine on a SQLite file,
through the same alerthub::Client the C++ example uses (examples/embedded).

    python3 examples/python/embedded.py --store sqlite:///tmp/example.db

Needs the alerthub package (bindings/python/README.md).
"""

import argparse
import datetime

import alerthub


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", default="sqlite://alerthub-example.db",
                   help="store URL (default: %(default)s, relative to the working directory)")
    args = p.parse_args()

    with alerthub.Client(store=args.store) as client:
        # Watch before submitting so the "accepted" update is seen.
        with client.watch(types=["deploy.finished"]) as updates:
            r = client.submit(type="deploy.finished", title="checkout v2.3.1 is live",
                              body="Rolled out to 12/12 hosts in 4m10s.", priority="high",
                              tags={"env": "prod", "service": "checkout"},
                              data={"version": "2.3.1", "hosts": 12})
            print("submitted:", r.id, "(duplicate)" if r.duplicate else "")

            n = client.get(r.id)
            print("read back: %s %s %r priority=%s created %s"
                  % (n.id, n.type, n.title, n.priority, n.created_at.isoformat()))
            for e in client.events(r.id):
                print("event:", e.type, "at", e.time.isoformat())

            u = updates.next(timeout=5)
            if u is None:
                raise SystemExit("no watch update arrived")
            print("watch:", u.id, "is", u.status)

        # The same content again within the dedup window is a duplicate.
        again = client.submit(type="deploy.finished", title="checkout v2.3.1 is live",
                              body="Rolled out to 12/12 hosts in 4m10s.", priority="high",
                              tags={"env": "prod", "service": "checkout"},
                              data={"version": "2.3.1", "hosts": 12})
        print("resubmitted:", again.id, "duplicate =", again.duplicate)

        # A batch: one result per item; the bad one does not sink the others.
        for i, item in enumerate(client.submit_batch([
                {"type": "disk.almost_full", "title": "db1 at 91%", "tags": {"host": "db1"}},
                {"type": "Disk Full!"},
                {"type": "disk.almost_full", "title": "db2 at 93%", "tags": {"host": "db2"}}])):
            if isinstance(item, alerthub.Error):
                print("batch[%d]: rejected: %s" % (i, item))
            else:
                print("batch[%d]: %s" % (i, item.id))

        # list() follows cursors page by page.
        hour_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        recent = list(client.list(since=hour_ago, limit=10, page_size=2))
        print("recent notifications:", len(recent))

        # A bad notification gets a clear, field-level error.
        try:
            client.submit(type="Deploy Finished!", titel="typo")
        except alerthub.InvalidArgument as e:
            for fe in e.field_errors:
                print("bad input: %s: %s" % (fe.field, fe.message))


if __name__ == "__main__":
    main()
