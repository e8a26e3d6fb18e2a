// When a failed delivery is tried again (ARCHITECTURE §4 "Webhooks"): Svix's
// schedule by default - immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
// and 10 h later - with jitter, honouring Retry-After; a 410 disables the
// integration; other 4xx but 408/429 are permanent; when the schedule is
// exhausted the delivery is dead-lettered.
//
//   AttemptOutcome outcome = ClassifyHttpStatus(response.status);
//   RetryDecision d = NextAttempt(policy, delivery.attempts, outcome,
//                                 ParseRetryAfter(retry_after_header, now),
//                                 clock->Now(), bitgen);
//   if (d.retry) { reschedule at d.next_attempt_at; } else { finish; }
//
// Everything here is a pure function of its arguments (time and randomness
// are passed in), safe to call from any thread.
#ifndef ALERTHUB_DELIVERY_RETRY_POLICY_H_
#define ALERTHUB_DELIVERY_RETRY_POLICY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace alerthub {

struct RetryPolicy {
  // schedule[i] is the delay before attempt i+1, counted from the failure of
  // attempt i (from the enqueue for the first), so schedule.size() is the
  // number of attempts. Svix's schedule: 8 attempts over about 27.5 hours.
  std::vector<absl::Duration> schedule = {
      absl::ZeroDuration(), absl::Seconds(5), absl::Minutes(5), absl::Minutes(30),
      absl::Hours(2),       absl::Hours(5),   absl::Hours(10),  absl::Hours(10)};
  // Each delay is scaled by a factor drawn uniformly from [1 - jitter,
  // 1 + jitter], so retries of many deliveries failing together spread out.
  // In [0, 1).
  double jitter = 0.2;
  // A Retry-After longer than this is shortened to it, so one endpoint cannot
  // park a delivery indefinitely.
  absl::Duration max_retry_after = absl::Hours(24);
};

// Limits RetryPolicyFromJson enforces.
struct RetryPolicyLimits {
  static constexpr size_t kMaxAttempts = 50;
  static constexpr absl::Duration kMaxDelay = absl::Hours(24 * 7);
};

// How one attempt ended. Stored in delivery records; never renumbered.
enum class AttemptOutcome : int {
  kSuccess = 1,
  kRetriable = 2,
  kPermanent = 3,
  // The endpoint answered 410 Gone: not retried, and the integration should
  // be disabled.
  kGone = 4,
};

// "success", "retriable", "permanent", "gone".
absl::string_view AttemptOutcomeName(AttemptOutcome outcome);

// By HTTP status: 2xx success; 410 gone; 408 and 429 retriable; other 4xx
// permanent; 5xx retriable; 1xx and 3xx permanent (redirects are never
// followed, so a 3xx will not fix itself). A code outside 100-599 is a broken
// response, retried like a transport failure.
AttemptOutcome ClassifyHttpStatus(int status);

// By the status the sending adapter reports when no HTTP response arrived.
// Adapters map their transport errors to these codes:
//   kDeadlineExceeded   timeout                               -> retriable
//   kUnavailable        connection refused/reset, DNS, TLS    -> retriable
//   kResourceExhausted, kAborted, kCancelled, kInternal,
//   kUnknown, kDataLoss                                       -> retriable
//   kPermissionDenied   refused by the SSRF guard             -> permanent
//   kInvalidArgument    bad URL or request                    -> permanent
//   any other code                                            -> permanent
// OK is kSuccess. Retrying when unsure costs a request; dropping costs a
// notification, hence the long retriable list.
AttemptOutcome ClassifyTransportError(const absl::Status& status);

struct RetryDecision {
  // Whether to try again.
  bool retry = false;
  // When to, if `retry`; absl::InfiniteFuture() otherwise.
  absl::Time next_attempt_at = absl::InfiniteFuture();
  // For people and the delivery's event log: why, and when.
  std::string reason;
};

// What to do after `attempts_made` attempts (>= 1; 0 asks for the first
// attempt's delay) when the last ended with `outcome`.
//   kSuccess, kPermanent, kGone: no retry, with the reason.
//   kRetriable: the next delay of the schedule, jittered (see
//     RetryPolicy::jitter; the random factor is drawn from `rng` with
//     absl::Uniform over the closed interval), and at least `retry_after`
//     (from a Retry-After header or Discord's retry_after, capped at
//     policy.max_retry_after); no retry once the schedule is exhausted.
// REQUIRES: `policy` is valid (as RetryPolicyFromJson checks); an
// out-of-range jitter is clamped.
RetryDecision NextAttempt(const RetryPolicy& policy, int attempts_made,
                          AttemptOutcome outcome,
                          std::optional<absl::Duration> retry_after, absl::Time now,
                          absl::BitGenRef rng);

// Reads a Retry-After header value (RFC 9110 §10.2.3): delay-seconds ("120";
// a fraction such as "1.5" is accepted too, as Discord sends) or an HTTP-date
// in any of the three forms ("Sun, 06 Nov 1994 08:49:37 GMT", "Sunday,
// 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"), which is turned into a
// delay from `now` (zero when it has passed). nullopt for anything else:
// empty, negative, garbage.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view header_value,
                                              absl::Time now);

// A per-integration override:
//   {"schedule": ["0s", "30s", "5m", 3600],   // durations or seconds
//    "jitter": 0.1, "max_retry_after": "1h"}
// Absent members keep the defaults above. Durations are absl/Go-style strings
// ("90s", "1h30m", "0") or non-negative numbers of seconds. kInvalidArgument
// with one FieldError per broken rule ("schedule[2]", "jitter", ...; "" when
// `j` is not an object); unknown members are errors.
absl::StatusOr<RetryPolicy> RetryPolicyFromJson(const nlohmann::json& j);

// The form RetryPolicyFromJson reads, every member present, durations as
// strings.
nlohmann::json RetryPolicyToJson(const RetryPolicy& policy);

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_RETRY_POLICY_H_
