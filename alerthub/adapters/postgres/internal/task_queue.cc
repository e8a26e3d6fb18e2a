#include "alerthub/adapters/postgres/internal/task_queue.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
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
    ALERTHUB_RETURN_IF_ERROR(CheckName(queue, id, ""));
    const int64_t now = Micros(db_->clock().Now());
    return db_->Write([&](Connection& c) {
      return InsertTask(c, queue, id, payload, available_at, now);
    });
  }

  // Validates every task first, so a bad one adds none; then adds them all
  // in one transaction, in (queue, id) order: concurrent batches with the
  // same ids wait for each other instead of deadlocking.
  absl::Status EnqueueMany(absl::Span<const NewTask> tasks) override {
    for (size_t i = 0; i < tasks.size(); ++i) {
      ALERTHUB_RETURN_IF_ERROR(
          CheckName(tasks[i].queue, tasks[i].id, absl::StrCat("tasks[", i, "].")));
    }
    if (tasks.empty()) return absl::OkStatus();
    const std::vector<size_t> order =
        RowOrder(tasks, [](const NewTask& t) { return RowKey(t.queue, t.id); });
    const int64_t now = Micros(db_->clock().Now());
    return db_->Write([&](Connection& c) -> absl::Status {
      for (size_t i : order) {
        const NewTask& t = tasks[i];
        ALERTHUB_RETURN_IF_ERROR(InsertTask(c, t.queue, t.id, t.payload, t.available_at, now));
      }
      return absl::OkStatus();
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

  // One transaction for the whole batch, rows changed in (queue, id) order
  // (see EnqueueMany). A lost lease is that settlement's own status and the
  // others still commit; a failed statement or commit rolls all of them
  // back and becomes every slot's status.
  std::vector<absl::Status> Settle(absl::Span<const TaskSettlement> settlements) override {
    std::vector<absl::Status> out(settlements.size());
    if (settlements.empty()) return out;
    const std::vector<size_t> order = RowOrder(settlements, [](const TaskSettlement& s) {
      return s.task == nullptr ? RowKey() : RowKey(s.task->queue, s.task->id);
    });
    const int64_t now = Micros(db_->clock().Now());
    // Every slot is set on each run, also when Write runs it again.
    const absl::Status committed = db_->Write([&](Connection& c) -> absl::Status {
      for (size_t i : order) {
        ALERTHUB_RETURN_IF_ERROR(SettleIn(c, settlements[i], now, &out[i]));
      }
      return absl::OkStatus();
    });
    if (!committed.ok()) std::fill(out.begin(), out.end(), committed);
    return out;
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

  // (queue, id): the row a task lives in.
  using RowKey = std::pair<absl::string_view, absl::string_view>;

  // Indexes of `items` sorted by the RowKey `row_key` gives each, so every
  // transaction locks rows in the same order.
  template <typename T, typename KeyFn>
  static std::vector<size_t> RowOrder(absl::Span<const T> items, KeyFn row_key) {
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return row_key(items[a]) < row_key(items[b]);
    });
    return order;
  }

  // Adds a ready task unless (queue, id) exists in any state, inside the
  // open transaction of `c`.
  static absl::Status InsertTask(Connection& c, absl::string_view queue, absl::string_view id,
                                 absl::string_view payload, absl::Time available_at,
                                 int64_t now) {
    return c
        .Query("INSERT INTO tasks (queue, id, payload, state, available_at, visible_at, "
               "enqueued_at) VALUES ($1, $2, $3, 'ready', $4, $4, $5) "
               "ON CONFLICT (queue, id) DO NOTHING",
               Params().Text(queue).Text(id).Bytes(payload).Int(Micros(available_at)).Int(now))
        .status();
  }

  absl::Status SettleOne(const TaskSettlement& settlement) {
    return Settle(absl::MakeConstSpan(&settlement, 1)).front();
  }

  // Ends the lease of `settlement.task` inside the open transaction of `c`,
  // if the task is still held under its receipt. `*outcome` is the
  // settlement's own status: OK, the task is gone (kNotFound) or it is held
  // under another lease or state (kFailedPrecondition). The returned error
  // is the transaction's: a statement failed.
  static absl::Status SettleIn(Connection& c, const TaskSettlement& settlement, int64_t now,
                               absl::Status* outcome) {
    if (settlement.task == nullptr) {
      *outcome = absl::InvalidArgumentError("task queue: settlement.task must not be null");
      return absl::OkStatus();
    }
    const Task& task = *settlement.task;
    Params params;
    params.Text(task.queue).Text(task.id).Text(task.receipt);
    absl::string_view sql;
    switch (settlement.kind) {
      case TaskSettlement::Kind::kAck:
        sql = "DELETE FROM tasks WHERE queue = $1 AND id = $2 "
              "AND state = 'leased' AND receipt = $3";
        break;
      case TaskSettlement::Kind::kRetry:
        sql = "UPDATE tasks SET state = 'ready', available_at = $4, visible_at = $4, "
              "last_error = $5, receipt = NULL "
              "WHERE queue = $1 AND id = $2 AND state = 'leased' AND receipt = $3";
        params.Int(Micros(settlement.available_at)).Text(settlement.error);
        break;
      case TaskSettlement::Kind::kDeadLetter:
        sql = "UPDATE tasks SET state = 'dead', visible_at = NULL, last_error = $4, "
              "receipt = NULL, dead_at = $5 "
              "WHERE queue = $1 AND id = $2 AND state = 'leased' AND receipt = $3";
        params.Text(settlement.error).Int(now);
        break;
    }
    ALERTHUB_ASSIGN_OR_RETURN(Result r, c.Query(sql, params));
    if (r.Affected() > 0) {
      *outcome = absl::OkStatus();
      return absl::OkStatus();
    }
    ALERTHUB_ASSIGN_OR_RETURN(
        Result s, c.Query("SELECT state FROM tasks WHERE queue = $1 AND id = $2",
                          Params().Text(task.queue).Text(task.id)));
    if (s.rows() == 0) {
      *outcome = absl::NotFoundError(
          absl::StrCat("no task \"", task.id, "\" in queue \"", task.queue, "\""));
    } else {
      *outcome = absl::FailedPreconditionError(absl::StrCat(
          "task \"", task.id, "\" in queue \"", task.queue, "\" is ", s.Text(0, 0),
          " and no longer held under this lease (it expired and the task was "
          "leased again, or the lease was already ended)"));
    }
    return absl::OkStatus();
  }

  const std::shared_ptr<Database> db_;
};

}  // namespace

std::unique_ptr<TaskQueue> NewPostgresTaskQueue(std::shared_ptr<Database> db) {
  return std::make_unique<PostgresTaskQueue>(std::move(db));
}

}  // namespace alerthub::postgres_internal
