#include "alerthub/testing/event_log_contract.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/testing/status_matchers.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// Collects what a handler saw; thread-safe.
class Recorder {
 public:
  EventLog::Handler Handler() {
    return [this](const EventMessage& m) {
      absl::MutexLock lock(&mu_);
      seen_.push_back(m.payload);
      return absl::OkStatus();
    };
  }
  // Waits up to 10 s for at least n messages, then returns them.
  std::vector<std::string> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return seen_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return seen_;
  }
  EventLog::BatchHandler BatchHandler() {
    return [this](absl::Span<const EventMessage> ms) {
      absl::MutexLock lock(&mu_);
      for (const EventMessage& m : ms) seen_.push_back(m.payload);
      return std::vector<absl::Status>(ms.size());
    };
  }
  std::vector<std::string> Seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

EventMessage Msg(const std::string& topic, const std::string& key,
                 const std::string& payload) {
  return EventMessage{topic, key, payload, {{"traceparent", "00-x-y-01"}}};
}

// Publishes until the bus acknowledges (a handler failure may make it say no).
void PublishUntilOk(EventLog* log, const EventMessage& m) {
  for (int i = 0; i < 100; ++i) {
    if (log->PublishReliable(m).ok()) return;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ADD_FAILURE() << "publish never acknowledged";
}

}  // namespace

void EventLogContractTest::SetUp() {
  absl::StatusOr<std::unique_ptr<EventLog>> log = GetParam().open();
  ASSERT_TRUE(log.ok()) << log.status();
  log_ = std::move(*log);
}

std::string EventLogContractTest::Topic(absl::string_view suffix) {
  static std::atomic<int> counter{0};
  return absl::StrCat("contract.", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                      ".", suffix, ".", absl::ToUnixMicros(absl::Now()), ".",
                      counter.fetch_add(1));
}

TEST_P(EventLogContractTest, SubscriberReceivesPublishedMessagesInKeyOrder) {
  const std::string topic = Topic("t");
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(topic, "g", rec.Handler()));
  std::vector<EventMessage> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(Msg(topic, "k1", absl::StrCat("m", i)));
  std::vector<absl::Status> statuses = log_->PublishReliable(batch);
  ASSERT_EQ(statuses.size(), 5u);
  for (const absl::Status& s : statuses) EXPECT_OK(s);
  EXPECT_THAT(rec.WaitFor(5), ElementsAre("m0", "m1", "m2", "m3", "m4"));
}

TEST_P(EventLogContractTest, EveryGroupSeesEveryMessage) {
  const std::string topic = Topic("t");
  Recorder a, b;
  ASSERT_OK_AND_ASSIGN(auto sa, log_->Subscribe(topic, "group-a", a.Handler()));
  ASSERT_OK_AND_ASSIGN(auto sb, log_->Subscribe(topic, "group-b", b.Handler()));
  ASSERT_OK(log_->PublishReliable(Msg(topic, "k", "x")));
  ASSERT_OK(log_->PublishReliable(Msg(topic, "k", "y")));
  EXPECT_THAT(a.WaitFor(2), ElementsAre("x", "y"));
  EXPECT_THAT(b.WaitFor(2), ElementsAre("x", "y"));
}

TEST_P(EventLogContractTest, MembersOfOneGroupShareTheWork) {
  const std::string topic = Topic("t");
  Recorder a, b;
  ASSERT_OK_AND_ASSIGN(auto sa, log_->Subscribe(topic, "workers", a.Handler()));
  ASSERT_OK_AND_ASSIGN(auto sb, log_->Subscribe(topic, "workers", b.Handler()));
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(log_->PublishReliable(Msg(topic, absl::StrCat("key", i), absl::StrCat(i))));
  }
  for (int i = 0; i < 500 && a.Seen().size() + b.Seen().size() < 20; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::vector<std::string> all = a.Seen();
  for (const std::string& s : b.Seen()) all.push_back(s);
  std::sort(all.begin(), all.end());
  // Each message handled by exactly one member.
  EXPECT_EQ(all.size(), 20u);
  EXPECT_EQ(std::unique(all.begin(), all.end()), all.end());
}

TEST_P(EventLogContractTest, FailedHandlerSeesTheMessageAgain) {
  const std::string topic = Topic("t");
  std::atomic<int> calls{0};
  absl::Mutex mu;
  std::vector<std::string> ok_payloads;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(topic, "g", [&](const EventMessage& m) {
    if (calls.fetch_add(1) == 0) return absl::UnavailableError("first call fails");
    absl::MutexLock lock(&mu);
    ok_payloads.push_back(m.payload);
    return absl::OkStatus();
  }));
  PublishUntilOk(log_.get(), Msg(topic, "k", "retry-me"));
  for (int i = 0; i < 1000; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (!ok_payloads.empty()) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::MutexLock lock(&mu);
  EXPECT_THAT(ok_payloads, ElementsAre("retry-me"));
  EXPECT_GE(calls.load(), 2);
}

TEST_P(EventLogContractTest, HeadersAndKeyArrive) {
  const std::string topic = Topic("t");
  absl::Mutex mu;
  std::vector<EventMessage> got;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(topic, "g", [&](const EventMessage& m) {
    absl::MutexLock lock(&mu);
    got.push_back(m);
    return absl::OkStatus();
  }));
  ASSERT_OK(log_->PublishReliable(Msg(topic, "the-key", "p")));
  for (int i = 0; i < 1000; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (!got.empty()) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::MutexLock lock(&mu);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, topic);
  EXPECT_EQ(got[0].key, "the-key");
  EXPECT_EQ(got[0].payload, "p");
  EXPECT_THAT(got[0].headers,
              ::testing::Contains(std::make_pair(std::string("traceparent"),
                                                 std::string("00-x-y-01"))));
}

