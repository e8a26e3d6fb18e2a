#include "alerthub/rules/rules_resolver.h"

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/time.h"
#include "alerthub/common/uuid.h"
#include "alerthub/rules/internal/test_util.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::rules_internal::NotificationForTest;
using ::alerthub::rules_internal::RuleForTest;
using ::alerthub::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

constexpr char kTenant[] = "tenant-1";
constexpr char kOtherTenant[] = "tenant-2";

class RulesResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, OpenSqliteStore({.path = ":memory:", .clock = &clock_}));
    kv_ = NewMemoryKv({.clock = &clock_});
    for (const char* id : {kTenant, kOtherTenant}) {
      Tenant t;
      t.id = id;
      t.name = id;
      t.created_at = clock_.Now();
      ASSERT_OK(store_->CreateTenant(t));
    }
    resolver_ = NewResolver({.clock = &clock_});
  }

  std::unique_ptr<RulesTargetResolver> NewResolver(RulesTargetResolverOptions options,
                                                   Kv* kv = nullptr) {
    return std::make_unique<RulesTargetResolver>(
        store_.get(), kv != nullptr ? kv : kv_.get(),
        [this](absl::string_view tenant) -> absl::StatusOr<std::vector<Rule>> {
          absl::MutexLock lock(&mu_);
          ++loads_;
          if (!source_error_.ok()) return source_error_;
          if (invalidate_during_load_) {
            // The rules change (and the tenant is invalidated) while the
            // resolver is reading the old ones.
            invalidate_during_load_ = false;
            resolver_->Invalidate(tenant);
          }
          return rules_[std::string(tenant)];
        },
        std::move(options));
  }

  std::string AddIntegration(Channel channel, absl::string_view name, bool enabled = true,
                             bool is_default = false, absl::string_view tenant = kTenant) {
    Integration i;
    i.id = NewUuidV7(clock_.Now());
    i.tenant_id = std::string(tenant);
    i.name = std::string(name);
    i.channel = channel;
    i.config = channel == Channel::kWebhook ? Json{{"url", "https://example.com/hook"}}
                                            : Json{{"webhook_url", "https://hooks.example.com/x"}};
    i.enabled = enabled;
    i.is_default = is_default;
    i.created_at = i.updated_at = clock_.Now();
    EXPECT_OK(store_->CreateIntegration(i));
    return i.id;
  }

  void SetRules(std::vector<Rule> rules, absl::string_view tenant = kTenant) {
    absl::MutexLock lock(&mu_);
    rules_[std::string(tenant)] = std::move(rules);
  }

  int loads() {
    absl::MutexLock lock(&mu_);
    return loads_;
  }

  static std::vector<std::string> TargetIds(const TargetResolver::Decision& d) {
    std::vector<std::string> ids;
    for (const TargetResolver::Target& t : d.targets) ids.push_back(t.integration.id);
    return ids;
  }

  static Notification At(absl::string_view type, Priority p = Priority::kNormal,
                         std::map<std::string, std::string> tags = {}) {
    Notification n = NotificationForTest(type, p, std::move(tags));
    n.tenant_id = kTenant;
    return n;
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Kv> kv_;
  std::unique_ptr<RulesTargetResolver> resolver_;

  absl::Mutex mu_;
  std::map<std::string, std::vector<Rule>> rules_ ABSL_GUARDED_BY(mu_);
  int loads_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status source_error_ ABSL_GUARDED_BY(mu_);
  bool invalidate_during_load_ ABSL_GUARDED_BY(mu_) = false;
};

// --- Fallback ---------------------------------------------------------------------------

TEST_F(RulesResolverTest, WithoutRulesBehavesAsTheDefaultResolver) {
  const std::string def = AddIntegration(Channel::kWebhook, "default", true, true);
  const std::string other = AddIntegration(Channel::kSlack, "other");
  ASSERT_OK_AND_ASSIGN(TargetResolver::Decision d, resolver_->Resolve(At("t")));
  EXPECT_THAT(TargetIds(d), UnorderedElementsAre(def));

  Notification n = At("t");
  n.integration_ids = {other};
  ASSERT_OK_AND_ASSIGN(d, resolver_->Resolve(n));
  EXPECT_THAT(TargetIds(d), UnorderedElementsAre(other));

  n = At("t");
  n.channels = {Channel::kSlack};
  ASSERT_OK_AND_ASSIGN(d, resolver_->Resolve(n));
  EXPECT_THAT(TargetIds(d), UnorderedElementsAre(other));
}

