#include "alerthub/rules/rules_resolver.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "alerthub/common/log.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "alerthub/rules/preferences.h"

namespace alerthub {

nlohmann::json DroppedRecipientsToJson(const std::vector<DroppedRecipient>& dropped) {
  nlohmann::json out = nlohmann::json::array();
  for (const DroppedRecipient& r : dropped) {
    nlohmann::json d = {{"recipient", r.recipient}, {"reason", r.reason}};
    if (!r.integration_id.empty()) {
      d["integration_id"] = r.integration_id;
      d["integration_name"] = r.integration_name;
    }
    if (r.channel.has_value()) d["channel"] = std::string(ChannelName(*r.channel));
    out.push_back(std::move(d));
  }
  return out;
}

nlohmann::json RoutingPlanToJson(const RoutingPlan& plan) {
  nlohmann::json deliveries = nlohmann::json::array();
  for (const TargetResolver::Target& t : plan.decision.targets) {
    nlohmann::json d = {{"integration_id", t.integration.id},
                        {"integration_name", t.integration.name},
                        {"channel", std::string(ChannelName(t.integration.channel))},
                        {"recipient", t.recipient},
                        {"status", t.held_until.has_value() || plan.digest.has_value()
                                       ? "held"
                                       : "pending"}};
    if (t.held_until.has_value()) d["held_until"] = FormatRfc3339(*t.held_until);
    // Held for its digest group's flush, decided when it is routed.
    if (plan.digest.has_value()) d["digest_key"] = DigestKey(*plan.digest);
    deliveries.push_back(std::move(d));
  }

  nlohmann::json throttles = nlohmann::json::array();
  for (const ThrottleOutcome& t : plan.throttles) {
    throttles.push_back(
        {{"rule_id", t.rule_id},
         {"group_key", t.group_key},
         {"allowed", t.allowed},
         {"remaining", t.remaining},
         {"window_end",
          t.kv_unavailable ? nlohmann::json(nullptr) : nlohmann::json(FormatRfc3339(t.window_end))},
         {"kv_unavailable", t.kv_unavailable}});
  }
  nlohmann::json j = {
      {"evaluation", EvaluationToJson(plan.evaluation)},
      {"deliveries", std::move(deliveries)},
      {"dropped_recipients", DroppedRecipientsToJson(plan.dropped_recipients)},
      {"suppressed", plan.suppression.has_value()},
      {"throttle_outcomes", std::move(throttles)},
      {"effective_priority", std::string(PriorityName(plan.effective_priority))},
  };
  if (plan.decision.targets.empty()) j["reason"] = plan.decision.reason;
  if (plan.suppression.has_value()) {
    j["suppression"] = {{"rule_id", plan.suppression->rule_id},
                        {"reason", plan.suppression->reason}};
  }
  if (plan.not_before.has_value()) j["not_before"] = FormatRfc3339(*plan.not_before);
  return j;
}

RulesTargetResolver::RulesTargetResolver(Store* store, Kv* kv, RuleSource rules,
                                         RulesTargetResolverOptions options)
    : store_(store),
      source_(std::move(rules)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      throttle_(kv, {.clock = clock_, .key_prefix = options_.throttle_key_prefix}),
      fallback_(store) {}

absl::StatusOr<TargetResolver::Decision> RulesTargetResolver::Resolve(const Notification& n) {
  ALERTHUB_ASSIGN_OR_RETURN(RoutingPlan plan, Plan(n));
  return std::move(plan.decision);
}

absl::StatusOr<RoutingPlan> RulesTargetResolver::Plan(const Notification& n) {
  return Run(n, /*dry_run=*/false);
}

absl::StatusOr<RoutingPlan> RulesTargetResolver::DryRun(const Notification& n) {
  return Run(n, /*dry_run=*/true);
}

void RulesTargetResolver::Invalidate(absl::string_view tenant_id) {
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(tenant_id);
  if (it == cache_.end()) return;
  CacheEntry& e = it->second;
  ++e.generation;
  if (e.rules != nullptr) e.previous = std::move(e.rules);
  e.rules = nullptr;
}

absl::StatusOr<std::shared_ptr<const CompiledRuleSet>> RulesTargetResolver::RulesFor(
    absl::string_view tenant_id) {
  const absl::Time now = clock_->Now();
  uint64_t generation;
  std::shared_ptr<const CompiledRuleSet> previous;
  {
    absl::MutexLock lock(&mu_);
    CacheEntry& e = cache_[tenant_id];
    if (e.rules != nullptr && now - e.loaded_at < options_.max_staleness) return e.rules;
    generation = e.generation;
    previous = e.rules != nullptr ? e.rules : e.previous;
  }

  // Loaded and compiled outside the lock: a slow source must not stall
  // other tenants' routing.
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<Rule> rules, source_(tenant_id));
  ALERTHUB_ASSIGN_OR_RETURN(CompiledRuleSet compiled,
                            CompiledRuleSet::Compile(std::move(rules), {.previous = previous.get(),
                                                                        .skip_invalid = true}));
  for (const absl::Status& s : compiled.skipped()) {
    Log(LogLevel::kError, "rules: a stored rule does not compile and is ignored",
        {{"tenant_id", std::string(tenant_id)}, {"error", s.ToString()}});
  }
  auto set = std::make_shared<const CompiledRuleSet>(std::move(compiled));

  absl::MutexLock lock(&mu_);
  CacheEntry& e = cache_[tenant_id];
  if (e.generation == generation) {
    e.rules = set;
    e.loaded_at = now;
    e.previous = nullptr;
  }
  return set;
}

absl::StatusOr<RoutingPlan> RulesTargetResolver::Run(const Notification& n, bool dry_run) {
  ALERTHUB_ASSIGN_OR_RETURN(std::shared_ptr<const CompiledRuleSet> rules, RulesFor(n.tenant_id));
  RoutingPlan plan;
  plan.evaluation = Evaluate(*rules, n);
  const Evaluation& e = plan.evaluation;
  plan.effective_priority = e.effective_priority;

  if (e.suppression.has_value()) {
    plan.suppression = e.suppression;
    plan.decision.reason = e.suppression->reason;
    return plan;
  }

  // Counted in rule order, stopping at the first denial: a notification
  // suppressed by a later rule's throttle has still used a slot of the
  // earlier rules' (Kv cannot take a count back).
  for (const ThrottleRequest& t : e.throttles) {
    ThrottleOutcome outcome;
    outcome.rule_id = t.rule_id;
    outcome.group_key = t.group_key;
    absl::StatusOr<ThrottleDecision> d =
        dry_run ? throttle_.Peek(n.tenant_id, t) : throttle_.Take(n.tenant_id, t);
    if (absl::IsUnavailable(d.status()) && options_.throttle_fail_open) {
      if (!dry_run) throttle_fail_open_count_.fetch_add(1, std::memory_order_relaxed);
      Log(LogLevel::kWarning, "rules: Kv unavailable, throttle not applied",
          {{"tenant_id", n.tenant_id},
           {"notification_id", n.id},
           {"rule_id", t.rule_id},
           {"error", d.status().ToString()}});
      outcome.kv_unavailable = true;
      plan.throttles.push_back(std::move(outcome));
      continue;
    }
    if (!d.ok()) return d.status();
    outcome.allowed = d->allowed;
    outcome.remaining = d->remaining;
    outcome.window_end = d->window_end;
    plan.throttles.push_back(std::move(outcome));
    if (!d->allowed) {
      plan.suppression = Suppression{.rule_id = t.rule_id, .reason = d->reason};
      plan.decision.reason = d->reason;
      return plan;
    }
  }

  if (e.target_source == TargetSource::kRules) {
    ALERTHUB_ASSIGN_OR_RETURN(plan.decision, RouteTargets(n, e));
  } else {
    ALERTHUB_ASSIGN_OR_RETURN(plan.decision, fallback_.Resolve(n));
  }

  if (e.delay > absl::ZeroDuration()) {
    absl::Time base = n.created_at == absl::InfinitePast() ? clock_->Now() : n.created_at;
    if (n.scheduled_at.has_value()) base = std::max(base, *n.scheduled_at);
    plan.not_before = base + e.delay;
  }
  plan.digest = e.digest;
  ALERTHUB_RETURN_IF_ERROR(FanOutToRecipients(n, plan));
  return plan;
}

absl::Status RulesTargetResolver::FanOutToRecipients(const Notification& n, RoutingPlan& plan) {
  std::vector<TargetResolver::Target>& targets = plan.decision.targets;
  if (n.recipients.empty() ||
      std::none_of(targets.begin(), targets.end(), [](const TargetResolver::Target& t) {
        return IsRecipientTargeted(t.integration.channel);
      })) {
    return absl::OkStatus();
  }
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<Recipient> recipients,
                            store_->GetRecipients(n.tenant_id, n.recipients));
  std::set<std::string> known;
  for (const Recipient& r : recipients) known.insert(r.user.id);
  std::set<std::string> reported;
  for (const std::string& id : n.recipients) {
    if (known.contains(id) || !reported.insert(id).second) continue;
    plan.dropped_recipients.push_back(
        {.recipient = id,
         .integration_id = "",
         .integration_name = "",
         .channel = std::nullopt,
         .reason = "no user with this id in the tenant"});
  }

