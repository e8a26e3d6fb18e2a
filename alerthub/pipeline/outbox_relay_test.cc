#include "alerthub/pipeline/outbox_relay.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/inproc/inproc_event_log.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/pipeline/pipeline.h"
#include "alerthub/ports/store_wrapper.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

// An EventLog whose reports arrive late: StartPublish hands each message to
// an inproc log at once (unless its key is in `fail_keys`), but the handle is
// Done() only after Wait(), so the relay has every round it may start in
// flight. Checks that no row is marked sent before its round's Wait()
// returned.
class LateReportsLog final : public EventLog {
 public:
  // `total`: the rows in the outbox before the relay starts.
  LateReportsLog(EventLog* inner, Store* store, int64_t total)
      : total_(total), inner_(inner), store_(store) {}

  std::vector<absl::Status> PublishReliable(absl::Span<const EventMessage> messages) override {
    return StartPublish(messages)->Wait();
  }
  std::unique_ptr<PendingPublish> StartPublish(absl::Span<const EventMessage> messages) override {
    std::vector<absl::Status> statuses;
    for (const EventMessage& m : messages) {
      statuses.push_back(fail_keys.contains(m.key) ? absl::UnavailableError("no ack")
                                                   : inner_->PublishReliable(m));
    }
    max_in_flight = std::max(max_in_flight, ++in_flight);
    return std::make_unique<Late>(this, std::move(statuses));
  }
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view topic,
                                                          absl::string_view group,
                                                          Handler handler) override {
    return inner_->Subscribe(topic, group, std::move(handler));
  }
  absl::Status Ping() override { return inner_->Ping(); }

  std::set<std::string> fail_keys;
  int in_flight = 0;
  int max_in_flight = 0;
  int acked = 0;           // OK reports Wait() has returned
  bool marked_early = false;  // a row was marked sent before its report

 private:
  class Late final : public PendingPublish {
   public:
    Late(LateReportsLog* log, std::vector<absl::Status> statuses)
        : log_(log), statuses_(std::move(statuses)) {}
    bool Done() override { return waited_; }
    std::vector<absl::Status> Wait() override {
      waited_ = true;
      --log_->in_flight;
      absl::StatusOr<int64_t> pending = log_->store_->CountOutboxPending();
      // Rows gone from the outbox so far, all of them reported OK before.
      if (!pending.ok() || log_->total_ - *pending > log_->acked) log_->marked_early = true;
      for (const absl::Status& s : statuses_) log_->acked += s.ok() ? 1 : 0;
      return std::move(statuses_);
    }

   private:
    LateReportsLog* const log_;
    std::vector<absl::Status> statuses_;
    bool waited_ = false;
  };

  const int64_t total_;
  EventLog* const inner_;
  Store* const store_;
};

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions o;
    o.path = ":memory:";
    o.clock = &clock_;
    auto s = OpenSqliteStore(o);
    ASSERT_OK(s.status());
    store_ = std::move(*s);
    kv_ = NewMemoryKv({.clock = &clock_});
    log_ = NewInprocEventLog();
    Tenant t;
    t.id = NewUuidV7(clock_.Now());
    t.name = "t";
    ASSERT_OK(store_->CreateTenant(t));
    ctx_.tenant_id = t.id;
    PipelineOptions po;
    po.clock = &clock_;
    po.rate_limit.enabled = false;
    po.default_dedup_window = absl::ZeroDuration();
    pipeline_ = std::make_unique<Pipeline>(store_.get(), kv_.get(), po);
  }

  std::vector<std::string> SubmitN(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      Notification x;
      x.type = "t";
      x.title = absl::StrCat("n", i);
      auto r = pipeline_->Submit(ctx_, x);
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) ids.push_back(r->id);
    }
    return ids;
  }

  // Subscribes a consumer group that records the keys it is handed.
  std::unique_ptr<Subscription> RecordKeys(std::vector<std::string>* keys) {
    absl::StatusOr<std::unique_ptr<Subscription>> sub =
        log_->Subscribe(kTopicCreated, "test", [keys](const EventMessage& m) {
          keys->push_back(m.key);
          return absl::OkStatus();
        });
    EXPECT_TRUE(sub.ok()) << sub.status();
    return sub.ok() ? *std::move(sub) : nullptr;
  }

  // After a failed Drain: its unsent messages keep their claim for `lease`
  // (nothing to publish), then `n` of them go out.
  void ExpectRepublishedAfterLease(OutboxRelay& relay, absl::Duration lease, int64_t n) {
    absl::StatusOr<int64_t> published = relay.Drain();
    ASSERT_OK(published.status());
    EXPECT_EQ(*published, 0);
    clock_.Advance(lease + absl::Seconds(1));
    published = relay.Drain();
    ASSERT_OK(published.status());
    EXPECT_EQ(*published, n);
  }

  SimulatedClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Kv> kv_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<Pipeline> pipeline_;
  SubmitContext ctx_;
};

TEST_F(OutboxRelayTest, DrainPublishesEachMessageOnceInOrder) {
  std::vector<std::string> ids = SubmitN(25);
  absl::Mutex mu;
  std::vector<std::string> keys;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(kTopicCreated, "test", [&](const EventMessage& m) {
    absl::MutexLock lock(&mu);
    keys.push_back(m.key);
    return absl::OkStatus();
  }));
  OutboxRelay relay(store_.get(), log_.get(), {.batch_size = 10});
  ASSERT_OK_AND_ASSIGN(int64_t n, relay.Drain());
  EXPECT_EQ(n, 25);
  EXPECT_EQ(keys, ids);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
  ASSERT_OK_AND_ASSIGN(n, relay.Drain());
  EXPECT_EQ(n, 0);
  EXPECT_EQ(keys.size(), 25u);
}

