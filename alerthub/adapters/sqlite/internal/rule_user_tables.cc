#include "alerthub/adapters/sqlite/internal/rule_user_tables.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/table_util.h"
#include "alerthub/common/status.h"
#include "nlohmann/json.hpp"

namespace alerthub::sqlite_internal {
namespace {

absl::Status NoRule(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no rule \"", id, "\""));
}

absl::Status NoUser(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no user \"", id, "\""));
}

absl::Status NoTenant(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no tenant \"", id, "\""));
}

absl::StatusOr<Rule> RuleFromDoc(absl::string_view doc) {
  return DecodeJsonColumn(doc, "rules.doc", RuleFromJson);
}

absl::StatusOr<User> UserFromDoc(absl::string_view doc) {
  return DecodeJsonColumn(doc, "users.doc", UserFromJson);
}

// A NULL column is a user who never set preferences: the defaults.
absl::StatusOr<Preferences> PreferencesFromColumn(const Statement& st, int index) {
  if (st.ColumnIsNull(index)) return Preferences{};
  return DecodeJsonColumn(st.ColumnText(index), "users.preferences", PreferencesFromJson);
}

// The stored document of the tenant's row `id` of `table` ("rules" or
// "users"), read inside the caller's transaction; nullopt when absent.
absl::StatusOr<std::optional<std::string>> ReadDoc(Connection& c, absl::string_view table,
                                                   absl::string_view tenant_id,
                                                   absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare(absl::StrCat("SELECT doc FROM ", table, " WHERE id = ?1 AND tenant_id = ?2")));
  st.BindText(1, id);
  st.BindText(2, tenant_id);
  ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(st.ColumnText(0)));
}

// The tenant's row `id` of `table`, decoded from its document by `decode`;
// `absent` when there is none.
template <typename Decode>
auto GetRow(Database& db, absl::string_view table, absl::string_view tenant_id,
            absl::string_view id, absl::Status absent, Decode decode)
    -> decltype(decode(absl::string_view())) {
  std::optional<std::string> doc;
  ALERTHUB_RETURN_IF_ERROR(db.Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(doc, ReadDoc(c, table, tenant_id, id));
    return absl::OkStatus();
  }));
  if (!doc.has_value()) return absent;
  return decode(*doc);
}

// Inserts the row (id, tenant_id, `column`, doc) into `table`, `column`'s
// value bound as ?3 by `bind_column`. A tenant that does not exist is
// kNotFound; a taken id or unique column is the adapter's kAlreadyExists.
template <typename BindColumn>
absl::Status InsertRow(Database& db, absl::string_view table, absl::string_view column,
                       absl::string_view id, absl::string_view tenant_id,
                       BindColumn bind_column, absl::string_view doc) {
  absl::Status s = db.Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare(absl::StrCat("INSERT INTO ", table, " (id, tenant_id, ", column,
                                             ", doc) VALUES (?1, ?2, ?3, ?4)")));
    st.BindText(1, id);
    st.BindText(2, tenant_id);
    bind_column(st);
    st.BindText(4, doc);
    return st.Run();
  });
  if (s.code() == absl::StatusCode::kFailedPrecondition) return NoTenant(tenant_id);
  return s;
}

// Replaces the document of the tenant's row `id` of `table` with what
// `rewrite` (string_view -> StatusOr<std::string>) makes of the stored one,
// and `column` with the value `bind_column` binds as ?3, in one transaction;
// `absent` when there is no such row.
template <typename Rewrite, typename BindColumn>
absl::Status UpdateRow(Database& db, absl::string_view table, absl::string_view column,
                       absl::string_view tenant_id, absl::string_view id, absl::Status absent,
                       Rewrite rewrite, BindColumn bind_column) {
  return db.Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                              ReadDoc(c, table, tenant_id, id));
    if (!stored.has_value()) return absent;
    ALERTHUB_ASSIGN_OR_RETURN(std::string doc, rewrite(*stored));
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare(absl::StrCat("UPDATE ", table, " SET ", column,
                                             " = ?3, doc = ?4 WHERE id = ?1 AND tenant_id = ?2")));
    st.BindText(1, id);
    st.BindText(2, tenant_id);
    bind_column(st);
    st.BindText(4, doc);
    return st.Run();
  });
}

