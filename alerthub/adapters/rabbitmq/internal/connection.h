// One AMQP 0-9-1 connection of the amqp:// TaskQueue (rabbitmq-c), with the
// two channels it uses:
//   1  work: publisher confirms on, declares, basic.get and acks of leases
//   2  browse: opened for ListDead/Replay and closed after, which returns
//      every message it fetched to its place in the queue
//
// Failure and recovery: a channel error (the broker closes a channel, e.g.
// 406 PRECONDITION_FAILED) reopens that channel on next use; a connection
// error (socket, heartbeat timeout, connection.close, an unconfirmed
// publish) drops the connection and the next call reconnects, after a
// failed attempt not before a backoff (100 ms doubling to max_backoff; cut
// short when another connection to the broker gets through).
// Either way generation() changes: deliveries fetched on the old channel
// can no longer be acknowledged — the broker has put them back in their
// queues.
//
// Not thread-safe by itself: every call needs mu() held.
#ifndef ALERTHUB_ADAPTERS_RABBITMQ_INTERNAL_CONNECTION_H_
#define ALERTHUB_ADAPTERS_RABBITMQ_INTERNAL_CONNECTION_H_

#include <amqp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/adapters/rabbitmq/internal/topology.h"

namespace alerthub::rabbitmq_internal {

struct ConnectionConfig {
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  absl::Duration connect_timeout = absl::Seconds(2);
  // Limit on every broker round trip (declare, get, login) and on waiting
  // for a publisher confirm.
  absl::Duration command_timeout = absl::Seconds(10);
  // Negotiated AMQP heartbeat; 0 disables it.
  absl::Duration heartbeat = absl::Seconds(30);
  absl::Duration max_backoff = absl::Seconds(5);
  // Shared by the connections to one broker: when any of them connects, the
  // others stop waiting out their backoff (the broker is back).
  std::shared_ptr<std::atomic<int64_t>> last_connect_ns = std::make_shared<std::atomic<int64_t>>(0);

  std::string Address() const;
};

inline constexpr int kWorkChannel = 1;
inline constexpr int kBrowseChannel = 2;

// A message fetched with basic.get and not yet acknowledged.
struct Delivery {
  uint64_t tag = 0;
  bool redelivered = false;
  TaskMessage message;
};

// A queue argument (x-message-ttl, x-dead-letter-exchange, ...).
using QueueArgument = std::pair<std::string, std::variant<int64_t, std::string>>;

class Connection {
 public:
  explicit Connection(ConnectionConfig config) : config_(std::move(config)) {}
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  absl::Mutex& mu() ABSL_LOCK_RETURNED(mu_) { return mu_; }

  // Connects, logs in and opens the work channel as needed. kUnavailable
  // naming the broker when it cannot, at once during backoff.
  absl::Status EnsureOpen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Changes whenever the work channel is reopened or the connection replaced.
  uint64_t generation() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return generation_; }

  // Publishes `m` persistently and mandatory on the work channel and waits
  // for the broker's confirm. OK: the broker has it on disk in a queue.
  // kUnavailable when it was not confirmed in time (the connection is
  // dropped) or nacked; kFailedPrecondition when the broker returned it as
  // unroutable (no queue bound for `routing_key`).
  absl::Status Publish(absl::string_view exchange, absl::string_view routing_key,
                       const TaskMessage& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // One message for PublishMany.
  struct Publication {
    absl::string_view exchange;
    absl::string_view routing_key;
    const TaskMessage* message = nullptr;
  };
  // Publish for several messages: all are sent, then their confirms are
  // awaited together (one round trip instead of one per message). One
  // status per publication, in order, with Publish's meanings.
  std::vector<absl::Status> PublishMany(absl::Span<const Publication> publications)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // basic.get without auto-ack on `channel`; nullopt when the queue is empty.
  absl::StatusOr<std::optional<Delivery>> Get(int channel, absl::string_view queue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Status Ack(int channel, uint64_t tag) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // basic.reject with requeue: the message goes back to its place.
  absl::Status Requeue(int channel, uint64_t tag) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Declares a durable queue (idempotent with the same arguments) and
  // returns how many messages are ready in it. kFailedPrecondition when it
  // exists with other arguments.
  absl::StatusOr<uint32_t> DeclareQueue(absl::string_view name,
                                        const std::vector<QueueArgument>& arguments)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DeclareDirectExchange(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Bind(absl::string_view queue, absl::string_view exchange,
                    absl::string_view routing_key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The browse channel: open, then Get(kBrowseChannel, ...), then close,
  // which returns whatever was fetched and not acknowledged.
  absl::Status OpenBrowse() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CloseBrowse() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Sends a heartbeat when one is due and reads what the broker sent unasked
  // (a connection or channel close), without blocking. Called periodically
  // on idle connections.
  void Poll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

 private:
  absl::Status Connect() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the connection (or, for `channel_only`, forgets the channels).
  void Reset(absl::string_view why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The status for a failed RPC, recovering the channel or connection.
  absl::Status Failed(const amqp_rpc_reply_t& reply, absl::string_view what, int channel)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Handles a channel.close or connection.close the broker sent.
  absl::Status ServerClosed(const amqp_method_t& method, int channel, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OpenChannel(int channel) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ConnectionConfig config_;
  absl::Mutex mu_;
  amqp_connection_state_t conn_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool work_open_ ABSL_GUARDED_BY(mu_) = false;
  bool browse_open_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_publish_seq_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time next_attempt_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_failure_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  bool was_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace alerthub::rabbitmq_internal

#endif  // ALERTHUB_ADAPTERS_RABBITMQ_INTERNAL_CONNECTION_H_
