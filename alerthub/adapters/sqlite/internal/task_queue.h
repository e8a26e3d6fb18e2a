// Internal to the SQLite adapter: the `sql://` TaskQueue, kept in the
// `tasks` table of the store's database (see schema.cc).
//
// Every call that changes state is one IMMEDIATE transaction (EnqueueMany
// and Settle too, for all their tasks), so leases are exclusive across
// threads and across processes sharing the file. A lease hands out a
// fresh random receipt; Ack, Retry and DeadLetter succeed only with the
// receipt of the task's current lease — even after that lease has expired,
// as long as no other consumer has leased the task since (the work is done,
// and nobody else holds the task).
#ifndef ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TASK_QUEUE_H_
#define ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TASK_QUEUE_H_

#include <memory>

#include "alerthub/adapters/sqlite/internal/database.h"
#include "alerthub/ports/task_queue.h"

namespace alerthub::sqlite_internal {

// A queue over `db`, which it keeps alive.
std::unique_ptr<TaskQueue> NewSqliteTaskQueue(std::shared_ptr<Database> db);

}  // namespace alerthub::sqlite_internal

#endif  // ALERTHUB_ADAPTERS_SQLITE_INTERNAL_TASK_QUEUE_H_