// Deletes the tenant's row `id` of `table`; kNotFound (from `absent`) when
// there is none.
absl::Status DeleteRow(Database& db, absl::string_view table, absl::string_view tenant_id,
                       absl::string_view id, absl::Status absent) {
  return db.Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(absl::StrCat("DELETE FROM ", table, " WHERE id = ?1 AND tenant_id = ?2")));
    st.BindText(1, id);
    st.BindText(2, tenant_id);
    ALERTHUB_RETURN_IF_ERROR(st.Run());
    return st.Changes() == 0 ? absent : absl::OkStatus();
  });
}

// Another user of the tenant has this email (the unique index is on
// (tenant_id, email COLLATE NOCASE)), or the id is taken.
absl::Status UserConflict(const absl::Status& s, const User& u) {
  if (s.code() != absl::StatusCode::kAlreadyExists) return s;
  if (absl::StrContains(s.message(), "users.id")) {
    return absl::AlreadyExistsError(absl::StrCat("a user with id \"", u.id, "\" already exists"));
  }
  return absl::AlreadyExistsError(
      absl::StrCat("a user with email \"", u.email, "\" already exists"));
}

}  // namespace

// --- Rules ------------------------------------------------------------------------

absl::Status RuleUserTables::CreateRule(const Rule& rule) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(RuleToJson(rule), "rule"));
  absl::Status s = InsertRow(
      *db_, "rules", "position", rule.id, rule.tenant_id,
      [&](Statement& st) { st.BindInt64(3, rule.position); }, doc);
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(
        absl::StrCat("a rule with id \"", rule.id, "\" already exists"));
  }
  return s;
}

absl::StatusOr<Rule> RuleUserTables::GetRule(absl::string_view tenant_id,
                                             absl::string_view id) {
  return GetRow(*db_, "rules", tenant_id, id, NoRule(id), RuleFromDoc);
}

absl::StatusOr<std::vector<Rule>> RuleUserTables::ListRules(absl::string_view tenant_id) {
  std::vector<Rule> rules;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    rules.clear();
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT doc FROM rules WHERE tenant_id = ?1 "
                                "ORDER BY position, id"));
    st.BindText(1, tenant_id);
    while (true) {
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return absl::OkStatus();
      ALERTHUB_ASSIGN_OR_RETURN(Rule r, RuleFromDoc(st.ColumnText(0)));
      rules.push_back(std::move(r));
    }
  }));
  return rules;
}

absl::Status RuleUserTables::UpdateRule(const Rule& rule) {
  return UpdateRow(
      *db_, "rules", "position", rule.tenant_id, rule.id, NoRule(rule.id),
      [&](absl::string_view stored) -> absl::StatusOr<std::string> {
        ALERTHUB_ASSIGN_OR_RETURN(Rule current, RuleFromDoc(stored));
        Rule updated = rule;
        updated.created_at = current.created_at;
        return Dump(RuleToJson(updated), "rule");
      },
      [&](Statement& st) { st.BindInt64(3, rule.position); });
}

absl::Status RuleUserTables::DeleteRule(absl::string_view tenant_id, absl::string_view id) {
  return DeleteRow(*db_, "rules", tenant_id, id, NoRule(id));
}

// --- Users --------------------------------------------------------------------------

absl::Status RuleUserTables::CreateUser(const User& user) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(UserToJson(user), "user"));
  return UserConflict(InsertRow(
                          *db_, "users", "email", user.id, user.tenant_id,
                          [&](Statement& st) { st.BindText(3, user.email); }, doc),
                      user);
}

absl::StatusOr<User> RuleUserTables::GetUser(absl::string_view tenant_id,
                                             absl::string_view id) {
  return GetRow(*db_, "users", tenant_id, id, NoUser(id), UserFromDoc);
}