TEST_F(OutboxRelayTest, FailedPublishStaysPendingAndIsRetriedAfterLease) {
  SubmitN(3);
  bool fail = true;
  std::vector<std::string> got;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(kTopicCreated, "test", [&](const EventMessage& m) {
    if (fail) return absl::UnavailableError("consumer down");
    got.push_back(m.key);
    return absl::OkStatus();
  }));
  OutboxRelay relay(store_.get(), log_.get(), {.claim_lease = absl::Seconds(30)});
  EXPECT_THAT(relay.Drain(), ::alerthub::testing::StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 3);
  fail = false;
  ExpectRepublishedAfterLease(relay, absl::Seconds(30), 3);
  EXPECT_EQ(got.size(), 3u);
}

TEST_F(OutboxRelayTest, BackgroundThreadPublishesAfterWake) {
  absl::Mutex mu;
  int seen = 0;
  ASSERT_OK_AND_ASSIGN(auto sub, log_->Subscribe(kTopicCreated, "test", [&](const EventMessage&) {
    absl::MutexLock lock(&mu);
    ++seen;
    return absl::OkStatus();
  }));
  OutboxRelay relay(store_.get(), log_.get(), {.idle_poll = absl::Seconds(60)});
  pipeline_->SetCommitListener([&] { relay.Wake(); });
  relay.Start();
  SubmitN(5);
  for (int i = 0; i < 1000; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (seen == 5) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  relay.Stop();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(seen, 5);
  EXPECT_EQ(relay.published(), 5);
}

TEST_F(OutboxRelayTest, PipelinedRoundsPublishInClaimOrderAndMarkAfterTheirReports) {
  std::vector<std::string> ids = SubmitN(25);
  std::vector<std::string> keys;
  std::unique_ptr<Subscription> sub = RecordKeys(&keys);
  LateReportsLog late(log_.get(), store_.get(), 25);
  OutboxRelay relay(store_.get(), &late, {.batch_size = 4, .max_rounds_in_flight = 3});
  ASSERT_OK_AND_ASSIGN(int64_t n, relay.Drain());
  EXPECT_EQ(n, 25);
  EXPECT_EQ(keys, ids);  // claim order, across rounds in flight together
  EXPECT_EQ(late.max_in_flight, 3);
  EXPECT_FALSE(late.marked_early);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
  EXPECT_EQ(relay.published(), 25);
}

// Records the after_seq of every TakeOutbox and the last seq it returned.
class TakeRecordingStore final : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  absl::StatusOr<std::unique_ptr<OutboxBatch>> TakeOutbox(int max, absl::Duration lease,
                                                         int64_t after_seq) override {
    absl::StatusOr<std::unique_ptr<OutboxBatch>> batch =
        StoreWrapper::TakeOutbox(max, lease, after_seq);
    if (batch.ok() && !(*batch)->records().empty()) {
      takes.push_back({after_seq, (*batch)->records().back().seq});
    }
    return batch;
  }
  struct Take {
    int64_t after_seq;
    int64_t last_seq;
  };
  std::vector<Take> takes;
};

TEST_F(OutboxRelayTest, RoundsTakeAfterTheLastRowAndRescanFromTheStartNowAndThen) {
  SubmitN(14);
  TakeRecordingStore store(store_.get());
  OutboxRelay relay(&store, log_.get(),
                    {.batch_size = 2, .max_rounds_in_flight = 2, .rounds_per_rescan = 3});
  ASSERT_OK_AND_ASSIGN(int64_t n, relay.Drain());
  EXPECT_EQ(n, 14);
  ASSERT_EQ(store.takes.size(), 7u);
  for (size_t i = 0; i < store.takes.size(); ++i) {
    const int64_t expected = i % 3 == 0 ? 0 : store.takes[i - 1].last_seq;
    EXPECT_EQ(store.takes[i].after_seq, expected) << "take " << i;
  }
}

TEST_F(OutboxRelayTest, OneRoundInFlightWaitsForEachRoundsReports) {
  SubmitN(9);
  LateReportsLog late(log_.get(), store_.get(), 9);
  OutboxRelay relay(store_.get(), &late, {.batch_size = 2, .max_rounds_in_flight = 1});
  ASSERT_OK_AND_ASSIGN(int64_t n, relay.Drain());
  EXPECT_EQ(n, 9);
  EXPECT_EQ(late.max_in_flight, 1);
  EXPECT_FALSE(late.marked_early);
}

TEST_F(OutboxRelayTest, FailedReportKeepsOnlyItsRowWhileTheRoundsAroundItAreMarked) {
  std::vector<std::string> ids = SubmitN(12);
  std::vector<std::string> keys;
  std::unique_ptr<Subscription> sub = RecordKeys(&keys);
  LateReportsLog late(log_.get(), store_.get(), 12);
  late.fail_keys = {ids[5]};  // in the second of three rounds in flight
  OutboxRelay relay(store_.get(), &late,
                    {.batch_size = 4, .max_rounds_in_flight = 3, .claim_lease = absl::Seconds(30)});
  EXPECT_THAT(relay.Drain(), ::alerthub::testing::StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(late.marked_early);
  EXPECT_EQ(relay.published(), 11);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 1);
  std::vector<std::string> others = ids;
  others.erase(others.begin() + 5);
  EXPECT_EQ(keys, others);

  late.fail_keys.clear();
  ExpectRepublishedAfterLease(relay, absl::Seconds(30), 1);
  ASSERT_EQ(keys.size(), 12u);
  EXPECT_EQ(keys.back(), ids[5]);
  ASSERT_OK_AND_ASSIGN(pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
}

}  // namespace
}  // namespace alerthub
