#include "alerthub/rules/matcher.h"

#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/rules/internal/test_util.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "re2/re2.h"

// Counts heap allocations on the current thread while enabled, to hold the
// matcher to its allocation-free contract.
namespace {
thread_local bool g_count_allocations = false;
thread_local int64_t g_allocations = 0;
}  // namespace

// Every replaceable form that pairs with free(), so no memory crosses from
// this allocator to another (sanitizers check the pairing).
namespace {
void* CountedAlloc(std::size_t size) noexcept {
  if (g_count_allocations) ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = CountedAlloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = CountedAlloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return CountedAlloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAlloc(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace alerthub {
namespace {

using ::alerthub::rules_internal::NotificationForTest;
using ::alerthub::rules_internal::RuleForTest;
using ::alerthub::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Json = nlohmann::json;

// A match on the type glob `glob`; the API spells "any type" by leaving the
// type out.
Json TypeMatch(const std::string& glob) {
  return glob.empty() ? Json::object() : Json{{"type", glob}};
}

// Whether a rule whose match is `match` matches `n`; asks both the rule and
// a set holding it (which screens by type prefix and priority first), and
// checks that they agree.
bool Matches(const Json& match, const Notification& n) {
  const Rule rule = RuleForTest("r", {{"match", match}});
  absl::StatusOr<std::unique_ptr<CompiledRule>> r = CompiledRule::Compile(rule);
  EXPECT_TRUE(r.ok()) << r.status();
  absl::StatusOr<CompiledRuleSet> set = CompiledRuleSet::Compile({rule});
  EXPECT_TRUE(set.ok()) << set.status();
  if (!r.ok() || !set.ok()) return false;
  bool in_set = false;
  set->ForEachMatch(n, [&](const CompiledRule&) { return !(in_set = true); });
  EXPECT_EQ(in_set, (*r)->Matches(n)) << "set and rule disagree on " << match.dump();
  return in_set;
}

std::vector<std::string> MatchingIds(
    const CompiledRuleSet& set, const Notification& n,
    std::function<bool(const CompiledRule&)> keep_going = [](const CompiledRule&) {
      return true;
    }) {
  std::vector<std::string> ids;
  set.ForEachMatch(n, [&](const CompiledRule& r) {
    ids.push_back(r.rule().id);
    return keep_going(r);
  });
  return ids;
}

// --- Type globs -------------------------------------------------------------------------

struct GlobCase {
  std::string glob;
  std::string type;
  bool matches;
};

class GlobTest : public ::testing::TestWithParam<GlobCase> {};

TEST_P(GlobTest, Matches) {
  const GlobCase& c = GetParam();
  EXPECT_EQ(Matches(TypeMatch(c.glob), NotificationForTest(c.type)), c.matches)
      << "glob \"" << c.glob << "\" type \"" << c.type << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Globs, GlobTest,
    ::testing::Values(
        // Exact: the whole type, nothing more.
        GlobCase{"deploy.finished", "deploy.finished", true},
        GlobCase{"deploy.finished", "deploy.finished2", false},
        GlobCase{"deploy.finished", "xdeploy.finished", false},
        GlobCase{"deploy.finished", "deploy", false},
        // Empty and star-only globs match everything.
        GlobCase{"", "anything.at.all", true}, GlobCase{"*", "a", true},
        GlobCase{"**", "a.b.c", true},
        // `*` is any run, including none and including dots.
        GlobCase{"deploy.*", "deploy.finished", true}, GlobCase{"deploy.*", "deploy.", true},
        GlobCase{"deploy.*", "deploy.a.b", true}, GlobCase{"deploy.*", "deploy", false},
        GlobCase{"deploy.*", "predeploy.x", false}, GlobCase{"*.failed", "job.failed", true},
        GlobCase{"*.failed", "job.failed.again", false}, GlobCase{"*.failed", ".failed", true},
        GlobCase{"*deploy*", "pre-deploy-post", true}, GlobCase{"*deploy*", "deplo", false},
        GlobCase{"a*b*c", "abc", true}, GlobCase{"a*b*c", "axxbyyc", true},
        GlobCase{"a*b*c", "acbc", true}, GlobCase{"a*b*c", "abcb", false},
        GlobCase{"a*b*c", "ac", false}, GlobCase{"a**b", "ab", true},
        // Prefix and suffix may not share characters.
        GlobCase{"ab*ba", "aba", false}, GlobCase{"ab*ba", "abba", true},
        GlobCase{"a*a*a", "aa", false}, GlobCase{"a*a*a", "aaa", true},
        // Literal prefixes longer than the set's 8-byte screen.
        GlobCase{"deploy.finished.*", "deploy.finished.eu", true},
        GlobCase{"deploy.finished.*", "deploy.failed.eu", false},
        GlobCase{"deploy.f*", "deploy.f", true}, GlobCase{"deploy.f*", "deploy.", false},
        GlobCase{"deploy.fi*", "deploy.f", false}));

// A straightforward backtracking glob matcher, the reference for the split
// matcher over generated cases.
bool ReferenceGlob(absl::string_view glob, absl::string_view s) {
  if (glob.empty()) return s.empty();
  if (glob[0] == '*') {
    for (size_t i = 0; i <= s.size(); ++i) {
      if (ReferenceGlob(glob.substr(1), s.substr(i))) return true;
    }
    return false;
  }
  return !s.empty() && s[0] == glob[0] && ReferenceGlob(glob.substr(1), s.substr(1));
}

TEST(GlobPropertyTest, AgreesWithBacktrackingReference) {
  std::mt19937 rng(20240501);
  auto random_string = [&](absl::string_view alphabet, int max_len) {
    std::string s(std::uniform_int_distribution<int>(0, max_len)(rng), 'x');
    for (char& c : s)
      c = alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    return s;
  };
  int matched = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string glob = random_string("ab.*", 6);
    std::string type = random_string("ab.", 8);
    if (type.empty()) type = "a";  // a notification always has a type
    const bool expected = glob.empty() || ReferenceGlob(glob, type);
    ASSERT_EQ(Matches(TypeMatch(glob), NotificationForTest(type)), expected)
        << "glob \"" << glob << "\" type \"" << type << "\"";
    matched += expected;
  }
  EXPECT_GT(matched, 300);  // the generator exercises both outcomes
}

// --- Tag conditions ---------------------------------------------------------------------

struct TagCase {
  std::string op;
  std::string value;
  std::map<std::string, std::string> tags;  // of the notification
  bool matches;
};

class TagConditionTest : public ::testing::TestWithParam<TagCase> {};

TEST_P(TagConditionTest, OnKeyEnv) {
  const TagCase& c = GetParam();
  Json match = {{"tags", {{{"key", "env"}, {"op", c.op}, {"value", c.value}}}}};
  EXPECT_EQ(Matches(match, NotificationForTest("t", Priority::kNormal, c.tags)), c.matches)
      << "env " << c.op << " \"" << c.value << "\"";
}

using Tags = std::map<std::string, std::string>;
const Tags kProd = {{"env", "prod"}};
const Tags kNone = {{"other", "prod"}};

INSTANTIATE_TEST_SUITE_P(
    Operators, TagConditionTest,
    ::testing::Values(
        // = and !=; a missing tag is "".
        TagCase{"=", "prod", kProd, true}, TagCase{"=", "prod", {{"env", "dev"}}, false},
        TagCase{"=", "prod", kNone, false}, TagCase{"=", "", kNone, true},
        TagCase{"=", "", kProd, false}, TagCase{"=", "Prod", kProd, false},
        TagCase{"!=", "prod", kProd, false}, TagCase{"!=", "prod", {{"env", "dev"}}, true},
        TagCase{"!=", "prod", kNone, true}, TagCase{"!=", "", kNone, false},
        // =~ is fully anchored RE2.
        TagCase{"=~", "prod|staging", kProd, true},
        TagCase{"=~", "prod|staging", {{"env", "staging"}}, true},
        TagCase{"=~", "prod|staging", {{"env", "production"}}, false},
        TagCase{"=~", "prod", {{"env", "production"}}, false},
        TagCase{"=~", "prod", {{"env", "preprod"}}, false},
        TagCase{"=~", "prod.*", {{"env", "production"}}, true},
        TagCase{"=~", "v[0-9]+", {{"env", "v12"}}, true},
        TagCase{"=~", "v[0-9]+", {{"env", "v12a"}}, false}, TagCase{"=~", "(?i)PROD", kProd, true},
        // =~ on a missing tag sees "".
        TagCase{"=~", ".*", kNone, true}, TagCase{"=~", ".+", kNone, false},
        TagCase{"=~", "prod", kNone, false}, TagCase{"=~", "|prod", kNone, true},
        // RE2's `.` does not match a newline, also on the `.*` fast path.
        TagCase{"=~", ".*", {{"env", "a\nb"}}, false}, TagCase{"=~", ".*", kProd, true},
        // !~ is the negation, and holds on a missing tag unless "" matches.
        TagCase{"!~", "prod|staging", kProd, false},
        TagCase{"!~", "prod|staging", {{"env", "dev"}}, true},
        TagCase{"!~", "prod", {{"env", "production"}}, true},
        TagCase{"!~", "prod|staging", kNone, true}, TagCase{"!~", ".*", kNone, false},
        TagCase{"!~", ".+", kNone, true}));

TEST(TagConditionTest, AllConditionsMustHold) {
  Json match = {{"tags",
                 {{{"key", "env"}, {"op", "="}, {"value", "prod"}},
                  {{"key", "team"}, {"op", "=~"}, {"value", "db|infra"}}}}};
  EXPECT_TRUE(Matches(
      match, NotificationForTest("t", Priority::kNormal, {{"env", "prod"}, {"team", "db"}})));
  EXPECT_FALSE(Matches(
      match, NotificationForTest("t", Priority::kNormal, {{"env", "prod"}, {"team", "web"}})));
  EXPECT_FALSE(Matches(match, NotificationForTest("t", Priority::kNormal, {{"team", "db"}})));
}

// The fast paths (plain patterns as equalities, `.*`) and RE2 agree on every
// generated pattern and value.
TEST(TagConditionPropertyTest, AgreesWithRe2FullMatch) {
  const std::vector<std::string> patterns = {"prod",     "",
                                             ".*",       ".+",
                                             "prod|dev", "p.*",
                                             "a b",      "x-y_z:1/2@h=3,4",
                                             "v[0-9]+",  "#!~<>;&%'\"",
                                             "(?i)prod", "a*",
                                             "\\.",      "eu-[a-z]+-[0-9]"};
  const std::vector<std::string> values = {"prod",        "",          "Prod",
                                           "dev",         "p",         "a b",
                                           "a\nb",        "v1",        "x-y_z:1/2@h=3,4",
                                           "#!~<>;&%'\"", "aaa",       ".",
                                           "eu-west-1",   "production"};
  for (const std::string& p : patterns) {
    RE2 re(p);
    ASSERT_TRUE(re.ok()) << p;
    for (const std::string& v : values) {
      for (const char* op : {"=~", "!~"}) {
        const bool full = RE2::FullMatch(v, re);
        const bool expected = std::string(op) == "=~" ? full : !full;
        Json match = {{"tags", {{{"key", "k"}, {"op", op}, {"value", p}}}}};
        EXPECT_EQ(Matches(match, NotificationForTest("t", Priority::kNormal, {{"k", v}})), expected)
            << "k " << op << " \"" << p << "\" on \"" << v << "\"";
      }
    }
  }
}

// --- Priority bounds and recipients -----------------------------------------------------

TEST(PriorityBoundsTest, AreInclusive) {
  auto at = [](Priority p) { return NotificationForTest("t", p); };
  const Json min_high = {{"min_priority", "high"}};
  EXPECT_FALSE(Matches(min_high, at(Priority::kNormal)));
  EXPECT_TRUE(Matches(min_high, at(Priority::kHigh)));
  EXPECT_TRUE(Matches(min_high, at(Priority::kCritical)));
  const Json max_low = {{"max_priority", "low"}};
  EXPECT_TRUE(Matches(max_low, at(Priority::kMin)));
  EXPECT_TRUE(Matches(max_low, at(Priority::kLow)));
  EXPECT_FALSE(Matches(max_low, at(Priority::kNormal)));
  const Json only_normal = {{"min_priority", "normal"}, {"max_priority", 3}};
  EXPECT_FALSE(Matches(only_normal, at(Priority::kLow)));
  EXPECT_TRUE(Matches(only_normal, at(Priority::kNormal)));
  EXPECT_FALSE(Matches(only_normal, at(Priority::kHigh)));
}

TEST(RecipientsPresentTest, TrueFalseAndUnset) {
  const Notification with = NotificationForTest("t", Priority::kNormal, {}, {"user-1"});
  const Notification without = NotificationForTest("t");
  EXPECT_TRUE(Matches({{"recipients_present", true}}, with));
  EXPECT_FALSE(Matches({{"recipients_present", true}}, without));
  EXPECT_FALSE(Matches({{"recipients_present", false}}, with));
  EXPECT_TRUE(Matches({{"recipients_present", false}}, without));
  EXPECT_TRUE(Matches(Json::object(), with));
  EXPECT_TRUE(Matches(Json::object(), without));
}

// --- any / all --------------------------------------------------------------------------

TEST(GroupsTest, AnyNeedsOneAllNeedsEach) {
  const Json any = {{"any", {{{"type", "a.*"}}, {{"min_priority", "critical"}}}}};
  EXPECT_TRUE(Matches(any, NotificationForTest("a.x")));
  EXPECT_TRUE(Matches(any, NotificationForTest("b.x", Priority::kCritical)));
  EXPECT_FALSE(Matches(any, NotificationForTest("b.x")));

  const Json all = {{"all", {{{"type", "a.*"}}, {{"min_priority", "high"}}}}};
  EXPECT_TRUE(Matches(all, NotificationForTest("a.x", Priority::kHigh)));
  EXPECT_FALSE(Matches(all, NotificationForTest("a.x")));
  EXPECT_FALSE(Matches(all, NotificationForTest("b.x", Priority::kHigh)));
}

TEST(GroupsTest, CombineWithTheObjectsOwnConditions) {
  const Json match = {{"type", "deploy.*"},
                      {"any",
                       {{{"tags", {{{"key", "env"}, {"op", "="}, {"value", "prod"}}}}},
                        {{"recipients_present", true}}}}};
  EXPECT_TRUE(Matches(match, NotificationForTest("deploy.x", Priority::kNormal, kProd)));
  EXPECT_TRUE(Matches(match, NotificationForTest("deploy.x", Priority::kNormal, {}, {"u"})));
  EXPECT_FALSE(Matches(match, NotificationForTest("deploy.x")));
  EXPECT_FALSE(Matches(match, NotificationForTest("build.x", Priority::kNormal, kProd)));
}

TEST(GroupsTest, NestAsDeepAsTheModelAllows) {
  // Depth 4 (the model's limit): all -> any -> all.
  const Json match = {
      {"type", "*"},
      {"all",
       {{{"any",
          {{{"all",
             {{{"tags", {{{"key", "env"}, {"op", "=~"}, {"value", "prod|staging"}}}}},
              {{"min_priority", "high"}}}}},
           {{"type", "audit.*"}}}}}}}};
  EXPECT_TRUE(Matches(match, NotificationForTest("x", Priority::kHigh, kProd)));
  EXPECT_FALSE(Matches(match, NotificationForTest("x", Priority::kNormal, kProd)));
  EXPECT_TRUE(Matches(match, NotificationForTest("audit.login")));
  EXPECT_FALSE(Matches(match, NotificationForTest("x", Priority::kHigh, kNone)));
}

TEST(GroupsTest, EmptyMatchMatchesEverything) {
  EXPECT_TRUE(Matches(Json::object(), NotificationForTest("anything", Priority::kMin)));
}

// --- Compilation errors -----------------------------------------------------------------

TEST(CompileTest, BadPatternNamesRuleAndField) {
  Rule r = RuleForTest("rule-7", {{"name", "db pages"}});
  RuleMatch inner;
  inner.tags = {{"env", TagOp::kEqual, "prod"}, {"team", TagOp::kMatches, "(db"}};
  r.match.all = {inner};
  absl::StatusOr<std::unique_ptr<CompiledRule>> c = CompiledRule::Compile(r);
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("rule rule-7 (\"db pages\")"),
                                HasSubstr("match.all[0].tags[1].value"), HasSubstr("missing )"))));
  ASSERT_EQ(FieldErrorsOf(c.status()).size(), 1u);
  EXPECT_EQ(FieldErrorsOf(c.status())[0].field, "match.all[0].tags[1].value");
}

TEST(CompileTest, BadGroupByNamesTheEntry) {
  Rule r = RuleForTest("rule-8", {{"actions", {{"throttle", {{"limit", 1}, {"window_s", 60}}}}}});
  r.actions.throttle->group_by = {"type", "colour"};
  EXPECT_THAT(CompiledRule::Compile(r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("rule rule-8"), HasSubstr("actions.throttle.group_by[1]"),
                             HasSubstr("\"colour\""))));
}

