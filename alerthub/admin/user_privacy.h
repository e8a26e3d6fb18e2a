// GDPR for one user (UserService.ExportUser / EraseUser and their REST
// routes), transport-free: the gRPC service and the REST routes both call it
// with the caller's Principal.
//
//   UserPrivacy privacy(store, clock);
//   ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json all, privacy.Export(who, user_id));
//   ALERTHUB_RETURN_IF_ERROR(privacy.Erase(who, user_id));
//
// Both need Permission::kManageTenant (owners). Callers open an AuditScope
// ("user.export", "user.erase") around each call: the erase's record is
// written in the erasing transaction.
//
// Thread-safe.
#ifndef ALERTHUB_ADMIN_USER_PRIVACY_H_
#define ALERTHUB_ADMIN_USER_PRIVACY_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/auth/principal.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"
#include "nlohmann/json.hpp"

namespace alerthub {

class UserPrivacy {
 public:
  // `store` and `clock` must outlive this.
  UserPrivacy(Store* store, Clock* clock) : store_(store), clock_(clock) {}

  // Everything the tenant holds about the user, as one JSON document: the
  // profile (with addresses), preferences, login sessions (times only, never
  // token hashes or the password hash), the notifications addressed to them
  // and their deliveries (with attempt events), and the audit records whose
  // target is the user. Other recipients of a shared notification are
  // counted, not named, and their deliveries' attempts are left out. The
  // document's shape: docs/api.md, "Personal data (GDPR)". kNotFound when
  // absent or another tenant's; kPermissionDenied below owner.
  absl::StatusOr<nlohmann::json> Export(const Principal& who, absl::string_view user_id);

  // Removes the user's personal data everywhere, in ONE store transaction:
  // the user, their password, preferences and sessions are deleted; their
  // pending and held deliveries are suppressed ("recipient erased"); their
  // deliveries' stored errors and attempt responses are cleared (including
  // the dead-letter queue); the notifications addressed to them keep their
  // ids and statuses but lose the user's id from their recipients and, when
  // the user was their only recipient, their title, body, data and tags
  // (Store::EraseUser has the details). Before that write it describes the
  // change to the open AuditScope: {"id", "role"} of the user, nothing
  // personal. kNotFound when absent or another tenant's; kPermissionDenied
  // below owner.
  absl::Status Erase(const Principal& who, absl::string_view user_id);

 private:
  Store* const store_;
  Clock* const clock_;
};

}  // namespace alerthub

#endif  // ALERTHUB_ADMIN_USER_PRIVACY_H_
