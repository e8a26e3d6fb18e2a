// Internal to the SQLite adapter: the versioned schema and the code that
// brings a database up to date.
//
// Each migration is a numbered SQL script. A database records the scripts it
// has run in `schema_migrations(version, name, applied_at)`; opening a store
// runs the missing ones, in order, inside one IMMEDIATE transaction, so a
// crash or a failing script leaves the database as it was, and two processes
// opening the same file at once apply each script exactly once.
//
// Rules for editing: never change or renumber a released migration; append a
// new one. A migration must be valid inside a transaction (no VACUUM, no
// PRAGMA journal_mode).
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_SCHEMA_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_SCHEMA_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/ports/store.h"

namespace alerthub::sqlite_internal {

struct Migration {
  int version;       // 1, 2, 3, ... in order, no gaps
  const char* name;  // short description, recorded in schema_migrations
  const char* sql;   // one or more statements
};

// The store's schema, oldest migration first.
absl::Span<const Migration> StoreMigrations();

// Applies the migrations of `migrations` that `conn`'s database has not run
// yet, in one transaction, recording each with `now`. Returns the resulting
// schema version. kFailedPrecondition when the database has a version newer
// than the last of `migrations` (written by a newer binary); kInternal when
// `migrations` is not numbered 1, 2, 3, ...; a failing script's error (and
// nothing applied) otherwise.
absl::StatusOr<int> ApplyMigrations(Connection& conn,
                                    absl::Span<const Migration> migrations,
                                    absl::Time now);

// The highest version recorded in schema_migrations; 0 for a new database.
absl::StatusOr<int> SchemaVersion(Connection& conn);

// The SELECT behind Store::ListNotifications for the filters set in `f`
// (parameters: ?1 tenant, ?2 status, ?3 type, ?4 since, ?5 before_id,
// ?6 limit; unset filters leave their parameter unused). It lives beside the
// schema because its shape decides which index serves it. The text is the
// statement-cache key, so there are at most a few dozen variants.
std::string ListNotificationsSql(const NotificationFilter& f);

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_SCHEMA_H_
