// Role-based access control: the one table every route and RPC consults
// (ARCHITECTURE §4, Auth). Roles are ordered owner > admin > member >
// viewer: viewers read, members also send, admins also manage integrations,
// templates, rules, users and keys, owners also manage the tenant and its
// owners. Managing tenants themselves is for platform operators: owners of
// the bootstrap tenant.
//
//   ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kManageRules));
#ifndef ALERTHUB_AUTH_RBAC_H_
#define ALERTHUB_AUTH_RBAC_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "alerthub/auth/principal.h"
#include "alerthub/model/tenant.h"

namespace alerthub {

enum class Permission {
  kReadNotifications,   // notifications, their events, deliveries, the WebSocket
  kSendNotifications,   // submit, batch, cancel
  kReadConfiguration,   // integrations, templates, rules, users (secrets redacted)
  kReadAnalytics,       // stats and delivery metrics
  kManageIntegrations,  // integrations, templates, delivery replay and tests
  kManageRules,         // rules and their dry run
  kManageUsers,         // users and their preferences (not owners)
  kManageApiKeys,       // create, list, revoke keys
  kReadAudit,           // the audit log
  kManageTenant,        // the tenant's settings, its owners, GDPR export/erase
  kManageTenants,       // create, list, delete tenants (platform operators)
};

// The least role that holds `p`.
Role MinimumRole(Permission p);

// For messages and audit records: "manage rules".
absl::string_view PermissionName(Permission p);

// True when `have` is `need` or above it.
bool RoleAtLeast(Role have, Role need);

// OK when `who` holds `p`; kPermissionDenied naming the permission and the
// role it needs otherwise.
absl::Status Authorize(const Principal& who, Permission p);

// Whether `who` may give someone (a user or an API key) `role`: nobody may
// grant a role above their own, and only owners grant owner.
absl::Status AuthorizeGrant(const Principal& who, Role role);

}  // namespace alerthub

#endif  // ALERTHUB_AUTH_RBAC_H_
