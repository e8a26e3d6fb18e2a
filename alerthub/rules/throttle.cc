#include "alerthub/rules/throttle.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/crypto.h"
#include "alerthub/common/time.h"

namespace alerthub {
namespace {

// The bucket of one window refills this many tokens per window: under one,
// so a drained window stays drained until it ends.
constexpr double kRefillPerWindow = 0.5;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

absl::Status Validate(const ThrottleRequest& r) {
  if (r.limit < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("throttle of rule ", r.rule_id, ": limit must be at least 1, not ", r.limit));
  }
  if (r.window < absl::Seconds(1) || r.window % absl::Seconds(1) != absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("throttle of rule ", r.rule_id,
                     ": window must be a whole number of seconds, at least 1, not ",
                     absl::FormatDuration(r.window)));
  }
  return absl::OkStatus();
}

}  // namespace

ThrottleCounter::ThrottleCounter(Kv* kv, ThrottleOptions options)
    : kv_(kv),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()) {}

std::string ThrottleCounter::KeyFor(absl::string_view tenant_id, const ThrottleRequest& request,
                                    absl::Time at) const {
  const int64_t w = absl::ToInt64Seconds(request.window);
  const int64_t index = FloorDiv(absl::ToUnixSeconds(at), w > 0 ? w : 1);
  return absl::StrCat(options_.key_prefix, ":", tenant_id, ":", request.rule_id, ":", w,
                      "s:", index, ":", HexEncode(Sha256(request.group_key)).substr(0, 32));
}

absl::StatusOr<ThrottleDecision> ThrottleCounter::Take(absl::string_view tenant_id,
                                                       const ThrottleRequest& request) {
  return Run(tenant_id, request, 1);
}

absl::StatusOr<ThrottleDecision> ThrottleCounter::Peek(absl::string_view tenant_id,
                                                       const ThrottleRequest& request) {
  return Run(tenant_id, request, 0);
}

absl::StatusOr<ThrottleDecision> ThrottleCounter::Run(absl::string_view tenant_id,
                                                      const ThrottleRequest& request, double cost) {
  if (absl::Status s = Validate(request); !s.ok()) return s;
  const absl::Time now = clock_->Now();
  const int64_t w = absl::ToInt64Seconds(request.window);
  const int64_t index = FloorDiv(absl::ToUnixSeconds(now), w);

  const TokenBucketSpec spec = {.rate_per_second = kRefillPerWindow / static_cast<double>(w),
                                .burst = static_cast<double>(request.limit)};
  absl::StatusOr<TokenBucketDecision> taken =
      kv_->TakeTokens(KeyFor(tenant_id, request, now), spec, cost);
  if (!taken.ok()) return taken.status();

  ThrottleDecision d;
  d.window_end = absl::FromUnixSeconds((index + 1) * w);
  // Whole tokens left: the refill adds less than one per window.
  const int64_t whole = static_cast<int64_t>(std::floor(taken->remaining));
  if (cost > 0) {
    d.allowed = taken->allowed;
    d.remaining = whole;
  } else {  // a peek answers what a take would
    d.allowed = whole >= 1;
    d.remaining = d.allowed ? whole - 1 : whole;
  }
  if (!d.allowed) {
    d.reason = absl::StrCat("throttled by rule ", request.rule_id, ": limit ", request.limit,
                            " per ", w, "s reached for group ",
                            request.group_key.empty() ? "(all)" : request.group_key, " until ",
                            FormatRfc3339(d.window_end));
    return d;
  }
  // The first take of a window (only it leaves limit - 1 whole tokens):
  // the previous window's bucket is dead; dropping it now keeps a busy
  // group at one key. Best effort — the Kv forgets it anyway once full.
  if (cost > 0 && d.remaining >= request.limit - 1) {
    kv_->Delete(KeyFor(tenant_id, request, now - request.window)).IgnoreError();
  }
  return d;
}

}  // namespace alerthub
