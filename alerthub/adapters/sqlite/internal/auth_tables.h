// Internal to the SQLite adapter: users' password hashes and refresh tokens
// (schema migration 4, "auth_sessions"). SqliteStore forwards the Store
// methods of the same names here; their contracts are in
// alerthub/ports/store.h ("Auth sessions").
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_AUTH_TABLES_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_AUTH_TABLES_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/ports/store.h"

namespace alerthub::sqlite_internal {

// The SQL of migration 4, "auth_sessions" (schema.cc lists it).
extern const char kAuthSessionsMigrationSql[];

class AuthTables {
 public:
  explicit AuthTables(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  absl::Status SetUserPassword(absl::string_view tenant_id, absl::string_view user_id,
                               absl::string_view password_hash, absl::Time at);
  absl::StatusOr<LoginRecord> FindLoginUser(absl::string_view tenant_id,
                                            absl::string_view email);
  absl::Status CreateRefreshToken(const RefreshToken& token);
  absl::StatusOr<RefreshRotation> RotateRefreshToken(absl::string_view presented_hash,
                                                     absl::string_view successor_hash,
                                                     absl::Time successor_expires_at,
                                                     absl::Time now);
  absl::StatusOr<RefreshToken> RevokeRefreshFamily(absl::string_view token_hash, absl::Time at);
  absl::StatusOr<RefreshToken> FindRefreshToken(absl::string_view token_hash);

 private:
  const std::shared_ptr<Database> db_;
};

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_AUTH_TABLES_H_
