#include "alerthub/model/rule.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "alerthub/model/internal/test_util.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::model_test::HasFieldErrors;
using ::alerthub::model_test::IsOkAndHolds;
using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using Json = nlohmann::json;

constexpr char kPriorityRule[] =
    "must be one of min, low, normal, high, critical or 1-5";
constexpr char kGlobRule[] =
    "must be a type or a glob of a-z, 0-9, '.', '_', '-' and '*'";
constexpr char kTagKeyRule[] =
    "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'";
constexpr char kGroupByRule[] =
    "must be type, priority, recipient or tags.<key>";
constexpr char kUuid[] = "01936f0e-7a3c-7b21-9d4e-0123456789ab";

struct Case {
  std::string name;
  Json request;
  std::vector<FieldError> errors;  // empty: accepted
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Json RuleWith(const char* key, Json value) {
  Json j = {{"name", "r"}};
  j[key] = std::move(value);
  return j;
}

Json MatchWith(const char* key, Json value) {
  Json m = Json::object();
  m[key] = std::move(value);
  return RuleWith("match", std::move(m));
}

Json ActionsWith(const char* key, Json value) {
  Json a = Json::object();
  a[key] = std::move(value);
  return RuleWith("actions", std::move(a));
}

Json Tag(Json key, Json op, Json value) {
  Json t = Json::object();
  if (!key.is_null()) t["key"] = std::move(key);
  if (!op.is_null()) t["op"] = std::move(op);
  if (!value.is_null()) t["value"] = std::move(value);
  return MatchWith("tags", Json::array({std::move(t)}));
}

// `levels` match objects nested through "any"; the outermost is "match".
Json NestedAny(int levels) {
  Json m = {{"type", "x"}};
  for (int i = 1; i < levels; ++i) m = Json{{"any", Json::array({m})}};
  return RuleWith("match", m);
}

std::vector<Case> Cases() {
  return {
      {"Minimal", Json{{"name", "r"}}, {}},
      {"NameMissing", Json::object(), {{"name", "is required"}}},
      {"NameEmpty", Json{{"name", ""}}, {{"name", "must not be empty"}}},
      {"NameTooLong",
       Json{{"name", std::string(129, 'n')}},
       {{"name", "must be at most 128 characters"}}},
      {"EnabledString",
       RuleWith("enabled", "no"),
       {{"enabled", "must be a boolean"}}},
      {"PositionNegative",
       RuleWith("position", -1),
       {{"position", "must be between 0 and 1000000"}}},
      {"PositionTooLarge",
       RuleWith("position", 1000001),
       {{"position", "must be between 0 and 1000000"}}},
      {"PositionFraction",
       RuleWith("position", 1.5),
       {{"position", "must be an integer"}}},
      {"PositionString",
       RuleWith("position", "1"),
       {{"position", "must be an integer"}}},
      {"ContinueNumber",
       RuleWith("continue", 1),
       {{"continue", "must be a boolean"}}},
      {"AssignedId",
       RuleWith("id", "x"),
       {{"id", "is assigned by AlertHub and cannot be set"}}},
      {"AssignedTenantId",
       RuleWith("tenant_id", "x"),
       {{"tenant_id", "is assigned by AlertHub and cannot be set"}}},
      {"UnknownField",
       RuleWith("priority", 1),
       {{"priority", "unknown field"}}},
      {"NotAnObject", Json::array(), {{"", "must be a JSON object"}}},
      // match
      {"MatchEmpty", RuleWith("match", Json::object()), {}},
      {"MatchString",
       RuleWith("match", "deploy.*"),
       {{"match", "must be an object"}}},
      {"MatchUnknown",
       MatchWith("priority", "high"),
       {{"match.priority", "unknown field"}}},
      {"MatchType", MatchWith("type", "deploy.*"), {}},
      {"MatchTypeUppercase",
       MatchWith("type", "Deploy.*"),
       {{"match.type", kGlobRule}}},
      {"MatchTypeEmpty", MatchWith("type", ""), {{"match.type", kGlobRule}}},
      {"MatchTypeNumber",
       MatchWith("type", 1),
       {{"match.type", "must be a string"}}},
      {"MatchMinPriorityBad",
       MatchWith("min_priority", "urgent"),
       {{"match.min_priority", kPriorityRule}}},
      {"MatchMaxPriorityBad",
       MatchWith("max_priority", 0),
       {{"match.max_priority", kPriorityRule}}},
      {"MatchPriorityRange",
       RuleWith("match", {{"min_priority", "low"}, {"max_priority", 4}}),
       {}},
      {"MatchPriorityInverted",
       RuleWith("match", {{"min_priority", "high"}, {"max_priority", "low"}}),
       {{"match.max_priority", "must not be below min_priority"}}},
      {"MatchRecipientsPresentString",
       MatchWith("recipients_present", "yes"),
       {{"match.recipients_present", "must be a boolean"}}},
      // match.tags
      {"TagEqual", Tag("env", "=", "prod"), {}},
      {"TagNotEqual", Tag("env", "!=", ""), {}},
      {"TagRegex", Tag("env", "=~", "prod|staging-[0-9]+"), {}},
      {"TagNotRegex", Tag("env", "!~", "dev.*"), {}},
      {"TagsString",
       MatchWith("tags", "env=prod"),
       {{"match.tags", "must be an array of objects"}}},
      {"TagNumber",
       MatchWith("tags", {1}),
       {{"match.tags[0]", "must be an object"}}},
      {"TagEmpty",
       Tag(nullptr, nullptr, nullptr),
       {{"match.tags[0].key", "is required"},
        {"match.tags[0].op", "is required"},
        {"match.tags[0].value", "is required"}}},
      {"TagKeyBad",
       Tag("bad key", "=", "x"),
       {{"match.tags[0].key", kTagKeyRule}}},
      {"TagKeyNumber",
       Tag(1, "=", "x"),
       {{"match.tags[0].key", "must be a string"}}},
      {"TagOpBad",
       Tag("env", "==", "x"),
       {{"match.tags[0].op", "must be one of =, !=, =~, !~"}}},
      {"TagOpNumber",
       Tag("env", 1, "x"),
       {{"match.tags[0].op", "must be one of =, !=, =~, !~"}}},
      {"TagValueNumber",
       Tag("env", "=", 1),
       {{"match.tags[0].value", "must be a string"}}},
      {"TagValueTooLong",
       Tag("env", "=", std::string(257, 'v')),
       {{"match.tags[0].value", "must be at most 256 characters"}}},
      {"TagRegexBad",
       Tag("env", "=~", "(prod"),
       {{"match.tags[0].value",
         "must be a valid RE2 pattern: missing ): (prod"}}},
      {"TagNotRegexBad",
       Tag("env", "!~", "a**"),
       {{"match.tags[0].value",
         "must be a valid RE2 pattern: bad repetition operator: **"}}},
      {"TagEqualIsNotARegex", Tag("env", "=", "(prod"), {}},
      {"TagUnknownMember",
       MatchWith(
           "tags",
           {{{"key", "env"}, {"op", "="}, {"value", "x"}, {"neg", true}}}),
       {{"match.tags[0].neg", "unknown field"}}},
      {"TagsTooMany",
       MatchWith("tags", Json(std::vector<Json>(
                             33, {{"key", "k"}, {"op", "="}, {"value", "v"}}))),
       {{"match.tags", "must have at most 32 entries"}}},
      // match.any / match.all
      {"AnyAndAll",
       RuleWith("match",
                {{"any", {{{"type", "a.*"}}, {{"min_priority", "high"}}}},
                 {"all", {{{"recipients_present", true}}}}}),
       {}},
      {"AnyString",
       MatchWith("any", "x"),
       {{"match.any", "must be an array of objects"}}},
      {"AllEntryNumber",
       MatchWith("all", {1}),
       {{"match.all[0]", "must be an object"}}},
      {"NestedError",
       RuleWith("match",
                {{"any", {{{"all", {Json::object(), {{"tpye", "x"}}}}}}}}),
       {{"match.any[0].all[1].tpye", "unknown field"}}},
      {"NestedDeepest", NestedAny(4), {}},
      {"NestedTooDeep",
       NestedAny(5),
       {{"match.any[0].any[0].any[0].any",
         "must be nested at most 4 levels deep"}}},
      {"AnyTooMany",
       MatchWith("any", Json(std::vector<Json>(17, {{"type", "x"}}))),
       {{"match.any", "must have at most 16 entries"}}},
      // actions
      {"ActionsEmpty", RuleWith("actions", Json::object()), {}},
      {"ActionsNumber",
       RuleWith("actions", 5),
       {{"actions", "must be an object"}}},
      {"ActionsUnknown",
       ActionsWith("notify", true),
       {{"actions.notify", "unknown field"}}},
      {"RouteChannels", ActionsWith("route", {{"channels", {"slack"}}}), {}},
      {"RouteIntegrations",
       ActionsWith("route", {{"integration_ids", {kUuid}}}),
       {}},
      {"RouteEmpty",
       ActionsWith("route", Json::object()),
       {{"actions.route", "must name at least one integration or channel"}}},
      {"RouteEmptyLists",
       ActionsWith("route", {{"channels", Json::array()},
                             {"integration_ids", Json::array()}}),
       {{"actions.route", "must name at least one integration or channel"}}},
      {"RouteNotUuid",
       ActionsWith("route", {{"integration_ids", {"x"}}}),
       {{"actions.route.integration_ids[0]", "must be a UUID"}}},
      {"RouteRepeatedId",
       ActionsWith("route", {{"integration_ids", {kUuid, kUuid}}}),
       {{"actions.route.integration_ids[1]", "is listed more than once"}}},
      {"RouteBadChannel",
       ActionsWith("route", {{"channels", {"sms"}}}),
       {{"actions.route.channels[0]",
         "must be one of webhook, slack, discord, email, push"}}},
      {"RouteString",
       ActionsWith("route", "slack"),
       {{"actions.route", "must be an object"}}},
      {"RouteUnknown",
       ActionsWith("route", {{"channels", {"slack"}}, {"users", {"u"}}}),
       {{"actions.route.users", "unknown field"}}},
      {"Suppress", ActionsWith("suppress", true), {}},
      {"SuppressString",
       ActionsWith("suppress", "yes"),
       {{"actions.suppress", "must be a boolean"}}},
      {"SuppressWithRoute",
       RuleWith("actions",
                {{"suppress", true}, {"route", {{"channels", {"email"}}}}}),
       {{"actions.suppress", "cannot be combined with other actions"}}},
      {"SuppressWithDelay",
       RuleWith("actions", {{"suppress", true}, {"delay_s", 5}}),
       {{"actions.suppress", "cannot be combined with other actions"}}},
      {"NoSuppressWithRoute",
       RuleWith("actions",
                {{"suppress", false}, {"route", {{"channels", {"email"}}}}}),
       {}},
      {"PrioritySet", ActionsWith("priority", {{"set", "critical"}}), {}},
      {"PriorityRaise", ActionsWith("priority", {{"raise", 2}}), {}},
      {"PriorityNeither",
       ActionsWith("priority", Json::object()),
       {{"actions.priority", "must have exactly one of set or raise"}}},
      {"PriorityBoth",
       ActionsWith("priority", {{"set", "high"}, {"raise", 1}}),
       {{"actions.priority", "must have exactly one of set or raise"}}},
      {"PrioritySetBad",
       ActionsWith("priority", {{"set", "urgent"}}),
       {{"actions.priority.set", kPriorityRule}}},
      {"PriorityRaiseZero",
       ActionsWith("priority", {{"raise", 0}}),
       {{"actions.priority.raise", "must be between 1 and 4"}}},
      {"PriorityRaiseFive",
       ActionsWith("priority", {{"raise", 5}}),
       {{"actions.priority.raise", "must be between 1 and 4"}}},
      {"Throttle",
       ActionsWith("throttle", {{"limit", 10},
                                {"window_s", 60},
                                {"group_by", {"type", "tags.env"}}}),
       {}},
      {"ThrottleEmpty",
       ActionsWith("throttle", Json::object()),
       {{"actions.throttle.limit", "is required"},
        {"actions.throttle.window_s", "is required"}}},
      {"ThrottleZero",
       ActionsWith("throttle", {{"limit", 0}, {"window_s", 0}}),
       {{"actions.throttle.limit", "must be between 1 and 1000000"},
        {"actions.throttle.window_s", "must be between 1 and 604800"}}},
      {"ThrottleStrings",
       ActionsWith("throttle", {{"limit", "10"}, {"window_s", "1m"}}),
       {{"actions.throttle.limit", "must be an integer"},
        {"actions.throttle.window_s", "must be an integer"}}},
      {"GroupByBad",
       ActionsWith("throttle",
                   {{"limit", 1},
                    {"window_s", 1},
                    {"group_by", {"env", "tags.", "tags.bad key", 7}}}),
       {{"actions.throttle.group_by[0]", kGroupByRule},
        {"actions.throttle.group_by[1]", kGroupByRule},
        {"actions.throttle.group_by[2]", kGroupByRule},
        {"actions.throttle.group_by[3]", "must be a string"}}},
      {"GroupByRepeated",
       ActionsWith("throttle", {{"limit", 1},
                                {"window_s", 1},
                                {"group_by", {"recipient", "recipient"}}}),
       {{"actions.throttle.group_by[1]", "is listed more than once"}}},
      {"GroupByTooMany",
       ActionsWith("digest",
                   {{"group_by",
                     {"type", "priority", "recipient", "tags.a", "tags.b",
                      "tags.c", "tags.d", "tags.e", "tags.f"}}}),
       {{"actions.digest.group_by", "must have at most 8 entries"}}},
      {"GroupByString",
       ActionsWith("digest", {{"group_by", "type"}}),
       {{"actions.digest.group_by", "must be an array of strings"}}},
      {"DigestDefaults", ActionsWith("digest", Json::object()), {}},
      {"DigestBounds",
       ActionsWith("digest", {{"group_wait_s", -1}, {"group_interval_s", 0}}),
       {{"actions.digest.group_wait_s", "must be between 0 and 86400"},
        {"actions.digest.group_interval_s", "must be between 1 and 604800"}}},
      {"DigestUnknown",
       ActionsWith("digest", {{"repeat_interval_s", 1}}),
       {{"actions.digest.repeat_interval_s", "unknown field"}}},
      {"Delay", ActionsWith("delay_s", 2592000), {}},
      {"DelayNegative",
       ActionsWith("delay_s", -1),
       {{"actions.delay_s", "must be between 0 and 2592000"}}},
      {"DelayTooLong",
       ActionsWith("delay_s", 2592001),
       {{"actions.delay_s", "must be between 0 and 2592000"}}},
      {"DelayFraction",
       ActionsWith("delay_s", 0.5),
       {{"actions.delay_s", "must be an integer"}}},
      // everything at once, in field order
      {"AllErrors",
       Json::parse(R"({"enabled": 1, "position": -5,
          "match": {"type": "X", "tags": [{"key": "k", "op": "~", "value": "v"}]},
          "actions": {"route": {}, "throttle": {"limit": 1}}, "id": "x"})"),
       {{"id", "is assigned by AlertHub and cannot be set"},
        {"name", "is required"},
        {"enabled", "must be a boolean"},
        {"position", "must be between 0 and 1000000"},
        {"match.type", kGlobRule},
        {"match.tags[0].op", "must be one of =, !=, =~, !~"},
        {"actions.route", "must name at least one integration or channel"},
        {"actions.throttle.window_s", "is required"}}},
  };
}

