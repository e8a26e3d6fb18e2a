// RateLimiter: AlertHub's per-tenant and per-endpoint token buckets on the Kv
// port. A request passes only when both the tenant's bucket and the
// (tenant, endpoint) bucket have tokens; a denied request takes nothing from
// either (the endpoint bucket is refunded when the tenant bucket says no).
//
//   RateLimiter limiter(kv, {.tenant = {.rate_per_second = 1000, .burst = 2000}});
//   absl::StatusOr<RateLimitInfo> r = limiter.Check(tenant_id, "notifications.submit", 1);
//   // kResourceExhausted with RateLimitInfoOf(r.status()) when limited.
#ifndef ALERTHUB_RATELIMIT_RATE_LIMITER_H_
#define ALERTHUB_RATELIMIT_RATE_LIMITER_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/common/status.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ratelimit/token_bucket.h"

namespace alerthub {

struct RateLimitOptions {
  // Whether limits apply at all.
  bool enabled = true;
  // Default bucket for all of a tenant's requests.
  TokenBucketSpec tenant = {.rate_per_second = 1000, .burst = 2000};
  // Default bucket per (tenant, endpoint).
  TokenBucketSpec endpoint = {.rate_per_second = 1000, .burst = 2000};
  // When Kv is unavailable: true lets requests through (and counts them in
  // fail_open_count()), false rejects them with kUnavailable.
  bool fail_open = true;
};

class RateLimiter {
 public:
  // `kv` must outlive the limiter.
  RateLimiter(Kv* kv, RateLimitOptions options);

  // Takes `cost` tokens for `tenant_id` on `endpoint`. `tenant_override`, when
  // set, replaces options.tenant for this tenant (from its TenantSettings).
  // When allowed, returns the state of the tighter bucket (limit 0 when limits
  // are disabled or Kv was unavailable and the request was let through);
  // kResourceExhausted carrying RateLimitInfo when limited; kUnavailable only
  // when Kv is down and fail_open is false.
  absl::StatusOr<RateLimitInfo> Check(absl::string_view tenant_id, absl::string_view endpoint,
                     double cost,
                     const std::optional<TokenBucketSpec>& tenant_override =
                         std::nullopt);

  // Requests let through because Kv was unavailable.
  int64_t fail_open_count() const { return fail_open_count_.load(); }

 private:
  // Takes `cost` from the endpoint bucket and then the tenant bucket, from
  // both or neither (see TwoBucketTaker): in one call when the Kv can,
  // otherwise as two or three TakeTokens calls.
  absl::StatusOr<TwoBucketDecision> TakeFromBoth(absl::string_view endpoint_key,
                                                 absl::string_view tenant_key,
                                                 const TokenBucketSpec& tenant_spec, double cost);

  Kv* const kv_;
  TwoBucketTaker* const two_buckets_;  // kv_'s two-bucket capability, or nullptr
  const RateLimitOptions options_;
  std::atomic<int64_t> fail_open_count_{0};
};

}  // namespace alerthub

#endif  // ALERTHUB_RATELIMIT_RATE_LIMITER_H_
