// Internal to the PostgreSQL adapter: users' password hashes and refresh
// tokens (schema migration 4, "auth_sessions"). PostgresStore forwards the
// Store methods of the same names here; their contracts are in
// alerthub/ports/store.h ("Auth sessions").
#ifndef ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_AUTH_H_
#define ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_AUTH_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/adapters/postgres/internal/database.h"
#include "alerthub/ports/store.h"

namespace alerthub::postgres_internal {

class PostgresAuthTables {
 public:
  // Decodes a users.doc column (the store's own decoder).
  using UserDecoder = absl::StatusOr<User> (*)(absl::string_view doc);

  PostgresAuthTables(std::shared_ptr<Database> db, UserDecoder user_from_doc)
      : db_(std::move(db)), user_from_doc_(user_from_doc) {}

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
  const UserDecoder user_from_doc_;
};

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_POSTGRES_STORE_AUTH_H_
