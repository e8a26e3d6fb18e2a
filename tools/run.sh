#!/usr/bin/env bash
# The run command (README): sets up a fresh Debian bookworm machine, builds
# AlertHub and runs the all-in-one daemon on its embedded defaults — SQLite
# under ./alerthub-data, in-process bus, in-memory Kv — on port 8080.
#
# Extra arguments go to the daemon (see `alerthub --help`), e.g.
#   tools/run.sh --http_port=9000 --data_dir=/var/lib/alerthub
# Every flag can also be set as an ALERTHUB_<FLAG> environment variable.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
tools/bazel.sh build -c opt //daemons/alerthub
bin="$(tools/bazel.sh info -c opt bazel-bin 2>/dev/null)/daemons/alerthub/alerthub"
exec "$bin" --data_dir="${ALERTHUB_DATA_DIR:-./alerthub-data}" "$@"
