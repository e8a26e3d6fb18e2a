// The embedded Store (`sqlite://`): tenants, API keys, notifications, their
// events, the transactional outbox and the `sql://` task queue, all in one
// SQLite database file.
//
//   ALERTHUB_ASSIGN_OR_RETURN(SqliteStoreOptions options,
//                             SqliteStoreOptionsFromUrl("sqlite:///var/lib/alerthub/alerthub.db"));
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenSqliteStore(options));
//   ALERTHUB_ASSIGN_OR_RETURN(std::vector<SubmissionOutcome> out,
//                             store->CommitSubmissions(writes));
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<TaskQueue> queue, store->OpenTaskQueue());
//
// The database runs in WAL mode with foreign keys on and, by default,
// synchronous=FULL, so an OK return has reached the disk. One writer
// connection serializes writes; a pool of read-only connections serves reads
// concurrently with it. A ":memory:" database is private to its store and is
// served by a single connection.
//
// Concurrent CommitSubmissions calls are group-committed: calls that arrive
// while a transaction is in flight are written together in the next one, so
// one fsync covers them all; a call that fails on its own (a taken id) still
// fails alone.
//
// Opening applies pending schema migrations (table `schema_migrations`), and
// fails with kFailedPrecondition on a database written by a newer schema. The
// tables and why each index exists: internal/schema.cc.
//
// Thread-safe. Several processes may open the same file: writes wait up to
// `busy_timeout` for each other and then fail with kUnavailable.
#ifndef ALERTHUB_ADAPTERS_SQLITE_SQLITE_STORE_H_
#define ALERTHUB_ADAPTERS_SQLITE_SQLITE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"

namespace alerthub {

struct SqliteStoreOptions {
  // The database file (created when missing; its directory must exist), or
  // ":memory:" for a private in-memory database.
  std::string path;
  // PRAGMA synchronous=FULL: every commit is fsynced, so an OK return survives
  // power loss. NORMAL survives a process crash but may lose the last commits
  // on power loss; it is faster.
  bool synchronous_full = true;
  // Read-only connections serving reads in parallel with the writer (0-64;
  // 0 reads through the writer). Ignored for ":memory:".
  int read_connections = 4;
  // How long a call waits for a lock held by another connection or process
  // before failing with kUnavailable.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Time for timestamps and leases. nullptr: Clock::Real(). Must outlive the
  // store and every task queue it opened.
  Clock* clock = nullptr;
};

// Parses a store URL:
//   sqlite:///abs/path.db       absolute path /abs/path.db
//   sqlite://relative/path.db   path relative to the working directory
//   sqlite://:memory:           private in-memory database
// with optional query parameters `synchronous=full|normal`,
// `read_connections=N` and `busy_timeout_ms=N`. The path is percent-decoded.
// kInvalidArgument, naming the problem, for any other form.
absl::StatusOr<SqliteStoreOptions> SqliteStoreOptionsFromUrl(absl::string_view url);

// A Store with SQLite-specific housekeeping. OpenTaskQueue() never fails
// with kUnimplemented here; its queues share the database and may outlive the
// store.
class SqliteStore : public Store {
 public:
  // Deletes outbox messages marked sent before `older_than`, except the
  // newest message (so sequence numbers are never reused). Returns how many
  // were deleted.
  virtual absl::StatusOr<int64_t> PurgeSentOutbox(absl::Time older_than) = 0;

  // The schema version of the open database (the number of migrations run).
  virtual int SchemaVersion() const = 0;
};

// Opens (creating when missing) the database of `options`. kInvalidArgument
// for bad options; kUnavailable when the file cannot be opened or stays
// locked; kDataLoss when it is not an SQLite database; kFailedPrecondition
// when its schema is newer than this binary's or WAL cannot be enabled.
//
// The result converts to absl::StatusOr<std::unique_ptr<Store>>.
absl::StatusOr<std::unique_ptr<SqliteStore>> OpenSqliteStore(
    const SqliteStoreOptions& options);

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_SQLITE_SQLITE_STORE_H_
