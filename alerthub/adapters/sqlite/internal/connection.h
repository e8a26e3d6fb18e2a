// Internal to the SQLite adapter: one sqlite3 connection with a cache of
// prepared statements, typed bind/column helpers and the mapping of SQLite
// result codes onto absl::Status.
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c,
//                             Connection::Open(path, Connection::Mode::kReadWrite,
//                                              absl::Seconds(5)));
//   ALERTHUB_ASSIGN_OR_RETURN(Statement s, c->Prepare("SELECT name FROM t WHERE id = ?1"));
//   s.BindText(1, id);                       // bound without copying: `id` must
//   ALERTHUB_ASSIGN_OR_RETURN(bool row, s.Step());  // outlive `s`
//   if (row) name = std::string(s.ColumnText(0));
//
// Thread safety: a Connection (and every Statement from it) is used by one
// thread at a time; the store's writer mutex and reader pool guarantee that.
// Connections are opened in SQLite's multi-thread mode (SQLITE_OPEN_NOMUTEX).
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_CONNECTION_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace alerthub::sqlite_internal {

// Maps an SQLite result code (extended or primary) to a Status:
//   SQLITE_BUSY, SQLITE_LOCKED, I/O errors, a full disk, a file that cannot
//   be opened or written          -> kUnavailable (the caller may retry)
//   SQLITE_CORRUPT, SQLITE_NOTADB -> kDataLoss
//   UNIQUE / PRIMARY KEY violated -> kAlreadyExists
//   FOREIGN KEY violated          -> kFailedPrecondition (callers that know
//                                    which row is missing say kNotFound)
//   anything else                 -> kInternal
// The message is "`context`: <sqlite's message> (<result code name>)".
absl::Status StatusFromSqlite(int rc, absl::string_view sqlite_message,
                              absl::string_view context);

// A prepared statement borrowed from a Connection's cache. Destroying it
// resets the statement and clears its bindings, so the cached statement is
// ready for the next user and holds no read transaction open. Move-only.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1 (`?1`, `?2`, ...). Text and blobs are
  // bound WITHOUT copying (SQLITE_STATIC): the bytes must stay valid until
  // this Statement is destroyed or the parameter is bound again. Binding a
  // temporary std::string is therefore a compile error.
  void BindText(int index, absl::string_view value);
  void BindText(int index, const char* value) {
    BindText(index, absl::string_view(value));
  }
  void BindText(int index, std::string&& value) = delete;
  void BindBlob(int index, absl::string_view value);
  void BindBlob(int index, std::string&& value) = delete;
  // NULL when `value` is empty.
  void BindTextOrNull(int index, absl::string_view value);
  void BindTextOrNull(int index, std::string&& value) = delete;
  void BindInt64(int index, int64_t value);
  void BindNull(int index);

  // Runs the statement one step: true when a result row is available, false
  // when the statement is done. The first failed bind is reported here.
  absl::StatusOr<bool> Step();
  // Steps to completion, discarding any result rows.
  absl::Status Run();
  // Resets the statement to run again; bindings are kept.
  void Reset();

  // Columns of the current row, numbered from 0. Text and blob views stay
  // valid until the next Step(), Reset() or destruction.
  bool ColumnIsNull(int index) const;
  int64_t ColumnInt64(int index) const;
  absl::string_view ColumnText(int index) const;
  absl::string_view ColumnBlob(int index) const;

  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int64_t Changes() const;

  // The Status for a failed SQLite call on this statement's connection.
  absl::Status Error(int rc, absl::string_view context) const;

 private:
  void NoteBind(int rc, int index);
  // Hands the statement back to the cache: reset, bindings cleared.
  void Release();

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // first failed bind, reported by Step()
  int bind_index_ = 0;
};

class Connection {
 public:
  enum class Mode {
    kReadWrite,  // creates the database file when missing
    kReadOnly,   // a WAL reader; never writes
  };

  // Opens `path` (a file path or ":memory:") with extended result codes on
  // and `busy_timeout` as the lock-wait budget. kUnavailable when the file
  // cannot be opened.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& path, Mode mode, absl::Duration busy_timeout);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Finalizes every cached statement and closes the connection.
  ~Connection();

  // Runs `sql` (one or more statements, no parameters; results discarded).
  // For DDL and PRAGMAs; not cached.
  absl::Status Exec(const std::string& sql);

  // The cached prepared statement for `sql`, prepared (persistently) on first
  // use. A statement is handed out once at a time: callers must not prepare
  // the same SQL twice while the first Statement is alive.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // Prepares (cached) and runs `sql`, which takes no parameters.
  absl::Status Run(absl::string_view sql);

  // False while a transaction is open.
  bool InAutocommit() const;

  // The Status for a failed SQLite call on this connection.
  absl::Status Error(int rc, absl::string_view context) const;

  // Number of statements prepared so far (each SQL text once). Lets tests
  // check that the hot path never re-prepares.
  int64_t PrepareCountForTest() const { return prepare_count_; }

  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> cache_;
  int64_t prepare_count_ = 0;
};

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_CONNECTION_H_
