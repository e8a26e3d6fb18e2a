// Internal to the SQLite adapter: helpers the table classes share — time
// columns, JSON columns, and keyset paging (Store's Page<T>).
//
//   return ReadPage<User>(*db_, sql, page,
//                         [&](Statement& st) { ...; st.BindInt64(3, page.limit + 1); },
//                         UserFromRow);
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TABLE_UTIL_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TABLE_UTIL_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/common/status.h"
#include "alerthub/ports/store.h"
#include "nlohmann/json.hpp"

namespace alerthub::sqlite_internal {

// Timestamps are stored as integer microseconds since the Unix epoch.
inline int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// kInvalidArgument unless page.limit is 1-500 (the port's bounds).
inline absl::Status CheckLimit(const PageRequest& page) {
  if (page.limit < 1 || page.limit > 500) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be 1-500, got ", page.limit));
  }
  return absl::OkStatus();
}

// A JSON column's value; kInternal (a corrupt row) when it does not parse.
inline absl::StatusOr<nlohmann::json> ParseColumn(absl::string_view text,
                                                  absl::string_view what) {
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InternalError(absl::StrCat("sqlite: corrupt row: ", what,
                                            " is not valid JSON"));
  }
  return j;
}

// `j` as text for a JSON column; kInvalidArgument naming `what` when it holds
// a string that is not UTF-8.
inline absl::StatusOr<std::string> Dump(const nlohmann::json& j, absl::string_view what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " cannot be stored as JSON: ", e.what()));
  }
}

// `from_json(value)` (a *FromJson() of the model, returning StatusOr<T>) of
// the JSON column `column` ("users.doc"); a value that does not parse or
// decode is a corrupt row (kInternal).
template <typename FromJson>
auto DecodeJsonColumn(absl::string_view text, absl::string_view column, FromJson from_json)
    -> decltype(from_json(std::declval<const nlohmann::json&>())) {
  using Result = decltype(from_json(std::declval<const nlohmann::json&>()));
  ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json j, ParseColumn(text, column));
  Result r = absl::InternalError("unset");
  try {
    r = from_json(j);
  } catch (const nlohmann::json::exception& e) {
    r = absl::InvalidArgumentError(e.what());
  }
  if (!r.ok()) {
    return absl::InternalError(
        absl::StrCat("sqlite: corrupt row: ", column, ": ", r.status().message()));
  }
  return r;
}

// Reads up to `limit` rows of `st` (which asks for limit + 1) into `out`
// with `decode` (Statement -> StatusOr<T>); one more row sets has_more.
template <typename T, typename Decode>
absl::Status CollectPage(Statement& st, int limit, Page<T>* out, Decode decode) {
  out->items.clear();
  out->has_more = false;
  while (true) {
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return absl::OkStatus();
    if (static_cast<int>(out->items.size()) == limit) {
      out->has_more = true;
      return absl::OkStatus();
    }
    ALERTHUB_ASSIGN_OR_RETURN(T item, decode(st));
    out->items.push_back(std::move(item));
  }
}

// One page of `sql` (which must end in "LIMIT ?n" bound by `bind` to
// page.limit + 1) read on a reader, decoded by `decode`. kInvalidArgument
// for a limit outside 1-500.
template <typename T, typename Bind, typename Decode>
absl::StatusOr<Page<T>> ReadPage(Database& db, const std::string& sql, const PageRequest& page,
                                 Bind bind, Decode decode) {
  ALERTHUB_RETURN_IF_ERROR(CheckLimit(page));
  Page<T> out;
  ALERTHUB_RETURN_IF_ERROR(db.Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
    bind(st);
    return CollectPage(st, page.limit, &out, decode);
  }));
  return out;
}

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TABLE_UTIL_H_
