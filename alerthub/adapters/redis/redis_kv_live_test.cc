// The redis:// Kv against a live Redis (ALERTHUB_TEST_REDIS_URL, from
// tools/services.sh): the Kv contract suite, and what happens when the
// script cache is flushed and when Redis dies and comes back.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/redis/redis_kv.h"
#include "alerthub/ratelimit/rate_limiter.h"
#include "alerthub/testing/kv_contract.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/live/live_env.h"
#include "tests/live/tcp_proxy.h"

namespace alerthub {
namespace {

using ::alerthub::testing::LiveServerUrl;
using ::alerthub::testing::StatusIs;
using ::alerthub::testing::TcpProxy;

absl::StatusOr<RedisKvOptions> LiveOptions() {
  absl::StatusOr<std::string> url = LiveServerUrl("ALERTHUB_TEST_REDIS_URL");
  if (!url.ok()) return url.status();
  return RedisKvOptionsFromUrl(*url);
}

absl::StatusOr<std::unique_ptr<Kv>> OpenLive(Clock* clock) {
  absl::StatusOr<RedisKvOptions> options = LiveOptions();
  if (!options.ok()) return options.status();
  options->clock = clock;
  absl::StatusOr<std::unique_ptr<Kv>> kv = OpenRedisKv(*options);
  if (kv.ok()) {
    if (absl::Status s = (*kv)->Ping(); !s.ok()) return s;
  }
  return kv;
}

INSTANTIATE_TEST_SUITE_P(
    Redis, KvContractTest,
    ::testing::Values(KvFactory{"redis", &OpenLive, /*server_side_expiry=*/true},
                      // One connection: every concurrent caller shares one
                      // pipeline.
                      KvFactory{"redis_one_connection",
                                [](SimulatedClock* clock) -> absl::StatusOr<std::unique_ptr<Kv>> {
                                  absl::StatusOr<RedisKvOptions> options = LiveOptions();
                                  if (!options.ok()) return options.status();
                                  options->clock = clock;
                                  options->connections = 1;
                                  return OpenRedisKv(*options);
                                },
                                /*server_side_expiry=*/true}),
    [](const auto& info) { return info.param.name; });

// Runs one command on a plain hiredis connection to the live server.
void RawCommand(const RedisKvOptions& o, const std::vector<std::string>& args) {
  redisContext* c = redisConnect(o.host.c_str(), o.port);
  ASSERT_TRUE(c != nullptr && c->err == 0);
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->type, REDIS_REPLY_ERROR) << std::string(r->str, r->len);
  freeReplyObject(r);
  redisFree(c);
}

std::string UniqueKey(absl::string_view what) {
  return absl::StrCat("live:", what, ":", absl::ToUnixNanos(absl::Now()));
}

// Writes queued by WriteBehind are sent before the Kv is gone.
TEST(RedisKvLiveTest, WriteBehindIsSentBeforeTheKvCloses) {
  ASSERT_OK_AND_ASSIGN(RedisKvOptions options, LiveOptions());
  const std::string key = UniqueKey("behind-close");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Kv> kv, OpenRedisKv(options));
    std::vector<KvWrite> writes;
    for (int i = 0; i < 100; ++i) {
      writes.push_back(KvWrite::Set(absl::StrCat(key, ":", i), "v", absl::Seconds(30)));
    }
    kv->WriteBehind(std::move(writes));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Kv> kv, OpenRedisKv(options));
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, kv->Get(absl::StrCat(key, ":", i)));
    EXPECT_EQ(v, "v") << i;
  }
}

TEST(RedisKvLiveTest, TokenBucketSurvivesScriptFlush) {
  ASSERT_OK_AND_ASSIGN(RedisKvOptions options, LiveOptions());
  SimulatedClock clock;
  options.clock = &clock;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Kv> kv, OpenRedisKv(options));
  const std::string key = UniqueKey("flush");
  const TokenBucketSpec spec{.rate_per_second = 1, .burst = 2};
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision d, kv->TakeTokens(key, spec, 1));
  EXPECT_TRUE(d.allowed);
  RawCommand(options, {"SCRIPT", "FLUSH"});
  // NOSCRIPT: loaded again and retried, the bucket intact.
  ASSERT_OK_AND_ASSIGN(d, kv->TakeTokens(key, spec, 1));
  EXPECT_TRUE(d.allowed);
  EXPECT_NEAR(d.remaining, 0, 1e-9);
  ASSERT_OK_AND_ASSIGN(d, kv->TakeTokens(key, spec, 1));
  EXPECT_FALSE(d.allowed);
}

