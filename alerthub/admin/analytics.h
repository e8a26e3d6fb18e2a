// The admin API's analytics (AnalyticsService), transport-free: counts of a
// tenant's notifications by status, of its deliveries by outcome and by
// channel, and accept -> delivered latency percentiles, over a time range
// cut into buckets. The gRPC service and the REST routes both call it with
// the caller's Principal.
//
//   AnalyticsAdmin analytics(store);
//   ALERTHUB_ASSIGN_OR_RETURN(
//       NotificationStatsReport stats,
//       analytics.NotificationStats(who, {.start = t0, .end = t0 + absl::Hours(24),
//                                         .bucket = absl::Hours(1)}, /*type=*/""));
//   // stats.buckets: 24 buckets, every one present (zero-filled).
//
// Every call needs Permission::kReadAnalytics (viewers and above). The store
// aggregates in SQL (Store "Analytics"); this class validates the range,
// zero-fills the buckets and estimates percentiles.
//
// Latency percentiles are ESTIMATES from a fixed histogram
// (kLatencyBoundsMs in ports/store.h), interpolated linearly inside the
// bucket that holds the rank, as Prometheus' histogram_quantile() does: the
// error is at most the width of that bucket, and a rank in the +Inf bucket
// reports the largest finite bound.
//
// Thread-safe.
#ifndef ALERTHUB_ADMIN_ANALYTICS_H_
#define ALERTHUB_ADMIN_ANALYTICS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/auth/principal.h"
#include "alerthub/ports/store.h"

namespace alerthub {

// A request's time range. Field errors name "range.start", "range.end" and
// "range.bucket".
struct AnalyticsRange {
  std::optional<absl::Time> start;       // required; inclusive
  std::optional<absl::Time> end;         // required; exclusive
  std::optional<absl::Duration> bucket;  // required where buckets are returned
};

struct AnalyticsLimits {
  static constexpr absl::Duration kMaxSpan = absl::Hours(24 * 31);
  static constexpr absl::Duration kMinBucket = absl::Minutes(1);
  static constexpr int64_t kMaxBuckets = 1'000;
};

// Validates `range` and returns the store window. `bucketed`: the bucket is
// required and checked (>= 1 minute, at most kMaxBuckets buckets); otherwise
// it is ignored and the window is one bucket. kInvalidArgument with one
// field error per bad field (start < end, at most 31 days).
absl::StatusOr<AnalyticsWindow> AnalyticsWindowFromRange(const AnalyticsRange& range,
                                                         bool bucketed);

// The number of buckets of `window` (the last may be cut short by end).
int64_t AnalyticsBucketCount(const AnalyticsWindow& window);

struct LatencyPercentiles {
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;

  bool operator==(const LatencyPercentiles& other) const = default;
};

// The q-quantile (0 <= q <= 1), in milliseconds, of a latency histogram
// with kLatencyBucketCount slot counts (ports/store.h), estimated as
// Prometheus' histogram_quantile(); nullopt when the histogram is empty.
// REQUIRES: counts.size() == kLatencyBucketCount.
std::optional<double> HistogramQuantileMs(double q, absl::Span<const int64_t> counts);

// p50, p90 and p99 of the histogram; nullopt when it is empty.
std::optional<LatencyPercentiles> EstimatePercentiles(absl::Span<const int64_t> counts);

struct NotificationStatsReport {
  struct Bucket {
    absl::Time start;
    std::map<std::string, int64_t> by_status;  // statuses seen ("delivered" -> 12)
  };
  std::vector<Bucket> buckets;             // every bucket of the range, in order
  std::map<std::string, int64_t> totals;  // by status over the whole range
};

struct DeliveryMetricsReport {
  struct Bucket {
    absl::Time start;
    // Always "delivered", "retried" (attempted more than once, whatever
    // became of it) and "dead_lettered" (failed).
    std::map<std::string, int64_t> by_outcome;
    // Of the bucket's delivered deliveries; nullopt when none.
    std::optional<LatencyPercentiles> accept_to_delivery;
  };
  std::vector<Bucket> buckets;  // every bucket of the range, in order
};

struct ChannelBreakdownReport {
  struct Entry {
    std::string channel;                       // "webhook", ...
    std::map<std::string, int64_t> by_status;  // delivery statuses seen
    std::optional<LatencyPercentiles> accept_to_delivery;
  };
  std::vector<Entry> channels;  // channels with deliveries in the range, in Channel order
};

class AnalyticsAdmin {
 public:
  // `store` must outlive this.
  explicit AnalyticsAdmin(Store* store) : store_(store) {}

  // The tenant's notifications created in the range, per bucket and
  // status; only those of `type` when it is not empty. kInvalidArgument
  // (range.*, type); kPermissionDenied.
  absl::StatusOr<NotificationStatsReport> NotificationStats(const Principal& who,
                                                            const AnalyticsRange& range,
                                                            absl::string_view type);

  // The tenant's deliveries created in the range, per bucket: outcomes and
  // latency percentiles; only `channel`'s ("webhook", ...) when it is not
  // empty. kInvalidArgument (range.*, channel); kPermissionDenied.
  absl::StatusOr<DeliveryMetricsReport> DeliveryMetrics(const Principal& who,
                                                        const AnalyticsRange& range,
                                                        absl::string_view channel);

  // The tenant's deliveries created in the range, per channel (the range's
  // bucket is ignored). kInvalidArgument (range.*); kPermissionDenied.
  absl::StatusOr<ChannelBreakdownReport> ChannelBreakdown(const Principal& who,
                                                          const AnalyticsRange& range);

 private:
  Store* const store_;
};

}  // namespace alerthub

#endif  // ALERTHUB_ADMIN_ANALYTICS_H_
