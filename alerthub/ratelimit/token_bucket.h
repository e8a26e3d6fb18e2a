// Token-bucket arithmetic shared by every Kv adapter (memory:// runs it
// in-process; redis:// runs the same rules in a Lua script) and the
// RateLimiter that applies AlertHub's per-tenant and per-endpoint limits.
//
//   TokenBucketState s;                       // a new bucket starts full
//   TokenBucketDecision d = TakeFromBucket(&s, {.rate_per_second = 10, .burst = 20}, 1, now);
#ifndef ALERTHUB_RATELIMIT_TOKEN_BUCKET_H_
#define ALERTHUB_RATELIMIT_TOKEN_BUCKET_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "alerthub/ports/kv.h"

namespace alerthub {

struct TokenBucketState {
  double tokens = -1;  // negative: never used, i.e. full
  absl::Time updated = absl::InfinitePast();
};

// kInvalidArgument unless rate_per_second > 0, burst > 0 and cost is finite.
absl::Status ValidateTokenBucket(const TokenBucketSpec& spec, double cost);

// Refills `state` to `now` (time going backwards refills nothing) and takes
// `cost` tokens when that many are present. REQUIRES: ValidateTokenBucket ok.
TokenBucketDecision TakeFromBucket(TokenBucketState* state,
                                   const TokenBucketSpec& spec, double cost,
                                   absl::Time now);

// True when a bucket last touched at state.updated is full again at `now`
// (so it may be forgotten).
bool BucketIsFull(const TokenBucketState& state, const TokenBucketSpec& spec,
                  absl::Time now);

}  // namespace alerthub

#endif  // ALERTHUB_RATELIMIT_TOKEN_BUCKET_H_
