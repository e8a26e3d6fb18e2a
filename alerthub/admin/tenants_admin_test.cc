#include "alerthub/admin/tenants_admin.h"

#include <memory>
#include <string>
#include <vector>

#include "alerthub/common/status.h"
#include "alerthub/ports/store_wrapper.h"
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

// While `fail_keys` is set, stores API keys only after a failure: the
// tenant-and-key transaction fails as a whole, as a real store's does when
// its key insert fails (the store contract checks that atomicity).
class KeyFailingStore : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  absl::Status CreateApiKey(const ApiKey& key) override {
    if (fail_keys) return absl::UnavailableError("database down");
    return StoreWrapper::CreateApiKey(key);
  }
  absl::Status CreateTenantWithKey(const Tenant& tenant, const ApiKey& first_key) override {
    if (fail_keys) return absl::UnavailableError("database down");
    return StoreWrapper::CreateTenantWithKey(tenant, first_key);
  }
  bool fail_keys = false;
};

class TenantsAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform_ = db_.AddTenant("default");
    acme_ = db_.tenant_id();
    auth_ = std::make_unique<ApiKeyAuthenticator>(&store_);
    admin_ = std::make_unique<TenantsAdmin>(&store_, auth_.get(), &clock_);
  }

  static Principal As(Role role, const std::string& tenant) {
    Principal p;
    p.tenant_id = tenant;
    p.role = role;
    p.subject = "test";
    return p;
  }
  Principal Operator() const { return As(Role::kOwner, platform_); }
  bool IsOperator(const Principal& who) {
    absl::StatusOr<bool> is = admin_->IsPlatformOperator(who);
    EXPECT_OK(is.status());
    return is.ok() && *is;
  }

  std::vector<std::string> Names(const Page<Tenant>& page) {
    std::vector<std::string> names;
    for (const Tenant& t : page.items) names.push_back(t.name);
    return names;
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  KeyFailingStore store_{db_.store()};
  std::string platform_, acme_;
  std::unique_ptr<ApiKeyAuthenticator> auth_;
  std::unique_ptr<TenantsAdmin> admin_;
};

TEST_F(TenantsAdminTest, OwnersOfThePlatformTenantAreOperatorsOthersAreNot) {
  EXPECT_TRUE(IsOperator(Operator()));
  EXPECT_FALSE(IsOperator(As(Role::kAdmin, platform_)));
  EXPECT_FALSE(IsOperator(As(Role::kOwner, acme_)));
  Principal flagged = As(Role::kOwner, acme_);
  flagged.platform_operator = true;
  EXPECT_TRUE(IsOperator(flagged));
}

