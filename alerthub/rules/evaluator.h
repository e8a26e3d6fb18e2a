// Rule evaluation: what a tenant's rules decide for one notification — which
// rules matched, where it goes, at what priority, whether it is suppressed,
// throttled, digested or delayed. Pure: no store, no Kv, no clock, so the
// same function serves routing and the admin API's dry run
// (`EvaluateRule`, `POST /api/v1/rules/evaluate`).
//
//   absl::StatusOr<CompiledRuleSet> rules = CompiledRuleSet::Compile(tenant_rules);
//   Evaluation e = Evaluate(*rules, notification);
//   if (e.suppression) { ... }             // record `suppressed` with e.suppression->rule_id
//   nlohmann::json shown = EvaluationToJson(e);
//
// Semantics:
//   * Rules are walked in evaluation order (see matcher.h). The first
//     matching rule stops the walk unless it has `continue`; a matching
//     `suppress` rule always stops it.
//   * Targets, with this precedence:
//       1. some matched rule has a `route`: the union, in rule order and
//          without duplicates, of the matched rules' integration ids and
//          channels. The notification's own `integration_ids` / `channels`
//          are ignored: the tenant's rules are policy and outrank the
//          submitter (ARCHITECTURE §4: "a matching rule's route wins").
//       2. otherwise (no rule matched, or the matched rules only throttle,
//          digest, delay or change the priority): the notification's explicit
//          targets when it names any, else the tenant's default integrations
//          — exactly what DefaultTargetResolver does without rules.
//   * Priority: `set` replaces and `raise` adds levels (capped at critical),
//     applied in rule order. Matching and grouping keys always see the
//     submitted priority.
//   * Every matched rule's throttle applies (each has its own counter); the
//     first matched rule with a digest decides the digest; the delay is the
//     longest of the matched rules' delays.
//   * A suppressed evaluation still lists what the rules before the
//     suppressing one asked for, for the dry run; callers act on nothing else.
#ifndef ALERTHUB_RULES_EVALUATOR_H_
#define ALERTHUB_RULES_EVALUATOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "alerthub/rules/matcher.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// Where the targets of an evaluation come from. Sent over the wire by name.
enum class TargetSource : int {
  kRules = 1,           // the matched rules' routes
  kExplicit = 2,        // the notification's integration_ids / channels
  kTenantDefaults = 3,  // the tenant's enabled default integrations
};

// "rules", "explicit", "tenant_defaults".
absl::string_view TargetSourceName(TargetSource s);

struct MatchedRule {
  std::string id;
  std::string name;
  int position = 0;
  bool continue_matching = false;

  bool operator==(const MatchedRule& other) const = default;
};

// Why a notification is not delivered at all.
struct Suppression {
  std::string rule_id;  // the suppressing (or, in the resolver, throttling) rule
  std::string reason;   // for people and the routing event

  bool operator==(const Suppression& other) const = default;
};

// "Count this notification against the rule's limit in its group."
struct ThrottleRequest {
  std::string rule_id;
  int64_t limit = 0;      // at most this many per window and group
  absl::Duration window;  // > 0
  std::string group_key;  // GroupingKey() of the rule's group_by

  bool operator==(const ThrottleRequest& other) const = default;
};

// "Hold this notification for the digest of its group."
struct DigestRequest {
  std::string rule_id;
  std::string group_key;
  absl::Duration group_wait;
  absl::Duration group_interval;

  bool operator==(const DigestRequest& other) const = default;
};

// The Delivery::digest_key of a digest request's members:
// "<rule id>/<group key>" (rule ids hold no '/').
std::string DigestKey(const DigestRequest& request);

struct Evaluation {
  // The rules that matched, in evaluation order (the walk's stops included).
  std::vector<MatchedRule> matched_rules;

  Priority submitted_priority = Priority::kNormal;
  Priority effective_priority = Priority::kNormal;

  // See the precedence above. For kRules the two lists below hold the
  // route; for the others they are empty and the caller resolves the
  // notification's own targets or the tenant's defaults.
  TargetSource target_source = TargetSource::kTenantDefaults;
  std::vector<std::string> integration_ids;
  std::vector<Channel> channels;

  // Set when a matched rule suppresses.
  std::optional<Suppression> suppression;
  // One per matched rule with a throttle, in rule order.
  std::vector<ThrottleRequest> throttles;
  std::optional<DigestRequest> digest;
  // How long to hold the notification before delivering it (zero: none).
  absl::Duration delay = absl::ZeroDuration();

  // True when no rule matched: the caller falls back to the notification's
  // explicit targets or the tenant's defaults, and nothing else applies.
  bool no_rule_matched() const { return matched_rules.empty(); }

  bool operator==(const Evaluation& other) const = default;
};

// Evaluates `n` against `rules`. Total: every notification has an outcome.
Evaluation Evaluate(const CompiledRuleSet& rules, const Notification& n);

// The evaluation as the admin API shows it:
//   {"matched_rules": [{"id", "name", "position", "continue"}],
//    "no_rule_matched": false,
//    "priority": {"submitted": "normal", "effective": "high"},
//    "targets": {"source": "rules", "integration_ids": [...], "channels": [...]},
//    "suppressed": false,
//    "suppression": {"rule_id", "reason"},                     // when suppressed
//    "throttles": [{"rule_id", "limit", "window_s", "group_key"}],
//    "digest": {"rule_id", "group_key", "group_wait_s", "group_interval_s"},  // when set
//    "delay_s": 0}
// Durations are whole seconds (rules are specified in seconds).
nlohmann::json EvaluationToJson(const Evaluation& e);

}  // namespace alerthub

#endif  // ALERTHUB_RULES_EVALUATOR_H_
