// Token-bucket arithmetic shared by every Kv adapter (memory:// runs it
// in-process; redis:// runs the same rules in a Lua script) and the
// RateLimiter that applies AlertHub's per-tenant and per-endpoint limits.
//
//   TokenBucketState s;                       // a new bucket starts full
//   TokenBucketDecision d = TakeFromBucket(&s, {.rate_per_second = 10, .burst = 20}, 1, now);
#ifndef ALERTHUB_RATELIMIT_TOKEN_BUCKET_H_
#define ALERTHUB_RATELIMIT_TOKEN_BUCKET_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

// What TwoBucketTaker::TakeTokensFromBoth decided.
struct TwoBucketDecision {
  // The first bucket's decision (when the second bucket denied, as it was
  // before the first bucket's tokens were returned).
  TokenBucketDecision first;
  // The second bucket's decision; unset when the first bucket denied, since
  // the second is then not consulted.
  std::optional<TokenBucketDecision> second;

  bool allowed() const { return first.allowed && second.has_value() && second->allowed; }
};

// An optional capability of a Kv adapter, for RateLimiter: take `cost` tokens
// from two buckets in one call, with one clock read, atomically with respect
// to other calls on either bucket. The outcome is that of
//   first = TakeTokens(first_key, first_spec, cost);
//   if (first.allowed) second = TakeTokens(second_key, second_spec, cost);
//   if (first.allowed && !second.allowed)   // a denied request takes nothing
//     TakeTokens(first_key, first_spec, -cost);
// at a single instant. Errors are those of Kv::TakeTokens, returned before
// either bucket is touched. RateLimiter uses it when its Kv implements it
// (memory:// does) and makes the calls above otherwise.
// Thread safety: safe for concurrent access from multiple threads.
class TwoBucketTaker {
 public:
  virtual ~TwoBucketTaker() = default;

  virtual absl::StatusOr<TwoBucketDecision> TakeTokensFromBoth(
      absl::string_view first_key, const TokenBucketSpec& first_spec,
      absl::string_view second_key, const TokenBucketSpec& second_spec, double cost) = 0;
};

}  // namespace alerthub

#endif  // ALERTHUB_RATELIMIT_TOKEN_BUCKET_H_
