#include "alerthub/pipeline/pipeline.h"

#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/pipeline/realtime.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Notification Make(absl::string_view type, absl::string_view title = "hello") {
  Notification n;
  n.type = std::string(type);
  n.title = std::string(title);
  return n;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions so;
    so.path = ":memory:";
    so.clock = &clock_;
    auto store = OpenSqliteStore(so);
    ASSERT_OK(store.status());
    store_ = std::move(*store);
    kv_ = NewMemoryKv({.clock = &clock_});
    tenant_.id = NewUuidV7(clock_.Now());
    tenant_.name = "acme";
    tenant_.created_at = clock_.Now();
    ASSERT_OK(store_->CreateTenant(tenant_));
    Reset({});
  }

  void Reset(PipelineOptions options) {
    options.clock = &clock_;
    pipeline_ = std::make_unique<Pipeline>(store_.get(), kv_.get(), std::move(options));
  }

  SubmitContext Ctx(std::string idempotency_key = "") {
    SubmitContext ctx;
    ctx.tenant_id = tenant_.id;
    ctx.idempotency_key = std::move(idempotency_key);
    ctx.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    return ctx;
  }

  SimulatedClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Kv> kv_;
  Tenant tenant_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, SubmitPersistsNotificationEventAndOutbox) {
  Notification n = Make("deploy.finished", "v2 is live");
  n.priority = Priority::kHigh;
  n.tags = {{"env", "prod"}};
  ASSERT_OK_AND_ASSIGN(SubmitResult r, pipeline_->Submit(Ctx(), n));
  EXPECT_TRUE(IsUuid(r.id));
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.status, NotificationStatus::kAccepted);

  ASSERT_OK_AND_ASSIGN(Notification stored, store_->GetNotification(tenant_.id, r.id));
  EXPECT_EQ(stored.tenant_id, tenant_.id);
  EXPECT_EQ(stored.type, "deploy.finished");
  EXPECT_EQ(stored.title, "v2 is live");
  EXPECT_EQ(stored.priority, Priority::kHigh);
  EXPECT_EQ(stored.status, NotificationStatus::kAccepted);
  EXPECT_EQ(stored.created_at, clock_.Now());

  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, r.id));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, kEventAccepted);
  EXPECT_EQ(events[0].subject, r.id);
  EXPECT_EQ(events[0].tenantid, tenant_.id);
  EXPECT_EQ(events[0].traceparent, Ctx().traceparent);

  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> outbox, store_->ClaimOutbox(10, absl::Seconds(5)));
  ASSERT_EQ(outbox.size(), 1u);
  EXPECT_EQ(outbox[0].topic, kTopicCreated);
  EXPECT_EQ(outbox[0].key, r.id);
  ASSERT_OK_AND_ASSIGN(CloudEvent created,
                       CloudEventFromJson(nlohmann::json::parse(outbox[0].payload)));
  EXPECT_EQ(created.id, events[0].id);  // one event id: consumers dedupe on it
  EXPECT_EQ(created.data["title"], "v2 is live");
  EXPECT_EQ(pipeline_->accepted(), 1);
}

TEST_F(PipelineTest, InvalidNotificationNamesTheField) {
  Notification n = Make("Bad Type!");
  absl::StatusOr<SubmitResult> r = pipeline_->Submit(Ctx(), n);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type")));
  std::vector<FieldError> errors = FieldErrorsOf(r.status());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "type");
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 0);
}

TEST_F(PipelineTest, UnknownTenantIsNotFound) {
  SubmitContext ctx;
  ctx.tenant_id = NewUuidV7(clock_.Now());
  EXPECT_THAT(pipeline_->Submit(ctx, Make("a")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tenant")));
}

TEST_F(PipelineTest, DedupKeyReturnsOriginalForever) {
  Notification n = Make("a");
  n.dedup_key = "order-42";
  ASSERT_OK_AND_ASSIGN(SubmitResult first, pipeline_->Submit(Ctx(), n));
  clock_.Advance(absl::Hours(24 * 7));  // long past any content window
  n.title = "different content, same key";
  ASSERT_OK_AND_ASSIGN(SubmitResult again, pipeline_->Submit(Ctx(), n));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.status, NotificationStatus::kAccepted);
  EXPECT_EQ(pipeline_->accepted(), 1);
}

TEST_F(PipelineTest, IdempotencyKeyActsAsDedupKey) {
  ASSERT_OK_AND_ASSIGN(SubmitResult first, pipeline_->Submit(Ctx("idem-1"), Make("a", "x")));
  ASSERT_OK_AND_ASSIGN(SubmitResult again, pipeline_->Submit(Ctx("idem-1"), Make("a", "y")));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.id, first.id);
  ASSERT_OK_AND_ASSIGN(SubmitResult other, pipeline_->Submit(Ctx("idem-2"), Make("a", "x")));
  EXPECT_FALSE(other.duplicate);
}

