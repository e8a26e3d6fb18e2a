#!/usr/bin/env python3
"""Uses a running AlertHub daemon through alerthub.Client in remote mode: the
same calls as the embedded example, with an endpoint and an API key.

    tools/run.sh                                   # the daemon, in another terminal
    python3 examples/python/remote.py --endpoint http://localhost:8080 \\
        --api-key "$(cat alerthub-data/bootstrap-api-key)"

Defaults: $ALERTHUB_URL and $ALERTHUB_API_KEY, else http://localhost:8080 and
./alerthub-data/bootstrap-api-key. Needs the alerthub package
(bindings/python/README.md).
"""

import argparse
import os
import time
import uuid

import alerthub


def default_key():
    if os.environ.get("ALERTHUB_API_KEY"):
        return os.environ["ALERTHUB_API_KEY"]
    try:
        with open("alerthub-data/bootstrap-api-key") as f:
            return f.read().strip()
    except OSError:
        return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", default=os.environ.get("ALERTHUB_URL", "http://localhost:8080"))
    p.add_argument("--api-key", default=default_key())
    args = p.parse_args()
    if not args.api_key:
        p.error("no API key: pass --api-key or set ALERTHUB_API_KEY")

    with alerthub.Client(endpoint=args.endpoint, api_key=args.api_key, timeout=5) as client:
        # An idempotency key makes a retry safe: the repeat returns the original.
        key = "deploy-%s" % uuid.uuid4()
        for attempt in range(3):
            try:
                r = client.submit(type="deploy.finished", title="checkout v2.3.1 is live",
                                  priority="high", tags={"env": "prod"}, idempotency_key=key)
                break
            except alerthub.RateLimited as e:
                print("rate limited; retrying in %.1fs" % e.retry_after)
                time.sleep(e.retry_after)
            except alerthub.Unavailable as e:
                print("router unavailable (%s); retrying" % e)
                time.sleep(1 + attempt)
        else:
            raise SystemExit("gave up submitting")
        print("submitted:", r.id)
        again = client.submit(type="deploy.finished", title="checkout v2.3.1 is live",
                              priority="high", tags={"env": "prod"}, idempotency_key=key)
        print("repeated: ", again.id, "duplicate =", again.duplicate)

        n = client.get(r.id)
        print("read back:", n.type, repr(n.title), n.status, n.created_at.isoformat())
        print("events:   ", [e.type for e in client.events(r.id)])

        results = client.submit_batch([{"type": "disk.almost_full", "title": "db1 at 91% " + key},
                                       {"type": "disk.almost_full", "priority": "urgent"}])
        for i, item in enumerate(results):
            print("batch[%d]:" % i, item.id if isinstance(item, alerthub.SubmitResult)
                  else "rejected: %s" % item)

        page = client.list_page(limit=2)
        print("first page:", [x.id for x in page.items], "more" if page.next_cursor else "")
        print("all of type deploy.finished:", sum(1 for _ in client.list(type="deploy.finished")))

        try:
            client.get(str(uuid.uuid4()))
        except alerthub.NotFound as e:
            print("unknown id:", e.code)

    try:
        with alerthub.Client(endpoint=args.endpoint, api_key="ahk_not_a_real_key") as bad:
            bad.list_page()
    except alerthub.Unauthenticated as e:
        print("wrong key:", e.code)


if __name__ == "__main__":
    main()
