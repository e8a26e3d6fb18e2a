#include "alerthub/testing/task_queue_contract.h"

#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "alerthub/common/uuid.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"

namespace alerthub::testing {
namespace {

class OwningTaskQueue final : public TaskQueue {
 public:
  OwningTaskQueue(std::unique_ptr<TaskQueue> queue, std::shared_ptr<void> owner)
      : owner_(std::move(owner)), queue_(std::move(queue)) {}

  absl::Status Enqueue(absl::string_view queue, absl::string_view id,
                       absl::string_view payload, absl::Time available_at) override {
    return queue_->Enqueue(queue, id, payload, available_at);
  }
  absl::StatusOr<std::vector<Task>> Lease(absl::string_view queue, int max,
                                          absl::Duration lease) override {
    return queue_->Lease(queue, max, lease);
  }
  absl::Status Ack(const Task& task) override { return queue_->Ack(task); }
  absl::Status Retry(const Task& task, absl::Time available_at,
                     absl::string_view error) override {
    return queue_->Retry(task, available_at, error);
  }
  absl::Status DeadLetter(const Task& task, absl::string_view reason) override {
    return queue_->DeadLetter(task, reason);
  }
  absl::Status EnqueueMany(absl::Span<const NewTask> tasks) override {
    return queue_->EnqueueMany(tasks);
  }
  std::vector<absl::Status> Settle(absl::Span<const TaskSettlement> settlements) override {
    return queue_->Settle(settlements);
  }
  absl::StatusOr<std::vector<Task>> ListDead(absl::string_view queue, int limit) override {
    return queue_->ListDead(queue, limit);
  }
  absl::Status Replay(absl::string_view queue, absl::string_view id) override {
    return queue_->Replay(queue, id);
  }
  absl::StatusOr<int64_t> Depth(absl::string_view queue) override {
    return queue_->Depth(queue);
  }
  absl::Status Ping() override { return queue_->Ping(); }

