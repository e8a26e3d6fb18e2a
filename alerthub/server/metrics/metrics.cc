#include "alerthub/server/metrics/metrics.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace alerthub::metrics {
namespace {

[[noreturn]] void Fatal(absl::string_view message) {
  std::fprintf(stderr, "alerthub::metrics: %.*s\n", static_cast<int>(message.size()),
               message.data());
  std::abort();
}

void FatalIfError(const absl::Status& status) {
  if (!status.ok()) Fatal(status.message());
}

// Appends `v` as Go's strconv.FormatFloat(v, 'g', -1, 64) does, which is what
// Prometheus' own clients write: the shortest digits that read back as `v`,
// in exponent form when the exponent is < -4 or >= 6 (1e+06, 5e-05), and
// "+Inf", "-Inf", "NaN".
void AppendDouble(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  if (v == 0) {
    out->append(std::signbit(v) ? "-0" : "0");
    return;
  }
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  absl::string_view scientific(buf, static_cast<size_t>(r.ptr - buf));
  size_t e = scientific.find('e');
  absl::string_view exponent_text = scientific.substr(e + 1);
  if (!exponent_text.empty() && exponent_text[0] == '+') exponent_text.remove_prefix(1);
  int exponent = 0;
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
  if (exponent < -4 || exponent >= 6) {
    out->append(scientific.data(), scientific.size());
    return;
  }
  r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

// Label values escape backslash, double quote and newline; HELP text escapes
// backslash and newline only (text format 0.0.4).
void AppendEscaped(std::string* out, absl::string_view s, bool escape_quote) {
  for (char c : s) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '"':
        if (escape_quote) {
          out->append("\\\"");
        } else {
          out->push_back(c);
        }
        break;
      default:
        out->push_back(c);
    }
  }
}

// `name{a="x",b="y"} ` (or `name ` without labels); `extra_label`, when not
// empty, is appended last as `extra_label="extra_value"`.
void AppendSeries(std::string* out, absl::string_view name, absl::string_view suffix,
                  const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values,
                  absl::string_view extra_label = {}, absl::string_view extra_value = {}) {
  out->append(name.data(), name.size());
  out->append(suffix.data(), suffix.size());
  if (!label_names.empty() || !extra_label.empty()) {
    out->push_back('{');
    for (size_t i = 0; i < label_names.size(); ++i) {
      if (i > 0) out->push_back(',');
      absl::StrAppend(out, label_names[i], "=\"");
      AppendEscaped(out, label_values[i], /*escape_quote=*/true);
      out->push_back('"');
    }
    if (!extra_label.empty()) {
      if (!label_names.empty()) out->push_back(',');
      absl::StrAppend(out, extra_label, "=\"", extra_value, "\"");
    }
    out->push_back('}');
  }
  out->push_back(' ');
}

void AppendChild(std::string* out, const metrics_internal::FamilyBase& family,
                 const std::vector<std::string>& label_values, const Counter& counter) {
  AppendSeries(out, family.name(), "", family.label_names(), label_values);
  absl::StrAppend(out, counter.Value(), "\n");
}

void AppendChild(std::string* out, const metrics_internal::FamilyBase& family,
                 const std::vector<std::string>& label_values, const Gauge& gauge) {
  AppendSeries(out, family.name(), "", family.label_names(), label_values);
  AppendDouble(out, gauge.Value());
  out->push_back('\n');
}

void AppendChild(std::string* out, const metrics_internal::FamilyBase& family,
                 const std::vector<std::string>& label_values, const Histogram& histogram) {
  Histogram::Snapshot s = histogram.Read();
  const std::vector<double>& bounds = histogram.bounds();
  std::string le;
  for (size_t i = 0; i < s.buckets.size(); ++i) {
    le.clear();
    AppendDouble(&le, i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity());
    AppendSeries(out, family.name(), "_bucket", family.label_names(), label_values, "le", le);
    absl::StrAppend(out, s.buckets[i], "\n");
  }
  AppendSeries(out, family.name(), "_sum", family.label_names(), label_values);
  AppendDouble(out, s.sum);
  out->push_back('\n');
  AppendSeries(out, family.name(), "_count", family.label_names(), label_values);
  absl::StrAppend(out, s.count, "\n");
}

