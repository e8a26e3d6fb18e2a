#!/usr/bin/env bash
# Real servers for AlertHub's distributed adapters and live tests, on loopback:
# PostgreSQL, Redis, RabbitMQ and a Kafka-protocol broker (librdkafka's mock
# cluster, //tools/kafka_mock). Debian's packages (tools/bootstrap.sh), no
# downloads, runs as root (PostgreSQL runs as the `postgres` user).
#
# Usage: tools/services.sh start|stop|status|env [postgres|redis|rabbitmq|kafka ...]
#
#   start   starts each service not already running (idempotent) and prints
#           the exports of `env`
#   stop    stops what `start` started (by the pids it recorded)
#   status  one line per service; exit 0 only when all named ones run
#   env     `export ALERTHUB_TEST_*_URL=...` lines for the running services:
#             eval "$(tools/services.sh env)"
#
# Data, logs and pid files live under $ALERTHUB_SERVICES_DIR (default
# <repo>/.services); `stop` keeps the data, `rm -rf` it to start afresh.
# Ports, chosen away from each server's default (override by environment):
#   ALERTHUB_SERVICES_POSTGRES_PORT  15432   postgres://postgres@127.0.0.1:15432/alerthub
#   ALERTHUB_SERVICES_REDIS_PORT     16379   redis://127.0.0.1:16379
#   ALERTHUB_SERVICES_AMQP_PORT      16672   amqp://guest:guest@127.0.0.1:16672/%2f
#   ALERTHUB_SERVICES_AMQP_DIST_PORT 16673   RabbitMQ's Erlang distribution port
#   ALERTHUB_SERVICES_EPMD_PORT      16369   a private epmd for that node
#   Kafka: the mock broker chooses a free port itself (librdkafka 2.0 cannot be
#   told one); `env` prints it. The mock keeps its data in memory only.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
DIR=${ALERTHUB_SERVICES_DIR:-$repo/.services}
PG_PORT=${ALERTHUB_SERVICES_POSTGRES_PORT:-15432}
REDIS_PORT=${ALERTHUB_SERVICES_REDIS_PORT:-16379}
AMQP_PORT=${ALERTHUB_SERVICES_AMQP_PORT:-16672}
AMQP_DIST_PORT=${ALERTHUB_SERVICES_AMQP_DIST_PORT:-16673}
EPMD_PORT=${ALERTHUB_SERVICES_EPMD_PORT:-16369}
ALL=(postgres redis rabbitmq kafka)

die() { echo "services: $*" >&2; exit 1; }
say() { echo "services: $*" >&2; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits up to $2 seconds for port $1; false on timeout.
wait_port() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do port_open "$1" && return 0; sleep 0.1; done
  return 1
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -s "$1" ] && head -n1 "$1" || true; }

# Refuses to start on a port some other program holds.
check_port_free() {
  if port_open "$1"; then
    die "$2: port $1 on 127.0.0.1 is taken by another program; set $3 to another port"
  fi
}

# Sends SIGTERM to pid $1, waits up to $2 seconds, then SIGKILL.
stop_pid() {
  local pid=$1 i
  alive "$pid" || return 0
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < $2 * 10; i++)); do alive "$pid" || return 0; sleep 0.1; done
  say "pid $pid did not stop in $2 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

# --- PostgreSQL -------------------------------------------------------------

pg_bin() {
  local b
  b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -x "$b/pg_ctl" ] || die "postgres: no /usr/lib/postgresql/*/bin/pg_ctl (run tools/bootstrap.sh)"
  echo "$b"
}
pg_url() { echo "postgres://postgres@127.0.0.1:$1/alerthub"; }
as_postgres() { runuser -u postgres -- "$@"; }

pg_running() {
  local d=$DIR/postgres
  [ -f "$d/data/PG_VERSION" ] && as_postgres "$(pg_bin)/pg_ctl" -D "$d/data" status >/dev/null 2>&1
}

