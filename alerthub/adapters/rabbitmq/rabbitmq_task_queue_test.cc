// Hermetic tests of the amqp:// TaskQueue: URL parsing, the choice of delay
// queue, and what callers see when no broker answers (the live suite is
// rabbitmq_task_queue_live_test.cc).
#include "alerthub/adapters/rabbitmq/rabbitmq_task_queue.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/rabbitmq/internal/topology.h"
#include "alerthub/adapters/registry.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/refusing_port.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;
namespace ri = ::alerthub::rabbitmq_internal;

TEST(AmqpTaskQueueOptionsFromUrlTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(AmqpTaskQueueOptions o, AmqpTaskQueueOptionsFromUrl("amqp://mq.internal"));
  EXPECT_EQ(o.host, "mq.internal");
  EXPECT_EQ(o.port, 5672);
  EXPECT_EQ(o.user, "guest");
  EXPECT_EQ(o.password, "guest");
  EXPECT_EQ(o.vhost, "/");
  EXPECT_EQ(o.connections, 2);
  EXPECT_EQ(o.heartbeat, absl::Seconds(30));
  EXPECT_FALSE(o.queue_expires.has_value());
  ASSERT_OK_AND_ASSIGN(o, AmqpTaskQueueOptionsFromUrl("amqp://mq/"));
  EXPECT_EQ(o.vhost, "/");
  ASSERT_OK_AND_ASSIGN(o, AmqpTaskQueueOptionsFromUrl("amqp://mq/%2f"));
  EXPECT_EQ(o.vhost, "/");
}

TEST(AmqpTaskQueueOptionsFromUrlTest, EveryPart) {
  ASSERT_OK_AND_ASSIGN(
      AmqpTaskQueueOptions o,
      AmqpTaskQueueOptionsFromUrl(
          "amqp://alerthub:p%40ss@10.0.0.7:5673/prod?connections=4&heartbeat_s=10&"
          "connect_timeout_ms=500&command_timeout_ms=3000&max_backoff_ms=1000&max_leases=64&"
          "queue_expires_ms=60000"));
  EXPECT_EQ(o.host, "10.0.0.7");
  EXPECT_EQ(o.port, 5673);
  EXPECT_EQ(o.user, "alerthub");
  EXPECT_EQ(o.password, "p@ss");
  EXPECT_EQ(o.vhost, "prod");
  EXPECT_EQ(o.connections, 4);
  EXPECT_EQ(o.heartbeat, absl::Seconds(10));
  EXPECT_EQ(o.connect_timeout, absl::Milliseconds(500));
  EXPECT_EQ(o.command_timeout, absl::Seconds(3));
  EXPECT_EQ(o.max_backoff, absl::Seconds(1));
  EXPECT_EQ(o.max_leases, 64);
  EXPECT_EQ(o.queue_expires, absl::Minutes(1));
}

TEST(AmqpTaskQueueOptionsFromUrlTest, RejectsWhatItCannotHonour) {
  for (const char* url :
       {"sql://", "amqp://", "amqps://mq", "amqp://mq:0", "amqp://mq:x", "amqp://mq?connections=0",
        "amqp://mq?connections=65", "amqp://mq?max_leases=-1", "amqp://mq?command_timeout_ms=0",
        "amqp://mq?prefetch=10"}) {
    EXPECT_THAT(AmqpTaskQueueOptionsFromUrl(url), StatusIs(absl::StatusCode::kInvalidArgument))
        << url;
  }
}

TEST(TopologyTest, DelayQueueIsTheLongestNotLongerThanTheWait) {
  EXPECT_EQ(ri::DelayLevelFor(absl::ZeroDuration()), -1);
  EXPECT_EQ(ri::DelayLevelFor(-absl::Seconds(3)), -1);
  EXPECT_EQ(ri::DelayLevelFor(absl::Milliseconds(30)), 0);  // shortest: late by < 100 ms
  EXPECT_EQ(ri::DelayLevelFor(absl::Milliseconds(199)), 0);
  EXPECT_EQ(ri::DelayLevelFor(absl::Milliseconds(200)), 1);
  EXPECT_EQ(ri::DelayLevelFor(absl::Seconds(5)), 5);  // 3.2 s, then 1.6 s, then 0.2 s
  EXPECT_EQ(ri::DelayOfLevel(5), absl::Milliseconds(3200));
  EXPECT_EQ(ri::DelayLevelFor(absl::Hours(10)), 18);  // 7.3 h
  EXPECT_EQ(ri::DelayLevelFor(absl::Hours(100)), ri::kDelayLevels - 1);
  EXPECT_EQ(ri::DelayOfLevel(ri::kDelayLevels - 1), absl::Milliseconds(52'428'800));
}

TEST(TopologyTest, Names) {
  EXPECT_EQ(ri::DeadQueueName("integration.webhook.delivery"), "integration.webhook.delivery.dead");
  EXPECT_EQ(ri::DelayQueueName("integration.webhook.delivery", 0),
            "integration.webhook.delivery.delay.100");
  EXPECT_EQ(ri::DelayQueueName("q", 19), "q.delay.52428800");
  EXPECT_OK(ri::ValidateQueueName("integration.webhook.delivery"));
  EXPECT_THAT(ri::ValidateQueueName(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ri::ValidateQueueName("amq.direct"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ri::ValidateQueueName(std::string(201, 'q')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(UnreachableBrokerTest, EveryCallIsUnavailableAndBacksOff) {
  SimulatedClock clock;
  AmqpTaskQueueOptions o;
  o.port = testing::RefusingPort();
  o.clock = &clock;
  o.connections = 1;
  o.max_backoff = absl::Seconds(30);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q, OpenAmqpTaskQueue(o));  // does not wait
  EXPECT_THAT(q->Enqueue("q", "t1", "p", clock.Now()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connect")));
  int fast = 0;
  for (int i = 0; i < 50; ++i) {
    absl::Status s = q->Lease("q", 1, absl::Seconds(10)).status();
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable));
    if (absl::StrContains(s.message(), "next connection attempt in")) ++fast;
  }
  EXPECT_GE(fast, 45);
  EXPECT_THAT(q->Depth("q"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(q->ListDead("q", 10), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(q->Replay("q", "t1"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(q->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  // Arguments are checked before the broker is asked.
  EXPECT_THAT(q->Lease("q", 0, absl::Seconds(1)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(q->Enqueue("amq.x", "t", "p", clock.Now()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(q->Enqueue("q", "", "p", clock.Now()), StatusIs(absl::StatusCode::kInvalidArgument));
  // A receipt this adapter never gave out.
  Task stranger;
  stranger.queue = "q";
  stranger.id = "t1";
  stranger.receipt = "amqp/0/1/1";
  EXPECT_THAT(q->Ack(stranger), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(AmqpTaskQueueRegistryTest, AmqpSchemeOpensThisAdapter) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> q,
                       OpenTaskQueue(absl::StrCat("amqp://127.0.0.1:", testing::RefusingPort()),
                                     /*store=*/nullptr, /*clock=*/nullptr));
  EXPECT_THAT(q->Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("amqp 127.0.0.1:")));
  EXPECT_THAT(OpenTaskQueue("amqp://mq?prefetch=1", nullptr, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prefetch")));
}

}  // namespace
}  // namespace alerthub