absl::string_view TypeName(const Counter*) { return "counter"; }
absl::string_view TypeName(const Gauge*) { return "gauge"; }
absl::string_view TypeName(const Histogram*) { return "histogram"; }

// The family of AddCallbackGauge() and AddCallbackCounter(): one unlabeled
// series computed at scrape.
class CallbackFamily final : public metrics_internal::FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, absl::string_view type,
                 std::function<double()> callback)
      : FamilyBase(std::move(name), std::move(help), {}),
        type_(type),
        callback_(std::move(callback)) {}

  absl::string_view type() const override { return type_; }
  void AppendSamples(std::string* out) const override {
    AppendSeries(out, name(), "", {}, {});
    AppendDouble(out, callback_());
    out->push_back('\n');
  }

 private:
  const absl::string_view type_;  // a literal
  const std::function<double()> callback_;
};

void CheckFamilyDefinition(absl::string_view name, absl::string_view help,
                           const std::vector<std::string>& label_names) {
  FatalIfError(ValidateMetricName(name));
  if (help.empty()) Fatal(absl::StrCat("metric ", name, ": help text is required"));
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (absl::Status s = ValidateLabelName(label_names[i]); !s.ok()) {
      Fatal(absl::StrCat("metric ", name, ": ", s.message()));
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names[j] == label_names[i]) {
        Fatal(absl::StrCat("metric ", name, ": label \"", label_names[i], "\" repeats"));
      }
    }
  }
}

void CheckCounterName(absl::string_view name) {
  if (!absl::EndsWith(name, "_total")) {
    Fatal(absl::StrCat("metric ", name, ": counter names end in \"_total\""));
  }
}

void CheckNotCounterName(absl::string_view name) {
  if (absl::EndsWith(name, "_total")) {
    Fatal(absl::StrCat("metric ", name, ": only counter names end in \"_total\""));
  }
}

}  // namespace

std::vector<double> DefaultLatencyBuckets() {
  return {.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

absl::Status ValidateMetricName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("metric name is empty");
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    bool ok = absl::ascii_isalpha(c) || c == '_' || c == ':' || (i > 0 && absl::ascii_isdigit(c));
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid metric name \"", absl::CHexEscape(name),
                       "\": must match [a-zA-Z_:][a-zA-Z0-9_:]*"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLabelName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("label name is empty");
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    bool ok = absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c));
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid label name \"", absl::CHexEscape(name),
                       "\": must match [a-zA-Z_][a-zA-Z0-9_]*"));
    }
  }
  if (absl::StartsWith(name, "__")) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid label name \"", name, "\": \"__\" prefixes are reserved"));
  }
  return absl::OkStatus();
}

// --- internals -----------------------------------------------------------------

namespace metrics_internal {

size_t NextShard() {
  static std::atomic<size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) % kShards;
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

FamilyBase::~FamilyBase() = default;

}  // namespace metrics_internal

// --- Counter, Histogram ---------------------------------------------------------

