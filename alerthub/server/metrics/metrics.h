// A Prometheus metrics registry for AlertHub's /metrics endpoint, cheap enough
// for the request path.
//
// Families are registered once at start-up; each labeled child (one time
// series, or one histogram) is created on its first WithLabels() and lives as
// long as the Registry, so callers look it up once and keep the reference:
//
//   metrics::Registry registry;
//   metrics::CounterFamily& requests = registry.AddCounter(
//       "alerthub_http_requests_total", "HTTP requests served.",
//       {"method", "route", "code"});
//   metrics::Counter& accepted =
//       requests.WithLabels({"POST", "/api/v1/notifications", "202"});
//   accepted.Increment();                 // one relaxed atomic add, no allocation
//
//   registry.AddCallbackGauge("alerthub_outbox_backlog", "Unsent outbox messages.",
//                             [&] { return static_cast<double>(backlog()); });
//   std::string body = registry.Render();  // serve with kContentType
//
// Updates (Increment, Set, Add, Observe) never lock or allocate. Counters and
// histograms are split into per-thread-group shards on separate cache lines,
// so threads updating the same child do not contend; Render() adds the shards
// up. WithLabels() hashes the label values and takes a reader lock (a writer
// lock the first time), so it is fine per request but belongs outside tight
// loops.
//
// Misuse that can only be a programming error (an invalid or duplicate name at
// registration, the wrong number of label values) aborts the process with a
// message on stderr: registration happens at start-up, so any test that
// builds the registry finds it.
//
// Thread-safe: every method may be called concurrently.
#ifndef ALERTHUB_SERVER_METRICS_METRICS_H_
#define ALERTHUB_SERVER_METRICS_METRICS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace alerthub::metrics {

// The Content-Type of Registry::Render()'s output (text format 0.0.4).
inline constexpr absl::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Histogram buckets for latencies in seconds, 0.5 ms to 10 s:
// .0005 .001 .0025 .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> DefaultLatencyBuckets();

// OK when `name` is a valid Prometheus metric name, [a-zA-Z_:][a-zA-Z0-9_:]*;
// kInvalidArgument naming the problem otherwise.
absl::Status ValidateMetricName(absl::string_view name);

// OK when `name` is a valid Prometheus label name, [a-zA-Z_][a-zA-Z0-9_]*, and
// does not start with "__" (reserved); kInvalidArgument otherwise.
absl::Status ValidateLabelName(absl::string_view name);

namespace metrics_internal {

// Counters and histograms keep this many copies of their state, each on its
// own cache lines; a thread always updates the same one.
inline constexpr size_t kShards = 8;

// The shard of the next thread to ask (round-robin).
size_t NextShard();

inline thread_local size_t this_thread_shard = kShards;  // kShards: unassigned

inline size_t ThisThreadShard() {
  size_t shard = this_thread_shard;
  if (ABSL_PREDICT_FALSE(shard == kShards)) shard = this_thread_shard = NextShard();
  return shard;
}

// What Registry keeps of every family; the public families derive from it.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~FamilyBase();
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // "counter", "gauge" or "histogram".
  virtual absl::string_view type() const = 0;
  // Appends the family's samples, without its HELP and TYPE lines.
  virtual void AppendSamples(std::string* out) const = 0;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
};

}  // namespace metrics_internal

// A monotonically increasing count: one time series of a CounterFamily.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `n`. Never locks or allocates.
  void Increment(uint64_t n = 1) {
    shards_[metrics_internal::ThisThreadShard()].value.fetch_add(n, std::memory_order_relaxed);
  }

  // The total so far (concurrent increments may or may not be included).
  uint64_t Value() const;

 private:
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, metrics_internal::kShards> shards_;
};

// A value that goes up and down: one time series of a GaugeFamily.
class alignas(64) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  // Adds `delta` (negative to subtract) atomically.
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Increment() { Add(1); }
  void Decrement() { Add(-1); }

  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A distribution of observations in fixed buckets: one histogram of a
