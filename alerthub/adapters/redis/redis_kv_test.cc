// Hermetic tests of the redis:// Kv: URL parsing, and the documented
// behaviour when no Redis answers (the live suite is redis_kv_live_test.cc).
#include "alerthub/adapters/redis/redis_kv.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/registry.h"
#include "alerthub/ratelimit/rate_limiter.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/refusing_port.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RedisKvOptionsFromUrlTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(RedisKvOptions o, RedisKvOptionsFromUrl("redis://cache.internal"));
  EXPECT_EQ(o.host, "cache.internal");
  EXPECT_EQ(o.port, 6379);
  EXPECT_EQ(o.database, 0);
  EXPECT_EQ(o.username, "");
  EXPECT_EQ(o.password, "");
  EXPECT_EQ(o.connections, 2);
}

TEST(RedisKvOptionsFromUrlTest, EveryPart) {
  ASSERT_OK_AND_ASSIGN(
      RedisKvOptions o,
      RedisKvOptionsFromUrl("redis://alerthub:p%40ss%3Aword@10.0.0.5:6380/3?connections=4&"
                            "connect_timeout_ms=250&command_timeout_ms=750&max_backoff_ms=2000"));
  EXPECT_EQ(o.host, "10.0.0.5");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.username, "alerthub");
  EXPECT_EQ(o.password, "p@ss:word");
  EXPECT_EQ(o.database, 3);
  EXPECT_EQ(o.connections, 4);
  EXPECT_EQ(o.connect_timeout, absl::Milliseconds(250));
  EXPECT_EQ(o.command_timeout, absl::Milliseconds(750));
  EXPECT_EQ(o.max_backoff, absl::Seconds(2));
}

TEST(RedisKvOptionsFromUrlTest, PasswordOnlyAndIpv6) {
  ASSERT_OK_AND_ASSIGN(RedisKvOptions o, RedisKvOptionsFromUrl("redis://:secret@[::1]:7000/"));
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 7000);
  EXPECT_EQ(o.username, "");
  EXPECT_EQ(o.password, "secret");
}

TEST(RedisKvOptionsFromUrlTest, RejectsWhatItCannotHonour) {
  for (const char* url :
       {"memory://", "redis://", "redis://h:0", "redis://h:99999", "redis://h:port", "redis://h/db",
        "redis://h/-1", "redis://h?connections=0", "redis://h?tls=1",
        "redis://h?command_timeout_ms=-5", "redis://user@h", "redis://:%zz@h", "redis://h#x",
        "redis://[::1"}) {
    EXPECT_THAT(RedisKvOptionsFromUrl(url), StatusIs(absl::StatusCode::kInvalidArgument)) << url;
  }
  EXPECT_THAT(
      RedisKvOptionsFromUrl("redis://h?colour=blue"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown parameter \"colour\"")));
}

class UnreachableRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisKvOptions options;
    options.port = testing::RefusingPort();
    options.clock = &clock_;
    options.max_backoff = absl::Seconds(30);
    ASSERT_OK_AND_ASSIGN(kv_, OpenRedisKv(options));  // opening never waits for Redis
  }

  SimulatedClock clock_;
  std::unique_ptr<Kv> kv_;
};

TEST_F(UnreachableRedisTest, EveryCallIsUnavailable) {
  const TokenBucketSpec spec{.rate_per_second = 1, .burst = 1};
  EXPECT_THAT(kv_->TakeTokens("k", spec, 1),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("redis 127.0.0.1:")));
  EXPECT_THAT(kv_->Get("k"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kv_->Set("k", "v", absl::Seconds(1)), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kv_->SetIfAbsent("k", "v", absl::Seconds(1)),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kv_->Delete("k"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kv_->Publish("c", "m"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kv_->Subscribe("c", [](absl::string_view) {}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kv_->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  // Argument errors are still reported as such.
  EXPECT_THAT(kv_->TakeTokens("k", {.rate_per_second = 0, .burst = 1}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(UnreachableRedisTest, BackoffFailsFastWithoutReconnecting) {
  EXPECT_THAT(kv_->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(kv_->Ping(), StatusIs(absl::StatusCode::kUnavailable));  // second connection
  // Within the backoff (100 ms after the first failure, doubling) calls fail
  // at once, naming the next attempt. A slow machine may see an attempt or
  // two more.
  int fast = 0;
  for (int i = 0; i < 100; ++i) {
    absl::Status s = kv_->Get("k").status();
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
    if (absl::StrContains(s.message(), "next connection attempt in")) ++fast;
  }
  EXPECT_GE(fast, 90);
}

// What the rate limiter makes of it (RateLimitOptions::fail_open).
TEST_F(UnreachableRedisTest, RateLimiterFailsOpenOrClosedAsConfigured) {
  RateLimiter open(kv_.get(), {.fail_open = true});
  ASSERT_OK_AND_ASSIGN(RateLimitInfo info, open.Check("t1", "submit", 1));
  EXPECT_EQ(info.limit, 0);  // let through without a bucket
  EXPECT_EQ(open.fail_open_count(), 1);

  RateLimiter closed(kv_.get(), {.fail_open = false});
  EXPECT_THAT(closed.Check("t1", "submit", 1),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("rate limiter unavailable")));
}

TEST(RedisKvRegistryTest, RedisSchemeOpensThisAdapter) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Kv> kv,
                       OpenKv(absl::StrCat("redis://127.0.0.1:", testing::RefusingPort()), nullptr));
  EXPECT_THAT(kv->Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("redis 127.0.0.1:")));
  EXPECT_THAT(OpenKv("redis://h?colour=blue", nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("colour")));
}

}  // namespace
}  // namespace alerthub