TEST_F(RulesResolverTest, UnmatchedAndRoutelessRulesFallBack) {
  const std::string def = AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules({
      RuleForTest("deploys", {{"position", 1},
                              {"match", {{"type", "deploy.*"}}},
                              {"actions", {{"route", {{"channels", {"slack"}}}}}}}),
      RuleForTest("raise", {{"position", 2}, {"actions", {{"priority", {{"raise", 1}}}}}}),
  });
  ASSERT_OK_AND_ASSIGN(RoutingPlan plan, resolver_->Plan(At("build.done")));
  EXPECT_EQ(plan.evaluation.target_source, TargetSource::kTenantDefaults);
  EXPECT_THAT(TargetIds(plan.decision), UnorderedElementsAre(def));
  EXPECT_EQ(plan.effective_priority, Priority::kHigh);
}

// --- Routes -----------------------------------------------------------------------------

TEST_F(RulesResolverTest, RouteWinsOverExplicitTargets) {
  const std::string hook = AddIntegration(Channel::kWebhook, "hook");
  const std::string slack1 = AddIntegration(Channel::kSlack, "slack 1");
  const std::string slack2 = AddIntegration(Channel::kSlack, "slack 2");
  AddIntegration(Channel::kSlack, "slack off", /*enabled=*/false);
  const std::string email = AddIntegration(Channel::kEmail, "email");
  SetRules({RuleForTest(
      "r",
      {{"match", {{"type", "deploy.*"}}},
       {"actions", {{"route", {{"integration_ids", {hook, slack1}}, {"channels", {"slack"}}}}}}})});
  Notification n = At("deploy.done");
  n.integration_ids = {email};
  ASSERT_OK_AND_ASSIGN(TargetResolver::Decision d, resolver_->Resolve(n));
  EXPECT_THAT(TargetIds(d), UnorderedElementsAre(hook, slack1, slack2));
  EXPECT_EQ(d.reason, "");
}

TEST_F(RulesResolverTest, RouteSkipsMissingDisabledAndOtherTenantsIntegrations) {
  const std::string off = AddIntegration(Channel::kWebhook, "off", /*enabled=*/false);
  const std::string foreign =
      AddIntegration(Channel::kWebhook, "theirs", true, false, kOtherTenant);
  const std::string missing = NewUuidV7(clock_.Now());
  AddIntegration(Channel::kWebhook, "default", true, /*is_default=*/true);
  SetRules({RuleForTest(
      "r-route",
      {{"actions",
        {{"route", {{"integration_ids", {off, foreign, missing}}, {"channels", {"discord"}}}}}}})});
  ASSERT_OK_AND_ASSIGN(TargetResolver::Decision d, resolver_->Resolve(At("t")));
  EXPECT_THAT(d.targets, IsEmpty());  // no fallback to defaults: the rule routed
  EXPECT_EQ(d.reason, absl::StrCat("the matched rules (r-route) route to no enabled integration: "
                                   "integration ",
                                   off, " is disabled; integration ", foreign,
                                   " does not exist; integration ", missing,
                                   " does not exist; no enabled discord integration"));
}

// --- Suppression and throttles ----------------------------------------------------------

TEST_F(RulesResolverTest, SuppressionYieldsNoTargetsAndNamesTheRule) {
  AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules({RuleForTest("mute-1", {{"name", "mute heartbeats"},
                                   {"match", {{"type", "heartbeat.*"}}},
                                   {"actions", {{"suppress", true}}}})});
  ASSERT_OK_AND_ASSIGN(RoutingPlan plan, resolver_->Plan(At("heartbeat.ok")));
  EXPECT_THAT(plan.decision.targets, IsEmpty());
  EXPECT_EQ(plan.decision.reason, "suppressed by rule mute-1 (\"mute heartbeats\")");
  ASSERT_TRUE(plan.suppression.has_value());
  EXPECT_EQ(plan.suppression->rule_id, "mute-1");

  ASSERT_OK_AND_ASSIGN(TargetResolver::Decision d, resolver_->Resolve(At("deploy.ok")));
  EXPECT_EQ(d.targets.size(), 1u);
}

TEST_F(RulesResolverTest, ThrottleSuppressesTheExcessPerGroupAndWindow) {
  const std::string def = AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules({RuleForTest(
      "thr",
      {{"actions", {{"throttle", {{"limit", 2}, {"window_s", 60}, {"group_by", {"type"}}}}}}})});
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(TargetResolver::Decision d, resolver_->Resolve(At("a")));
    EXPECT_THAT(TargetIds(d), UnorderedElementsAre(def));
  }
  ASSERT_OK_AND_ASSIGN(RoutingPlan plan, resolver_->Plan(At("a")));
  EXPECT_THAT(plan.decision.targets, IsEmpty());
  EXPECT_EQ(plan.decision.reason,
            "throttled by rule thr: limit 2 per 60s reached for group type=\"a\" until "
            "2027-01-15T08:01:00.000000Z");
  ASSERT_TRUE(plan.suppression.has_value());
  EXPECT_EQ(plan.suppression->rule_id, "thr");
  ASSERT_EQ(plan.throttles.size(), 1u);
  EXPECT_FALSE(plan.throttles[0].allowed);

  // Another group is counted apart; the next window starts again.
  ASSERT_OK_AND_ASSIGN(TargetResolver::Decision d, resolver_->Resolve(At("b")));
  EXPECT_EQ(d.targets.size(), 1u);
  clock_.Advance(absl::Seconds(60));
  ASSERT_OK_AND_ASSIGN(d, resolver_->Resolve(At("a")));
  EXPECT_EQ(d.targets.size(), 1u);
}

