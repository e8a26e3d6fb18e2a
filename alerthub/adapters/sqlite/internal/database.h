// Internal to the SQLite adapter: one open database — a writer connection
// behind a mutex and a pool of read-only WAL connections — shared by the
// store and the task queues it hands out, so a queue may outlive its store.
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::shared_ptr<Database> db, Database::Open(options));
//   ALERTHUB_RETURN_IF_ERROR(db->Write([&](Connection& c) -> absl::Status {
//     ... statements, all committed together ...
//   }));
//   ALERTHUB_RETURN_IF_ERROR(db->Read([&](Connection& c) -> absl::Status { ... }));
//
// Thread-safe.
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_DATABASE_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_DATABASE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/ports/clock.h"

namespace alerthub::sqlite_internal {

inline constexpr char kMemoryPath[] = ":memory:";

struct DatabaseOptions {
  // A file path, or ":memory:" for a private in-memory database served by a
  // single connection.
  std::string path;
  // PRAGMA synchronous=FULL (fsync on every commit) or NORMAL.
  bool synchronous_full = true;
  // Read-only connections for reads; 0 reads through the writer.
  int read_connections = 4;
  // How long a statement waits for another connection's lock before
  // failing with kUnavailable.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Never null here. Must outlive the Database.
  Clock* clock = nullptr;
};

class Database {
 public:
  // Opens (creating when missing) the database, switches it to WAL, applies
  // pending schema migrations and opens the reader pool. kInvalidArgument
  // for bad options; kDataLoss when the file is not a database; kUnavailable
  // when it cannot be opened or is locked beyond busy_timeout;
  // kFailedPrecondition when its schema is newer than this binary's.
  static absl::StatusOr<std::shared_ptr<Database>> Open(const DatabaseOptions& options);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  Clock& clock() const { return *clock_; }
  bool in_memory() const { return in_memory_; }
  int schema_version() const { return schema_version_; }

  // How a Write's commit reaches the disk.
  enum class Durability {
    kDefault,  // as opened: with synchronous=FULL, fsync before returning
    // No fsync at commit (synchronous=NORMAL for this transaction): a power
    // loss may undo it, a process crash cannot. For bookkeeping whose loss
    // only repeats work (outbox claims and sent marks: at-least-once), so it
    // does not add an fsync to every relay round. A later default-durability
    // commit makes it durable too (the WAL is sequential).
    kRelaxed,
  };

  // Runs `body` on the writer inside BEGIN IMMEDIATE ... COMMIT; rolls back
  // and returns body's error when it fails. Calls are serialized.
  absl::Status Write(absl::FunctionRef<absl::Status(Connection&)> body,
                     Durability durability = Durability::kDefault)
      ABSL_LOCKS_EXCLUDED(writer_mu_);

  // Runs `body` on an idle reader (waiting for one), or on the writer when
  // the database is in memory or has no readers. Each statement reads the
  // latest committed state.
  absl::Status Read(absl::FunctionRef<absl::Status(Connection&)> body)
      ABSL_LOCKS_EXCLUDED(writer_mu_, pool_mu_);

 private:
  Database(Clock* clock, bool in_memory, bool synchronous_full,
           std::unique_ptr<Connection> writer);
  bool HasIdleReader() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_) {
    return !idle_readers_.empty();
  }

  Clock* const clock_;
  const bool in_memory_;
  const bool synchronous_full_;
  int schema_version_ = 0;  // set by Open()

  absl::Mutex writer_mu_;
  std::unique_ptr<Connection> writer_ ABSL_GUARDED_BY(writer_mu_);

  // Owned readers; fixed after Open(). Each is handed to one thread at a time
  // through idle_readers_.
  std::vector<std::unique_ptr<Connection>> readers_;
  absl::Mutex pool_mu_;
  std::vector<Connection*> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
};

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_DATABASE_H_
