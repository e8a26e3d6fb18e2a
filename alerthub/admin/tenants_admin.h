// The admin API's tenant management (TenantService), transport-free: the
// gRPC service and the REST routes both call it with the caller's
// Principal.
//
//   TenantsAdmin admin(store, &authenticator, clock);
//   ALERTHUB_ASSIGN_OR_RETURN(TenantsAdmin::Created c,
//                             admin.Create(operator_principal, "acme", {}));
//   // c.owner_key_plaintext is shown once; only its SHA-256 is stored.
//
// Platform operators — owners of the platform tenant, the one named
// "default" that the all-in-one daemon bootstraps (or any principal whose
// platform_operator flag is set) — may create, list, get, update and delete
// any tenant. Every other credential sees only its own tenant: it may get
// it (any role) and update it (owner, Permission::kManageTenant); any other
// tenant's id is kNotFound (never kPermissionDenied: ids of other tenants
// are not confirmed), and create, list and delete are kPermissionDenied.
//
// The platform tenant can be neither deleted nor renamed (the bootstrap
// finds it by name: a rename would make the next start create a second
// one). Deleting a tenant is the Store's soft delete (ports/store.h,
// "Tenant administration"): its API keys stop working at once in this
// process and within the authenticator's cache TTL in others.
//
// Thread-safe.
#ifndef ALERTHUB_ADMIN_TENANTS_ADMIN_H_
#define ALERTHUB_ADMIN_TENANTS_ADMIN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/auth/api_keys.h"
#include "alerthub/auth/principal.h"
#include "alerthub/common/status.h"
#include "alerthub/model/tenant.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"

namespace alerthub {

// The fields an update replaces; unset ones are kept as stored.
struct TenantUpdate {
  std::optional<std::string> name;
  std::optional<double> rate_limit_per_second;
  std::optional<double> rate_limit_burst;
  // Set to std::nullopt to restore the default window.
  std::optional<std::optional<absl::Duration>> dedup_window;
};

class TenantsAdmin {
 public:
  // The name of the tenant whose owners are platform operators.
  static constexpr absl::string_view kPlatformTenantName = "default";

  // `store`, `authenticator` and `clock` must outlive this. `authenticator`
  // may be null (nothing cached to invalidate).
  TenantsAdmin(Store* store, ApiKeyAuthenticator* authenticator, Clock* clock);

  struct Created {
    Tenant tenant;
    ApiKey owner_key;                 // as stored (no plaintext)
    std::string owner_key_plaintext;  // "ahk_...": shown once
  };
  // Platform operators only. Creates the tenant and its first owner API
  // key in one transaction (Store::CreateTenantWithKey), so no tenant is
  // ever without an owner key. kInvalidArgument with field
  // errors ("name", "settings.*"); kAlreadyExists when the name is taken
  // (by a live or a deleted tenant); kPermissionDenied.
  absl::StatusOr<Created> Create(const Principal& who, absl::string_view name,
                                 const TenantSettings& settings);

  // kNotFound for an unknown id and, unless `who` is a platform operator,
  // for any tenant but its own.
  absl::StatusOr<Tenant> Get(const Principal& who, absl::string_view id);

  // Replaces the fields `update` sets and returns the tenant as stored.
  // kNotFound as Get; kPermissionDenied below owner; kInvalidArgument with
  // field errors; kAlreadyExists when the new name is taken;
  // kFailedPrecondition when renaming the platform tenant.
  absl::StatusOr<Tenant> Update(const Principal& who, absl::string_view id,
                                const TenantUpdate& update);

  // Platform operators only: live tenants by ascending id; the page cursor
  // is the last id seen. kInvalidArgument ("page_size") for a limit outside
  // 1-500.
  absl::StatusOr<Page<Tenant>> List(const Principal& who, const PageRequest& page);

  // Platform operators only: soft-deletes the tenant and revokes its API
  // keys. kNotFound for an unknown or deleted id; kFailedPrecondition for
  // the platform tenant.
  absl::Status Delete(const Principal& who, absl::string_view id);

  // Whether `who` is a platform operator (see the file comment).
  absl::StatusOr<bool> IsPlatformOperator(const Principal& who);

 private:
  // `who` with platform_operator resolved.
  absl::StatusOr<Principal> Resolve(const Principal& who);
  // The id of the platform tenant; empty when there is none.
  absl::StatusOr<std::string> PlatformTenantId();

  Store* const store_;
  ApiKeyAuthenticator* const authenticator_;
  Clock* const clock_;
};

// Field errors for `settings` ("settings.rate_limit_per_second", ...).
void ValidateTenantSettings(const TenantSettings& settings, std::vector<FieldError>* errors);

}  // namespace alerthub

#endif  // ALERTHUB_ADMIN_TENANTS_ADMIN_H_
