#include "alerthub/ratelimit/rate_limiter.h"

#include <memory>
#include <optional>
#include <string>

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

// Forwards every call to another Kv and hides any capability beyond the Kv
// port (TwoBucketTaker), as a remote adapter without it would: the limiter
// then makes its TakeTokens calls one by one.
class PortOnlyKv : public Kv {
 public:
  explicit PortOnlyKv(Kv* kv) : kv_(kv) {}
  absl::StatusOr<TokenBucketDecision> TakeTokens(absl::string_view key,
                                                 const TokenBucketSpec& spec,
                                                 double cost) override {
    return kv_->TakeTokens(key, spec, cost);
  }
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) override {
    return kv_->Get(key);
  }
  absl::Status Set(absl::string_view key, absl::string_view value,
                   absl::Duration ttl) override {
    return kv_->Set(key, value, ttl);
  }
  absl::StatusOr<std::optional<std::string>> SetIfAbsent(absl::string_view key,
                                                         absl::string_view value,
                                                         absl::Duration ttl) override {
    return kv_->SetIfAbsent(key, value, ttl);
  }
  absl::Status Delete(absl::string_view key) override { return kv_->Delete(key); }
  absl::Status Publish(absl::string_view channel, absl::string_view message) override {
    return kv_->Publish(channel, message);
  }
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view channel,
                                                          MessageHandler handler) override {
    return kv_->Subscribe(channel, std::move(handler));
  }
  absl::Status Ping() override { return kv_->Ping(); }

 private:
  Kv* const kv_;
};

// Every test runs twice: on memory:// itself, whose TwoBucketTaker takes both
// buckets in one call, and through PortOnlyKv, where the limiter takes them
// with separate TakeTokens calls; the outcomes must be the same.
class RateLimiterTest : public ::testing::TestWithParam<bool> {
 protected:
  // The Kv the limiter under test uses.
  Kv* kv() { return GetParam() ? static_cast<Kv*>(&port_only_) : memory_.get(); }

  SimulatedClock clock_;
  std::unique_ptr<Kv> memory_ = NewMemoryKv({.clock = &clock_});
  PortOnlyKv port_only_{memory_.get()};
};

INSTANTIATE_TEST_SUITE_P(Paths, RateLimiterTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "SeparateCalls" : "TwoBucketTaker";
                         });

TEST(RateLimiterPathTest, MemoryKvTakesBothBucketsInOneCall) {
  std::unique_ptr<Kv> kv = NewMemoryKv();
  EXPECT_NE(dynamic_cast<TwoBucketTaker*>(kv.get()), nullptr);
  PortOnlyKv port_only(kv.get());
  EXPECT_EQ(dynamic_cast<TwoBucketTaker*>(static_cast<Kv*>(&port_only)), nullptr);
}

TEST_P(RateLimiterTest, TenantBucketLimitsAcrossEndpoints) {
  RateLimiter limiter(kv(), {.tenant = {.rate_per_second = 1, .burst = 3},
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

TEST_P(RateLimiterTest, EndpointBucketLimitsOneEndpoint) {
  RateLimiter limiter(kv(), {.tenant = {.rate_per_second = 100, .burst = 100},
                                  .endpoint = {.rate_per_second = 1, .burst = 1}});
  ASSERT_OK(limiter.Check("t1", "batch", 1).status());
  EXPECT_THAT(limiter.Check("t1", "batch", 1),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "rate limit exceeded for endpoint batch"));
  EXPECT_OK(limiter.Check("t1", "submit", 1).status());
  clock_.Advance(absl::Seconds(1));
  EXPECT_OK(limiter.Check("t1", "batch", 1).status());
}

TEST_P(RateLimiterTest, DeniedByTenantRefundsTheEndpoint) {
  RateLimiter limiter(kv(), {.tenant = {.rate_per_second = 1, .burst = 1},
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
                       kv()->TakeTokens("rl:e:t1:submit", {.rate_per_second = 1, .burst = 2}, 0));
  EXPECT_NEAR(d.remaining, 1, 1e-9);
}

TEST_P(RateLimiterTest, LongTenantIdsAndEndpointsKeepTheirKeys) {
  // Keys too long for the limiter's inline key buffer.
  const std::string tenant(300, 't');
  const std::string endpoint(200, 'e');
  RateLimiter limiter(kv(), {.tenant = {.rate_per_second = 1, .burst = 5},
                             .endpoint = {.rate_per_second = 1, .burst = 3}});
  ASSERT_OK(limiter.Check(tenant, endpoint, 1).status());
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision e,
                       kv()->TakeTokens("rl:e:" + tenant + ":" + endpoint,
                                        {.rate_per_second = 1, .burst = 3}, 0));
  EXPECT_NEAR(e.remaining, 2, 1e-9);
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision t,
                       kv()->TakeTokens("rl:t:" + tenant, {.rate_per_second = 1, .burst = 5}, 0));
  EXPECT_NEAR(t.remaining, 4, 1e-9);
}

TEST_P(RateLimiterTest, InvalidTenantOverrideTakesNothing) {
  RateLimiter limiter(kv(), {.endpoint = {.rate_per_second = 1, .burst = 2}});
  EXPECT_THAT(limiter.Check("t1", "submit", 1, TokenBucketSpec{.rate_per_second = 0, .burst = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "token bucket rate_per_second must be > 0"));
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision d,
                       kv()->TakeTokens("rl:e:t1:submit", {.rate_per_second = 1, .burst = 2}, 0));
  EXPECT_NEAR(d.remaining, 2, 1e-9);
}

TEST_P(RateLimiterTest, TenantOverrideReplacesDefault) {
  RateLimiter limiter(kv(), {.tenant = {.rate_per_second = 1, .burst = 1}});
  TokenBucketSpec generous{.rate_per_second = 10, .burst = 10};
  for (int i = 0; i < 10; ++i) ASSERT_OK(limiter.Check("t1", "submit", 1, generous).status());
  EXPECT_THAT(limiter.Check("t1", "submit", 1, generous),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_P(RateLimiterTest, DisabledAllowsEverything) {
  RateLimiter limiter(kv(), {.enabled = false, .tenant = {.rate_per_second = 1, .burst = 1}});
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
