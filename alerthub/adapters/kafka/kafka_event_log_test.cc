// Hermetic tests of the kafka:// EventLog: URL parsing, and the documented
// behaviour when no broker answers (the live suite is
// kafka_event_log_live_test.cc).
#include "alerthub/adapters/kafka/kafka_event_log.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/registry.h"
#include "alerthub/testing/refusing_port.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(KafkaEventLogOptionsFromUrlTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(KafkaEventLogOptions o, KafkaEventLogOptionsFromUrl("kafka://k1:9092"));
  EXPECT_EQ(o.bootstrap_servers, "k1:9092");
  EXPECT_EQ(o.linger, absl::Milliseconds(5));
  EXPECT_EQ(o.delivery_timeout, absl::Seconds(30));
  EXPECT_TRUE(o.create_topics);
  EXPECT_EQ(o.default_partitions, 3);
  EXPECT_EQ(o.replication_factor, -1);
  EXPECT_EQ(o.client_id, "alerthub");
  EXPECT_TRUE(o.librdkafka.empty());
}

TEST(KafkaEventLogOptionsFromUrlTest, EveryPart) {
  ASSERT_OK_AND_ASSIGN(
      KafkaEventLogOptions o,
      KafkaEventLogOptionsFromUrl(
          "kafka://k1:9092,k2:9093/?linger_ms=0&delivery_timeout_ms=2000&create_topics=false&"
          "partitions=12&replication_factor=3&client_id=router-1&session_timeout_ms=6000&"
          "security.protocol=SASL_SSL&"
          "sasl.mechanisms=SCRAM-SHA-512"));
  EXPECT_EQ(o.bootstrap_servers, "k1:9092,k2:9093");
  EXPECT_EQ(o.linger, absl::ZeroDuration());
  EXPECT_EQ(o.delivery_timeout, absl::Seconds(2));
  EXPECT_FALSE(o.create_topics);
  EXPECT_EQ(o.default_partitions, 12);
  EXPECT_EQ(o.replication_factor, 3);
  EXPECT_EQ(o.client_id, "router-1");
  EXPECT_EQ(o.session_timeout, absl::Seconds(6));
  EXPECT_THAT(o.librdkafka, ElementsAre(Pair("security.protocol", "SASL_SSL"),
                                        Pair("sasl.mechanisms", "SCRAM-SHA-512")));
}

TEST(KafkaEventLogOptionsFromUrlTest, RejectsWhatItCannotHonour) {
  for (const char* url : {"inproc://", "kafka://", "kafka://k1", "kafka://k1:0", "kafka://:9092",
                          "kafka://k1:9092,", "kafka://u@k1:9092", "kafka://k1:9092?linger_ms=-1",
                          "kafka://k1:9092?partitions=0", "kafka://k1:9092?replication_factor=0",
                          "kafka://k1:9092?create_topics=yes", "kafka://k1:9092?lingerms=5"}) {
    EXPECT_THAT(KafkaEventLogOptionsFromUrl(url), StatusIs(absl::StatusCode::kInvalidArgument))
        << url;
  }
}

TEST(KafkaEventLogTest, UnknownLibrdkafkaPropertyIsRejectedAtOpen) {
  ASSERT_OK_AND_ASSIGN(KafkaEventLogOptions o,
                       KafkaEventLogOptionsFromUrl("kafka://127.0.0.1:9?no.such.property=1"));
  EXPECT_THAT(OpenKafkaEventLog(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no.such.property")));
}

TEST(KafkaEventLogTest, UnreachableBrokerIsUnavailable) {
  KafkaEventLogOptions o;
  o.bootstrap_servers = absl::StrCat("127.0.0.1:", testing::RefusingPort());
  o.delivery_timeout = absl::Seconds(1);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, OpenKafkaEventLog(o));  // does not wait
  EXPECT_THAT(log->Ping(), StatusIs(absl::StatusCode::kUnavailable));
  const absl::Time start = absl::Now();
  std::vector<absl::Status> statuses =
      log->PublishReliable({EventMessage{"alerthub.notifications.created", "id", "{}", {}},
                            EventMessage{"", "id", "{}", {}}});
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_THAT(statuses[0], StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(statuses[1], StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no topic")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  EXPECT_THAT(log->Subscribe("t", "g", [](const EventMessage&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(KafkaEventLogRegistryTest, KafkaSchemeOpensThisAdapter) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log,
                       OpenEventLog(absl::StrCat("kafka://127.0.0.1:", testing::RefusingPort())));
  EXPECT_THAT(log->Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("kafka")));
  EXPECT_THAT(OpenEventLog("kafka://k1"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace alerthub
