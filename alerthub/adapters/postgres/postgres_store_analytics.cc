#include "alerthub/adapters/postgres/postgres_store_analytics.h"

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "alerthub/adapters/postgres/internal/connection.h"
#include "alerthub/common/status.h"

namespace alerthub::postgres_internal {

AnalyticsQueries Analytics(Database& db) {
  return AnalyticsQueries(
      AnalyticsSqlDialect::kPostgres,
      [&db](const std::string& sql, const AnalyticsParams& p,
            absl::FunctionRef<void(AnalyticsQueries::Row)> on_row) -> absl::Status {
        Params params;
        params.Text(p.tenant_id).Int(p.start_us).Int(p.end_us).Int(p.bucket_us);
        if (p.filter.has_value()) {
          if (const std::string* text = std::get_if<std::string>(&*p.filter)) {
            params.Text(*text);
          } else {
            params.Int(std::get<int64_t>(*p.filter));
          }
        }
        // Rows are read once the query succeeded: the read may be retried.
        std::optional<Result> result;
        ALERTHUB_RETURN_IF_ERROR(db.Read([&](Connection& c) -> absl::Status {
          ALERTHUB_ASSIGN_OR_RETURN(Result r, c.Query(sql, params));
          result = std::move(r);
          return absl::OkStatus();
        }));
        for (int row = 0; row < result->rows(); ++row) {
          on_row([&](int i) { return result->Int(row, i); });
        }
        return absl::OkStatus();
      });
}

}  // namespace alerthub::postgres_internal