uint64_t Counter::Value() const {
  uint64_t total = 0;
  for (const Shard& s : shards_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      // Buckets, +Inf and the sum.
      lines_per_shard_((bounds_->size() + 2 + 7) / 8),
      lines_(new Line[lines_per_shard_ * metrics_internal::kShards]()) {}

Histogram::~Histogram() = default;

std::atomic<uint64_t>& Histogram::Word(size_t shard, size_t i) const {
  return lines_[shard * lines_per_shard_ + i / 8].words[i % 8];
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  const std::vector<double>& bounds = *bounds_;
  // First bound >= value; bounds.size() (the +Inf bucket) when none.
  size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  const size_t shard = metrics_internal::ThisThreadShard();
  Word(shard, bucket).fetch_add(1, std::memory_order_relaxed);
  std::atomic<uint64_t>& sum = Word(shard, bounds.size() + 1);
  uint64_t old_bits = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(
      old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + value),
      std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::Read() const {
  const size_t n = bounds_->size() + 1;
  Snapshot s;
  s.buckets.assign(n, 0);
  for (size_t shard = 0; shard < metrics_internal::kShards; ++shard) {
    for (size_t i = 0; i < n; ++i) {
      s.buckets[i] += Word(shard, i).load(std::memory_order_relaxed);
    }
    s.sum += std::bit_cast<double>(Word(shard, n).load(std::memory_order_relaxed));
  }
  for (size_t i = 1; i < n; ++i) s.buckets[i] += s.buckets[i - 1];
  s.count = s.buckets.back();
  return s;
}

// --- Family -----------------------------------------------------------------------

template <typename Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::function<std::unique_ptr<Metric>()> make_metric)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
      make_metric_(std::move(make_metric)) {
  // A metric without labels has its one series from the start, so it renders
  // (as 0) before its first update.
  if (FamilyBase::label_names().empty()) WithLabels({});
}

template <typename Metric>
Family<Metric>::~Family() = default;

template <typename Metric>
Metric& Family<Metric>::WithLabels(absl::Span<const absl::string_view> label_values) {
  if (ABSL_PREDICT_FALSE(label_values.size() != label_names().size())) {
    Fatal(absl::StrCat("metric ", name(), ": ", label_values.size(), " label values for ",
                       label_names().size(), " labels"));
  }
  // The key: each value preceded by its 4-byte length, built on the stack
  // unless long, so that finding an existing child does not allocate.
  size_t key_size = 0;
  for (absl::string_view v : label_values) key_size += 4 + v.size();
  char stack_key[256];
  std::string heap_key;
  char* key = stack_key;
  if (key_size > sizeof(stack_key)) {
    heap_key.resize(key_size);
    key = heap_key.data();
  }
  char* p = key;
  for (absl::string_view v : label_values) {
    const uint32_t size = static_cast<uint32_t>(v.size());
    std::memcpy(p, &size, 4);
    if (!v.empty()) std::memcpy(p + 4, v.data(), v.size());
    p += 4 + v.size();
  }
  const absl::string_view key_view(key, key_size);

  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = children_.find(key_view);
    if (it != children_.end()) return *it->second->metric;
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Child>& child = children_[std::string(key_view)];
  if (child == nullptr) {
    child = std::make_unique<Child>();
    child->label_values.reserve(label_values.size());
    for (absl::string_view v : label_values) child->label_values.emplace_back(v);
    child->metric = make_metric_();
  }
  return *child->metric;
}

template <typename Metric>
absl::string_view Family<Metric>::type() const {
  return TypeName(static_cast<const Metric*>(nullptr));
}

template <typename Metric>
void Family<Metric>::AppendSamples(std::string* out) const {
  std::vector<const Child*> children;
  {
    absl::ReaderMutexLock lock(&mu_);
    children.reserve(children_.size());
    for (const auto& [key, child] : children_) children.push_back(child.get());
  }
  // Children are never removed, so they outlive the lock.
  std::sort(children.begin(), children.end(), [](const Child* a, const Child* b) {
    return a->label_values < b->label_values;
  });
  for (const Child* child : children) AppendChild(out, *this, child->label_values, *child->metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- Registry ---------------------------------------------------------------------

Registry::Registry() = default;
Registry::~Registry() = default;

template <typename F>
F& Registry::Register(std::unique_ptr<F> family, std::vector<std::string> series_names) {
  F& result = *family;
  absl::MutexLock lock(&mu_);
  series_names.push_back(family->name());
  for (const std::string& s : series_names) {
    if (taken_names_.contains(s)) {
      Fatal(absl::StrCat("metric ", family->name(), ": name \"", s, "\" is already registered"));
    }
  }
  for (std::string& s : series_names) taken_names_.insert(std::move(s));
  std::string key = family->name();
  families_.emplace(std::move(key), std::move(family));
  return result;
}

CounterFamily& Registry::AddCounter(absl::string_view name, absl::string_view help,
                                    std::vector<std::string> label_names) {
  CheckFamilyDefinition(name, help, label_names);
  CheckCounterName(name);
  return Register(std::make_unique<CounterFamily>(std::string(name), std::string(help),
                                                  std::move(label_names),
                                                  [] { return std::make_unique<Counter>(); }),
                  {});
}

GaugeFamily& Registry::AddGauge(absl::string_view name, absl::string_view help,
                                std::vector<std::string> label_names) {
  CheckFamilyDefinition(name, help, label_names);
  CheckNotCounterName(name);
  return Register(std::make_unique<GaugeFamily>(std::string(name), std::string(help),
                                                std::move(label_names),
                                                [] { return std::make_unique<Gauge>(); }),
                  {});
}

HistogramFamily& Registry::AddHistogram(absl::string_view name, absl::string_view help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> buckets) {
  CheckFamilyDefinition(name, help, label_names);
  CheckNotCounterName(name);
  for (const std::string& label : label_names) {
    if (label == "le") Fatal(absl::StrCat("metric ", name, ": histograms cannot have label \"le\""));
  }
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && !(buckets[i - 1] < buckets[i]))) {
      Fatal(absl::StrCat("metric ", name,
                         ": buckets must be finite and strictly increasing (+Inf is implicit)"));
    }
  }
  auto bounds = std::make_shared<const std::vector<double>>(std::move(buckets));
  std::string base(name);
  return Register(std::make_unique<HistogramFamily>(
                      std::string(name), std::string(help), std::move(label_names),
                      [bounds] { return std::make_unique<Histogram>(bounds); }),
                  {base + "_bucket", base + "_sum", base + "_count"});
}

void Registry::AddCallbackGauge(absl::string_view name, absl::string_view help,
                                std::function<double()> callback) {
  CheckFamilyDefinition(name, help, {});
  CheckNotCounterName(name);
  if (!callback) Fatal(absl::StrCat("metric ", name, ": callback is empty"));
  Register(std::make_unique<CallbackFamily>(std::string(name), std::string(help), "gauge",
                                            std::move(callback)),
           {});
}

void Registry::AddCallbackCounter(absl::string_view name, absl::string_view help,
                                  std::function<double()> callback) {
  CheckFamilyDefinition(name, help, {});
  CheckCounterName(name);
  if (!callback) Fatal(absl::StrCat("metric ", name, ": callback is empty"));
  Register(std::make_unique<CallbackFamily>(std::string(name), std::string(help), "counter",
                                            std::move(callback)),
           {});
}

std::string Registry::Render() const {
  std::vector<const metrics_internal::FamilyBase*> families;
  {
    absl::MutexLock lock(&mu_);
    families.reserve(families_.size());
    for (const auto& [name, family] : families_) families.push_back(family.get());
  }
  // Families are never removed; rendering outside the lock lets callbacks run
  // unlocked.
  std::string out;
  for (const metrics_internal::FamilyBase* family : families) {
    absl::StrAppend(&out, "# HELP ", family->name(), " ");
    AppendEscaped(&out, family->help(), /*escape_quote=*/false);
    absl::StrAppend(&out, "\n# TYPE ", family->name(), " ", family->type(), "\n");
    family->AppendSamples(&out);
  }
  return out;
}

void AddBuildInfo(Registry& registry, absl::string_view version, absl::string_view commit) {
  registry
      .AddGauge("alerthub_build_info",
                "The version and commit AlertHub was built from; the value is always 1.",
                {"version", "commit"})
      .WithLabels({version, commit})
      .Set(1);
}

}  // namespace alerthub::metrics
