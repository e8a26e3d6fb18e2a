"""A distributed AlertHub for one test run — two alerthub-router and two
alerthub-integrations processes on one store, Redis, Kafka and RabbitMQ —
plus the workload this suite submits and the ledger it checks."""

import collections
import concurrent.futures
import os
import threading
import time

import requests

from dist_harness import (NON_TERMINAL, TERMINAL, TOPIC_CREATED, TOPIC_DELIVERED, TOPIC_FAILED,
                          WEBHOOK_DEAD_QUEUE, WEBHOOK_QUEUE, Api, Daemon, KafkaReader, RunNames,
                          Sink, bootstrap_owner_key, log, queue_depths, read_dead_letters,
                          secrets_key_file, wait_for)

# The integrations of a run: sink path and retry override. The failing ones
# get short schedules so their deliveries reach the dead-letter queue within
# seconds (500: two attempts one second apart; 400: permanent at once).
FAST_RETRY = {"schedule": ["0s", "1s", "1s", "2s", "2s", "3s", "5s", "5s"], "jitter": 0}
INTEGRATIONS = {
    "h1": ("/ok/h1", FAST_RETRY),
    "h2": ("/ok/h2", FAST_RETRY),
    "f500": ("/fail500/f500", {"schedule": ["0s", "1s"], "jitter": 0}),
    "f400": ("/fail400/f400", {"schedule": ["0s", "1s"], "jitter": 0}),
}
HEALTHY = ("h1", "h2")
FAILING = ("f500", "f400")

# Notification i gets kind KINDS[i % 20]: (type, targets, expected status).
_MIX = ([("dist.ok", ("h1", "h2"), "delivered")] * 14
        + [("dist.partial", ("h1", "f500"), "partially_delivered")] * 3
        + [("dist.permanent", ("f400",), "failed")]
        + [("dist.failing", ("f500", "f400"), "failed")]
        + [("dist.muted", ("h1",), "suppressed")])


def plan(i):
    return _MIX[i % len(_MIX)]


