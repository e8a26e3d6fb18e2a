#!/usr/bin/env bash
# Runs a command against a fresh all-in-one AlertHub daemon: starts DAEMON
# (with DAEMON_FLAGS, when given before a "--") on a free loopback port with a
# temporary data dir, exports ALERTHUB_URL and ALERTHUB_API_KEY (the bootstrap
# owner key) for COMMAND, runs it, stops the daemon (SIGTERM) and exits with
# COMMAND's status. The test command uses it to run the remote examples; so
# can you:
#
#   examples/with_daemon.sh "$(tools/bazel.sh info -c opt bazel-bin)/daemons/alerthub/alerthub" \
#       --allow_private_networks -- examples/curl/walkthrough.sh
set -euo pipefail
usage="usage: $0 DAEMON_BINARY [DAEMON_FLAGS... --] COMMAND [ARGS...]"
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
daemon=$1; shift
flags=()
for arg in "$@"; do
  if [ "$arg" = "--" ]; then
    flags=()
    while [ "$1" != "--" ]; do flags+=("$1"); shift; done
    shift
    break
  fi
done
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
[ -x "$daemon" ] || { echo "with_daemon: $daemon is not an executable" >&2; exit 2; }

dir=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

# The daemon reads ALERTHUB_<FLAG> variables: start it without the caller's.
unset_vars=()
while IFS= read -r name; do unset_vars+=(-u "$name"); done < <(compgen -e | grep '^ALERTHUB_' || true)
env "${unset_vars[@]}" "$daemon" --data_dir="$dir/data" --http_address=127.0.0.1 --http_port=0 --grpc_port=0 \
  "${flags[@]}" >"$dir/daemon.log" 2>&1 &
pid=$!

# The port comes from the "listening" log line; then wait until ready.
port=""
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || { cat "$dir/daemon.log" >&2; echo "with_daemon: the daemon exited" >&2; exit 1; }
  port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$dir/daemon.log" | head -n 1)
  [ -n "$port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null && break
  sleep 0.1
done
if [ -z "$port" ] || ! curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready"; then
  cat "$dir/daemon.log" >&2
  echo "with_daemon: the daemon did not become ready" >&2
  exit 1
fi

export ALERTHUB_URL="http://127.0.0.1:$port"
ALERTHUB_API_KEY=$(cat "$dir/data/bootstrap-api-key")
export ALERTHUB_API_KEY
set +e
"$@"
status=$?
set -e
exit "$status"