TEST(RedisKvLiveTest, IdleBucketExpiresAfterItWouldBeFull) {
  ASSERT_OK_AND_ASSIGN(RedisKvOptions options, LiveOptions());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Kv> kv, OpenRedisKv(options));
  const std::string key = UniqueKey("ttl");
  ASSERT_OK(kv->TakeTokens(key, {.rate_per_second = 10, .burst = 10}, 5).status());
  // 0.5 s to full + 60 s: the key carries a TTL, so idle buckets go away.
  redisContext* c = redisConnect(options.host.c_str(), options.port);
  ASSERT_TRUE(c != nullptr && c->err == 0);
  auto* r = static_cast<redisReply*>(redisCommand(c, "PTTL %s", key.c_str()));
  ASSERT_EQ(r->type, REDIS_REPLY_INTEGER);
  EXPECT_GT(r->integer, 59'000);
  EXPECT_LE(r->integer, 60'500);
  freeReplyObject(r);
  redisFree(c);
}

// Redis through a proxy the test can cut: "Redis died" and "Redis is back".
class RedisOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(RedisKvOptions options, LiveOptions());
    ASSERT_OK_AND_ASSIGN(proxy_, TcpProxy::Start(options.host, options.port));
    direct_options_ = options;
    options.host = "127.0.0.1";
    options.port = proxy_->port();
    options.clock = &clock_;
    options.command_timeout = absl::Milliseconds(500);
    options.max_backoff = absl::Milliseconds(400);
    options.subscriber_ping_interval = absl::Milliseconds(500);
    ASSERT_OK_AND_ASSIGN(kv_, OpenRedisKv(options));
    ASSERT_OK(kv_->Ping());
  }

  void GoDown() {
    ASSERT_OK(proxy_->SetAccepting(false));
    proxy_->SeverAll();
  }

  // Waits until the Kv answers again (reconnect after backoff).
  void ComeBackAndWait() {
    ASSERT_OK(proxy_->SetAccepting(true));
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!kv_->Ping().ok()) {
      ASSERT_LT(absl::Now(), deadline) << "the Kv did not reconnect";
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  SimulatedClock clock_;
  RedisKvOptions direct_options_;
  std::unique_ptr<TcpProxy> proxy_;
  std::unique_ptr<Kv> kv_;
};

TEST_F(RedisOutageTest, CallsFailFastWhileDownAndRecover) {
  const std::string key = UniqueKey("outage");
  const TokenBucketSpec spec{.rate_per_second = 1000, .burst = 1000};
  ASSERT_OK(kv_->TakeTokens(key, spec, 1).status());
  GoDown();

  // The first calls find the connections dead; after that the backoff
  // answers at once. Nothing waits longer than the command timeout.
  const absl::Time start = absl::Now();
  for (int i = 0; i < 200; ++i) {
    absl::Time t = absl::Now();
    EXPECT_THAT(kv_->TakeTokens(key, spec, 1), StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_LT(absl::Now() - t, absl::Milliseconds(900));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));

  ComeBackAndWait();
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision d, kv_->TakeTokens(key, spec, 1));
  EXPECT_TRUE(d.allowed);
  EXPECT_LT(d.remaining, 999.5);  // the bucket from before the outage
}

TEST_F(RedisOutageTest, RateLimitingFailsOpenByDefaultAndClosedWhenAsked) {
  RateLimiter open(kv_.get(), {});  // the daemon default: fail open
  RateLimiter closed(kv_.get(), {.fail_open = false});
  const std::string tenant = UniqueKey("tenant");
  ASSERT_OK_AND_ASSIGN(RateLimitInfo info, open.Check(tenant, "submit", 1));
  EXPECT_GT(info.limit, 0);  // a real bucket answered

  GoDown();
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(info, open.Check(tenant, "submit", 1));
    EXPECT_EQ(info.limit, 0);  // let through, unlimited
  }
  EXPECT_EQ(open.fail_open_count(), 20);
  EXPECT_THAT(closed.Check(tenant, "submit", 1),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::HasSubstr("redis")));

  ComeBackAndWait();
  ASSERT_OK_AND_ASSIGN(info, closed.Check(tenant, "submit", 1));
  EXPECT_GT(info.limit, 0);
}

TEST_F(RedisOutageTest, SubscriptionsResubscribeAfterReconnecting) {
  const std::string channel = UniqueKey("chan");
  absl::Mutex mu;
  std::vector<std::string> got;
  ASSERT_OK_AND_ASSIGN(auto sub, kv_->Subscribe(channel, [&](absl::string_view m) {
    absl::MutexLock lock(&mu);
    got.emplace_back(m);
  }));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Kv> publisher, OpenRedisKv(direct_options_));
  ASSERT_OK(publisher->Publish(channel, "before"));
  auto wait_for = [&](absl::string_view message, absl::Duration timeout) {
    absl::MutexLock lock(&mu);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return std::find(got.begin(), got.end(), message) != got.end();
    };
    return mu.AwaitWithTimeout(absl::Condition(&seen), timeout);
  };
  ASSERT_TRUE(wait_for("before", absl::Seconds(5)));

  GoDown();
  // While down, new subscriptions are refused at once or within the timeouts.
  EXPECT_THAT(kv_->Subscribe(UniqueKey("other"), [](absl::string_view) {}),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(proxy_->SetAccepting(true));

  // Messages published while the subscriber is away are lost (pub/sub keeps
  // nothing); once it has resubscribed they flow again.
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  bool back = false;
  for (int i = 0; !back && absl::Now() < deadline; ++i) {
    const std::string m = absl::StrCat("after-", i);
    ASSERT_OK(publisher->Publish(channel, m));
    back = wait_for(m, absl::Milliseconds(200));
  }
  EXPECT_TRUE(back) << "no message after the reconnect";
  sub.reset();
}

}  // namespace
}  // namespace alerthub
