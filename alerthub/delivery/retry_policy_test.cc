#include "alerthub/delivery/retry_policy.h"

#include <random>
#include <string>
#include <vector>

#include "absl/random/mock_distributions.h"
#include "absl/random/mocking_bit_gen.h"
#include "absl/time/time.h"
#include "alerthub/common/status.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::Return;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

RetryPolicy WithoutJitter() {
  RetryPolicy p;
  p.jitter = 0;
  return p;
}

TEST(NextAttemptTest, FollowsSvixScheduleThenGivesUp) {
  const RetryPolicy policy = WithoutJitter();
  std::mt19937_64 rng(1);
  const std::vector<std::pair<absl::Duration, std::string>> expected = {
      {absl::ZeroDuration(), "attempt 1 of 8 in 0"},
      {absl::Seconds(5), "attempt 2 of 8 in 5s"},
      {absl::Minutes(5), "attempt 3 of 8 in 5m"},
      {absl::Minutes(30), "attempt 4 of 8 in 30m"},
      {absl::Hours(2), "attempt 5 of 8 in 2h"},
      {absl::Hours(5), "attempt 6 of 8 in 5h"},
      {absl::Hours(10), "attempt 7 of 8 in 10h"},
      {absl::Hours(10), "attempt 8 of 8 in 10h"},
  };
  for (int made = 0; made < 8; ++made) {
    SCOPED_TRACE(made);
    RetryDecision d =
        NextAttempt(policy, made, AttemptOutcome::kRetriable, std::nullopt, kNow, rng);
    EXPECT_TRUE(d.retry);
    EXPECT_EQ(d.next_attempt_at, kNow + expected[static_cast<size_t>(made)].first);
    EXPECT_EQ(d.reason, expected[static_cast<size_t>(made)].second);
  }
  RetryDecision done =
      NextAttempt(policy, 8, AttemptOutcome::kRetriable, std::nullopt, kNow, rng);
  EXPECT_FALSE(done.retry);
  EXPECT_EQ(done.next_attempt_at, absl::InfiniteFuture());
  EXPECT_EQ(done.reason, "retry schedule exhausted after 8 attempts");
  // Retry-After does not extend an exhausted schedule.
  EXPECT_FALSE(
      NextAttempt(policy, 9, AttemptOutcome::kRetriable, absl::Seconds(1), kNow, rng).retry);
}

TEST(NextAttemptTest, DrawsTheJitterFactorFromTheClosedInterval) {
  absl::MockingBitGen gen;
  EXPECT_CALL(absl::MockUniform<double>(),
              Call(absl::IntervalClosedClosed, gen, DoubleEq(0.8), DoubleEq(1.2)))
      .WillOnce(Return(1.2))
      .WillOnce(Return(0.8))
      .WillOnce(Return(1.0));
  const RetryPolicy policy;  // jitter 0.2
  RetryDecision high =
      NextAttempt(policy, 2, AttemptOutcome::kRetriable, std::nullopt, kNow, gen);
  EXPECT_EQ(high.next_attempt_at, kNow + absl::Minutes(6));
  EXPECT_EQ(high.reason, "attempt 3 of 8 in 6m");
  RetryDecision low =
      NextAttempt(policy, 2, AttemptOutcome::kRetriable, std::nullopt, kNow, gen);
  EXPECT_EQ(low.next_attempt_at, kNow + absl::Minutes(4));
  RetryDecision mid =
      NextAttempt(policy, 3, AttemptOutcome::kRetriable, std::nullopt, kNow, gen);
  EXPECT_EQ(mid.next_attempt_at, kNow + absl::Minutes(30));
}

