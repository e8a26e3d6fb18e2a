#!/usr/bin/env bash
# Ingest benchmark: wrk POSTing notifications to the all-in-one daemon,
# beside wrk GETting the trivial /health/live route of the same server, in
# the same run. Prints a table with accepted/s, latency percentiles and the
# ratio. Each figure is the median of RUNS runs.
#
# Usage: benchmarks/load/ingest.sh [DURATION_S=10] [CONNECTIONS=64] [RUNS=3]
#   ALERTHUB_BIN   the daemon binary (default: built with -c opt)
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
conns=${2:-64}
runs=${3:-3}

if [ -z "${ALERTHUB_BIN:-}" ]; then
  tools/bazel.sh build -c opt //daemons/alerthub >/dev/null 2>&1
  ALERTHUB_BIN="$(tools/bazel.sh info -c opt bazel-bin 2>/dev/null)/daemons/alerthub/alerthub"
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cores=$(nproc)
# Pin the server and the load generator to different cores when there are two.
server_cpus="0"; load_cpus="1"
[ "$cores" -ge 4 ] && { server_cpus="0-$((cores/2-1))"; load_cpus="$((cores/2))-$((cores-1))"; }
[ "$cores" -lt 2 ] && { server_cpus="0"; load_cpus="0"; }

taskset -c "$server_cpus" "$ALERTHUB_BIN" --data_dir="$work/data" --http_address=127.0.0.1 \
  --http_port="$port" --grpc_port=0 --rate_limit_enabled=false --access_log=false --deliver=false \
  >"$work/out" 2>"$work/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
export ALERTHUB_API_KEY=$(cat "$work/data/bootstrap-api-key")

run_wrk() {  # run_wrk SCRIPT PATH -> RESULT line
  taskset -c "$load_cpus" wrk -t1 -c"$conns" -d"${duration}s" --latency \
    -s "benchmarks/load/$1" "http://127.0.0.1:$port$2" | grep '^RESULT'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }

declare -A rate p50 p99 p999
for scenario in trivial submit; do
  script=$scenario.lua; path=/health/live
  [ $scenario = submit ] && path=/api/v1/notifications
  results=()
  for _ in $(seq "$runs"); do results+=("$(run_wrk "$script" "$path")"); done
  rate[$scenario]=$(for r in "${results[@]}"; do
    req=$(echo "$r" | field requests); us=$(echo "$r" | field duration_us)
    echo "$req $us" | awk '{printf "%d\n", $1 / ($2 / 1e6)}'; done | median)
  p50[$scenario]=$(for r in "${results[@]}"; do echo "$r" | field p50_us; done | median)
  p99[$scenario]=$(for r in "${results[@]}"; do echo "$r" | field p99_us; done | median)
  p999[$scenario]=$(for r in "${results[@]}"; do echo "$r" | field p999_us; done | median)
done
accepted=$(curl -sf "http://127.0.0.1:$port/metrics" | sed -n 's/^alerthub_notifications_accepted_total \([0-9]*\)/\1/p')

echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); server cpus $server_cpus, wrk cpus $load_cpus"
echo "wrk -t1 -c$conns -d${duration}s, median of $runs runs; synchronous=FULL SQLite in $work"
printf '| %-28s | %10s | %8s | %8s | %9s |\n' scenario "req/s" "p50 ms" "p99 ms" "p99.9 ms"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------" "------------" "----------" "----------" "-----------"
for s in trivial submit; do
  name="GET /health/live (baseline)"; [ $s = submit ] && name="POST /api/v1/notifications"
  printf '| %-28s | %10s | %8.2f | %8.2f | %9.2f |\n' "$name" "${rate[$s]}" \
    "$(echo "${p50[$s]} / 1000" | bc -l)" "$(echo "${p99[$s]} / 1000" | bc -l)" "$(echo "${p999[$s]} / 1000" | bc -l)"
done
echo "ratio submit/trivial: $(echo "scale=3; ${rate[submit]} / ${rate[trivial]}" | bc -l)"
echo "notifications accepted (durable): $accepted"
