#include "alerthub/ratelimit/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
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

// The two bucket keys of a request, "rl:e:<tenant>:<endpoint>" and
// "rl:t:<tenant>" (the names redis:// stores them under too), built once per
// check in one buffer that lives on the stack for the usual tenant ids and
// endpoint names, so a check allocates nothing.
class BucketKeys {
 public:
  BucketKeys(absl::string_view tenant_id, absl::string_view endpoint) {
    const size_t size = kEndpointPrefix.size() + tenant_id.size() + 1 + endpoint.size() +
                        kTenantPrefix.size() + tenant_id.size();
    char* const begin = size <= sizeof(inline_) ? inline_ : (heap_.resize(size), heap_.data());
    char* const tenant_begin = Append(begin, {kEndpointPrefix, tenant_id, ":", endpoint});
    char* const end = Append(tenant_begin, {kTenantPrefix, tenant_id});
    endpoint_key_ = absl::string_view(begin, static_cast<size_t>(tenant_begin - begin));
    tenant_key_ = absl::string_view(tenant_begin, static_cast<size_t>(end - tenant_begin));
  }
  BucketKeys(const BucketKeys&) = delete;
  BucketKeys& operator=(const BucketKeys&) = delete;

  absl::string_view endpoint_key() const { return endpoint_key_; }
  absl::string_view tenant_key() const { return tenant_key_; }

 private:
  static constexpr absl::string_view kEndpointPrefix = "rl:e:";
  static constexpr absl::string_view kTenantPrefix = "rl:t:";

  // Copies `pieces` to `out`; returns the end of what it wrote.
  static char* Append(char* out, std::initializer_list<absl::string_view> pieces) {
    for (absl::string_view piece : pieces) out = std::copy(piece.begin(), piece.end(), out);
    return out;
  }

  char inline_[128];
  std::string heap_;  // used when the keys do not fit inline_
  absl::string_view endpoint_key_;
  absl::string_view tenant_key_;
};

}  // namespace

RateLimiter::RateLimiter(Kv* kv, RateLimitOptions options)
    : kv_(kv), two_buckets_(dynamic_cast<TwoBucketTaker*>(kv)), options_(options) {}

absl::StatusOr<TwoBucketDecision> RateLimiter::TakeFromBoth(absl::string_view endpoint_key,
                                                            absl::string_view tenant_key,
                                                            const TokenBucketSpec& tenant_spec,
                                                            double cost) {
  if (two_buckets_ != nullptr) {
    return two_buckets_->TakeTokensFromBoth(endpoint_key, options_.endpoint, tenant_key,
                                            tenant_spec, cost);
  }
  TwoBucketDecision d;
  absl::StatusOr<TokenBucketDecision> e = kv_->TakeTokens(endpoint_key, options_.endpoint, cost);
  if (!e.ok()) return e.status();
  d.first = *e;
  if (!d.first.allowed) return d;
  absl::StatusOr<TokenBucketDecision> t = kv_->TakeTokens(tenant_key, tenant_spec, cost);
  if (!t.ok() || !t->allowed) {
    // Return the endpoint's tokens: a denied request takes nothing.
    (void)kv_->TakeTokens(endpoint_key, options_.endpoint, -cost);
    if (!t.ok()) return t.status();
  }
  d.second = *t;
  return d;
}

absl::StatusOr<RateLimitInfo> RateLimiter::Check(
    absl::string_view tenant_id, absl::string_view endpoint, double cost,
    const std::optional<TokenBucketSpec>& tenant_override) {
  if (!options_.enabled) return RateLimitInfo{};
  const TokenBucketSpec& tenant_spec =
      tenant_override.has_value() ? *tenant_override : options_.tenant;

  const BucketKeys keys(tenant_id, endpoint);
  absl::StatusOr<TwoBucketDecision> d =
      TakeFromBoth(keys.endpoint_key(), keys.tenant_key(), tenant_spec, cost);
  if (!d.ok()) {
    if (d.status().code() != absl::StatusCode::kUnavailable) return d.status();
    if (options_.fail_open) {
      fail_open_count_.fetch_add(1, std::memory_order_relaxed);
      return RateLimitInfo{};
    }
    return absl::UnavailableError(
        absl::StrCat("rate limiter unavailable: ", d.status().message()));
  }
  if (!d->first.allowed) {
    return RateLimitedError(absl::StrCat("rate limit exceeded for endpoint ", endpoint),
                            InfoOf(options_.endpoint, d->first));
  }
  if (!d->second->allowed) {
    return RateLimitedError("rate limit exceeded for tenant", InfoOf(tenant_spec, *d->second));
  }
  // Report the bucket closer to empty, as RateLimit-* headers expect.
  RateLimitInfo ei = InfoOf(options_.endpoint, d->first);
  RateLimitInfo ti = InfoOf(tenant_spec, *d->second);
  return ei.remaining < ti.remaining ? ei : ti;
}

}  // namespace alerthub
