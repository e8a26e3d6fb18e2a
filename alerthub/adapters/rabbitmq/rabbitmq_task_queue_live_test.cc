// The amqp:// TaskQueue against a live RabbitMQ (ALERTHUB_TEST_AMQP_URL, from
// tools/services.sh): the TaskQueue contract suite (minus the cases listed
// in BUILD.bazel), what AMQP does instead of them, and recovery when the
// connection or a channel fails.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/rabbitmq/rabbitmq_task_queue.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/task_queue_contract.h"
#include "gtest/gtest.h"
#include "tests/live/live_env.h"
#include "tests/live/tcp_proxy.h"

namespace alerthub {
namespace {

using ::alerthub::testing::LiveServerUrl;
using ::alerthub::testing::StatusIs;
using ::alerthub::testing::TaskQueueContractTest;
using ::alerthub::testing::TaskQueueFactory;
using ::alerthub::testing::TaskQueueFactoryName;
using ::alerthub::testing::TcpProxy;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Test queues remove themselves from the shared broker after 10 idle minutes.
absl::StatusOr<AmqpTaskQueueOptions> LiveOptions(Clock* clock) {
  absl::StatusOr<std::string> url = LiveServerUrl("ALERTHUB_TEST_AMQP_URL");
  if (!url.ok()) return url.status();
  absl::StatusOr<AmqpTaskQueueOptions> options = AmqpTaskQueueOptionsFromUrl(*url);
  if (!options.ok()) return options.status();
  options->clock = clock;
  options->queue_expires = absl::Minutes(10);
  return options;
}

absl::StatusOr<std::unique_ptr<TaskQueue>> OpenLive(Clock* clock) {
  absl::StatusOr<AmqpTaskQueueOptions> options = LiveOptions(clock);
  if (!options.ok()) return options.status();
  return OpenAmqpTaskQueue(*options);
}

INSTANTIATE_TEST_SUITE_P(Amqp, TaskQueueContractTest,
                         ::testing::Values(TaskQueueFactory{
                             "amqp", [](SimulatedClock* clock) { return OpenLive(clock); }}),
                         TaskQueueFactoryName);

std::string UniqueQueue(absl::string_view what) {
  return absl::StrCat("live.", what, ".", absl::ToUnixNanos(absl::Now()));
}

std::vector<std::string> IdsOf(const std::vector<Task>& tasks) {
  std::vector<std::string> ids;
  for (const Task& t : tasks) ids.push_back(t.id);
  return ids;
}

// Leases from `q` until something comes or `timeout` passes.
std::vector<Task> LeaseWithin(TaskQueue& q, const std::string& queue, absl::Duration timeout,
                              absl::Duration lease = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::vector<Task>> tasks = q.Lease(queue, 10, lease);
    EXPECT_OK(tasks.status());
    if (!tasks.ok() || !tasks->empty() || absl::Now() > deadline) {
      return tasks.ok() ? *tasks : std::vector<Task>();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// Replaces EnqueueIsIdempotentInEveryState: AMQP keeps no index of ids, so
// the second enqueue is a second task (the worker's claim in the store is
// what drops the duplicate).
TEST(AmqpTaskQueueLiveTest, EnqueueOfAKnownIdQueuesADuplicate) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, OpenLive(Clock::Real()));
  const std::string queue = UniqueQueue("dup");
  ASSERT_OK(q->Enqueue(queue, "t1", "first", absl::Now()));
  ASSERT_OK(q->Enqueue(queue, "t1", "second", absl::Now()));
  ASSERT_OK_AND_ASSIGN(int64_t depth, q->Depth(queue));
  EXPECT_EQ(depth, 2);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, q->Lease(queue, 10, absl::Seconds(60)));
  EXPECT_THAT(IdsOf(tasks), ElementsAre("t1", "t1"));
}

// Replaces LeaseIsOldestFirstAndHonoursMax: FIFO in the order tasks became
// ready, whatever their (backdated) available_at.
TEST(AmqpTaskQueueLiveTest, LeaseOrderIsTheOrderTasksBecameReady) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, OpenLive(Clock::Real()));
  const std::string queue = UniqueQueue("fifo");
  const absl::Time now = absl::Now();
  ASSERT_OK(q->Enqueue(queue, "c", "p", now - absl::Seconds(3)));
  ASSERT_OK(q->Enqueue(queue, "a", "p", now - absl::Seconds(1)));
  ASSERT_OK(q->Enqueue(queue, "b", "p", now - absl::Seconds(2)));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> first, q->Lease(queue, 2, absl::Seconds(60)));
  EXPECT_THAT(IdsOf(first), ElementsAre("c", "a"));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> second, q->Lease(queue, 2, absl::Seconds(60)));
  EXPECT_THAT(IdsOf(second), ElementsAre("b"));
  EXPECT_EQ(second[0].available_at, now - absl::Seconds(2));
}

