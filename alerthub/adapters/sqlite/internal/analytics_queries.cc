#include "alerthub/adapters/sqlite/internal/analytics_queries.h"

#include <string>
#include <variant>

#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/common/status.h"

namespace alerthub::sqlite_internal {

AnalyticsQueries Analytics(Database& db) {
  return AnalyticsQueries(
      AnalyticsSqlDialect::kSqlite,
      [&db](const std::string& sql, const AnalyticsParams& p,
            absl::FunctionRef<void(AnalyticsQueries::Row)> on_row) -> absl::Status {
        return db.Read([&](Connection& c) -> absl::Status {
          ALERTHUB_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
          st.BindText(1, p.tenant_id);
          st.BindInt64(2, p.start_us);
          st.BindInt64(3, p.end_us);
          st.BindInt64(4, p.bucket_us);
          if (p.filter.has_value()) {
            if (const std::string* text = std::get_if<std::string>(&*p.filter)) {
              st.BindText(5, *text);
            } else {
              st.BindInt64(5, std::get<int64_t>(*p.filter));
            }
          }
          while (true) {
            ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
            if (!row) return absl::OkStatus();
            on_row([&st](int i) { return st.ColumnInt64(i); });
          }
        });
      });
}

}  // namespace alerthub::sqlite_internal
