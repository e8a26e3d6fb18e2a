// StoreContractTest cases for tenant administration: listing, renaming and
// the soft delete that revokes a tenant's credentials (ports/store.h,
// "Tenant administration"). Registered with the rest of the suite.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "gmock/gmock.h"

namespace alerthub::testing {
namespace {

using ::absl::StatusCode;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Names(const Page<Tenant>& page) {
  std::vector<std::string> names;
  for (const Tenant& t : page.items) names.push_back(t.name);
  return names;
}

ApiKey KeyOf(const Tenant& t, absl::Time now, absl::string_view hash_char) {
  ApiKey k;
  k.id = NewUuidV7(now);
  k.tenant_id = t.id;
  k.name = "k";
  k.prefix = "ahk_test";
  k.key_hash = std::string(64, hash_char[0]);
  k.role = Role::kOwner;
  k.created_at = now;
  return k;
}

Tenant NewTenant(absl::string_view name, absl::Time now) {
  Tenant t;
  t.id = NewUuidV7(now);
  t.name = std::string(name);
  t.created_at = now;
  return t;
}

TEST_P(StoreContractTest, CreateTenantWithKeyStoresBothOrNeither) {
  Tenant t = NewTenant("acme", clock_.Now());
  ApiKey k = KeyOf(t, clock_.Now(), "a");
  ASSERT_OK(store_->CreateTenantWithKey(t, k));
  ASSERT_OK_AND_ASSIGN(Tenant got, store_->GetTenantByName("acme"));
  EXPECT_EQ(got.id, t.id);
  ASSERT_OK_AND_ASSIGN(ApiKey key, store_->FindApiKeyByHash(k.key_hash));
  EXPECT_EQ(key.tenant_id, t.id);

  // The key's hash is taken: the tenant is not stored either.
  Tenant second = NewTenant("bravo", clock_.Now());
  ApiKey clash = KeyOf(second, clock_.Now(), "a");
  EXPECT_THAT(store_->CreateTenantWithKey(second, clash),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->GetTenantByName("bravo"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->GetTenant(second.id), StatusIs(StatusCode::kNotFound));

  // The name is taken: the key is not stored either.
  Tenant third = NewTenant("acme", clock_.Now());
  ApiKey fresh = KeyOf(third, clock_.Now(), "b");
  EXPECT_THAT(store_->CreateTenantWithKey(third, fresh),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("acme")));
  EXPECT_THAT(store_->FindApiKeyByHash(fresh.key_hash), StatusIs(StatusCode::kNotFound));

  // Then both succeed under a free name.
  third.name = "charlie";
  ASSERT_OK(store_->CreateTenantWithKey(third, fresh));
  ASSERT_OK_AND_ASSIGN(ApiKey stored, store_->FindApiKeyByHash(fresh.key_hash));
  EXPECT_EQ(stored.tenant_id, third.id);
}

TEST_P(StoreContractTest, ListTenantsPagesByIdAndHidesDeletedOnes) {
  // UUIDv7 ids grow with time: creation order is id order.
  Tenant a = AddTenant("alpha");
  clock_.Advance(absl::Milliseconds(1));
  Tenant b = AddTenant("bravo");
  clock_.Advance(absl::Milliseconds(1));
  Tenant c = AddTenant("charlie");

  ASSERT_OK_AND_ASSIGN(Page<Tenant> first, store_->ListTenants({.cursor = "", .limit = 2}));
  EXPECT_THAT(Names(first), ElementsAre("alpha", "bravo"));
  EXPECT_TRUE(first.has_more);
  EXPECT_EQ(first.items[0].id, a.id);
  ASSERT_OK_AND_ASSIGN(Page<Tenant> second,
                       store_->ListTenants({.cursor = first.items[1].id, .limit = 2}));
  EXPECT_THAT(Names(second), ElementsAre("charlie"));
  EXPECT_FALSE(second.has_more);

  ASSERT_OK(store_->DeleteTenant(b.id, clock_.Now()));
  ASSERT_OK_AND_ASSIGN(Page<Tenant> all, store_->ListTenants({.cursor = "", .limit = 500}));
  EXPECT_THAT(Names(all), ElementsAre("alpha", "charlie"));
  EXPECT_EQ(all.items[1].id, c.id);

  EXPECT_THAT(store_->ListTenants({.cursor = "", .limit = 0}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->ListTenants({.cursor = "", .limit = 501}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreContractTest, UpdateTenantReplacesNameAndSettingsOnly) {
  Tenant t = AddTenant("acme");
  AddTenant("taken");
  Tenant changed = t;
  changed.name = "acme-corp";
  changed.settings.rate_limit_per_second = 7;
  changed.settings.dedup_window = absl::Seconds(30);
  changed.created_at = t.created_at + absl::Hours(1);  // ignored
  ASSERT_OK(store_->UpdateTenant(changed));

  ASSERT_OK_AND_ASSIGN(Tenant got, store_->GetTenant(t.id));
  EXPECT_EQ(got.name, "acme-corp");
  EXPECT_EQ(got.settings.rate_limit_per_second, 7);
  EXPECT_EQ(got.settings.dedup_window, absl::Seconds(30));
  EXPECT_EQ(got.created_at, t.created_at);
  EXPECT_THAT(store_->GetTenantByName("acme"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Tenant by_name, store_->GetTenantByName("acme-corp"));
  EXPECT_EQ(by_name.id, t.id);

  changed.name = "taken";
  EXPECT_THAT(store_->UpdateTenant(changed), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(got, store_->GetTenant(t.id));
  EXPECT_EQ(got.name, "acme-corp");

  Tenant ghost = t;
  ghost.id = NewUuidV7(clock_.Now());
  ghost.name = "ghost";
  EXPECT_THAT(store_->UpdateTenant(ghost), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, DeleteTenantHidesItRevokesItsKeysAndKeepsItsName) {
  Tenant t = AddTenant("doomed");
  Tenant other = AddTenant("other");
  ApiKey key = KeyOf(t, clock_.Now(), "a");
  ApiKey other_key = KeyOf(other, clock_.Now(), "b");
  ASSERT_OK(store_->CreateApiKey(key));
  ASSERT_OK(store_->CreateApiKey(other_key));
  const std::string kept = CommitAll({NewSubmission(t.id)})[0];

  clock_.Advance(absl::Minutes(1));
  const absl::Time at = clock_.Now();
  ASSERT_OK(store_->DeleteTenant(t.id, at));

  EXPECT_THAT(store_->GetTenant(t.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->GetTenantByName("doomed"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(ApiKey revoked, store_->FindApiKeyByHash(key.key_hash));
  EXPECT_EQ(revoked.revoked_at, at);
  ASSERT_OK_AND_ASSIGN(ApiKey untouched, store_->FindApiKeyByHash(other_key.key_hash));
  EXPECT_EQ(untouched.revoked_at, std::nullopt);
  // What it had accepted is kept.
  EXPECT_OK(store_->GetNotification(t.id, kept).status());

  // Gone for every other call too; its name stays taken.
  EXPECT_THAT(store_->DeleteTenant(t.id, at), StatusIs(StatusCode::kNotFound));
  Tenant renamed = t;
  renamed.name = "revived";
  EXPECT_THAT(store_->UpdateTenant(renamed), StatusIs(StatusCode::kNotFound));
  Tenant same_name{.id = NewUuidV7(clock_.Now()), .name = "doomed", .settings = {},
                   .created_at = clock_.Now()};
  EXPECT_THAT(store_->CreateTenant(same_name), StatusIs(StatusCode::kAlreadyExists));
  renamed = other;
  renamed.name = "doomed";
  EXPECT_THAT(store_->UpdateTenant(renamed), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->DeleteTenant(NewUuidV7(clock_.Now()), at),
              StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace alerthub::testing
