#include "alerthub/ratelimit/rate_limiter.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace alerthub {
namespace {

RateLimitInfo InfoOf(const TokenBucketSpec& spec, const TokenBucketDecision& d) {
  RateLimitInfo info;
  info.limit = static_cast<int64_t>(spec.burst);
  info.remaining = static_cast<int64_t>(std::floor(d.remaining));
  info.reset_after = d.reset_after;
  info.retry_after = d.retry_after;
  return info;
}

}  // namespace

RateLimiter::RateLimiter(Kv* kv, RateLimitOptions options)
    : kv_(kv), options_(options) {}

absl::StatusOr<RateLimitInfo> RateLimiter::Check(
    absl::string_view tenant_id, absl::string_view endpoint, double cost,
    const std::optional<TokenBucketSpec>& tenant_override) {
  if (!options_.enabled) return RateLimitInfo{};
  const TokenBucketSpec& tenant_spec =
      tenant_override.has_value() ? *tenant_override : options_.tenant;

  auto unavailable = [&](const absl::Status& s) -> absl::StatusOr<RateLimitInfo> {
    if (options_.fail_open) {
      fail_open_count_.fetch_add(1, std::memory_order_relaxed);
      return RateLimitInfo{};
    }
    return absl::UnavailableError(
        absl::StrCat("rate limiter unavailable: ", s.message()));
  };

  const std::string endpoint_key = absl::StrCat("rl:e:", tenant_id, ":", endpoint);
  absl::StatusOr<TokenBucketDecision> e =
      kv_->TakeTokens(endpoint_key, options_.endpoint, cost);
  if (!e.ok()) {
    if (e.status().code() == absl::StatusCode::kUnavailable) return unavailable(e.status());
    return e.status();
  }
  if (!e->allowed) {
    return RateLimitedError(
        absl::StrCat("rate limit exceeded for endpoint ", endpoint),
        InfoOf(options_.endpoint, *e));
  }
  const std::string tenant_key = absl::StrCat("rl:t:", tenant_id);
  absl::StatusOr<TokenBucketDecision> t = kv_->TakeTokens(tenant_key, tenant_spec, cost);
  if (!t.ok() || !t->allowed) {
    // Return the endpoint's tokens: a denied request takes nothing.
    (void)kv_->TakeTokens(endpoint_key, options_.endpoint, -cost);
    if (!t.ok()) {
      if (t.status().code() == absl::StatusCode::kUnavailable) return unavailable(t.status());
      return t.status();
    }
    return RateLimitedError("rate limit exceeded for tenant",
                            InfoOf(tenant_spec, *t));
  }
  // Report the bucket closer to empty, as RateLimit-* headers expect.
  RateLimitInfo ei = InfoOf(options_.endpoint, *e);
  RateLimitInfo ti = InfoOf(tenant_spec, *t);
  return ei.remaining < ti.remaining ? ei : ti;
}

}  // namespace alerthub
