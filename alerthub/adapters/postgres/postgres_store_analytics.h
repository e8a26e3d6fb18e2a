// Internal to the PostgreSQL adapter: the Store's analytics queries
// (ports/store.h "Analytics"), aggregated in SQL by the query text shared
// with SQLite (ports/store_analytics_sql.h); this file only runs them.
// PostgresStore forwards the Store methods of the same names to
// Analytics(db).
#ifndef ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_ANALYTICS_H_
#define ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_ANALYTICS_H_

#include "alerthub/adapters/postgres/internal/database.h"
#include "alerthub/ports/store_analytics_sql.h"

namespace alerthub::postgres_internal {

// The analytics methods on `db`, which must outlive the result.
AnalyticsQueries Analytics(Database& db);

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_ANALYTICS_H_
