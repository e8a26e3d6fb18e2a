// Internal to the PostgreSQL adapter: the `sql://` TaskQueue, kept in the
// `tasks` table of the store's database (see schema.cc), shared by every
// process that opens the same database.
//
// Lease picks rows with FOR UPDATE SKIP LOCKED in one UPDATE, so concurrent
// consumers (threads or processes) get disjoint tasks without waiting for
// each other. A lease hands out a fresh random receipt; Ack, Retry and
// DeadLetter succeed only with the receipt of the task's current lease, as
// in the SQLite queue (sqlite/internal/task_queue.h). EnqueueMany and Settle
// each run as one transaction that changes rows in (queue, id) order.
#ifndef ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_TASK_QUEUE_H_
#define ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_TASK_QUEUE_H_

#include <memory>

#include "alerthub/adapters/postgres/internal/database.h"
#include "alerthub/ports/task_queue.h"

namespace alerthub::postgres_internal {

// A queue over `db`, which it keeps alive.
std::unique_ptr<TaskQueue> NewPostgresTaskQueue(std::shared_ptr<Database> db);

}  // namespace alerthub::postgres_internal

#endif  // ALERTHUB_ADAPTERS_POSTGRES_INTERNAL_TASK_QUEUE_H_
