#include "alerthub/rules/evaluator.h"

#include <string>
#include <vector>

#include "alerthub/rules/internal/test_util.h"
#include "alerthub/rules/matcher.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::rules_internal::NotificationForTest;
using ::alerthub::rules_internal::RuleForTest;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Json = nlohmann::json;

constexpr char kHookA[] = "0190a5b2-0000-7000-8000-00000000000a";
constexpr char kHookB[] = "0190a5b2-0000-7000-8000-00000000000b";

CompiledRuleSet Compile(std::vector<Rule> rules) {
  absl::StatusOr<CompiledRuleSet> set = CompiledRuleSet::Compile(std::move(rules));
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *std::move(set) : CompiledRuleSet();
}

std::vector<std::string> MatchedIds(const Evaluation& e) {
  std::vector<std::string> ids;
  for (const MatchedRule& m : e.matched_rules) ids.push_back(m.id);
  return ids;
}

TEST(EvaluateTest, FirstMatchWins) {
  CompiledRuleSet rules = Compile({
      RuleForTest("a", {{"position", 1},
                        {"match", {{"type", "deploy.*"}}},
                        {"actions", {{"route", {{"channels", {"slack"}}}}}}}),
      RuleForTest("b", {{"position", 2}, {"actions", {{"route", {{"channels", {"email"}}}}}}}),
  });
  Evaluation e = Evaluate(rules, NotificationForTest("deploy.done"));
  EXPECT_THAT(MatchedIds(e), ElementsAre("a"));
  EXPECT_EQ(e.target_source, TargetSource::kRules);
  EXPECT_THAT(e.channels, ElementsAre(Channel::kSlack));
  EXPECT_FALSE(e.no_rule_matched());

  e = Evaluate(rules, NotificationForTest("build.done"));
  EXPECT_THAT(MatchedIds(e), ElementsAre("b"));
  EXPECT_THAT(e.channels, ElementsAre(Channel::kEmail));
}

TEST(EvaluateTest, ContinueKeepsWalkingAndRoutesUnite) {
  CompiledRuleSet rules = Compile({
      RuleForTest("a", {{"position", 1},
                        {"continue", true},
                        {"actions",
                         {{"route", {{"integration_ids", {kHookA}}, {"channels", {"slack"}}}}}}}),
      RuleForTest("b", {{"position", 2},
                        {"continue", true},
                        {"match", {{"type", "nope"}}},
                        {"actions", {{"route", {{"channels", {"push"}}}}}}}),
      RuleForTest(
          "c", {{"position", 3},
                {"actions",
                 {{"route",
                   {{"integration_ids", {kHookB, kHookA}}, {"channels", {"slack", "email"}}}}}}}),
      RuleForTest("d", {{"position", 4}, {"actions", {{"route", {{"channels", {"discord"}}}}}}}),
  });
  Evaluation e = Evaluate(rules, NotificationForTest("t"));
  // c has no `continue`: d is never reached.
  EXPECT_THAT(MatchedIds(e), ElementsAre("a", "c"));
  EXPECT_THAT(e.integration_ids, ElementsAre(kHookA, kHookB));
  EXPECT_THAT(e.channels, ElementsAre(Channel::kSlack, Channel::kEmail));
  EXPECT_TRUE(e.matched_rules[0].continue_matching);
  EXPECT_FALSE(e.matched_rules[1].continue_matching);
}

TEST(EvaluateTest, NoRuleMatchedFallsBackToExplicitOrDefaults) {
  CompiledRuleSet rules =
      Compile({RuleForTest("a", {{"match", {{"type", "deploy.*"}}},
                                 {"actions", {{"route", {{"channels", {"slack"}}}}}}})});
  Notification n = NotificationForTest("build.done");
  Evaluation e = Evaluate(rules, n);
  EXPECT_TRUE(e.no_rule_matched());
  EXPECT_EQ(e.target_source, TargetSource::kTenantDefaults);
  EXPECT_THAT(e.integration_ids, IsEmpty());

  n.channels = {Channel::kEmail};
  e = Evaluate(rules, n);
  EXPECT_EQ(e.target_source, TargetSource::kExplicit);
  EXPECT_THAT(e.channels, IsEmpty());  // the caller resolves the notification's own

  // A matching route outranks the notification's explicit targets.
  n.type = "deploy.done";
  n.integration_ids = {kHookA};
  e = Evaluate(rules, n);
  EXPECT_EQ(e.target_source, TargetSource::kRules);
  EXPECT_THAT(e.channels, ElementsAre(Channel::kSlack));
  EXPECT_THAT(e.integration_ids, IsEmpty());
}

