// The Store's analytics queries (ports/store.h "Analytics"), shared by the
// SQLite and PostgreSQL adapters so that both aggregate the same way:
// bucket indexes by integer division, and the latency histogram's slots by
// ONE CASE expression generated from kLatencyBoundsMs. An adapter supplies
// only how to run a query (AnalyticsQueries::Runner).
//
// Every query takes the same parameters: 1 tenant id (text), 2 window start,
// 3 window end, 4 bucket length (integer microseconds since the epoch, as
// both schemas store times), 5 the optional filter (notification type as
// text, or channel as its integer) when the query was generated with one.
//
//   AnalyticsQueries analytics(AnalyticsSqlDialect::kSqlite, run_on_my_database);
//   ALERTHUB_ASSIGN_OR_RETURN(auto rows, analytics.CountDeliveries(tenant, window, {}));
#ifndef ALERTHUB_PORTS_STORE_ANALYTICS_SQL_H_
#define ALERTHUB_PORTS_STORE_ANALYTICS_SQL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/ports/store.h"

namespace alerthub {

enum class AnalyticsSqlDialect {
  kSqlite,    // parameters ?N
  kPostgres,  // parameters $N with explicit casts (libpq sends them as text)
};

// Columns: bucket, status, count. Filters on type = $5 when `by_type`.
std::string NotificationCountsSql(AnalyticsSqlDialect dialect, bool by_type);

// Columns: bucket, channel, status, count, retried. Filters on
// channel = $5 when `by_channel`.
std::string DeliveryCountsSql(AnalyticsSqlDialect dialect, bool by_channel);

// Columns: bucket, channel, slot, count (delivered deliveries only).
// Filters on channel = $5 when `by_channel`.
std::string LatencyHistogramSql(AnalyticsSqlDialect dialect, bool by_channel);

// The histogram slot of `latency_us` as the generated SQL computes it (for
// tests and for callers that classify in C++).
int LatencySlot(int64_t latency_us);

// OK when the window can be queried (start < end, bucket > 0);
// kInvalidArgument otherwise. Every adapter checks with it first.
absl::Status CheckAnalyticsWindow(const AnalyticsWindow& window);

// The parameters of one analytics query, in order.
struct AnalyticsParams {
  std::string tenant_id;  // 1
  int64_t start_us = 0;   // 2
  int64_t end_us = 0;     // 3
  int64_t bucket_us = 0;  // 4
  // 5, when the query has a filter: the type (text) or the channel (integer).
  std::optional<std::variant<std::string, int64_t>> filter;
};

// The Store's three analytics methods over an adapter's way of running a
// query. Thread-safe when the runner is.
class AnalyticsQueries {
 public:
  // One result row: its integer column `i` (from 0).
  using Row = absl::FunctionRef<int64_t(int)>;
  // Runs `sql` (read-only) with `params` bound and calls `on_row` for each
  // result row, in order; the adapter's errors as they are.
  using Runner = std::function<absl::Status(const std::string& sql,
                                            const AnalyticsParams& params,
                                            absl::FunctionRef<void(Row)> on_row)>;

  AnalyticsQueries(AnalyticsSqlDialect dialect, Runner run)
      : dialect_(dialect), run_(std::move(run)) {}

  // As Store::CountNotifications, CountDeliveries and
  // DeliveryLatencyHistogram (CheckAnalyticsWindow first).
  absl::StatusOr<std::vector<NotificationCountRow>> CountNotifications(
      absl::string_view tenant_id, const AnalyticsWindow& window, absl::string_view type) const;
  absl::StatusOr<std::vector<DeliveryCountRow>> CountDeliveries(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) const;
  absl::StatusOr<std::vector<LatencyHistogramRow>> DeliveryLatencyHistogram(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) const;

 private:
  const AnalyticsSqlDialect dialect_;
  const Runner run_;
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_STORE_ANALYTICS_SQL_H_