  // Preferences see the priority the rules gave, and quiet hours are those
  // of the moment the delivery would first be sent.
  Notification effective = n;
  effective.priority = plan.effective_priority;
  absl::Time first_send = clock_->Now();
  if (n.scheduled_at.has_value()) first_send = std::max(first_send, *n.scheduled_at);
  if (plan.not_before.has_value()) first_send = std::max(first_send, *plan.not_before);

  std::vector<TargetResolver::Target> fanned;
  for (TargetResolver::Target& t : targets) {
    const Channel channel = t.integration.channel;
    if (!IsRecipientTargeted(channel)) {
      fanned.push_back(std::move(t));
      continue;
    }
    for (const Recipient& r : recipients) {
      auto drop = [&](std::string reason) {
        plan.dropped_recipients.push_back({.recipient = r.user.id,
                                           .integration_id = t.integration.id,
                                           .integration_name = t.integration.name,
                                           .channel = channel,
                                           .reason = std::move(reason)});
      };
      if (absl::Status address = CheckRecipientAddress(r.user, channel); !address.ok()) {
        drop(std::string(address.message()));
        continue;
      }
      TargetResolver::Target target{.integration = t.integration, .recipient = r.user.id,
                                    .held_until = std::nullopt};
      absl::StatusOr<PreferenceDecision> d =
          ApplyPreferences(r.preferences, effective, channel, first_send);
      if (!d.ok()) {
        // Only quiet hours can fail (a time zone tzdata no longer knows);
        // the opt-outs passed, so the recipient gets it now rather than
        // never.
        Log(LogLevel::kWarning, "routing: quiet hours not applied",
            {{"tenant_id", n.tenant_id}, {"user_id", r.user.id}, {"error", d.status().ToString()}});
      } else if (d->action == PreferenceDecision::Action::kSuppress) {
        drop(std::move(d->reason));
        continue;
      } else if (d->action == PreferenceDecision::Action::kHold) {
        target.held_until = d->hold_until;
      }
      fanned.push_back(std::move(target));
    }
  }
  targets = std::move(fanned);
  if (targets.empty()) {
    std::vector<std::string> why;
    for (const DroppedRecipient& r : plan.dropped_recipients) {
      why.push_back(r.integration_id.empty()
                        ? absl::StrCat(r.recipient, ": ", r.reason)
                        : absl::StrCat(r.recipient, " on ", r.integration_name, ": ", r.reason));
    }
    plan.decision.reason =
        absl::StrCat("every recipient was dropped: ", absl::StrJoin(why, "; "));
  }
  return absl::OkStatus();
}

absl::StatusOr<TargetResolver::Decision> RulesTargetResolver::RouteTargets(const Notification& n,
                                                                           const Evaluation& e) {
  Decision decision;
  std::vector<std::string> skipped;
  ALERTHUB_RETURN_IF_ERROR(
      AddTargets(*store_, n.tenant_id, e.integration_ids, e.channels, &decision, &skipped));
  if (decision.targets.empty()) {
    std::vector<absl::string_view> ids;
    for (const MatchedRule& m : e.matched_rules) ids.push_back(m.id);
    decision.reason =
        absl::StrCat("the matched rules (", absl::StrJoin(ids, ", "),
                     ") route to no enabled integration: ", absl::StrJoin(skipped, "; "));
  }
  return decision;
}

}  // namespace alerthub