TEST_F(RulesResolverTest, SuppressedNotificationsAreNotCountedByThrottles) {
  AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules({
      RuleForTest("thr", {{"position", 1},
                          {"continue", true},
                          {"actions", {{"throttle", {{"limit", 1}, {"window_s", 60}}}}}}),
      RuleForTest("mute", {{"position", 0},
                           {"continue", true},
                           {"match", {{"tags", {{{"key", "mute"}, {"op", "="}, {"value", "1"}}}}}},
                           {"actions", {{"suppress", true}}}}),
  });
  ASSERT_OK_AND_ASSIGN(RoutingPlan plan,
                       resolver_->Plan(At("t", Priority::kNormal, {{"mute", "1"}})));
  EXPECT_EQ(plan.suppression->rule_id, "mute");
  ASSERT_OK_AND_ASSIGN(TargetResolver::Decision d, resolver_->Resolve(At("t")));
  EXPECT_EQ(d.targets.size(), 1u);  // the muted one did not use the only slot
}

TEST_F(RulesResolverTest, KvOutageFailsOpenOrClosedAsConfigured) {
  const std::string def = AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules({RuleForTest("thr", {{"actions", {{"throttle", {{"limit", 1}, {"window_s", 60}}}}}})});
  rules_internal::UnavailableKv down;
  auto open = NewResolver({.clock = &clock_}, &down);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(RoutingPlan plan, open->Plan(At("t")));
    EXPECT_THAT(TargetIds(plan.decision), UnorderedElementsAre(def));
    ASSERT_EQ(plan.throttles.size(), 1u);
    EXPECT_TRUE(plan.throttles[0].kv_unavailable);
  }
  EXPECT_EQ(open->throttle_fail_open_count(), 3);

  RulesTargetResolverOptions options;
  options.clock = &clock_;
  options.throttle_fail_open = false;
  auto closed = NewResolver(options, &down);
  EXPECT_THAT(closed->Resolve(At("t")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connection refused")));
}

// --- Delay and digest (carried by the plan) ---------------------------------------------

TEST_F(RulesResolverTest, DelayCountsFromCreationOrSchedule) {
  AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules({RuleForTest(
      "slow", {{"actions", {{"delay_s", 300}, {"digest", {{"group_by", {"tags.env"}}}}}}})});
  Notification n = At("t", Priority::kNormal, {{"env", "prod"}});
  n.created_at = clock_.Now() - absl::Seconds(10);
  ASSERT_OK_AND_ASSIGN(RoutingPlan plan, resolver_->Plan(n));
  EXPECT_EQ(plan.not_before, n.created_at + absl::Seconds(300));
  ASSERT_TRUE(plan.digest.has_value());
  EXPECT_EQ(plan.digest->group_key, "tags.env=\"prod\"");
  EXPECT_EQ(plan.decision.targets.size(), 1u);
  // The dry run shows the delivery held for its group, as routing stores it.
  const nlohmann::json shown = RoutingPlanToJson(plan)["deliveries"][0];
  EXPECT_EQ(shown["status"], "held");
  EXPECT_EQ(shown["digest_key"], "slow/tags.env=\"prod\"");

  n.scheduled_at = clock_.Now() + absl::Hours(1);
  ASSERT_OK_AND_ASSIGN(plan, resolver_->Plan(n));
  EXPECT_EQ(plan.not_before, *n.scheduled_at + absl::Seconds(300));

  // A dry run of an unsaved notification counts from now.
  n = At("t");
  ASSERT_OK_AND_ASSIGN(plan, resolver_->DryRun(n));
  EXPECT_EQ(plan.not_before, clock_.Now() + absl::Seconds(300));
}

// --- Dry run ----------------------------------------------------------------------------

TEST_F(RulesResolverTest, DryRunCountsNothing) {
  AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules({RuleForTest("thr", {{"actions", {{"throttle", {{"limit", 1}, {"window_s", 60}}}}}})});
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(RoutingPlan plan, resolver_->DryRun(At("t")));
    EXPECT_EQ(plan.decision.targets.size(), 1u);
  }
  ASSERT_OK_AND_ASSIGN(RoutingPlan plan, resolver_->Plan(At("t")));
  EXPECT_EQ(plan.decision.targets.size(), 1u);
  ASSERT_OK_AND_ASSIGN(plan, resolver_->DryRun(At("t")));
  EXPECT_THAT(plan.decision.targets, IsEmpty());
  EXPECT_THAT(plan.decision.reason, HasSubstr("throttled by rule thr"));
}

