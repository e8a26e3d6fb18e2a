#include "alerthub/pipeline/group_commit.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/ports/store_wrapper.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;

// Blocks the first commit until released, and can fail commits on demand.
class GatedStore : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;
  absl::StatusOr<std::vector<SubmissionOutcome>> CommitSubmissions(
      absl::Span<const SubmissionWrite> s) override {
    sizes.push_back(s.size());
    if (calls.fetch_add(1) == 0) {
      entered.Notify();
      release.WaitForNotification();
    }
    if (fail.load()) return absl::UnavailableError("database is locked");
    return StoreWrapper::CommitSubmissions(s);
  }
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  std::vector<size_t> sizes;  // written only by the leader of each commit
  absl::Notification entered, release;
};

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions o;
    o.path = ":memory:";
    auto s = OpenSqliteStore(o);
    ASSERT_OK(s.status());
    base_ = std::move(*s);
    tenant_.id = NewUuidV7(absl::Now());
    tenant_.name = "t";
    ASSERT_OK(base_->CreateTenant(tenant_));
    store_ = std::make_unique<GatedStore>(base_.get());
  }

  std::vector<SubmissionWrite> Writes(int n) {
    std::vector<SubmissionWrite> out;
    for (int i = 0; i < n; ++i) {
      SubmissionWrite w;
      w.notification.id = NewUuidV7(absl::Now());
      w.notification.tenant_id = tenant_.id;
      w.notification.type = "t";
      w.notification.created_at = w.notification.updated_at = absl::Now();
      w.accepted_event = MakeNotificationEvent(w.notification, kEventAccepted, "/test",
                                               absl::Now(), nlohmann::json::object());
      w.outbox_topic = std::string(kTopicCreated);
      w.outbox_payload = "{}";
      out.push_back(std::move(w));
    }
    return out;
  }

  std::unique_ptr<Store> base_;
  std::unique_ptr<GatedStore> store_;
  Tenant tenant_;
};

TEST_F(GroupCommitTest, LoneCallerCommitsAtOnce) {
  store_->release.Notify();
  GroupCommitter committer(store_.get(), {});
  std::vector<SubmissionWrite> w = Writes(3);
  std::string first_id = w[0].notification.id;
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out, committer.Commit(std::move(w)));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].id, first_id);
  EXPECT_EQ(committer.transactions(), 1);
  EXPECT_EQ(committer.rows(), 3);
}

TEST_F(GroupCommitTest, CallersQueuedBehindACommitShareTheNextOne) {
  GroupCommitter committer(store_.get(), {});
  std::thread leader([&] { ASSERT_OK(committer.Commit(Writes(1)).status()); });
  store_->entered.WaitForNotification();
  // While the first transaction is held open, ten callers queue up.
  std::vector<std::thread> followers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 10; ++i) {
    followers.emplace_back([&] {
      absl::StatusOr<std::vector<SubmissionOutcome>> r = committer.Commit(Writes(2));
      if (r.ok() && r->size() == 2) ok.fetch_add(1);
    });
  }
  absl::SleepFor(absl::Milliseconds(200));
  store_->release.Notify();
  leader.join();
  for (auto& t : followers) t.join();
  EXPECT_EQ(ok.load(), 10);
  EXPECT_EQ(committer.rows(), 21);
  // The ten followers went in one transaction (all queued before release).
  EXPECT_EQ(committer.transactions(), 2);
  EXPECT_EQ(store_->sizes.back(), 20u);
}

TEST_F(GroupCommitTest, TakesTheStoresConcurrencyByDefault) {
  EXPECT_EQ(GroupCommitter(store_.get(), {}).max_concurrent_transactions(), 1);  // SQLite
  EXPECT_EQ(GroupCommitter(store_.get(), {.max_concurrent_transactions = 3})
                .max_concurrent_transactions(),
            3);
}

TEST_F(GroupCommitTest, SecondTransactionRunsBesideAStalledOneWhenAllowed) {
  GroupCommitter committer(store_.get(),
                           {.max_concurrent_transactions = 2, .min_concurrent_batch_rows = 2});
  absl::Notification first_done;
  std::thread first([&] {
    ASSERT_OK(committer.Commit(Writes(1)).status());
    first_done.Notify();
  });
  store_->entered.WaitForNotification();
  // The first transaction is held open; a second caller leads its own and
  // commits before it.
  ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out, committer.Commit(Writes(2)));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_FALSE(first_done.HasBeenNotified());
  EXPECT_EQ(committer.transactions(), 1);
  store_->release.Notify();
  first.join();
  EXPECT_EQ(committer.transactions(), 2);
  EXPECT_EQ(committer.rows(), 3);
}

