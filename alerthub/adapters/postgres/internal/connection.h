// Internal to the PostgreSQL adapter: one libpq connection with lazily
// prepared statements, query parameters and results, and the mapping of
// PostgreSQL errors (SQLSTATE) onto absl::Status codes.
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connection::Connect(conninfo));
//   ALERTHUB_ASSIGN_OR_RETURN(
//       Result r, c->Query("SELECT name FROM tenants WHERE id = $1", Params().Text(id)));
//   if (r.rows() == 1) name = r.Text(0, 0);
//
// Values always travel as parameters (text format, bytea in binary), never in
// the SQL text. Not thread-safe: the pool (database.h) hands a connection to
// one caller at a time.
#ifndef ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_CONNECTION_H_
#define ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace alerthub::postgres_internal {

// Positional parameters $1, $2, ... in the order they are added.
class Params {
 public:
  Params& Text(absl::string_view v);
  Params& Int(int64_t v);
  Params& Bool(bool v);
  Params& Null();
  // Micros since the epoch, or NULL.
  Params& OptTime(const std::optional<absl::Time>& t);
  // A bytea value, sent in binary so every byte survives.
  Params& Bytes(absl::string_view v);
  // Array literals for `$n::text[]` and `$n::bigint[]` (unnest, = ANY).
  // A nullopt element is NULL.
  Params& TextArray(absl::Span<const std::optional<std::string>> v);
  Params& TextArray(absl::Span<const std::string> v);
  Params& IntArray(absl::Span<const int64_t> v);

  size_t size() const { return values_.size(); }

 private:
  friend class Connection;
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<int> formats_;  // 0 text, 1 binary
};

// A query's result. Columns read as text; the accessors convert.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* res);
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  ~Result();

  int rows() const;
  bool IsNull(int row, int col) const;
  absl::string_view Text(int row, int col) const;
  int64_t Int(int row, int col) const;  // 0 for NULL or garbage
  bool Bool(int row, int col) const;    // "t"
  absl::Time Time(int row, int col) const;  // micros since the epoch
  std::optional<absl::Time> OptTime(int row, int col) const;
  // A bytea column (text output "\x<hex>") decoded.
  std::string Bytes(int row, int col) const;
  // Rows an INSERT, UPDATE or DELETE affected.
  int64_t Affected() const;

 private:
  PGresult* res_ = nullptr;
};

class Connection {
 public:
  // Connects (blocking, bounded by the conninfo's connect_timeout).
  // kUnavailable naming libpq's reason when the server cannot be reached or
  // refuses the login.
  static absl::StatusOr<std::unique_ptr<Connection>> Connect(const std::string& conninfo);
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` (one or more statements, no parameters) with the simple
  // query protocol: BEGIN, COMMIT, DDL.
  absl::Status Exec(absl::string_view sql);

  // Runs one statement with `params`, prepared on this connection on first
  // use (named s1, s2, ... by SQL text) and reused afterwards.
  absl::StatusOr<Result> Query(absl::string_view sql, const Params& params = Params());

  // True once the connection failed in a way that makes it unusable (the
  // server closed it, the network broke): the pool discards it.
  bool broken() const;
  // The server process serving this connection.
  int backend_pid() const;
  bool in_transaction() const;

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  // The status of a finished command, mapped; marks the connection broken
  // when it is.
  absl::Status Check(PGresult* res, absl::string_view sql);

  PGconn* conn_;
  absl::flat_hash_map<std::string, std::string> prepared_;  // SQL -> name
};

// The absl code for SQLSTATE `state` (five characters):
//   23505 unique_violation           -> kAlreadyExists
//   23503 foreign_key_violation      -> kFailedPrecondition
//   40001, 40P01 (serialization, deadlock) -> kAborted (the transaction may be retried)
//   08xxx, 57Pxx, 53xxx (connection, shutdown, resources), 57014
//   (statement_timeout), 55P03 (lock_timeout) -> kUnavailable
//   22xxx, 23xxx other (bad data)    -> kInvalidArgument
//   anything else                    -> kInternal
absl::StatusCode CodeForSqlState(absl::string_view state);

// `url` with its password replaced by "***", for messages.
std::string RedactUrl(absl::string_view url);

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_CONNECTION_H_
