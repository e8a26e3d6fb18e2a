// Internal to the SQLite adapter: the rules and users tables (schema
// migration 3), users' preferences included. SqliteStore forwards the Store
// methods of the same names here; their contracts are in
// alerthub/ports/store.h.
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_RULE_USER_TABLES_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_RULE_USER_TABLES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/ports/store.h"

namespace alerthub::sqlite_internal {

class RuleUserTables {
 public:
  explicit RuleUserTables(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  absl::Status CreateRule(const Rule& rule);
  absl::StatusOr<Rule> GetRule(absl::string_view tenant_id, absl::string_view id);
  absl::StatusOr<std::vector<Rule>> ListRules(absl::string_view tenant_id);
  absl::Status UpdateRule(const Rule& rule);
  absl::Status DeleteRule(absl::string_view tenant_id, absl::string_view id);

  absl::Status CreateUser(const User& user);
  absl::StatusOr<User> GetUser(absl::string_view tenant_id, absl::string_view id);
  absl::StatusOr<Page<User>> ListUsers(absl::string_view tenant_id, const PageRequest& page);
  absl::Status UpdateUser(const User& user);
  absl::Status DeleteUser(absl::string_view tenant_id, absl::string_view id);
  absl::StatusOr<Preferences> GetPreferences(absl::string_view tenant_id,
                                             absl::string_view user_id);
  absl::Status SetPreferences(absl::string_view tenant_id, absl::string_view user_id,
                              const Preferences& preferences);
  absl::StatusOr<std::vector<Recipient>> GetRecipients(absl::string_view tenant_id,
                                                       absl::Span<const std::string> user_ids);

 private:
  const std::shared_ptr<Database> db_;
};

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_RULE_USER_TABLES_H_
