#include "alerthub/ratelimit/token_bucket.h"

#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(TokenBucketTest, StartsFullTakesAndDenies) {
  TokenBucketState s;
  TokenBucketSpec spec{.rate_per_second = 2, .burst = 4};
  TokenBucketDecision d = TakeFromBucket(&s, spec, 3, kT0);
  EXPECT_TRUE(d.allowed);
  EXPECT_DOUBLE_EQ(d.remaining, 1);
  EXPECT_EQ(d.reset_after, absl::Milliseconds(1500));
  d = TakeFromBucket(&s, spec, 2, kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_DOUBLE_EQ(d.remaining, 1);  // a denied call takes nothing
  EXPECT_EQ(d.retry_after, absl::Milliseconds(500));
}

TEST(TokenBucketTest, RefillIsProportionalAndCapped) {
  TokenBucketState s;
  TokenBucketSpec spec{.rate_per_second = 10, .burst = 5};
  ASSERT_TRUE(TakeFromBucket(&s, spec, 5, kT0).allowed);
  EXPECT_DOUBLE_EQ(TakeFromBucket(&s, spec, 0, kT0 + absl::Milliseconds(300)).remaining, 3);
  EXPECT_DOUBLE_EQ(TakeFromBucket(&s, spec, 0, kT0 + absl::Hours(1)).remaining, 5);
}

TEST(TokenBucketTest, ClockGoingBackwardsRefillsNothing) {
  TokenBucketState s;
  TokenBucketSpec spec{.rate_per_second = 1, .burst = 10};
  ASSERT_TRUE(TakeFromBucket(&s, spec, 10, kT0).allowed);
  TokenBucketDecision d = TakeFromBucket(&s, spec, 1, kT0 - absl::Seconds(5));
  EXPECT_FALSE(d.allowed);
  // Returning to kT0 + 1 s refills one token, not six.
  d = TakeFromBucket(&s, spec, 0, kT0 + absl::Seconds(1));
  EXPECT_DOUBLE_EQ(d.remaining, 1);
}

TEST(TokenBucketTest, CostAboveBurstIsNeverAllowed) {
  TokenBucketState s;
  TokenBucketSpec spec{.rate_per_second = 1, .burst = 2};
  TokenBucketDecision d = TakeFromBucket(&s, spec, 3, kT0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, absl::ZeroDuration());  // full already: cannot improve
}

TEST(TokenBucketTest, NegativeCostRefundsUpToBurst) {
  TokenBucketState s;
  TokenBucketSpec spec{.rate_per_second = 1, .burst = 3};
  ASSERT_TRUE(TakeFromBucket(&s, spec, 3, kT0).allowed);
  EXPECT_DOUBLE_EQ(TakeFromBucket(&s, spec, -2, kT0).remaining, 2);
  EXPECT_DOUBLE_EQ(TakeFromBucket(&s, spec, -5, kT0).remaining, 3);
}

TEST(TokenBucketTest, FullnessForEviction) {
  TokenBucketState s;
  TokenBucketSpec spec{.rate_per_second = 1, .burst = 2};
  EXPECT_TRUE(BucketIsFull(s, spec, kT0));
  TakeFromBucket(&s, spec, 2, kT0);
  EXPECT_FALSE(BucketIsFull(s, spec, kT0 + absl::Seconds(1)));
  EXPECT_TRUE(BucketIsFull(s, spec, kT0 + absl::Seconds(2)));
}

TEST(TokenBucketTest, Validation) {
  EXPECT_OK(ValidateTokenBucket({.rate_per_second = 1, .burst = 1}, 0));
  EXPECT_THAT(ValidateTokenBucket({.rate_per_second = 0, .burst = 1}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "token bucket rate_per_second must be > 0"));
  EXPECT_THAT(ValidateTokenBucket({.rate_per_second = 1, .burst = 0}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "token bucket burst must be > 0"));
  EXPECT_THAT(ValidateTokenBucket({.rate_per_second = 1, .burst = 1}, NAN),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "token bucket cost must be finite"));
}

}  // namespace
}  // namespace alerthub
