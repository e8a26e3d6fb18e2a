#include "alerthub/adapters/sqlite/internal/task_queue.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"

namespace alerthub::sqlite_internal {
namespace {

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// One conditional UPDATE picks and leases the tasks, so no two consumers can
// get the same one (and the IMMEDIATE transaction around it serializes
// processes sharing the file). RETURNING reports the attempts before this
// lease, as Task::attempts documents.
constexpr absl::string_view kLeaseSql = R"sql(
UPDATE tasks
   SET state = 'leased', visible_at = ?3, attempts = attempts + 1,
       receipt = lower(hex(randomblob(16)))
 WHERE queue = ?1 AND id IN (
       SELECT id FROM tasks
        WHERE queue = ?1 AND visible_at IS NOT NULL AND visible_at <= ?2
        ORDER BY visible_at, id
        LIMIT ?4)
RETURNING id, payload, attempts - 1, available_at, last_error, receipt)sql";

class SqliteTaskQueue final : public TaskQueue {
 public:
  explicit SqliteTaskQueue(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  absl::Status Enqueue(absl::string_view queue, absl::string_view id,
                       absl::string_view payload, absl::Time available_at) override {
    ALERTHUB_RETURN_IF_ERROR(CheckName(queue, id));
    const int64_t now = Micros(db_->clock().Now());
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement s,
          c.Prepare("INSERT INTO tasks (queue, id, payload, state, available_at, "
                    "visible_at, enqueued_at) VALUES (?1, ?2, ?3, 'ready', ?4, ?4, ?5) "
                    "ON CONFLICT (queue, id) DO NOTHING"));
      s.BindText(1, queue);
      s.BindText(2, id);
      s.BindBlob(3, payload);
      s.BindInt64(4, Micros(available_at));
      s.BindInt64(5, now);
      return s.Run();
      // Survives a process crash; the next durable commit of the database
      // fsyncs it (see TaskQueue::Enqueue).
    }, Database::Durability::kRelaxed);
  }

  absl::StatusOr<std::vector<Task>> Lease(absl::string_view queue, int max,
                                          absl::Duration lease) override {
    if (max <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("sqlite task queue: max must be positive, got ", max));
    }
    if (lease <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("sqlite task queue: lease must be positive");
    }
    const absl::Time now = db_->clock().Now();
    std::vector<Task> tasks;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      tasks.clear();
      ALERTHUB_ASSIGN_OR_RETURN(Statement s, c.Prepare(kLeaseSql));
      s.BindText(1, queue);
      s.BindInt64(2, Micros(now));
      s.BindInt64(3, Micros(now + lease));
      s.BindInt64(4, max);
      while (true) {
        ALERTHUB_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        Task t;
        t.queue = std::string(queue);
        t.id = std::string(s.ColumnText(0));
        t.payload = std::string(s.ColumnBlob(1));
        t.attempts = static_cast<int>(s.ColumnInt64(2));
        t.available_at = absl::FromUnixMicros(s.ColumnInt64(3));
        t.last_error = std::string(s.ColumnText(4));
        t.receipt = std::string(s.ColumnText(5));
        tasks.push_back(std::move(t));
      }
      return absl::OkStatus();
      // A lost lease only makes the task visible again: no fsync needed.
    }, Database::Durability::kRelaxed));
    // RETURNING comes in no particular order.
    std::sort(tasks.begin(), tasks.end(), [](const Task& a, const Task& b) {
      return std::tie(a.available_at, a.id) < std::tie(b.available_at, b.id);
    });
    return tasks;
  }

  absl::Status Ack(const Task& task) override {
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement s, c.Prepare("DELETE FROM tasks WHERE queue = ?1 AND id = ?2 "
                                 "AND state = 'leased' AND receipt = ?3"));
      s.BindText(1, task.queue);
      s.BindText(2, task.id);
      s.BindText(3, task.receipt);
      ALERTHUB_RETURN_IF_ERROR(s.Run());
      if (s.Changes() == 0) return LeaseLost(c, task);
      return absl::OkStatus();
      // A lost ack hands the task out again when its lease ends
      // (at-least-once, as for a consumer that crashed before acking).
    }, Database::Durability::kRelaxed);
  }

  absl::Status Retry(const Task& task, absl::Time available_at,
                     absl::string_view error) override {
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement s,
          c.Prepare("UPDATE tasks SET state = 'ready', available_at = ?4, "
                    "visible_at = ?4, last_error = ?5, receipt = NULL "
                    "WHERE queue = ?1 AND id = ?2 AND state = 'leased' AND receipt = ?3"));
      s.BindText(1, task.queue);
      s.BindText(2, task.id);
      s.BindText(3, task.receipt);
      s.BindInt64(4, Micros(available_at));
      s.BindText(5, error);
      ALERTHUB_RETURN_IF_ERROR(s.Run());
      if (s.Changes() == 0) return LeaseLost(c, task);
      return absl::OkStatus();
      // A lost retry hands the task out again when its lease ends.
    }, Database::Durability::kRelaxed);
  }

  absl::Status DeadLetter(const Task& task, absl::string_view reason) override {
    const int64_t now = Micros(db_->clock().Now());
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement s,
          c.Prepare("UPDATE tasks SET state = 'dead', visible_at = NULL, "
                    "last_error = ?4, receipt = NULL, dead_at = ?5 "
                    "WHERE queue = ?1 AND id = ?2 AND state = 'leased' AND receipt = ?3"));
      s.BindText(1, task.queue);
      s.BindText(2, task.id);
      s.BindText(3, task.receipt);
      s.BindText(4, reason);
      s.BindInt64(5, now);
      ALERTHUB_RETURN_IF_ERROR(s.Run());
      if (s.Changes() == 0) return LeaseLost(c, task);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<Task>> ListDead(absl::string_view queue, int limit) override {
    if (limit <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("sqlite task queue: limit must be positive, got ", limit));
    }
    std::vector<Task> tasks;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement s,
          c.Prepare("SELECT id, payload, attempts, available_at, last_error FROM tasks "
                    "WHERE queue = ?1 AND state = 'dead' ORDER BY dead_at, id LIMIT ?2"));
      s.BindText(1, queue);
      s.BindInt64(2, limit);
      while (true) {
        ALERTHUB_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) return absl::OkStatus();
        Task t;
        t.queue = std::string(queue);
        t.id = std::string(s.ColumnText(0));
        t.payload = std::string(s.ColumnBlob(1));
        t.attempts = static_cast<int>(s.ColumnInt64(2));
        t.available_at = absl::FromUnixMicros(s.ColumnInt64(3));
        t.last_error = std::string(s.ColumnText(4));
        tasks.push_back(std::move(t));
      }
    }));
    return tasks;
  }

  absl::Status Replay(absl::string_view queue, absl::string_view id) override {
    const int64_t now = Micros(db_->clock().Now());
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement s,
          c.Prepare("UPDATE tasks SET state = 'ready', attempts = 0, available_at = ?3, "
                    "visible_at = ?3, dead_at = NULL "
                    "WHERE queue = ?1 AND id = ?2 AND state = 'dead'"));
      s.BindText(1, queue);
      s.BindText(2, id);
      s.BindInt64(3, now);
      ALERTHUB_RETURN_IF_ERROR(s.Run());
      if (s.Changes() == 0) {
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
          Statement s, c.Prepare("SELECT count(*) FROM tasks "
                                 "WHERE queue = ?1 AND visible_at IS NOT NULL"));
      s.BindText(1, queue);
      ALERTHUB_ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) depth = s.ColumnInt64(0);
      return absl::OkStatus();
    }));
    return depth;
  }

  absl::Status Ping() override {
    return db_->Read([](Connection& c) { return c.Run("SELECT 1"); });
  }

 private:
  static absl::Status CheckName(absl::string_view queue, absl::string_view id) {
    if (queue.empty()) return absl::InvalidArgumentError("task queue: queue must not be empty");
    if (id.empty()) return absl::InvalidArgumentError("task queue: id must not be empty");
    return absl::OkStatus();
  }

  // Why a receipt-guarded change matched nothing: the task is gone
  // (kNotFound) or is held under another lease or state (kFailedPrecondition).
  static absl::Status LeaseLost(Connection& c, const Task& task) {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement s, c.Prepare("SELECT state FROM tasks WHERE queue = ?1 AND id = ?2"));
    s.BindText(1, task.queue);
    s.BindText(2, task.id);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat("no task \"", task.id, "\" in queue \"",
                                              task.queue, "\""));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "task \"", task.id, "\" in queue \"", task.queue, "\" is ", s.ColumnText(0),
        " and no longer held under this lease (it expired and the task was "
        "leased again, or the lease was already ended)"));
  }

  const std::shared_ptr<Database> db_;
};

}  // namespace

std::unique_ptr<TaskQueue> NewSqliteTaskQueue(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteTaskQueue>(std::move(db));
}

}  // namespace alerthub::sqlite_internal
