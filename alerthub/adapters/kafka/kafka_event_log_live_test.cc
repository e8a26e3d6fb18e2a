// The kafka:// EventLog against a live broker (ALERTHUB_TEST_KAFKA_URL, from
// tools/services.sh): the EventLog contract suite plus what Kafka adds —
// topics created on first use, CloudEvents headers, and committed offsets
// that never pass an unhandled message.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/kafka/kafka_event_log.h"
#include "alerthub/testing/event_log_contract.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/live/live_env.h"

namespace alerthub {
namespace {

using ::alerthub::testing::LiveServerUrl;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Pair;

absl::StatusOr<KafkaEventLogOptions> LiveOptions() {
  absl::StatusOr<std::string> url = LiveServerUrl("ALERTHUB_TEST_KAFKA_URL");
  if (!url.ok()) return url.status();
  return KafkaEventLogOptionsFromUrl(*url);
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenLive() {
  absl::StatusOr<KafkaEventLogOptions> options = LiveOptions();
  if (!options.ok()) return options.status();
  options->delivery_timeout = absl::Seconds(10);
  // The mock broker holds a rebalance for session_timeout - 1 s after a
  // member left; keep the suite's group joins short.
  options->session_timeout = absl::Seconds(3);
  return OpenKafkaEventLog(*options);
}

INSTANTIATE_TEST_SUITE_P(Kafka, EventLogContractTest,
                         ::testing::Values(EventLogFactory{"kafka", &OpenLive}),
                         [](const auto& info) { return info.param.name; });

std::string UniqueTopic(absl::string_view what) {
  return absl::StrCat("live.", what, ".", absl::ToUnixMicros(absl::Now()));
}

// Partition counts as the broker reports them.
int PartitionsOf(const std::string& bootstrap, const std::string& topic) {
  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  const rd_kafka_metadata_t* md = nullptr;
  int partitions = -1;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        partitions = md->topics[i].partition_cnt;
      }
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_destroy(rk);
  return partitions;
}

TEST(KafkaEventLogLiveTest, ArchitectureTopicsHaveTheirPartitions) {
  ASSERT_OK_AND_ASSIGN(KafkaEventLogOptions options, LiveOptions());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, OpenKafkaEventLog(options));
  // Subscribing makes sure the topic exists (created when missing) without
  // putting anything on AlertHub's real topics.
  for (const auto& [topic, partitions] : kKafkaTopics) {
    ASSERT_OK_AND_ASSIGN(auto sub,
                         log->Subscribe(topic, UniqueTopic("live-test-group"),
                                        [](const EventMessage&) { return absl::OkStatus(); }));
    sub.reset();
    EXPECT_EQ(PartitionsOf(options.bootstrap_servers, std::string(topic)), partitions) << topic;
  }
}

TEST(KafkaEventLogLiveTest, MissingTopicIsCreatedOnFirstUse) {
  ASSERT_OK_AND_ASSIGN(KafkaEventLogOptions options, LiveOptions());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, OpenKafkaEventLog(options));
  const std::string topic = UniqueTopic("created");
  EXPECT_EQ(PartitionsOf(options.bootstrap_servers, topic), -1);
  ASSERT_OK(log->PublishReliable(EventMessage{topic, "k", "{}", {}}));
  EXPECT_GT(PartitionsOf(options.bootstrap_servers, topic), 0);
}

