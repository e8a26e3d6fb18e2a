#include "alerthub/rules/evaluator.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace alerthub {
namespace {

Priority Raise(Priority p, int levels) {
  const int raised =
      std::min(static_cast<int>(p) + std::max(levels, 0), static_cast<int>(Priority::kCritical));
  return static_cast<Priority>(raised);
}

template <typename T>
void AppendUnique(const std::vector<T>& from, std::vector<T>* to) {
  for (const T& v : from) {
    if (std::find(to->begin(), to->end(), v) == to->end()) to->push_back(v);
  }
}

// Whole seconds, as rules are written.
int64_t Seconds(absl::Duration d) { return absl::ToInt64Seconds(d); }

}  // namespace

absl::string_view TargetSourceName(TargetSource s) {
  switch (s) {
    case TargetSource::kRules:
      return "rules";
    case TargetSource::kExplicit:
      return "explicit";
    case TargetSource::kTenantDefaults:
      return "tenant_defaults";
  }
  return "unknown";
}

Evaluation Evaluate(const CompiledRuleSet& rules, const Notification& n) {
  Evaluation e;
  e.submitted_priority = n.priority;
  e.effective_priority = n.priority;
  bool routed = false;
  rules.ForEachMatch(n, [&](const CompiledRule& compiled) {
    const Rule& r = compiled.rule();
    e.matched_rules.push_back({.id = r.id,
                               .name = r.name,
                               .position = r.position,
                               .continue_matching = r.continue_matching});
    const RuleActions& a = r.actions;
    if (a.suppress) {
      e.suppression = Suppression{.rule_id = r.id,
                                  .reason = absl::StrCat("suppressed by rule ", r.id, " (\"",
                                                         absl::CEscape(r.name), "\")")};
      return false;
    }
    if (a.route.has_value()) {
      routed = true;
      AppendUnique(a.route->integration_ids, &e.integration_ids);
      AppendUnique(a.route->channels, &e.channels);
    }
    if (a.priority.has_value()) {
      e.effective_priority = a.priority->set.has_value()
                                 ? *a.priority->set
                                 : Raise(e.effective_priority, a.priority->raise);
    }
    if (a.throttle.has_value()) {
      e.throttles.push_back({.rule_id = r.id,
                             .limit = a.throttle->limit,
                             .window = a.throttle->window,
                             .group_key = GroupingKey(compiled.throttle_group_by(), n)});
    }
    if (a.digest.has_value() && !e.digest.has_value()) {
      e.digest = DigestRequest{.rule_id = r.id,
                               .group_key = GroupingKey(compiled.digest_group_by(), n),
                               .group_wait = a.digest->group_wait,
                               .group_interval = a.digest->group_interval};
    }
    e.delay = std::max(e.delay, a.delay);
    return r.continue_matching;
  });
  if (routed) {
    e.target_source = TargetSource::kRules;
  } else {
    e.target_source = n.integration_ids.empty() && n.channels.empty()
                          ? TargetSource::kTenantDefaults
                          : TargetSource::kExplicit;
  }
  return e;
}

nlohmann::json EvaluationToJson(const Evaluation& e) {
  nlohmann::json matched = nlohmann::json::array();
  for (const MatchedRule& m : e.matched_rules) {
    matched.push_back({{"id", m.id},
                       {"name", m.name},
                       {"position", m.position},
                       {"continue", m.continue_matching}});
  }
  nlohmann::json channels = nlohmann::json::array();
  for (Channel c : e.channels) channels.push_back(std::string(ChannelName(c)));
  nlohmann::json throttles = nlohmann::json::array();
  for (const ThrottleRequest& t : e.throttles) {
    throttles.push_back({{"rule_id", t.rule_id},
                         {"limit", t.limit},
                         {"window_s", Seconds(t.window)},
                         {"group_key", t.group_key}});
  }
  nlohmann::json j = {
      {"matched_rules", std::move(matched)},
      {"no_rule_matched", e.no_rule_matched()},
      {"priority",
       {{"submitted", std::string(PriorityName(e.submitted_priority))},
        {"effective", std::string(PriorityName(e.effective_priority))}}},
      {"targets",
       {{"source", std::string(TargetSourceName(e.target_source))},
        {"integration_ids", e.integration_ids},
        {"channels", std::move(channels)}}},
      {"suppressed", e.suppression.has_value()},
      {"throttles", std::move(throttles)},
      {"delay_s", Seconds(e.delay)},
  };
  if (e.suppression.has_value()) {
    j["suppression"] = {{"rule_id", e.suppression->rule_id}, {"reason", e.suppression->reason}};
  }
  if (e.digest.has_value()) {
    j["digest"] = {{"rule_id", e.digest->rule_id},
                   {"group_key", e.digest->group_key},
                   {"group_wait_s", Seconds(e.digest->group_wait)},
                   {"group_interval_s", Seconds(e.digest->group_interval)}};
  }
  return j;
}

std::string DigestKey(const DigestRequest& request) {
  return absl::StrCat(request.rule_id, "/", request.group_key);
}

}  // namespace alerthub
