#!/usr/bin/env bash
# The test command (README): sets up a fresh Debian bookworm machine and runs
# AlertHub's whole test suite — every Bazel test, the examples and a smoke run
# of every benchmark — then prints one summary line:
#   "alerthub: N passed, M failed"
#
# Usage: tools/test.sh        (CI runs it through .ci/run)
set -uo pipefail
cd "$(dirname "$0")/.."

tools/bootstrap.sh || { echo "bootstrap failed" >&2; exit 1; }

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
failed_steps=()

step() {  # step NAME COMMAND...: runs a step, records failure, keeps going
  local name=$1; shift
  echo "== $name"
  if ! "$@"; then
    failed_steps+=("$name")
    echo "== $name: FAILED" >&2
  fi
}

# 1. Unit, contract and cross-component tests (hermetic).
step "bazel test //..." tools/bazel.sh test //... --nocache_test_results --keep_going

# 2. Examples, as a user runs them.
step "build examples and benchmarks" tools/bazel.sh build -c opt //examples/... //benchmarks/...
step "example: embedded client" \
  bazel-bin/examples/embedded/embedded_example --store="sqlite://$log_dir/example.db"

# 3. Each benchmark on a tiny input (numbers come from docs/benchmarks.md's commands).
step "benchmark smoke: submit" \
  bazel-bin/benchmarks/submit_benchmark --benchmark_min_time=0.01

python3 tools/test_summary.py bazel-testlogs "${#failed_steps[@]}" \
  "$(( 2 ))"
status=$?
if [ ${#failed_steps[@]} -gt 0 ]; then
  printf 'failed step: %s\n' "${failed_steps[@]}" >&2
  exit 1
fi
exit $status
