#include "alerthub/ratelimit/rate_limiter.h"

#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;

// A Kv whose every call fails, as a down Redis would.
class DownKv : public Kv {
 public:
  absl::StatusOr<TokenBucketDecision> TakeTokens(absl::string_view, const TokenBucketSpec&,
                                                 double) override {
    return absl::UnavailableError("connection refused");
  }
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view) override {
    return absl::UnavailableError("connection refused");
  }
  absl::Status Set(absl::string_view, absl::string_view, absl::Duration) override {
    return absl::UnavailableError("connection refused");
  }
  absl::StatusOr<std::optional<std::string>> SetIfAbsent(absl::string_view, absl::string_view,
                                                         absl::Duration) override {
    return absl::UnavailableError("connection refused");
  }
  absl::Status Delete(absl::string_view) override { return absl::UnavailableError("down"); }
  absl::Status Publish(absl::string_view, absl::string_view) override {
    return absl::UnavailableError("down");
  }
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view,
                                                          MessageHandler) override {
    return absl::UnavailableError("down");
  }
  absl::Status Ping() override { return absl::UnavailableError("down"); }
};

class RateLimiterTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  std::unique_ptr<Kv> kv_ = NewMemoryKv({.clock = &clock_});
};

TEST_F(RateLimiterTest, TenantBucketLimitsAcrossEndpoints) {
  RateLimiter limiter(kv_.get(), {.tenant = {.rate_per_second = 1, .burst = 3},
                                  .endpoint = {.rate_per_second = 100, .burst = 100}});
  ASSERT_OK(limiter.Check("t1", "submit", 2).status());
  ASSERT_OK_AND_ASSIGN(RateLimitInfo info, limiter.Check("t1", "batch", 1));
  EXPECT_EQ(info.limit, 3);
  EXPECT_EQ(info.remaining, 0);
  absl::StatusOr<RateLimitInfo> denied = limiter.Check("t1", "submit", 1);
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kResourceExhausted,
                               "rate limit exceeded for tenant"));
  std::optional<RateLimitInfo> limited = RateLimitInfoOf(denied.status());
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(limited->limit, 3);
  EXPECT_EQ(limited->retry_after, absl::Seconds(1));
  // Other tenants are unaffected.
  EXPECT_OK(limiter.Check("t2", "submit", 1).status());
}

TEST_F(RateLimiterTest, EndpointBucketLimitsOneEndpoint) {
  RateLimiter limiter(kv_.get(), {.tenant = {.rate_per_second = 100, .burst = 100},
                                  .endpoint = {.rate_per_second = 1, .burst = 1}});
  ASSERT_OK(limiter.Check("t1", "batch", 1).status());
  EXPECT_THAT(limiter.Check("t1", "batch", 1),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "rate limit exceeded for endpoint batch"));
  EXPECT_OK(limiter.Check("t1", "submit", 1).status());
  clock_.Advance(absl::Seconds(1));
  EXPECT_OK(limiter.Check("t1", "batch", 1).status());
}

TEST_F(RateLimiterTest, DeniedByTenantRefundsTheEndpoint) {
  RateLimiter limiter(kv_.get(), {.tenant = {.rate_per_second = 1, .burst = 1},
                                  .endpoint = {.rate_per_second = 1, .burst = 2}});
  ASSERT_OK(limiter.Check("t1", "submit", 1).status());
  EXPECT_THAT(limiter.Check("t1", "submit", 1),
              StatusIs(absl::StatusCode::kResourceExhausted));
  clock_.Advance(absl::Seconds(1));
  // The endpoint bucket still holds 1 + 1 refilled; had the denied call kept
  // its endpoint token there would be 1 and the next check would report 0.
  ASSERT_OK_AND_ASSIGN(RateLimitInfo info, limiter.Check("t1", "submit", 1));
  EXPECT_EQ(info.remaining, 0);  // the tenant bucket is the tighter one
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision d,
                       kv_->TakeTokens("rl:e:t1:submit", {.rate_per_second = 1, .burst = 2}, 0));
  EXPECT_NEAR(d.remaining, 1, 1e-9);
}

TEST_F(RateLimiterTest, TenantOverrideReplacesDefault) {
  RateLimiter limiter(kv_.get(), {.tenant = {.rate_per_second = 1, .burst = 1}});
  TokenBucketSpec generous{.rate_per_second = 10, .burst = 10};
  for (int i = 0; i < 10; ++i) ASSERT_OK(limiter.Check("t1", "submit", 1, generous).status());
  EXPECT_THAT(limiter.Check("t1", "submit", 1, generous),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(RateLimiterTest, DisabledAllowsEverything) {
  RateLimiter limiter(kv_.get(), {.enabled = false, .tenant = {.rate_per_second = 1, .burst = 1}});
  for (int i = 0; i < 10; ++i) EXPECT_OK(limiter.Check("t1", "submit", 1).status());
}

TEST(RateLimiterKvDownTest, FailOpenLetsThroughAndCounts) {
  DownKv kv;
  RateLimiter limiter(&kv, {.fail_open = true});
  ASSERT_OK_AND_ASSIGN(RateLimitInfo info, limiter.Check("t1", "submit", 1));
  EXPECT_EQ(info.limit, 0);
  EXPECT_EQ(limiter.fail_open_count(), 1);
}

TEST(RateLimiterKvDownTest, FailClosedRejects) {
  DownKv kv;
  RateLimiter limiter(&kv, {.fail_open = false});
  EXPECT_THAT(limiter.Check("t1", "submit", 1),
              StatusIs(absl::StatusCode::kUnavailable,
                       "rate limiter unavailable: connection refused"));
}

}  // namespace
}  // namespace alerthub