class Cluster:
    def __init__(self, bins, urls, store_choice, tmp_dir):
        self.bins = bins
        self.tmp_dir = str(tmp_dir)
        self.log_dir = os.path.join(self.tmp_dir, "logs")
        os.makedirs(self.log_dir, exist_ok=True)
        self.names = RunNames(urls, tmp_dir)
        self.store_choice = store_choice
        self.routers = []
        self.workers = []
        self.sink = None
        self.kafka = None
        self.key = None
        self.integration_ids = {}
        self.tenant_id = None
        self.store_note = ""

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        t0 = time.monotonic()
        n = self.names
        n.create_vhost()
        # Offsets before anything of this run is published.
        self.kafka = KafkaReader(n.bus_url)
        self._choose_store_and_bootstrap()
        common = ["--store=" + n.store_url, "--bus=" + n.bus_url, "--queue=" + n.amqp_url,
                  "--kv=" + n.kv_url, "--access_log=false"]
        key_file = secrets_key_file(self.tmp_dir)
        for i in (1, 2):
            self.workers.append(Daemon(
                "integrations%d" % i, self.bins["integrations"],
                common + ["--secrets_key_file=" + key_file, "--allow_private_networks",
                          "--delivery_workers=8"], self.log_dir))
        for i in (1, 2):
            self.routers.append(Daemon(
                "router%d" % i, self.bins["router"],
                common + ["--rate_limit_per_second=100000", "--rate_limit_burst=100000"],
                self.log_dir))
        for d in self.workers + self.routers:
            d.start()
        self.sink = Sink()
        self._configure_tenant()
        log("cluster up in %.1fs: store %s, vhost %s, logs %s"
            % (time.monotonic() - t0, n.store_url, n.vhost, self.log_dir))
        return self

    def _choose_store_and_bootstrap(self):
        n = self.names
        choice = self.store_choice
        if choice in ("postgres", "auto") and n.urls.get("postgres"):
            n.use_postgres()
            self.key, err = bootstrap_owner_key(self.bins["alerthub"], n, self.log_dir)
            if self.key:
                return
            if choice == "postgres":
                raise AssertionError("ALERTHUB_DIST_STORE=postgres, but the daemons cannot run "
                                     "on %s:\n%s" % (n.store_url, err))
            self.store_note = ("postgres:// not usable by the daemons, falling back to "
                               "SQLite: " + err.splitlines()[-1] if err else "")
            log(self.store_note)
            n.drop_postgres()
        elif choice == "postgres":
            raise AssertionError("ALERTHUB_DIST_STORE=postgres needs ALERTHUB_TEST_POSTGRES_URL")
        n.use_sqlite()
        self.key, err = bootstrap_owner_key(self.bins["alerthub"], n, self.log_dir)
        assert self.key, "bootstrap on %s failed:\n%s" % (n.store_url, err)

    def _configure_tenant(self):
        router = self.router_api(0)
        r = router.get("/api/v1/notifications", params={"limit": 1})
        assert r.status_code == 200, r.text
        workers = self.worker_api(0)
        for name, (path, retry) in INTEGRATIONS.items():
            r = workers.post("/api/v1/integrations", json={
                "name": "dist-" + name, "channel": "webhook",
                "config": {"url": self.sink.url(path)}, "retry": retry})
            assert r.status_code == 201, r.text
            self.integration_ids[name] = r.json()["id"]
        r = router.post("/api/v1/rules", json={
            "name": "mute dist.muted", "enabled": True, "position": 0,
            "match": {"type": "dist.muted"}, "actions": {"suppress": True}})
        assert r.status_code == 201, r.text

    def stop(self):
        problems = []
        for d in self.routers + self.workers:
            code = d.stop()
            if code not in (0, None):
                problems.append("%s exit %r:\n%s" % (d.name, code, d.tail(15)))
        if self.sink:
            self.sink.close()
        if self.kafka:
            self.kafka.close()
        return problems

    def cleanup(self):
        self.names.cleanup()

    def router_api(self, i):
        return Api(self.routers[i].url, self.key)

    def worker_api(self, i):
        return Api(self.workers[i].url, self.key)

    def live_router_apis(self):
        return [Api(d.url, self.key) for d in self.routers]

    # -- workload ----------------------------------------------------------

    def notification(self, i):
        typ, targets, _ = plan(i)
        return {"type": typ, "title": "dist %d" % i, "body": "run " + self.names.run_id,
                "data": {"run": self.names.run_id, "seq": i},
                "integration_ids": [self.integration_ids[t] for t in targets],
                "dedup_key": "%s-%d" % (self.names.run_id, i)}

    def submit(self, n, batch=100, threads=4, pace=0.0, retry_for=300.0):
        """Submits notifications 0..n-1 in batches spread over both routers
        (batch b goes to router b % 2 first; a failed batch is sent again,
        to the other router, with the same dedup keys). Returns {seq: id}."""
        ids = {}
        lock = threading.Lock()
        stats = collections.Counter()
        batches = [list(range(s, min(s + batch, n))) for s in range(0, n, batch)]
        sessions = threading.local()

        def post(router_index, body):
            s = getattr(sessions, "s", None)
            if s is None:
                s = sessions.s = requests.Session()
            d = self.routers[router_index]
            return s.post(d.url + "/api/v1/notifications/batch", json=body,
                          headers={"X-API-Key": self.key}, timeout=30)

        def one(b):
            seqs = batches[b]
            body = {"notifications": [self.notification(i) for i in seqs]}
            deadline = time.monotonic() + retry_for
            attempt = 0
            while True:
                router_index = (b + attempt) % 2
                attempt += 1
                try:
                    r = post(router_index, body)
                    if r.status_code == 200:
                        res = r.json()["results"]
                        bad = [x for x in res if x["status"] not in (200, 202)]
                        if not bad:
                            with lock:
                                for seq, x in zip(seqs, res):
                                    prev = ids.setdefault(seq, x["id"])
                                    assert prev == x["id"], "seq %d got two ids %s %s" % (
                                        seq, prev, x["id"])
                                    stats["duplicate" if x.get("duplicate") else "accepted"] += 1
                            if pace:
                                time.sleep(pace)
                            return
                        # Items refused for a transient reason: send the batch again.
                        assert all(x["status"] in (429, 500, 503) for x in bad), bad[:3]
                        stats["item_retry"] += 1
                    else:
                        assert r.status_code in (429, 500, 502, 503, 504), (r.status_code, r.text)
                        stats["http_%d" % r.status_code] += 1
                except requests.RequestException as e:
                    stats["conn_error"] += 1
                    last = str(e)[:200]
                    if time.monotonic() > deadline:
                        raise AssertionError("batch %d not accepted in %.0fs: %s"
                                             % (b, retry_for, last))
                if time.monotonic() > deadline:
                    raise AssertionError("batch %d not accepted in %.0fs" % (b, retry_for))
                time.sleep(min(2.0, 0.2 * attempt))

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for f in [pool.submit(one, b) for b in range(len(batches))]:
                f.result()
        log("submitted %d in %.1fs (%s)" % (len(ids), time.monotonic() - t0, dict(stats)))
        return ids, stats

    # -- waiting -----------------------------------------------------------

    def pending(self):
        """How many of the tenant's notifications are in each non-terminal
        status (at most 500 counted per status), via any live router; None
        when no router answers."""
        for api in self.live_router_apis():
            try:
                counts = {}
                for status in NON_TERMINAL:
                    r = api.get("/api/v1/notifications", params={"status": status, "limit": 500},
                                timeout=10)
                    if r.status_code != 200:
                        raise requests.RequestException("status %d" % r.status_code)
                    counts[status] = len(r.json()["notifications"])
                return counts
            except requests.RequestException:
                continue
        return None

    def wait_terminal(self, timeout):
        t0 = time.monotonic()
        last_log = 0.0
        while True:
            p = self.pending()
            if p is not None and not any(p.values()):
                log("all terminal after %.1fs" % (time.monotonic() - t0))
                return time.monotonic() - t0
            if time.monotonic() - last_log > 10:
                log("waiting: %s not terminal" % p)
                last_log = time.monotonic()
            if time.monotonic() - t0 > timeout:
                raise AssertionError("%s notifications not terminal after %.0fs; logs in %s"
                                     % (p, timeout, self.log_dir))
            time.sleep(1.0)

    def statuses(self, ids):
        """GET /api/v1/notifications/{id} for each id, spread over the routers."""
        apis = self.live_router_apis()
        out = {}

        def get(k):
            seq, nid = k
            r = apis[seq % len(apis)].get("/api/v1/notifications/" + nid)
            assert r.status_code == 200, (nid, r.status_code, r.text)
            return seq, r.json()

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for seq, body in pool.map(get, sorted(ids.items())):
                out[seq] = body
        return out

    def dead_in_store(self):
        """(delivery id, notification id, integration id) of every dead
        delivery the store holds: GET /api/v1/deliveries?status=dead, paged."""
        api = self.worker_api(1)
        out, cursor = [], None
        while True:
            params = {"status": "dead", "limit": 500}
            if cursor:
                params["cursor"] = cursor
            r = api.get("/api/v1/deliveries", params=params)
            assert r.status_code == 200, r.text
            body = r.json()
            out += [(d["id"], d["notification_id"], d["integration_id"]) for d in body["deliveries"]]
            cursor = body.get("next_cursor")
            if not cursor:
                return out

    # -- the ledger --------------------------------------------------------

    def verify(self, ids, n, settle_timeout=120.0, strict_attempts=True, dlq_exact=True):
        """Checks everything the suite promises about a finished run. Returns
        a report dict; raises AssertionError listing every problem.

        With dlq_exact=False, failed deliveries missing from the dead-letter
        queue are counted (report["dead_letters_missing"]) instead of failing
        the run; entries that should not be there still fail it. With
        strict_attempts=False (runs with faults), a dead letter held twice is
        counted, not failed (at-least-once into the dead-letter queue)."""
        problems = []
        report = {}
        t0 = time.monotonic()
        expect_ids = set(range(n))
        if set(ids) != expect_ids:
            problems.append("accepted seqs missing: %s" % sorted(expect_ids - set(ids))[:20])
        if len(set(ids.values())) != len(ids):
            problems.append("two seqs share an id")
        by_id = {nid: seq for seq, nid in ids.items()}

        # 1. The store, through the routers.
        bodies = self.statuses(ids)
        tenants = {b.get("tenant_id") for b in bodies.values()}
        assert len(tenants) == 1, tenants
        self.tenant_id = tenants.pop()
        status_count = collections.Counter(b["status"] for b in bodies.values())
        report["statuses"] = dict(status_count)
        for seq, b in bodies.items():
            want = plan(seq)[2]
            if b["status"] != want:
                problems.append("seq %d (%s, %s): status %s, want %s"
                                % (seq, ids[seq], plan(seq)[0], b["status"], want))
        non_terminal = [s for s, b in bodies.items() if b["status"] not in TERMINAL]
        if non_terminal:
            problems.append("%d not terminal, e.g. %s" % (len(non_terminal), non_terminal[:5]))

        # Expected (notification, integration) pairs.
        path_of = {name: INTEGRATIONS[name][0] for name in INTEGRATIONS}
        expected_ok, expected_dead = set(), set()
        for seq, nid in ids.items():
            typ, targets, want = plan(seq)
            if want == "suppressed":
                continue
            for t in targets:
                (expected_ok if t in HEALTHY else expected_dead).add((nid, path_of[t]))

        # 2. The sinks (wait for the dead-letter queue to settle first).
        def dlq_settled():
            count = queue_depths(self.names.amqp_url, [WEBHOOK_DEAD_QUEUE])[WEBHOOK_DEAD_QUEUE]
            return count >= len(expected_dead) and count
        try:
            wait_for(dlq_settled, settle_timeout if dlq_exact else 10.0,
                     "the dead-letter queue to hold %d" % len(expected_dead), interval=1.0)
        except AssertionError as e:
            if dlq_exact:
                problems.append(str(e))
        raw, first, bad, total = self.sink.snapshot()
        if bad:
            problems.append("%d sink requests without webhook-id or id, e.g. %r" % (len(bad), bad[0]))
        pairs = collections.defaultdict(set)   # (nid, path) -> webhook-ids
        for (path, wid), nid in first.items():
            if nid not in by_id:
                problems.append("sink got notification %s that was never accepted" % nid)
                continue
            pairs[(nid, path)].add(wid)
        seen_ok = {k for k in pairs if k[1].startswith("/ok/")}
        seen_fail = {k for k in pairs if not k[1].startswith("/ok/")}
        multi = {k: v for k, v in pairs.items() if len(v) != 1}
        if multi:
            problems.append("%d (notification, integration) pairs with several webhook-ids, "
                            "e.g. %r" % (len(multi), list(multi.items())[:3]))
        if seen_ok != expected_ok:
            problems.append("healthy receiver: %d expected pairs missing (e.g. %s), %d unexpected "
                            "(e.g. %s)" % (len(expected_ok - seen_ok), sorted(expected_ok - seen_ok)[:3],
                                           len(seen_ok - expected_ok), sorted(seen_ok - expected_ok)[:3]))
        if seen_fail != expected_dead:
            problems.append("failing receivers: %d expected pairs never tried, %d unexpected"
                            % (len(expected_dead - seen_fail), len(seen_fail - expected_dead)))
        ok_raw = {k: v for k, v in raw.items() if k[0].startswith("/ok/")}
        report["healthy_deliveries"] = len(seen_ok)
        report["healthy_wire_arrivals"] = sum(ok_raw.values())
        report["wire_duplicates"] = sum(v - 1 for v in ok_raw.values())
        attempts = collections.Counter()
        for (path, wid), c in raw.items():
            if path.startswith("/fail500/"):
                attempts[c] += 1
        report["fail500_attempts_histogram"] = dict(attempts)
        if strict_attempts and set(attempts) - {2}:
            problems.append("500-answering sink: attempts per delivery %r, want 2 each"
                            % dict(attempts))

        # 3. The dead-letter queue (delivery ids = webhook-ids).
        count, dead = read_dead_letters(self.names.amqp_url)
        dead_ids = [m[0] for m in dead]
        report["dead_letters"] = len(dead_ids)
        wid_to_pair = {wid: (first[(path, wid)], path) for (path, wid) in first
                       if not path.startswith("/ok/")}
        # Around broker faults a dead letter may be published twice (its
        # confirm lost, the task redelivered): at least once, as a set exact.
        report["dead_letters_duplicated"] = len(dead_ids) - len(set(dead_ids))
        if len(dead_ids) != len(set(dead_ids)) and strict_attempts:
            dups = [k for k, v in collections.Counter(dead_ids).items() if v > 1]
            problems.append("dead-letter queue holds %d ids more than once, e.g. %s"
                            % (len(dups), dups[:3]))
        dead_pairs = set()
        for wid in set(dead_ids):
            if wid not in wid_to_pair:
                problems.append("dead letter %s is no failing-sink delivery" % wid)
            else:
                dead_pairs.add(wid_to_pair[wid])
        report["dead_letters_missing"] = len(expected_dead - dead_pairs)
        if dead_pairs != expected_dead and (dlq_exact or dead_pairs - expected_dead):
            problems.append("dead-letter queue: %d expected deliveries missing (e.g. %s), "
                            "%d unexpected" % (len(expected_dead - dead_pairs),
                                               sorted(expected_dead - dead_pairs)[:3],
                                               len(dead_pairs - expected_dead)))
        elif dead_pairs != expected_dead:
            log("WARNING: %d failed deliveries are not in the dead-letter queue"
                % len(expected_dead - dead_pairs))
        ready = queue_depths(self.names.amqp_url, [WEBHOOK_QUEUE])[WEBHOOK_QUEUE]
        if ready:
            problems.append("%s still holds %d tasks" % (WEBHOOK_QUEUE, ready))

        # 4. Kafka: the CloudEvents of this tenant match the store.
        def kafka_matches():
            events = self.kafka.read()
            mine = {t: [(k, h, v) for (k, h, v) in events[t] if v.get("tenantid") == self.tenant_id]
                    for t in events}
            subj = {t: {v.get("subject") for (_, _, v) in mine[t]} for t in mine}
            want_deliv = {ids[s] for s, b in bodies.items()
                          if b["status"] in ("delivered", "partially_delivered")}
            want_fail = {ids[s] for s, b in bodies.items() if b["status"] == "failed"}
            ok = (subj[TOPIC_CREATED] == set(by_id) and subj[TOPIC_DELIVERED] == want_deliv
                  and subj[TOPIC_FAILED] == want_fail)
            return (ok, mine, subj, want_deliv, want_fail)
        deadline = time.monotonic() + settle_timeout
        while True:
            ok, mine, subj, want_deliv, want_fail = kafka_matches()
            if ok or time.monotonic() > deadline:
                break
            time.sleep(2.0)
        report["kafka_messages"] = {t: len(v) for t, v in mine.items()}
        for topic, want in ((TOPIC_CREATED, set(by_id)), (TOPIC_DELIVERED, want_deliv),
                            (TOPIC_FAILED, want_fail)):
            got = subj[topic]
            if got != want:
                problems.append("kafka %s: %d ids missing (e.g. %s), %d unexpected (e.g. %s)"
                                % (topic, len(want - got), sorted(want - got)[:3],
                                   len(got - want), sorted(got - want)[:3]))
        want_type = {TOPIC_CREATED: "alerthub.notification.accepted",
                     TOPIC_DELIVERED: "alerthub.notification.delivered",
                     TOPIC_FAILED: "alerthub.notification.failed"}
        for topic, msgs in mine.items():
            per_subject = collections.defaultdict(set)
            for key, headers, v in msgs:
                per_subject[v.get("subject")].add(v.get("id"))
                if (v.get("specversion") != "1.0" or v.get("type") != want_type[topic]
                        or key != v.get("subject") or not v.get("id")):
                    problems.append("kafka %s: malformed event %r (key %r)" % (topic, v, key))
                    break
            several = {s: e for s, e in per_subject.items() if len(e) > 1}
            if several:
                problems.append("kafka %s: %d notifications with several event ids, e.g. %r"
                                % (topic, len(several), list(several.items())[:2]))
            report["kafka_redelivered_%s" % topic.rsplit(".", 1)[1]] = (
                len(msgs) - len(per_subject))

        # 5. The ledger.
        delivered = status_count["delivered"] + status_count["partially_delivered"]
        ledger = {"accepted": len(ids), "delivered": delivered, "failed": status_count["failed"],
                  "suppressed": status_count["suppressed"],
                  "deliveries_expected": len(expected_ok) + len(expected_dead),
                  "deliveries_delivered": len(seen_ok & expected_ok),
                  "deliveries_dead_lettered": len(dead_pairs & expected_dead)}
        # The store's account of dead deliveries must match the receivers'.
        path_by_iid = {self.integration_ids[k]: path_of[k] for k in INTEGRATIONS}
        store_dead = {(nid, path_by_iid.get(iid)) for _, nid, iid in self.dead_in_store()}
        report["dead_in_store"] = len(store_dead)
        if store_dead != expected_dead:
            problems.append("store: %d dead deliveries, %d expected ones missing, %d unexpected"
                            % (len(store_dead), len(expected_dead - store_dead),
                               len(store_dead - expected_dead)))
        if not dlq_exact:
            # Dead-lettered by the store's account, whether or not the queue
            # kept them.
            ledger["deliveries_dead_lettered"] = len(store_dead & expected_dead)
        report["ledger"] = ledger
        if ledger["accepted"] != delivered + ledger["failed"] + ledger["suppressed"]:
            problems.append("ledger: accepted %(accepted)d != delivered %(delivered)d + "
                            "dead-lettered %(failed)d + suppressed %(suppressed)d" % ledger)
        if ledger["deliveries_expected"] != (ledger["deliveries_delivered"]
                                             + ledger["deliveries_dead_lettered"]):
            problems.append("ledger: deliveries expected %(deliveries_expected)d != delivered "
                            "%(deliveries_delivered)d + dead-lettered "
                            "%(deliveries_dead_lettered)d" % ledger)
        report["verify_s"] = round(time.monotonic() - t0, 1)
        log("report: %r" % report)
        if problems:
            raise AssertionError("%d problems (logs in %s):\n  %s"
                                 % (len(problems), self.log_dir, "\n  ".join(problems[:40])))
        return report
