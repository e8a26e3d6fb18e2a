// Hot-path costs of the metrics registry, against a bare std::atomic
// fetch_add on one shared counter measured in the same run.
//
//   tools/bazel.sh run -c opt //alerthub/server/metrics:metrics_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <atomic>
#include <cstdint>
#include <string>

#include "alerthub/server/metrics/metrics.h"
#include "benchmark/benchmark.h"

namespace alerthub::metrics {
namespace {

std::atomic<uint64_t> g_bare{0};

// Baseline: what a single unsharded counter costs (and how it scales when
// several threads hit it).
void BM_BareAtomicFetchAdd(benchmark::State& state) {
  for (auto _ : state) g_bare.fetch_add(1, std::memory_order_relaxed);
}
BENCHMARK(BM_BareAtomicFetchAdd)->Threads(1)->Threads(2);

Registry& SharedRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

Counter& SharedCounter() {
  static Counter& counter =
      SharedRegistry()
          .AddCounter("bench_requests_total", "Requests.", {"method", "route", "code"})
          .WithLabels({"POST", "/api/v1/notifications", "202"});
  return counter;
}

Histogram& SharedHistogram() {
  static Histogram& histogram =
      SharedRegistry()
          .AddHistogram("bench_request_duration_seconds", "Latency.", {"route"})
          .WithLabels({"/api/v1/notifications"});
  return histogram;
}

// A cached child, as request handlers use it.
void BM_CounterIncrement(benchmark::State& state) {
  Counter& counter = SharedCounter();
  for (auto _ : state) counter.Increment();
}
BENCHMARK(BM_CounterIncrement)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
  Histogram& histogram = SharedHistogram();
  double v = 0.0001;
  for (auto _ : state) {
    histogram.Observe(v);
    v = v < 20 ? v * 1.7 : 0.0001;  // sweep every bucket
  }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2);

// Looking the child up on every request instead of keeping it.
void BM_CounterWithLabelsThenIncrement(benchmark::State& state) {
  static CounterFamily& family = SharedRegistry().AddCounter(
      "bench_lookups_total", "Lookups.", {"method", "route", "code"});
  for (auto _ : state) {
    family.WithLabels({"POST", "/api/v1/notifications", "202"}).Increment();
  }
}
BENCHMARK(BM_CounterWithLabelsThenIncrement)->Threads(1);

void BM_Render(benchmark::State& state) {
  Registry registry;
  CounterFamily& requests =
      registry.AddCounter("r_total", "Requests.", {"method", "route", "code"});
  HistogramFamily& latency = registry.AddHistogram("l_seconds", "Latency.", {"route"});
  for (int route = 0; route < 20; ++route) {
    std::string r = "/api/v1/route" + std::to_string(route);
    latency.WithLabels({r}).Observe(0.01);
    for (const char* code : {"200", "400", "500"}) requests.WithLabels({"GET", r, code}).Increment();
  }
  for (auto _ : state) benchmark::DoNotOptimize(registry.Render());
}
BENCHMARK(BM_Render);

}  // namespace
}  // namespace alerthub::metrics
