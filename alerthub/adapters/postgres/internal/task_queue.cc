#include "alerthub/adapters/postgres/internal/task_queue.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"

namespace alerthub::postgres_internal {
namespace {

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// Picks and leases in one statement. RETURNING reports the attempts before
// this lease, as Task::attempts documents. The receipt is a fresh UUIDv7 (74
// random bits), so a stale holder cannot guess the current one.
constexpr absl::string_view kLeaseSql = R"sql(
UPDATE tasks
   SET state = 'leased', visible_at = $3, attempts = attempts + 1, receipt = $5
 WHERE queue = $1 AND id IN (
       SELECT id FROM tasks
        WHERE queue = $1 AND visible_at IS NOT NULL AND visible_at <= $2
        ORDER BY visible_at, id
        LIMIT $4
        FOR UPDATE SKIP LOCKED)
RETURNING id, payload, attempts - 1, available_at, last_error, receipt)sql";

Task TaskFromRow(const Result& r, int row, absl::string_view queue) {
  Task t;
  t.queue = std::string(queue);
  t.id = std::string(r.Text(row, 0));
  t.payload = r.Bytes(row, 1);
  t.attempts = static_cast<int>(r.Int(row, 2));
  t.available_at = r.Time(row, 3);
  t.last_error = std::string(r.Text(row, 4));
  return t;
}

class PostgresTaskQueue final : public TaskQueue {
 public:
  explicit PostgresTaskQueue(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  absl::Status Enqueue(absl::string_view queue, absl::string_view id,
                       absl::string_view payload, absl::Time available_at) override {
    ALERTHUB_RETURN_IF_ERROR(CheckName(queue, id));
    const int64_t now = Micros(db_->clock().Now());
    return db_->Write([&](Connection& c) {
      return c
          .Query("INSERT INTO tasks (queue, id, payload, state, available_at, visible_at, "
                 "enqueued_at) VALUES ($1, $2, $3, 'ready', $4, $4, $5) "
                 "ON CONFLICT (queue, id) DO NOTHING",
                 Params().Text(queue).Text(id).Bytes(payload).Int(Micros(available_at)).Int(now))
          .status();
    });
  }

  absl::StatusOr<std::vector<Task>> Lease(absl::string_view queue, int max,
                                          absl::Duration lease) override {
    if (max <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("postgres task queue: max must be positive, got ", max));
    }
    if (lease <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("postgres task queue: lease must be positive");
    }
    const absl::Time now = db_->clock().Now();
    const std::string receipt = NewUuidV7(now);  // 74 random bits
    std::vector<Task> tasks;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      tasks.clear();
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query(kLeaseSql, Params()
                                           .Text(queue)
                                           .Int(Micros(now))
                                           .Int(Micros(now + lease))
                                           .Int(max)
                                           .Text(receipt)));
      for (int row = 0; row < r.rows(); ++row) {
        Task t = TaskFromRow(r, row, queue);
        t.receipt = std::string(r.Text(row, 5));
        tasks.push_back(std::move(t));
      }
      return absl::OkStatus();
    }));
    // RETURNING comes in no particular order.
    std::sort(tasks.begin(), tasks.end(), [](const Task& a, const Task& b) {
      return std::tie(a.available_at, a.id) < std::tie(b.available_at, b.id);
    });
    return tasks;
  }

  absl::Status Ack(const Task& task) override {
    return Guarded(task, "DELETE FROM tasks WHERE queue = $1 AND id = $2 "
                         "AND state = 'leased' AND receipt = $3",
                   Params().Text(task.queue).Text(task.id).Text(task.receipt));
  }

  absl::Status Retry(const Task& task, absl::Time available_at,
                     absl::string_view error) override {
    return Guarded(task,
                   "UPDATE tasks SET state = 'ready', available_at = $4, visible_at = $4, "
                   "last_error = $5, receipt = NULL "
                   "WHERE queue = $1 AND id = $2 AND state = 'leased' AND receipt = $3",
                   Params()
                       .Text(task.queue)
                       .Text(task.id)
                       .Text(task.receipt)
                       .Int(Micros(available_at))
                       .Text(error));
  }

  absl::Status DeadLetter(const Task& task, absl::string_view reason) override {
    return Guarded(task,
                   "UPDATE tasks SET state = 'dead', visible_at = NULL, last_error = $4, "
                   "receipt = NULL, dead_at = $5 "
                   "WHERE queue = $1 AND id = $2 AND state = 'leased' AND receipt = $3",
                   Params()
                       .Text(task.queue)
                       .Text(task.id)
                       .Text(task.receipt)
                       .Text(reason)
                       .Int(Micros(db_->clock().Now())));
  }

  absl::StatusOr<std::vector<Task>> ListDead(absl::string_view queue, int limit) override {
    if (limit <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("postgres task queue: limit must be positive, got ", limit));
    }
    std::vector<Task> tasks;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      tasks.clear();
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r,
          c.Query("SELECT id, payload, attempts, available_at, last_error FROM tasks "
                  "WHERE queue = $1 AND state = 'dead' ORDER BY dead_at, id LIMIT $2",
                  Params().Text(queue).Int(limit)));
      for (int row = 0; row < r.rows(); ++row) tasks.push_back(TaskFromRow(r, row, queue));
      return absl::OkStatus();
    }));
    return tasks;
  }

  absl::Status Replay(absl::string_view queue, absl::string_view id) override {
    const int64_t now = Micros(db_->clock().Now());
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r,
          c.Query("UPDATE tasks SET state = 'ready', attempts = 0, available_at = $3, "
                  "visible_at = $3, dead_at = NULL "
                  "WHERE queue = $1 AND id = $2 AND state = 'dead'",
                  Params().Text(queue).Text(id).Int(now)));
      if (r.Affected() == 0) {
        return absl::NotFoundError(
            absl::StrCat("no dead task \"", id, "\" in queue \"", queue, "\""));
      }
      return absl::OkStatus();
    });
  }

  absl::StatusOr<int64_t> Depth(absl::string_view queue) override {
    int64_t depth = 0;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      // visible_at is NULL exactly for dead tasks (a CHECK constraint).
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT count(*) FROM tasks WHERE queue = $1 "
                            "AND visible_at IS NOT NULL",
                            Params().Text(queue)));
      depth = r.Int(0, 0);
      return absl::OkStatus();
    }));
    return depth;
  }

  absl::Status Ping() override {
    return db_->Read([](Connection& c) { return c.Query("SELECT 1").status(); });
  }

 private:
  static absl::Status CheckName(absl::string_view queue, absl::string_view id) {
    if (queue.empty()) return absl::InvalidArgumentError("task queue: queue must not be empty");
    if (id.empty()) return absl::InvalidArgumentError("task queue: id must not be empty");
    return absl::OkStatus();
  }

  // Runs a receipt-guarded change; when it matches nothing, says why: the
  // task is gone (kNotFound) or is held under another lease or state
  // (kFailedPrecondition).
  absl::Status Guarded(const Task& task, absl::string_view sql, const Params& params) {
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r, c.Query(sql, params));
      if (r.Affected() > 0) return absl::OkStatus();
      ALERTHUB_ASSIGN_OR_RETURN(
          Result s, c.Query("SELECT state FROM tasks WHERE queue = $1 AND id = $2",
                            Params().Text(task.queue).Text(task.id)));
      if (s.rows() == 0) {
        return absl::NotFoundError(
            absl::StrCat("no task \"", task.id, "\" in queue \"", task.queue, "\""));
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "task \"", task.id, "\" in queue \"", task.queue, "\" is ", s.Text(0, 0),
          " and no longer held under this lease (it expired and the task was "
          "leased again, or the lease was already ended)"));
    });
  }

  const std::shared_ptr<Database> db_;
};

}  // namespace

std::unique_ptr<TaskQueue> NewPostgresTaskQueue(std::shared_ptr<Database> db) {
  return std::make_unique<PostgresTaskQueue>(std::move(db));
}

}  // namespace alerthub::postgres_internal