// HistogramFamily. Buckets count observations <= their upper bound ("le");
// the last, implicit bucket is +Inf.
class Histogram {
 public:
  // Use HistogramFamily::WithLabels(). `bounds`: strictly increasing, finite.
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);
  ~Histogram();
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Records `value` (seconds, for latencies). NaN is ignored. Never locks or
  // allocates.
  void Observe(double value);
  void ObserveDuration(absl::Duration d) { Observe(absl::ToDoubleSeconds(d)); }

  struct Snapshot {
    // Cumulative counts: [i] counts observations <= bounds()[i]; the last
    // element, one past the bounds, is the +Inf bucket (== count).
    std::vector<uint64_t> buckets;
    double sum = 0;
    uint64_t count = 0;
  };
  // The state so far. Concurrent observations may be missing from `sum`
  // while counted in `buckets`; `count` always equals the +Inf bucket.
  Snapshot Read() const;

  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  // Per shard: one counter per bucket (+Inf last), then the sum as the bits of
  // a double, padded to whole cache lines.
  struct alignas(64) Line {
    std::atomic<uint64_t> words[8];
  };
  std::atomic<uint64_t>& Word(size_t shard, size_t i) const;

  const std::shared_ptr<const std::vector<double>> bounds_;
  const size_t lines_per_shard_;
  const std::unique_ptr<Line[]> lines_;
};

// All time series of one metric, one per combination of label values.
template <typename Metric>
class Family final : public metrics_internal::FamilyBase {
 public:
  // Use Registry::AddCounter() and friends.
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Metric>()> make_metric);
  ~Family() override;

  // The child with these label values (one per label name, in the order the
  // names were registered; any UTF-8), created on first use. The reference
  // stays valid, and keeps naming the same child, for the Registry's life.
  // A family without labels has its one child, WithLabels({}), from the start.
  // REQUIRES: label_values.size() == label_names().size() (aborts otherwise).
  Metric& WithLabels(absl::Span<const absl::string_view> label_values);

  absl::string_view type() const override;
  void AppendSamples(std::string* out) const override;

 private:
  struct Child {
    std::vector<std::string> label_values;
    std::unique_ptr<Metric> metric;
  };

  const std::function<std::unique_ptr<Metric>()> make_metric_;
  mutable absl::Mutex mu_;
  // Keyed by the label values, each preceded by its length.
  absl::flat_hash_map<std::string, std::unique_ptr<Child>> children_ ABSL_GUARDED_BY(mu_);
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// The metric families of one process, rendered together for /metrics.
//
// Registration aborts, with a message on stderr, when a metric or label name
// is invalid (see ValidateMetricName/ValidateLabelName), `help` is empty, a
// label name repeats, or any series name it would render (a histogram's
// `_bucket`, `_sum` and `_count` included) is already taken. AlertHub's naming
// rules are enforced too: counter names end in `_total` and no other name
// does; histograms have no `le` label.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& AddCounter(absl::string_view name, absl::string_view help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(absl::string_view name, absl::string_view help,
                        std::vector<std::string> label_names = {});
  // `buckets`: upper bounds, strictly increasing and finite (+Inf is implicit).
  HistogramFamily& AddHistogram(absl::string_view name, absl::string_view help,
                                std::vector<std::string> label_names = {},
                                std::vector<double> buckets = DefaultLatencyBuckets());

  // A gauge without labels whose value is `callback()` at each Render(), for
  // values owned elsewhere (outbox backlog, pool use). `callback` is called
  // without the registry's locks held, from the rendering thread; it must be
  // thread-safe and stay callable for the Registry's life.
  void AddCallbackGauge(absl::string_view name, absl::string_view help,
                        std::function<double()> callback);

  // The same for a counter kept elsewhere (its name must end in "_total";
  // `callback` must never decrease).
  void AddCallbackCounter(absl::string_view name, absl::string_view help,
                          std::function<double()> callback);

  // Every family in the Prometheus text exposition format 0.0.4, sorted by
  // name: `# HELP` and `# TYPE` lines, then one line per series, children
  // sorted by label values. A labeled family without children yet renders
  // only its HELP and TYPE lines.
  std::string Render() const;

 private:
  template <typename F>
  F& Register(std::unique_ptr<F> family, std::vector<std::string> series_names);

  mutable absl::Mutex mu_;
  // Sorted by name, as Render() emits them. Never removed, so pointers to
  // families stay valid.
  std::map<std::string, std::unique_ptr<metrics_internal::FamilyBase>, std::less<>> families_
      ABSL_GUARDED_BY(mu_);
  // Family names and the series names they render, to reject collisions.
  absl::flat_hash_set<std::string> taken_names_ ABSL_GUARDED_BY(mu_);
};

// Registers the gauge `alerthub_build_info{version="...",commit="..."} 1`.
void AddBuildInfo(Registry& registry, absl::string_view version, absl::string_view commit);

}  // namespace alerthub::metrics

#endif  // ALERTHUB_SERVER_METRICS_METRICS_H_