TEST(CompileTest, SetFailsOnTheFirstBadRuleUnlessSkipping) {
  Rule bad = RuleForTest("bad", {{"position", 1}});
  bad.match.tags = {{"env", TagOp::kNotMatches, "[z-a]"}};
  std::vector<Rule> rules = {RuleForTest("good", {{"position", 2}}), bad};
  EXPECT_THAT(CompiledRuleSet::Compile(rules),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("rule bad"), HasSubstr("match.tags[0].value"))));

  ASSERT_OK_AND_ASSIGN(
      CompiledRuleSet set,
      CompiledRuleSet::Compile(rules, {.previous = nullptr, .skip_invalid = true}));
  EXPECT_THAT(MatchingIds(set, NotificationForTest("t")), ElementsAre("good"));
  ASSERT_EQ(set.skipped().size(), 1u);
  EXPECT_THAT(set.skipped()[0], StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad")));
}

// --- Rule sets --------------------------------------------------------------------------

TEST(RuleSetTest, KeepsEnabledRulesByPositionThenId) {
  std::vector<Rule> rules = {
      RuleForTest("c", {{"position", 5}}),
      RuleForTest("b", {{"position", 5}}),
      RuleForTest("off", {{"position", 0}, {"enabled", false}}),
      RuleForTest("a", {{"position", 9}}),
      RuleForTest("z", {{"position", 1}}),
  };
  ASSERT_OK_AND_ASSIGN(CompiledRuleSet set, CompiledRuleSet::Compile(rules));
  ASSERT_EQ(set.size(), 4u);
  EXPECT_EQ(set.rule(0).rule().id, "z");
  EXPECT_EQ(set.rule(1).rule().id, "b");
  EXPECT_EQ(set.rule(2).rule().id, "c");
  EXPECT_EQ(set.rule(3).rule().id, "a");
  EXPECT_THAT(MatchingIds(set, NotificationForTest("t")), ElementsAre("z", "b", "c", "a"));
}

