#!/usr/bin/env bash
# The run command (README): sets up a fresh Debian bookworm machine, builds
# AlertHub and runs it on its embedded defaults (SQLite under
# ./alerthub-data, in-process bus, in-memory Kv).
#
# Until the all-in-one daemon lands this runs the embedded example, which
# submits a notification through alerthub::Client, reads it back with its
# events and watches its status.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
tools/bazel.sh build -c opt //examples/embedded:embedded_example
data_dir="${ALERTHUB_DATA_DIR:-./alerthub-data}"
mkdir -p "$data_dir"
exec bazel-bin/examples/embedded/embedded_example \
  --store="sqlite://$(cd "$data_dir" && pwd)/alerthub.db" "$@"
