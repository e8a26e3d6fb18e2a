#include "alerthub/delivery/routing_catalog.h"

#include <memory>
#include <string>
#include <vector>

#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/status.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldError& e : FieldErrorsOf(s)) out.push_back(e.field);
  return out;
}

class RoutingCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *OpenSqliteStore({.path = ":memory:", .clock = &clock_});
    kv_ = NewMemoryKv({.clock = &clock_});
    for (const char* name : {"acme", "other"}) {
      Tenant t;
      t.id = std::string("tenant-") + name;
      t.name = name;
      t.created_at = clock_.Now();
      ASSERT_OK(store_->CreateTenant(t));
    }
    RulesTargetResolverOptions ro;
    ro.clock = &clock_;
    // Only Invalidate() reloads: every change below must invalidate.
    ro.max_staleness = absl::InfiniteDuration();
    resolver_ = std::make_unique<RulesTargetResolver>(store_.get(), kv_.get(),
                                                      StoreRuleSource(store_.get()), ro);
    RoutingCatalogOptions options;
    options.max_rules_per_tenant = 3;
    catalog_ = std::make_unique<RoutingCatalog>(store_.get(), resolver_.get(), &clock_, options);
  }

  Notification Deploy() {
    Notification n;
    n.type = "deploy.finished";
    n.title = "v2";
    return n;
  }

  bool Suppressed(absl::string_view tenant) {
    absl::StatusOr<RoutingPlan> plan = catalog_->Evaluate(tenant, Deploy());
    EXPECT_OK(plan.status());
    return plan.ok() && plan->suppression.has_value();
  }

  const std::string acme_ = "tenant-acme";
  const std::string other_ = "tenant-other";
  SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Kv> kv_;
  std::unique_ptr<RulesTargetResolver> resolver_;
  std::unique_ptr<RoutingCatalog> catalog_;
};

const nlohmann::json kMute = {{"name", "mute deploys"},
                              {"match", {{"type", "deploy.*"}}},
                              {"actions", {{"suppress", true}}}};

TEST_F(RoutingCatalogTest, RequestJsonRoundTrips) {
  absl::StatusOr<Rule> r = RuleFromRequestJson(nlohmann::json::parse(R"({
      "name": "n", "position": 4, "enabled": false, "continue": true,
      "match": {"type": "a.*", "tags": [{"key": "env", "op": "!~", "value": "dev|test"}]},
      "actions": {"route": {"channels": ["slack"]}, "delay_s": 30}})"));
  ASSERT_OK(r.status());
  r->id = "0190b2a4-0000-7000-8000-000000000001";
  r->tenant_id = acme_;
  nlohmann::json request = RuleRequestJson(*r);
  EXPECT_FALSE(request.contains("id"));
  EXPECT_FALSE(request.contains("tenant_id"));
  ASSERT_OK_AND_ASSIGN(Rule back, RuleFromRequestJson(request));
  EXPECT_EQ(RuleRequestJson(back), request);

  User u;
  u.id = "0190b2a4-0000-7000-8000-000000000002";
  u.tenant_id = acme_;
  u.email = "ada@example.com";
  u.addresses.slack_user_id = "U1";
  ASSERT_OK_AND_ASSIGN(User user_back, UserFromRequestJson(UserRequestJson(u)));
  EXPECT_EQ(UserRequestJson(user_back), UserRequestJson(u));
}

TEST_F(RoutingCatalogTest, EveryRuleChangeReachesTheResolverAtOnce) {
  EXPECT_FALSE(Suppressed(acme_));
  ASSERT_OK_AND_ASSIGN(Rule rule, catalog_->CreateRule(acme_, kMute));
  EXPECT_TRUE(Suppressed(acme_));
  EXPECT_FALSE(Suppressed(other_));
  ASSERT_OK(catalog_->PatchRule(acme_, rule.id, {{"enabled", false}}).status());
  EXPECT_FALSE(Suppressed(acme_));
  ASSERT_OK(catalog_->ReplaceRule(acme_, rule.id, kMute).status());
  EXPECT_TRUE(Suppressed(acme_));
  ASSERT_OK(catalog_->DeleteRule(acme_, rule.id));
  EXPECT_FALSE(Suppressed(acme_));
}

