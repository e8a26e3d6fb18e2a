"""Helpers for the distributed suite: the separate AlertHub daemons on the
servers of tools/services.sh, per-run names on those servers, local webhook
sinks, and readers of what the daemons left on Kafka and RabbitMQ.

Only the Python standard library and Debian's python3-* packages are used
(requests, pika, confluent-kafka, psycopg2).
"""

import base64
import http.server
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

URL_VARS = {
    "postgres": "ALERTHUB_TEST_POSTGRES_URL",
    "redis": "ALERTHUB_TEST_REDIS_URL",
    "amqp": "ALERTHUB_TEST_AMQP_URL",
    "kafka": "ALERTHUB_TEST_KAFKA_URL",
}

TOPIC_CREATED = "alerthub.notifications.created"
TOPIC_DELIVERED = "alerthub.notifications.delivered"
TOPIC_FAILED = "alerthub.notifications.failed"
NOTIFICATION_TOPICS = (TOPIC_CREATED, TOPIC_DELIVERED, TOPIC_FAILED)
WEBHOOK_QUEUE = "integration.webhook.delivery"
WEBHOOK_DEAD_QUEUE = WEBHOOK_QUEUE + ".dead"  # rabbitmq/internal/topology.h

TERMINAL = {"delivered", "partially_delivered", "failed", "suppressed", "cancelled"}
NON_TERMINAL = ("accepted", "routed", "delivering")