TEST_F(RulesResolverTest, PlanToJson) {
  const std::string hook = AddIntegration(Channel::kWebhook, "ops hook");
  SetRules({RuleForTest("r1", {{"name", "ops"},
                               {"position", 3},
                               {"actions",
                                {{"route", {{"integration_ids", {hook}}}},
                                 {"priority", {{"set", "critical"}}},
                                 {"throttle", {{"limit", 5}, {"window_s", 60}}},
                                 {"delay_s", 60}}}})});
  Notification n = At("t");
  n.created_at = clock_.Now();
  ASSERT_OK_AND_ASSIGN(RoutingPlan plan, resolver_->DryRun(n));
  Json expected = Json::parse(R"({
    "evaluation": {
      "matched_rules": [{"id": "r1", "name": "ops", "position": 3, "continue": false}],
      "no_rule_matched": false,
      "priority": {"submitted": "normal", "effective": "critical"},
      "targets": {"source": "rules", "integration_ids": ["HOOK"], "channels": []},
      "suppressed": false,
      "throttles": [{"rule_id": "r1", "limit": 5, "window_s": 60, "group_key": ""}],
      "delay_s": 60},
    "deliveries": [{"integration_id": "HOOK", "integration_name": "ops hook",
                    "channel": "webhook", "recipient": "", "status": "pending"}],
    "dropped_recipients": [],
    "suppressed": false,
    "throttle_outcomes": [{"rule_id": "r1", "group_key": "", "allowed": true, "remaining": 4,
                           "window_end": "2027-01-15T08:01:00.000000Z",
                           "kv_unavailable": false}],
    "effective_priority": "critical",
    "not_before": "2027-01-15T08:01:00.000000Z"
  })");
  expected["evaluation"]["targets"]["integration_ids"][0] = hook;
  expected["deliveries"][0]["integration_id"] = hook;
  EXPECT_EQ(RoutingPlanToJson(plan), expected);

  SetRules({RuleForTest("m", {{"actions", {{"suppress", true}}}})});
  resolver_->Invalidate(kTenant);
  ASSERT_OK_AND_ASSIGN(plan, resolver_->DryRun(n));
  Json j = RoutingPlanToJson(plan);
  EXPECT_EQ(j["deliveries"], Json::array());
  EXPECT_EQ(j["reason"], "suppressed by rule m (\"rule m\")");
  EXPECT_EQ(j["suppression"],
            (Json{{"rule_id", "m"}, {"reason", "suppressed by rule m (\"rule m\")"}}));
  EXPECT_FALSE(j.contains("not_before"));
}