start_postgres() {
  local d=$DIR/postgres b
  b=$(pg_bin)
  if pg_running; then say "postgres already running"; return; fi
  check_port_free "$PG_PORT" postgres ALERTHUB_SERVICES_POSTGRES_PORT
  id postgres >/dev/null 2>&1 || die "postgres: no 'postgres' user (run tools/bootstrap.sh)"
  mkdir -p "$d"
  chown postgres: "$d"
  chmod 700 "$d"
  as_postgres test -w "$d" ||
    die "postgres: user 'postgres' cannot write $d (a parent directory is not searchable by other users); set ALERTHUB_SERVICES_DIR elsewhere"
  if [ ! -f "$d/data/PG_VERSION" ]; then
    as_postgres "$b/initdb" -D "$d/data" --auth=trust -U postgres -E UTF8 --locale=C \
      >"$d/initdb.log" 2>&1 || die "postgres: initdb failed, see $d/initdb.log"
  fi
  as_postgres "$b/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -k $d -c listen_addresses=127.0.0.1" start >/dev/null 9>&- ||
    die "postgres: did not start, see $d/postgres.log"
  echo "$PG_PORT" >"$d/port"
  if ! as_postgres "$b/psql" -h "$d" -p "$PG_PORT" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'alerthub'" | grep -q 1; then
    as_postgres "$b/createdb" -h "$d" -p "$PG_PORT" alerthub
  fi
  say "postgres started on 127.0.0.1:$PG_PORT"
}

stop_postgres() {
  local d=$DIR/postgres
  if pg_running; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$d/data" -m fast -w -t 60 stop >/dev/null
    say "postgres stopped"
  fi
}

status_postgres() {
  if pg_running; then
    echo "postgres  running  pid $(pid_of "$DIR/postgres/data/postmaster.pid")  $(pg_url "$(cat "$DIR/postgres/port")")"
  else
    echo "postgres  stopped"; return 1
  fi
}

env_postgres() { pg_running && echo "export ALERTHUB_TEST_POSTGRES_URL=$(pg_url "$(cat "$DIR/postgres/port")")"; }

# --- Redis ------------------------------------------------------------------

redis_running() { alive "$(pid_of "$DIR/redis/redis.pid")"; }

start_redis() {
  local d=$DIR/redis
  if redis_running; then say "redis already running"; return; fi
  command -v redis-server >/dev/null || die "redis: no redis-server (run tools/bootstrap.sh)"
  check_port_free "$REDIS_PORT" redis ALERTHUB_SERVICES_REDIS_PORT
  mkdir -p "$d"
  rm -f "$d/redis.pid"
  # No persistence: the Kv holds nothing whose loss loses notifications.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$d/redis.pid" --logfile "$d/redis.log" --dir "$d" 9>&- ||
    die "redis: did not start, see $d/redis.log"
  wait_port "$REDIS_PORT" 20 || die "redis: port $REDIS_PORT not open after 20 s, see $d/redis.log"
  echo "$REDIS_PORT" >"$d/port"
  say "redis started on 127.0.0.1:$REDIS_PORT"
}

stop_redis() {
  if redis_running; then
    stop_pid "$(pid_of "$DIR/redis/redis.pid")" 20
    rm -f "$DIR/redis/redis.pid"
    say "redis stopped"
  fi
}

status_redis() {
  if redis_running; then
    echo "redis     running  pid $(pid_of "$DIR/redis/redis.pid")  redis://127.0.0.1:$(cat "$DIR/redis/port")"
  else
    echo "redis     stopped"; return 1
  fi
}

env_redis() { redis_running && echo "export ALERTHUB_TEST_REDIS_URL=redis://127.0.0.1:$(cat "$DIR/redis/port")"; }

# --- RabbitMQ ---------------------------------------------------------------
# Runs as root (Debian's /usr/sbin wrappers would switch to the rabbitmq
# user) with HOME, cookie, database, logs and epmd all private to $DIR.

RABBIT_BIN=/usr/lib/rabbitmq/bin
rabbit_node() { echo "alerthub-$1@localhost"; }