TEST_F(PipelineTest, IdempotencyKeyFollowsTheDedupKeyRule) {
  EXPECT_THAT(pipeline_->Submit(Ctx(std::string(257, 'k')), Make("a")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "invalid Idempotency-Key header: Idempotency-Key: must be 1-256 printable ASCII "
                       "characters"));
  EXPECT_THAT(pipeline_->Submit(Ctx("tab\there"), Make("a")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(pipeline_->Submit(Ctx(std::string(256, 'k')), Make("a")).status());
}

TEST_F(PipelineTest, ContentDuplicateInsideWindowOnly) {
  ASSERT_OK_AND_ASSIGN(SubmitResult first, pipeline_->Submit(Ctx(), Make("a", "same")));
  clock_.Advance(absl::Seconds(299));
  ASSERT_OK_AND_ASSIGN(SubmitResult dup, pipeline_->Submit(Ctx(), Make("a", "same")));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.id, first.id);
  ASSERT_OK_AND_ASSIGN(SubmitResult different, pipeline_->Submit(Ctx(), Make("a", "other")));
  EXPECT_FALSE(different.duplicate);
  clock_.Advance(absl::Seconds(2));  // 301 s after the first
  ASSERT_OK_AND_ASSIGN(SubmitResult later, pipeline_->Submit(Ctx(), Make("a", "same")));
  EXPECT_FALSE(later.duplicate);
  EXPECT_NE(later.id, first.id);
}

TEST_F(PipelineTest, ContentWindowZeroDisablesContentDedup) {
  PipelineOptions options;
  options.default_dedup_window = absl::ZeroDuration();
  Reset(options);
  ASSERT_OK_AND_ASSIGN(SubmitResult a, pipeline_->Submit(Ctx(), Make("a", "same")));
  ASSERT_OK_AND_ASSIGN(SubmitResult b, pipeline_->Submit(Ctx(), Make("a", "same")));
  EXPECT_FALSE(b.duplicate);
  EXPECT_NE(a.id, b.id);
}

TEST_F(PipelineTest, TenantSettingsOverrideWindow) {
  Tenant t;
  t.id = NewUuidV7(clock_.Now());
  t.name = "no-window";
  t.settings.dedup_window = absl::ZeroDuration();
  ASSERT_OK(store_->CreateTenant(t));
  SubmitContext ctx;
  ctx.tenant_id = t.id;
  ASSERT_OK_AND_ASSIGN(SubmitResult a, pipeline_->Submit(ctx, Make("a", "same")));
  ASSERT_OK_AND_ASSIGN(SubmitResult b, pipeline_->Submit(ctx, Make("a", "same")));
  EXPECT_FALSE(b.duplicate);
}

TEST_F(PipelineTest, RateLimitedWithRetryAfter) {
  PipelineOptions options;
  options.rate_limit.tenant = {.rate_per_second = 1, .burst = 2};
  options.default_dedup_window = absl::ZeroDuration();
  Reset(options);
  ASSERT_OK_AND_ASSIGN(SubmitResult a, pipeline_->Submit(Ctx(), Make("a")));
  EXPECT_EQ(a.rate_limit.limit, 2);
  EXPECT_EQ(a.rate_limit.remaining, 1);
  ASSERT_OK(pipeline_->Submit(Ctx(), Make("a")).status());
  absl::StatusOr<SubmitResult> limited = pipeline_->Submit(Ctx(), Make("a"));
  EXPECT_THAT(limited, StatusIs(absl::StatusCode::kResourceExhausted));
  std::optional<RateLimitInfo> info = RateLimitInfoOf(limited.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->retry_after, absl::Seconds(1));
  clock_.Advance(absl::Seconds(1));
  EXPECT_OK(pipeline_->Submit(Ctx(), Make("a")).status());
}

TEST_F(PipelineTest, BatchKeepsOrderAndIsolatesBadItems) {
  std::vector<Notification> items = {Make("a", "one"), Make("BAD"), Make("c", "three")};
  items[2].dedup_key = "k3";
  ASSERT_OK_AND_ASSIGN(auto results, pipeline_->SubmitBatch(Ctx(), items));
  ASSERT_EQ(results.size(), 3u);
  ASSERT_OK(results[0].status());
  EXPECT_THAT(results[1], StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldErrorsOf(results[1].status()).at(0).field, "type");
  ASSERT_OK(results[2].status());
  EXPECT_NE(results[0]->id, results[2]->id);
  ASSERT_OK_AND_ASSIGN(Notification third, store_->GetNotification(tenant_.id, results[2]->id));
  EXPECT_EQ(third.title, "three");
  // Ids increase in request order.
  EXPECT_LT(results[0]->id, results[2]->id);
}

TEST_F(PipelineTest, BatchSizeBounds) {
  EXPECT_THAT(pipeline_->SubmitBatch(Ctx(), {}),
              StatusIs(absl::StatusCode::kInvalidArgument, "invalid batch: items: must hold 1-100 notifications"));
  std::vector<Notification> many(101, Make("a"));
  EXPECT_THAT(pipeline_->SubmitBatch(Ctx(), many),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1-100")));
  std::vector<Notification> hundred;
  for (int i = 0; i < 100; ++i) hundred.push_back(Make("a", absl::StrCat("n", i)));
  ASSERT_OK_AND_ASSIGN(auto results, pipeline_->SubmitBatch(Ctx(), hundred));
  EXPECT_EQ(results.size(), 100u);
  for (const auto& r : results) EXPECT_OK(r.status());
}

TEST_F(PipelineTest, BatchDuplicatesWithinAndAcrossCalls) {
  std::vector<Notification> items = {Make("a", "x"), Make("a", "y")};
  items[0].dedup_key = "same";
  items[1].dedup_key = "same";
  ASSERT_OK_AND_ASSIGN(auto results, pipeline_->SubmitBatch(Ctx(), items));
  ASSERT_OK(results[0].status());
  ASSERT_OK(results[1].status());
  EXPECT_FALSE(results[0]->duplicate);
  EXPECT_TRUE(results[1]->duplicate);
  EXPECT_EQ(results[1]->id, results[0]->id);
}

TEST_F(PipelineTest, IdenticalContentWithinOneBatchIsStoredOnce) {
  std::vector<Notification> items = {Make("a", "same"), Make("a", "other"), Make("a", "same")};
  ASSERT_OK_AND_ASSIGN(auto results, pipeline_->SubmitBatch(Ctx(), items));
  ASSERT_OK(results[0].status());
  ASSERT_OK(results[2].status());
  EXPECT_FALSE(results[0]->duplicate);
  EXPECT_TRUE(results[2]->duplicate);
  EXPECT_EQ(results[2]->id, results[0]->id);
  EXPECT_EQ(pipeline_->accepted(), 2);
}

TEST_F(PipelineTest, ConcurrentIdenticalContentIsStoredOnce) {
  PipelineOptions options;
  options.rate_limit.enabled = false;
  Reset(options);
  constexpr int kThreads = 16;
  absl::Mutex mu;
  std::vector<SubmitResult> got;
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      go.WaitForNotification();
      absl::StatusOr<SubmitResult> r = pipeline_->Submit(Ctx(), Make("race", "same content"));
      ASSERT_OK(r.status());
      absl::MutexLock lock(&mu);
      got.push_back(*r);
    });
  }
  go.Notify();
  for (auto& t : threads) t.join();
  int fresh = 0;
  for (const SubmitResult& r : got) {
    if (!r.duplicate) ++fresh;
    EXPECT_EQ(r.id, got.front().id);
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(pipeline_->accepted(), 1);
}