TEST(NextAttemptTest, JitterStaysWithinBoundsOverTenThousandDraws) {
  std::mt19937_64 rng(20260601);  // fixed seed: the test is deterministic
  const RetryPolicy policy;
  const absl::Duration scheduled = absl::Minutes(5);
  absl::Duration min = absl::InfiniteDuration();
  absl::Duration max = -absl::InfiniteDuration();
  absl::Duration sum;
  constexpr int kDraws = 10'000;
  for (int i = 0; i < kDraws; ++i) {
    RetryDecision d =
        NextAttempt(policy, 2, AttemptOutcome::kRetriable, std::nullopt, kNow, rng);
    ASSERT_TRUE(d.retry);
    const absl::Duration delay = d.next_attempt_at - kNow;
    ASSERT_GE(delay, scheduled * 0.8);
    ASSERT_LE(delay, scheduled * 1.2);
    min = std::min(min, delay);
    max = std::max(max, delay);
    sum += delay;
  }
  // The draws cover the whole interval and centre on the scheduled delay.
  EXPECT_LT(min, absl::Minutes(4) + absl::Seconds(2));
  EXPECT_GT(max, absl::Minutes(6) - absl::Seconds(2));
  EXPECT_LT(absl::AbsDuration(sum / kDraws - scheduled), absl::Seconds(3));
}

TEST(NextAttemptTest, RetryAfterIsALowerBound) {
  const RetryPolicy policy = WithoutJitter();
  std::mt19937_64 rng(1);
  // Longer than the scheduled 5 s: honoured.
  RetryDecision d =
      NextAttempt(policy, 1, AttemptOutcome::kRetriable, absl::Seconds(60), kNow, rng);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.next_attempt_at, kNow + absl::Seconds(60));
  EXPECT_EQ(d.reason, "attempt 2 of 8 in 1m, as Retry-After asked");
  // Shorter than the scheduled 5 min: the schedule wins.
  d = NextAttempt(policy, 2, AttemptOutcome::kRetriable, absl::Seconds(10), kNow, rng);
  EXPECT_EQ(d.next_attempt_at, kNow + absl::Minutes(5));
  EXPECT_EQ(d.reason, "attempt 3 of 8 in 5m");
  // Longer than max_retry_after: capped.
  d = NextAttempt(policy, 1, AttemptOutcome::kRetriable, absl::Hours(48), kNow, rng);
  EXPECT_EQ(d.next_attempt_at, kNow + absl::Hours(24));
  EXPECT_EQ(d.reason, "attempt 2 of 8 in 24h, Retry-After 48h capped");
  // Negative: ignored.
  d = NextAttempt(policy, 1, AttemptOutcome::kRetriable, absl::Seconds(-30), kNow, rng);
  EXPECT_EQ(d.next_attempt_at, kNow + absl::Seconds(5));
}

TEST(NextAttemptTest, FinalOutcomesAreNotRetried) {
  std::mt19937_64 rng(1);
  const RetryPolicy policy;
  RetryDecision ok =
      NextAttempt(policy, 1, AttemptOutcome::kSuccess, absl::Seconds(5), kNow, rng);
  EXPECT_FALSE(ok.retry);
  EXPECT_EQ(ok.next_attempt_at, absl::InfiniteFuture());
  EXPECT_EQ(ok.reason, "delivered");
  RetryDecision permanent =
      NextAttempt(policy, 1, AttemptOutcome::kPermanent, absl::Seconds(5), kNow, rng);
  EXPECT_FALSE(permanent.retry);
  EXPECT_EQ(permanent.next_attempt_at, absl::InfiniteFuture());
  EXPECT_EQ(permanent.reason, "permanent failure; not retried");
  RetryDecision gone =
      NextAttempt(policy, 1, AttemptOutcome::kGone, std::nullopt, kNow, rng);
  EXPECT_FALSE(gone.retry);
  EXPECT_EQ(gone.next_attempt_at, absl::InfiniteFuture());
  EXPECT_EQ(gone.reason,
            "endpoint is gone (HTTP 410); not retried, and the integration should "
            "be disabled");
}