class RuleRequestTest : public ::testing::TestWithParam<Case> {};

TEST_P(RuleRequestTest, ReportsExactFieldErrors) {
  absl::StatusOr<Rule> r = RuleFromRequestJson(GetParam().request);
  if (GetParam().errors.empty()) {
    EXPECT_OK(r);
  } else {
    EXPECT_THAT(r, HasFieldErrors(GetParam().errors));
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, RuleRequestTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(TagOpTest, NamesRoundTrip) {
  const std::vector<std::pair<TagOp, std::string>> names = {
      {TagOp::kEqual, "="},
      {TagOp::kNotEqual, "!="},
      {TagOp::kMatches, "=~"},
      {TagOp::kNotMatches, "!~"}};
  for (const auto& [op, name] : names) {
    EXPECT_EQ(TagOpName(op), name);
    EXPECT_THAT(ParseTagOp(name), IsOkAndHolds(op));
  }
  EXPECT_EQ(TagOpName(static_cast<TagOp>(0)), "unknown");
  EXPECT_THAT(ParseTagOp("=="),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown tag operator \"==\"; must be one of =, !=, "
                       "=~, !~"));
}

constexpr char kFullRule[] = R"({
  "name": "prod deploys", "enabled": false, "position": 10, "continue": true,
  "match": {
    "type": "deploy.*", "min_priority": "normal", "max_priority": "critical",
    "tags": [{"key": "env", "op": "=", "value": "prod"},
             {"key": "region", "op": "=~", "value": "eu-.*"}],
    "recipients_present": false,
    "any": [{"type": "deploy.finished"}, {"tags": [{"key": "team", "op": "!=", "value": "x"}]}],
    "all": [{"min_priority": "high"}]
  },
  "actions": {
    "route": {"integration_ids": ["01936f0e-7a3c-7b21-9d4e-0123456789ab"],
              "channels": ["slack", "email"]},
    "priority": {"raise": 1},
    "throttle": {"limit": 10, "window_s": 60, "group_by": ["type", "tags.env"]},
    "digest": {"group_by": ["recipient"], "group_wait_s": 10, "group_interval_s": 120},
    "delay_s": 30
  }
})";