// Replaces DelayedTaskIsLeasableOnlyOnceAvailable on the real clock: the
// delay queues release the task, never before available_at.
TEST(AmqpTaskQueueLiveTest, DelayedTaskComesOutOfTheDelayQueuesOnTime) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, OpenLive(Clock::Real()));
  const std::string queue = UniqueQueue("delay");
  const absl::Time at = absl::Now() + absl::Milliseconds(1500);  // 800 + 400 + 200 + 100 ms
  ASSERT_OK(q->Enqueue(queue, "later", "p", at));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> none, q->Lease(queue, 10, absl::Seconds(60)));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK_AND_ASSIGN(int64_t depth, q->Depth(queue));
  EXPECT_EQ(depth, 1);  // waiting in a delay queue
  std::vector<Task> tasks = LeaseWithin(*q, queue, absl::Seconds(10));
  const absl::Time leased_at = absl::Now();
  ASSERT_THAT(IdsOf(tasks), ElementsAre("later"));
  EXPECT_GE(leased_at, at);
  EXPECT_LT(leased_at, at + absl::Seconds(2));
  EXPECT_EQ(tasks[0].available_at, at);
  EXPECT_EQ(tasks[0].attempts, 0);
}

// EnqueueMany publishes ready and delayed tasks of several queues with one
// wait for their confirms; each lands where Enqueue would put it.
TEST(AmqpTaskQueueLiveTest, EnqueueManyPublishesReadyAndDelayedTasksTogether) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, OpenLive(Clock::Real()));
  const std::string a = UniqueQueue("many-a");
  const std::string b = UniqueQueue("many-b");
  const absl::Time now = absl::Now();
  const absl::Time later = now + absl::Milliseconds(1500);
  std::vector<NewTask> tasks = {{a, "a1", "p1", now},
                                {b, "b1", "p2", now},
                                {a, "a-later", "p3", later},
                                {a, "a2", "p4", now}};
  ASSERT_OK(q->EnqueueMany(tasks));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> ready_a, q->Lease(a, 10, absl::Seconds(60)));
  EXPECT_THAT(IdsOf(ready_a), ElementsAre("a1", "a2"));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> ready_b, q->Lease(b, 10, absl::Seconds(60)));
  ASSERT_THAT(IdsOf(ready_b), ElementsAre("b1"));
  EXPECT_EQ(ready_b[0].payload, "p2");
  std::vector<Task> delayed = LeaseWithin(*q, a, absl::Seconds(10));
  ASSERT_THAT(IdsOf(delayed), ElementsAre("a-later"));
  EXPECT_GE(absl::Now(), later);
  EXPECT_THAT(q->EnqueueMany(std::vector<NewTask>{{a, "", "p", now}}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("tasks[0].id")));
}

