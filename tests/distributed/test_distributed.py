"""AlertHub end to end across separate processes: two alerthub-router and two
alerthub-integrations daemons on one store, Redis, Kafka and RabbitMQ, with
real clients (requests, confluent-kafka, pika) checking what each server
holds afterwards — and the same ledger through server restarts and kill -9.
"""

import os
import signal
import subprocess
import threading
import time

import pytest

from dist_harness import REPO, log, read_dead_letters

N = int(os.environ.get("ALERTHUB_DIST_N", "5000"))
FAULT_N = int(os.environ.get("ALERTHUB_DIST_FAULT_N", "1000"))


def test_exactly_once_across_two_routers_and_two_workers(cluster):
    t0 = time.monotonic()
    ids, _ = cluster.submit(N, batch=100, threads=4)
    assert len(ids) == N
    submit_s = time.monotonic() - t0
    cluster.wait_terminal(timeout=max(300, N / 10))
    report = cluster.verify(ids, N)
    log("store %s: %d notifications submitted in %.1fs, terminal after %.1fs total"
        % (cluster.names.store_kind, N, submit_s, time.monotonic() - t0))
    # Both routers took submissions and both workers delivered.
    for d in cluster.workers:
        assert d.alive(), d.tail()
    assert report["ledger"]["accepted"] == N


# ---------------------------------------------------------------------------
# Faults.


def services(*args):
    """tools/services.sh, with the caller's environment (its
    ALERTHUB_SERVICES_DIR and ALERTHUB_BAZEL_OUTPUT_BASE)."""
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(REPO, "tools/services.sh")] + list(args), cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "services.sh %s: %s%s" % (" ".join(args), r.stdout, r.stderr)
    log("services.sh %s: %.1fs" % (" ".join(args), time.monotonic() - t0))


def restart_service(name):
    services("stop", name)
    time.sleep(1.0)
    services("start", name)


def restart_kafka(seconds):
    """The Kafka fault: every broker of the mock cluster (tools/kafka_mock)
    goes down — open connections dropped, new ones refused — for `seconds`
    (SIGUSR1), then comes back on the same port with its data (SIGUSR2): a
    broker restart as clients see it. (Stopping the process would lose the
    mock's in-memory log and its port.)"""
    pid_file = os.path.join(os.environ.get("ALERTHUB_SERVICES_DIR") or os.path.join(REPO, ".services"),
                            "kafka", "kafka_mock.pid")
    with open(pid_file) as f:
        pid = int(f.read().split()[0])
    os.kill(pid, signal.SIGUSR1)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGUSR2)
    log("kafka brokers (pid %d) down for %.0fs" % (pid, seconds))


def test_faults_keep_the_ledger(cluster):
    result = {}

    def submit():
        try:
            result["ids"], result["stats"] = cluster.submit(
                FAULT_N, batch=20, threads=2, pace=3.0, retry_for=400)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            result["error"] = e

    t0 = time.monotonic()
    th = threading.Thread(target=submit, daemon=True)
    th.start()
    faults = []

    def fault(name, fn):
        time.sleep(3.0)
        f0 = time.monotonic()
        fn()
        faults.append("%s at +%.0fs (%.1fs)" % (name, f0 - t0, time.monotonic() - f0))
        log("fault done: " + faults[-1])

    def kill_router():
        cluster.routers[0].kill9()
        time.sleep(1.0)
        cluster.routers[0].start()

    def kill_worker():
        cluster.workers[0].kill9()
        time.sleep(1.0)
        cluster.workers[0].start()

    fault("kill -9 router1", kill_router)
    fault("restart redis", lambda: restart_service("redis"))
    fault("kill -9 integrations1", kill_worker)
    fault("restart kafka (down 10s)", lambda: restart_kafka(10))
    if cluster.names.store_kind == "postgres":
        fault("restart postgres", lambda: restart_service("postgres"))
    fault("restart rabbitmq", lambda: restart_service("rabbitmq"))
    th.join(timeout=600)
    assert not th.is_alive(), "submission did not finish"
    if "error" in result:
        raise result["error"]
    ids = result["ids"]
    assert len(ids) == FAULT_N
    cluster.wait_terminal(timeout=600)
    # Retries around the faults may add attempts on the failing sink and
    # publish a dead letter twice; the ledger, the receivers, the store's dead
    # deliveries, the dead-letter queue (as a set) and Kafka must agree.
    report = cluster.verify(ids, FAULT_N, strict_attempts=False, dlq_exact=True)
    log("faults: %s; total %.1fs; %r" % ("; ".join(faults), time.monotonic() - t0,
                                          report["ledger"]))
    for d in cluster.routers + cluster.workers:
        assert d.alive(), "%s died:\n%s" % (d.name, d.tail())


def test_dead_letters_survive_a_rabbitmq_restart(cluster):
    """Permanent failures answered slowly (1.5 s) by the receiver, so that
    many are being recorded when RabbitMQ stops: every delivery the store
    holds as dead must be in the dead-letter queue afterwards."""
    cluster.sink.slow_s = 1.5
    r = cluster.worker_api(0).post("/api/v1/integrations", json={
        "name": "dist-slow400", "channel": "webhook",
        "config": {"url": cluster.sink.url("/fail400/slow")}})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    ids = []
    for b in range(0, 300, 100):
        r = cluster.router_api(b // 100 % 2).post("/api/v1/notifications/batch", json={
            "notifications": [{"type": "dist.slow", "title": "slow %d" % i,
                               "data": {"run": cluster.names.run_id, "seq": i},
                               "integration_ids": [iid]} for i in range(b, b + 100)]})
        assert r.status_code == 200, r.text
        ids += [x["id"] for x in r.json()["results"]]
    time.sleep(5.0)  # about 16 sends in flight at any time
    restart_service("rabbitmq")
    cluster.wait_terminal(timeout=600)
    store_dead = {d for d, _, _ in cluster.dead_in_store()}
    assert len(store_dead) == 300
    # A delivery recorded dead whose dead-lettering the restart lost is
    # redelivered and dead-lettered again once a worker has reconnected
    # (at least once): wait for that, boundedly.
    deadline = time.monotonic() + 60.0
    while True:
        _, dead = read_dead_letters(cluster.names.amqp_url)
        in_queue = {m[0] for m in dead}
        missing = store_dead - in_queue
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    log("dead in the store: %d, in the dead-letter queue: %d, missing: %d"
        % (len(store_dead), len(in_queue), len(missing)))
    assert not missing, "%d dead deliveries missing from the dead-letter queue, e.g. %s" % (
        len(missing), sorted(missing)[:3])
