#include "alerthub/adapters/postgres/internal/database.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/postgres/internal/audit_log.h"
#include "alerthub/adapters/postgres/internal/schema.h"
#include "alerthub/common/status.h"
#include "alerthub/ports/audit.h"

namespace alerthub::postgres_internal {

absl::StatusOr<std::shared_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  auto db = std::make_shared<Database>(options);
  bool fresh = false;
  ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, db->Acquire(&fresh));
  absl::StatusOr<int> version =
      ApplyMigrations(*conn, StoreMigrations(), options.clock->Now());
  db->Release(std::move(conn));
  if (!version.ok()) return version.status();
  db->schema_version_ = *version;
  return db;
}

Database::~Database() {
  absl::MutexLock lock(&mu_);
  idle_.clear();
}

absl::StatusOr<std::unique_ptr<Connection>> Database::Acquire(bool* fresh) {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.pool_size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available), options_.acquire_timeout)) {
      return absl::UnavailableError(absl::StrCat(
          "postgres: all ", options_.pool_size, " pooled connections stayed busy for ",
          absl::FormatDuration(options_.acquire_timeout),
          " (raise pool_size or acquire_timeout_ms)"));
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      *fresh = false;
      return conn;
    }
    ++open_;
  }
  // Connect outside the lock: it may take up to connect_timeout.
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Connect(options_.conninfo);
  if (!conn.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return absl::Status(conn.status().code(),
                        absl::StrCat(conn.status().message(), " (", options_.display, ")"));
  }
  // An OK return must mean durable (ports/store.h): a server or role that
  // turned synchronous_commit off gets it back on for our sessions (local,
  // remote_write and remote_apply are left alone).
  absl::Status s =
      (*conn)
          ->Query("SELECT set_config('synchronous_commit', 'on', false) "
                  "WHERE current_setting('synchronous_commit') = 'off'")
          .status();
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return s;
  }
  *fresh = true;
  return conn;
}

void Database::Release(std::unique_ptr<Connection> conn) {
  // A connection left inside a transaction (a failed ROLLBACK) is not reused.
  const bool reusable = !conn->broken() && !conn->in_transaction();
  absl::MutexLock lock(&mu_);
  if (reusable) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
}

absl::Status Database::Read(Fn fn) {
  // Reads are idempotent: one whose connection died (stale in the pool)
  // runs again on a fresh one.
  for (int attempt = 0;; ++attempt) {
    bool fresh = false;
    ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Acquire(&fresh));
    absl::Status s = fn(*conn);
    if (conn->in_transaction()) conn->Exec("ROLLBACK").IgnoreError();
    const bool stale = !s.ok() && conn->broken() && !fresh;
    Release(std::move(conn));
    if (!stale || attempt > options_.pool_size) return s;
  }
}

absl::StatusOr<std::unique_ptr<Connection>> Database::AcquireInTransaction() {
  for (int attempt = 0;; ++attempt) {
    bool fresh = false;
    ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Acquire(&fresh));
    absl::Status s = conn->Exec("BEGIN");
    if (s.ok()) return conn;
    // Nothing was done: a stale connection is retried on a fresh one.
    const bool stale = conn->broken() && !fresh;
    Release(std::move(conn));
    if (!stale || attempt > options_.pool_size) return s;
  }
}

absl::Status Database::Write(Fn fn) {
  int aborted = 0;
  while (true) {
    ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, AcquireInTransaction());
    absl::Status s = fn(*conn);
    // The change's audit record commits with it (ports/audit.h); a rerun
    // after kAborted inserts it again, as it is not marked written yet.
    AuditScope* audit = AuditScope::Current();
    const bool audited = s.ok() && audit != nullptr && audit->Unwritten() != nullptr;
    if (audited) s = InsertAuditRecord(*conn, *audit->Unwritten());
    if (s.ok()) s = conn->Exec("COMMIT");
    if (s.ok() && audited) audit->MarkWritten();
    if (!s.ok() && conn->in_transaction() && !conn->broken()) {
      conn->Exec("ROLLBACK").IgnoreError();
    }
    Release(std::move(conn));
    // Serialization failures and deadlocks roll the whole transaction back:
    // running it again is safe.
    if (absl::IsAborted(s) && ++aborted < 3) continue;
    return s;
  }
}

absl::StatusOr<std::unique_ptr<Transaction>> Database::Begin() {
  ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, AcquireInTransaction());
  return std::make_unique<Transaction>(shared_from_this(), std::move(conn));
}

Transaction::Transaction(std::shared_ptr<Database> db, std::unique_ptr<Connection> conn)
    : db_(std::move(db)), conn_(std::move(conn)) {}

Transaction::~Transaction() {
  if (conn_ == nullptr) return;
  if (conn_->in_transaction() && !conn_->broken()) conn_->Exec("ROLLBACK").IgnoreError();
  db_->Release(std::move(conn_));
}

absl::Status Transaction::Commit() {
  if (conn_ == nullptr) return absl::FailedPreconditionError("the transaction is over");
  absl::Status s = conn_->Exec("COMMIT");
  if (!s.ok() && conn_->in_transaction() && !conn_->broken()) {
    conn_->Exec("ROLLBACK").IgnoreError();
  }
  db_->Release(std::move(conn_));
  conn_ = nullptr;
  return s;
}

}  // namespace alerthub::postgres_internal
