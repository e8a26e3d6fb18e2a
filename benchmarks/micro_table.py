#!/usr/bin/python3
"""Runs a Google Benchmark binary with repetitions and prints a compact
markdown table of the medians, each beside its baseline: the ratio is to the
latest `BM_Baseline_*` benchmark above it (in registration order) that has
the same arguments and thread count (micro_benchmark.cc and
rules_benchmark.cc register each baseline first). The machine line carries
the load average the library recorded, since figures measured on a busy
machine are lower bounds.

  benchmarks/micro_table.py BINARY [--repetitions 3] [--min_time 0.5] [-- BENCHMARK FLAGS]
  benchmarks/micro_table.py $bin/benchmarks/micro_benchmark
  benchmarks/micro_table.py $bin/alerthub/rules/rules_benchmark -- --benchmark_filter=Mixed
"""

import argparse
import json
import subprocess
import sys


def fmt_ns(ns):
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f µs" % (ns / 1e3)
    return "%.1f ns" % ns


def to_ns(value, unit):
    return value * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--min_time", default="0.5")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []  # flags for the binary
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)

    out = subprocess.run(
        [args.binary, "--benchmark_format=json", "--benchmark_repetitions=%d" % args.repetitions,
         "--benchmark_report_aggregates_only=true", "--benchmark_min_time=%s" % args.min_time,
         *extra], capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return out.returncode
    report = json.loads(out.stdout)
    ctx = report["context"]
    rows = [b for b in report["benchmarks"]
            if b.get("aggregate_name", "median") == "median" and not b.get("error_occurred")]

    print("%s: %s; %d cpus at %d MHz; load average %s; median of %d repetitions"
          % (args.binary.rsplit("/", 1)[-1], ctx.get("date", "?"), ctx.get("num_cpus", 0),
             ctx.get("mhz_per_cpu", 0),
             " ".join("%.2f" % x for x in ctx.get("load_avg", [])), args.repetitions))
    print()
    print("| benchmark | CPU time | wall time | × baseline (CPU) |")
    print("| --- | ---: | ---: | ---: |")
    baselines = {}  # suffix ("/1000", "/threads:2") -> CPU ns of the latest baseline
    for b in rows:
        name = b.get("run_name", b["name"].rsplit("_median", 1)[0])
        family, _, suffix = name.partition("/")
        cpu = to_ns(b["cpu_time"], b["time_unit"])
        wall = to_ns(b["real_time"], b["time_unit"])
        if family.startswith("BM_Baseline_"):
            baselines[suffix] = cpu
            ratio = "1.00 (baseline)"
        elif suffix in baselines and baselines[suffix] > 0:
            ratio = "%.2f" % (cpu / baselines[suffix])
        else:
            ratio = ""
        print("| %s | %s | %s | %s |" % (name, fmt_ns(cpu), fmt_ns(wall), ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