// Replaces RetryMakesTheTaskAvailableLaterWithItsError on the real clock.
TEST(AmqpTaskQueueLiveTest, RetryComesBackLaterWithItsErrorAndOneMoreAttempt) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, OpenLive(Clock::Real()));
  const std::string queue = UniqueQueue("retry");
  ASSERT_OK(q->Enqueue(queue, "t1", "p", absl::Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, q->Lease(queue, 1, absl::Seconds(60)));
  ASSERT_THAT(tasks, SizeIs(1));
  const absl::Time again = absl::Now() + absl::Seconds(1);
  ASSERT_OK(q->Retry(tasks[0], again, "503 Service Unavailable"));
  EXPECT_THAT(q->Ack(tasks[0]), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> none, q->Lease(queue, 1, absl::Seconds(60)));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK_AND_ASSIGN(int64_t depth, q->Depth(queue));
  EXPECT_EQ(depth, 1);
  std::vector<Task> retried = LeaseWithin(*q, queue, absl::Seconds(10));
  EXPECT_GE(absl::Now(), again);
  ASSERT_THAT(retried, SizeIs(1));
  EXPECT_EQ(retried[0].attempts, 1);
  EXPECT_EQ(retried[0].available_at, again);
  EXPECT_EQ(retried[0].last_error, "503 Service Unavailable");
  ASSERT_OK(q->Ack(retried[0]));
}

// Another process (another adapter) sees a task whose lease ran out, even
// when the holder never calls again: the holder's adapter releases it.
TEST(AmqpTaskQueueLiveTest, ExpiredLeaseIsReleasedToOtherConsumers) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> holder, OpenLive(Clock::Real()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> other, OpenLive(Clock::Real()));
  const std::string queue = UniqueQueue("expiry");
  ASSERT_OK(holder->Enqueue(queue, "t1", "p", absl::Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> mine, holder->Lease(queue, 1, absl::Milliseconds(500)));
  ASSERT_THAT(mine, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> none, other->Lease(queue, 1, absl::Seconds(60)));
  EXPECT_THAT(none, IsEmpty());
  std::vector<Task> theirs = LeaseWithin(*other, queue, absl::Seconds(5));
  ASSERT_THAT(theirs, SizeIs(1));
  EXPECT_EQ(theirs[0].id, "t1");
  EXPECT_EQ(theirs[0].attempts, 1);
  EXPECT_THAT(holder->Ack(mine[0]), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(other->Ack(theirs[0]));
  ASSERT_OK_AND_ASSIGN(int64_t depth, other->Depth(queue));
  EXPECT_EQ(depth, 0);
}

// A worker may hold a lease for longer than the broker waits for heartbeats
// (twice the negotiated interval): the adapter's own thread keeps the idle
// connection, and with it the lease, alive.
TEST(AmqpTaskQueueLiveTest, IdleConnectionKeepsItsLeasesThroughHeartbeats) {
  ASSERT_OK_AND_ASSIGN(AmqpTaskQueueOptions options, LiveOptions(Clock::Real()));
  options.heartbeat = absl::Seconds(1);
  options.connections = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, OpenAmqpTaskQueue(options));
  const std::string queue = UniqueQueue("heartbeat");
  ASSERT_OK(q->Enqueue(queue, "t1", "p", absl::Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, q->Lease(queue, 1, absl::Seconds(60)));
  ASSERT_THAT(tasks, SizeIs(1));
  absl::SleepFor(absl::Seconds(4));  // no calls: only heartbeats on the wire
  ASSERT_OK(q->Ack(tasks[0]));
  ASSERT_OK_AND_ASSIGN(int64_t depth, q->Depth(queue));
  EXPECT_EQ(depth, 0);
}

// The broker through a proxy the test can cut.
class AmqpOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(AmqpTaskQueueOptions options, LiveOptions(Clock::Real()));
    ASSERT_OK_AND_ASSIGN(proxy_, TcpProxy::Start(options.host, options.port));
    options.host = "127.0.0.1";
    options.port = proxy_->port();
    options.connections = 1;
    options.command_timeout = absl::Seconds(2);
    options.max_backoff = absl::Milliseconds(400);
    ASSERT_OK_AND_ASSIGN(q_, OpenAmqpTaskQueue(options));
    queue_ = UniqueQueue("outage");
  }

  std::unique_ptr<TcpProxy> proxy_;
  std::unique_ptr<TaskQueue> q_;
  std::string queue_;
};

