// RulesTargetResolver: the dispatcher's TargetResolver (delivery/dispatcher.h)
// driven by the tenant's routing rules — evaluation (evaluator.h), throttle
// counters (throttle.h) and the tenant's integrations (Store), with a
// per-tenant cache of compiled rules.
//
//   RulesTargetResolver resolver(
//       store, kv,
//       [store](absl::string_view tenant) { return ListEnabledRules(store, tenant); },
//       {.clock = clock});
//   Dispatcher dispatcher(store, queue, kv, catalog, sender, &resolver, options);
//   ...
//   resolver.Invalidate(tenant_id);  // after every rule create/update/delete
//
// Resolve(n), in order:
//   1. the tenant's compiled rules (cached; see RulesFor());
//   2. Evaluate(): a matching `suppress` rule -> no targets, the reason names
//      the rule;
//   3. each matched rule's throttle is counted; the first over its limit ->
//      no targets, the reason names the rule, the limit and the group;
//   4. targets: a matched rule's route -> its integration ids (each must be
//      the tenant's and enabled; others are skipped with a reason) and
//      channels (every enabled integration of the channel); no route (no rule
//      matched, or the matched ones only throttle/digest/delay/set priority)
//      -> DefaultTargetResolver: the notification's explicit targets, else
//      the tenant's default integrations;
//   5. recipient fan-out, when the notification names `recipients` (user
//      ids): each target on a recipient-targeted channel (IsRecipientTargeted:
//      email, push, slack, discord) becomes one target per recipient, for
//      the users that exist (Store::GetRecipients, one round trip). A
//      webhook target stays one delivery per notification. Per (recipient,
//      channel), in order: unknown user -> dropped; no address for the
//      channel (CheckRecipientAddress) -> dropped; the user's Preferences
//      (ApplyPreferences, with the plan's effective priority, at the time the
//      delivery would first be sent): opted out or below the minimum
//      priority -> dropped, quiet hours -> the target is held until the
//      window ends (not for an effective priority of critical). Every drop
//      is in RoutingPlan::dropped_recipients with its reason; when nothing is
//      left, the decision's reason names why each one went.
//
// What TargetResolver::Decision cannot carry — the effective priority, the
// delay, the digest group, which rule suppressed and the dropped recipients
// — is in the RoutingPlan that Plan() returns; the dispatcher routes with
// Plan() (delays, scheduled_at and quiet hours hold deliveries, a
// suppression names its rule, the effective priority is what templates and
// senders see). Digests are not applied here.
//
// Thread-safe.
#ifndef ALERTHUB_RULES_RULES_RESOLVER_H_
#define ALERTHUB_RULES_RULES_RESOLVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/delivery/target_resolver.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ports/store.h"
#include "alerthub/rules/evaluator.h"
#include "alerthub/rules/matcher.h"
#include "alerthub/rules/throttle.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// Every rule of a tenant (enabled or not; the resolver keeps the enabled
// ones). Must be thread-safe. Errors are returned from Resolve() as they
// are, so kUnavailable has the bus retry.
using RuleSource = std::function<absl::StatusOr<std::vector<Rule>>(absl::string_view tenant_id)>;

struct RulesTargetResolverOptions {
  // Source of time for cache ages, delays and throttle windows. Must outlive
  // the resolver. Null: Clock::Real().
  Clock* clock = nullptr;
  // How long a tenant's compiled rules are used before the source is asked
  // again even without Invalidate(): the bound on staleness when rules are
  // changed by another process (the admin daemon) whose changes this one
  // does not hear about. InfiniteDuration(): only Invalidate() reloads.
  absl::Duration max_staleness = absl::Seconds(30);
  // When Kv is unavailable while counting a throttle: true lets the
  // notification through (ARCHITECTURE §2: Kv loss must not lose
  // notifications; counted in throttle_fail_open_count()), false fails
  // Resolve() with kUnavailable so the bus retries.
  bool throttle_fail_open = true;
  // Prefix of the throttle counters' Kv keys.
  std::string throttle_key_prefix = "alerthub:throttle";
};

// One throttle the plan counted (or, in a dry run, looked at).
struct ThrottleOutcome {
  std::string rule_id;
  std::string group_key;
  bool allowed = true;
  int64_t remaining = 0;  // left in the window after this notification
  absl::Time window_end = absl::InfinitePast();
  // Kv could not be reached and throttle_fail_open let it pass uncounted.
  bool kv_unavailable = false;

  bool operator==(const ThrottleOutcome& other) const = default;
};

// A recipient routing left out, for one integration or (unknown user) for
// all of them.
struct DroppedRecipient {
  std::string recipient;  // the user id as the notification names it
  // Empty when the user does not exist (dropped for every integration).
  std::string integration_id;
  std::string integration_name;
  std::optional<Channel> channel;
  // "no user with this id in the tenant", CheckRecipientAddress's message,
  // or ApplyPreferences' reason ("recipient opted out of channel slack").
  std::string reason;

  bool operator==(const DroppedRecipient& other) const = default;
};