// The dry run equals what routing for real decides, over generated rules and
// notifications (issue 5's property).
TEST_F(RulesResolverTest, DryRunEqualsPlanOnGeneratedInputs) {
  const std::vector<std::string> hooks = {
      AddIntegration(Channel::kWebhook, "h1"), AddIntegration(Channel::kWebhook, "h2", false),
      AddIntegration(Channel::kSlack, "s1"), AddIntegration(Channel::kEmail, "e1", true, true)};
  std::mt19937 rng(7);
  auto pick = [&](const auto& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  auto chance = [&](int percent) {
    return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
  };
  const std::vector<std::string> types = {"deploy.*", "deploy.done", "*.failed", "", "build.*"};
  const std::vector<std::string> ops = {"=", "!=", "=~", "!~"};
  const std::vector<std::string> values = {"prod", "", "prod|dev", ".*", "d.+"};
  const std::vector<std::string> priorities = {"min", "low", "normal", "high", "critical"};

  for (int round = 0; round < 20; ++round) {
    std::vector<Rule> rules;
    for (int i = 0; i < 8; ++i) {
      Json match = Json::object();
      if (chance(70)) {
        if (std::string t = pick(types); !t.empty()) match["type"] = t;
      }
      if (chance(30)) match["min_priority"] = pick(priorities);
      if (chance(60)) {
        match["tags"] = {{{"key", "env"}, {"op", pick(ops)}, {"value", pick(values)}}};
      }
      if (chance(20)) match["any"] = {{{"recipients_present", true}}, {{"type", "job.*"}}};
      Json actions = Json::object();
      if (chance(10)) {
        actions["suppress"] = true;
      } else {
        if (chance(60)) {
          actions["route"] = {{"integration_ids", {pick(hooks)}}};
          if (chance(50)) actions["route"]["channels"] = {"slack"};
        }
        if (chance(30)) actions["priority"] = {{"raise", 1}};
        if (chance(40)) {
          actions["throttle"] = {{"limit", 2}, {"window_s", 60}, {"group_by", {"type"}}};
        }
        if (chance(20)) actions["delay_s"] = 30;
      }
      rules.push_back(RuleForTest(absl::StrCat("r", round, "-", i), {{"position", i % 4},
                                                                     {"continue", chance(40)},
                                                                     {"enabled", chance(90)},
                                                                     {"match", match},
                                                                     {"actions", actions}}));
    }
    SetRules(rules);
    resolver_->Invalidate(kTenant);
    for (int k = 0; k < 15; ++k) {
      Notification n =
          At(pick(std::vector<std::string>{"deploy.done", "deploy.x", "job.failed", "build.1"}),
             static_cast<Priority>(std::uniform_int_distribution<int>(1, 5)(rng)));
      if (chance(60)) n.tags["env"] = pick(std::vector<std::string>{"prod", "dev", "staging"});
      if (chance(30)) n.recipients = {"user-1"};
      if (chance(20)) n.integration_ids = {pick(hooks)};
      n.created_at = clock_.Now();
      ASSERT_OK_AND_ASSIGN(RoutingPlan dry, resolver_->DryRun(n));
      ASSERT_OK_AND_ASSIGN(RoutingPlan real, resolver_->Plan(n));
      ASSERT_EQ(RoutingPlanToJson(dry), RoutingPlanToJson(real))
          << "round " << round << " notification " << k;
    }
    clock_.Advance(absl::Seconds(60));  // fresh throttle windows
  }
}

// --- Recipients -------------------------------------------------------------------------

class RecipientRoutingTest : public RulesResolverTest {
 protected:
  // A user of kTenant with `addresses` and `prefs`; returns its id.
  std::string AddUser(absl::string_view email, ChannelAddresses addresses = {},
                      std::optional<Preferences> prefs = std::nullopt) {
    User u;
    u.id = NewUuidV7(clock_.Now());
    u.tenant_id = kTenant;
    u.email = std::string(email);
    u.addresses = std::move(addresses);
    u.created_at = clock_.Now();
    EXPECT_OK(store_->CreateUser(u));
    if (prefs.has_value()) {
      EXPECT_OK(store_->SetPreferences(kTenant, u.id, *prefs));
    }
    return u.id;
  }

  static Preferences QuietNights(absl::string_view zone) {
    Preferences p;
    p.time_zone = std::string(zone);
    p.quiet_hours = {{.days = {absl::Weekday::monday, absl::Weekday::tuesday,
                               absl::Weekday::wednesday, absl::Weekday::thursday,
                               absl::Weekday::friday, absl::Weekday::saturday,
                               absl::Weekday::sunday},
                      .start_minute = 22 * 60,
                      .end_minute = 7 * 60}};
    return p;
  }

  // (integration id, recipient) of each target.
  static std::vector<std::pair<std::string, std::string>> Pairs(const RoutingPlan& plan) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const TargetResolver::Target& t : plan.decision.targets) {
      out.emplace_back(t.integration.id, t.recipient);
    }
    return out;
  }

  // The plan, after checking that the dry run is the same.
  RoutingPlan PlanOf(const Notification& n) {
    absl::StatusOr<RoutingPlan> dry = resolver_->DryRun(n);
    absl::StatusOr<RoutingPlan> real = resolver_->Plan(n);
    EXPECT_OK(dry.status());
    EXPECT_OK(real.status());
    if (!dry.ok() || !real.ok()) return RoutingPlan();
    EXPECT_EQ(RoutingPlanToJson(*dry), RoutingPlanToJson(*real));
    return *std::move(real);
  }
};

TEST_F(RecipientRoutingTest, OneTargetPerRecipientOnPersonalChannelsAndOneWebhook) {
  const std::string hook = AddIntegration(Channel::kWebhook, "hook");
  const std::string slack = AddIntegration(Channel::kSlack, "slack");
  const std::string email = AddIntegration(Channel::kEmail, "mail");
  const std::string ada = AddUser("ada@example.com", {.email = "",
                                                      .fcm_tokens = {},
                                                      .slack_user_id = "U024BE7LH",
                                                      .discord_user_id = ""});
  const std::string bob = AddUser("bob@example.com");
  const std::string ghost = NewUuidV7(clock_.Now());
  Notification n = At("deploy.done");
  n.integration_ids = {hook, slack, email};
  n.recipients = {ada, ghost, bob};
  RoutingPlan plan = PlanOf(n);
  using P = std::pair<std::string, std::string>;
  EXPECT_THAT(Pairs(plan), UnorderedElementsAre(P{hook, ""}, P{slack, ada}, P{email, ada},
                                                P{email, bob}));
  EXPECT_THAT(
      plan.dropped_recipients,
      ::testing::ElementsAre(
          DroppedRecipient{.recipient = ghost,
                           .integration_id = "",
                           .integration_name = "",
                           .channel = std::nullopt,
                           .reason = "no user with this id in the tenant"},
          DroppedRecipient{
              .recipient = bob,
              .integration_id = slack,
              .integration_name = "slack",
              .channel = Channel::kSlack,
              .reason = absl::StrCat("recipient ", bob,
                                     " has no addresses.slack_user_id for channel slack")}));
  EXPECT_EQ(plan.decision.reason, "");

  Json j = RoutingPlanToJson(plan);
  EXPECT_EQ(j["dropped_recipients"][0],
            (Json{{"recipient", ghost}, {"reason", "no user with this id in the tenant"}}));
  EXPECT_EQ(j["dropped_recipients"][1]["channel"], "slack");
  EXPECT_EQ(j["dropped_recipients"][1]["integration_id"], slack);
  for (const Json& d : j["deliveries"]) {
    EXPECT_EQ(d["status"], "pending");
    EXPECT_FALSE(d.contains("held_until"));
  }

  // Without recipients: one delivery per integration, as before.
  n.recipients.clear();
  EXPECT_THAT(Pairs(PlanOf(n)), UnorderedElementsAre(P{hook, ""}, P{slack, ""}, P{email, ""}));
}