# Runs a RabbitMQ command in the node's environment.
rabbit_env() {
  local d=$DIR/rabbitmq port
  port=$(cat "$d/port" 2>/dev/null || echo "$AMQP_PORT")
  env HOME="$d/home" ERL_EPMD_PORT="$(cat "$d/epmd_port" 2>/dev/null || echo "$EPMD_PORT")" \
    RABBITMQ_NODENAME="$(rabbit_node "$port")" "$@"
}

rabbit_running() { alive "$(pid_of "$DIR/rabbitmq/rabbitmq.pid")"; }

start_rabbitmq() {
  local d=$DIR/rabbitmq node i
  if rabbit_running; then say "rabbitmq already running"; return; fi
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || die "rabbitmq: no $RABBIT_BIN/rabbitmq-server (run tools/bootstrap.sh)"
  check_port_free "$AMQP_PORT" rabbitmq ALERTHUB_SERVICES_AMQP_PORT
  check_port_free "$AMQP_DIST_PORT" rabbitmq ALERTHUB_SERVICES_AMQP_DIST_PORT
  mkdir -p "$d/home" "$d/log"
  echo "$AMQP_PORT" >"$d/port"
  echo "$EPMD_PORT" >"$d/epmd_port"
  node=$(rabbit_node "$AMQP_PORT")
  cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
disk_free_limit.absolute = 50MB
EOF
  # A private epmd, so the node never meets another engineer's RabbitMQ and
  # `stop` can end it by pid.
  if ! alive "$(pid_of "$d/epmd.pid")"; then
    check_port_free "$EPMD_PORT" rabbitmq ALERTHUB_SERVICES_EPMD_PORT
    ERL_EPMD_PORT=$EPMD_PORT setsid epmd -address 127.0.0.1 </dev/null >"$d/log/epmd.log" 2>&1 9>&- &
    echo $! >"$d/epmd.pid"
    wait_port "$EPMD_PORT" 10 || die "rabbitmq: epmd did not open port $EPMD_PORT, see $d/log/epmd.log"
  fi
  rm -f "$d/rabbitmq.pid"
  rabbit_env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$AMQP_PORT" \
    RABBITMQ_DIST_PORT="$AMQP_DIST_PORT" RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" RABBITMQ_LOGS="$d/log/rabbit.log" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_PID_FILE="$d/rabbitmq.pid" \
    RABBITMQ_FEATURE_FLAGS_FILE="$d/feature_flags" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    setsid "$RABBIT_BIN/rabbitmq-server" </dev/null >"$d/log/server.out" 2>&1 9>&- &
  # The pid file appears once the VM runs; the AMQP listener opens last.
  for ((i = 0; i < 600; i++)); do
    [ -s "$d/rabbitmq.pid" ] && port_open "$AMQP_PORT" && break
    sleep 0.1
  done
  port_open "$AMQP_PORT" ||
    die "rabbitmq: port $AMQP_PORT not open after 60 s, see $d/log/rabbit.log and $d/log/server.out"
  rabbit_env "$RABBIT_BIN/rabbitmqctl" -q -n "$node" await_startup --timeout 60 >/dev/null ||
    die "rabbitmq: node $node did not finish starting, see $d/log/rabbit.log"
  say "rabbitmq started on 127.0.0.1:$AMQP_PORT (node $node)"
}

stop_rabbitmq() {
  local d=$DIR/rabbitmq pid
  pid=$(pid_of "$d/rabbitmq.pid")
  if alive "$pid"; then
    rabbit_env "$RABBIT_BIN/rabbitmqctl" -q -n "$(rabbit_node "$(cat "$d/port")")" stop "$d/rabbitmq.pid" \
      >/dev/null 2>&1 || stop_pid "$pid" 30
    say "rabbitmq stopped"
  fi
  rm -f "$d/rabbitmq.pid"
  pid=$(pid_of "$d/epmd.pid")
  if alive "$pid"; then stop_pid "$pid" 10; fi
  rm -f "$d/epmd.pid"
}

