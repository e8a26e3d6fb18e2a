#include "alerthub/auth/rbac.h"

#include "absl/strings/str_cat.h"

namespace alerthub {

Role MinimumRole(Permission p) {
  switch (p) {
    case Permission::kReadNotifications:
    case Permission::kReadConfiguration:
    case Permission::kReadAnalytics:
      return Role::kViewer;
    case Permission::kSendNotifications:
      return Role::kMember;
    case Permission::kManageIntegrations:
    case Permission::kManageRules:
    case Permission::kManageUsers:
    case Permission::kManageApiKeys:
    case Permission::kReadAudit:
      return Role::kAdmin;
    case Permission::kManageTenant:
    case Permission::kManageTenants:
      return Role::kOwner;
  }
  return Role::kOwner;  // unreachable: the least privilege wins
}

absl::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kReadNotifications: return "read notifications";
    case Permission::kSendNotifications: return "send notifications";
    case Permission::kReadConfiguration: return "read configuration";
    case Permission::kReadAnalytics: return "read analytics";
    case Permission::kManageIntegrations: return "manage integrations";
    case Permission::kManageRules: return "manage rules";
    case Permission::kManageUsers: return "manage users";
    case Permission::kManageApiKeys: return "manage API keys";
    case Permission::kReadAudit: return "read the audit log";
    case Permission::kManageTenant: return "manage the tenant";
    case Permission::kManageTenants: return "manage tenants";
  }
  return "?";
}

// Role values run from owner (1) to viewer (4).
bool RoleAtLeast(Role have, Role need) {
  return static_cast<int>(have) <= static_cast<int>(need);
}

absl::Status Authorize(const Principal& who, Permission p) {
  const Role need = MinimumRole(p);
  if (!RoleAtLeast(who.role, need)) {
    return absl::PermissionDeniedError(absl::StrCat("role ", RoleName(who.role), " may not ",
                                                    PermissionName(p), " (needs ",
                                                    RoleName(need), ")"));
  }
  if (p == Permission::kManageTenants && !who.platform_operator) {
    return absl::PermissionDeniedError(
        "only owners of the bootstrap tenant (platform operators) may manage tenants");
  }
  return absl::OkStatus();
}

absl::Status AuthorizeGrant(const Principal& who, Role role) {
  if (!RoleAtLeast(who.role, role)) {
    return absl::PermissionDeniedError(absl::StrCat("role ", RoleName(who.role),
                                                    " may not grant role ", RoleName(role)));
  }
  if (role == Role::kOwner && who.role != Role::kOwner) {
    return absl::PermissionDeniedError("only owners may grant role owner");
  }
  return absl::OkStatus();
}

}  // namespace alerthub
