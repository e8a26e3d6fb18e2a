#!/usr/bin/python3
"""Distributed-mode ingest: `alerthub-router` on PostgreSQL
(synchronous_commit=on) + Redis + Kafka, against PostgreSQL's and Kafka's own
tools on the same servers, in the same run.

  1. AlertHub: wrk POSTs notifications to the router (--bus=inproc://, so
     the outbox only fills: this measures the durable write path alone);
     accepted/s, p50/p99, and notifications per WAL flush from pg_stat_wal.
  2. pgbench: the same row shape (a notification, its event and its outbox
     row, copied from what step 1 stored) inserted by multi-row INSERTs,
     `--rows` notifications per transaction, `--clients` clients; rows/s.
  3. Kafka publish: the router restarted with --bus=kafka:// drains the
     outbox step 1 left (the relay publishes with acks=all and idempotence);
     messages/s from start to empty outbox — beside `kcat -P` producing the
     same payloads to the same broker.

Each figure is the median of --runs runs. Needs the servers of
tools/services.sh (ALERTHUB_TEST_POSTGRES_URL, _REDIS_URL, _KAFKA_URL; run
`eval "$(tools/services.sh env)"`), wrk, pgbench, psql and kcat.

  benchmarks/load/distributed_ingest.py --duration 10 --connections 64 --runs 3
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

ROOT = _common.ROOT


def env(name):
    v = os.environ.get(name)
    if not v:
        sys.exit("%s is not set: start the servers with tools/services.sh start and "
                 "eval \"$(tools/services.sh env)\"" % name)
    return v


def psql(url, sql, db=None):
    """Runs `sql` with psql; returns its unaligned, tuples-only output."""
    if db is not None:
        url = with_database(url, db)
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url,
                          "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("psql: %s\n%s" % (sql[:200], out.stderr))
    return out.stdout.strip()


class PsqlSession:
    """One psql process kept open for repeated one-value queries: polling
    with a fresh psql per query costs ~0.1 s of CPU each on a small machine,
    which would be taken from the relay being timed."""

    def __init__(self, url):
        self.proc = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)

    def value(self, sql):
        """The first line `sql` prints; it must print one (psql -t prints
        nothing for no rows)."""
        self.proc.stdin.write(sql + ";\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("psql session ended: " + sql[:200])
        return line.strip()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


def with_database(url, db):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + db, u.query, u.fragment))


def router_binary():
    b = os.environ.get("ALERTHUB_ROUTER_BIN")
    if b:
        return b
    subprocess.run([os.path.join(ROOT, "tools/bazel.sh"), "build", "-c", "opt",
                    "//daemons/router:alerthub-router"], cwd=ROOT, check=True, capture_output=True)
    return os.path.join(_common.bazel_bin(), "daemons/router/alerthub-router")


class Router:
    def __init__(self, binary, cpu, store, kv, bus, work, key_file):
        self.port = _common.free_port()
        self.proc = subprocess.Popen(
            ["taskset", "-c", cpu, binary, "--store=" + store, "--kv=" + kv, "--bus=" + bus,
             "--queue=" + os.environ.get("ALERTHUB_BENCH_QUEUE", "sql://"),
             "--http_address=127.0.0.1", "--http_port=%d" % self.port,
             "--rate_limit_enabled=false", "--access_log=false",
             "--bootstrap_key_file=" + key_file],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "router.err"), "ab"))
        _common.wait_ready("http://127.0.0.1:%d/health/ready" % self.port, timeout=60)

    def metric(self, name):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        return 0.0

    def close(self):
        _common.stop(self.proc, 30)


def wal_syncs(pg):
    return int(psql(pg, "SELECT wal_sync FROM pg_stat_wal"))


def wrk(port, key, connections, duration, cpu):
    """(accepted/s, p50 ms, p99 ms) of one wrk run with submit.lua."""
    out = subprocess.run(
        ["taskset", "-c", cpu, "wrk", "-t1", "-c%d" % connections, "-d%ds" % duration,
         "--latency", "-s", os.path.join(ROOT, "benchmarks/load/submit.lua"),
         "http://127.0.0.1:%d/api/v1/notifications" % port],
        capture_output=True, text=True, env=dict(os.environ, ALERTHUB_API_KEY=key), check=True)
    line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT"))
    f = dict(kv.split("=") for kv in line.split()[1:])
    return (int(f["requests"]) / (int(f["duration_us"]) / 1e6), int(f["p50_us"]) / 1000,
            int(f["p99_us"]) / 1000)


PGBENCH_SCRIPT = """\\set r random(1, 2000000000)
BEGIN;
INSERT INTO b_notifications ({ncols}) SELECT {nvals}
  FROM (SELECT * FROM notifications LIMIT 1) t, generate_series(1, {rows}) g;