TEST_F(RecipientRoutingTest, MinimumPriorityIsCheckedAgainstTheEffectivePriority) {
  const std::string email = AddIntegration(Channel::kEmail, "mail", true, /*is_default=*/true);
  Preferences picky;
  picky.min_priority = Priority::kHigh;
  const std::string ada = AddUser("ada@example.com", {}, picky);
  Preferences no_mail;
  no_mail.opt_out_channels = {Channel::kEmail};
  const std::string bob = AddUser("bob@example.com", {}, no_mail);
  Notification n = At("deploy.done", Priority::kNormal);
  n.recipients = {ada, bob};

  RoutingPlan plan = PlanOf(n);
  EXPECT_THAT(plan.decision.targets, IsEmpty());
  ASSERT_EQ(plan.dropped_recipients.size(), 2u);
  EXPECT_EQ(plan.dropped_recipients[0].reason,
            "priority normal is below the recipient's minimum high");
  EXPECT_EQ(plan.dropped_recipients[1].reason, "recipient opted out of channel email");
  EXPECT_EQ(plan.decision.reason,
            absl::StrCat("every recipient was dropped: ", ada,
                         " on mail: priority normal is below the recipient's minimum high; ",
                         bob, " on mail: recipient opted out of channel email"));

  // A rule raises deploys to high: Ada wants those.
  SetRules({RuleForTest("raise", {{"match", {{"type", "deploy.*"}}},
                                  {"actions", {{"priority", {{"raise", 1}}}}}})});
  resolver_->Invalidate(kTenant);
  plan = PlanOf(n);
  EXPECT_EQ(plan.effective_priority, Priority::kHigh);
  using P = std::pair<std::string, std::string>;
  EXPECT_THAT(Pairs(plan), UnorderedElementsAre(P{email, ada}));
  ASSERT_EQ(plan.dropped_recipients.size(), 1u);
  EXPECT_EQ(plan.dropped_recipients[0].recipient, bob);
}

TEST_F(RecipientRoutingTest, QuietHoursAcrossMidnightHoldUntilTheWindowEnds) {
  AddIntegration(Channel::kEmail, "mail", true, /*is_default=*/true);
  const std::string ada = AddUser("ada@example.com", {}, QuietNights("Europe/Berlin"));
  // 2027-01-15 23:30 in Berlin (CET, UTC+1).
  clock_.Set(absl::FromCivil(absl::CivilMinute(2027, 1, 15, 22, 30), absl::UTCTimeZone()));
  Notification n = At("deploy.done");
  n.recipients = {ada};
  RoutingPlan plan = PlanOf(n);
  ASSERT_EQ(plan.decision.targets.size(), 1u);
  const absl::Time seven_am = absl::FromCivil(absl::CivilMinute(2027, 1, 16, 6, 0),
                                              absl::UTCTimeZone());
  EXPECT_EQ(plan.decision.targets[0].held_until, seven_am);
  Json j = RoutingPlanToJson(plan);
  EXPECT_EQ(j["deliveries"][0]["status"], "held");
  EXPECT_EQ(j["deliveries"][0]["held_until"], "2027-01-16T06:00:00.000000Z");

  // Outside the window: delivered at once.
  clock_.Set(seven_am);
  plan = PlanOf(n);
  ASSERT_EQ(plan.decision.targets.size(), 1u);
  EXPECT_EQ(plan.decision.targets[0].held_until, std::nullopt);

  // A notification scheduled into the window is held from its schedule.
  n.scheduled_at = seven_am + absl::Hours(16);  // 23:00 in Berlin
  plan = PlanOf(n);
  ASSERT_EQ(plan.decision.targets.size(), 1u);
  EXPECT_EQ(plan.decision.targets[0].held_until, seven_am + absl::Hours(24));
}

