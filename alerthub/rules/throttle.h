// Throttle counters for rules' `throttle` actions on the Kv port: at most
// `limit` notifications per window, per (tenant, rule, grouping key); the
// excess is suppressed with a reason.
//
//   ThrottleCounter counter(kv, {.clock = clock});
//   absl::StatusOr<ThrottleDecision> d = counter.Take(tenant_id, request);
//   if (d.ok() && !d->allowed) { /* suppress with d->reason */ }
//
// Windows are FIXED and aligned to the Unix epoch: window k of a rule with
// window W covers [k·W, (k+1)·W). So "limit 10, window_s 60" allows exactly
// 10 per clock minute and group, whatever the rate, and the count starts
// again at each boundary (as Alertmanager's and most paging tools' counts
// do). A burst straddling a boundary can pass 2·limit within one W — the
// price of a counter that is exact per window, deterministic in tests and
// the dry run, and one Kv round trip per notification. (A token bucket —
// "sliding" — would smooth that but let limit + limit·t/W through in any t,
// and a sliding log needs a sorted set the Kv port does not have.)
//
// Atomicity without a Kv counter primitive: each window is its own token
// bucket (key ".../<k>", burst = limit) that refills so slowly — half a token
// per window — that it can never refill a whole token before its window
// ends. Kv::TakeTokens is atomic on memory:// and redis://, so concurrent
// routers in any number of processes never let more than `limit` through.
// The first take of a window deletes the previous window's bucket; an idle
// group's last bucket is dropped by the Kv once it is full again.
//
// Counters are keyed by rule id and window length, so changing a rule's
// window starts fresh counts; changing only its limit applies the new limit
// to the current window's remaining count.
//
// Thread-safe. Kv is the only state.
#ifndef ALERTHUB_RULES_THROTTLE_H_
#define ALERTHUB_RULES_THROTTLE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/kv.h"
#include "alerthub/rules/evaluator.h"

namespace alerthub {

struct ThrottleOptions {
  // Source of time for window boundaries. Must outlive the counter. Null:
  // Clock::Real(). (The Kv's own clock refills the bucket; the refill rate
  // makes the two clocks' difference harmless.)
  Clock* clock = nullptr;
  // Prefix of every Kv key the counter writes.
  std::string key_prefix = "alerthub:throttle";
};

struct ThrottleDecision {
  bool allowed = false;
  // Notifications the group may still send in this window after this call.
  int64_t remaining = 0;
  // When the current window ends and the count starts again.
  absl::Time window_end = absl::InfinitePast();
  // Empty when allowed; otherwise, for people and the routing event:
  // `throttled by rule <id>: limit 10 per 60s reached for group
  // type="deploy" until 2027-01-15T08:01:00.000000Z`.
  std::string reason;
};

class ThrottleCounter {
 public:
  // `kv` must outlive the counter.
  ThrottleCounter(Kv* kv, ThrottleOptions options);

  // Counts one notification of `tenant_id` against `request` and says
  // whether it may pass. A denied notification is not counted.
  // kInvalidArgument when request.limit < 1 or request.window is shorter
  // than a second or not a whole number of seconds; Kv errors as they come
  // (kUnavailable: the caller decides whether to fail open).
  absl::StatusOr<ThrottleDecision> Take(absl::string_view tenant_id,
                                        const ThrottleRequest& request);

  // What Take() would answer now (the same allowed, remaining and reason),
  // without counting anything: the dry run.
  absl::StatusOr<ThrottleDecision> Peek(absl::string_view tenant_id,
                                        const ThrottleRequest& request);

  // The Kv key of the window containing `at`, for tests and operators:
  // <prefix>:<tenant>:<rule>:<window seconds>s:<window index>:<hex SHA-256
  // of the group key, 32 digits>.
  std::string KeyFor(absl::string_view tenant_id, const ThrottleRequest& request,
                     absl::Time at) const;

 private:
  absl::StatusOr<ThrottleDecision> Run(absl::string_view tenant_id, const ThrottleRequest& request,
                                       double cost);

  Kv* const kv_;
  const ThrottleOptions options_;
  Clock* const clock_;
};

}  // namespace alerthub

#endif  // ALERTHUB_RULES_THROTTLE_H_
