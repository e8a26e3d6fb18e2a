#include "alerthub/server/grpc/tenant_service.h"

#include <memory>
#include <string>

#include "alerthub/common/status.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

pb::UpdateTenantRequest Request(std::initializer_list<const char*> paths) {
  pb::UpdateTenantRequest r;
  r.mutable_tenant()->set_id("t1");
  r.mutable_tenant()->set_name("renamed");
  r.mutable_tenant()->mutable_settings()->set_rate_limit_per_second(3);
  r.mutable_tenant()->mutable_settings()->set_rate_limit_burst(9);
  for (const char* p : paths) r.mutable_update_mask()->add_paths(p);
  return r;
}

TEST(TenantUpdateFromRequestTest, OnlyMaskedFieldsChange) {
  ASSERT_OK_AND_ASSIGN(TenantUpdate u,
                       TenantUpdateFromRequest(Request({"settings.rate_limit_burst"})));
  EXPECT_EQ(u.name, std::nullopt);
  EXPECT_EQ(u.rate_limit_per_second, std::nullopt);
  EXPECT_EQ(u.rate_limit_burst, 9);
  EXPECT_FALSE(u.dedup_window.has_value());

  ASSERT_OK_AND_ASSIGN(u, TenantUpdateFromRequest(Request({"name", "settings"})));
  EXPECT_EQ(u.name, "renamed");
  EXPECT_EQ(u.rate_limit_per_second, 3);
  EXPECT_EQ(u.rate_limit_burst, 9);
  // Unset in the request: back to the default window.
  ASSERT_TRUE(u.dedup_window.has_value());
  EXPECT_EQ(*u.dedup_window, std::nullopt);
}

TEST(TenantUpdateFromRequestTest, WithoutAMaskWhatTheRequestGivesChanges) {
  pb::UpdateTenantRequest r = Request({});
  r.clear_update_mask();
  r.mutable_tenant()->clear_settings();
  ASSERT_OK_AND_ASSIGN(TenantUpdate u, TenantUpdateFromRequest(r));
  EXPECT_EQ(u.name, "renamed");
  EXPECT_EQ(u.rate_limit_burst, std::nullopt);
}

TEST(TenantUpdateFromRequestTest, UnknownAndImmutablePathsAreNamed) {
  absl::StatusOr<TenantUpdate> u = TenantUpdateFromRequest(Request({"name", "colour"}));
  EXPECT_THAT(u, StatusIs(StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldErrorsOf(u.status()).size(), 1u);
  EXPECT_EQ(FieldErrorsOf(u.status())[0].field, "update_mask.paths");
  EXPECT_THAT(FieldErrorsOf(u.status())[0].message, HasSubstr("\"colour\""));
  u = TenantUpdateFromRequest(Request({"create_time"}));
  ASSERT_EQ(FieldErrorsOf(u.status()).size(), 1u);
  EXPECT_THAT(FieldErrorsOf(u.status())[0].message, HasSubstr("cannot be changed"));
}

TEST(TenantOperationsTest, CreateAnswersTheOwnerKeyAndListPages) {
  SimulatedClock clock;
  ::alerthub::testing::SqliteFixture db(&clock);
  TenantsAdmin admin(db.store(), nullptr, &clock);
  TenantOperations ops(&admin);
  Principal op;
  op.tenant_id = db.AddTenant("default");
  op.role = Role::kOwner;

  pb::CreateTenantRequest create;
  create.set_name("globex");
  create.mutable_settings()->mutable_dedup_window()->set_seconds(60);
  pb::CreateTenantResponse created;
  ASSERT_OK(ops.Create(op, create, &created));
  EXPECT_EQ(created.tenant().name(), "globex");
  EXPECT_EQ(created.tenant().settings().dedup_window().seconds(), 60);
  EXPECT_GT(created.tenant().create_time().seconds(), 0);
  EXPECT_EQ(created.owner_api_key().substr(0, 4), "ahk_");

  pb::ListTenantsRequest list;
  list.set_page_size(2);
  pb::ListTenantsResponse page;
  ASSERT_OK(ops.List(op, list, &page));
  ASSERT_EQ(page.tenants_size(), 2);
  EXPECT_EQ(page.tenants(0).name(), "acme");
  ASSERT_FALSE(page.next_page_token().empty());
  list.set_page_token(page.next_page_token());
  pb::ListTenantsResponse rest;
  ASSERT_OK(ops.List(op, list, &rest));
  ASSERT_EQ(rest.tenants_size(), 1);
  EXPECT_EQ(rest.tenants(0).name(), "globex");
  EXPECT_TRUE(rest.next_page_token().empty());

  pb::UpdateTenantRequest update;
  update.mutable_tenant()->set_id(created.tenant().id());
  update.mutable_tenant()->mutable_settings()->set_rate_limit_burst(-1);
  update.mutable_update_mask()->add_paths("settings.rate_limit_burst");
  pb::Tenant updated;
  absl::Status s = ops.Update(op, update, &updated);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldErrorsOf(s).size(), 1u);
  EXPECT_EQ(FieldErrorsOf(s)[0].field, "settings.rate_limit_burst");
}

}  // namespace
}  // namespace alerthub::server