TEST_F(TenantsAdminTest, CreateReturnsTheFirstOwnerKeyOnceAndItWorks) {
  TenantSettings settings;
  settings.rate_limit_per_second = 5;
  ASSERT_OK_AND_ASSIGN(TenantsAdmin::Created c, admin_->Create(Operator(), "globex", settings));
  EXPECT_EQ(c.tenant.name, "globex");
  EXPECT_EQ(c.tenant.settings.rate_limit_per_second, 5);
  EXPECT_EQ(c.tenant.created_at, clock_.Now());
  EXPECT_THAT(c.owner_key_plaintext, StartsWith("ahk_"));
  EXPECT_EQ(c.owner_key.role, Role::kOwner);
  EXPECT_EQ(c.owner_key.tenant_id, c.tenant.id);

  ASSERT_OK_AND_ASSIGN(Principal who, auth_->Authenticate(c.owner_key_plaintext));
  EXPECT_EQ(who.tenant_id, c.tenant.id);
  EXPECT_EQ(who.role, Role::kOwner);
  // The new tenant's owner is no operator: it sees its own tenant only.
  EXPECT_FALSE(IsOperator(who));
  ASSERT_OK_AND_ASSIGN(Tenant own, admin_->Get(who, c.tenant.id));
  EXPECT_EQ(own.name, "globex");
  EXPECT_THAT(admin_->Get(who, platform_), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(admin_->List(who, {}), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(admin_->Create(who, "x", {}), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(admin_->Delete(who, c.tenant.id), StatusIs(StatusCode::kPermissionDenied));

  EXPECT_THAT(admin_->Create(Operator(), "globex", {}), StatusIs(StatusCode::kAlreadyExists));
}

TEST_F(TenantsAdminTest, OnlyOperatorsCreateListAndDelete) {
  for (Role role : {Role::kOwner, Role::kAdmin, Role::kMember, Role::kViewer}) {
    EXPECT_THAT(admin_->Create(As(role, acme_), "x", {}), StatusIs(StatusCode::kPermissionDenied));
    EXPECT_THAT(admin_->List(As(role, acme_), {}), StatusIs(StatusCode::kPermissionDenied));
    EXPECT_THAT(admin_->Delete(As(role, acme_), acme_), StatusIs(StatusCode::kPermissionDenied));
  }
  // Members and admins of the platform tenant are not operators either.
  EXPECT_THAT(admin_->Create(As(Role::kMember, platform_), "x", {}),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(admin_->Create(As(Role::kAdmin, platform_), "x", {}),
              StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(TenantsAdminTest, CreateNamesEveryBadField) {
  TenantSettings settings;
  settings.rate_limit_per_second = -1;
  settings.dedup_window = absl::Seconds(-5);
  absl::StatusOr<TenantsAdmin::Created> c = admin_->Create(Operator(), "Bad Name", settings);
  EXPECT_THAT(c, StatusIs(StatusCode::kInvalidArgument));
  std::vector<std::string> fields;
  for (const FieldError& e : FieldErrorsOf(c.status())) fields.push_back(e.field);
  EXPECT_THAT(fields, ElementsAre("name", "settings.rate_limit_per_second",
                                  "settings.dedup_window"));
}

TEST_F(TenantsAdminTest, CreateLeavesNoTenantWithoutAnOwnerKey) {
  store_.fail_keys = true;
  EXPECT_THAT(admin_->Create(Operator(), "half", {}), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(db_.store()->GetTenantByName("half"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Page<Tenant> all, admin_->List(Operator(), {}));
  EXPECT_THAT(Names(all), ElementsAre("acme", "default"));
}

TEST_F(TenantsAdminTest, ListPagesLiveTenantsById) {
  ASSERT_OK_AND_ASSIGN(Page<Tenant> first, admin_->List(Operator(), {.cursor = "", .limit = 1}));
  EXPECT_THAT(Names(first), ElementsAre("acme"));
  EXPECT_TRUE(first.has_more);
  ASSERT_OK_AND_ASSIGN(Page<Tenant> second,
                       admin_->List(Operator(), {.cursor = first.items[0].id, .limit = 1}));
  EXPECT_THAT(Names(second), ElementsAre("default"));
  EXPECT_FALSE(second.has_more);
  absl::StatusOr<Page<Tenant>> bad = admin_->List(Operator(), {.cursor = "", .limit = 501});
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(FieldErrorsOf(bad.status()), ElementsAre(FieldError{"page_size", "must be 1-500"}));
}

TEST_F(TenantsAdminTest, OwnersUpdateTheirOwnTenantOnly) {
  TenantUpdate update;
  update.rate_limit_burst = 20;
  ASSERT_OK_AND_ASSIGN(Tenant t, admin_->Update(As(Role::kOwner, acme_), acme_, update));
  EXPECT_EQ(t.name, "acme");
  EXPECT_EQ(t.settings.rate_limit_burst, 20);
  EXPECT_EQ(t.settings.rate_limit_per_second, 0);  // not in the update: kept
  ASSERT_OK_AND_ASSIGN(Tenant stored, db_.store()->GetTenant(acme_));
  EXPECT_EQ(stored.settings.rate_limit_burst, 20);

  EXPECT_THAT(admin_->Update(As(Role::kAdmin, acme_), acme_, update),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(admin_->Update(As(Role::kOwner, acme_), platform_, update),
              StatusIs(StatusCode::kNotFound));
  // A viewer reads its tenant.
  EXPECT_OK(admin_->Get(As(Role::kViewer, acme_), acme_).status());

  update = TenantUpdate{};
  update.name = "acme-corp";
  update.dedup_window = std::optional<absl::Duration>(absl::ZeroDuration());
  ASSERT_OK_AND_ASSIGN(t, admin_->Update(Operator(), acme_, update));
  EXPECT_EQ(t.name, "acme-corp");
  EXPECT_EQ(t.settings.dedup_window, absl::ZeroDuration());
  EXPECT_EQ(t.settings.rate_limit_burst, 20);

  update.name = "default";
  EXPECT_THAT(admin_->Update(Operator(), acme_, update), StatusIs(StatusCode::kAlreadyExists));
  update.name = "-bad";
  absl::StatusOr<Tenant> bad = admin_->Update(Operator(), acme_, update);
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldErrorsOf(bad.status()).size(), 1u);
  EXPECT_EQ(FieldErrorsOf(bad.status())[0].field, "name");
}

TEST_F(TenantsAdminTest, ThePlatformTenantCannotBeRenamedOrDeleted) {
  TenantUpdate rename;
  rename.name = "platform";
  EXPECT_THAT(admin_->Update(Operator(), platform_, rename),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("renamed")));
  TenantUpdate limits;
  limits.rate_limit_per_second = 100;
  EXPECT_OK(admin_->Update(Operator(), platform_, limits).status());
  EXPECT_THAT(admin_->Delete(Operator(), platform_), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_OK(db_.store()->GetTenant(platform_).status());
}

TEST_F(TenantsAdminTest, DeleteRevokesTheTenantsKeysAtOnceAndHidesIt) {
  ASSERT_OK_AND_ASSIGN(TenantsAdmin::Created c, admin_->Create(Operator(), "globex", {}));
  // Cached in this process before the delete.
  ASSERT_OK(auth_->Authenticate(c.owner_key_plaintext).status());
  ASSERT_OK(admin_->Delete(Operator(), c.tenant.id));
  EXPECT_THAT(auth_->Authenticate(c.owner_key_plaintext),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(admin_->Get(Operator(), c.tenant.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(admin_->Delete(Operator(), c.tenant.id), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Page<Tenant> all, admin_->List(Operator(), {}));
  EXPECT_THAT(Names(all), ElementsAre("acme", "default"));
  // The name stays taken.
  EXPECT_THAT(admin_->Create(Operator(), "globex", {}), StatusIs(StatusCode::kAlreadyExists));
}

}  // namespace
}  // namespace alerthub