TEST_F(RecipientRoutingTest, QuietHoursOnTheNightTheClocksGoBackLastTenHours) {
  AddIntegration(Channel::kEmail, "mail", true, /*is_default=*/true);
  const std::string ada = AddUser("ada@example.com", {}, QuietNights("America/New_York"));
  // 2026-10-31 23:00 EDT (UTC-4); clocks go back at 02:00 on 2026-11-01, so
  // 07:00 EST (UTC-5) is 12:00Z.
  clock_.Set(absl::FromCivil(absl::CivilMinute(2026, 11, 1, 3, 0), absl::UTCTimeZone()));
  Notification n = At("deploy.done");
  n.recipients = {ada};
  RoutingPlan plan = PlanOf(n);
  ASSERT_EQ(plan.decision.targets.size(), 1u);
  ASSERT_TRUE(plan.decision.targets[0].held_until.has_value());
  EXPECT_EQ(FormatRfc3339(*plan.decision.targets[0].held_until), "2026-11-01T12:00:00.000000Z");
}

TEST_F(RecipientRoutingTest, CriticalEffectivePriorityBypassesQuietHoursButNotOptOuts) {
  AddIntegration(Channel::kEmail, "mail", true, /*is_default=*/true);
  const std::string ada = AddUser("ada@example.com", {}, QuietNights("UTC"));
  Preferences no_mail = QuietNights("UTC");
  no_mail.opt_out_channels = {Channel::kEmail};
  const std::string bob = AddUser("bob@example.com", {}, no_mail);
  clock_.Set(absl::FromCivil(absl::CivilMinute(2027, 1, 15, 23, 0), absl::UTCTimeZone()));
  SetRules({RuleForTest("page", {{"match", {{"type", "outage.*"}}},
                                 {"actions", {{"priority", {{"set", "critical"}}}}}})});
  Notification n = At("outage.db", Priority::kLow);
  n.recipients = {ada, bob};
  RoutingPlan plan = PlanOf(n);
  ASSERT_EQ(plan.decision.targets.size(), 1u);
  EXPECT_EQ(plan.decision.targets[0].recipient, ada);
  EXPECT_EQ(plan.decision.targets[0].held_until, std::nullopt);
  ASSERT_EQ(plan.dropped_recipients.size(), 1u);
  EXPECT_EQ(plan.dropped_recipients[0].reason, "recipient opted out of channel email");

  // The same at low priority is held.
  Notification m = At("deploy.done", Priority::kLow);
  m.recipients = {ada};
  plan = PlanOf(m);
  ASSERT_EQ(plan.decision.targets.size(), 1u);
  EXPECT_TRUE(plan.decision.targets[0].held_until.has_value());
}

TEST_F(RecipientRoutingTest, OnlyUnknownOrUnreachableRecipientsLeaveNothing) {
  AddIntegration(Channel::kDiscord, "discord", true, /*is_default=*/true);
  const std::string ada = AddUser("ada@example.com");  // no discord id
  Notification n = At("deploy.done");
  n.recipients = {"no-such-user", ada};
  RoutingPlan plan = PlanOf(n);
  EXPECT_THAT(plan.decision.targets, IsEmpty());
  EXPECT_EQ(plan.decision.reason,
            absl::StrCat("every recipient was dropped: no-such-user: no user with this id in the "
                         "tenant; ",
                         ada, " on discord: recipient ", ada,
                         " has no addresses.discord_user_id for channel discord"));
}

TEST_F(RecipientRoutingTest, OnlyWebhooksNeedNoUsers) {
  const std::string hook = AddIntegration(Channel::kWebhook, "hook", true, /*is_default=*/true);
  Notification n = At("deploy.done");
  n.recipients = {"no-such-user"};
  RoutingPlan plan = PlanOf(n);
  EXPECT_THAT(TargetIds(plan.decision), UnorderedElementsAre(hook));
  EXPECT_THAT(plan.dropped_recipients, IsEmpty());  // the users were not looked up
}

// --- Cache ------------------------------------------------------------------------------

TEST_F(RulesResolverTest, CachesPerTenantUntilInvalidated) {
  AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules({RuleForTest("a", {{"actions", {{"suppress", true}}}})});
  ASSERT_OK_AND_ASSIGN(TargetResolver::Decision d, resolver_->Resolve(At("t")));
  EXPECT_THAT(d.targets, IsEmpty());
  ASSERT_OK(resolver_->Resolve(At("t")).status());
  EXPECT_EQ(loads(), 1);

  // A change is not seen until the tenant is invalidated.
  SetRules({});
  ASSERT_OK_AND_ASSIGN(d, resolver_->Resolve(At("t")));
  EXPECT_THAT(d.targets, IsEmpty());
  resolver_->Invalidate("another-tenant");  // no effect on this one
  ASSERT_OK_AND_ASSIGN(d, resolver_->Resolve(At("t")));
  EXPECT_THAT(d.targets, IsEmpty());
  EXPECT_EQ(loads(), 1);

  resolver_->Invalidate(kTenant);
  ASSERT_OK_AND_ASSIGN(d, resolver_->Resolve(At("t")));
  EXPECT_EQ(d.targets.size(), 1u);
  EXPECT_EQ(loads(), 2);
}

