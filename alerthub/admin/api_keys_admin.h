// The admin API's API-key management (ApiKeyService), transport-free: the
// gRPC service and the REST routes both call it with the caller's
// Principal.
//
//   ApiKeysAdmin admin(store, &authenticator, clock);
//   ALERTHUB_ASSIGN_OR_RETURN(ApiKeysAdmin::Created k,
//                             admin.Create(who, "ci deploys", Role::kMember));
//   // k.plaintext is shown once; only its SHA-256 is stored.
//
// Every call needs Permission::kManageApiKeys; a key's role may not exceed
// the caller's (AuthorizeGrant). Revocation takes effect at once in this
// process (the authenticator's cache entry is dropped) and, in others,
// within their authenticator's cache TTL.
//
// Thread-safe.
#ifndef ALERTHUB_ADMIN_API_KEYS_ADMIN_H_
#define ALERTHUB_ADMIN_API_KEYS_ADMIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/auth/api_keys.h"
#include "alerthub/auth/principal.h"
#include "alerthub/model/tenant.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"

namespace alerthub {

class ApiKeysAdmin {
 public:
  static constexpr size_t kMaxNameLength = 128;

  // `store`, `authenticator` and `clock` must outlive this. `authenticator`
  // may be null (nothing cached to invalidate).
  ApiKeysAdmin(Store* store, ApiKeyAuthenticator* authenticator, Clock* clock);

  struct Created {
    ApiKey key;             // as stored (no plaintext)
    std::string plaintext;  // "ahk_...": shown once
  };
  // kInvalidArgument with field errors ("name"); kPermissionDenied.
  absl::StatusOr<Created> Create(const Principal& who, absl::string_view name, Role role);

  // The tenant's keys whose prefix starts with `prefix`, newest first; the
  // page cursor is the last id seen. kInvalidArgument for a limit outside
  // 1-500.
  absl::StatusOr<Page<ApiKey>> List(const Principal& who, absl::string_view prefix,
                                    const PageRequest& page);

  // Revokes the tenant's key `id` (idempotent) and returns it. kNotFound for
  // another tenant's or an unknown id.
  absl::StatusOr<ApiKey> Revoke(const Principal& who, absl::string_view id);

 private:
  absl::StatusOr<ApiKey> Find(absl::string_view tenant_id, absl::string_view id);

  Store* const store_;
  ApiKeyAuthenticator* const authenticator_;
  Clock* const clock_;
};

}  // namespace alerthub

#endif  // ALERTHUB_ADMIN_API_KEYS_ADMIN_H_
