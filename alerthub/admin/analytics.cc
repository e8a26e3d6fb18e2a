#include "alerthub/admin/analytics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/common/status.h"
#include "alerthub/model/delivery.h"
#include "alerthub/model/notification.h"

namespace alerthub {
namespace {

constexpr char kDelivered[] = "delivered";
constexpr char kRetried[] = "retried";
constexpr char kDeadLettered[] = "dead_lettered";

using Histogram = std::vector<int64_t>;  // kLatencyBucketCount slot counts

// Every bucket's start, in order.
std::vector<absl::Time> BucketStarts(const AnalyticsWindow& window) {
  std::vector<absl::Time> starts;
  const int64_t n = AnalyticsBucketCount(window);
  starts.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) starts.push_back(window.start + window.bucket * i);
  return starts;
}

// The store's row for bucket `b` of an `n`-bucket window; kInternal for an
// index outside it (the store broke its contract).
absl::Status CheckBucket(int64_t b, size_t n) {
  if (b < 0 || static_cast<size_t>(b) >= n) {
    return absl::InternalError(absl::StrCat("store returned analytics bucket ", b, " of ", n));
  }
  return absl::OkStatus();
}

absl::Status CheckSlot(int slot) {
  if (slot < 0 || slot >= kLatencyBucketCount) {
    return absl::InternalError(absl::StrCat("store returned latency slot ", slot));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AnalyticsWindow> AnalyticsWindowFromRange(const AnalyticsRange& range,
                                                         bool bucketed) {
  std::vector<FieldError> errors;
  if (!range.start.has_value()) errors.push_back({"range.start", "is required"});
  if (!range.end.has_value()) errors.push_back({"range.end", "is required"});
  bool span_ok = false;
  if (range.start.has_value() && range.end.has_value()) {
    const absl::Duration span = *range.end - *range.start;
    if (span <= absl::ZeroDuration()) {
      errors.push_back({"range.end", "must be after range.start"});
    } else if (span > AnalyticsLimits::kMaxSpan) {
      errors.push_back({"range.end", "must be at most 31 days after range.start"});
    } else {
      span_ok = true;
    }
  }
  AnalyticsWindow window;
  if (bucketed) {
    if (!range.bucket.has_value()) {
      errors.push_back({"range.bucket", "is required"});
    } else if (*range.bucket < AnalyticsLimits::kMinBucket) {
      errors.push_back({"range.bucket", "must be at least 1 minute"});
    } else if (span_ok) {
      window = {*range.start, *range.end, *range.bucket};
      if (AnalyticsBucketCount(window) > AnalyticsLimits::kMaxBuckets) {
        errors.push_back({"range.bucket", absl::StrCat("makes more than ",
                                                       AnalyticsLimits::kMaxBuckets,
                                                       " buckets; use a longer bucket")});
      }
    }
  } else if (span_ok) {
    window = {*range.start, *range.end, *range.end - *range.start};
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid range", std::move(errors));
  return window;
}

int64_t AnalyticsBucketCount(const AnalyticsWindow& window) {
  // In microseconds, as the store computes bucket indexes.
  const int64_t span = absl::ToUnixMicros(window.end) - absl::ToUnixMicros(window.start);
  const int64_t bucket = absl::ToInt64Microseconds(window.bucket);
  if (span <= 0 || bucket <= 0) return 0;
  return (span + bucket - 1) / bucket;
}

std::optional<double> HistogramQuantileMs(double q, absl::Span<const int64_t> counts) {
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  if (total == 0) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  int64_t below = 0;  // observations in the slots before `i`
  for (size_t i = 0; i < counts.size(); ++i) {
    if (static_cast<double>(below + counts[i]) < rank || counts[i] == 0) {
      below += counts[i];
      continue;
    }
    if (i + 1 == counts.size()) {
      // The +Inf slot: the largest finite bound, as Prometheus reports it.
      return static_cast<double>(kLatencyBoundsMs[i - 1]);
    }
    const double lower = i == 0 ? 0.0 : static_cast<double>(kLatencyBoundsMs[i - 1]);
    const double upper = static_cast<double>(kLatencyBoundsMs[i]);
    return lower + (upper - lower) * (rank - static_cast<double>(below)) /
                       static_cast<double>(counts[i]);
  }
  return static_cast<double>(kLatencyBoundsMs[counts.size() - 2]);
}

std::optional<LatencyPercentiles> EstimatePercentiles(absl::Span<const int64_t> counts) {
  std::optional<double> p50 = HistogramQuantileMs(0.5, counts);
  if (!p50.has_value()) return std::nullopt;
  return LatencyPercentiles{.p50_ms = *p50,
                            .p90_ms = *HistogramQuantileMs(0.9, counts),
                            .p99_ms = *HistogramQuantileMs(0.99, counts)};
}

absl::StatusOr<NotificationStatsReport> AnalyticsAdmin::NotificationStats(
    const Principal& who, const AnalyticsRange& range, absl::string_view type) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kReadAnalytics));
  absl::StatusOr<AnalyticsWindow> window = AnalyticsWindowFromRange(range, /*bucketed=*/true);
  std::vector<FieldError> errors = window.ok() ? std::vector<FieldError>()
                                               : FieldErrorsOf(window.status());
  if (type.size() > NotificationLimits::kMaxTypeLength) {
    errors.push_back({"type", absl::StrCat("must be at most ", NotificationLimits::kMaxTypeLength,
                                           " characters")});
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid request", std::move(errors));

  ALERTHUB_ASSIGN_OR_RETURN(std::vector<NotificationCountRow> rows,
                            store_->CountNotifications(who.tenant_id, *window, type));
  NotificationStatsReport report;
  for (absl::Time start : BucketStarts(*window)) report.buckets.push_back({start, {}});
  for (const NotificationCountRow& r : rows) {
    ALERTHUB_RETURN_IF_ERROR(CheckBucket(r.bucket, report.buckets.size()));
    const std::string status(NotificationStatusName(r.status));
    report.buckets[static_cast<size_t>(r.bucket)].by_status[status] += r.count;
    report.totals[status] += r.count;
  }
  return report;
}

absl::StatusOr<DeliveryMetricsReport> AnalyticsAdmin::DeliveryMetrics(
    const Principal& who, const AnalyticsRange& range, absl::string_view channel_name) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kReadAnalytics));
  absl::StatusOr<AnalyticsWindow> window = AnalyticsWindowFromRange(range, /*bucketed=*/true);
  std::vector<FieldError> errors = window.ok() ? std::vector<FieldError>()
                                               : FieldErrorsOf(window.status());
  std::optional<Channel> channel;
  if (!channel_name.empty()) {
    absl::StatusOr<Channel> parsed = ParseChannel(channel_name);
    if (parsed.ok()) {
      channel = *parsed;
    } else {
      errors.push_back({"channel", "must be webhook, slack, discord, email or push"});
    }
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid request", std::move(errors));

  ALERTHUB_ASSIGN_OR_RETURN(std::vector<DeliveryCountRow> counts,
                            store_->CountDeliveries(who.tenant_id, *window, channel));
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<LatencyHistogramRow> latencies,
                            store_->DeliveryLatencyHistogram(who.tenant_id, *window, channel));
  DeliveryMetricsReport report;
  for (absl::Time start : BucketStarts(*window)) {
    report.buckets.push_back({start, {{kDelivered, 0}, {kRetried, 0}, {kDeadLettered, 0}}, {}});
  }
  const size_t n = report.buckets.size();
  for (const DeliveryCountRow& r : counts) {
    ALERTHUB_RETURN_IF_ERROR(CheckBucket(r.bucket, n));
    std::map<std::string, int64_t>& outcomes =
        report.buckets[static_cast<size_t>(r.bucket)].by_outcome;
    if (r.status == DeliveryStatus::kDelivered) outcomes[kDelivered] += r.count;
    if (r.status == DeliveryStatus::kFailed) outcomes[kDeadLettered] += r.count;
    outcomes[kRetried] += r.retried;
  }
  std::vector<Histogram> histograms(n, Histogram(kLatencyBucketCount, 0));
  for (const LatencyHistogramRow& r : latencies) {
    ALERTHUB_RETURN_IF_ERROR(CheckBucket(r.bucket, n));
    ALERTHUB_RETURN_IF_ERROR(CheckSlot(r.slot));
    histograms[static_cast<size_t>(r.bucket)][static_cast<size_t>(r.slot)] += r.count;
  }
  for (size_t i = 0; i < n; ++i) {
    report.buckets[i].accept_to_delivery = EstimatePercentiles(histograms[i]);
  }
  return report;
}