// Everything routing decided for one notification.
struct RoutingPlan {
  Evaluation evaluation;
  // What Resolve() returns: the targets, or why there are none.
  TargetResolver::Decision decision;
  // Set when the notification must not be delivered: by a suppress rule or
  // by a throttle (rule_id is then the throttling rule's).
  std::optional<Suppression> suppression;
  // In rule order, up to and including the first that denied.
  std::vector<ThrottleOutcome> throttles;
  Priority effective_priority = Priority::kNormal;
  // Deliver no earlier than this (rules' `delay`): the later of the
  // notification's created_at (or now, when unset) and scheduled_at, plus
  // the delay. Unset when no matched rule delays.
  std::optional<absl::Time> not_before;
  // Hold for this digest group instead of delivering one by one.
  std::optional<DigestRequest> digest;
  // Recipients (or their deliveries on one integration) left out, in the
  // order of the notification's recipients, then of the targets.
  std::vector<DroppedRecipient> dropped_recipients;
};

// The dry run as the admin API shows it:
//   {"evaluation": EvaluationToJson(...),
//    "deliveries": [{"integration_id", "integration_name", "channel", "recipient",
//                    "status": "pending" | "held",
//                    "held_until": "RFC 3339",      // when held for quiet hours
//                    "digest_key": "<rule id>/<group key>"}],  // held for a digest
//    "dropped_recipients": [{"recipient", "integration_id", "integration_name",
//                            "channel", "reason"}],  // integration_* and channel
//                                                    // absent for unknown users
//    "reason": "...",                       // when there are no deliveries
//    "suppressed": bool, "suppression": {"rule_id", "reason"},   // when suppressed
//    "throttle_outcomes": [{"rule_id", "group_key", "allowed", "remaining",
//                           "window_end", "kv_unavailable"}],
//    "effective_priority": "high",
//    "not_before": "RFC 3339"}             // when delayed
// Integration configs (secrets) are never included.
nlohmann::json RoutingPlanToJson(const RoutingPlan& plan);

// The "dropped_recipients" array of RoutingPlanToJson (also in the routing
// event): [{"recipient", "integration_id", "integration_name", "channel",
// "reason"}], the integration and channel absent for unknown users.
nlohmann::json DroppedRecipientsToJson(const std::vector<DroppedRecipient>& dropped);

class RulesTargetResolver : public TargetResolver {
 public:
  // `store`, `kv` and options.clock must outlive the resolver.
  RulesTargetResolver(Store* store, Kv* kv, RuleSource rules,
                      RulesTargetResolverOptions options = {});

  RulesTargetResolver(const RulesTargetResolver&) = delete;
  RulesTargetResolver& operator=(const RulesTargetResolver&) = delete;

  // Plan(n).decision. Errors: the rule source's and the store's as they
  // come; kUnavailable from Kv only when throttle_fail_open is false.
  absl::StatusOr<Decision> Resolve(const Notification& n) override;

  // Routes `n` for real: throttles are counted.
  absl::StatusOr<RoutingPlan> Plan(const Notification& n);

  // The same decision without side effects: throttles are looked at, not
  // counted. What the admin API's EvaluateRule returns for stored rules; equal
  // to Plan() for the same state.
  absl::StatusOr<RoutingPlan> DryRun(const Notification& n);

  // Drops the tenant's compiled rules; the next Resolve() reloads them
  // (reusing the compiled form of unchanged rules). A load in flight when
  // this is called does not fill the cache. Cheap; call after every change.
  void Invalidate(absl::string_view tenant_id);

  // The tenant's compiled rules: cached, or loaded from the source and
  // compiled when absent, invalidated or older than max_staleness. A stored
  // rule that does not compile is left out and logged (one corrupt rule
  // must not stop the tenant's routing, nor a bus partition).
  absl::StatusOr<std::shared_ptr<const CompiledRuleSet>> RulesFor(absl::string_view tenant_id);

  // Throttles let through uncounted because Kv was unavailable.
  int64_t throttle_fail_open_count() const {
    return throttle_fail_open_count_.load(std::memory_order_relaxed);
  }

 private:
  struct CacheEntry {
    // Bumped by Invalidate(); a load started under an older one is not cached.
    uint64_t generation = 0;
    std::shared_ptr<const CompiledRuleSet> rules;  // null: load on next use
    absl::Time loaded_at = absl::InfinitePast();
    // The last set loaded, kept across Invalidate() to reuse compiled rules.
    std::shared_ptr<const CompiledRuleSet> previous;
  };

  absl::StatusOr<RoutingPlan> Run(const Notification& n, bool dry_run);
  // Step 5: replaces recipient-targeted targets with one per recipient,
  // applying addresses and preferences (see the class comment).
  absl::Status FanOutToRecipients(const Notification& n, RoutingPlan& plan);
  // Resolves the matched rules' route into targets.
  absl::StatusOr<Decision> RouteTargets(const Notification& n, const Evaluation& e);

  Store* const store_;
  const RuleSource source_;
  const RulesTargetResolverOptions options_;
  Clock* const clock_;
  ThrottleCounter throttle_;
  DefaultTargetResolver fallback_;
  std::atomic<int64_t> throttle_fail_open_count_{0};

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace alerthub

#endif  // ALERTHUB_RULES_RULES_RESOLVER_H_