status_rabbitmq() {
  if rabbit_running; then
    echo "rabbitmq  running  pid $(pid_of "$DIR/rabbitmq/rabbitmq.pid")  amqp://guest:guest@127.0.0.1:$(cat "$DIR/rabbitmq/port")/%2f"
  else
    echo "rabbitmq  stopped"; return 1
  fi
}

env_rabbitmq() { rabbit_running && echo "export ALERTHUB_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:$(cat "$DIR/rabbitmq/port")/%2f"; }

# --- Kafka (librdkafka mock cluster) ----------------------------------------

kafka_running() { alive "$(pid_of "$DIR/kafka/kafka_mock.pid")"; }

start_kafka() {
  local d=$DIR/kafka bin i
  if kafka_running; then say "kafka already running"; return; fi
  mkdir -p "$d"
  (cd "$repo" && tools/bazel.sh build //tools/kafka_mock:kafka_mock >"$d/build.log" 2>&1 9>&-) ||
    die "kafka: building //tools/kafka_mock failed, see $d/build.log"
  bin=$(cd "$repo" && tools/bazel.sh info bazel-bin 2>/dev/null 9>&-)/tools/kafka_mock/kafka_mock
  [ -x "$bin" ] || die "kafka: $bin missing after the build"
  # A copy, so later builds (or other Bazel servers) never pull it away.
  install -m 0755 "$bin" "$d/kafka_mock"
  rm -f "$d/bootstrap"
  setsid "$d/kafka_mock" --bootstrap_file="$d/bootstrap" </dev/null >"$d/kafka_mock.log" 2>&1 9>&- &
  echo $! >"$d/kafka_mock.pid"
  for ((i = 0; i < 200; i++)); do [ -s "$d/bootstrap" ] && break; sleep 0.1; done
  [ -s "$d/bootstrap" ] || die "kafka: no bootstrap address after 20 s, see $d/kafka_mock.log"
  say "kafka (mock) started on $(cat "$d/bootstrap")"
}

stop_kafka() {
  if kafka_running; then
    stop_pid "$(pid_of "$DIR/kafka/kafka_mock.pid")" 10
    say "kafka stopped"
  fi
  rm -f "$DIR/kafka/kafka_mock.pid" "$DIR/kafka/bootstrap"
}

status_kafka() {
  if kafka_running; then
    echo "kafka     running  pid $(pid_of "$DIR/kafka/kafka_mock.pid")  kafka://$(cat "$DIR/kafka/bootstrap")"
  else
    echo "kafka     stopped"; return 1
  fi
}

env_kafka() { kafka_running && echo "export ALERTHUB_TEST_KAFKA_URL=kafka://$(cat "$DIR/kafka/bootstrap")"; }

# --- main -------------------------------------------------------------------

cmd=${1:-}
[ $# -gt 0 ] && shift
services=("$@")
[ ${#services[@]} -eq 0 ] && services=("${ALL[@]}")
for s in "${services[@]}"; do
  case "$s" in postgres|redis|rabbitmq|kafka) ;; *) die "unknown service \"$s\" (expected: ${ALL[*]})" ;; esac
done

case "$cmd" in
  start|stop)
    [ "$(id -u)" -eq 0 ] || die "run as root (PostgreSQL is started as the postgres user)"
    mkdir -p "$DIR"
    # One start/stop at a time per directory. Every server started below gets
    # `9>&-`, so none of them keeps holding the lock.
    exec 9>"$DIR/.lock"
    flock 9
    if [ "$cmd" = start ]; then
      for s in "${services[@]}"; do "start_$s"; done
      for s in "${services[@]}"; do "env_$s" || true; done
    else
      # Reverse order: the broker last started stops first.
      for ((i = ${#services[@]} - 1; i >= 0; i--)); do "stop_${services[$i]}"; done
    fi
    ;;
  status)
    rc=0
    for s in "${services[@]}"; do "status_$s" || rc=3; done
    exit $rc
    ;;
  env)
    for s in "${services[@]}"; do "env_$s" || true; done
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