TEST(RuleSetTest, EmptySetMatchesNothing) {
  ASSERT_OK_AND_ASSIGN(CompiledRuleSet set, CompiledRuleSet::Compile({}));
  EXPECT_TRUE(set.empty());
  EXPECT_THAT(MatchingIds(set, NotificationForTest("t")), IsEmpty());
  EXPECT_THAT(MatchingIds(CompiledRuleSet(), NotificationForTest("t")), IsEmpty());
}

TEST(RuleSetTest, StopsWhenTheCallbackSaysSo) {
  std::vector<Rule> rules = {RuleForTest("1", {{"position", 1}}),
                             RuleForTest("2", {{"position", 2}}),
                             RuleForTest("3", {{"position", 3}})};
  ASSERT_OK_AND_ASSIGN(CompiledRuleSet set, CompiledRuleSet::Compile(rules));
  EXPECT_THAT(MatchingIds(set, NotificationForTest("t"),
                          [](const CompiledRule& r) { return r.rule().id != "2"; }),
              ElementsAre("1", "2"));
}

// Exact-type rules come from the type index, glob rules from the scan; the
// merge keeps evaluation order.
TEST(RuleSetTest, IndexedAndScannedRulesInterleaveInOrder) {
  std::vector<Rule> rules;
  for (int i = 0; i < 12; ++i) {
    const char* type = i % 3 == 0 ? "deploy.done" : i % 3 == 1 ? "deploy.*" : "build.done";
    rules.push_back(
        RuleForTest(absl::StrCat("r", i), {{"position", i}, {"match", {{"type", type}}}}));
  }
  rules.push_back(RuleForTest("any", {{"position", 6}}));
  ASSERT_OK_AND_ASSIGN(CompiledRuleSet set, CompiledRuleSet::Compile(rules));
  EXPECT_THAT(MatchingIds(set, NotificationForTest("deploy.done")),
              ElementsAre("r0", "r1", "r3", "r4", "any", "r6", "r7", "r9", "r10"));
  EXPECT_THAT(MatchingIds(set, NotificationForTest("build.done")),
              ElementsAre("r2", "r5", "any", "r8", "r11"));
  EXPECT_THAT(MatchingIds(set, NotificationForTest("other")), ElementsAre("any"));
}

