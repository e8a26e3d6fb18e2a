#include "alerthub/adapters/postgres/internal/connection.h"

// Debian puts libpq under /usr/include/postgresql, outside the default search
// path that @system//:pq relies on; its own includes are relative.
#include <postgresql/libpq-fe.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace alerthub::postgres_internal {
namespace {

// Quotes one element of an array literal: "..." with \ and " escaped.
void AppendArrayElement(std::string* out, absl::string_view v) {
  out->push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// libpq's messages end in a newline.
std::string Trimmed(const char* msg) {
  return std::string(absl::StripTrailingAsciiWhitespace(msg == nullptr ? "" : msg));
}

// Notices ("relation already exists, skipping") are not errors: dropped.
void IgnoreNotice(void*, const char*) {}

}  // namespace

// --- Params ---------------------------------------------------------------------

Params& Params::Text(absl::string_view v) {
  values_.emplace_back(v);
  nulls_.push_back(false);
  formats_.push_back(0);
  return *this;
}

Params& Params::Int(int64_t v) { return Text(absl::StrCat(v)); }

Params& Params::Bool(bool v) { return Text(v ? "true" : "false"); }

Params& Params::Null() {
  values_.emplace_back();
  nulls_.push_back(true);
  formats_.push_back(0);
  return *this;
}

Params& Params::OptTime(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return Null();
  return Int(absl::ToUnixMicros(*t));
}

Params& Params::Bytes(absl::string_view v) {
  values_.emplace_back(v);
  nulls_.push_back(false);
  formats_.push_back(1);
  return *this;
}

Params& Params::TextArray(absl::Span<const std::optional<std::string>> v) {
  std::string lit = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) lit.push_back(',');
    if (v[i].has_value()) {
      AppendArrayElement(&lit, *v[i]);
    } else {
      lit += "NULL";
    }
  }
  lit.push_back('}');
  return Text(lit);
}

Params& Params::TextArray(absl::Span<const std::string> v) {
  std::string lit = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) lit.push_back(',');
    AppendArrayElement(&lit, v[i]);
  }
  lit.push_back('}');
  return Text(lit);
}

Params& Params::IntArray(absl::Span<const int64_t> v) {
  return Text(absl::StrCat("{", absl::StrJoin(v, ","), "}"));
}

// --- Result ---------------------------------------------------------------------

Result::Result(PGresult* res) : res_(res) {}
Result::Result(Result&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {}
Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr) PQclear(res_);
    res_ = std::exchange(other.res_, nullptr);
  }
  return *this;
}
Result::~Result() {
  if (res_ != nullptr) PQclear(res_);
}

int Result::rows() const { return res_ == nullptr ? 0 : PQntuples(res_); }

bool Result::IsNull(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

absl::string_view Result::Text(int row, int col) const {
  return absl::string_view(PQgetvalue(res_, row, col),
                           static_cast<size_t>(PQgetlength(res_, row, col)));
}

int64_t Result::Int(int row, int col) const {
  int64_t v = 0;
  if (!absl::SimpleAtoi(Text(row, col), &v)) return 0;
  return v;
}

bool Result::Bool(int row, int col) const { return Text(row, col) == "t"; }

absl::Time Result::Time(int row, int col) const {
  return absl::FromUnixMicros(Int(row, col));
}

std::optional<absl::Time> Result::OptTime(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Time(row, col);
}

std::string Result::Bytes(int row, int col) const {
  absl::string_view hex = Text(row, col);
  if (!absl::ConsumePrefix(&hex, "\\x")) return std::string(hex);
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(HexValue(hex[i]) * 16 + HexValue(hex[i + 1])));
  }
  return out;
}

int64_t Result::Affected() const {
  int64_t n = 0;
  if (res_ == nullptr || !absl::SimpleAtoi(PQcmdTuples(res_), &n)) return 0;
  return n;
}

// --- Connection -----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Connection>> Connection::Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return absl::ResourceExhaustedError("postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("postgres: cannot connect: ", msg));
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

int Connection::backend_pid() const { return PQbackendPID(conn_); }

bool Connection::in_transaction() const {
  return PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

absl::Status Connection::Check(PGresult* res, absl::string_view sql) {
  if (res == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("postgres: ", Trimmed(PQerrorMessage(conn_))));
  }
  const ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return absl::OkStatus();
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
  std::string msg = Trimmed(PQresultErrorMessage(res));
  if (msg.empty()) msg = Trimmed(PQerrorMessage(conn_));
  absl::StatusCode code = state != nullptr ? CodeForSqlState(state)
                                           : absl::StatusCode::kUnavailable;
  // Without an SQLSTATE the error came from libpq itself: the connection.
  if (broken()) code = absl::StatusCode::kUnavailable;
  std::string text = absl::StrCat("postgres: ", msg);
  if (constraint != nullptr) absl::StrAppend(&text, " (constraint ", constraint, ")");
  if (code == absl::StatusCode::kInternal) {
    absl::StrAppend(&text, " [", state != nullptr ? state : "", "] in: ", sql.substr(0, 200));
  }
  return absl::Status(code, text);
}

absl::Status Connection::Exec(absl::string_view sql) {
  // PQexec wants a NUL-terminated string.
  const std::string text(sql);
  PGresult* res = PQexec(conn_, text.c_str());
  absl::Status s = Check(res, sql);
  if (res != nullptr) PQclear(res);
  return s;
}

absl::StatusOr<Result> Connection::Query(absl::string_view sql, const Params& params) {
  const std::string key(sql);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    std::string name = absl::StrCat("s", prepared_.size() + 1);
    PGresult* res = PQprepare(conn_, name.c_str(), key.c_str(),
                              static_cast<int>(params.size()), nullptr);
    absl::Status s = Check(res, sql);
    if (res != nullptr) PQclear(res);
    if (!s.ok()) return s;
    it = prepared_.emplace(key, std::move(name)).first;
  }
  const size_t n = params.size();
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  for (size_t i = 0; i < n; ++i) {
    values[i] = params.nulls_[i] ? nullptr : params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  PGresult* res = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(n),
                                 values.data(), lengths.data(), params.formats_.data(),
                                 /*resultFormat=*/0);
  absl::Status s = Check(res, sql);
  if (!s.ok()) {
    if (res != nullptr) PQclear(res);
    return s;
  }
  return Result(res);
}

absl::StatusCode CodeForSqlState(absl::string_view state) {
  if (state == "23505") return absl::StatusCode::kAlreadyExists;
  if (state == "23503") return absl::StatusCode::kFailedPrecondition;
  if (state == "40001" || state == "40P01") return absl::StatusCode::kAborted;
  // 57014: a statement_timeout ran out; 55P03: a lock_timeout did.
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57P") ||
      absl::StartsWith(state, "53") || state == "57014" || state == "55P03") {
    return absl::StatusCode::kUnavailable;
  }
  if (absl::StartsWith(state, "22") || absl::StartsWith(state, "23")) {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kInternal;
}

std::string RedactUrl(absl::string_view url) {
  std::string out(url);
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t start = scheme + 3;
    const size_t end = out.find_first_of("/?", start);
    const size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at > start) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, "***");
      }
    }
  }
  // A password=... query parameter.
  for (size_t p = out.find("password="); p != std::string::npos;
       p = out.find("password=", p + 1)) {
    const size_t v = p + 9;
    const size_t e = out.find('&', v);
    out.replace(v, (e == std::string::npos ? out.size() : e) - v, "***");
  }
  return out;
}

}  // namespace alerthub::postgres_internal