 private:
  // Declared first, destroyed last.
  std::shared_ptr<void> owner_;
  std::unique_ptr<TaskQueue> queue_;
};

}  // namespace

std::unique_ptr<TaskQueue> WithOwner(std::unique_ptr<TaskQueue> queue,
                                     std::shared_ptr<void> owner) {
  return std::make_unique<OwningTaskQueue>(std::move(queue), std::move(owner));
}

std::string TaskQueueFactoryName(const ::testing::TestParamInfo<TaskQueueFactory>& info) {
  return info.param.name;
}

void TaskQueueContractTest::SetUp() {
  absl::StatusOr<std::unique_ptr<TaskQueue>> queue = GetParam().open(&clock_);
  ASSERT_TRUE(queue.ok()) << queue.status();
  queue_ = *std::move(queue);
  q_ = QueueName();
}

void TaskQueueContractTest::TearDown() { queue_.reset(); }

std::string TaskQueueContractTest::QueueName(const std::string& suffix) const {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  // A UUIDv7 from the real clock keeps names unique across runs against a
  // shared broker.
  return absl::StrCat("contract.", absl::StrReplaceAll(info->name(), {{"/", "."}}), ".",
                      NewUuidV7(absl::Now()).substr(24), suffix);
}

namespace {

using ::absl::StatusCode;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> IdsOf(const std::vector<Task>& tasks) {
  std::vector<std::string> ids;
  for (const Task& t : tasks) ids.push_back(t.id);
  return ids;
}

// What the port allows when a lease is no longer the caller's.
auto LeaseLost() {
  return AnyOf(StatusIs(StatusCode::kNotFound), StatusIs(StatusCode::kFailedPrecondition));
}

constexpr absl::Duration kLease = absl::Seconds(60);

TaskSettlement AckOf(const Task& task) {
  return {&task, TaskSettlement::Kind::kAck, absl::InfinitePast(), ""};
}
TaskSettlement RetryOf(const Task& task, absl::Time available_at, std::string error) {
  return {&task, TaskSettlement::Kind::kRetry, available_at, std::move(error)};
}
TaskSettlement DeadLetterOf(const Task& task, std::string reason) {
  return {&task, TaskSettlement::Kind::kDeadLetter, absl::InfinitePast(), std::move(reason)};
}

TEST_P(TaskQueueContractTest, PingSucceeds) { EXPECT_OK(queue_->Ping()); }

TEST_P(TaskQueueContractTest, LeaseReturnsTheEnqueuedTask) {
  const absl::Time now = clock_.Now();
  ASSERT_OK(queue_->Enqueue(q_, "delivery-1", R"({"url":"https://example.com"})", now));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(tasks, SizeIs(1));
  EXPECT_EQ(tasks[0].queue, q_);
  EXPECT_EQ(tasks[0].id, "delivery-1");
  EXPECT_EQ(tasks[0].payload, R"({"url":"https://example.com"})");
  EXPECT_EQ(tasks[0].attempts, 0);
  EXPECT_EQ(tasks[0].available_at, now);
  EXPECT_EQ(tasks[0].last_error, "");
}

TEST_P(TaskQueueContractTest, LeaseOfAnEmptyQueueIsEmpty) {
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(tasks, IsEmpty());
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 0);
}

TEST_P(TaskQueueContractTest, PayloadIsByteExact) {
  constexpr char kBytes[] = "bin\0ary\xff\xfe\n\"quoted\"";
  const std::string payload(kBytes, sizeof(kBytes) - 1);
  ASSERT_OK(queue_->Enqueue(q_, "t1", payload, clock_.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(tasks, SizeIs(1));
  EXPECT_EQ(tasks[0].payload, payload);
}

TEST_P(TaskQueueContractTest, EnqueueIsIdempotentInEveryState) {
  ASSERT_OK(queue_->Enqueue(q_, "t1", "first", clock_.Now()));
  // Ready: a second enqueue changes nothing, not even the payload or time.
  ASSERT_OK(queue_->Enqueue(q_, "t1", "second", clock_.Now() + absl::Hours(1)));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(tasks, SizeIs(1));
  EXPECT_EQ(tasks[0].payload, "first");

  // Leased: still one task, still leased.
  ASSERT_OK(queue_->Enqueue(q_, "t1", "third", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> none, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(none, IsEmpty());

  // Dead: stays dead.
  ASSERT_OK(queue_->DeadLetter(tasks[0], "gone"));
  ASSERT_OK(queue_->Enqueue(q_, "t1", "fourth", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 0);
  ASSERT_OK_AND_ASSIGN(none, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<Task> dead, queue_->ListDead(q_, 10));
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_EQ(dead[0].payload, "first");
}

TEST_P(TaskQueueContractTest, DelayedTaskIsLeasableOnlyOnceAvailable) {
  const absl::Time at = clock_.Now() + absl::Seconds(10);
  ASSERT_OK(queue_->Enqueue(q_, "later", "p", at));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(tasks, IsEmpty());
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);  // waiting tasks count

  clock_.Advance(absl::Seconds(9));
  ASSERT_OK_AND_ASSIGN(tasks, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(tasks, IsEmpty());
  clock_.Advance(absl::Seconds(2));
  ASSERT_OK_AND_ASSIGN(tasks, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(tasks), ElementsAre("later"));
  EXPECT_EQ(tasks[0].available_at, at);
}

TEST_P(TaskQueueContractTest, LeaseIsOldestFirstAndHonoursMax) {
  const absl::Time now = clock_.Now();
  ASSERT_OK(queue_->Enqueue(q_, "c", "p", now - absl::Seconds(3)));
  ASSERT_OK(queue_->Enqueue(q_, "a", "p", now - absl::Seconds(1)));
  ASSERT_OK(queue_->Enqueue(q_, "b", "p", now - absl::Seconds(2)));
  ASSERT_OK(queue_->Enqueue(q_, "future", "p", now + absl::Seconds(1)));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> first, queue_->Lease(q_, 2, kLease));
  EXPECT_THAT(IdsOf(first), ElementsAre("c", "b"));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> second, queue_->Lease(q_, 2, kLease));
  EXPECT_THAT(IdsOf(second), ElementsAre("a"));
}

TEST_P(TaskQueueContractTest, LeasedTaskIsInvisibleUntilTheLeaseEnds) {
  ASSERT_OK(queue_->Enqueue(q_, "t1", "p", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> first, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(first, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> none, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(none, IsEmpty());
  clock_.Advance(kLease - absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(none, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);  // leased tasks count
}

TEST_P(TaskQueueContractTest, ExpiredLeaseMakesTheTaskLeasableWithOneMoreAttempt) {
  ASSERT_OK(queue_->Enqueue(q_, "t1", "p", clock_.Now()));
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
    ASSERT_THAT(tasks, SizeIs(1)) << attempt;
    EXPECT_EQ(tasks[0].id, "t1");
    EXPECT_EQ(tasks[0].attempts, attempt);
    EXPECT_EQ(tasks[0].payload, "p");
    clock_.Advance(kLease + absl::Seconds(1));
  }
}

TEST_P(TaskQueueContractTest, AckRemovesTheTask) {
  ASSERT_OK(queue_->Enqueue(q_, "t1", "p", clock_.Now()));
  ASSERT_OK(queue_->Enqueue(q_, "t2", "p", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(IdsOf(tasks), ElementsAre("t1"));
  ASSERT_OK(queue_->Ack(tasks[0]));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);
  clock_.Advance(kLease * 2);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> rest, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(IdsOf(rest), ElementsAre("t2"));
  // Acking the same lease twice: the task is gone.
  EXPECT_THAT(queue_->Ack(tasks[0]), LeaseLost());
}

TEST_P(TaskQueueContractTest, AnExpiredLeaseTakenOverByAnotherConsumerIsRejected) {
  ASSERT_OK(queue_->Enqueue(q_, "t1", "p", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> mine, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(mine, SizeIs(1));
  clock_.Advance(kLease + absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> theirs, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(theirs, SizeIs(1));
  EXPECT_EQ(theirs[0].attempts, 1);

  EXPECT_THAT(queue_->Ack(mine[0]), LeaseLost());
  EXPECT_THAT(queue_->Retry(mine[0], clock_.Now(), "late"), LeaseLost());
  EXPECT_THAT(queue_->DeadLetter(mine[0], "late"), LeaseLost());
  // The current holder is unaffected.
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);
  ASSERT_OK(queue_->Ack(theirs[0]));
  ASSERT_OK_AND_ASSIGN(depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 0);
}

TEST_P(TaskQueueContractTest, RetryMakesTheTaskAvailableLaterWithItsError) {
  ASSERT_OK(queue_->Enqueue(q_, "t1", "p", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(tasks, SizeIs(1));
  const absl::Time again = clock_.Now() + absl::Seconds(5);
  ASSERT_OK(queue_->Retry(tasks[0], again, "503 Service Unavailable"));

  ASSERT_OK_AND_ASSIGN(std::vector<Task> none, queue_->Lease(q_, 1, kLease));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);

  clock_.Advance(absl::Seconds(6));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> retried, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(retried, SizeIs(1));
  EXPECT_EQ(retried[0].id, "t1");
  EXPECT_EQ(retried[0].payload, "p");
  EXPECT_EQ(retried[0].attempts, 1);
  EXPECT_EQ(retried[0].available_at, again);
  EXPECT_EQ(retried[0].last_error, "503 Service Unavailable");
  // The old lease ended with the retry.
  EXPECT_THAT(queue_->Ack(tasks[0]), LeaseLost());
  ASSERT_OK(queue_->Ack(retried[0]));
}

TEST_P(TaskQueueContractTest, DeadLetterListDeadAndReplay) {
  ASSERT_OK(queue_->Enqueue(q_, "t1", "p1", clock_.Now()));
  ASSERT_OK(queue_->Enqueue(q_, "t2", "p2", clock_.Now()));
  ASSERT_OK(queue_->Enqueue(q_, "t3", "p3", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(tasks), ElementsAre("t1", "t2", "t3"));

  ASSERT_OK(queue_->DeadLetter(tasks[1], "410 Gone"));
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(queue_->DeadLetter(tasks[0], "400 Bad Request"));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);  // only t3, still leased

  ASSERT_OK_AND_ASSIGN(std::vector<Task> dead, queue_->ListDead(q_, 10));
  ASSERT_THAT(IdsOf(dead), ElementsAre("t2", "t1"));  // oldest first
  EXPECT_EQ(dead[0].queue, q_);
  EXPECT_EQ(dead[0].payload, "p2");
  EXPECT_EQ(dead[0].last_error, "410 Gone");
  EXPECT_EQ(dead[1].last_error, "400 Bad Request");
  ASSERT_OK_AND_ASSIGN(std::vector<Task> first_dead, queue_->ListDead(q_, 1));
  EXPECT_THAT(IdsOf(first_dead), ElementsAre("t2"));

  // Dead tasks are never leased, whatever the clock says.
  clock_.Advance(absl::Hours(24));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> leased, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(IdsOf(leased), ElementsAre("t3"));  // its lease expired
  ASSERT_OK(queue_->Ack(leased[0]));

  ASSERT_OK(queue_->Replay(q_, "t2"));
  ASSERT_OK_AND_ASSIGN(depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);
  ASSERT_OK_AND_ASSIGN(dead, queue_->ListDead(q_, 10));
  EXPECT_THAT(IdsOf(dead), ElementsAre("t1"));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> replayed, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(replayed), ElementsAre("t2"));
  EXPECT_EQ(replayed[0].payload, "p2");
  EXPECT_EQ(replayed[0].attempts, 0);  // reset by Replay
  EXPECT_LE(replayed[0].available_at, clock_.Now());
}

TEST_P(TaskQueueContractTest, ReplayOfAnUnknownOrLiveTaskIsNotFound) {
  EXPECT_THAT(queue_->Replay(q_, "nope"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(queue_->Enqueue(q_, "t1", "p", clock_.Now()));
  EXPECT_THAT(queue_->Replay(q_, "t1"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(tasks, SizeIs(1));
  EXPECT_THAT(queue_->Replay(q_, "t1"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(queue_->Ack(tasks[0]));
}

TEST_P(TaskQueueContractTest, DepthCountsReadyAndLeasedTasksButNotDeadOnes) {
  const absl::Time now = clock_.Now();
  ASSERT_OK(queue_->Enqueue(q_, "ready", "p", now));
  ASSERT_OK(queue_->Enqueue(q_, "waiting", "p", now + absl::Hours(1)));
  ASSERT_OK(queue_->Enqueue(q_, "leased", "p", now - absl::Seconds(1)));
  ASSERT_OK(queue_->Enqueue(q_, "dead", "p", now - absl::Seconds(2)));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 4);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 2, kLease));
  ASSERT_THAT(IdsOf(tasks), ElementsAre("dead", "leased"));
  ASSERT_OK(queue_->DeadLetter(tasks[0], "permanent"));
  ASSERT_OK_AND_ASSIGN(depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 3);
  ASSERT_OK(queue_->Ack(tasks[1]));
  ASSERT_OK_AND_ASSIGN(depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 2);
}

TEST_P(TaskQueueContractTest, QueuesAreIndependent) {
  const std::string other = QueueName(".other");
  ASSERT_OK(queue_->Enqueue(q_, "same-id", "mine", clock_.Now()));
  ASSERT_OK(queue_->Enqueue(other, "same-id", "theirs", clock_.Now()));
  ASSERT_OK(queue_->Enqueue(other, "t2", "theirs", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 1);
  ASSERT_OK_AND_ASSIGN(depth, queue_->Depth(other));
  EXPECT_EQ(depth, 2);

  ASSERT_OK_AND_ASSIGN(std::vector<Task> mine, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(mine, SizeIs(1));
  EXPECT_EQ(mine[0].queue, q_);
  EXPECT_EQ(mine[0].payload, "mine");
  ASSERT_OK(queue_->DeadLetter(mine[0], "x"));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> other_dead, queue_->ListDead(other, 10));
  EXPECT_THAT(other_dead, IsEmpty());
  EXPECT_THAT(queue_->Replay(other, "same-id"), StatusIs(StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(std::vector<Task> theirs, queue_->Lease(other, 10, kLease));
  EXPECT_THAT(IdsOf(theirs), ElementsAre("same-id", "t2"));
  for (const Task& t : theirs) {
    EXPECT_EQ(t.queue, other);
    ASSERT_OK(queue_->Ack(t));
  }
}

TEST_P(TaskQueueContractTest, EnqueueManyAddsTasksOfSeveralQueues) {
  ASSERT_OK(queue_->EnqueueMany({}));
  const std::string other = QueueName(".other");
  const absl::Time now = clock_.Now();
  const std::vector<NewTask> tasks = {
      {.queue = q_, .id = "a", .payload = "pa", .available_at = now - absl::Seconds(2)},
      {.queue = other, .id = "x", .payload = "px", .available_at = now - absl::Seconds(1)},
      {.queue = q_, .id = "b", .payload = "pb", .available_at = now - absl::Seconds(1)},
  };
  ASSERT_OK(queue_->EnqueueMany(tasks));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 2);
  ASSERT_OK_AND_ASSIGN(depth, queue_->Depth(other));
  EXPECT_EQ(depth, 1);

  ASSERT_OK_AND_ASSIGN(std::vector<Task> mine, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(mine), ElementsAre("a", "b"));
  EXPECT_EQ(mine[0].queue, q_);
  EXPECT_EQ(mine[0].payload, "pa");
  EXPECT_EQ(mine[0].available_at, now - absl::Seconds(2));
  EXPECT_EQ(mine[0].attempts, 0);
  EXPECT_EQ(mine[1].payload, "pb");
  ASSERT_OK_AND_ASSIGN(std::vector<Task> theirs, queue_->Lease(other, 10, kLease));
  ASSERT_THAT(IdsOf(theirs), ElementsAre("x"));
  EXPECT_EQ(theirs[0].queue, other);
  EXPECT_EQ(theirs[0].payload, "px");
  EXPECT_EQ(theirs[0].available_at, now - absl::Seconds(1));
  for (const Task& t : mine) ASSERT_OK(queue_->Ack(t));
  ASSERT_OK(queue_->Ack(theirs[0]));
}

TEST_P(TaskQueueContractTest, EnqueueManyIsIdempotentWithExistingTasks) {
  const absl::Time now = clock_.Now();
  ASSERT_OK(queue_->Enqueue(q_, "leased", "first", now - absl::Seconds(3)));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> leased, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(IdsOf(leased), ElementsAre("leased"));
  ASSERT_OK(queue_->Enqueue(q_, "dead", "first", now - absl::Seconds(2)));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> dead, queue_->Lease(q_, 1, kLease));
  ASSERT_THAT(IdsOf(dead), ElementsAre("dead"));
  ASSERT_OK(queue_->DeadLetter(dead[0], "gone"));
  ASSERT_OK(queue_->Enqueue(q_, "ready", "first", now - absl::Seconds(1)));

  // Existing tasks keep payload, time and state; of two new ones with the
  // same id the first is added.
  ASSERT_OK(queue_->EnqueueMany(std::vector<NewTask>{
      {.queue = q_, .id = "leased", .payload = "second", .available_at = now},
      {.queue = q_, .id = "dead", .payload = "second", .available_at = now},
      {.queue = q_, .id = "ready", .payload = "second", .available_at = now + absl::Hours(1)},
      {.queue = q_, .id = "new", .payload = "first", .available_at = now},
      {.queue = q_, .id = "new", .payload = "second", .available_at = now},
  }));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 3);  // leased, ready, new
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(tasks), ElementsAre("ready", "new"));
  EXPECT_EQ(tasks[0].payload, "first");
  EXPECT_EQ(tasks[0].available_at, now - absl::Seconds(1));
  EXPECT_EQ(tasks[1].payload, "first");
  ASSERT_OK_AND_ASSIGN(std::vector<Task> still_dead, queue_->ListDead(q_, 10));
  ASSERT_THAT(IdsOf(still_dead), ElementsAre("dead"));
  EXPECT_EQ(still_dead[0].payload, "first");
  // The lease taken before the batch is still the holder's.
  ASSERT_OK(queue_->Ack(leased[0]));
  for (const Task& t : tasks) ASSERT_OK(queue_->Ack(t));
}

TEST_P(TaskQueueContractTest, EnqueueManyRejectsAnEmptyQueueOrId) {
  const absl::Time now = clock_.Now();
  // A bad first task: nothing is added.
  EXPECT_THAT(queue_->EnqueueMany(std::vector<NewTask>{
                  {.queue = q_, .id = "", .payload = "p", .available_at = now},
                  {.queue = q_, .id = "ok", .payload = "p", .available_at = now},
              }),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 0);
  // A bad later task: the port lets an adapter have added the ones before
  // it (the SQL adapters add none).
  EXPECT_THAT(queue_->EnqueueMany(std::vector<NewTask>{
                  {.queue = q_, .id = "ok", .payload = "p", .available_at = now},
                  {.queue = "", .id = "x", .payload = "p", .available_at = now},
              }),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(TaskQueueContractTest, SettleAcksRetriesAndDeadLettersInOneCall) {
  EXPECT_THAT(queue_->Settle({}), IsEmpty());
  const absl::Time now = clock_.Now();
  for (const char* id : {"t1", "t2", "t3", "t4"}) {
    ASSERT_OK(queue_->Enqueue(q_, id, absl::StrCat("p", id), now));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(tasks), ElementsAre("t1", "t2", "t3", "t4"));

  const std::vector<absl::Status> settled = queue_->Settle(std::vector<TaskSettlement>{
      AckOf(tasks[0]),
      RetryOf(tasks[1], now, "503 Service Unavailable"),
      RetryOf(tasks[2], now + absl::Hours(1), "429 Too Many Requests"),
      DeadLetterOf(tasks[3], "410 Gone"),
  });
  EXPECT_THAT(settled, ElementsAre(IsOk(), IsOk(), IsOk(), IsOk()));

  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 2);  // t2 ready again, t3 waiting
  // Only t2 is available now, one attempt later and with its error; t3
  // waits for its time (SettleRetryIsLeasableOnceAvailable).
  ASSERT_OK_AND_ASSIGN(std::vector<Task> again, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(again), ElementsAre("t2"));
  EXPECT_EQ(again[0].payload, "pt2");
  EXPECT_EQ(again[0].attempts, 1);
  EXPECT_EQ(again[0].available_at, now);
  EXPECT_EQ(again[0].last_error, "503 Service Unavailable");
  ASSERT_OK_AND_ASSIGN(std::vector<Task> dead, queue_->ListDead(q_, 10));
  ASSERT_THAT(IdsOf(dead), ElementsAre("t4"));
  EXPECT_EQ(dead[0].payload, "pt4");
  EXPECT_EQ(dead[0].last_error, "410 Gone");
  // Every lease settled in the batch has ended.
  for (const Task& t : tasks) EXPECT_THAT(queue_->Ack(t), LeaseLost()) << t.id;
  ASSERT_OK(queue_->Ack(again[0]));
}

TEST_P(TaskQueueContractTest, SettleRetryIsLeasableOnceAvailable) {
  ASSERT_OK(queue_->Enqueue(q_, "done", "p", clock_.Now()));
  ASSERT_OK(queue_->Enqueue(q_, "later", "p", clock_.Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(tasks), ElementsAre("done", "later"));
  const absl::Time at = clock_.Now() + absl::Seconds(5);
  EXPECT_THAT(queue_->Settle(std::vector<TaskSettlement>{
                  AckOf(tasks[0]),
                  RetryOf(tasks[1], at, "timeout"),
              }),
              ElementsAre(IsOk(), IsOk()));

  ASSERT_OK_AND_ASSIGN(std::vector<Task> none, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(none, IsEmpty());
  clock_.Advance(absl::Seconds(4));
  ASSERT_OK_AND_ASSIGN(none, queue_->Lease(q_, 10, kLease));
  EXPECT_THAT(none, IsEmpty());
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> retried, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(retried), ElementsAre("later"));
  EXPECT_EQ(retried[0].attempts, 1);
  EXPECT_EQ(retried[0].available_at, at);
  EXPECT_EQ(retried[0].last_error, "timeout");
  ASSERT_OK(queue_->Ack(retried[0]));
}

TEST_P(TaskQueueContractTest, SettleFailsOnlyTheSlotsWhoseLeaseIsLost) {
  const absl::Time now = clock_.Now();
  for (const char* id : {"t1", "t2", "t3", "t4"}) {
    ASSERT_OK(queue_->Enqueue(q_, id, "p", now));
  }
  // t1 under a short lease that another consumer takes over; t4 acked.
  ASSERT_OK_AND_ASSIGN(std::vector<Task> short_lease, queue_->Lease(q_, 1, absl::Seconds(10)));
  ASSERT_THAT(IdsOf(short_lease), ElementsAre("t1"));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(tasks), ElementsAre("t2", "t3", "t4"));
  ASSERT_OK(queue_->Ack(tasks[2]));
  clock_.Advance(absl::Seconds(11));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> theirs, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(theirs), ElementsAre("t1"));

  const std::vector<absl::Status> settled = queue_->Settle(std::vector<TaskSettlement>{
      AckOf(short_lease[0]),
      RetryOf(tasks[0], clock_.Now(), "e"),
      AckOf(tasks[2]),
      DeadLetterOf(tasks[1], "r"),
  });
  ASSERT_THAT(settled, ElementsAre(LeaseLost(), IsOk(), LeaseLost(), IsOk()));
  // The same codes as Ack gives those leases (a lost lease changes nothing).
  EXPECT_EQ(queue_->Ack(short_lease[0]).code(), settled[0].code());
  EXPECT_EQ(queue_->Ack(tasks[2]).code(), settled[2].code());

  // The other consumer still holds t1; the rest of the batch took effect.
  ASSERT_OK(queue_->Ack(theirs[0]));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> retried, queue_->Lease(q_, 10, kLease));
  ASSERT_THAT(IdsOf(retried), ElementsAre("t2"));
  EXPECT_EQ(retried[0].attempts, 1);
  EXPECT_EQ(retried[0].last_error, "e");
  ASSERT_OK_AND_ASSIGN(std::vector<Task> dead, queue_->ListDead(q_, 10));
  ASSERT_THAT(IdsOf(dead), ElementsAre("t3"));
  EXPECT_EQ(dead[0].last_error, "r");
  ASSERT_OK(queue_->Ack(retried[0]));
}

TEST_P(TaskQueueContractTest, ConcurrentConsumersNeverShareATask) {
  constexpr int kTasks = 200;
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_OK(queue_->Enqueue(q_, absl::StrCat("t", i), "p", clock_.Now()));
  }
  constexpr int kConsumers = 4;
  absl::Mutex mu;
  std::vector<std::string> seen;
  absl::Status error;
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&] {
      while (true) {
        absl::StatusOr<std::vector<Task>> tasks = queue_->Lease(q_, 5, absl::Hours(1));
        if (!tasks.ok()) {
          absl::MutexLock lock(&mu);
          error = tasks.status();
          return;
        }
        if (tasks->empty()) return;
        for (const Task& t : *tasks) {
          absl::Status acked = queue_->Ack(t);
          absl::MutexLock lock(&mu);
          if (!acked.ok()) error = acked;
          seen.push_back(t.id);
        }
      }
    });
  }
  for (std::thread& th : consumers) th.join();
  EXPECT_OK(error);
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(unique.size(), static_cast<size_t>(kTasks));
  ASSERT_OK_AND_ASSIGN(int64_t depth, queue_->Depth(q_));
  EXPECT_EQ(depth, 0);
}

}  // namespace

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TaskQueueContractTest);

}  // namespace alerthub::testing