TEST_F(PipelineTest, BatchIdempotencyKeyCoversEachPosition) {
  std::vector<Notification> items = {Make("a", "x"), Make("a", "y")};
  ASSERT_OK_AND_ASSIGN(auto first, pipeline_->SubmitBatch(Ctx("batch-1"), items));
  ASSERT_OK_AND_ASSIGN(auto again, pipeline_->SubmitBatch(Ctx("batch-1"), items));
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(again[i]->duplicate);
    EXPECT_EQ(again[i]->id, first[i]->id);
  }
}

TEST_F(PipelineTest, BatchRateLimitCostsOnePerValidItem) {
  PipelineOptions options;
  options.rate_limit.tenant = {.rate_per_second = 1, .burst = 3};
  Reset(options);
  std::vector<Notification> items = {Make("a", "1"), Make("BAD"), Make("a", "2"), Make("a", "3")};
  ASSERT_OK_AND_ASSIGN(auto results, pipeline_->SubmitBatch(Ctx(), items));
  EXPECT_OK(results[3].status());
  EXPECT_THAT(pipeline_->SubmitBatch(Ctx(), {Make("a", "4")}),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(PipelineTest, PublishesRealtimeUpdateAfterCommit) {
  absl::Mutex mu;
  std::vector<StatusUpdate> got;
  ASSERT_OK_AND_ASSIGN(auto sub, kv_->Subscribe(UpdatesChannel(tenant_.id), [&](absl::string_view m) {
    absl::StatusOr<StatusUpdate> u = StatusUpdateFromJson(m);
    ASSERT_OK(u.status());
    absl::MutexLock lock(&mu);
    got.push_back(*u);
  }));
  Notification n = Make("deploy.finished");
  n.priority = Priority::kCritical;
  ASSERT_OK_AND_ASSIGN(SubmitResult r, pipeline_->Submit(Ctx(), n));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, r.id);
  EXPECT_EQ(got[0].status, NotificationStatus::kAccepted);
  EXPECT_EQ(got[0].notification_type, "deploy.finished");
  EXPECT_EQ(got[0].priority, Priority::kCritical);
}

TEST_F(PipelineTest, CommitListenerRunsAfterNewWritesOnly) {
  int calls = 0;
  pipeline_->SetCommitListener([&] { ++calls; });
  Notification n = Make("a");
  n.dedup_key = "once";
  ASSERT_OK(pipeline_->Submit(Ctx(), n).status());
  ASSERT_OK(pipeline_->Submit(Ctx(), n).status());  // duplicate
  EXPECT_EQ(calls, 1);
}

TEST_F(PipelineTest, ConcurrentSubmittersAreGroupCommitted) {
  PipelineOptions options;
  options.rate_limit.enabled = false;
  options.default_dedup_window = absl::ZeroDuration();
  Reset(options);
  constexpr int kThreads = 16, kEach = 100;
  absl::Mutex mu;
  std::set<std::string> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<SubmitResult> r =
            pipeline_->Submit(Ctx(), Make("load", absl::StrCat(t, "-", i)));
        ASSERT_OK(r.status());
        absl::MutexLock lock(&mu);
        ids.insert(r->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(pipeline_->committer().rows(), kThreads * kEach);
  EXPECT_LE(pipeline_->committer().transactions(), kThreads * kEach);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, kThreads * kEach);
}

// SubmitAsync results, in arrival order.
class AsyncSubmits {
 public:
  Pipeline::SubmitCallback Callback() {
    return [this](absl::StatusOr<SubmitResult> r) {
      absl::MutexLock lock(&mu_);
      results_.push_back(std::move(r));
    };
  }
  std::vector<absl::StatusOr<SubmitResult>> AwaitCount(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return results_.size() >= n; };
    mu_.Await(absl::Condition(&enough));
    return results_;
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::StatusOr<SubmitResult>> results_ ABSL_GUARDED_BY(mu_);
};

TEST_F(PipelineTest, SubmitAsyncPersistsLikeSubmit) {
  AsyncSubmits got;
  pipeline_->SubmitAsync(Ctx(), Make("deploy.finished", "async"), got.Callback());
  std::vector<absl::StatusOr<SubmitResult>> r = got.AwaitCount(1);
  ASSERT_OK(r[0].status());
  EXPECT_FALSE(r[0]->duplicate);
  ASSERT_OK_AND_ASSIGN(Notification stored, store_->GetNotification(tenant_.id, r[0]->id));
  EXPECT_EQ(stored.title, "async");
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, r[0]->id));
  EXPECT_EQ(events.size(), 1u);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 1);
  EXPECT_EQ(pipeline_->accepted(), 1);
}