TEST(EvaluateTest, MatchedRulesWithoutRouteKeepTheFallbackTargets) {
  CompiledRuleSet rules = Compile({RuleForTest(
      "a", {{"actions", {{"throttle", {{"limit", 5}, {"window_s", 60}}}, {"delay_s", 30}}}})});
  Notification n = NotificationForTest("t");
  n.integration_ids = {kHookA};
  Evaluation e = Evaluate(rules, n);
  EXPECT_THAT(MatchedIds(e), ElementsAre("a"));
  EXPECT_EQ(e.target_source, TargetSource::kExplicit);
  EXPECT_EQ(e.delay, absl::Seconds(30));
  ASSERT_EQ(e.throttles.size(), 1u);
}

TEST(EvaluateTest, DisabledRulesAreSkipped) {
  CompiledRuleSet rules = Compile({
      RuleForTest("off", {{"position", 1}, {"enabled", false}, {"actions", {{"suppress", true}}}}),
      RuleForTest("on", {{"position", 2}, {"actions", {{"route", {{"channels", {"slack"}}}}}}}),
  });
  Evaluation e = Evaluate(rules, NotificationForTest("t"));
  EXPECT_THAT(MatchedIds(e), ElementsAre("on"));
  EXPECT_FALSE(e.suppression.has_value());
}

TEST(EvaluateTest, SuppressStopsTheWalkEvenWithContinue) {
  CompiledRuleSet rules = Compile({
      RuleForTest(
          "raise",
          {{"position", 1}, {"continue", true}, {"actions", {{"priority", {{"raise", 1}}}}}}),
      RuleForTest("mute",
                  {{"name", "mute \"noisy\""},
                   {"position", 2},
                   {"continue", true},
                   {"match", {{"tags", {{{"key", "noisy"}, {"op", "="}, {"value", "yes"}}}}}},
                   {"actions", {{"suppress", true}}}}),
      RuleForTest("route", {{"position", 3}, {"actions", {{"route", {{"channels", {"slack"}}}}}}}),
  });
  Evaluation e = Evaluate(rules, NotificationForTest("t", Priority::kNormal, {{"noisy", "yes"}}));
  EXPECT_THAT(MatchedIds(e), ElementsAre("raise", "mute"));
  ASSERT_TRUE(e.suppression.has_value());
  EXPECT_EQ(e.suppression->rule_id, "mute");
  EXPECT_EQ(e.suppression->reason, "suppressed by rule mute (\"mute \\\"noisy\\\"\")");

  e = Evaluate(rules, NotificationForTest("t"));
  EXPECT_THAT(MatchedIds(e), ElementsAre("raise", "route"));
  EXPECT_FALSE(e.suppression.has_value());
}

TEST(EvaluateTest, PriorityActionsApplyInOrderAndCapAtCritical) {
  CompiledRuleSet rules = Compile({
      RuleForTest("set-low", {{"position", 1},
                              {"continue", true},
                              {"match", {{"type", "a.*"}}},
                              {"actions", {{"priority", {{"set", "low"}}}}}}),
      RuleForTest(
          "raise-2",
          {{"position", 2}, {"continue", true}, {"actions", {{"priority", {{"raise", 2}}}}}}),
      // Matching sees the submitted priority, not the raised one.
      RuleForTest("only-high", {{"position", 3},
                                {"continue", true},
                                {"match", {{"min_priority", "high"}}},
                                {"actions", {{"priority", {{"raise", 4}}}}}}),
  });
  Evaluation e = Evaluate(rules, NotificationForTest("a.x", Priority::kCritical));
  EXPECT_EQ(e.submitted_priority, Priority::kCritical);
  // low, +2 = high, +4 capped = critical.
  EXPECT_EQ(e.effective_priority, Priority::kCritical);
  EXPECT_THAT(MatchedIds(e), ElementsAre("set-low", "raise-2", "only-high"));

  e = Evaluate(rules, NotificationForTest("b.x", Priority::kNormal));
  EXPECT_EQ(e.effective_priority, Priority::kCritical);  // normal + 2
  EXPECT_THAT(MatchedIds(e), ElementsAre("raise-2"));

  e = Evaluate(rules, NotificationForTest("a.x", Priority::kNormal));
  EXPECT_EQ(e.effective_priority, Priority::kHigh);  // low + 2; only-high does not match
}

