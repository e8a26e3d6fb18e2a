// What the amqp:// TaskQueue keeps on the broker for one port queue Q, and
// what each message carries. Pure functions; the AMQP calls are in
// connection.h.
//
//   Q                   durable, the ready tasks, FIFO; dead-letters (a
//                       reject without requeue) to exchange kDeadExchange
//                       with routing key Q
//   Q.dead              durable, bound to kDeadExchange with key Q: the
//                       dead-letter queue
//   Q.delay.<ms>        durable, x-message-ttl <ms>, dead-letters to Q
//                       through the default exchange: kDelayLevels of them,
//                       100 ms doubling up to 100 ms * 2^19 (14.6 h)
#ifndef ALERTHUB_ADAPTERS_RABBITMQ_INTERNAL_TOPOLOGY_H_
#define ALERTHUB_ADAPTERS_RABBITMQ_INTERNAL_TOPOLOGY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace alerthub::rabbitmq_internal {

// The direct exchange every queue's dead-letter queue is bound to.
inline constexpr char kDeadExchange[] = "alerthub.dead";

inline constexpr absl::Duration kDelayBase = absl::Milliseconds(100);
inline constexpr int kDelayLevels = 20;

// The TTL of delay queue `level` (0 <= level < kDelayLevels).
absl::Duration DelayOfLevel(int level);

// The delay queue a task `remaining` away from ready goes to: the longest
// delay not longer than `remaining` (so it is never early; whatever is left
// when it comes out is delayed again), the shortest when `remaining` is
// shorter than that. -1 when remaining <= 0: straight to the ready queue.
int DelayLevelFor(absl::Duration remaining);

std::string DeadQueueName(absl::string_view queue);
std::string DelayQueueName(absl::string_view queue, int level);

// kInvalidArgument unless `queue` can name an AMQP queue with our suffixes:
// 1-200 bytes, no "amq." prefix (reserved by the broker).
absl::Status ValidateQueueName(absl::string_view queue);

// A task as one AMQP message: the payload is the body, the rest rides in
// the message id and headers (x-alerthub-*).
struct TaskMessage {
  std::string queue;
  std::string id;
  std::string payload;
  int attempts = 0;
  absl::Time available_at = absl::InfinitePast();
  std::string last_error;
  absl::Time dead_at = absl::InfinitePast();  // set in the dead-letter queue
};

}  // namespace alerthub::rabbitmq_internal

#endif  // ALERTHUB_ADAPTERS_RABBITMQ_INTERNAL_TOPOLOGY_H_
