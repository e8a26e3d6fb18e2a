// Internal to the PostgreSQL adapter: the schema and its migrations.
//
// Migrations are numbered 1, 2, 3, ... like the SQLite adapter's, recorded in
// `schema_migrations`, and applied in ONE transaction that first takes a
// transaction-scoped advisory lock (pg_advisory_xact_lock) keyed on the
// current schema: several daemons starting at once serialize, and all but
// the first find the work done. A database whose schema is newer than this
// binary's is refused with kFailedPrecondition.
//
// Conventions: ids are text (UUIDv7 strings), timestamps bigint microseconds
// since the Unix epoch (exactly absl::ToUnixMicros, as in SQLite), enums
// their never-renumbered numbers, JSON documents text holding exactly what
// the model's codec wrote (what is read back is what was written; jsonb
// would reorder keys and refuse \u0000).
#ifndef ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_SCHEMA_H_
#define ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_SCHEMA_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/adapters/postgres/internal/connection.h"

namespace alerthub::postgres_internal {

struct Migration {
  int version;       // 1, 2, 3, ...
  const char* name;  // recorded beside the version
  const char* sql;   // one or more statements
};

absl::Span<const Migration> StoreMigrations();

// Applies the migrations `conn`'s database lacks, under the advisory lock.
// Returns the schema version after. kFailedPrecondition when the database
// is newer than `migrations`.
absl::StatusOr<int> ApplyMigrations(Connection& conn, absl::Span<const Migration> migrations,
                                    absl::Time now);

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_SCHEMA_H_