INSERT INTO b_events ({ecols}) SELECT {evals}
  FROM (SELECT * FROM events LIMIT 1) t, generate_series(1, {rows}) g;
INSERT INTO b_outbox ({ocols}) SELECT {ovals}
  FROM (SELECT * FROM outbox LIMIT 1) t, generate_series(1, {rows}) g;
COMMIT;
"""


def copy_columns(pg, db, table):
    """(column list, select list) copying a stored row of `table`, with fresh
    unique values where the schema demands them (ids, dedup keys) and the
    sequence's default for serial keys."""
    cols = psql(pg, "SELECT column_name, coalesce(column_default, '') FROM "
                "information_schema.columns WHERE table_name = '%s' ORDER BY ordinal_position"
                % table, db).splitlines()
    names, values = [], []
    for row in cols:
        name, default = row.split("|", 1)
        if default.startswith("nextval("):
            continue
        names.append(name)
        if name == "id":
            values.append("md5(:r::text || g::text || clock_timestamp()::text)")
        elif name == "dedup_key":
            values.append("NULL")
        else:
            values.append("t." + name)
    return ", ".join(names), ", ".join(values)


def pgbench(pg, db, rows, clients, duration, cpu, work):
    """Notifications (three rows each) inserted per second by pgbench."""
    for t in ("notifications", "events", "outbox"):
        psql(pg, "DROP TABLE IF EXISTS b_%s; CREATE TABLE b_%s (LIKE %s INCLUDING ALL)"
             % (t, t, t), db)
    ncols, nvals = copy_columns(pg, db, "notifications")
    ecols, evals = copy_columns(pg, db, "events")
    ocols, ovals = copy_columns(pg, db, "outbox")
    script = os.path.join(work, "insert.sql")
    with open(script, "w") as f:
        f.write(PGBENCH_SCRIPT.format(ncols=ncols, nvals=nvals, ecols=ecols, evals=evals,
                                      ocols=ocols, ovals=ovals, rows=rows))
    u = urllib.parse.urlsplit(pg)
    out = subprocess.run(
        ["taskset", "-c", cpu, "pgbench", "-n", "-f", script, "-c", str(clients), "-j", "1",
         "-T", str(duration), "-h", u.hostname, "-p", str(u.port or 5432),
         "-U", u.username or "postgres", db], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("pgbench failed: " + out.stderr[-2000:])
    tps = next(float(l.split("=")[1].split()[0]) for l in out.stdout.splitlines()
               if l.startswith("tps ="))
    return tps * rows


def kafka_broker(url):
    return url.split("://", 1)[1]


def kcat_rate(broker, payload_file, count, cpu):
    """Messages per second `kcat -P` produces (acks=all, idempotent, as the
    relay does) from `payload_file`, one `key<TAB>payload` line each."""
    topic = "bench.kcat.%d" % int(time.time() * 1000)
    start = time.monotonic()
    subprocess.run(["taskset", "-c", cpu, "kcat", "-P", "-b", broker, "-t", topic, "-K", "\t",
                    "-X", "enable.idempotence=true", "-X", "acks=all", "-X", "linger.ms=5",
                    "-l", payload_file], check=True, capture_output=True)
    return count / (time.monotonic() - start)


def one_run(args, pg, redis, kafka, binary, work, server_cpu, load_cpu, run):
    db = "alerthub_bench_%d_%d" % (os.getpid(), run)
    psql(pg, "CREATE DATABASE " + db)
    store = with_database(pg, db) + "?pool_size=%d" % args.pool_size
    key_file = os.path.join(work, "key-%d" % run)
    result = {}
    try:
        # 1. Durable ingest; the outbox only fills.
        r = Router(binary, server_cpu, store, redis, "inproc://", work, key_file)
        with open(key_file) as f:
            key = f.read().strip()
        psql(pg, "SELECT pg_stat_reset_shared('wal')")
        before = wal_syncs(pg)
        rate, p50, p99 = wrk(r.port, key, args.connections, args.duration, load_cpu)
        flushes = max(1, wal_syncs(pg) - before)
        accepted = int(r.metric("alerthub_notifications_accepted_total"))
        r.close()
        result.update(ingest=rate, p50=p50, p99=p99, per_flush=accepted / flushes,
                      accepted=accepted)

        # 2. pgbench, same rows, same server.
        result["pgbench"] = pgbench(pg, db, args.rows, args.clients, args.duration, load_cpu,
                                    work)

        # 3. The relay drains the outbox into Kafka; then kcat, same payloads.
        pending = int(psql(pg, "SELECT count(*) FROM outbox WHERE sent_at IS NULL", db))
        payloads = os.path.join(work, "payloads-%d.tsv" % run)
        psql(pg, "\\copy (SELECT key || E'\\t' || payload FROM outbox ORDER BY seq) TO '%s'"
             % payloads, db)
        # Timed from the router being ready (its start-up is not publishing)
        # until the outbox is empty (sent rows are deleted), polled every
        # 10 ms over one open connection with a probe of the highest seq.
        # The relay deletes from the lowest seq up, so the probe finds a live
        # row at once until the end; probing the lowest seq instead walks
        # every row deleted so far (dead, not yet prunable while the relay's
        # transactions are open) and took ~10% of the server's CPU.
        session = PsqlSession(with_database(pg, db))
        r = Router(binary, server_cpu, store, redis, kafka, work, key_file)
        start = time.monotonic()
        left = int(session.value("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
        deadline = start + 600
        while session.value("SELECT count(*) FROM (SELECT seq FROM outbox "
                            "ORDER BY seq DESC LIMIT 1) t") != "0":
            if time.monotonic() > deadline:
                raise RuntimeError("the relay did not drain the outbox in 600 s")
            time.sleep(0.01)
        result["relay"] = left / (time.monotonic() - start)
        session.close()
        r.close()
        result["kcat"] = kcat_rate(kafka_broker(kafka), payloads, pending, load_cpu)
        result["published"] = pending
    finally:
        psql(pg, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk/pgbench run")
    p.add_argument("--connections", type=int, default=64, help="wrk connections")
    p.add_argument("--rows", type=int, default=32, help="notifications per pgbench transaction")
    p.add_argument("--clients", type=int, default=8, help="pgbench clients")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pool_size", type=int, default=4,
                   help="the router's PostgreSQL pool; pool_size - 1 group commits run at once")
    args = p.parse_args()

    pg = env("ALERTHUB_TEST_POSTGRES_URL")
    redis = env("ALERTHUB_TEST_REDIS_URL")
    kafka = env("ALERTHUB_TEST_KAFKA_URL")
    binary = router_binary()
    server_cpu, load_cpu = _common.cpus()
    runs = []
    with tempfile.TemporaryDirectory() as work:
        for i in range(args.runs):
            runs.append(one_run(args, pg, redis, kafka, binary, work, server_cpu, load_cpu, i))
            r = runs[-1]
            print("run %d: ingest %.0f/s, pgbench %.0f/s, relay %.0f msg/s, kcat %.0f msg/s "
                  "(%d messages), relay/kcat %.2f; load average %s" % (
                      i + 1, r["ingest"], r["pgbench"], r["relay"], r["kcat"], r["published"],
                      r["relay"] / r["kcat"], " ".join("%.2f" % x for x in os.getloadavg())),
                  flush=True)

    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    sync = psql(pg, "SHOW synchronous_commit")
    print()
    print("machine: %s; PostgreSQL %s (synchronous_commit=%s); %s" % (
        _common.machine(), psql(pg, "SHOW server_version"), sync,
        subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout.splitlines()[0]))
    print("wrk -t1 -c%d -d%ds; router pool_size=%d; pgbench -c%d, %d notifications (3 rows "
          "each) per transaction; median of %d runs; server cpus %s, load cpus %s" % (
              args.connections, args.duration, args.pool_size, args.clients, args.rows,
              args.runs, server_cpu, load_cpu))
    print("| scenario | per second | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- |")
    print("| AlertHub router, durable ingest (notifications) | %.0f | %.2f | %.2f |" % (
        med["ingest"], med["p50"], med["p99"]))
    print("| pgbench, same rows, multi-row INSERT (notifications) | %.0f | | |" % med["pgbench"])
    print("| AlertHub relay -> Kafka (messages) | %.0f | | |" % med["relay"])
    print("| kcat -P, same payloads (messages) | %.0f | | |" % med["kcat"])
    print("ratio ingest/pgbench: %.2f (target >= 0.7)" % (med["ingest"] / med["pgbench"]))
    print("notifications per WAL flush: %.1f (target >= 20)" % med["per_flush"])
    print("ratio relay/kcat: %.2f (target >= 0.8)" % (med["relay"] / med["kcat"]))


if __name__ == "__main__":
    main()