TEST_F(GroupCommitTest, SmallBatchesWaitForTheTransactionInFlight) {
  GroupCommitter committer(store_.get(),
                           {.max_concurrent_transactions = 2, .min_concurrent_batch_rows = 4});
  std::thread first([&] { ASSERT_OK(committer.Commit(Writes(1)).status()); });
  store_->entered.WaitForNotification();
  // Two rows queued: under the threshold, they wait for the first.
  absl::Notification second_done;
  std::thread second([&] {
    ASSERT_OK(committer.Commit(Writes(2)).status());
    second_done.Notify();
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(second_done.HasBeenNotified());
  // Two more reach it: one transaction of four starts beside the first.
  std::thread third([&] { ASSERT_OK(committer.Commit(Writes(2)).status()); });
  second_done.WaitForNotification();
  third.join();
  EXPECT_EQ(committer.transactions(), 1);
  store_->release.Notify();
  first.join();
  second.join();
  EXPECT_EQ(committer.transactions(), 2);
  EXPECT_EQ(committer.rows(), 5);
}

TEST_F(GroupCommitTest, CallersWaitWhileEverySlotIsTaken) {
  GroupCommitter committer(store_.get(), {.max_concurrent_transactions = 1});
  std::thread first([&] { ASSERT_OK(committer.Commit(Writes(1)).status()); });
  store_->entered.WaitForNotification();
  absl::Notification second_done;
  std::thread second([&] {
    ASSERT_OK(committer.Commit(Writes(1)).status());
    second_done.Notify();
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(second_done.HasBeenNotified());
  store_->release.Notify();
  first.join();
  second.join();
  EXPECT_EQ(committer.transactions(), 2);
}

TEST_F(GroupCommitTest, RowBudgetSplitsTransactions) {
  GroupCommitter committer(store_.get(), {.max_batch_rows = 4});
  std::thread leader([&] { ASSERT_OK(committer.Commit(Writes(1)).status()); });
  store_->entered.WaitForNotification();
  std::vector<std::thread> followers;
  for (int i = 0; i < 4; ++i) {
    followers.emplace_back([&] { ASSERT_OK(committer.Commit(Writes(2)).status()); });
  }
  absl::SleepFor(absl::Milliseconds(200));
  store_->release.Notify();
  leader.join();
  for (auto& t : followers) t.join();
  EXPECT_EQ(committer.rows(), 9);
  EXPECT_EQ(committer.transactions(), 3);  // 1, then 2+2, then 2+2
  for (size_t s : store_->sizes) EXPECT_LE(s, 4u);
}

TEST_F(GroupCommitTest, FailureReachesEveryCallerOfTheTransaction) {
  store_->fail = true;
  GroupCommitter committer(store_.get(), {});
  std::thread leader([&] {
    EXPECT_THAT(committer.Commit(Writes(1)),
                StatusIs(absl::StatusCode::kUnavailable, "database is locked"));
  });
  store_->entered.WaitForNotification();
  std::vector<std::thread> followers;
  for (int i = 0; i < 3; ++i) {
    followers.emplace_back([&] {
      EXPECT_THAT(committer.Commit(Writes(1)),
                  StatusIs(absl::StatusCode::kUnavailable, "database is locked"));
    });
  }
  absl::SleepFor(absl::Milliseconds(100));
  store_->release.Notify();
  leader.join();
  for (auto& t : followers) t.join();
  EXPECT_EQ(committer.rows(), 0);
  ASSERT_OK_AND_ASSIGN(int64_t pending, base_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
}

// Collects asynchronous outcomes and the threads they arrived on.
struct AsyncResults {
  absl::Mutex mu;
  std::vector<absl::StatusOr<std::vector<SubmissionOutcome>>> results ABSL_GUARDED_BY(mu);
  std::vector<std::thread::id> threads ABSL_GUARDED_BY(mu);

  GroupCommitter::CommitCallback Callback() {
    return [this](absl::StatusOr<std::vector<SubmissionOutcome>> r) {
      absl::MutexLock lock(&mu);
      results.push_back(std::move(r));
      threads.push_back(std::this_thread::get_id());
    };
  }
  void AwaitCount(size_t n) {
    absl::MutexLock lock(&mu);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return results.size() >= n; };
    mu.Await(absl::Condition(&enough));
  }
  size_t size() {
    absl::MutexLock lock(&mu);
    return results.size();
  }
};

TEST_F(GroupCommitTest, AsyncCallerReturnsAtOnceAndGetsItsOutcomeOnACommitterThread) {
  GroupCommitter committer(store_.get(), {});
  AsyncResults got;
  std::vector<SubmissionWrite> w = Writes(2);
  const std::string second_id = w[1].notification.id;
  committer.CommitAsync(std::move(w), got.Callback());
  store_->entered.WaitForNotification();  // the transaction is open ...
  EXPECT_EQ(got.size(), 0u);               // ... and CommitAsync has returned
  store_->release.Notify();
  got.AwaitCount(1);
  absl::MutexLock lock(&got.mu);
  ASSERT_OK(got.results[0].status());
  ASSERT_EQ(got.results[0]->size(), 2u);
  EXPECT_EQ((*got.results[0])[1].id, second_id);
  EXPECT_NE(got.threads[0], std::this_thread::get_id());
  EXPECT_EQ(committer.rows(), 2);
}

TEST_F(GroupCommitTest, AsyncCallersQueuedBehindACommitShareTheNextOne) {
  GroupCommitter committer(store_.get(), {});
  AsyncResults got;
  committer.CommitAsync(Writes(1), got.Callback());
  store_->entered.WaitForNotification();
  for (int i = 0; i < 10; ++i) committer.CommitAsync(Writes(2), got.Callback());
  store_->release.Notify();
  got.AwaitCount(11);
  absl::MutexLock lock(&got.mu);
  for (const auto& r : got.results) ASSERT_OK(r.status());
  EXPECT_EQ(committer.rows(), 21);
  EXPECT_EQ(committer.transactions(), 2);
  EXPECT_EQ(store_->sizes.back(), 20u);
}

TEST_F(GroupCommitTest, SyncAndAsyncCallersShareTransactions) {
  GroupCommitter committer(store_.get(), {});
  AsyncResults got;
  std::thread leader([&] { ASSERT_OK(committer.Commit(Writes(1)).status()); });
  store_->entered.WaitForNotification();
  // Behind the open transaction: async, sync, async.
  committer.CommitAsync(Writes(1), got.Callback());
  std::thread sync_caller([&] {
    ASSERT_OK_AND_ASSIGN(std::vector<SubmissionOutcome> out, committer.Commit(Writes(3)));
    EXPECT_EQ(out.size(), 3u);
  });
  absl::SleepFor(absl::Milliseconds(100));
  committer.CommitAsync(Writes(1), got.Callback());
  absl::SleepFor(absl::Milliseconds(100));
  store_->release.Notify();
  leader.join();
  sync_caller.join();
  got.AwaitCount(2);
  EXPECT_EQ(committer.rows(), 6);
  EXPECT_EQ(committer.transactions(), 2);  // the three queued callers went together
}

TEST_F(GroupCommitTest, AsyncFailureReachesEveryCallback) {
  store_->fail = true;
  GroupCommitter committer(store_.get(), {});
  AsyncResults got;
  committer.CommitAsync(Writes(1), got.Callback());
  store_->entered.WaitForNotification();
  for (int i = 0; i < 3; ++i) committer.CommitAsync(Writes(1), got.Callback());
  store_->release.Notify();
  got.AwaitCount(4);
  absl::MutexLock lock(&got.mu);
  for (const auto& r : got.results) {
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, "database is locked"));
  }
  EXPECT_EQ(committer.rows(), 0);
}

TEST_F(GroupCommitTest, DestructionCommitsWhatIsQueued) {
  AsyncResults got;
  {
    GroupCommitter committer(store_.get(), {});
    committer.CommitAsync(Writes(1), got.Callback());
    store_->entered.WaitForNotification();
    for (int i = 0; i < 5; ++i) committer.CommitAsync(Writes(1), got.Callback());
    std::thread release([&] {
      absl::SleepFor(absl::Milliseconds(100));
      store_->release.Notify();
    });
    release.detach();
  }  // waits for every queued writer
  EXPECT_EQ(got.size(), 6u);
  ASSERT_OK_AND_ASSIGN(int64_t pending, base_->CountOutboxPending());
  EXPECT_EQ(pending, 6);
}

TEST_F(GroupCommitTest, AsyncEmptyWritesCompleteInline) {
  GroupCommitter committer(store_.get(), {});
  bool called = false;
  committer.CommitAsync({}, [&](absl::StatusOr<std::vector<SubmissionOutcome>> r) {
    ASSERT_OK(r.status());
    EXPECT_TRUE(r->empty());
    called = true;
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(committer.transactions(), 0);
}

}  // namespace
}  // namespace alerthub
