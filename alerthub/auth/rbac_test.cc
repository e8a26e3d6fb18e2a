#include "alerthub/auth/rbac.h"

#include <vector>

#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

Principal As(Role role, bool platform_operator = false) {
  Principal p;
  p.tenant_id = "t1";
  p.role = role;
  p.subject = "test";
  p.platform_operator = platform_operator;
  return p;
}

// The whole table, role by role: true = allowed.
TEST(RbacTest, EveryPermissionForEveryRole) {
  struct Row {
    Permission permission;
    bool owner, admin, member, viewer;
  };
  const std::vector<Row> table = {
      {Permission::kReadNotifications, true, true, true, true},
      {Permission::kReadConfiguration, true, true, true, true},
      {Permission::kReadAnalytics, true, true, true, true},
      {Permission::kSendNotifications, true, true, true, false},
      {Permission::kManageIntegrations, true, true, false, false},
      {Permission::kManageRules, true, true, false, false},
      {Permission::kManageUsers, true, true, false, false},
      {Permission::kManageApiKeys, true, true, false, false},
      {Permission::kReadAudit, true, true, false, false},
      {Permission::kManageTenant, true, false, false, false},
  };
  for (const Row& r : table) {
    const std::vector<std::pair<Role, bool>> cells = {{Role::kOwner, r.owner},
                                                      {Role::kAdmin, r.admin},
                                                      {Role::kMember, r.member},
                                                      {Role::kViewer, r.viewer}};
    for (const auto& [role, allowed] : cells) {
      absl::Status s = Authorize(As(role), r.permission);
      EXPECT_EQ(s.ok(), allowed) << PermissionName(r.permission) << " as " << RoleName(role);
      if (!allowed) {
        EXPECT_THAT(s, StatusIs(StatusCode::kPermissionDenied,
                                HasSubstr(PermissionName(r.permission))));
      }
    }
  }
}

TEST(RbacTest, OnlyPlatformOperatorsManageTenants) {
  EXPECT_OK(Authorize(As(Role::kOwner, true), Permission::kManageTenants));
  EXPECT_THAT(Authorize(As(Role::kOwner, false), Permission::kManageTenants),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("platform operators")));
  // The flag alone is not enough: the role must be owner.
  EXPECT_THAT(Authorize(As(Role::kAdmin, true), Permission::kManageTenants),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("needs owner")));
}

TEST(RbacTest, NobodyGrantsAboveTheirOwnRole) {
  EXPECT_OK(AuthorizeGrant(As(Role::kOwner), Role::kOwner));
  EXPECT_OK(AuthorizeGrant(As(Role::kAdmin), Role::kAdmin));
  EXPECT_OK(AuthorizeGrant(As(Role::kAdmin), Role::kViewer));
  EXPECT_THAT(AuthorizeGrant(As(Role::kAdmin), Role::kOwner),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(AuthorizeGrant(As(Role::kMember), Role::kAdmin),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("may not grant role admin")));
}

TEST(RbacTest, RoleOrder) {
  EXPECT_TRUE(RoleAtLeast(Role::kOwner, Role::kViewer));
  EXPECT_TRUE(RoleAtLeast(Role::kMember, Role::kMember));
  EXPECT_FALSE(RoleAtLeast(Role::kViewer, Role::kMember));
  EXPECT_EQ(MinimumRole(Permission::kSendNotifications), Role::kMember);
}

}  // namespace
}  // namespace alerthub