TEST_F(RoutingCatalogTest, CreateAssignsIdTenantAndTimes) {
  ASSERT_OK_AND_ASSIGN(Rule rule, catalog_->CreateRule(acme_, kMute));
  EXPECT_FALSE(rule.id.empty());
  EXPECT_EQ(rule.tenant_id, acme_);
  EXPECT_EQ(rule.created_at, clock_.Now());
  EXPECT_EQ(rule.updated_at, clock_.Now());
  ASSERT_OK_AND_ASSIGN(Rule stored, catalog_->GetRule(acme_, rule.id));
  EXPECT_EQ(RuleToJson(stored), RuleToJson(rule));
  EXPECT_THAT(catalog_->GetRule(other_, rule.id), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RoutingCatalogTest, ATenantHasAtMostTheLimitOfRules) {
  for (int i = 0; i < 3; ++i) ASSERT_OK(catalog_->CreateRule(acme_, kMute).status());
  absl::Status s = catalog_->CreateRule(acme_, kMute).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          ::testing::HasSubstr("the tenant has 3 rules, the most allowed (3)")));
  EXPECT_THAT(Fields(s), ElementsAre(""));
  EXPECT_OK(catalog_->CreateRule(other_, kMute).status());
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> rules, catalog_->ListRules(acme_));
  ASSERT_OK(catalog_->DeleteRule(acme_, rules[0].id));
  EXPECT_OK(catalog_->CreateRule(acme_, kMute).status());
}

TEST_F(RoutingCatalogTest, PatchIsAMergePatchValidatedAsACreate) {
  ASSERT_OK_AND_ASSIGN(Rule rule, catalog_->CreateRule(acme_, kMute));
  clock_.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(Rule patched,
                       catalog_->PatchRule(acme_, rule.id,
                                           {{"position", 9}, {"match", {{"min_priority", "high"}}}}));
  EXPECT_EQ(patched.position, 9);
  EXPECT_EQ(patched.match.type, "deploy.*");
  EXPECT_EQ(patched.match.min_priority, Priority::kHigh);
  EXPECT_EQ(patched.created_at, rule.created_at);
  EXPECT_EQ(patched.updated_at, clock_.Now());

  ASSERT_OK_AND_ASSIGN(patched, catalog_->PatchRule(acme_, rule.id,
                                                    {{"match", {{"min_priority", nullptr}}}}));
  EXPECT_FALSE(patched.match.min_priority.has_value());

  // Merged into a suppress rule, a route is one action too many.
  absl::Status s = catalog_->PatchRule(acme_, rule.id,
                                       {{"actions", {{"route", {{"channels", {"slack"}}}}}}})
                       .status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(s), ElementsAre("actions.suppress"));
  EXPECT_THAT(Fields(catalog_->PatchRule(acme_, rule.id, nlohmann::json::array()).status()),
              ElementsAre(""));
  EXPECT_THAT(Fields(catalog_->PatchRule(acme_, rule.id, {{"id", "x"}}).status()),
              ElementsAre("id"));
  ASSERT_OK_AND_ASSIGN(Rule stored, catalog_->GetRule(acme_, rule.id));
  EXPECT_EQ(RuleToJson(stored), RuleToJson(patched));
  EXPECT_THAT(catalog_->PatchRule(other_, rule.id, {{"position", 1}}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RoutingCatalogTest, EvaluateValidatesLikeASubmission) {
  Notification n = Deploy();
  n.type = "";
  n.title = std::string(10'000, 'x');
  absl::Status s = catalog_->Evaluate(acme_, n).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(s), ::testing::Contains("type"));
}

TEST_F(RoutingCatalogTest, UsersAndPreferences) {
  ASSERT_OK_AND_ASSIGN(User ada,
                       catalog_->CreateUser(acme_, {{"email", "ada@example.com"}, {"name", "Ada"}}));
  EXPECT_EQ(ada.tenant_id, acme_);
  EXPECT_THAT(catalog_->CreateUser(acme_, {{"email", "ADA@example.com"}}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Fields(catalog_->CreateUser(acme_, {{"email", "nope"}}).status()),
              ElementsAre("email"));

  clock_.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(User replaced,
                       catalog_->ReplaceUser(acme_, ada.id, {{"email", "ada@example.org"}}));
  EXPECT_EQ(replaced.created_at, ada.created_at);
  EXPECT_EQ(replaced.name, "");
  EXPECT_THAT(catalog_->ReplaceUser(other_, ada.id, {{"email", "x@example.com"}}),
              StatusIs(absl::StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(Preferences p, catalog_->SetPreferences(acme_, ada.id,
                                                               {{"min_priority", "high"}}));
  EXPECT_EQ(p.min_priority, Priority::kHigh);
  ASSERT_OK_AND_ASSIGN(Preferences got, catalog_->GetPreferences(acme_, ada.id));
  EXPECT_EQ(PreferencesToJson(got), PreferencesToJson(p));
  EXPECT_THAT(Fields(catalog_->SetPreferences(acme_, ada.id, {{"time_zone", "Mars/Base"}})
                         .status()),
              ElementsAre("time_zone"));

  EXPECT_THAT(catalog_->ListUsers(acme_, {.cursor = "", .limit = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(Page<User> page, catalog_->ListUsers(acme_, {}));
  ASSERT_EQ(page.items.size(), 1u);
  ASSERT_OK(catalog_->DeleteUser(acme_, ada.id));
  EXPECT_THAT(catalog_->GetUser(acme_, ada.id), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace alerthub
