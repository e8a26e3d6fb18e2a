#include "alerthub/ratelimit/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace alerthub {

absl::Status ValidateTokenBucket(const TokenBucketSpec& spec, double cost) {
  if (!(spec.rate_per_second > 0) || !std::isfinite(spec.rate_per_second)) {
    return absl::InvalidArgumentError("token bucket rate_per_second must be > 0");
  }
  if (!(spec.burst > 0) || !std::isfinite(spec.burst)) {
    return absl::InvalidArgumentError("token bucket burst must be > 0");
  }
  if (!std::isfinite(cost)) {
    return absl::InvalidArgumentError("token bucket cost must be finite");
  }
  return absl::OkStatus();
}

TokenBucketDecision TakeFromBucket(TokenBucketState* state,
                                   const TokenBucketSpec& spec, double cost,
                                   absl::Time now) {
  double tokens = state->tokens;
  if (tokens < 0) {
    tokens = spec.burst;
  } else if (now > state->updated) {
    double elapsed = absl::ToDoubleSeconds(now - state->updated);
    tokens = std::min(spec.burst, tokens + elapsed * spec.rate_per_second);
  }
  // Never move `updated` backwards, or a clock step back would refill twice.
  state->updated = std::max(state->updated, now);

  TokenBucketDecision d;
  if (tokens >= cost) {
    tokens = std::min(spec.burst, tokens - cost);
    d.allowed = true;
    d.retry_after = absl::ZeroDuration();
  } else {
    d.allowed = false;
    // A cost above the burst can never be met; report the full refill time.
    double missing = std::min(cost, spec.burst) - tokens;
    d.retry_after = absl::Seconds(std::max(0.0, missing) / spec.rate_per_second);
  }
  state->tokens = tokens;
  d.remaining = tokens;
  d.reset_after = absl::Seconds((spec.burst - tokens) / spec.rate_per_second);
  return d;
}

bool BucketIsFull(const TokenBucketState& state, const TokenBucketSpec& spec,
                  absl::Time now) {
  if (state.tokens < 0) return true;
  double elapsed = absl::ToDoubleSeconds(now - state.updated);
  return state.tokens + elapsed * spec.rate_per_second >= spec.burst;
}

}  // namespace alerthub