TEST(EvaluateTest, ThrottlesDigestAndDelay) {
  CompiledRuleSet rules = Compile({
      RuleForTest("t1", {{"position", 1},
                         {"continue", true},
                         {"actions",
                          {{"throttle", {{"limit", 10}, {"window_s", 60}, {"group_by", {"type"}}}},
                           {"digest", {{"group_by", {"tags.env"}}, {"group_wait_s", 10}}},
                           {"delay_s", 5}}}}),
      RuleForTest("t2", {{"position", 2},
                         {"actions",
                          {{"throttle", {{"limit", 100}, {"window_s", 3600}}},
                           {"digest", {{"group_by", {"type"}}}},
                           {"delay_s", 120}}}}),
  });
  Evaluation e =
      Evaluate(rules, NotificationForTest("deploy.done", Priority::kNormal, {{"env", "prod"}}));
  EXPECT_THAT(
      e.throttles,
      ElementsAre(ThrottleRequest{.rule_id = "t1",
                                  .limit = 10,
                                  .window = absl::Seconds(60),
                                  .group_key = "type=\"deploy.done\""},
                  ThrottleRequest{
                      .rule_id = "t2", .limit = 100, .window = absl::Hours(1), .group_key = ""}));
  ASSERT_TRUE(e.digest.has_value());
  EXPECT_EQ(*e.digest, (DigestRequest{.rule_id = "t1",
                                      .group_key = "tags.env=\"prod\"",
                                      .group_wait = absl::Seconds(10),
                                      .group_interval = absl::Minutes(5)}));
  EXPECT_EQ(e.delay, absl::Seconds(120));
}

TEST(EvaluateTest, ToJson) {
  CompiledRuleSet rules = Compile({
      RuleForTest("a", {{"name", "prod deploys"},
                        {"position", 10},
                        {"continue", true},
                        {"match", {{"type", "deploy.*"}}},
                        {"actions",
                         {{"route", {{"integration_ids", {kHookA}}, {"channels", {"slack"}}}},
                          {"priority", {{"set", "high"}}},
                          {"throttle", {{"limit", 10}, {"window_s", 60}, {"group_by", {"type"}}}},
                          {"digest", {{"group_wait_s", 30}, {"group_interval_s", 300}}},
                          {"delay_s", 15}}}}),
      RuleForTest("b", {{"name", "mute"}, {"position", 20}, {"actions", {{"suppress", true}}}}),
  });
  EXPECT_EQ(EvaluationToJson(Evaluate(rules, NotificationForTest("deploy.done"))),
            Json::parse(R"json({
    "matched_rules": [
      {"id": "a", "name": "prod deploys", "position": 10, "continue": true},
      {"id": "b", "name": "mute", "position": 20, "continue": false}],
    "no_rule_matched": false,
    "priority": {"submitted": "normal", "effective": "high"},
    "targets": {"source": "rules",
                "integration_ids": ["0190a5b2-0000-7000-8000-00000000000a"],
                "channels": ["slack"]},
    "suppressed": true,
    "suppression": {"rule_id": "b", "reason": "suppressed by rule b (\"mute\")"},
    "throttles": [{"rule_id": "a", "limit": 10, "window_s": 60,
                   "group_key": "type=\"deploy.done\""}],
    "digest": {"rule_id": "a", "group_key": "", "group_wait_s": 30, "group_interval_s": 300},
    "delay_s": 15
  })json"));

  EXPECT_EQ(EvaluationToJson(Evaluate(CompiledRuleSet(), NotificationForTest("x"))),
            Json::parse(R"({
    "matched_rules": [],
    "no_rule_matched": true,
    "priority": {"submitted": "normal", "effective": "normal"},
    "targets": {"source": "tenant_defaults", "integration_ids": [], "channels": []},
    "suppressed": false,
    "throttles": [],
    "delay_s": 0
  })"));
}

TEST(TargetSourceTest, Names) {
  EXPECT_EQ(TargetSourceName(TargetSource::kRules), "rules");
  EXPECT_EQ(TargetSourceName(TargetSource::kExplicit), "explicit");
  EXPECT_EQ(TargetSourceName(TargetSource::kTenantDefaults), "tenant_defaults");
}

}  // namespace
}  // namespace alerthub