TEST_F(PipelineTest, SubmitAsyncReportsErrorsOnTheCallingThread) {
  PipelineOptions options;
  options.rate_limit.tenant = {.rate_per_second = 1, .burst = 1};
  options.default_dedup_window = absl::ZeroDuration();
  Reset(options);
  std::vector<absl::StatusOr<SubmitResult>> got;
  auto record = [&got](absl::StatusOr<SubmitResult> r) { got.push_back(std::move(r)); };
  pipeline_->SubmitAsync(Ctx(), Make("Bad Type!"), record);
  ASSERT_EQ(got.size(), 1u);  // called before SubmitAsync returned
  EXPECT_THAT(got[0], StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type")));
  AsyncSubmits first;
  pipeline_->SubmitAsync(Ctx(), Make("a"), first.Callback());
  ASSERT_OK(first.AwaitCount(1)[0].status());
  pipeline_->SubmitAsync(Ctx(), Make("a"), record);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[1], StatusIs(absl::StatusCode::kResourceExhausted));
  SubmitContext unknown;
  unknown.tenant_id = NewUuidV7(clock_.Now());
  pipeline_->SubmitAsync(unknown, Make("a"), record);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_THAT(got[2], StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(PipelineTest, SubmitAsyncDuplicatesReportTheOriginal) {
  ASSERT_OK_AND_ASSIGN(SubmitResult by_content, pipeline_->Submit(Ctx(), Make("a", "x")));
  ASSERT_OK_AND_ASSIGN(SubmitResult by_key, pipeline_->Submit(Ctx("key-1"), Make("a", "y")));
  AsyncSubmits got;
  pipeline_->SubmitAsync(Ctx(), Make("a", "x"), got.Callback());         // same content
  pipeline_->SubmitAsync(Ctx("key-1"), Make("a", "z"), got.Callback());  // same key
  std::vector<absl::StatusOr<SubmitResult>> r = got.AwaitCount(2);
  ASSERT_OK(r[0].status());
  ASSERT_OK(r[1].status());
  EXPECT_TRUE(r[0]->duplicate);
  EXPECT_EQ(r[0]->id, by_content.id);
  EXPECT_TRUE(r[1]->duplicate);
  EXPECT_EQ(r[1]->id, by_key.id);
  EXPECT_EQ(r[1]->status, NotificationStatus::kAccepted);
  EXPECT_EQ(pipeline_->accepted(), 2);
}

TEST_F(PipelineTest, ConcurrentIdenticalAsyncContentIsStoredOnceWithoutBlocking) {
  PipelineOptions options;
  options.rate_limit.enabled = false;
  Reset(options);
  // Submitted back to back: the later ones find the first one's hash claimed
  // and resume once it is committed and remembered.
  constexpr int kSubmits = 50;
  AsyncSubmits got;
  for (int i = 0; i < kSubmits; ++i) {
    pipeline_->SubmitAsync(Ctx(), Make("race", "same content"), got.Callback());
  }
  std::vector<absl::StatusOr<SubmitResult>> r = got.AwaitCount(kSubmits);
  int fresh = 0;
  for (const auto& one : r) {
    ASSERT_OK(one.status());
    if (!one->duplicate) ++fresh;
    EXPECT_EQ(one->id, r.front()->id);
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(pipeline_->accepted(), 1);
}

TEST_F(PipelineTest, ManyAsyncSubmitsAreGroupCommittedAndAllDurable) {
  PipelineOptions options;
  options.rate_limit.enabled = false;
  options.default_dedup_window = absl::ZeroDuration();
  Reset(options);
  constexpr int kSubmits = 2000;
  AsyncSubmits got;
  for (int i = 0; i < kSubmits; ++i) {
    pipeline_->SubmitAsync(Ctx(), Make("load", absl::StrCat(i)), got.Callback());
  }
  std::vector<absl::StatusOr<SubmitResult>> r = got.AwaitCount(kSubmits);
  std::set<std::string> ids;
  for (const auto& one : r) {
    ASSERT_OK(one.status());
    ids.insert(one->id);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kSubmits));
  EXPECT_EQ(pipeline_->committer().rows(), kSubmits);
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, kSubmits);
}

TEST_F(PipelineTest, DestroyingThePipelineFinishesAsyncSubmits) {
  PipelineOptions options;
  options.rate_limit.enabled = false;
  options.default_dedup_window = absl::ZeroDuration();
  Reset(options);
  AsyncSubmits got;
  for (int i = 0; i < 200; ++i) {
    pipeline_->SubmitAsync(Ctx(), Make("load", absl::StrCat(i)), got.Callback());
  }
  pipeline_.reset();
  EXPECT_EQ(got.AwaitCount(200).size(), 200u);  // all called before reset() returned
  ASSERT_OK_AND_ASSIGN(int64_t pending, store_->CountOutboxPending());
  EXPECT_EQ(pending, 200);
}

}  // namespace
}  // namespace alerthub
