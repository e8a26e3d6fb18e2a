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

// A publication handed to the bus by EventLog::StartPublish whose
// acknowledgements may still be outstanding. Not thread-safe: one owner
// calls Done() and Wait(). Destroying it without Wait() does not withdraw
// the messages; their statuses are then just not observed. Must not
// outlive the EventLog that made it.
class PendingPublish {
 public:
  virtual ~PendingPublish() = default;

  // true when every message's status is known, so Wait() will not block.
  virtual bool Done() = 0;

  // Blocks until every message is acknowledged or has failed and returns one
  // status per message, in order, with PublishReliable's meanings.
  // REQUIRES: called at most once.
  virtual std::vector<absl::Status> Wait() = 0;
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

  // PublishReliable in two steps, so a caller can hand over the next batch
  // while the broker still acknowledges earlier ones: hands `messages` to the
  // bus (copied; the span may go away on return) and returns a handle whose
  // Wait() gives the statuses PublishReliable would have returned. Messages
  // of one key handed over from one thread keep that order across calls as
  // within one (the order PublishReliable keeps). The default implementation
  // publishes synchronously (the handle is Done() at once); kafka:// returns
  // as soon as the producer has the messages.
  virtual std::unique_ptr<PendingPublish> StartPublish(absl::Span<const EventMessage> messages);

  // Delivers every message published to `topic` to one member of consumer
  // group `group` (members of a group share the work; every group sees every
  // message). A handler that returns non-OK has the message redelivered later;
  // the position advances only past messages whose handler returned OK.
  using Handler = std::function<absl::Status(const EventMessage& message)>;
  virtual absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view topic, absl::string_view group, Handler handler) = 0;

  // Subscribe for a handler that takes several messages of the topic at once
  // and returns one status per message, in order, each with Handler's
  // meaning (a handler that returns another count fails them all). Within
  // one call the messages keep their publication order. A failed message
  // comes again, and so may later messages of its key that the call
  // handled. inproc:// passes all of one PublishReliable's messages of the
  // topic in one call, kafka:// what one poll has ready (up to 256); the
  // default implementation passes one message per call.
  using BatchHandler =
      std::function<std::vector<absl::Status>(absl::Span<const EventMessage> messages)>;
  virtual absl::StatusOr<std::unique_ptr<Subscription>> SubscribeBatch(
      absl::string_view topic, absl::string_view group, BatchHandler handler);

  // OK when the broker can be reached now; kUnavailable otherwise.
  virtual absl::Status Ping() = 0;
};

namespace event_log_internal {

// The handle of a publication whose statuses are already known.
class SettledPublish final : public PendingPublish {
 public:
  explicit SettledPublish(std::vector<absl::Status> statuses) : statuses_(std::move(statuses)) {}
  bool Done() override { return true; }
  std::vector<absl::Status> Wait() override { return std::move(statuses_); }

 private:
  std::vector<absl::Status> statuses_;
};

}  // namespace event_log_internal

inline std::unique_ptr<PendingPublish> EventLog::StartPublish(
    absl::Span<const EventMessage> messages) {
  return std::make_unique<event_log_internal::SettledPublish>(PublishReliable(messages));
}

inline absl::StatusOr<std::unique_ptr<Subscription>> EventLog::SubscribeBatch(
    absl::string_view topic, absl::string_view group, BatchHandler handler) {
  if (!handler) return absl::InvalidArgumentError("SubscribeBatch needs a handler");
  return Subscribe(topic, group, [handler = std::move(handler)](const EventMessage& m) {
    std::vector<absl::Status> statuses = handler(absl::MakeConstSpan(&m, 1));
    if (statuses.size() != 1) {
      return absl::InternalError("a batch handler returned the wrong number of statuses");
    }
    return std::move(statuses.front());
  });
}

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_EVENT_LOG_H_