TEST(ClassifyHttpStatusTest, EveryClass) {
  struct Case {
    int status;
    AttemptOutcome outcome;
  };
  const Case cases[] = {
      {100, AttemptOutcome::kPermanent}, {101, AttemptOutcome::kPermanent},
      {199, AttemptOutcome::kPermanent}, {200, AttemptOutcome::kSuccess},
      {201, AttemptOutcome::kSuccess},   {202, AttemptOutcome::kSuccess},
      {204, AttemptOutcome::kSuccess},   {299, AttemptOutcome::kSuccess},
      {300, AttemptOutcome::kPermanent}, {301, AttemptOutcome::kPermanent},
      {302, AttemptOutcome::kPermanent}, {304, AttemptOutcome::kPermanent},
      {307, AttemptOutcome::kPermanent}, {308, AttemptOutcome::kPermanent},
      {400, AttemptOutcome::kPermanent}, {401, AttemptOutcome::kPermanent},
      {403, AttemptOutcome::kPermanent}, {404, AttemptOutcome::kPermanent},
      {405, AttemptOutcome::kPermanent}, {409, AttemptOutcome::kPermanent},
      {413, AttemptOutcome::kPermanent}, {422, AttemptOutcome::kPermanent},
      {499, AttemptOutcome::kPermanent}, {408, AttemptOutcome::kRetriable},
      {429, AttemptOutcome::kRetriable}, {410, AttemptOutcome::kGone},
      {500, AttemptOutcome::kRetriable}, {501, AttemptOutcome::kRetriable},
      {502, AttemptOutcome::kRetriable}, {503, AttemptOutcome::kRetriable},
      {504, AttemptOutcome::kRetriable}, {599, AttemptOutcome::kRetriable},
      {0, AttemptOutcome::kRetriable},   {99, AttemptOutcome::kRetriable},
      {600, AttemptOutcome::kRetriable}, {-1, AttemptOutcome::kRetriable},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AttemptOutcomeName(ClassifyHttpStatus(c.status)), AttemptOutcomeName(c.outcome))
        << c.status;
  }
}

TEST(ClassifyTransportErrorTest, EveryCode) {
  using absl::StatusCode;
  struct Case {
    StatusCode code;
    AttemptOutcome outcome;
  };
  const Case cases[] = {
      {StatusCode::kOk, AttemptOutcome::kSuccess},
      {StatusCode::kDeadlineExceeded, AttemptOutcome::kRetriable},
      {StatusCode::kUnavailable, AttemptOutcome::kRetriable},
      {StatusCode::kResourceExhausted, AttemptOutcome::kRetriable},
      {StatusCode::kAborted, AttemptOutcome::kRetriable},
      {StatusCode::kCancelled, AttemptOutcome::kRetriable},
      {StatusCode::kInternal, AttemptOutcome::kRetriable},
      {StatusCode::kUnknown, AttemptOutcome::kRetriable},
      {StatusCode::kDataLoss, AttemptOutcome::kRetriable},
      {StatusCode::kPermissionDenied, AttemptOutcome::kPermanent},
      {StatusCode::kInvalidArgument, AttemptOutcome::kPermanent},
      {StatusCode::kNotFound, AttemptOutcome::kPermanent},
      {StatusCode::kAlreadyExists, AttemptOutcome::kPermanent},
      {StatusCode::kFailedPrecondition, AttemptOutcome::kPermanent},
      {StatusCode::kOutOfRange, AttemptOutcome::kPermanent},
      {StatusCode::kUnimplemented, AttemptOutcome::kPermanent},
      {StatusCode::kUnauthenticated, AttemptOutcome::kPermanent},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AttemptOutcomeName(ClassifyTransportError(absl::Status(c.code, "x"))),
              AttemptOutcomeName(c.outcome))
        << absl::StatusCodeToString(c.code);
  }
}

TEST(ParseRetryAfterTest, DelaySeconds) {
  EXPECT_EQ(ParseRetryAfter("120", kNow), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 7 ", kNow), absl::Seconds(7));
  EXPECT_EQ(ParseRetryAfter("0", kNow), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("1.5", kNow), absl::Milliseconds(1500));  // Discord
  EXPECT_EQ(ParseRetryAfter("999999999999", kNow), absl::Seconds(999999999999));
}

TEST(ParseRetryAfterTest, HttpDateInAllThreeForms) {
  const absl::Time now = absl::FromCivil(absl::CivilSecond(1994, 11, 6, 8, 49, 0),
                                         absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), absl::Seconds(37));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now), absl::Seconds(37));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", now), absl::Seconds(37));
  EXPECT_EQ(ParseRetryAfter("Mon, 07 Nov 1994 08:49:00 GMT", now), absl::Hours(24));
  // A date already passed means "now".
  EXPECT_EQ(ParseRetryAfter("Sat, 05 Nov 1994 08:49:37 GMT", now), absl::ZeroDuration());
}

