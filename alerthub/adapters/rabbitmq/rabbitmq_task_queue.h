// amqp:// — the distributed TaskQueue (ports/task_queue.h) on RabbitMQ
// through rabbitmq-c (AMQP 0-9-1).
//
//   ALERTHUB_ASSIGN_OR_RETURN(AmqpTaskQueueOptions options,
//                             AmqpTaskQueueOptionsFromUrl("amqp://alerthub:pw@mq:5672/%2f"));
//   options.clock = clock;
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<TaskQueue> q, OpenAmqpTaskQueue(options));
//
// URL: amqp://[user[:password]@]host[:port][/vhost][?param=value&...]
// (guest:guest, port 5672 and vhost "/" by default; "/" is written %2f) with
// params connections (2), heartbeat_s (30), connect_timeout_ms (2000),
// command_timeout_ms (10000), max_backoff_ms (5000), max_leases (1000),
// queue_expires_ms (none). No TLS (amqps://) yet.
//
// Broker objects per port queue Q (internal/topology.h), declared on first
// use: durable queue Q with dead-letter exchange "alerthub.dead", its
// dead-letter queue Q.dead, and 20 durable delay queues Q.delay.<ms>
// (100 ms doubling to 14.6 h) whose per-queue TTL dead-letters back into Q.
// Classic queues, persistent messages; the payload is the body and the task
// id the message id, the rest rides in x-alerthub-* headers.
//
// How the port maps onto AMQP:
//   Enqueue     publish (mandatory, confirmed) to Q, or when available_at is
//               ahead to the delay queue of the longest delay not longer
//               than the wait. OK once the broker confirmed it on disk; an
//               unroutable, nacked or unconfirmed publish is kUnavailable.
//   Lease       basic.get (manual ack) up to `max` from Q. A task that comes
//               out of a delay queue before its available_at (by the adapter
//               clock: delays are chained, or the clocks differ) is sent to
//               the next delay queue instead — never leased early. The lease
//               is the unacknowledged delivery: invisible to other consumers
//               while this connection lives; when `lease` passes (by the
//               adapter clock) the adapter itself puts a copy back in Q with
//               attempts + 1 and acks the original (checked on every call
//               and every second). A crash or a lost connection returns the
//               task to Q through the broker (attempts + 1 via the
//               redelivered flag). At most max_leases unacknowledged
//               deliveries per adapter: the pull-model bound of prefetch.
//   Ack         basic.ack. kFailedPrecondition when the lease ended (expired,
//               or its connection or channel was replaced, so the broker
//               already returned the task).
//   Retry       publish a copy (attempts + 1, last_error, new available_at)
//               to Q or a delay queue, confirmed, then ack the delivery.
//   DeadLetter  publish a copy with the reason to "alerthub.dead" (routed to
//               Q.dead), confirmed, then ack.
//   ListDead    basic.get from Q.dead on a second channel, then close the
//               channel: the broker returns the messages to their places.
//   Replay      the same scan until the id is found; publish it fresh to Q
//               (attempts 0, available now), confirmed, then ack it from
//               Q.dead. kNotFound when Q.dead does not hold it.
//   Depth       ready messages of Q and of its delay queues (queue.declare's
//               count) plus this adapter's unacknowledged leases.
//
// Where AMQP cannot give what the port asks, and what this adapter does
// instead (the contract cases it cannot pass are excluded, by name, in
// BUILD.bazel):
//   - Enqueue is not idempotent by id: the broker keeps no index of message
//     ids, so enqueueing an id twice queues two tasks. At-least-once, like
//     every AMQP consumer; the delivery worker claims the Delivery row in the
//     store before sending and drops a task whose delivery is claimed or
//     done (ARCHITECTURE §3), which is what makes duplicates harmless.
//   - Lease order is the order tasks became ready (FIFO per queue), not
//     available_at: tasks enqueued already due with backdated available_at
//     come out in enqueue order.
//   - Delays run on the broker's clock: the TTL is computed from the adapter
//     clock's "now" at publish, but a simulated clock moved forward does not
//     make the broker release a delayed task sooner.
//   - Depth cannot see tasks leased by other processes (AMQP reports only
//     ready messages and consumer counts).
//   - Ack is not confirmed by the broker; if the connection fails right
//     after, the task is delivered again.
//
// Thread-safe; several processes may share the queues (competing
// consumers). A Task's receipt is valid only in the adapter that leased it.
#ifndef ALERTHUB_ADAPTERS_RABBITMQ_RABBITMQ_TASK_QUEUE_H_
#define ALERTHUB_ADAPTERS_RABBITMQ_RABBITMQ_TASK_QUEUE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/task_queue.h"

namespace alerthub {

struct AmqpTaskQueueOptions {
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  // AMQP connections; each carries its own leases.
  int connections = 2;
  // Negotiated AMQP heartbeat: a dead peer is noticed within about twice
  // this. Zero turns heartbeats off.
  absl::Duration heartbeat = absl::Seconds(30);
  absl::Duration connect_timeout = absl::Seconds(2);
  // Limit on each broker round trip and on waiting for a publisher confirm.
  absl::Duration command_timeout = absl::Seconds(10);
  // Upper bound of the reconnect backoff (it starts at 100 ms).
  absl::Duration max_backoff = absl::Seconds(5);
  // Most unacknowledged leases this adapter holds; Lease returns fewer
  // tasks beyond it.
  int max_leases = 1000;
  // When set, every queue the adapter declares is deleted by the broker
  // after this long unused (x-expires) — for tests and throwaway queues,
  // never for real ones: an unused delay queue is deleted with its tasks.
  std::optional<absl::Duration> queue_expires;
  // Source of "now" for available_at and leases. Must outlive the queue;
  // nullptr means Clock::Real().
  Clock* clock = nullptr;
};

// Parses an amqp:// URL (see above). kInvalidArgument naming the problem.
absl::StatusOr<AmqpTaskQueueOptions> AmqpTaskQueueOptionsFromUrl(absl::string_view url);

// Opens the queue; does not wait for the broker (the first call connects).
// kInvalidArgument for bad options.
absl::StatusOr<std::unique_ptr<TaskQueue>> OpenAmqpTaskQueue(const AmqpTaskQueueOptions& options);

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_RABBITMQ_RABBITMQ_TASK_QUEUE_H_
