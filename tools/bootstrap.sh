#!/usr/bin/env bash
# Installs every Debian package that AlertHub's build, tests, local servers and
# benchmarks need. Idempotent and quiet: when everything is present it only runs
# `dpkg-query` and returns in well under a second.
#
# Usage: tools/bootstrap.sh            (as root, or with sudo available)
set -euo pipefail

PACKAGES=(
  # Build: offline Bazel and the system libraries wrapped in bazel/BUILD.bazel.
  bazel-bootstrap bazel-platforms bazel-rules-java g++ pkg-config git ca-certificates
  libabsl-dev libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libboost-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libre2-dev libsodium-dev
  libkainjow-mustache-dev libpq-dev libhiredis-dev librdkafka-dev librabbitmq-dev
  pybind11-dev python3-dev python3-pip python3-setuptools python3-wheel python3-venv
  # Tests: real clients and real servers.
  curl sqlite3 python3-pytest python3-requests python3-websockets python3-grpcio
  python3-confluent-kafka python3-pika python3-psycopg2 python3-redis python3-aiosmtpd
  grpc-proto
  postgresql redis-server rabbitmq-server kcat prometheus
  # Independent implementations tests check AlertHub against (tools/node).
  nodejs
  # Benchmarks.
  wrk prometheus-alertmanager hyperfine bc
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm is its own Debian package beside Debian's nodejs (other builds of
# nodejs bundle it, and conflict with Debian's npm), so it is asked for only
# when missing.
command -v npm >/dev/null 2>&1 || missing+=(npm)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Server packages must not start their daemons at install time; tests start
  # private instances on free ports.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages of tools/node (package-lock.json pins them), installed into
# tools/node/node_modules when missing or older than the lock file.
node_dir="$(cd "$(dirname "$0")" && pwd)/node"
if [ ! -f "$node_dir/node_modules/.package-lock.json" ] ||
   [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
  echo "bootstrap: installing npm packages in tools/node" >&2
  npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error >/dev/null
fi