TEST_F(AmqpOutageTest, DroppedConnectionReturnsLeasesAndRecovers) {
  ASSERT_OK(q_->Enqueue(queue_, "t1", "p1", absl::Now()));
  ASSERT_OK(q_->Enqueue(queue_, "t2", "p2", absl::Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> leased, q_->Lease(queue_, 1, absl::Seconds(60)));
  ASSERT_THAT(IdsOf(leased), ElementsAre("t1"));

  proxy_->SeverAll();  // the connection drops; the broker takes t1 back
  // Ping (or the adapter's once-a-second poll) notices and reconnects. (An
  // Ack sent before that would be written into the dead socket and lost:
  // basic.ack has no answer, so the task would come back all the same.)
  ASSERT_OK(q_->Ping());
  // The lease died with the connection: reported as such.
  EXPECT_THAT(q_->Ack(leased[0]),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("connection to RabbitMQ was replaced")));

  // The next calls reconnect; t1 is back, one attempt on.
  std::vector<Task> again;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (again.size() < 2 && absl::Now() < deadline) {
    absl::StatusOr<std::vector<Task>> tasks = q_->Lease(queue_, 10, absl::Seconds(60));
    if (tasks.ok()) again.insert(again.end(), tasks->begin(), tasks->end());
    if (again.size() < 2) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_THAT(IdsOf(again), ElementsAre("t1", "t2"));
  EXPECT_EQ(again[0].attempts, 1);
  EXPECT_EQ(again[0].payload, "p1");
  EXPECT_EQ(again[1].attempts, 0);
  for (const Task& t : again) ASSERT_OK(q_->Ack(t));
  ASSERT_OK_AND_ASSIGN(int64_t depth, q_->Depth(queue_));
  EXPECT_EQ(depth, 0);
}

TEST_F(AmqpOutageTest, UnreachableBrokerIsUnavailableUntilItReturns) {
  ASSERT_OK(q_->Ping());
  ASSERT_OK(proxy_->SetAccepting(false));
  proxy_->SeverAll();
  const absl::Time start = absl::Now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(q_->Enqueue(queue_, absl::StrCat("t", i), "p", absl::Now()),
                StatusIs(absl::StatusCode::kUnavailable));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // the backoff answers at once
  ASSERT_OK(proxy_->SetAccepting(true));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::Status s;
  while (!(s = q_->Enqueue(queue_, "after", "p", absl::Now())).ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_OK(s);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks, q_->Lease(queue_, 10, absl::Seconds(60)));
  EXPECT_THAT(IdsOf(tasks), ElementsAre("after"));
}

// A channel error (here: declaring a queue that exists with other arguments)
// closes only the channel; the adapter reopens it and carries on, and the
// leases fetched on the old channel are reported lost.
TEST(AmqpTaskQueueLiveTest, ChannelErrorIsRecovered) {
  ASSERT_OK_AND_ASSIGN(AmqpTaskQueueOptions options, LiveOptions(Clock::Real()));
  options.connections = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, OpenAmqpTaskQueue(options));
  options.queue_expires = absl::Minutes(11);  // a different x-expires
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> other, OpenAmqpTaskQueue(options));

  const std::string queue = UniqueQueue("channel");
  const std::string conflicting = UniqueQueue("conflict");
  ASSERT_OK(other->Enqueue(conflicting, "x", "p", absl::Now()));
  ASSERT_OK(q->Enqueue(queue, "t1", "p", absl::Now()));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> leased, q->Lease(queue, 1, absl::Seconds(60)));
  ASSERT_THAT(leased, SizeIs(1));

  EXPECT_THAT(q->Enqueue(conflicting, "y", "p", absl::Now()),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("x-expires")));
  EXPECT_THAT(q->Ack(leased[0]), StatusIs(absl::StatusCode::kFailedPrecondition));
  // Channel reopened: the task came back (one attempt on) and work goes on.
  ASSERT_OK_AND_ASSIGN(std::vector<Task> again, q->Lease(queue, 1, absl::Seconds(60)));
  ASSERT_THAT(IdsOf(again), ElementsAre("t1"));
  EXPECT_EQ(again[0].attempts, 1);
  ASSERT_OK(q->Ack(again[0]));
}

}  // namespace
}  // namespace alerthub
