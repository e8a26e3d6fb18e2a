#include "alerthub/adapters/sqlite/internal/database.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/audit_table.h"
#include "alerthub/adapters/sqlite/internal/schema.h"
#include "alerthub/adapters/sqlite/internal/wal_write_buffer.h"
#include "alerthub/common/status.h"
#include "alerthub/ports/audit.h"

namespace alerthub::sqlite_internal {
namespace {

// Readers beyond this gain nothing on the machines AlertHub targets and cost
// a file descriptor and a page cache each.
constexpr int kMaxReadConnections = 64;

absl::Status ValidateOptions(const DatabaseOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("sqlite: path must not be empty");
  }
  if (options.read_connections < 0 || options.read_connections > kMaxReadConnections) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sqlite: read_connections must be 0-", kMaxReadConnections, ", got ",
        options.read_connections));
  }
  if (options.busy_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sqlite: busy_timeout must not be negative");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("sqlite: clock must not be null");
  }
  return absl::OkStatus();
}

absl::Status EnableWal(Connection& conn) {
  ALERTHUB_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("PRAGMA journal_mode=WAL"));
  ALERTHUB_ASSIGN_OR_RETURN(bool row, stmt.Step());
  const std::string mode = row ? absl::AsciiStrToLower(stmt.ColumnText(0)) : "";
  if (mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat(
        "sqlite: could not switch the database to WAL mode (journal_mode is \"",
        mode, "\"); is it on a file system without shared memory support?"));
  }
  return absl::OkStatus();
}

}  // namespace

Database::Database(Clock* clock, bool in_memory, bool synchronous_full,
                   std::unique_ptr<Connection> writer)
    : clock_(clock),
      in_memory_(in_memory),
      synchronous_full_(synchronous_full),
      writer_(std::move(writer)) {}

Database::~Database() = default;

absl::StatusOr<std::shared_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  ALERTHUB_RETURN_IF_ERROR(ValidateOptions(options));
  const bool in_memory = options.path == kMemoryPath;
  ALERTHUB_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> writer,
      Connection::Open(options.path, Connection::Mode::kReadWrite, options.busy_timeout));

  // Reading the header first turns "not a database" into kDataLoss here
  // rather than in whichever PRAGMA happens to touch the file first.
  ALERTHUB_RETURN_IF_ERROR(writer->Exec("SELECT count(*) FROM sqlite_master"));
  // 16 KiB pages: SQLite writes the WAL one frame (page) per pwrite(2), and
  // a group commit dirties many pages, so on machines where a syscall is
  // expensive (virtualized) fewer, larger frames win. Measured with
  // //benchmarks:submit_benchmark at 64 submitters: 6.9k/s with 8 KiB,
  // 10.7k/s with 16 KiB, 9.1k/s with 32 KiB, 8.0k/s with 64 KiB (larger
  // pages also slow single commits). Takes effect only when the database is
  // created.
  ALERTHUB_RETURN_IF_ERROR(writer->Exec("PRAGMA page_size=16384"));
  if (!in_memory) {
    ALERTHUB_RETURN_IF_ERROR(EnableWal(*writer));
    // Each commit's WAL frames reach the file in a few large writes
    // (wal_write_buffer.h) rather than two per page.
    ALERTHUB_RETURN_IF_ERROR(SetWalWriteBuffering(writer->raw(), true));
  }
  ALERTHUB_RETURN_IF_ERROR(writer->Exec(absl::StrCat(
      "PRAGMA synchronous=", options.synchronous_full ? "FULL" : "NORMAL",
      "; PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;")));
  ALERTHUB_ASSIGN_OR_RETURN(
      int version, ApplyMigrations(*writer, StoreMigrations(), options.clock->Now()));

  std::shared_ptr<Database> db(
      new Database(options.clock, in_memory, options.synchronous_full, std::move(writer)));
  db->schema_version_ = version;
  if (!in_memory) {
    for (int i = 0; i < options.read_connections; ++i) {
      ALERTHUB_ASSIGN_OR_RETURN(
          std::unique_ptr<Connection> reader,
          Connection::Open(options.path, Connection::Mode::kReadOnly,
                           options.busy_timeout));
      db->readers_.push_back(std::move(reader));
    }
    absl::MutexLock lock(&db->pool_mu_);
    for (auto& reader : db->readers_) db->idle_readers_.push_back(reader.get());
  }
  return db;
}

absl::Status Database::Write(absl::FunctionRef<absl::Status(Connection&)> body,
                             Durability durability) {
  absl::MutexLock lock(&writer_mu_);
  Connection& conn = *writer_;
  const bool relax = durability == Durability::kRelaxed && synchronous_full_ && !in_memory_;
  if (relax) ALERTHUB_RETURN_IF_ERROR(conn.Run("PRAGMA synchronous=NORMAL"));
  absl::Status status = conn.Run("BEGIN IMMEDIATE");
  if (status.ok()) {
    status = body(conn);
    // The change's audit record commits with it (ports/audit.h).
    AuditScope* audit = AuditScope::Current();
    const bool audited = status.ok() && audit != nullptr && audit->Unwritten() != nullptr;
    if (audited) status = InsertAuditRecord(conn, *audit->Unwritten());
    if (status.ok()) status = conn.Run("COMMIT");
    if (status.ok() && audited) audit->MarkWritten();
    // Some errors (I/O, a full disk, SQLITE_BUSY on commit) already rolled the
    // transaction back; ROLLBACK would then fail with "no transaction".
    if (!status.ok() && !conn.InAutocommit()) conn.Run("ROLLBACK").IgnoreError();
  }
  if (relax) {
    absl::Status restored = conn.Run("PRAGMA synchronous=FULL");
    if (status.ok()) status = restored;
  }
  return status;
}

absl::Status Database::Read(absl::FunctionRef<absl::Status(Connection&)> body) {
  if (readers_.empty()) {
    absl::MutexLock lock(&writer_mu_);
    return body(*writer_);
  }
  pool_mu_.LockWhen(absl::Condition(this, &Database::HasIdleReader));
  Connection* reader = idle_readers_.back();
  idle_readers_.pop_back();
  pool_mu_.Unlock();

  absl::Status status = body(*reader);

  absl::MutexLock lock(&pool_mu_);
  idle_readers_.push_back(reader);
  return status;
}

}  // namespace alerthub::sqlite_internal