// Rules found through the tag index, the type index and the scan, merged.
TEST(RuleSetTest, TagIndexedRulesInterleaveInOrder) {
  auto tag = [](const char* key, const char* op, const char* value) {
    return Json{{"key", key}, {"op", op}, {"value", value}};
  };
  std::vector<Rule> rules = {
      RuleForTest("env-prod", {{"position", 1}, {"match", {{"tags", {tag("env", "=", "prod")}}}}}),
      RuleForTest("type", {{"position", 2}, {"match", {{"type", "deploy.done"}}}}),
      // A plain `=~` pattern is an equality and indexed as one.
      RuleForTest("svc-db", {{"position", 3},
                             {"match",
                              {{"type", "deploy.*"},
                               {"tags", {tag("env", "!=", "dev"), tag("svc", "=~", "db")}}}}}),
      // `=""` also holds for a missing tag: not indexable, scanned.
      RuleForTest("no-team", {{"position", 4}, {"match", {{"tags", {tag("team", "=", "")}}}}}),
      RuleForTest("svc-api", {{"position", 5}, {"match", {{"tags", {tag("svc", "=", "api")}}}}}),
      RuleForTest("env-prod-2",
                  {{"position", 6},
                   {"match", {{"min_priority", "high"}, {"tags", {tag("env", "=", "prod")}}}}}),
      // Indexed by its rarer tag, team="db" (env="prod" is on three rules).
      RuleForTest("prod-db",
                  {{"position", 7},
                   {"match", {{"tags", {tag("env", "=", "prod"), tag("team", "=", "db")}}}}}),
  };
  ASSERT_OK_AND_ASSIGN(CompiledRuleSet set, CompiledRuleSet::Compile(rules));
  using KV = std::pair<std::string, std::string>;
  EXPECT_THAT(set.rule(0).index_tags(), ElementsAre(KV("env", "prod")));
  EXPECT_THAT(set.rule(2).index_tags(), ElementsAre(KV("svc", "db")));
  EXPECT_THAT(set.rule(3).index_tags(), IsEmpty());

  EXPECT_THAT(MatchingIds(set, NotificationForTest("deploy.done", Priority::kHigh,
                                                   {{"env", "prod"}, {"svc", "db"}})),
              ElementsAre("env-prod", "type", "svc-db", "no-team", "env-prod-2"));
  EXPECT_THAT(
      MatchingIds(set, NotificationForTest("x", Priority::kNormal,
                                           {{"env", "prod"}, {"svc", "api"}, {"team", "a"}})),
      ElementsAre("env-prod", "svc-api"));
  EXPECT_THAT(MatchingIds(set, NotificationForTest("x", Priority::kNormal,
                                                   {{"env", "prod"}, {"team", "db"}})),
              ElementsAre("env-prod", "prod-db"));
  EXPECT_THAT(MatchingIds(set, NotificationForTest("deploy.x", Priority::kNormal, {{"svc", "db"}})),
              ElementsAre("svc-db", "no-team"));
}

