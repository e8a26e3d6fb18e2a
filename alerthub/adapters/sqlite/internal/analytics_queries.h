// Internal to the SQLite adapter: the Store's analytics queries
// (ports/store.h "Analytics"), aggregated in SQL by the query text shared
// with PostgreSQL (ports/store_analytics_sql.h); this file only runs them,
// on a reader connection. SqliteStore forwards the Store methods of the
// same names to Analytics(db).
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_ANALYTICS_QUERIES_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_ANALYTICS_QUERIES_H_

#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/ports/store_analytics_sql.h"

namespace alerthub::sqlite_internal {

// The analytics methods on `db`, which must outlive the result.
AnalyticsQueries Analytics(Database& db);

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_ANALYTICS_QUERIES_H_