TEST(RuleFromRequestJsonTest, ParsesEveryField) {
  ASSERT_OK_AND_ASSIGN(Rule r, RuleFromRequestJson(Json::parse(kFullRule)));
  EXPECT_EQ(r.name, "prod deploys");
  EXPECT_FALSE(r.enabled);
  EXPECT_EQ(r.position, 10);
  EXPECT_TRUE(r.continue_matching);
  EXPECT_EQ(r.match.type, "deploy.*");
  EXPECT_EQ(r.match.min_priority, Priority::kNormal);
  EXPECT_EQ(r.match.max_priority, Priority::kCritical);
  ASSERT_EQ(r.match.tags.size(), 2u);
  EXPECT_EQ(r.match.tags[1].key, "region");
  EXPECT_EQ(r.match.tags[1].op, TagOp::kMatches);
  EXPECT_EQ(r.match.tags[1].value, "eu-.*");
  EXPECT_EQ(r.match.recipients_present, false);
  ASSERT_EQ(r.match.any.size(), 2u);
  EXPECT_EQ(r.match.any[0].type, "deploy.finished");
  EXPECT_EQ(r.match.any[1].tags[0].op, TagOp::kNotEqual);
  ASSERT_EQ(r.match.all.size(), 1u);
  EXPECT_EQ(r.match.all[0].min_priority, Priority::kHigh);
  ASSERT_TRUE(r.actions.route.has_value());
  EXPECT_THAT(r.actions.route->integration_ids, ElementsAre(kUuid));
  EXPECT_THAT(r.actions.route->channels,
              ElementsAre(Channel::kSlack, Channel::kEmail));
  EXPECT_FALSE(r.actions.suppress);
  ASSERT_TRUE(r.actions.priority.has_value());
  EXPECT_FALSE(r.actions.priority->set.has_value());
  EXPECT_EQ(r.actions.priority->raise, 1);
  ASSERT_TRUE(r.actions.throttle.has_value());
  EXPECT_EQ(r.actions.throttle->limit, 10);
  EXPECT_EQ(r.actions.throttle->window, absl::Seconds(60));
  EXPECT_THAT(r.actions.throttle->group_by, ElementsAre("type", "tags.env"));
  ASSERT_TRUE(r.actions.digest.has_value());
  EXPECT_EQ(r.actions.digest->group_wait, absl::Seconds(10));
  EXPECT_EQ(r.actions.digest->group_interval, absl::Seconds(120));
  EXPECT_EQ(r.actions.delay, absl::Seconds(30));
}

