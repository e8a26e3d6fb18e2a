#include "alerthub/adapters/sqlite/internal/connection.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/wal_write_buffer.h"
#include "alerthub/common/status.h"

namespace alerthub::sqlite_internal {

absl::Status StatusFromSqlite(int rc, absl::string_view sqlite_message,
                              absl::string_view context) {
  const std::string message =
      absl::StrCat(context, ": ", sqlite_message, " (", sqlite3_errstr(rc),
                   ", code ", rc, ")");
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return absl::AlreadyExistsError(message);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return absl::FailedPreconditionError(message);
    case SQLITE_IOERR_CORRUPTFS:
      return absl::DataLossError(message);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
    case SQLITE_NOLFS:
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

// --- Statement ---------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_rc_(other.bind_rc_),
      bind_index_(other.bind_index_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = other.bind_rc_;
    bind_index_ = other.bind_index_;
  }
  return *this;
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    stmt_ = nullptr;
  }
}

void Statement::NoteBind(int rc, int index) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
}

void Statement::BindText(int index, absl::string_view value) {
  // A non-null pointer even for an empty view: NULL would bind SQL NULL.
  NoteBind(sqlite3_bind_text(stmt_, index, value.empty() ? "" : value.data(),
                             static_cast<int>(value.size()), SQLITE_STATIC),
           index);
}

void Statement::BindBlob(int index, absl::string_view value) {
  NoteBind(sqlite3_bind_blob(stmt_, index, value.empty() ? "" : value.data(),
                             static_cast<int>(value.size()), SQLITE_STATIC),
           index);
}

void Statement::BindTextOrNull(int index, absl::string_view value) {
  if (value.empty()) {
    BindNull(index);
  } else {
    BindText(index, value);
  }
}

void Statement::BindInt64(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
}

void Statement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index), index);
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) {
    return Error(bind_rc_, absl::StrCat("binding parameter ", bind_index_));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc, sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

void Statement::Reset() { sqlite3_reset(stmt_); }

bool Statement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int index) const {
  return sqlite3_column_int64(stmt_, index);
}

absl::string_view Statement::ColumnText(int index) const {
  // sqlite3_column_text() before sqlite3_column_bytes(), as SQLite documents.
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return absl::string_view();
  return absl::string_view(reinterpret_cast<const char*>(text),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, index)));
}

absl::string_view Statement::ColumnBlob(int index) const {
  const void* blob = sqlite3_column_blob(stmt_, index);
  if (blob == nullptr) return absl::string_view();
  return absl::string_view(static_cast<const char*>(blob),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, index)));
}

int64_t Statement::Changes() const { return sqlite3_changes64(db_); }

absl::Status Statement::Error(int rc, absl::string_view context) const {
  return StatusFromSqlite(rc, sqlite3_errmsg(db_), context);
}

// --- Connection --------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& path, Mode mode, absl::Duration busy_timeout) {
  if (sqlite3_threadsafe() == 0) {
    return absl::FailedPreconditionError(
        "sqlite: the linked SQLite library was built without thread support");
  }
  ALERTHUB_RETURN_IF_ERROR(RegisterBufferedWalVfs());
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE;
  flags |= mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY
                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, kBufferedWalVfs);
  if (rc != SQLITE_OK) {
    absl::Status status =
        StatusFromSqlite(rc, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                         absl::StrCat("opening ", path));
    sqlite3_close_v2(db);  // harmless on nullptr
    return status;
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  const int64_t ms = absl::ToInt64Milliseconds(busy_timeout);
  sqlite3_busy_timeout(
      db, static_cast<int>(std::min<int64_t>(ms, std::numeric_limits<int>::max())));
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status Connection::Exec(const std::string& sql) {
  char* errmsg = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &errmsg);
  if (rc == SQLITE_OK) return absl::OkStatus();
  absl::Status status = StatusFromSqlite(
      rc, errmsg != nullptr ? errmsg : sqlite3_errmsg(db_),
      absl::StrCat("executing ", sql.size() > 80 ? sql.substr(0, 80) + "..." : sql));
  sqlite3_free(errmsg);
  return status;
}

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Statement(db_, it->second);
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Error(rc, absl::StrCat("preparing ", sql));
  }
  if (stmt == nullptr) {
    return absl::InternalError(absl::StrCat("sqlite: empty statement: ", sql));
  }
  ++prepare_count_;
  cache_.emplace(std::string(sql), stmt);
  return Statement(db_, stmt);
}

absl::Status Connection::Run(absl::string_view sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->Run();
}

bool Connection::InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

absl::Status Connection::Error(int rc, absl::string_view context) const {
  return StatusFromSqlite(rc, sqlite3_errmsg(db_), context);
}

}  // namespace alerthub::sqlite_internal