TEST(KafkaEventLogLiveTest, MissingTopicWithoutCreationIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(KafkaEventLogOptions options, LiveOptions());
  options.create_topics = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, OpenKafkaEventLog(options));
  EXPECT_THAT(log->PublishReliable(EventMessage{UniqueTopic("absent"), "k", "{}", {}}),
              ::alerthub::testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KafkaEventLogLiveTest, CloudEventsContentTypeAndTraceparentTravelAsHeaders) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, OpenLive());
  const std::string topic = UniqueTopic("headers");
  absl::Mutex mu;
  std::vector<EventMessage> got;
  ASSERT_OK_AND_ASSIGN(auto sub, log->Subscribe(topic, "g", [&](const EventMessage& m) {
    absl::MutexLock lock(&mu);
    got.push_back(m);
    return absl::OkStatus();
  }));
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ASSERT_OK(log->PublishReliable(
      EventMessage{topic,
                   "0190c0de-0000-7000-8000-000000000001",
                   R"({"specversion":"1.0","id":"e1","type":"alerthub.notification.created"})",
                   {{"traceparent", traceparent}}}));
  // Same key: same partition, so the order is defined.
  ASSERT_OK(log->PublishReliable(EventMessage{
      topic, "0190c0de-0000-7000-8000-000000000001", "plain", {{"content-type", "text/plain"}}}));
  absl::MutexLock lock(&mu);
  auto two = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return got.size() >= 2; };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&two), absl::Seconds(20)));
  EXPECT_EQ(got[0].key, "0190c0de-0000-7000-8000-000000000001");
  EXPECT_THAT(got[0].headers,
              ElementsAre(Pair("traceparent", traceparent),
                          Pair("content-type", "application/cloudevents+json; charset=UTF-8")));
  // A caller's own content-type is kept, not doubled.
  EXPECT_THAT(got[1].headers, ElementsAre(Pair("content-type", "text/plain")));
}

// The committed position never passes a message whose handler failed: a
// member that gives up on a message and leaves hands it to the next member.
TEST(KafkaEventLogLiveTest, OffsetsAreCommittedOnlyPastHandledMessages) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, OpenLive());
  const std::string topic = UniqueTopic("offsets");
  const std::string group = UniqueTopic("group");
  // One key: one partition, so the order is defined.
  for (const char* payload : {"m0", "m1", "m2", "m3"}) {
    ASSERT_OK(log->PublishReliable(EventMessage{topic, "same-key", payload, {}}));
  }
  absl::Mutex mu;
  std::vector<std::string> first;
  std::atomic<int> failures{0};
  {
    ASSERT_OK_AND_ASSIGN(auto sub, log->Subscribe(topic, group, [&](const EventMessage& m) {
      if (m.payload == "m2") {
        failures.fetch_add(1);
        return absl::UnavailableError("m2 cannot be handled yet");
      }
      absl::MutexLock lock(&mu);
      first.push_back(m.payload);
      return absl::OkStatus();
    }));
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (failures.load() < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
    ASSERT_GE(failures.load(), 2) << "m2 was not redelivered after its handler failed";
  }  // leaves the group, committing m0 and m1 only
  absl::MutexLock lock(&mu);
  EXPECT_THAT(first, ElementsAre("m0", "m1"));  // m3 waits behind m2

  std::vector<std::string> second;
  ASSERT_OK_AND_ASSIGN(auto sub, log->Subscribe(topic, group, [&](const EventMessage& m) {
    absl::MutexLock lock(&mu);
    second.push_back(m.payload);
    return absl::OkStatus();
  }));
  auto two = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return second.size() >= 2; };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&two), absl::Seconds(30)));
  EXPECT_THAT(second, ElementsAre("m2", "m3"));
}

TEST(KafkaEventLogLiveTest, ManyMessagesInOneCallAreAllAcknowledged) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventLog> log, OpenLive());
  const std::string topic = UniqueTopic("batch");
  std::vector<EventMessage> batch;
  for (int i = 0; i < 2000; ++i) {
    batch.push_back(EventMessage{topic,
                                 absl::StrCat("id-", i % 50),
                                 absl::StrCat("{\"n\":", i, "}"),
                                 {{"traceparent", "00-a-b-01"}}});
  }
  std::vector<absl::Status> statuses = log->PublishReliable(batch);
  ASSERT_EQ(statuses.size(), batch.size());
  for (const absl::Status& s : statuses) ASSERT_OK(s);
}

}  // namespace
}  // namespace alerthub
