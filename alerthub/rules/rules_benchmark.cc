// Rule evaluation cost as a tenant's rule count grows (issue 5: <= 20 us per
// notification at 1,000 rules; how it grows from 10 to 10,000), beside a
// baseline measured in the same run: one std::unordered_map lookup of the
// notification's type among as many keys as there are rules — the floor
// any per-type routing table pays.
//
//   tools/bazel.sh run -c opt //alerthub/rules:rules_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// (one command line).
//
// Rule shapes (every probe notification matches exactly one rule, the LAST
// one in evaluation order, so nothing stops the walk early):
//   Mixed        a realistic tenant: half the rules name an exact type
//                ("svc17.deploy", found through the type index), half a glob
//                ("svc17.*", screened by its literal prefix) with a tag
//                equality and an RE2 tag pattern.
//   TagIndex     every rule is `deploy.*` with env="prod" (shared by all)
//                and service="svc17" (its own): found through the tag index.
//   TagWorst     worst case for tag conditions: every rule is `deploy.*` with
//                env="prod" and service!="<the probe's>", so every rule is a
//                candidate and each fails on its second tag lookup.
//   RegexWorst   worst case for patterns: every rule is `deploy.*` and fails
//                on its own RE2 pattern (`service=~"svc17|api17-.*"`), so
//                every notification runs one RE2 match per rule.
// "per_rule" is the time divided by the number of rules.
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/rules/evaluator.h"
#include "alerthub/rules/matcher.h"
#include "benchmark/benchmark.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using Json = nlohmann::json;

enum class Shape { kMixed, kTagIndex, kTagWorst, kRegexWorst };

Rule MustParse(int i, const Json& request) {
  absl::StatusOr<Rule> r = RuleFromRequestJson(request);
  if (!r.ok()) {
    fprintf(stderr, "bad benchmark rule: %s\n", r.status().ToString().c_str());
    abort();
  }
  r->id = absl::StrCat("rule-", 100000 + i);
  r->tenant_id = "tenant";
  r->updated_at = absl::FromUnixSeconds(1'700'000'000);
  return *std::move(r);
}

Json Tag(absl::string_view key, absl::string_view op, absl::string_view value) {
  return {{"key", key}, {"op", op}, {"value", value}};
}

// `n` rules of `shape`; the last one matches Probe(shape, n).
std::vector<Rule> MakeRules(Shape shape, int n) {
  std::vector<Rule> rules;
  rules.reserve(n);
  const Json route = {{"route", {{"channels", {"slack"}}}}};
  for (int i = 0; i < n; ++i) {
    Json match;
    switch (shape) {
      case Shape::kMixed:
        if (i % 2 == 0) {
          match = {{"type", absl::StrCat("svc", i, ".deploy")}, {"min_priority", "low"}};
        } else {
          match = {
              {"type", absl::StrCat("svc", i, ".*")},
              {"tags", {Tag("env", "=", "prod"), Tag("team", "=~", absl::StrCat("db|infra", i))}}};
        }
        break;
      case Shape::kTagIndex:
        match = {{"type", "deploy.*"},
                 {"tags", {Tag("env", "=", "prod"), Tag("service", "=", absl::StrCat("svc", i))}}};
        break;
      case Shape::kTagWorst:
        match = {
            {"type", "deploy.*"},
            {"tags",
             {Tag("env", "=", "prod"), Tag("service", "!=", i == n - 1 ? "other" : "svc-probe")}}};
        break;
      case Shape::kRegexWorst:
        match = {{"type", "deploy.*"},
                 {"tags", {Tag("service", "=~", absl::StrCat("svc", i, "|api", i, "-.*"))}}};
        break;
    }
    rules.push_back(MustParse(
        i,
        {{"name", absl::StrCat("r", i)}, {"position", i}, {"match", match}, {"actions", route}}));
  }
  return rules;
}

Notification Probe(Shape shape, int n) {
  const int last = n - 1;
  Notification p;
  p.id = "probe";
  p.tenant_id = "tenant";
  p.priority = Priority::kHigh;
  p.tags = {{"env", "prod"}, {"region", "eu-west-1"}, {"host", "db-17.internal"}};
  switch (shape) {
    case Shape::kMixed:
      // For the even counts measured the last rule is odd: a glob rule, so
      // the probe's type is one no exact-type rule names.
      p.type = last % 2 == 0 ? absl::StrCat("svc", last, ".deploy")
                             : absl::StrCat("svc", last, ".restart");
      p.tags["team"] = absl::StrCat("infra", last);
      break;
    case Shape::kTagIndex:
      p.type = "deploy.finished";
      p.tags["service"] = absl::StrCat("svc", last);
      break;
    case Shape::kTagWorst:
      p.type = "deploy.finished";
      p.tags["service"] = "svc-probe";
      break;
    case Shape::kRegexWorst:
      p.type = "deploy.finished";
      p.tags["service"] = absl::StrCat("api", last, "-canary");
      break;
  }
  return p;
}

void SetCounters(benchmark::State& state, int n) {
  state.counters["per_rule"] = benchmark::Counter(
      n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_Baseline_UnorderedMapLookup(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::unordered_map<std::string, int> table;
  for (int i = 0; i < n; ++i) table.emplace(absl::StrCat("svc", i, ".deploy"), i);
  const Notification p = Probe(Shape::kMixed, n);
  for (auto _ : state) {
    auto it = table.find(p.type);
    benchmark::DoNotOptimize(it);
  }
  SetCounters(state, n);
}

void RunEvaluate(benchmark::State& state, Shape shape) {
  const int n = static_cast<int>(state.range(0));
  absl::StatusOr<CompiledRuleSet> set = CompiledRuleSet::Compile(MakeRules(shape, n));
  if (!set.ok()) {
    state.SkipWithError(set.status().ToString().c_str());
    return;
  }
  const Notification p = Probe(shape, n);
  if (Evaluate(*set, p).matched_rules.size() != 1) {
    state.SkipWithError("the probe must match exactly one rule");
    return;
  }
  for (auto _ : state) {
    Evaluation e = Evaluate(*set, p);
    benchmark::DoNotOptimize(e);
  }
  SetCounters(state, n);
}

void BM_Evaluate_Mixed(benchmark::State& state) { RunEvaluate(state, Shape::kMixed); }
void BM_Evaluate_TagIndex(benchmark::State& state) { RunEvaluate(state, Shape::kTagIndex); }
void BM_Evaluate_TagWorst(benchmark::State& state) { RunEvaluate(state, Shape::kTagWorst); }
void BM_Evaluate_RegexWorst(benchmark::State& state) { RunEvaluate(state, Shape::kRegexWorst); }

// What a cache reload costs (Invalidate() after a change): compiling the set
// from scratch; unchanged rules are reused in practice.
void BM_Compile_RegexWorst(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<Rule> rules = MakeRules(Shape::kRegexWorst, n);
  for (auto _ : state) {
    absl::StatusOr<CompiledRuleSet> set = CompiledRuleSet::Compile(rules);
    benchmark::DoNotOptimize(set);
  }
  SetCounters(state, n);
}

#define RULE_COUNTS ->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)
BENCHMARK(BM_Baseline_UnorderedMapLookup) RULE_COUNTS;
BENCHMARK(BM_Evaluate_Mixed) RULE_COUNTS;
BENCHMARK(BM_Evaluate_TagIndex) RULE_COUNTS;
BENCHMARK(BM_Evaluate_TagWorst) RULE_COUNTS;
BENCHMARK(BM_Evaluate_RegexWorst) RULE_COUNTS;
BENCHMARK(BM_Compile_RegexWorst)->Arg(10)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace alerthub
