#!/usr/bin/env bash
# Runs Bazel offline with the shared disk cache, so a fresh clone reuses
# compilation from earlier builds on this machine. Every project script
# calls Bazel through this wrapper: tools/bazel.sh build //...
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/alerthub/bazel-disk-cache"
mkdir -p "$cache"
# ALERTHUB_BAZEL_OUTPUT_BASE gives a second checkout its own Bazel server.
startup=()
[ -n "${ALERTHUB_BAZEL_OUTPUT_BASE:-}" ] && startup+=(--output_base="$ALERTHUB_BAZEL_OUTPUT_BASE")
cmd="$1"; shift
case "$cmd" in
  build|test|run|coverage|cquery|aquery|fetch)
    exec bazel "${startup[@]}" "$cmd" --disk_cache="$cache" "$@" ;;
  *)
    exec bazel "${startup[@]}" "$cmd" "$@" ;;
esac