TEST(RuleFromRequestJsonTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(
      Rule r, RuleFromRequestJson(
                  Json::parse(R"({"name": "r", "actions": {"digest": {}}})")));
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.position, 0);
  EXPECT_FALSE(r.continue_matching);
  EXPECT_TRUE(r.match.type.empty());
  EXPECT_FALSE(r.match.min_priority.has_value());
  EXPECT_FALSE(r.actions.route.has_value());
  ASSERT_TRUE(r.actions.digest.has_value());
  EXPECT_EQ(r.actions.digest->group_wait, absl::Seconds(30));
  EXPECT_EQ(r.actions.digest->group_interval, absl::Minutes(5));
  EXPECT_EQ(r.actions.delay, absl::ZeroDuration());
}

TEST(RuleJsonTest, WritesEveryFieldAndRoundTrips) {
  ASSERT_OK_AND_ASSIGN(Rule r, RuleFromRequestJson(Json::parse(kFullRule)));
  r.id = "01936f0e-7a3c-7b21-9d4e-00000000000a";
  r.tenant_id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  r.created_at = absl::FromUnixSeconds(1'800'000'000);
  r.updated_at = absl::FromUnixSeconds(1'800'000'003);
  Json expected = Json::parse(kFullRule);
  expected["id"] = r.id;
  expected["tenant_id"] = r.tenant_id;
  expected["created_at"] = "2027-01-15T08:00:00.000000Z";
  expected["updated_at"] = "2027-01-15T08:00:03.000000Z";
  Json j = RuleToJson(r);
  EXPECT_EQ(j, expected);

  ASSERT_OK_AND_ASSIGN(Rule back, RuleFromJson(Json::parse(j.dump())));
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.tenant_id, r.tenant_id);
  EXPECT_EQ(back.created_at, r.created_at);
  EXPECT_EQ(back.updated_at, r.updated_at);
  // RuleToJson writes every field, so equal JSON means equal rules.
  EXPECT_EQ(RuleToJson(back), j);
}

TEST(RuleJsonTest, MinimalAndPrioritySet) {
  Rule r;
  r.id = "i";
  r.tenant_id = "t";
  r.name = "n";
  r.actions.priority = PriorityAction{Priority::kHigh, 0};
  r.actions.suppress = false;
  Json j = RuleToJson(r);
  EXPECT_EQ(j, Json::parse(R"({"id": "i", "tenant_id": "t", "name": "n",
      "enabled": true, "position": 0, "continue": false, "match": {},
      "actions": {"priority": {"set": "high"}}})"));
  ASSERT_OK_AND_ASSIGN(Rule back, RuleFromJson(j));
  EXPECT_EQ(back.actions.priority->set, Priority::kHigh);
  EXPECT_EQ(RuleToJson(back), j);

  Rule suppress = r;
  suppress.actions = RuleActions();
  suppress.actions.suppress = true;
  ASSERT_OK_AND_ASSIGN(Rule suppress_back, RuleFromJson(RuleToJson(suppress)));
  EXPECT_TRUE(suppress_back.actions.suppress);
}

TEST(RuleFromJsonTest, ChecksShapeAndIgnoresUnknown) {
  ASSERT_OK_AND_ASSIGN(Rule r, RuleFromRequestJson(Json::parse(kFullRule)));
  r.id = "i";
  r.tenant_id = "t";
  Json j = RuleToJson(r);
  j["later"] = 1;
  j["match"]["severity"] = "x";
  j["actions"]["escalate"] = {};
  EXPECT_OK(RuleFromJson(j));
  j.erase("tenant_id");
  j["match"]["type"] = 1;
  EXPECT_THAT(RuleFromJson(j),
              HasFieldErrors({{"match.type", "must be a string"},
                              {"tenant_id", "is required"}}));
}

}  // namespace
}  // namespace alerthub