TEST_P(EventLogContractTest, NoCallsAfterUnsubscribe) {
  const std::string topic = Topic("t");
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(topic, "g", rec.Handler()));
  ASSERT_OK(log_->PublishReliable(Msg(topic, "k", "before")));
  EXPECT_THAT(rec.WaitFor(1), ElementsAre("before"));
  sub.reset();
  ASSERT_OK(log_->PublishReliable(Msg(topic, "k", "after")));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_THAT(rec.Seen(), ElementsAre("before"));
}

TEST_P(EventLogContractTest, BadSubscriptionIsInvalidArgument) {
  EXPECT_THAT(log_->Subscribe("", "g", [](const EventMessage&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->Subscribe(Topic("t"), "", [](const EventMessage&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(EventLogContractTest, PingAnswers) { EXPECT_OK(log_->Ping()); }

TEST_P(EventLogContractTest, StartPublishKeepsKeyOrderAcrossOutstandingBatches) {
  const std::string topic = Topic("t");
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(topic, "g", rec.Handler()));
  // Three batches of one key handed over before any report is awaited, then
  // awaited newest first.
  std::vector<std::unique_ptr<PendingPublish>> pending;
  std::vector<std::string> expected;
  for (int b = 0; b < 3; ++b) {
    std::vector<EventMessage> batch;
    for (int i = 0; i < 4; ++i) {
      expected.push_back(absl::StrCat("m", b * 4 + i));
      batch.push_back(Msg(topic, "one-key", expected.back()));
    }
    pending.push_back(log_->StartPublish(batch));
  }
  for (int b = 2; b >= 0; --b) {
    std::vector<absl::Status> statuses = pending[b]->Wait();
    ASSERT_EQ(statuses.size(), 4u) << "batch " << b;
    for (const absl::Status& s : statuses) EXPECT_OK(s) << "batch " << b;
    EXPECT_TRUE(pending[b]->Done());
  }
  EXPECT_EQ(rec.WaitFor(12), expected);
}

TEST_P(EventLogContractTest, StartPublishReportsEachMessage) {
  const std::string topic = Topic("t");
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(topic, "g", rec.Handler()));
  std::unique_ptr<PendingPublish> none = log_->StartPublish({});
  EXPECT_TRUE(none->Done());
  EXPECT_TRUE(none->Wait().empty());
  std::unique_ptr<PendingPublish> two =
      log_->StartPublish({Msg(topic, "a", "first"), Msg(topic, "b", "second")});
  std::vector<absl::Status> statuses = two->Wait();
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_OK(statuses[0]);
  EXPECT_OK(statuses[1]);
  EXPECT_THAT(rec.WaitFor(2), UnorderedElementsAre("first", "second"));
}

TEST_P(EventLogContractTest, DroppedPendingPublishIsStillPublished) {
  const std::string topic = Topic("t");
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(topic, "g", rec.Handler()));
  log_->StartPublish({Msg(topic, "k", "unobserved")}).reset();
  EXPECT_THAT(rec.WaitFor(1), ElementsAre("unobserved"));
}

TEST_P(EventLogContractTest, BatchSubscriberReceivesMessagesInKeyOrder) {
  const std::string topic = Topic("t");
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->SubscribeBatch(topic, "g", rec.BatchHandler()));
  std::vector<EventMessage> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(Msg(topic, "k", absl::StrCat("m", i)));
  for (const absl::Status& s : log_->PublishReliable(batch)) EXPECT_OK(s);
  EXPECT_THAT(rec.WaitFor(5), ElementsAre("m0", "m1", "m2", "m3", "m4"));
}

TEST_P(EventLogContractTest, BatchSubscriberFailingOneMessageSeesItAgain) {
  const std::string topic = Topic("t");
  absl::Mutex mu;
  bool failed_once = false;
  std::vector<std::string> ok_payloads;
  ASSERT_OK_AND_ASSIGN(
      auto sub, log_->SubscribeBatch(topic, "g", [&](absl::Span<const EventMessage> ms) {
        absl::MutexLock lock(&mu);
        std::vector<absl::Status> out;
        for (const EventMessage& m : ms) {
          if (m.payload == "flaky" && !failed_once) {
            failed_once = true;
            out.push_back(absl::UnavailableError("first try fails"));
          } else {
            ok_payloads.push_back(m.payload);
            out.emplace_back();
          }
        }
        return out;
      }));
  std::vector<absl::Status> first =
      log_->PublishReliable({Msg(topic, "a", "steady"), Msg(topic, "b", "flaky")});
  ASSERT_EQ(first.size(), 2u);
  if (!first[1].ok()) PublishUntilOk(log_.get(), Msg(topic, "b", "flaky"));
  for (int i = 0; i < 1000; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (std::count(ok_payloads.begin(), ok_payloads.end(), "flaky") > 0) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(failed_once);
  EXPECT_EQ(std::count(ok_payloads.begin(), ok_payloads.end(), "steady"), 1);
  EXPECT_GE(std::count(ok_payloads.begin(), ok_payloads.end(), "flaky"), 1);
}

TEST_P(EventLogContractTest, BatchSubscriptionWithoutHandlerIsInvalidArgument) {
  EXPECT_THAT(log_->SubscribeBatch(Topic("t"), "g", nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace alerthub
