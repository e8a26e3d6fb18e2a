#include "alerthub/rules/throttle.h"

#include <memory>
#include <string>

#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/rules/internal/test_util.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

// 1'800'000'000 is a multiple of 60 and of 3600: a window boundary.
constexpr int64_t kStart = 1'800'000'000;

class ThrottleTest : public ::testing::Test {
 protected:
  ThrottleTest()
      : clock_(absl::FromUnixSeconds(kStart)),
        kv_(NewMemoryKv({.clock = &clock_})),
        counter_(kv_.get(), {.clock = &clock_, .key_prefix = "thr"}) {}

  static ThrottleRequest Request(int64_t limit, absl::Duration window,
                                 std::string group = "type=\"deploy\"", std::string rule = "r1") {
    return {.rule_id = std::move(rule),
            .limit = limit,
            .window = window,
            .group_key = std::move(group)};
  }

  // How many of `n` Take()s pass.
  int Allowed(int n, const ThrottleRequest& r, absl::string_view tenant = "t1") {
    int allowed = 0;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<ThrottleDecision> d = counter_.Take(tenant, r);
      EXPECT_OK(d.status());
      if (d.ok() && d->allowed) ++allowed;
    }
    return allowed;
  }

  SimulatedClock clock_;
  std::unique_ptr<Kv> kv_;
  ThrottleCounter counter_;
};

TEST_F(ThrottleTest, AllowsLimitPerWindowThenSuppressesWithReason) {
  const ThrottleRequest r = Request(3, absl::Seconds(60));
  for (int64_t left : {2, 1, 0}) {
    ASSERT_OK_AND_ASSIGN(ThrottleDecision d, counter_.Take("t1", r));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, left);
    EXPECT_EQ(d.window_end, absl::FromUnixSeconds(kStart + 60));
    EXPECT_EQ(d.reason, "");
    clock_.Advance(absl::Seconds(10));
  }
  clock_.Advance(absl::Seconds(29));  // 59 s into the window
  ASSERT_OK_AND_ASSIGN(ThrottleDecision d, counter_.Take("t1", r));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.reason,
            "throttled by rule r1: limit 3 per 60s reached for group type=\"deploy\" until "
            "2027-01-15T08:01:00.000000Z");
}

TEST_F(ThrottleTest, CountStartsAgainAtTheWindowBoundary) {
  const ThrottleRequest r = Request(2, absl::Seconds(60));
  clock_.Advance(absl::Seconds(58));
  EXPECT_EQ(Allowed(5, r), 2);
  clock_.Advance(absl::Seconds(1));  // 59 s: same window
  EXPECT_EQ(Allowed(1, r), 0);
  clock_.Advance(absl::Seconds(1));  // 60 s: the next window
  EXPECT_EQ(Allowed(5, r), 2);
  // Windows are aligned to the epoch, not to the first notification.
  clock_.Advance(absl::Seconds(59));
  EXPECT_EQ(Allowed(1, r), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Allowed(1, r), 1);
}

TEST_F(ThrottleTest, LongWindowsNeverRefillWithinTheWindow) {
  const ThrottleRequest r = Request(1, absl::Hours(24 * 7));
  clock_.Set(absl::FromUnixSeconds(1'799'884'800));  // a week boundary (Thursday 00:00 UTC)
  EXPECT_EQ(Allowed(1, r), 1);
  for (int day = 0; day < 6; ++day) {
    clock_.Advance(absl::Hours(24));
    EXPECT_EQ(Allowed(1, r), 0) << "day " << day + 1;
  }
  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  EXPECT_EQ(Allowed(1, r), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Allowed(1, r), 1);
}

TEST_F(ThrottleTest, GroupsRulesAndTenantsCountSeparately) {
  EXPECT_EQ(Allowed(3, Request(1, absl::Seconds(60), "type=\"a\"")), 1);
  EXPECT_EQ(Allowed(3, Request(1, absl::Seconds(60), "type=\"b\"")), 1);
  EXPECT_EQ(Allowed(3, Request(1, absl::Seconds(60), "type=\"a\"", "r2")), 1);
  EXPECT_EQ(Allowed(3, Request(1, absl::Seconds(60), "type=\"a\""), "t2"), 1);
  // A new window length is a new counter.
  EXPECT_EQ(Allowed(3, Request(1, absl::Seconds(120), "type=\"a\"")), 1);
}

TEST_F(ThrottleTest, PeekCountsNothing) {
  const ThrottleRequest r = Request(2, absl::Seconds(60));
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(ThrottleDecision d, counter_.Peek("t1", r));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 1);  // as a Take would say
  }
  EXPECT_EQ(Allowed(2, r), 2);
  ASSERT_OK_AND_ASSIGN(ThrottleDecision d, counter_.Peek("t1", r));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_THAT(d.reason, HasSubstr("throttled by rule r1"));
}

TEST_F(ThrottleTest, FirstTakeOfAWindowDropsThePreviousWindowsCounter) {
  const ThrottleRequest r = Request(5, absl::Seconds(60));
  const std::string first = counter_.KeyFor("t1", r, clock_.Now());
  EXPECT_EQ(first.rfind("thr:t1:r1:60s:30000000:", 0), 0u) << first;
  EXPECT_EQ(Allowed(5, r), 5);
  // A drained bucket is not full, so the Kv keeps it.
  ASSERT_OK_AND_ASSIGN(ThrottleDecision d, counter_.Peek("t1", r));
  EXPECT_FALSE(d.allowed);

  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(Allowed(1, r), 1);
  // The old bucket is gone: touching its key again yields a new, full one.
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision old,
                       kv_->TakeTokens(first, {.rate_per_second = 1e-9, .burst = 5}, 0));
  EXPECT_EQ(old.remaining, 5);
}

TEST_F(ThrottleTest, RejectsInvalidRequests) {
  EXPECT_THAT(counter_.Take("t1", Request(0, absl::Seconds(60))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit must be at least 1")));
  EXPECT_THAT(counter_.Take("t1", Request(1, absl::Milliseconds(500))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("whole number of seconds")));
  EXPECT_THAT(counter_.Peek("t1", Request(1, absl::Milliseconds(1500))),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Kv's errors come back as they are; the resolver decides to fail open.
TEST(ThrottleKvErrorTest, PassesKvErrorsThrough) {
  rules_internal::UnavailableKv kv;
  ThrottleCounter counter(&kv, {});
  EXPECT_THAT(
      counter.Take("t1", {.rule_id = "r", .limit = 1, .window = absl::Seconds(1), .group_key = ""}),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connection refused")));
}

}  // namespace
}  // namespace alerthub
