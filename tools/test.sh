#!/usr/bin/env bash
# The test command (README): sets up a fresh Debian bookworm machine and runs
# AlertHub's whole test suite — every Bazel test, the end-to-end suite against
# the real daemon, the examples and a smoke run of every benchmark — then
# prints one summary line:
#   "alerthub: N passed, M failed"
#
# Usage: tools/test.sh        (CI runs it through .ci/run)
set -uo pipefail
cd "$(dirname "$0")/.."

tools/bootstrap.sh || { echo "bootstrap failed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed_steps=0
script_steps=0

step() {  # step NAME COMMAND...: runs one step, counts it, keeps going
  local name=$1; shift
  echo "== $name"
  script_steps=$((script_steps + 1))
  if ! "$@"; then
    failed_steps=$((failed_steps + 1))
    echo "== $name: FAILED" >&2
  fi
}

bazel_test_ok=1
# 1. Unit, contract and cross-component tests (hermetic).
echo "== bazel test //..."
tools/bazel.sh test //... --nocache_test_results --keep_going || bazel_test_ok=0

# 1b. The distributed adapters against live servers (PostgreSQL, Redis,
# RabbitMQ, a Kafka-protocol broker on loopback); stopped at exit unless they
# were already running.
services_were_up=0
tools/services.sh status >/dev/null 2>&1 && services_were_up=1
if svc_env=$(tools/services.sh start); then
  eval "$svc_env"
  [ $services_were_up -eq 1 ] || trap 'tools/services.sh stop >/dev/null 2>&1; rm -rf "$work"' EXIT
  echo "== bazel test --config=live //tests/live"
  tools/bazel.sh test --config=live --nocache_test_results //tests/live || bazel_test_ok=0
else
  echo "== live-service tests: tools/services.sh start FAILED" >&2; bazel_test_ok=0
fi
testlogs=$(tools/bazel.sh info bazel-testlogs 2>/dev/null)
bin=$(tools/bazel.sh info -c opt bazel-bin 2>/dev/null)

# 2. Optimized binaries: the daemon, examples, benchmarks.
step "build daemons, examples and benchmarks" \
  tools/bazel.sh build -c opt //daemons/... //examples/... //benchmarks/... //bindings/python:_alerthub.so \
  //alerthub/adapters/sqlite:sqlite_store_benchmark //alerthub/server/metrics:metrics_benchmark \
  //alerthub/delivery:delivery_benchmark //alerthub/rules:rules_benchmark //benchmarks:micro_benchmark

# 3. End to end against the real daemon (real HTTP and WebSocket clients).
echo "== end-to-end suite (pytest)"
ALERTHUB_BIN="$bin/daemons/alerthub/alerthub" /usr/bin/python3 -m pytest tests/e2e -q \
  -p no:cacheprovider --junitxml="$work/e2e.xml"
e2e_rc=$?

# 3b. [distributed suite] Two alerthub-router and two alerthub-integrations
# on the servers of step 1b (Redis, RabbitMQ, Kafka; PostgreSQL or SQLite),
# 5,000 notifications, then faults (tests/distributed/README.md). Skips,
# saying so, when the services did not start (ALERTHUB_TEST_*_URL unset).
echo "== distributed suite (pytest)"
ALERTHUB_DIST_BIN_DIR="$bin" /usr/bin/python3 -m pytest tests/distributed -q \
  -p no:cacheprovider --junitxml="$work/distributed.xml"
distributed_rc=$?
# [end distributed suite]

# 4. Examples, as a user runs them.
step "example: embedded client" \
  "$bin/examples/embedded/embedded_example" --store="sqlite://$work/example.db"

# 4b. The Python bindings: installed as a user installs them, then their suite.
step "python bindings: pip install" env ALERTHUB_PY_EXTENSION="$bin/bindings/python/_alerthub.so" \
  /usr/bin/python3 -m pip install -q --root-user-action=ignore --no-build-isolation --no-deps \
  --no-index --target "$work/py" ./bindings/python
echo "== python bindings (pytest)"
PYTHONPATH="$work/py" ALERTHUB_BIN="$bin/daemons/alerthub/alerthub" /usr/bin/python3 -m pytest \
  bindings/python/tests -q -p no:cacheprovider --junitxml="$work/python.xml"
python_rc=$?

# 4c. The other examples; the remote ones against a fresh daemon each.
with_daemon=(examples/with_daemon.sh "$bin/daemons/alerthub/alerthub")
step "example: remote client (C++)" "${with_daemon[@]}" "$bin/examples/remote/remote_example"
step "example: python embedded" env PYTHONPATH="$work/py" /usr/bin/python3 \
  examples/python/embedded.py --store="sqlite://$work/example-py.db"
step "example: python remote" "${with_daemon[@]}" \
  env PYTHONPATH="$work/py" /usr/bin/python3 examples/python/remote.py
step "example: python watch" "${with_daemon[@]}" \
  env PYTHONPATH="$work/py" /usr/bin/python3 examples/python/watch.py --demo 3
step "example: curl walkthrough" examples/with_daemon.sh "$bin/daemons/alerthub/alerthub" \
  --allow_private_networks -- examples/curl/walkthrough.sh

# 5. Each benchmark on a tiny input (the numbers come from docs/benchmarks.md).
step "benchmark smoke: submit" "$bin/benchmarks/submit_benchmark" --benchmark_min_time=0.01
step "benchmark smoke: sqlite store" \
  "$bin/alerthub/adapters/sqlite/sqlite_store_benchmark" --benchmark_min_time=0.01
step "benchmark smoke: metrics" "$bin/alerthub/server/metrics/metrics_benchmark" --benchmark_min_time=0.01
step "benchmark smoke: delivery" "$bin/alerthub/delivery/delivery_benchmark" --benchmark_min_time=0.01
step "benchmark smoke: rules" "$bin/alerthub/rules/rules_benchmark" --benchmark_min_time=0.01 \
  --benchmark_filter='/(10|1000)$'
step "benchmark smoke: micro (token bucket, dedup, parse, templates)" \
  "$bin/benchmarks/micro_benchmark" --benchmark_min_time=0.01
step "benchmark smoke: micro table" /usr/bin/python3 benchmarks/micro_table.py \
  "$bin/benchmarks/micro_benchmark" --repetitions 1 --min_time 0.01 -- --benchmark_filter=Baseline
export ALERTHUB_BIN="$bin/daemons/alerthub/alerthub"
step "benchmark smoke: ingest (wrk)" benchmarks/load/ingest.sh 1 8 1
step "benchmark smoke: websocket fan-out" benchmarks/load/ws_fanout.py --connections 20 --notifications 2 \
  --runs 1
step "benchmark smoke: delivery to a webhook sink" env WEBHOOK_SINK_BIN="$bin/benchmarks/webhook_sink" \
  /usr/bin/python3 benchmarks/load/delivery.py --notifications 200 --workers 4 --runs 1 --wrk_seconds 1
step "benchmark smoke: distributed ingest (router on PostgreSQL + Kafka vs pgbench, kcat)" \
  env ALERTHUB_ROUTER_BIN="$bin/daemons/router/alerthub-router" \
  /usr/bin/python3 benchmarks/load/distributed_ingest.py --duration 1 --connections 8 --runs 1
step "benchmark smoke: distributed delivery (router + integrations on PostgreSQL, Redis, Kafka, RabbitMQ)" \
  env ALERTHUB_DIST_BIN_DIR="$bin" WEBHOOK_SINK_BIN="$bin/benchmarks/webhook_sink" \
  /usr/bin/python3 benchmarks/load/distributed_delivery.py --notifications 50 --workers 4 --runs 1 \
  --wrk_seconds 1
step "benchmark smoke: side by side with Alertmanager" env WEBHOOK_SINK_BIN="$bin/benchmarks/webhook_sink" \
  /usr/bin/python3 benchmarks/load/alertmanager.py --events 50 --runs 1 --timeout 60

[ $bazel_test_ok -eq 1 ] || echo "bazel test reported failures" >&2
python3 tools/test_summary.py --testlogs "$testlogs" --junit "$work/e2e.xml:$e2e_rc" \
  --junit "$work/distributed.xml:$distributed_rc" \
  --junit "$work/python.xml:$python_rc" \
  --script-steps "$script_steps" --failed-steps "$failed_steps" \
  --bazel-ok "$bazel_test_ok"