TEST(ParseRetryAfterTest, GarbageIsIgnored) {
  for (absl::string_view bad :
       {"", "   ", "-1", "abc", "1.", ".5", "1e3", "12 seconds", "0x10", "+5",
        "9999999999999", "Sun, 06 Nov 1994 08:49:37 UTC", "06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT trailing", "2026-01-01T00:00:00Z"}) {
    EXPECT_EQ(ParseRetryAfter(bad, kNow), std::nullopt) << bad;
  }
}

TEST(RetryPolicyFromJsonTest, ReadsEveryMember) {
  absl::StatusOr<RetryPolicy> p = RetryPolicyFromJson(nlohmann::json::parse(
      R"({"schedule": ["0", 30, "5m", "1h30m", 0.25], "jitter": 0.1,
          "max_retry_after": "1h"})"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->schedule,
              ElementsAre(absl::ZeroDuration(), absl::Seconds(30), absl::Minutes(5),
                          absl::Minutes(90), absl::Milliseconds(250)));
  EXPECT_EQ(p->jitter, 0.1);
  EXPECT_EQ(p->max_retry_after, absl::Hours(1));
}

TEST(RetryPolicyFromJsonTest, AbsentMembersKeepDefaultsAndToJsonRoundTrips) {
  absl::StatusOr<RetryPolicy> empty = RetryPolicyFromJson(nlohmann::json::object());
  ASSERT_TRUE(empty.ok()) << empty.status();
  const RetryPolicy defaults;
  EXPECT_EQ(empty->schedule, defaults.schedule);
  EXPECT_EQ(empty->jitter, defaults.jitter);
  EXPECT_EQ(empty->max_retry_after, defaults.max_retry_after);

  const nlohmann::json j = RetryPolicyToJson(defaults);
  EXPECT_EQ(j, nlohmann::json::parse(
                   R"({"schedule": ["0", "5s", "5m", "30m", "2h", "5h", "10h", "10h"],
                       "jitter": 0.2, "max_retry_after": "24h"})"));
  absl::StatusOr<RetryPolicy> back = RetryPolicyFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->schedule, defaults.schedule);
}

TEST(RetryPolicyFromJsonTest, NamesEveryBrokenField) {
  const std::string duration_rule =
      "must be a duration such as \"5m\" or a number of seconds, from 0 to 168h";
  absl::StatusOr<RetryPolicy> p = RetryPolicyFromJson(nlohmann::json::parse(
      R"({"schedule": ["5m", -1, "soon", "169h", true, null, "-1s"],
          "jitter": 1, "max_retry_after": "forever", "retries": 3})"));
  EXPECT_THAT(p, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldErrorsOf(p.status()),
            (std::vector<FieldError>{
                {"jitter", "must be a number at least 0 and below 1"},
                {"max_retry_after", duration_rule},
                {"retries", "unknown field"},
                {"schedule[1]", duration_rule},
                {"schedule[2]", duration_rule},
                {"schedule[3]", duration_rule},
                {"schedule[4]", duration_rule},
                {"schedule[5]", duration_rule},
                {"schedule[6]", duration_rule},
            }));

  EXPECT_EQ(FieldErrorsOf(RetryPolicyFromJson(
                              nlohmann::json::parse(R"({"schedule": [], "jitter": "0.1"})"))
                              .status()),
            (std::vector<FieldError>{
                {"jitter", "must be a number at least 0 and below 1"},
                {"schedule", "must be an array of 1-50 durations"},
            }));
  EXPECT_EQ(FieldErrorsOf(RetryPolicyFromJson(nlohmann::json::array()).status()),
            (std::vector<FieldError>{{"", "must be a JSON object"}}));
  EXPECT_EQ(FieldErrorsOf(
                RetryPolicyFromJson(nlohmann::json{{"schedule", std::vector<int>(51, 1)}})
                    .status()),
            (std::vector<FieldError>{{"schedule", "must be an array of 1-50 durations"}}));
}

}  // namespace
}  // namespace alerthub
