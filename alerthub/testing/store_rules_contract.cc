// StoreContractTest cases for rules, users, preferences and recipients
// (ports/store.h). Registered with the rest of the suite. Only what the
// port's comments promise is checked, so every adapter can pass them.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/rule.h"
#include "alerthub/model/user.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace alerthub::testing {
namespace {

using ::absl::StatusCode;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A valid rule of `t` (stores keep rules as given; callers validate them)
// parsed from request JSON, with the fields AlertHub assigns set.
Rule MakeRule(const Tenant& t, absl::Time now, absl::string_view name, int position,
              const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json request = {{"name", std::string(name)}, {"position", position}};
  request.update(extra);
  absl::StatusOr<Rule> r = RuleFromRequestJson(request);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return Rule{};
  r->id = NewUuidV7(now);
  r->tenant_id = t.id;
  r->created_at = now;
  r->updated_at = now;
  return *std::move(r);
}

User MakeUser(const Tenant& t, absl::Time now, absl::string_view email) {
  User u;
  u.id = NewUuidV7(now);
  u.tenant_id = t.id;
  u.email = std::string(email);
  u.name = "Ada";
  u.role = Role::kAdmin;
  u.addresses.slack_user_id = "U024BE7LH";
  u.addresses.fcm_tokens = {"token-1", "token-2"};
  u.created_at = now;
  return u;
}

Preferences MakePreferences() {
  absl::StatusOr<Preferences> p = PreferencesFromRequestJson(nlohmann::json::parse(R"({
      "opt_out_channels": ["email"], "opt_out_types": ["marketing.*"],
      "min_priority": "high", "time_zone": "Europe/Berlin",
      "quiet_hours": [{"days": ["mon", "fri"], "start": "22:00", "end": "07:00"}]})"));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : Preferences{};
}

std::vector<std::string> RuleIds(const std::vector<Rule>& rules) {
  std::vector<std::string> ids;
  for (const Rule& r : rules) ids.push_back(r.id);
  return ids;
}

std::vector<std::string> UserIds(const std::vector<User>& users) {
  std::vector<std::string> ids;
  for (const User& u : users) ids.push_back(u.id);
  return ids;
}

std::vector<std::string> RecipientIds(const std::vector<Recipient>& recipients) {
  std::vector<std::string> ids;
  for (const Recipient& r : recipients) ids.push_back(r.user.id);
  return ids;
}

// --- Rules ---------------------------------------------------------------------------

TEST_P(StoreContractTest, RuleRoundTripsEveryField) {
  Tenant t = AddTenant("acme");
  Rule r = MakeRule(t, clock_.Now(), "prod deploys", 10, nlohmann::json::parse(R"({
      "enabled": false, "continue": true,
      "match": {"type": "deploy.*", "min_priority": "high", "max_priority": "critical",
                "tags": [{"key": "env", "op": "=~", "value": "prod|staging"}],
                "recipients_present": true,
                "any": [{"type": "deploy.finished"}, {"tags": [{"key": "team", "op": "!=", "value": "x"}]}]},
      "actions": {"route": {"integration_ids": ["0190b2a4-0000-7000-8000-000000000001"],
                            "channels": ["slack", "email"]},
                  "priority": {"raise": 1},
                  "throttle": {"limit": 10, "window_s": 60, "group_by": ["type", "tags.env"]},
                  "digest": {"group_by": ["type"], "group_wait_s": 30, "group_interval_s": 300},
                  "delay_s": 120}})"));
  ASSERT_OK(store_->CreateRule(r));
  ASSERT_OK_AND_ASSIGN(Rule got, store_->GetRule(t.id, r.id));
  EXPECT_EQ(RuleToJson(got), RuleToJson(r));
  EXPECT_THAT(store_->CreateRule(r), StatusIs(StatusCode::kAlreadyExists));
}

TEST_P(StoreContractTest, RuleOfAnUnknownTenantIsNotFound) {
  Tenant ghost;
  ghost.id = NewUuidV7(clock_.Now());
  EXPECT_THAT(store_->CreateRule(MakeRule(ghost, clock_.Now(), "r", 0)),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, AnotherTenantsRuleIsNotFound) {
  Tenant a = AddTenant("a");
  Tenant b = AddTenant("b");
  Rule r = MakeRule(a, clock_.Now(), "mine", 1);
  ASSERT_OK(store_->CreateRule(r));
  EXPECT_THAT(store_->GetRule(b.id, r.id), StatusIs(StatusCode::kNotFound));
  Rule hijack = r;
  hijack.tenant_id = b.id;
  hijack.name = "hijacked";
  EXPECT_THAT(store_->UpdateRule(hijack), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteRule(b.id, r.id), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> theirs, store_->ListRules(b.id));
  EXPECT_THAT(theirs, IsEmpty());
  ASSERT_OK_AND_ASSIGN(Rule still, store_->GetRule(a.id, r.id));
  EXPECT_EQ(still.name, "mine");
}

TEST_P(StoreContractTest, UnknownRuleIsNotFound) {
  Tenant t = AddTenant("acme");
  Rule r = MakeRule(t, clock_.Now(), "never stored", 0);
  EXPECT_THAT(store_->GetRule(t.id, r.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->UpdateRule(r), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteRule(t.id, r.id), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, ListRulesByPositionThenIdEnabledOrNot) {
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  // Created in an order that is neither position nor id order.
  Rule p5 = MakeRule(t, clock_.Now(), "p5", 5);
  clock_.Advance(absl::Milliseconds(1));
  Rule p1_second = MakeRule(t, clock_.Now(), "p1 second", 1);
  clock_.Advance(absl::Milliseconds(1));
  Rule p0 = MakeRule(t, clock_.Now(), "p0 disabled", 0, {{"enabled", false}});
  clock_.Advance(absl::Milliseconds(1));
  Rule p1_third = MakeRule(t, clock_.Now(), "p1 third", 1);
  Rule p1_first = MakeRule(t, clock_.Now(), "p1 first", 1);
  // Ids in the opposite order of creation for the position they share.
  p1_first.id = "0190b2a4-0000-7000-8000-00000000000a";
  p1_second.id = "0190b2a4-0000-7000-8000-00000000000b";
  p1_third.id = "0190b2a4-0000-7000-8000-00000000000c";
  for (const Rule* r : {&p1_third, &p5, &p0, &p1_second, &p1_first}) {
    ASSERT_OK(store_->CreateRule(*r));
  }
  ASSERT_OK(store_->CreateRule(MakeRule(other, clock_.Now(), "theirs", 0)));
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> rules, store_->ListRules(t.id));
  EXPECT_THAT(RuleIds(rules),
              ElementsAre(p0.id, p1_first.id, p1_second.id, p1_third.id, p5.id));
  EXPECT_FALSE(rules.front().enabled);
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> none, store_->ListRules(AddTenant("empty").id));
  EXPECT_THAT(none, IsEmpty());
}

TEST_P(StoreContractTest, UpdateRuleReplacesAllButIdTenantAndCreatedAt) {
  Tenant t = AddTenant("acme");
  const absl::Time created = clock_.Now();
  Rule first = MakeRule(t, created, "first", 1);
  Rule second = MakeRule(t, created, "second", 2, {{"actions", {{"suppress", true}}}});
  ASSERT_OK(store_->CreateRule(first));
  ASSERT_OK(store_->CreateRule(second));

  clock_.Advance(absl::Minutes(5));
  Rule replacement = MakeRule(t, clock_.Now(), "second, now first", 0, nlohmann::json::parse(R"({
      "enabled": false, "continue": true, "match": {"type": "billing.*"},
      "actions": {"route": {"channels": ["webhook"]}}})"));
  replacement.id = second.id;
  replacement.created_at = clock_.Now();  // must not stick
  ASSERT_OK(store_->UpdateRule(replacement));

  ASSERT_OK_AND_ASSIGN(Rule got, store_->GetRule(t.id, second.id));
  Rule expected = replacement;
  expected.created_at = created;
  EXPECT_EQ(RuleToJson(got), RuleToJson(expected));
  EXPECT_EQ(got.updated_at, clock_.Now());
  EXPECT_FALSE(got.actions.suppress);
  // The new position orders it.
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> rules, store_->ListRules(t.id));
  EXPECT_THAT(RuleIds(rules), ElementsAre(second.id, first.id));
}

TEST_P(StoreContractTest, DeleteRuleRemovesOnlyIt) {
  Tenant t = AddTenant("acme");
  Rule keep = MakeRule(t, clock_.Now(), "keep", 0);
  Rule drop = MakeRule(t, clock_.Now(), "drop", 1);
  ASSERT_OK(store_->CreateRule(keep));
  ASSERT_OK(store_->CreateRule(drop));
  ASSERT_OK(store_->DeleteRule(t.id, drop.id));
  EXPECT_THAT(store_->GetRule(t.id, drop.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteRule(t.id, drop.id), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<Rule> rules, store_->ListRules(t.id));
  EXPECT_THAT(RuleIds(rules), ElementsAre(keep.id));
}

// --- Users ---------------------------------------------------------------------------

TEST_P(StoreContractTest, UserRoundTripsEveryField) {
  Tenant t = AddTenant("acme");
  User u = MakeUser(t, clock_.Now(), "ada@example.com");
  u.addresses.email = "ada.pager@example.com";
  u.addresses.discord_user_id = "80351110224678912";
  ASSERT_OK(store_->CreateUser(u));
  ASSERT_OK_AND_ASSIGN(User got, store_->GetUser(t.id, u.id));
  EXPECT_EQ(UserToJson(got), UserToJson(u));
  EXPECT_EQ(got.created_at, u.created_at);
}

TEST_P(StoreContractTest, UserIdAndEmailAreUniqueInTheTenantIgnoringCase) {
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  User u = MakeUser(t, clock_.Now(), "ada@example.com");
  ASSERT_OK(store_->CreateUser(u));

  User same_id = MakeUser(t, clock_.Now(), "grace@example.com");
  same_id.id = u.id;
  EXPECT_THAT(store_->CreateUser(same_id), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->CreateUser(MakeUser(t, clock_.Now(), "ada@example.com")),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->CreateUser(MakeUser(t, clock_.Now(), "ADA@Example.COM")),
              StatusIs(StatusCode::kAlreadyExists));
  // Another tenant may have a user with the same email.
  EXPECT_OK(store_->CreateUser(MakeUser(other, clock_.Now(), "Ada@example.com")));
  ASSERT_OK_AND_ASSIGN(Page<User> page, store_->ListUsers(t.id, {}));
  EXPECT_THAT(UserIds(page.items), ElementsAre(u.id));
}

TEST_P(StoreContractTest, UserOfAnUnknownTenantIsNotFound) {
  Tenant ghost;
  ghost.id = NewUuidV7(clock_.Now());
  EXPECT_THAT(store_->CreateUser(MakeUser(ghost, clock_.Now(), "ada@example.com")),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, AnotherTenantsUserIsNotFound) {
  Tenant a = AddTenant("a");
  Tenant b = AddTenant("b");
  User u = MakeUser(a, clock_.Now(), "ada@example.com");
  ASSERT_OK(store_->CreateUser(u));
  EXPECT_THAT(store_->GetUser(b.id, u.id), StatusIs(StatusCode::kNotFound));
  User hijack = u;
  hijack.tenant_id = b.id;
  hijack.name = "hijacked";
  EXPECT_THAT(store_->UpdateUser(hijack), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteUser(b.id, u.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->GetPreferences(b.id, u.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->SetPreferences(b.id, u.id, MakePreferences()),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Page<User> theirs, store_->ListUsers(b.id, {}));
  EXPECT_THAT(theirs.items, IsEmpty());
  ASSERT_OK_AND_ASSIGN(User still, store_->GetUser(a.id, u.id));
  EXPECT_EQ(still.name, "Ada");
  ASSERT_OK_AND_ASSIGN(Preferences untouched, store_->GetPreferences(a.id, u.id));
  EXPECT_EQ(PreferencesToJson(untouched), PreferencesToJson(Preferences{}));
}

TEST_P(StoreContractTest, UnknownUserIsNotFound) {
  Tenant t = AddTenant("acme");
  User u = MakeUser(t, clock_.Now(), "ada@example.com");
  EXPECT_THAT(store_->GetUser(t.id, u.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->UpdateUser(u), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteUser(t.id, u.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->GetPreferences(t.id, u.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->SetPreferences(t.id, u.id, Preferences{}),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, ListUsersPagesOldestFirst) {
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  std::vector<std::string> ids;
  for (int k = 0; k < 5; ++k) {
    clock_.Advance(absl::Milliseconds(1));
    User u = MakeUser(t, clock_.Now(), absl::StrCat("user", k, "@example.com"));
    ASSERT_OK(store_->CreateUser(u));
    ids.push_back(u.id);
  }
  ASSERT_OK(store_->CreateUser(MakeUser(other, clock_.Now(), "user0@example.com")));
  ASSERT_OK_AND_ASSIGN(Page<User> p1, store_->ListUsers(t.id, {.cursor = "", .limit = 2}));
  EXPECT_THAT(UserIds(p1.items), ElementsAre(ids[0], ids[1]));
  EXPECT_TRUE(p1.has_more);
  ASSERT_OK_AND_ASSIGN(Page<User> p2, store_->ListUsers(t.id, {.cursor = ids[1], .limit = 3}));
  EXPECT_THAT(UserIds(p2.items), ElementsAre(ids[2], ids[3], ids[4]));
  EXPECT_FALSE(p2.has_more);
  ASSERT_OK_AND_ASSIGN(Page<User> all, store_->ListUsers(t.id, {}));
  EXPECT_THAT(UserIds(all.items), ElementsAre(ids[0], ids[1], ids[2], ids[3], ids[4]));
  EXPECT_FALSE(all.has_more);
}

TEST_P(StoreContractTest, UpdateUserReplacesEmailNameRoleAndAddresses) {
  Tenant t = AddTenant("acme");
  const absl::Time created = clock_.Now();
  User ada = MakeUser(t, created, "ada@example.com");
  User grace = MakeUser(t, created, "grace@example.com");
  ASSERT_OK(store_->CreateUser(ada));
  ASSERT_OK(store_->CreateUser(grace));

  clock_.Advance(absl::Minutes(1));
  User replacement;
  replacement.id = ada.id;
  replacement.tenant_id = t.id;
  replacement.email = "countess@example.com";
  replacement.role = Role::kViewer;
  replacement.addresses.discord_user_id = "80351110224678912";
  replacement.created_at = clock_.Now();  // must not stick
  ASSERT_OK(store_->UpdateUser(replacement));
  ASSERT_OK_AND_ASSIGN(User got, store_->GetUser(t.id, ada.id));
  User expected = replacement;
  expected.created_at = created;
  EXPECT_EQ(UserToJson(got), UserToJson(expected));

  // Another user's email, in any case, is taken; the user's own is not.
  User clash = replacement;
  clash.email = "GRACE@example.com";
  EXPECT_THAT(store_->UpdateUser(clash), StatusIs(StatusCode::kAlreadyExists));
  User recased = replacement;
  recased.email = "Countess@Example.com";
  EXPECT_OK(store_->UpdateUser(recased));
  // The freed email can be taken by a new user.
  EXPECT_OK(store_->CreateUser(MakeUser(t, clock_.Now(), "ada@example.com")));
}

TEST_P(StoreContractTest, PreferencesAreTheDefaultsUntilSetAndThenReplaced) {
  Tenant t = AddTenant("acme");
  User u = MakeUser(t, clock_.Now(), "ada@example.com");
  ASSERT_OK(store_->CreateUser(u));
  ASSERT_OK_AND_ASSIGN(Preferences initial, store_->GetPreferences(t.id, u.id));
  EXPECT_EQ(PreferencesToJson(initial), PreferencesToJson(Preferences{}));

  const Preferences full = MakePreferences();
  ASSERT_OK(store_->SetPreferences(t.id, u.id, full));
  ASSERT_OK_AND_ASSIGN(Preferences got, store_->GetPreferences(t.id, u.id));
  EXPECT_EQ(PreferencesToJson(got), PreferencesToJson(full));

  Preferences smaller;
  smaller.opt_out_types = {"billing.*"};
  ASSERT_OK(store_->SetPreferences(t.id, u.id, smaller));
  ASSERT_OK_AND_ASSIGN(got, store_->GetPreferences(t.id, u.id));
  EXPECT_EQ(PreferencesToJson(got), PreferencesToJson(smaller));

  // Updating the user leaves the preferences alone.
  User renamed = u;
  renamed.name = "Ada L.";
  ASSERT_OK(store_->UpdateUser(renamed));
  ASSERT_OK_AND_ASSIGN(got, store_->GetPreferences(t.id, u.id));
  EXPECT_EQ(PreferencesToJson(got), PreferencesToJson(smaller));
}

TEST_P(StoreContractTest, DeleteUserDeletesTheirPreferences) {
  Tenant t = AddTenant("acme");
  User u = MakeUser(t, clock_.Now(), "ada@example.com");
  ASSERT_OK(store_->CreateUser(u));
  ASSERT_OK(store_->SetPreferences(t.id, u.id, MakePreferences()));
  ASSERT_OK(store_->DeleteUser(t.id, u.id));
  EXPECT_THAT(store_->GetUser(t.id, u.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->GetPreferences(t.id, u.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteUser(t.id, u.id), StatusIs(StatusCode::kNotFound));
  // The same id and email again: a new user, with the defaults.
  ASSERT_OK(store_->CreateUser(u));
  ASSERT_OK_AND_ASSIGN(Preferences fresh, store_->GetPreferences(t.id, u.id));
  EXPECT_EQ(PreferencesToJson(fresh), PreferencesToJson(Preferences{}));
}

// --- Recipients ----------------------------------------------------------------------

TEST_P(StoreContractTest, GetRecipientsInTheOrderGivenOnceEachKnownOnly) {
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  User ada = MakeUser(t, clock_.Now(), "ada@example.com");
  clock_.Advance(absl::Milliseconds(1));
  User grace = MakeUser(t, clock_.Now(), "grace@example.com");
  clock_.Advance(absl::Milliseconds(1));
  User theirs = MakeUser(other, clock_.Now(), "linus@example.com");
  ASSERT_OK(store_->CreateUser(ada));
  ASSERT_OK(store_->CreateUser(grace));
  ASSERT_OK(store_->CreateUser(theirs));
  const Preferences prefs = MakePreferences();
  ASSERT_OK(store_->SetPreferences(t.id, grace.id, prefs));

  const std::string unknown = NewUuidV7(clock_.Now());
  const std::vector<std::string> ids = {grace.id, unknown, ada.id, theirs.id, grace.id,
                                        "not-a-uuid"};
  ASSERT_OK_AND_ASSIGN(std::vector<Recipient> got, store_->GetRecipients(t.id, ids));
  ASSERT_THAT(RecipientIds(got), ElementsAre(grace.id, ada.id));
  EXPECT_EQ(UserToJson(got[0].user), UserToJson(grace));
  EXPECT_EQ(PreferencesToJson(got[0].preferences), PreferencesToJson(prefs));
  EXPECT_EQ(UserToJson(got[1].user), UserToJson(ada));
  EXPECT_EQ(PreferencesToJson(got[1].preferences), PreferencesToJson(Preferences{}));

  ASSERT_OK_AND_ASSIGN(std::vector<Recipient> none, store_->GetRecipients(t.id, {}));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK_AND_ASSIGN(none, store_->GetRecipients(t.id, {unknown, theirs.id}));
  EXPECT_THAT(none, IsEmpty());
}

}  // namespace
}  // namespace alerthub::testing
