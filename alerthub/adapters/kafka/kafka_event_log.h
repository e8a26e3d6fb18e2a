// kafka:// — the distributed EventLog (ports/event_log.h) on Apache Kafka
// (or any broker speaking its protocol) through librdkafka.
//
//   ALERTHUB_ASSIGN_OR_RETURN(KafkaEventLogOptions options,
//                             KafkaEventLogOptionsFromUrl("kafka://k1:9092,k2:9092"));
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log, OpenKafkaEventLog(options));
//   std::vector<absl::Status> acked = log->PublishReliable(messages);   // after the broker's ack
//
// URL: kafka://host:port[,host:port...][?param=value&...] with params
// linger_ms (5), delivery_timeout_ms (30000), create_topics (true),
// partitions (3: for topics not in kKafkaTopics), replication_factor (-1:
// the broker's default), client_id (alerthub), session_timeout_ms (10000).
// Any other parameter whose
// name contains a dot is handed to librdkafka as is, for producer and
// consumers alike (security.protocol=SASL_SSL, sasl.mechanisms=...,
// ssl.ca.location=...); librdkafka rejects unknown ones when opening.
//
// Publishing: one idempotent producer (enable.idempotence=true, acks=all,
// linger_ms) per EventLog. PublishReliable hands every message to it and
// returns only when each one's delivery report has arrived, so OK means the
// in-sync replicas have it — the outbox relay marks a row sent only then.
// StartPublish is the same in two steps: it returns once the producer has
// the messages (blocking only while librdkafka's local queue is full), and
// the handle's Wait() returns when their reports are in; so a caller keeps
// the producer's queue full across batches, as `kcat -P` does.
// The message key (the notification id) picks the partition, so one key's
// messages stay in order. Headers pass through as Kafka headers (traceparent
// among them); a message without a content-type header gets
// `content-type: application/cloudevents+json; charset=UTF-8`, the
// CloudEvents Kafka binding's mark of structured mode.
// Statuses: kUnavailable when the broker did not acknowledge within
// delivery_timeout (retry), kInvalidArgument when it never will (no such
// topic and it may not be created, message too large, bad topic name),
// kPermissionDenied when the credentials may not write the topic.
//
// Topics: before a topic's first use (publish or subscribe) it is looked up
// and, when missing and create_topics is set, created through the admin API
// with its partition count from kKafkaTopics (ARCHITECTURE §4) or
// `partitions`. A broker without a usable controller (librdkafka's mock
// cluster) cannot create topics that way; then the broker's auto-creation
// is relied on. An existing topic is used as it is.
//
// Consuming: each Subscribe() is one consumer-group member with its own
// librdkafka consumer and thread; it returns once the member has its first
// partition assignment (or after session_timeout + 10 s, joining in the
// background), so members started together settle before messages flow. A
// new group starts at the earliest offset (nothing published before the
// group's first member joined is skipped). A SubscribeBatch() handler gets
// what one poll round has ready (up to 256 messages, in fetch order; a
// Subscribe() handler is called for each in turn).
// Offsets are stored only after the handler returned OK and committed
// automatically every second and when partitions are revoked, so a crash or
// rebalance redelivers at most what was handled but not yet committed
// (at-least-once; handlers dedupe on the CloudEvent id). Kafka accepts the
// commit made when partitions are revoked; librdkafka's mock broker refuses
// commits during a rebalance, so there a rebalance may redeliver up to a
// second's worth of handled messages. A handler error rewinds that partition
// to the failed message and pauses it for a backoff (100 ms doubling to
// 10 s); other partitions keep flowing. In a batch, a partition's offset
// advances only up to its first failed message, which comes again with
// everything after it.
//
// Thread-safe. Subscriptions and pending publishes must be destroyed before
// the EventLog.
#ifndef ALERTHUB_ADAPTERS_KAFKA_KAFKA_EVENT_LOG_H_
#define ALERTHUB_ADAPTERS_KAFKA_KAFKA_EVENT_LOG_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/event_log.h"

namespace alerthub {

// AlertHub's topics and their partition counts (ARCHITECTURE §4).
inline constexpr std::pair<absl::string_view, int> kKafkaTopics[] = {
    {"alerthub.notifications.created", 6},
    {"alerthub.notifications.delivered", 3},
    {"alerthub.notifications.failed", 3},
    {"alerthub.integrations.events", 3},
};

struct KafkaEventLogOptions {
  // "host:port,host:port": where to find the cluster.
  std::string bootstrap_servers;
  // Sent to the broker with every request (quotas, logs).
  std::string client_id = "alerthub";
  // How long the producer waits to fill a batch.
  absl::Duration linger = absl::Milliseconds(5);
  // How long a message may wait for the broker's ack before its
  // PublishReliable status is kUnavailable (message.timeout.ms).
  absl::Duration delivery_timeout = absl::Seconds(30);
  // Whether missing topics are created (admin API) before first use.
  bool create_topics = true;
  // Partitions of a created topic that kKafkaTopics does not list.
  int default_partitions = 3;
  // Replication factor of created topics; -1 takes the broker's default.
  int replication_factor = -1;
  // Longest wait of a consumer's fetch for new data (fetch.wait.max.ms):
  // the idle latency of delivery.
  absl::Duration fetch_wait = absl::Milliseconds(50);
  // A consumer that stops heartbeating for this long leaves its group
  // (session.timeout.ms; brokers accept 6-300 s by default). Rebalances wait
  // up to about this long for members to rejoin.
  absl::Duration session_timeout = absl::Seconds(10);
  // Further librdkafka properties (name, value) for every client.
  std::vector<std::pair<std::string, std::string>> librdkafka;
};

// Parses a kafka:// URL (see above). kInvalidArgument naming the problem.
absl::StatusOr<KafkaEventLogOptions> KafkaEventLogOptionsFromUrl(absl::string_view url);

// Creates the producer; does not wait for the broker (publishing does).
// kInvalidArgument for options librdkafka rejects.
absl::StatusOr<std::unique_ptr<EventLog>> OpenKafkaEventLog(const KafkaEventLogOptions& options);

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_KAFKA_KAFKA_EVENT_LOG_H_
