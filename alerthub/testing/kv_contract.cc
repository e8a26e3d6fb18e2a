#include "alerthub/testing/kv_contract.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/testing/status_matchers.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;

// Keys are unique per test so live servers shared by several runs do not
// interfere.
std::string Key(absl::string_view name) {
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  static std::atomic<int> counter{0};
  return absl::StrCat("contract:", info->name(), ":", name, ":",
                      absl::ToUnixNanos(absl::Now()), ":", counter.fetch_add(1));
}

}  // namespace

void KvContractTest::SetUp() {
  absl::StatusOr<std::unique_ptr<Kv>> kv = GetParam().open(&clock_);
  ASSERT_TRUE(kv.ok()) << kv.status();
  kv_ = std::move(*kv);
}

void KvContractTest::Advance(absl::Duration d) {
  clock_.Advance(d);
  if (GetParam().server_side_expiry) absl::SleepFor(d);
}

TEST_P(KvContractTest, NewBucketStartsFullAndDenies) {
  const std::string key = Key("bucket");
  TokenBucketSpec spec{.rate_per_second = 1, .burst = 3};
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(TokenBucketDecision d, kv_->TakeTokens(key, spec, 1));
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_NEAR(d.remaining, 2 - i, 1e-6);
    EXPECT_EQ(d.retry_after, absl::ZeroDuration());
  }
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision d, kv_->TakeTokens(key, spec, 1));
  EXPECT_FALSE(d.allowed);
  EXPECT_NEAR(d.remaining, 0, 1e-6);
  EXPECT_NEAR(absl::ToDoubleSeconds(d.retry_after), 1.0, 0.05);
  EXPECT_NEAR(absl::ToDoubleSeconds(d.reset_after), 3.0, 0.05);
}

TEST_P(KvContractTest, BucketRefillsWithTimeUpToBurst) {
  const std::string key = Key("refill");
  TokenBucketSpec spec{.rate_per_second = 10, .burst = 5};
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision d, kv_->TakeTokens(key, spec, 5));
  EXPECT_TRUE(d.allowed);
  clock_.Advance(absl::Milliseconds(200));  // +2 tokens
  ASSERT_OK_AND_ASSIGN(d, kv_->TakeTokens(key, spec, 3));
  EXPECT_FALSE(d.allowed);
  EXPECT_NEAR(d.remaining, 2, 1e-6);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(d.retry_after), 100, 1);
  clock_.Advance(absl::Hours(1));  // capped at the burst
  ASSERT_OK_AND_ASSIGN(d, kv_->TakeTokens(key, spec, 0));
  EXPECT_TRUE(d.allowed);
  EXPECT_NEAR(d.remaining, 5, 1e-6);
}

TEST_P(KvContractTest, DeniedCallTakesNothingAndNegativeCostRefunds) {
  const std::string key = Key("refund");
  TokenBucketSpec spec{.rate_per_second = 1, .burst = 4};
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision d, kv_->TakeTokens(key, spec, 3));
  ASSERT_TRUE(d.allowed);
  ASSERT_OK_AND_ASSIGN(d, kv_->TakeTokens(key, spec, 2));
  EXPECT_FALSE(d.allowed);
  EXPECT_NEAR(d.remaining, 1, 1e-6);
  ASSERT_OK_AND_ASSIGN(d, kv_->TakeTokens(key, spec, -10));
  EXPECT_TRUE(d.allowed);
  EXPECT_NEAR(d.remaining, 4, 1e-6);  // capped at the burst
}

TEST_P(KvContractTest, BucketsAreIndependentPerKey) {
  TokenBucketSpec spec{.rate_per_second = 1, .burst = 1};
  const std::string a = Key("a"), b = Key("b");
  ASSERT_OK_AND_ASSIGN(TokenBucketDecision d, kv_->TakeTokens(a, spec, 1));
  EXPECT_TRUE(d.allowed);
  ASSERT_OK_AND_ASSIGN(d, kv_->TakeTokens(a, spec, 1));
  EXPECT_FALSE(d.allowed);
  ASSERT_OK_AND_ASSIGN(d, kv_->TakeTokens(b, spec, 1));
  EXPECT_TRUE(d.allowed);
}

