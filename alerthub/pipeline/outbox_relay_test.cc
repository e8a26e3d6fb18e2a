#include "alerthub/pipeline/outbox_relay.h"

#include <set>

#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/inproc/inproc_event_log.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/pipeline/pipeline.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

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
  // Still claimed by the failed round: nothing to publish yet.
  ASSERT_OK_AND_ASSIGN(int64_t n, relay.Drain());
  EXPECT_EQ(n, 0);
  clock_.Advance(absl::Seconds(31));
  ASSERT_OK_AND_ASSIGN(n, relay.Drain());
  EXPECT_EQ(n, 3);
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

}  // namespace
}  // namespace alerthub
