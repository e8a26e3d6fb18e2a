// Internal to the PostgreSQL adapter: a bounded pool of connections to one
// database, and transactions over it.
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::shared_ptr<Database> db, Database::Open(options));
//   ALERTHUB_RETURN_IF_ERROR(db->Write([&](Connection& c) -> absl::Status {
//     ... c.Query(...) ...   // inside BEGIN ... COMMIT
//   }));
//
// Pool: at most `pool_size` connections, opened on demand. Acquiring waits up
// to `acquire_timeout` for a free one and then fails with kUnavailable. A
// connection that broke (server restart, pg_terminate_backend, network) is
// closed when returned and a new one is opened on demand. A new connection
// whose synchronous_commit is off (server or role default) turns it on.
//
// Retries: a call whose connection turns out dead before anything was sent
// in it (the BEGIN of a write, any statement of a read) runs again on a fresh
// connection, so callers do not see the pool's stale connections after a
// restart. A write transaction that fails with a serialization failure or a
// deadlock (kAborted) runs again, up to 3 times; `fn` must therefore reset
// whatever it outputs. Thread-safe.
#ifndef ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_DATABASE_H_
#define ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_DATABASE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/adapters/postgres/internal/connection.h"
#include "alerthub/ports/clock.h"

namespace alerthub::postgres_internal {

struct DatabaseOptions {
  std::string conninfo;  // for PQconnectdb; may hold a password
  std::string display;   // conninfo without the password, for messages
  int pool_size = 4;
  absl::Duration acquire_timeout = absl::Seconds(5);
  Clock* clock = nullptr;  // not null
};

class Database;

// A transaction its owner keeps open across calls (Database::Begin), on a
// connection taken from the pool until the transaction ends. Not
// thread-safe.
class Transaction {
 public:
  Transaction(std::shared_ptr<Database> db, std::unique_ptr<Connection> conn);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // Rolls back unless committed, and returns the connection to the pool.
  ~Transaction();

  Connection& connection() { return *conn_; }
  // COMMIT. After it (whatever its result) the transaction is over.
  absl::Status Commit();

 private:
  std::shared_ptr<Database> db_;
  std::unique_ptr<Connection> conn_;  // null once ended
};

class Database : public std::enable_shared_from_this<Database> {
 public:
  // Opens one connection (kUnavailable when the server cannot be reached)
  // and applies pending schema migrations (schema.h).
  static absl::StatusOr<std::shared_ptr<Database>> Open(const DatabaseOptions& options);

  explicit Database(const DatabaseOptions& options) : options_(options) {}
  ~Database();

  using Fn = absl::FunctionRef<absl::Status(Connection&)>;

  // Runs `fn` outside a transaction (each statement commits by itself).
  absl::Status Read(Fn fn);
  // Runs `fn` inside BEGIN ... COMMIT; rolls back when it fails.
  absl::Status Write(Fn fn);

  // BEGIN on a connection of its own; the caller runs statements in it and
  // commits. A stale pooled connection is replaced as for Write. Holds one
  // of the pool's connections until the transaction ends. REQUIRES: the
  // database is owned by a shared_ptr.
  absl::StatusOr<std::unique_ptr<Transaction>> Begin();

  Clock& clock() const { return *options_.clock; }
  int schema_version() const { return schema_version_; }
  int pool_size() const { return options_.pool_size; }

 private:
  friend class Transaction;

  // A connection for one caller; kUnavailable after acquire_timeout or when
  // a new one cannot be opened. `fresh` is set when it was opened for this
  // call (its failures are not stale-connection failures).
  absl::StatusOr<std::unique_ptr<Connection>> Acquire(bool* fresh);
  void Release(std::unique_ptr<Connection> conn);
  // A connection inside BEGIN. A stale pooled connection whose BEGIN fails
  // is replaced by a fresh one (nothing was done on it yet).
  absl::StatusOr<std::unique_ptr<Connection>> AcquireInTransaction();

  const DatabaseOptions options_;
  int schema_version_ = 0;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + in use + being opened
};

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_DATABASE_H_