def log(msg):
    print("[dist %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Per-run names on the shared servers.


def services_dir():
    return os.environ.get("ALERTHUB_SERVICES_DIR") or os.path.join(REPO, ".services")


def rabbitmqctl(amqp_url, *args):
    """Runs rabbitmqctl against the node tools/services.sh started (same
    HOME, epmd port and node name as its rabbit_env)."""
    d = os.path.join(services_dir(), "rabbitmq")
    port = urllib.parse.urlsplit(amqp_url).port or 5672
    with open(os.path.join(d, "epmd_port")) as f:
        epmd = f.read().strip()
    env = dict(os.environ, HOME=os.path.join(d, "home"), ERL_EPMD_PORT=epmd)
    cmd = ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-q", "-n", "alerthub-%d@localhost" % port]
    r = subprocess.run(cmd + list(args), env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("rabbitmqctl %s failed (%d): %s%s"
                           % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def with_vhost(amqp_url, vhost):
    u = urllib.parse.urlsplit(amqp_url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + urllib.parse.quote(vhost, safe=""),
                                    u.query, ""))


def with_database(pg_url, db):
    u = urllib.parse.urlsplit(pg_url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + db, u.query, ""))


def pg_admin(pg_url, sql):
    import psycopg2  # Debian's python3-psycopg2
    conn = psycopg2.connect(with_database(pg_url, "postgres"), connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


class RunNames:
    """Fresh names for one run: a PostgreSQL database (or SQLite file), a
    RabbitMQ vhost, and the tenant the run creates (Redis keys and Kafka
    events are told apart by tenant id; see README)."""

    def __init__(self, urls, tmp_dir):
        self.urls = urls
        self.tmp_dir = str(tmp_dir)
        self.run_id = "dist" + secrets.token_hex(4)
        self.vhost = "alerthub-" + self.run_id
        self.pg_db = None
        self.store_url = None
        self.store_kind = None

    @property
    def amqp_url(self):
        return with_vhost(self.urls["amqp"], self.vhost)

    @property
    def kv_url(self):
        return self.urls["redis"]

    @property
    def bus_url(self):
        return self.urls["kafka"]

    def create_vhost(self):
        rabbitmqctl(self.urls["amqp"], "add_vhost", self.vhost)
        rabbitmqctl(self.urls["amqp"], "set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")

    def use_postgres(self):
        self.pg_db = "alerthub_" + self.run_id
        pg_admin(self.urls["postgres"], 'CREATE DATABASE "%s"' % self.pg_db)
        self.store_url = with_database(self.urls["postgres"], self.pg_db)
        self.store_kind = "postgres"

    def use_sqlite(self):
        self.store_url = "sqlite://%s/alerthub.db" % self.tmp_dir
        self.store_kind = "sqlite"

    def drop_postgres(self):
        if self.pg_db:
            pg_admin(self.urls["postgres"], 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.pg_db)
            self.pg_db = None

    def cleanup(self):
        try:
            rabbitmqctl(self.urls["amqp"], "delete_vhost", self.vhost)
        except Exception as e:  # noqa: BLE001 - cleanup is best effort
            log("could not delete vhost %s: %s" % (self.vhost, e))
        try:
            self.drop_postgres()
        except Exception as e:  # noqa: BLE001
            log("could not drop database %s: %s" % (self.pg_db, e))


# ---------------------------------------------------------------------------
# Daemon processes.


class DaemonError(AssertionError):
    pass


class Daemon:
    """One alerthub-router / alerthub-integrations process on a fixed
    loopback port (kept across restarts). Logs: <log_dir>/<name>.<n>.err."""

    def __init__(self, name, binary, args, log_dir, port=None):
        self.name = name
        self.binary = binary
        self.args = list(args)
        self.log_dir = str(log_dir)
        self.port = port or free_port()
        self.proc = None
        self.starts = 0
        self.log_paths = []

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=60.0):
        assert self.proc is None or self.proc.poll() is not None, self.name + " already running"
        self.starts += 1
        base = os.path.join(self.log_dir, "%s.%d" % (self.name, self.starts))
        self.log_paths.append(base + ".err")
        args = [self.binary, "--http_address=127.0.0.1", "--http_port=%d" % self.port] + self.args
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTHUB_")}
        with open(base + ".out", "wb") as out, open(base + ".err", "wb") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         env=env)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise DaemonError("%s exited with %r while starting:\n%s"
                                  % (self.name, self.proc.returncode, self.tail()))
            try:
                if requests.get(self.url + "/health/ready", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise DaemonError("%s not ready within %.0fs:\n%s" % (self.name, timeout, self.tail()))
            time.sleep(0.1)

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout=30.0):
        """SIGTERM; returns the exit code (SIGKILL after `timeout`)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after %.0fs" % timeout

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def text(self):
        out = []
        for p in self.log_paths:
            try:
                with open(p, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(out)

    def tail(self, n=40):
        return "\n".join(self.text().splitlines()[-n:])

    def records(self):
        out = []
        for line in self.text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out


def bootstrap_owner_key(alerthub_bin, names, log_dir, timeout=60.0):
    """Creates tenant "default" and its owner key in the run's store through
    the all-in-one daemon's bootstrap (the only store-independent way the
    daemons offer): it is started once on the shared URLs without
    delivering, writes <data_dir>/bootstrap-api-key, and is stopped before
    anything is submitted. Returns (key, None) or (None, error text)."""
    data_dir = os.path.join(names.tmp_dir, "bootstrap")
    os.makedirs(data_dir, exist_ok=True)
    d = Daemon("bootstrap", alerthub_bin,
               ["--data_dir=" + data_dir, "--store=" + names.store_url, "--bus=" + names.bus_url,
                "--queue=" + names.amqp_url, "--kv=" + names.kv_url, "--deliver=false",
                "--grpc_port=0"],
               log_dir)
    try:
        d.start(timeout=timeout)
    except DaemonError as e:
        return None, str(e)
    code = d.stop()
    if code != 0:
        return None, "bootstrap daemon exit code %r:\n%s" % (code, d.tail())
    with open(os.path.join(data_dir, "bootstrap-api-key")) as f:
        return f.read().strip(), None


# ---------------------------------------------------------------------------
# HTTP API.


class Api:
    def __init__(self, base_url, key):
        self.base_url = base_url
        self.key = key
        self.local = threading.local()

    @property
    def session(self):
        s = getattr(self.local, "s", None)
        if s is None:
            s = self.local.s = requests.Session()
        return s

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        headers = dict(kw.pop("headers", None) or {}, **{"X-API-Key": self.key})
        return self.session.request(method, self.base_url + path, headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)


# ---------------------------------------------------------------------------
# Webhook sinks.


class Sink:
    """A local webhook receiver. Paths choose the answer:
      /ok/<name>       200 — the healthy receiver: dedupes on webhook-id
      /fail500/<name>  500 always (retried, then dead-lettered)
      /fail400/<name>  400 always (permanent: dead-lettered at once)
    and any of them with "/slow" in the path answers after `slow_s`.
    Every request is counted (raw arrivals on the wire); `first` keeps, per
    (path, webhook-id), the notification id of its body."""

    def __init__(self):
        self.lock = threading.Lock()
        self.raw = {}       # (path, webhook-id) -> arrivals
        self.first = {}     # (path, webhook-id) -> notification id
        self.bad = []       # requests without webhook-id or a JSON body with "id"
        self.total = 0
        self.slow_s = 1.0  # how long paths containing "/slow" wait before answering
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                wid = self.headers.get("webhook-id", "")
                try:
                    nid = json.loads(body).get("id")
                except (ValueError, AttributeError):
                    nid = None
                key = (self.path, wid)
                with sink.lock:
                    sink.total += 1
                    if not wid or not nid:
                        sink.bad.append((self.path, dict(self.headers), body[:200]))
                    else:
                        sink.raw[key] = sink.raw.get(key, 0) + 1
                        sink.first.setdefault(key, nid)
                status = 200
                if "/slow" in self.path:
                    time.sleep(sink.slow_s)
                if self.path.startswith("/fail500/"):
                    status = 500
                elif self.path.startswith("/fail400/"):
                    status = 400
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.server.server_address[1], path)

    def snapshot(self):
        with self.lock:
            return dict(self.raw), dict(self.first), list(self.bad), self.total

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------
# Kafka and RabbitMQ readers.


def kafka_bootstrap(kafka_url):
    return kafka_url[len("kafka://"):].split("?")[0]


class KafkaReader:
    """Reads AlertHub's notification topics from the offsets they had when
    the reader was made (so only this run's era is read), with an assigned
    consumer (no group coordination, nothing committed)."""

    def __init__(self, kafka_url, topics=NOTIFICATION_TOPICS):
        from confluent_kafka import Consumer, TopicPartition
        self._tp = TopicPartition
        self.conf = {"bootstrap.servers": kafka_bootstrap(kafka_url),
                     "group.id": "alerthub-dist-reader-" + secrets.token_hex(4),
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "socket.timeout.ms": 10000}
        self.consumer = Consumer(self.conf)
        self.topics = topics
        self.start = self._high_watermarks()

    def _partitions(self):
        md = self.consumer.list_topics(timeout=15)
        out = []
        for t in self.topics:
            tm = md.topics.get(t)
            assert tm is not None and tm.error is None, "kafka topic %s missing: %r" % (
                t, None if tm is None else tm.error)
            out.extend((t, p) for p in sorted(tm.partitions))
        return out

    def _high_watermarks(self):
        marks = {}
        for t, p in self._partitions():
            _, hi = self.consumer.get_watermark_offsets(self._tp(t, p), timeout=15)
            marks[(t, p)] = hi
        return marks

    def read(self, timeout=60.0):
        """Every message from the start marks up to the current high
        watermarks: {topic: [(key, headers, value dict), ...]}."""
        end = self._high_watermarks()
        todo = {tp: off for tp, off in end.items() if off > self.start.get(tp, 0)}
        out = {t: [] for t in self.topics}
        if not todo:
            return out
        self.consumer.assign([self._tp(t, p, self.start.get((t, p), 0)) for (t, p) in todo])
        deadline = time.monotonic() + timeout
        while todo:
            assert time.monotonic() < deadline, "kafka: reading timed out, left %r" % todo
            for m in self.consumer.consume(num_messages=2000, timeout=1.0):
                if m.error():
                    continue
                tp = (m.topic(), m.partition())
                if tp in todo and m.offset() < end[tp]:
                    key = m.key().decode() if m.key() is not None else None
                    headers = {k: (v.decode() if v is not None else None)
                               for k, v in (m.headers() or [])}
                    out[m.topic()].append((key, headers, json.loads(m.value())))
                    if m.offset() + 1 >= end[tp]:
                        del todo[tp]
        self.consumer.unassign()
        return out

    def close(self):
        self.consumer.close()


def read_dead_letters(amqp_url, queue=WEBHOOK_DEAD_QUEUE):
    """The message ids (delivery ids) and headers in a dead-letter queue,
    read with basic.get without acknowledging: closing the connection puts
    every message back."""
    import pika  # Debian's python3-pika
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        declared = ch.queue_declare(queue=queue, passive=True)
        count = declared.method.message_count
        out = []
        while True:
            method, props, body = ch.basic_get(queue=queue, auto_ack=False)
            if method is None:
                break
            out.append((props.message_id, props.headers or {}, body))
        return count, out
    finally:
        conn.close()


def queue_depths(amqp_url, queues):
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        return {q: ch.queue_declare(queue=q, passive=True).method.message_count for q in queues}
    finally:
        conn.close()


def secrets_key_file(tmp_dir):
    path = os.path.join(str(tmp_dir), "secrets.key")
    with open(path, "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    os.chmod(path, 0o600)
    return path
