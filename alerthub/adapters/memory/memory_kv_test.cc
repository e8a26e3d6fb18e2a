#include "alerthub/adapters/memory/memory_kv.h"

#include "alerthub/ratelimit/token_bucket.h"
#include "alerthub/testing/kv_contract.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Memory, KvContractTest,
    ::testing::Values(KvFactory{
        "memory", [](SimulatedClock* clock) -> absl::StatusOr<std::unique_ptr<Kv>> {
          return NewMemoryKv({.clock = clock});
        }}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace alerthub

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;

// memory:// also takes two buckets in one call (TwoBucketTaker, for
// RateLimiter); the outcome must be that of the separate TakeTokens calls.
class MemoryKvTwoBucketTest : public ::testing::Test {
 protected:
  TwoBucketTaker& taker() { return *dynamic_cast<TwoBucketTaker*>(kv_.get()); }
  double Remaining(absl::string_view key, const TokenBucketSpec& spec) {
    absl::StatusOr<TokenBucketDecision> d = kv_->TakeTokens(key, spec, 0);
    EXPECT_OK(d.status());
    return d.ok() ? d->remaining : -1;
  }

  SimulatedClock clock_;
  std::unique_ptr<Kv> kv_ = NewMemoryKv({.clock = &clock_});
  const TokenBucketSpec three_ = {.rate_per_second = 1, .burst = 3};
  const TokenBucketSpec one_ = {.rate_per_second = 1, .burst = 1};
};

TEST_F(MemoryKvTwoBucketTest, TakesFromBothWhenBothHaveTokens) {
  ASSERT_OK_AND_ASSIGN(TwoBucketDecision d, taker().TakeTokensFromBoth("a", three_, "b", one_, 1));
  EXPECT_TRUE(d.allowed());
  EXPECT_DOUBLE_EQ(d.first.remaining, 2);
  ASSERT_TRUE(d.second.has_value());
  EXPECT_DOUBLE_EQ(d.second->remaining, 0);
  EXPECT_DOUBLE_EQ(Remaining("a", three_), 2);
  EXPECT_DOUBLE_EQ(Remaining("b", one_), 0);
}

TEST_F(MemoryKvTwoBucketTest, SecondDeniedReturnsTheFirstBucketsTokens) {
  ASSERT_OK(kv_->TakeTokens("b", one_, 1).status());
  ASSERT_OK_AND_ASSIGN(TwoBucketDecision d, taker().TakeTokensFromBoth("a", three_, "b", one_, 1));
  EXPECT_FALSE(d.allowed());
  EXPECT_TRUE(d.first.allowed);
  ASSERT_TRUE(d.second.has_value());
  EXPECT_FALSE(d.second->allowed);
  EXPECT_EQ(d.second->retry_after, absl::Seconds(1));
  EXPECT_DOUBLE_EQ(Remaining("a", three_), 3);
}

TEST_F(MemoryKvTwoBucketTest, FirstDeniedLeavesTheSecondAlone) {
  ASSERT_OK(kv_->TakeTokens("a", one_, 1).status());
  ASSERT_OK_AND_ASSIGN(TwoBucketDecision d, taker().TakeTokensFromBoth("a", one_, "b", three_, 1));
  EXPECT_FALSE(d.allowed());
  EXPECT_FALSE(d.first.allowed);
  EXPECT_FALSE(d.second.has_value());
  EXPECT_DOUBLE_EQ(Remaining("b", three_), 3);
}

TEST_F(MemoryKvTwoBucketTest, SameKeyTwiceTakesTwice) {
  // Both keys in one shard: locked once, and the bucket is taken twice.
  ASSERT_OK_AND_ASSIGN(TwoBucketDecision d, taker().TakeTokensFromBoth("a", three_, "a", three_, 1));
  EXPECT_TRUE(d.allowed());
  EXPECT_DOUBLE_EQ(Remaining("a", three_), 1);
}

TEST_F(MemoryKvTwoBucketTest, BadSpecTakesNothing) {
  EXPECT_THAT(taker().TakeTokensFromBoth("a", three_, "b", {.rate_per_second = 0, .burst = 1}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "token bucket rate_per_second must be > 0"));
  EXPECT_DOUBLE_EQ(Remaining("a", three_), 3);
}

}  // namespace
}  // namespace alerthub
