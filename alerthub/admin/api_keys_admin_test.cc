#include "alerthub/admin/api_keys_admin.h"

#include <memory>
#include <string>
#include <vector>

#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ApiKeysAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tenant_ = db_.tenant_id();
    other_ = db_.AddTenant("other");
    auth_ = std::make_unique<ApiKeyAuthenticator>(db_.store());
    admin_ = std::make_unique<ApiKeysAdmin>(db_.store(), auth_.get(), &clock_);
  }

  Principal As(Role role, const std::string& tenant = "") const {
    Principal p;
    p.tenant_id = tenant.empty() ? tenant_ : tenant;
    p.role = role;
    p.subject = "test";
    return p;
  }

  std::vector<std::string> Names(const Page<ApiKey>& page) {
    std::vector<std::string> names;
    for (const ApiKey& k : page.items) names.push_back(k.name);
    return names;
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  std::string tenant_, other_;
  std::unique_ptr<ApiKeyAuthenticator> auth_;
  std::unique_ptr<ApiKeysAdmin> admin_;
};

TEST_F(ApiKeysAdminTest, CreatedKeysAuthenticateWithTheirRoleAndArePrintedOnce) {
  ASSERT_OK_AND_ASSIGN(ApiKeysAdmin::Created k, admin_->Create(As(Role::kAdmin), "ci", Role::kMember));
  EXPECT_THAT(k.plaintext, StartsWith("ahk_"));
  EXPECT_EQ(k.key.name, "ci");
  EXPECT_EQ(k.key.role, Role::kMember);
  EXPECT_EQ(k.plaintext.substr(0, k.key.prefix.size()), k.key.prefix);
  EXPECT_NE(k.key.key_hash, k.plaintext);
  ASSERT_OK_AND_ASSIGN(Principal who, auth_->Authenticate(k.plaintext));
  EXPECT_EQ(who.tenant_id, tenant_);
  EXPECT_EQ(who.role, Role::kMember);
}

TEST_F(ApiKeysAdminTest, RolesLimitWhoManagesKeysAndWhatTheyGrant) {
  for (Role r : {Role::kMember, Role::kViewer}) {
    EXPECT_THAT(admin_->Create(As(r), "x", Role::kViewer),
                StatusIs(StatusCode::kPermissionDenied, HasSubstr("manage API keys")));
    EXPECT_THAT(admin_->List(As(r), "", {}), StatusIs(StatusCode::kPermissionDenied));
  }
  EXPECT_THAT(admin_->Create(As(Role::kAdmin), "x", Role::kOwner),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("owner")));
  EXPECT_OK(admin_->Create(As(Role::kOwner), "x", Role::kOwner).status());
  EXPECT_THAT(admin_->Create(As(Role::kOwner), "", Role::kMember),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(admin_->Create(As(Role::kOwner), std::string(129, 'n'), Role::kMember),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(ApiKeysAdminTest, ListsNewestFirstByPrefixInPages) {
  std::vector<ApiKeysAdmin::Created> made;
  for (const char* name : {"a", "b", "c"}) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_OK_AND_ASSIGN(ApiKeysAdmin::Created k, admin_->Create(As(Role::kOwner), name, Role::kMember));
    made.push_back(k);
  }
  ASSERT_OK(admin_->Create(As(Role::kOwner, other_), "foreign", Role::kMember).status());

  ASSERT_OK_AND_ASSIGN(Page<ApiKey> first, admin_->List(As(Role::kAdmin), "", {.cursor = "", .limit = 2}));
  EXPECT_THAT(Names(first), ElementsAre("c", "b"));
  EXPECT_TRUE(first.has_more);
  ASSERT_OK_AND_ASSIGN(Page<ApiKey> second,
                       admin_->List(As(Role::kAdmin), "", {.cursor = first.items.back().id, .limit = 2}));
  EXPECT_THAT(Names(second), ElementsAre("a"));
  EXPECT_FALSE(second.has_more);

  ASSERT_OK_AND_ASSIGN(Page<ApiKey> by_prefix,
                       admin_->List(As(Role::kAdmin), made[1].key.prefix, {}));
  EXPECT_THAT(Names(by_prefix), ElementsAre("b"));
  EXPECT_THAT(admin_->List(As(Role::kAdmin), "", {.cursor = "", .limit = 0}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(ApiKeysAdminTest, RevocationTakesEffectAtOnceAndStaysInTheTenant) {
  ASSERT_OK_AND_ASSIGN(ApiKeysAdmin::Created k, admin_->Create(As(Role::kOwner), "ci", Role::kMember));
  ASSERT_OK(auth_->Authenticate(k.plaintext).status());  // now cached

  EXPECT_THAT(admin_->Revoke(As(Role::kOwner, other_), k.key.id),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK(auth_->Authenticate(k.plaintext).status());

  ASSERT_OK_AND_ASSIGN(ApiKey revoked, admin_->Revoke(As(Role::kAdmin), k.key.id));
  EXPECT_TRUE(revoked.revoked_at.has_value());
  EXPECT_THAT(auth_->Authenticate(k.plaintext),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("revoked")));
  // Idempotent.
  EXPECT_OK(admin_->Revoke(As(Role::kAdmin), k.key.id).status());
  EXPECT_THAT(admin_->Revoke(As(Role::kAdmin), "nope"), StatusIs(StatusCode::kNotFound));

  // An admin cannot revoke an owner's key.
  ASSERT_OK_AND_ASSIGN(ApiKeysAdmin::Created owner, admin_->Create(As(Role::kOwner), "root", Role::kOwner));
  EXPECT_THAT(admin_->Revoke(As(Role::kAdmin), owner.key.id),
              StatusIs(StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace alerthub