TEST_F(RulesResolverTest, ReloadsAfterMaxStaleness) {
  SetRules({});
  ASSERT_OK(resolver_->Resolve(At("t")).status());
  clock_.Advance(absl::Seconds(29));
  ASSERT_OK(resolver_->Resolve(At("t")).status());
  EXPECT_EQ(loads(), 1);
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(resolver_->Resolve(At("t")).status());
  EXPECT_EQ(loads(), 2);
}

TEST_F(RulesResolverTest, ReloadReusesCompiledRulesOfUnchangedVersions) {
  std::vector<Rule> rules;
  for (int i = 0; i < 5; ++i) {
    rules.push_back(RuleForTest(
        absl::StrCat("r", i),
        {{"position", i},
         {"match", {{"tags", {{{"key", "env"}, {"op", "=~"}, {"value", "prod|dev"}}}}}}}));
  }
  SetRules(rules);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const CompiledRuleSet> first, resolver_->RulesFor(kTenant));
  rules[2].updated_at += absl::Seconds(1);
  SetRules(rules);
  resolver_->Invalidate(kTenant);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const CompiledRuleSet> second, resolver_->RulesFor(kTenant));
  EXPECT_EQ(second->size(), 5u);
  EXPECT_EQ(second->reused_count(), 4u);
  EXPECT_EQ(&second->rule(0), &first->rule(0));
  EXPECT_NE(&second->rule(2), &first->rule(2));
}

TEST_F(RulesResolverTest, ALoadRacingAnInvalidationIsNotCached) {
  SetRules({});
  {
    absl::MutexLock lock(&mu_);
    invalidate_during_load_ = true;
  }
  ASSERT_OK(resolver_->Resolve(At("t")).status());
  ASSERT_OK(resolver_->Resolve(At("t")).status());
  EXPECT_EQ(loads(), 2);  // the first load was not kept
  ASSERT_OK(resolver_->Resolve(At("t")).status());
  EXPECT_EQ(loads(), 2);
}

// Routing threads and a thread changing rules at once (the cache's locking;
// run under TSan to check the races too).
TEST_F(RulesResolverTest, ConcurrentResolvesAndInvalidations) {
  const std::string def = AddIntegration(Channel::kWebhook, "default", true, true);
  SetRules(
      {RuleForTest("mute", {{"match", {{"type", "mute.*"}}}, {"actions", {{"suppress", true}}}})});
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        absl::StatusOr<TargetResolver::Decision> d =
            resolver_->Resolve(At(i % 2 == 0 ? "mute.x" : "deploy.x"));
        if (!d.ok() || d->targets.size() != (i % 2 == 0 ? 0u : 1u)) failed = true;
        if (t == 0 && i % 10 == 0) resolver_->Invalidate(kTenant);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(failed);
  EXPECT_GE(loads(), 2);
}

TEST_F(RulesResolverTest, SourceErrorsComeBackAsTheyAre) {
  {
    absl::MutexLock lock(&mu_);
    source_error_ = absl::UnavailableError("store busy");
  }
  EXPECT_THAT(resolver_->Resolve(At("t")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("store busy")));
  {
    absl::MutexLock lock(&mu_);
    source_error_ = absl::OkStatus();
  }
  EXPECT_OK(resolver_->Resolve(At("t")).status());
}

TEST_F(RulesResolverTest, AStoredRuleThatDoesNotCompileIsIgnored) {
  const std::string def = AddIntegration(Channel::kWebhook, "default", true, true);
  Rule broken = RuleForTest("broken", {{"position", 1}, {"actions", {{"suppress", true}}}});
  broken.match.tags = {{"env", TagOp::kMatches, "(unclosed"}};
  SetRules({broken,
            RuleForTest("ok", {{"position", 2}, {"actions", {{"priority", {{"set", "high"}}}}}})});
  ASSERT_OK_AND_ASSIGN(RoutingPlan plan, resolver_->Plan(At("t")));
  EXPECT_THAT(TargetIds(plan.decision), UnorderedElementsAre(def));
  EXPECT_EQ(plan.effective_priority, Priority::kHigh);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const CompiledRuleSet> set, resolver_->RulesFor(kTenant));
  ASSERT_EQ(set->skipped().size(), 1u);
  EXPECT_THAT(set->skipped()[0], StatusIs(absl::StatusCode::kInvalidArgument,
                                          AllOf(HasSubstr("broken"), HasSubstr("match.tags[0]"))));
}

}  // namespace
}  // namespace alerthub