TEST_P(KvContractTest, BadBucketSpecIsInvalidArgument) {
  const std::string key = Key("bad");
  EXPECT_THAT(kv_->TakeTokens(key, {.rate_per_second = 0, .burst = 1}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(kv_->TakeTokens(key, {.rate_per_second = 1, .burst = -1}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(kv_->TakeTokens(key, {.rate_per_second = 1, .burst = 1},
                              std::numeric_limits<double>::infinity()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(KvContractTest, ConcurrentTakesNeverOverspend) {
  const std::string key = Key("concurrent");
  TokenBucketSpec spec{.rate_per_second = 1e-6, .burst = 1000};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        absl::StatusOr<TokenBucketDecision> d = kv_->TakeTokens(key, spec, 1);
        if (d.ok() && d->allowed) allowed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST_P(KvContractTest, SetGetDeleteAndExpiry) {
  const std::string key = Key("value");
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, kv_->Get(key));
  EXPECT_EQ(v, std::nullopt);
  ASSERT_OK(kv_->Set(key, "v1", absl::Seconds(1)));
  ASSERT_OK_AND_ASSIGN(v, kv_->Get(key));
  EXPECT_EQ(v, "v1");
  ASSERT_OK(kv_->Set(key, "v2", absl::Seconds(1)));
  ASSERT_OK_AND_ASSIGN(v, kv_->Get(key));
  EXPECT_EQ(v, "v2");
  Advance(absl::Milliseconds(1100));
  ASSERT_OK_AND_ASSIGN(v, kv_->Get(key));
  EXPECT_EQ(v, std::nullopt);
  ASSERT_OK(kv_->Set(key, "v3", absl::Seconds(10)));
  ASSERT_OK(kv_->Delete(key));
  ASSERT_OK_AND_ASSIGN(v, kv_->Get(key));
  EXPECT_EQ(v, std::nullopt);
  EXPECT_OK(kv_->Delete(key));  // absent: still OK
  EXPECT_THAT(kv_->Set(key, "x", absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(KvContractTest, SetIfAbsentKeepsFirstValueUntilExpiry) {
  const std::string key = Key("nx");
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> prev,
                       kv_->SetIfAbsent(key, "first", absl::Seconds(1)));
  EXPECT_EQ(prev, std::nullopt);
  ASSERT_OK_AND_ASSIGN(prev, kv_->SetIfAbsent(key, "second", absl::Seconds(1)));
  EXPECT_EQ(prev, "first");
  Advance(absl::Milliseconds(1100));
  ASSERT_OK_AND_ASSIGN(prev, kv_->SetIfAbsent(key, "third", absl::Seconds(1)));
  EXPECT_EQ(prev, std::nullopt);
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, kv_->Get(key));
  EXPECT_EQ(v, "third");
}

TEST_P(KvContractTest, SetIfAbsentHasOneWinnerUnderConcurrency) {
  const std::string key = Key("race");
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<std::optional<std::string>> prev =
          kv_->SetIfAbsent(key, absl::StrCat("t", t), absl::Seconds(30));
      if (prev.ok() && !prev->has_value()) winners.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
}

TEST_P(KvContractTest, PublishReachesEverySubscriberInOrder) {
  const std::string channel = Key("chan");
  absl::Mutex mu;
  std::vector<std::string> got_a, got_b;
  ASSERT_OK_AND_ASSIGN(auto sub_a, kv_->Subscribe(channel, [&](absl::string_view m) {
    absl::MutexLock lock(&mu);
    got_a.emplace_back(m);
  }));
  ASSERT_OK_AND_ASSIGN(auto sub_b, kv_->Subscribe(channel, [&](absl::string_view m) {
    absl::MutexLock lock(&mu);
    got_b.emplace_back(m);
  }));
  ASSERT_OK(kv_->Publish(channel, "one"));
  ASSERT_OK(kv_->Publish(channel, "two"));
  ASSERT_OK(kv_->Publish(Key("other"), "elsewhere"));
  auto wait_for = [&](size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        absl::MutexLock lock(&mu);
        if (got_a.size() >= n && got_b.size() >= n) return;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  };
  wait_for(2);
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(got_a, ElementsAre("one", "two"));
    EXPECT_THAT(got_b, ElementsAre("one", "two"));
  }
  sub_a.reset();  // unsubscribed: no more calls
  ASSERT_OK(kv_->Publish(channel, "three"));
  wait_for(3);
  absl::SleepFor(absl::Milliseconds(50));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(got_a, ElementsAre("one", "two"));
  EXPECT_THAT(got_b, ElementsAre("one", "two", "three"));
}

TEST_P(KvContractTest, PublishWithoutSubscribersIsOk) {
  EXPECT_OK(kv_->Publish(Key("nobody"), "hello"));
}

TEST_P(KvContractTest, PingAnswers) { EXPECT_OK(kv_->Ping()); }

// WriteBehind may return before its writes are applied, but a Get started
// after it returned sees them: from the calling thread and from another.
TEST_P(KvContractTest, WriteBehindSetIsSeenByLaterGets) {
  constexpr int kKeys = 200;
  std::vector<std::string> keys;
  std::vector<KvWrite> writes;
  for (int i = 0; i < kKeys; ++i) {
    keys.push_back(Key(absl::StrCat("behind", i)));
    writes.push_back(KvWrite::Set(keys.back(), absl::StrCat("v", i), absl::Seconds(30)));
  }
  kv_->WriteBehind(std::move(writes));
  std::thread other([&] {
    for (int i = kKeys - 1; i >= kKeys / 2; --i) {
      absl::StatusOr<std::optional<std::string>> v = kv_->Get(keys[i]);
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_EQ(*v, absl::StrCat("v", i)) << keys[i];
    }
  });
  for (int i = 0; i < kKeys / 2; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, kv_->Get(keys[i]));
    EXPECT_EQ(v, absl::StrCat("v", i)) << keys[i];
  }
  other.join();

  // A later write of the same key wins over an earlier one, behind or not.
  std::vector<KvWrite> again;
  again.push_back(KvWrite::Set(keys[0], "newer", absl::Seconds(30)));
  kv_->WriteBehind(std::move(again));
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> v, kv_->Get(keys[0]));
  EXPECT_EQ(v, "newer");
  ASSERT_OK(kv_->Set(keys[0], "newest", absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(v, kv_->Get(keys[0]));
  EXPECT_EQ(v, "newest");
}

TEST_P(KvContractTest, WriteBehindPublishesInOrderAndDropsBadSets) {
  const std::string channel = Key("behind-chan");
  absl::Mutex mu;
  std::vector<std::string> got;
  ASSERT_OK_AND_ASSIGN(auto sub, kv_->Subscribe(channel, [&](absl::string_view m) {
    absl::MutexLock lock(&mu);
    got.emplace_back(m);
  }));
  constexpr int kMessages = 100;
  std::vector<std::string> want;
  for (int i = 0; i < kMessages; i += 2) {
    std::vector<KvWrite> writes;
    // A set without a positive ttl is dropped; the rest still happen.
    writes.push_back(KvWrite::Set(Key("bad"), "x", absl::ZeroDuration()));
    writes.push_back(KvWrite::Publish(channel, absl::StrCat("m", i)));
    writes.push_back(KvWrite::Publish(channel, absl::StrCat("m", i + 1)));
    kv_->WriteBehind(std::move(writes));
    want.push_back(absl::StrCat("m", i));
    want.push_back(absl::StrCat("m", i + 1));
  }
  for (int i = 0; i < 500; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (got.size() >= want.size()) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(got, want);
}

}  // namespace alerthub