absl::StatusOr<Page<User>> RuleUserTables::ListUsers(absl::string_view tenant_id,
                                                     const PageRequest& page) {
  static const std::string sql =
      "SELECT doc FROM users WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
  return ReadPage<User>(
      *db_, sql, page,
      [&](Statement& st) {
        st.BindText(1, tenant_id);
        st.BindText(2, page.cursor);
        st.BindInt64(3, page.limit + 1);
      },
      [](const Statement& st) { return UserFromDoc(st.ColumnText(0)); });
}

absl::Status RuleUserTables::UpdateUser(const User& user) {
  absl::Status s = UpdateRow(
      *db_, "users", "email", user.tenant_id, user.id, NoUser(user.id),
      [&](absl::string_view stored) -> absl::StatusOr<std::string> {
        ALERTHUB_ASSIGN_OR_RETURN(User updated, UserFromDoc(stored));
        updated.email = user.email;
        updated.name = user.name;
        updated.role = user.role;
        updated.addresses = user.addresses;
        return Dump(UserToJson(updated), "user");
      },
      [&](Statement& st) { st.BindText(3, user.email); });
  return UserConflict(s, user);
}

absl::Status RuleUserTables::DeleteUser(absl::string_view tenant_id, absl::string_view id) {
  return DeleteRow(*db_, "users", tenant_id, id, NoUser(id));
}

absl::StatusOr<Preferences> RuleUserTables::GetPreferences(absl::string_view tenant_id,
                                                           absl::string_view user_id) {
  std::optional<absl::StatusOr<Preferences>> found;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT preferences FROM users WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, user_id);
    st.BindText(2, tenant_id);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) found = PreferencesFromColumn(st, 0);
    return absl::OkStatus();
  }));
  if (!found.has_value()) return NoUser(user_id);
  return *std::move(found);
}

absl::Status RuleUserTables::SetPreferences(absl::string_view tenant_id,
                                            absl::string_view user_id,
                                            const Preferences& preferences) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string doc,
                            Dump(PreferencesToJson(preferences), "preferences"));
  return db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("UPDATE users SET preferences = ?3 "
                                "WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, user_id);
    st.BindText(2, tenant_id);
    st.BindText(3, doc);
    ALERTHUB_RETURN_IF_ERROR(st.Run());
    return st.Changes() == 0 ? NoUser(user_id) : absl::OkStatus();
  });
}

absl::StatusOr<std::vector<Recipient>> RuleUserTables::GetRecipients(
    absl::string_view tenant_id, absl::Span<const std::string> user_ids) {
  std::vector<Recipient> out;
  if (user_ids.empty()) return out;
  // The ids travel as one JSON array parameter (json_each), so the statement
  // text, and its cache entry, is the same for any number of them. An id
  // that is not UTF-8 cannot name a user; it is replaced and matches none.
  const std::string ids =
      nlohmann::json(std::vector<std::string>(user_ids.begin(), user_ids.end()))
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  absl::flat_hash_map<std::string, Recipient> found;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    found.clear();
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT id, doc, preferences FROM users WHERE tenant_id = ?1 "
                  "AND id IN (SELECT value FROM json_each(?2))"));
    st.BindText(1, tenant_id);
    st.BindText(2, ids);
    while (true) {
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return absl::OkStatus();
      Recipient r;
      ALERTHUB_ASSIGN_OR_RETURN(r.user, UserFromDoc(st.ColumnText(1)));
      ALERTHUB_ASSIGN_OR_RETURN(r.preferences, PreferencesFromColumn(st, 2));
      found.emplace(std::string(st.ColumnText(0)), std::move(r));
    }
  }));
  // In the order given, each once.
  absl::flat_hash_set<absl::string_view> emitted;
  for (const std::string& id : user_ids) {
    auto it = found.find(id);
    if (it == found.end() || !emitted.insert(id).second) continue;
    out.push_back(it->second);
  }
  return out;
}

}  // namespace alerthub::sqlite_internal
