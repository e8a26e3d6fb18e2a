// EventLog: the topic bus between the pipeline and its consumers
// (`alerthub.notifications.created`, `.delivered`, `.failed`, ...).
// Embedded default `inproc://` (adapters/inproc), distributed `kafka://`.
//
// Thread safety: safe for concurrent access from multiple threads.
//
// Delivery is at-least-once: a message may reach a handler twice (after a
// crash, a rebalance or a failed handler), so handlers dedupe on the
// CloudEvent id. Within one key, messages keep their publication order.
#ifndef ALERTHUB_PORTS_EVENT_LOG_H_
#define ALERTHUB_PORTS_EVENT_LOG_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "alerthub/ports/subscription.h"

namespace alerthub {

struct EventMessage {
  std::string topic;
  std::string key;      // partitioning key: the notification id
  std::string payload;  // CloudEvents structured JSON
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. traceparent
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Publishes `messages` and waits until each is acknowledged: written to the
  // broker with all in-sync replicas (kafka), or handled successfully by every
  // current subscriber group (inproc). Returns one status per message, in
  // order; OK means the message will not be lost by the bus. kUnavailable for
  // messages the broker did not acknowledge (retry them); kInvalidArgument for
  // messages it can never take (unknown topic, oversized).
  virtual std::vector<absl::Status> PublishReliable(
      absl::Span<const EventMessage> messages) = 0;

  // Convenience for one message.
  absl::Status PublishReliable(const EventMessage& message) {
    return PublishReliable(absl::MakeConstSpan(&message, 1)).front();
  }

  // Delivers every message published to `topic` to one member of consumer
  // group `group` (members of a group share the work; every group sees every
  // message). A handler that returns non-OK has the message redelivered later;
  // the position advances only past messages whose handler returned OK.
  using Handler = std::function<absl::Status(const EventMessage& message)>;
  virtual absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view topic, absl::string_view group, Handler handler) = 0;

  // OK when the broker can be reached now; kUnavailable otherwise.
  virtual absl::Status Ping() = 0;
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_EVENT_LOG_H_