TEST(RuleSetTest, ReusesCompiledRulesOfTheSameVersion) {
  const absl::Time v1 = absl::FromUnixSeconds(1'700'000'000);
  const absl::Time v2 = v1 + absl::Seconds(1);
  const Json match = {{"tags", {{{"key", "env"}, {"op", "=~"}, {"value", "prod|dev"}}}}};
  std::vector<Rule> first = {RuleForTest("a", {{"match", match}}, "t", v1),
                             RuleForTest("b", {{"match", match}}, "t", v1),
                             RuleForTest("c", {{"match", match}}, "t", v1)};
  first[2].updated_at = absl::InfinitePast();  // no version: never reused
  ASSERT_OK_AND_ASSIGN(CompiledRuleSet one, CompiledRuleSet::Compile(first));
  EXPECT_EQ(one.reused_count(), 0u);

  std::vector<Rule> second = first;
  second[1].updated_at = v2;  // b changed
  second[1].match.tags[0].value = "prod";
  ASSERT_OK_AND_ASSIGN(CompiledRuleSet two,
                       CompiledRuleSet::Compile(second, {.previous = &one, .skip_invalid = false}));
  EXPECT_EQ(two.reused_count(), 1u);
  EXPECT_EQ(&two.rule(0), &one.rule(0));  // a: same compiled object
  EXPECT_NE(&two.rule(1), &one.rule(1));
  EXPECT_NE(&two.rule(2), &one.rule(2));
  const Notification dev = NotificationForTest("t", Priority::kNormal, {{"env", "dev"}});
  EXPECT_THAT(MatchingIds(two, dev), ElementsAre("a", "c"));
  // `two` shares `a` with `one`, and outlives it.
  one = CompiledRuleSet();
  EXPECT_THAT(MatchingIds(two, dev), ElementsAre("a", "c"));
}

TEST(RuleSetTest, MatchingDoesNotAllocate) {
  std::vector<Rule> rules;
  for (int i = 0; i < 50; ++i) {
    rules.push_back(
        RuleForTest(absl::StrCat("r", i),
                    {{"position", i},
                     {"match",
                      {{"type", i % 2 ? "svc.*.failed" : "svc.db.failed"},
                       {"min_priority", "low"},
                       {"tags",
                        {{{"key", "env"}, {"op", "=~"}, {"value", "prod|staging-[0-9]+"}},
                         {{"key", "region"}, {"op", "!="}, {"value", "eu"}},
                         {{"key", "missing"}, {"op", "!~"}, {"value", "x.+"}}}},
                       {"any", {{{"recipients_present", false}}, {{"type", "*.failed"}}}}}}}));
  }
  ASSERT_OK_AND_ASSIGN(CompiledRuleSet set, CompiledRuleSet::Compile(rules));
  const Notification n = NotificationForTest(
      "svc.db.failed", Priority::kHigh, {{"env", "staging-12"}, {"region", "us-long-region-name"}});
  int matched = 0;
  auto count = [&](const CompiledRule&) {
    ++matched;
    return true;
  };
  set.ForEachMatch(n, count);  // warm RE2's lazily built DFAs
  matched = 0;
  g_allocations = 0;
  g_count_allocations = true;
  set.ForEachMatch(n, count);
  g_count_allocations = false;
  EXPECT_EQ(matched, 50);
  EXPECT_EQ(g_allocations, 0);

  // The counter is live: building a grouping key does allocate.
  ASSERT_OK_AND_ASSIGN(GroupByField env, ParseGroupByField("tags.env"));
  g_count_allocations = true;
  const std::string key = GroupingKey({env}, n);
  g_count_allocations = false;
  EXPECT_EQ(key, "tags.env=\"staging-12\"");
  EXPECT_GT(g_allocations, 0);
}

// --- Pattern sets ----------------------------------------------------------------------

// A set answers pattern tests from one RE2::Set per tag key; each rule on its
// own runs its own RE2s. Over generated patterns, negations, nesting and
// values (absent, empty, with a newline) both must agree.
TEST(RuleSetTest, PatternSetsAgreeWithEachRulesOwnPatterns) {
  std::mt19937 rng(20261127);
  auto pick = [&](const std::vector<std::string>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  const std::vector<std::string> patterns = {
      "svc[0-9]+",  "api-.*", "svc1|api1-.*", "(db|cache)-[a-z]+", ".+", "prod.*",
      "x?",         "[a-c]*", "a\\.b",       "(?i)PROD",           "", "\\d{2,3}",
      "s.c1", "(svc|api)1.*"};
  const std::vector<std::string> values = {"svc1",   "svc12", "api-x", "api1-canary", "db-main",
                                           "cache-", "prod",  "PROD",  "a.b",         "axb",
                                           "",       "12",    "1234",  "svc1\nx",     "abcab"};
  const std::vector<std::string> keys = {"service", "env", "team"};
  for (int round = 0; round < 30; ++round) {
    std::vector<Rule> rules;
    for (int i = 0; i < 40; ++i) {
      auto condition = [&] {
        return Json{{"key", pick(keys)},
                    {"op", std::uniform_int_distribution<int>(0, 3)(rng) == 0 ? "!~" : "=~"},
                    {"value", pick(patterns)}};
      };
      Json match = {{"tags", {condition()}}};
      if (i % 3 == 0) match["any"] = {{{"tags", {condition()}}}, {{"tags", {condition()}}}};
      if (i % 5 == 0) match["all"] = {{{"tags", {condition(), condition()}}}};
      rules.push_back(RuleForTest(absl::StrCat("r", i), {{"position", i}, {"match", match}}));
    }
    ASSERT_OK_AND_ASSIGN(CompiledRuleSet set, CompiledRuleSet::Compile(rules));
    for (int k = 0; k < 40; ++k) {
      std::map<std::string, std::string> tags;
      for (const std::string& key : keys) {
        if (std::uniform_int_distribution<int>(0, 3)(rng) != 0) tags[key] = pick(values);
      }
      const Notification n = NotificationForTest("t", Priority::kNormal, tags);
      std::vector<std::string> expected;
      for (size_t i = 0; i < set.size(); ++i) {
        if (set.rule(i).Matches(n)) expected.push_back(set.rule(i).rule().id);
      }
      ASSERT_EQ(MatchingIds(set, n), expected) << "round " << round << " notification " << k;
    }
  }
}

// --- Grouping keys ----------------------------------------------------------------------

TEST(GroupingKeyTest, RendersEachFieldInOrder) {
  std::vector<GroupByField> fields;
  for (const char* f : {"type", "priority", "recipient", "tags.env", "tags.absent"}) {
    ASSERT_OK_AND_ASSIGN(GroupByField g, ParseGroupByField(f));
    fields.push_back(g);
  }
  const Notification n =
      NotificationForTest("deploy.done", Priority::kHigh, {{"env", "pro\"d"}}, {"u2", "u1", "u2"});
  EXPECT_EQ(GroupingKey(fields, n),
            "type=\"deploy.done\",priority=\"high\",recipient=[\"u1\",\"u2\"],"
            "tags.env=\"pro\\\"d\",tags.absent=\"\"");
  EXPECT_EQ(GroupingKey({}, n), "");
  EXPECT_EQ(GroupingKey({fields[2]}, NotificationForTest("t")), "recipient=[]");
}

TEST(GroupingKeyTest, DistinctGroupsHaveDistinctKeys) {
  ASSERT_OK_AND_ASSIGN(GroupByField r, ParseGroupByField("recipient"));
  // One recipient "a,b" is not the two recipients a and b.
  EXPECT_NE(GroupingKey({r}, NotificationForTest("t", Priority::kNormal, {}, {"a,b"})),
            GroupingKey({r}, NotificationForTest("t", Priority::kNormal, {}, {"a", "b"})));
}

TEST(GroupingKeyTest, RejectsUnknownFields) {
  EXPECT_THAT(ParseGroupByField("tags."), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGroupByField("title"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"title\"")));
  EXPECT_THAT(ParseGroupByField("tags.env"),
              ::testing::Not(StatusIs(absl::StatusCode::kInvalidArgument)));
}

}  // namespace
}  // namespace alerthub
