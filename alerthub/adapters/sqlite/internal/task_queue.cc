#include "alerthub/adapters/sqlite/internal/task_queue.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
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
    ALERTHUB_RETURN_IF_ERROR(CheckName(queue, id, ""));
    const int64_t now = Micros(db_->clock().Now());
    return WriteEnqueues([&](Connection& c) {
      return InsertTask(c, queue, id, payload, available_at, now);
    });
  }

  // Validates every task first, so a bad one adds none; then adds them all
  // in one transaction.
  absl::Status EnqueueMany(absl::Span<const NewTask> tasks) override {
    for (size_t i = 0; i < tasks.size(); ++i) {
      ALERTHUB_RETURN_IF_ERROR(
          CheckName(tasks[i].queue, tasks[i].id, absl::StrCat("tasks[", i, "].")));
    }
    if (tasks.empty()) return absl::OkStatus();
    const int64_t now = Micros(db_->clock().Now());
    return WriteEnqueues([&](Connection& c) -> absl::Status {
      for (const NewTask& t : tasks) {
        ALERTHUB_RETURN_IF_ERROR(InsertTask(c, t.queue, t.id, t.payload, t.available_at, now));
      }
      return absl::OkStatus();
    });
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
    return SettleOne({&task, TaskSettlement::Kind::kAck, absl::InfinitePast(), ""});
  }

  absl::Status Retry(const Task& task, absl::Time available_at,
                     absl::string_view error) override {
    return SettleOne({&task, TaskSettlement::Kind::kRetry, available_at, std::string(error)});
  }

  absl::Status DeadLetter(const Task& task, absl::string_view reason) override {
    return SettleOne(
        {&task, TaskSettlement::Kind::kDeadLetter, absl::InfinitePast(), std::string(reason)});
  }

  // One transaction for the whole batch. A lost lease is that settlement's
  // own status and the others still commit; a failed statement or commit
  // rolls all of them back and becomes every slot's status.
  std::vector<absl::Status> Settle(absl::Span<const TaskSettlement> settlements) override {
    std::vector<absl::Status> out(settlements.size());
    if (settlements.empty()) return out;
    const int64_t now = Micros(db_->clock().Now());
    // A lost ack or retry only hands the task out again when its lease ends
    // (at-least-once, as for a consumer that crashed before settling), so
    // they skip the fsync; a dead letter is the last word on a task and is
    // committed durably, together with whatever shares its transaction.
    const bool any_dead = std::any_of(
        settlements.begin(), settlements.end(), [](const TaskSettlement& s) {
          return s.kind == TaskSettlement::Kind::kDeadLetter;
        });
    const absl::Status committed = db_->Write(
        [&](Connection& c) -> absl::Status {
          for (size_t i = 0; i < settlements.size(); ++i) {
            ALERTHUB_RETURN_IF_ERROR(SettleIn(c, settlements[i], now, &out[i]));
          }
          return absl::OkStatus();
        },
        any_dead ? Database::Durability::kDefault : Database::Durability::kRelaxed);
    if (!committed.ok()) std::fill(out.begin(), out.end(), committed);
    return out;
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
  // kInvalidArgument naming the empty field; `field_prefix` says which task
  // of a batch it is ("tasks[3].").
  static absl::Status CheckName(absl::string_view queue, absl::string_view id,
                                absl::string_view field_prefix) {
    if (queue.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("task queue: ", field_prefix, "queue must not be empty"));
    }
    if (id.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("task queue: ", field_prefix, "id must not be empty"));
    }
    return absl::OkStatus();
  }

  // Runs `body`, which adds tasks, in one write transaction.
  absl::Status WriteEnqueues(absl::FunctionRef<absl::Status(Connection&)> body) {
    // Survives a process crash; the next durable commit of the database
    // fsyncs it (see TaskQueue::Enqueue).
    return db_->Write(body, Database::Durability::kRelaxed);
  }

  // Adds a ready task unless (queue, id) exists in any state, inside the
  // open transaction of `c`.
  static absl::Status InsertTask(Connection& c, absl::string_view queue, absl::string_view id,
                                 absl::string_view payload, absl::Time available_at,
                                 int64_t now) {
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
  }

  absl::Status SettleOne(const TaskSettlement& settlement) {
    return Settle(absl::MakeConstSpan(&settlement, 1)).front();
  }

  // Ends the lease of `settlement.task` inside the open transaction of `c`,
  // if the task is still held under its receipt. `*outcome` is the
  // settlement's own status: OK, or why the lease is lost (see LeaseLost).
  // The returned error is the transaction's: a statement failed.
  static absl::Status SettleIn(Connection& c, const TaskSettlement& settlement, int64_t now,
                               absl::Status* outcome) {
    if (settlement.task == nullptr) {
      *outcome = absl::InvalidArgumentError("task queue: settlement.task must not be null");
      return absl::OkStatus();
    }
    const Task& task = *settlement.task;
    absl::string_view sql;
    switch (settlement.kind) {
      case TaskSettlement::Kind::kAck:
        sql = "DELETE FROM tasks WHERE queue = ?1 AND id = ?2 "
              "AND state = 'leased' AND receipt = ?3";
        break;
      case TaskSettlement::Kind::kRetry:
        sql = "UPDATE tasks SET state = 'ready', available_at = ?4, "
              "visible_at = ?4, last_error = ?5, receipt = NULL "
              "WHERE queue = ?1 AND id = ?2 AND state = 'leased' AND receipt = ?3";
        break;
      case TaskSettlement::Kind::kDeadLetter:
        sql = "UPDATE tasks SET state = 'dead', visible_at = NULL, "
              "last_error = ?4, receipt = NULL, dead_at = ?5 "
              "WHERE queue = ?1 AND id = ?2 AND state = 'leased' AND receipt = ?3";
        break;
    }
    ALERTHUB_ASSIGN_OR_RETURN(Statement s, c.Prepare(sql));
    s.BindText(1, task.queue);
    s.BindText(2, task.id);
    s.BindText(3, task.receipt);
    switch (settlement.kind) {
      case TaskSettlement::Kind::kAck:
        break;
      case TaskSettlement::Kind::kRetry:
        s.BindInt64(4, Micros(settlement.available_at));
        s.BindText(5, settlement.error);
        break;
      case TaskSettlement::Kind::kDeadLetter:
        s.BindText(4, settlement.error);
        s.BindInt64(5, now);
        break;
    }
    ALERTHUB_RETURN_IF_ERROR(s.Run());
    if (s.Changes() > 0) {
      *outcome = absl::OkStatus();
      return absl::OkStatus();
    }
    return LeaseLost(c, task, outcome);
  }

  // Sets `*outcome` to why a receipt-guarded change matched nothing: the
  // task is gone (kNotFound) or is held under another lease or state
  // (kFailedPrecondition). Returns the error of a failed statement.
  static absl::Status LeaseLost(Connection& c, const Task& task, absl::Status* outcome) {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement s, c.Prepare("SELECT state FROM tasks WHERE queue = ?1 AND id = ?2"));
    s.BindText(1, task.queue);
    s.BindText(2, task.id);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      *outcome = absl::NotFoundError(
          absl::StrCat("no task \"", task.id, "\" in queue \"", task.queue, "\""));
    } else {
      *outcome = absl::FailedPreconditionError(absl::StrCat(
          "task \"", task.id, "\" in queue \"", task.queue, "\" is ", s.ColumnText(0),
          " and no longer held under this lease (it expired and the task was "
          "leased again, or the lease was already ended)"));
    }
    return absl::OkStatus();
  }

  const std::shared_ptr<Database> db_;
};

}  // namespace

std::unique_ptr<TaskQueue> NewSqliteTaskQueue(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteTaskQueue>(std::move(db));
}

}  // namespace alerthub::sqlite_internal