absl::StatusOr<ChannelBreakdownReport> AnalyticsAdmin::ChannelBreakdown(
    const Principal& who, const AnalyticsRange& range) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kReadAnalytics));
  ALERTHUB_ASSIGN_OR_RETURN(AnalyticsWindow window,
                            AnalyticsWindowFromRange(range, /*bucketed=*/false));
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<DeliveryCountRow> counts,
                            store_->CountDeliveries(who.tenant_id, window, std::nullopt));
  ALERTHUB_ASSIGN_OR_RETURN(
      std::vector<LatencyHistogramRow> latencies,
      store_->DeliveryLatencyHistogram(who.tenant_id, window, std::nullopt));
  // Keyed by the Channel enum, so channels come out in its order.
  std::map<int, ChannelBreakdownReport::Entry> entries;
  std::map<int, Histogram> histograms;
  for (const DeliveryCountRow& r : counts) {
    ALERTHUB_RETURN_IF_ERROR(CheckBucket(r.bucket, 1));
    ChannelBreakdownReport::Entry& e = entries[static_cast<int>(r.channel)];
    e.channel = std::string(ChannelName(r.channel));
    e.by_status[std::string(DeliveryStatusName(r.status))] += r.count;
  }
  for (const LatencyHistogramRow& r : latencies) {
    ALERTHUB_RETURN_IF_ERROR(CheckBucket(r.bucket, 1));
    ALERTHUB_RETURN_IF_ERROR(CheckSlot(r.slot));
    Histogram& h = histograms[static_cast<int>(r.channel)];
    h.resize(kLatencyBucketCount, 0);
    h[static_cast<size_t>(r.slot)] += r.count;
  }
  ChannelBreakdownReport report;
  for (auto& [channel, entry] : entries) {
    if (auto it = histograms.find(channel); it != histograms.end()) {
      entry.accept_to_delivery = EstimatePercentiles(it->second);
    }
    report.channels.push_back(std::move(entry));
  }
  return report;
}

}  // namespace alerthub
