#include "alerthub/ports/store_analytics_sql.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"

namespace alerthub {
namespace {

// Parameter `n` of type `pg_type` (PostgreSQL needs the cast: every
// parameter arrives as text).
std::string Param(AnalyticsSqlDialect d, int n, const char* pg_type) {
  if (d == AnalyticsSqlDialect::kSqlite) return absl::StrCat("?", n);
  return absl::StrCat("($", n, "::", pg_type, ")");
}

// "(created_at - start) / bucket" for the table alias `t`.
std::string BucketExpr(AnalyticsSqlDialect d, const char* t) {
  return absl::StrCat("(", t, ".created_at - ", Param(d, 2, "bigint"), ") / ",
                      Param(d, 4, "bigint"));
}

// The tenant and window condition on `t`.
std::string WindowWhere(AnalyticsSqlDialect d, const char* t) {
  return absl::StrCat(t, ".tenant_id = ", Param(d, 1, "text"), " AND ", t,
                      ".created_at >= ", Param(d, 2, "bigint"), " AND ", t, ".created_at < ",
                      Param(d, 3, "bigint"));
}

}  // namespace

std::string NotificationCountsSql(AnalyticsSqlDialect d, bool by_type) {
  return absl::StrCat("SELECT ", BucketExpr(d, "n"), ", n.status, COUNT(*) FROM notifications n",
                      " WHERE ", WindowWhere(d, "n"),
                      by_type ? absl::StrCat(" AND n.type = ", Param(d, 5, "text")) : "",
                      " GROUP BY 1, 2 ORDER BY 1, 2");
}

std::string DeliveryCountsSql(AnalyticsSqlDialect d, bool by_channel) {
  return absl::StrCat(
      "SELECT ", BucketExpr(d, "d"),
      ", d.channel, d.status, COUNT(*), SUM(CASE WHEN d.attempts > 1 THEN 1 ELSE 0 END)"
      " FROM deliveries d WHERE ",
      WindowWhere(d, "d"),
      by_channel ? absl::StrCat(" AND d.channel = ", Param(d, 5, "integer")) : "",
      " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
}

std::string LatencyHistogramSql(AnalyticsSqlDialect d, bool by_channel) {
  // Latency in microseconds; slots as LatencySlot().
  std::string slot = "CASE";
  for (int i = 0; i + 1 < kLatencyBucketCount; ++i) {
    absl::StrAppend(&slot, " WHEN d.updated_at - n.created_at <= ", kLatencyBoundsMs[i] * 1000,
                    " THEN ", i);
  }
  absl::StrAppend(&slot, " ELSE ", kLatencyBucketCount - 1, " END");
  return absl::StrCat(
      "SELECT ", BucketExpr(d, "d"), ", d.channel, ", slot,
      ", COUNT(*) FROM deliveries d JOIN notifications n"
      " ON n.id = d.notification_id AND n.tenant_id = d.tenant_id WHERE ",
      WindowWhere(d, "d"), " AND d.status = ", static_cast<int>(DeliveryStatus::kDelivered),
      by_channel ? absl::StrCat(" AND d.channel = ", Param(d, 5, "integer")) : "",
      " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
}

int LatencySlot(int64_t latency_us) {
  for (int i = 0; i + 1 < kLatencyBucketCount; ++i) {
    if (latency_us <= kLatencyBoundsMs[i] * 1000) return i;
  }
  return kLatencyBucketCount - 1;
}

absl::Status CheckAnalyticsWindow(const AnalyticsWindow& window) {
  if (!(window.start < window.end)) {
    return absl::InvalidArgumentError("analytics window: start must be before end");
  }
  if (window.bucket <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("analytics window: bucket must be positive");
  }
  return absl::OkStatus();
}

namespace {

AnalyticsParams ParamsFor(absl::string_view tenant_id, const AnalyticsWindow& window) {
  AnalyticsParams p;
  p.tenant_id = std::string(tenant_id);
  p.start_us = absl::ToUnixMicros(window.start);
  p.end_us = absl::ToUnixMicros(window.end);
  p.bucket_us = absl::ToInt64Microseconds(window.bucket);
  return p;
}

void SetChannel(std::optional<Channel> channel, AnalyticsParams* p) {
  if (channel.has_value()) p->filter = static_cast<int64_t>(*channel);
}

// Runs `sql` and decodes each result row with `decode`.
template <typename Out, typename Decode>
absl::StatusOr<std::vector<Out>> Collect(const AnalyticsQueries::Runner& run,
                                         const std::string& sql, const AnalyticsParams& params,
                                         Decode decode) {
  std::vector<Out> rows;
  ALERTHUB_RETURN_IF_ERROR(
      run(sql, params, [&](AnalyticsQueries::Row r) { rows.push_back(decode(r)); }));
  return rows;
}

}  // namespace

absl::StatusOr<std::vector<NotificationCountRow>> AnalyticsQueries::CountNotifications(
    absl::string_view tenant_id, const AnalyticsWindow& window, absl::string_view type) const {
  ALERTHUB_RETURN_IF_ERROR(CheckAnalyticsWindow(window));
  AnalyticsParams params = ParamsFor(tenant_id, window);
  if (!type.empty()) params.filter = std::string(type);
  return Collect<NotificationCountRow>(
      run_, NotificationCountsSql(dialect_, !type.empty()), params, [](Row r) {
        return NotificationCountRow{
            .bucket = r(0), .status = static_cast<NotificationStatus>(r(1)), .count = r(2)};
      });
}

absl::StatusOr<std::vector<DeliveryCountRow>> AnalyticsQueries::CountDeliveries(
    absl::string_view tenant_id, const AnalyticsWindow& window,
    std::optional<Channel> channel) const {
  ALERTHUB_RETURN_IF_ERROR(CheckAnalyticsWindow(window));
  AnalyticsParams params = ParamsFor(tenant_id, window);
  SetChannel(channel, &params);
  return Collect<DeliveryCountRow>(
      run_, DeliveryCountsSql(dialect_, channel.has_value()), params, [](Row r) {
        return DeliveryCountRow{.bucket = r(0),
                                .channel = static_cast<Channel>(r(1)),
                                .status = static_cast<DeliveryStatus>(r(2)),
                                .count = r(3),
                                .retried = r(4)};
      });
}

absl::StatusOr<std::vector<LatencyHistogramRow>> AnalyticsQueries::DeliveryLatencyHistogram(
    absl::string_view tenant_id, const AnalyticsWindow& window,
    std::optional<Channel> channel) const {
  ALERTHUB_RETURN_IF_ERROR(CheckAnalyticsWindow(window));
  AnalyticsParams params = ParamsFor(tenant_id, window);
  SetChannel(channel, &params);
  return Collect<LatencyHistogramRow>(
      run_, LatencyHistogramSql(dialect_, channel.has_value()), params, [](Row r) {
        return LatencyHistogramRow{.bucket = r(0),
                                   .channel = static_cast<Channel>(r(1)),
                                   .slot = static_cast<int>(r(2)),
                                   .count = r(3)};
      });
}

}  // namespace alerthub
