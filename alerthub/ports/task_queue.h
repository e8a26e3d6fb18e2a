// TaskQueue: durable work queues for delivery workers
// (`integration.<channel>.delivery`), with delayed retries and a dead-letter
// queue per queue. Embedded default `sql://` (a table in the store, see
// Store::OpenTaskQueue), distributed `amqp://`.
//
// Thread safety: safe for concurrent access from multiple threads and, for
// every adapter but memory-backed ones, from several processes: a task is
// leased by one consumer at a time.
//
//   ALERTHUB_RETURN_IF_ERROR(q->Enqueue("integration.webhook.delivery", task_id, payload, now));
//   for (Task& t : *q->Lease("integration.webhook.delivery", 16, absl::Seconds(60))) {
//     ... send ...;  q->Ack(t)  or  q->Retry(t, now + backoff, "503")  or  q->DeadLetter(t, "410")
//   }
#ifndef ALERTHUB_PORTS_TASK_QUEUE_H_
#define ALERTHUB_PORTS_TASK_QUEUE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace alerthub {

struct Task {
  std::string queue;
  std::string id;        // caller-chosen, unique within the queue (delivery id)
  std::string payload;
  int attempts = 0;      // how many times it was leased before this lease
  absl::Time available_at = absl::InfinitePast();
  std::string last_error;  // set by Retry()/DeadLetter()
  std::string receipt;     // adapter's handle for this lease; pass the Task back as is
};

// One task for TaskQueue::EnqueueMany.
struct NewTask {
  std::string queue;
  std::string id;
  std::string payload;
  absl::Time available_at = absl::InfinitePast();
};

// How a leased task ends, for TaskQueue::Settle: Ack, Retry or DeadLetter.
struct TaskSettlement {
  enum class Kind { kAck, kRetry, kDeadLetter };
  const Task* task = nullptr;  // as leased; must outlive the call
  Kind kind = Kind::kAck;
  absl::Time available_at = absl::InfinitePast();  // kRetry
  std::string error;  // kRetry: the error; kDeadLetter: the reason
};

class TaskQueue {
 public:
  virtual ~TaskQueue() = default;

  // Durably adds a task that becomes available at `available_at`. Returns
  // once the task survives a crash of the process. (sql:// leaves the fsync
  // to the next durable commit of its database, so a power loss may undo
  // the latest enqueues together with every later write; task producers
  // keep their source of truth in the store and re-enqueue from it after a
  // restart, as the delivery dispatcher does.) Idempotent: when a task with this id is
  // already in the queue (ready, leased or dead) nothing changes and the call
  // returns OK.
  virtual absl::Status Enqueue(absl::string_view queue, absl::string_view id,
                               absl::string_view payload,
                               absl::Time available_at) = 0;

  // Leases up to `max` tasks whose available_at has passed, oldest first; a
  // leased task is invisible to other consumers until Ack/Retry/DeadLetter or
  // until `lease` elapses (then it is available again, with attempts + 1).
  // Returns an empty vector when none is ready. REQUIRES: max > 0.
  virtual absl::StatusOr<std::vector<Task>> Lease(absl::string_view queue,
                                                  int max,
                                                  absl::Duration lease) = 0;

  // Removes a leased task: its work is done. kNotFound (or kFailedPrecondition
  // where the adapter can tell) when the lease has expired and another
  // consumer may hold the task.
  virtual absl::Status Ack(const Task& task) = 0;

  // Returns a leased task to the queue, available again at `available_at`,
  // recording `error`.
  virtual absl::Status Retry(const Task& task, absl::Time available_at,
                             absl::string_view error) = 0;

  // Moves a leased task to the queue's dead-letter queue with `reason`.
  virtual absl::Status DeadLetter(const Task& task, absl::string_view reason) = 0;

  // Enqueue for several tasks (of any queues) at once: sql:// adds them in
  // one transaction, amqp:// publishes them all and then awaits their
  // confirms together. OK when every task is in its queue; on an error some
  // may have been added, so retry them all (as Enqueue, a task already in
  // the queue is not added twice on sql://; amqp:// keeps no index of ids).
  // The default calls Enqueue for each.
  virtual absl::Status EnqueueMany(absl::Span<const NewTask> tasks);

  // Ends several leased tasks at once, each as Ack, Retry or DeadLetter would:
  // sql:// in one transaction. One status per settlement, in order, with
  // those methods' meanings. The default calls them one by one.
  virtual std::vector<absl::Status> Settle(absl::Span<const TaskSettlement> settlements);

  // Up to `limit` dead tasks of `queue`, oldest first.
  virtual absl::StatusOr<std::vector<Task>> ListDead(absl::string_view queue,
                                                     int limit) = 0;

  // Moves dead task `id` back to `queue`, available now, attempts reset.
  // kNotFound when no such dead task exists.
  virtual absl::Status Replay(absl::string_view queue, absl::string_view id) = 0;

  // Tasks in `queue` that are ready or leased (not dead).
  virtual absl::StatusOr<int64_t> Depth(absl::string_view queue) = 0;

  // OK when the queue can be used now; kUnavailable otherwise.
  virtual absl::Status Ping() = 0;
};

inline absl::Status TaskQueue::EnqueueMany(absl::Span<const NewTask> tasks) {
  for (const NewTask& t : tasks) {
    absl::Status s = Enqueue(t.queue, t.id, t.payload, t.available_at);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

inline std::vector<absl::Status> TaskQueue::Settle(
    absl::Span<const TaskSettlement> settlements) {
  std::vector<absl::Status> out;
  out.reserve(settlements.size());
  for (const TaskSettlement& s : settlements) {
    switch (s.kind) {
      case TaskSettlement::Kind::kAck:
        out.push_back(Ack(*s.task));
        break;
      case TaskSettlement::Kind::kRetry:
        out.push_back(Retry(*s.task, s.available_at, s.error));
        break;
      case TaskSettlement::Kind::kDeadLetter:
        out.push_back(DeadLetter(*s.task, s.error));
        break;
    }
  }
  return out;
}

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_TASK_QUEUE_H_
