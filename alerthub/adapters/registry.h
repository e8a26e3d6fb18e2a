// Adapter registry: opens a port implementation from a URL, choosing the
// adapter by the URL's scheme (ARCHITECTURE §2).
//
//   store   sqlite:///var/lib/alerthub/alerthub.db | sqlite://:memory:
//   bus     inproc://
//   queue   sql://        (a table in the store)
//   kv      memory://
//
// and the distributed ones (each header documents its URL's parameters):
//
//   store   postgres://user@host:port/db          postgres/postgres_store.h
//   bus     kafka://host:port[,host:port...]     kafka/kafka_event_log.h
//   queue   amqp://user:pw@host:port/vhost        rabbitmq/rabbitmq_task_queue.h
//   kv      redis://[:pw@]host:port[/db]          redis/redis_kv.h
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
//                             OpenStore("sqlite:///tmp/a.db", clock));
//
// Unknown schemes and malformed URLs are kInvalidArgument naming the flag's
// accepted forms. Applications can register further adapters before opening.
#ifndef ALERTHUB_ADAPTERS_REGISTRY_H_
#define ALERTHUB_ADAPTERS_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/event_log.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ports/store.h"
#include "alerthub/ports/task_queue.h"

namespace alerthub {

// The scheme of `url` ("sqlite" for "sqlite:///x"); kInvalidArgument when
// `url` has no "scheme://".
absl::StatusOr<std::string> UrlScheme(absl::string_view url);

// `clock` must outlive what is opened; nullptr means Clock::Real().
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url, Clock* clock);
absl::StatusOr<std::unique_ptr<Kv>> OpenKv(absl::string_view url, Clock* clock);
absl::StatusOr<std::unique_ptr<EventLog>> OpenEventLog(absl::string_view url);
// `store` is the already-open store, which `sql://` uses; it must outlive the
// queue.
absl::StatusOr<std::unique_ptr<TaskQueue>> OpenTaskQueue(absl::string_view url,
                                                         Store* store, Clock* clock);

// Extension points: register an adapter for a new scheme (thread-safe; a
// later registration of the same scheme replaces the earlier one).
using StoreOpener =
    std::function<absl::StatusOr<std::unique_ptr<Store>>(absl::string_view url, Clock* clock)>;
using KvOpener =
    std::function<absl::StatusOr<std::unique_ptr<Kv>>(absl::string_view url, Clock* clock)>;
using EventLogOpener =
    std::function<absl::StatusOr<std::unique_ptr<EventLog>>(absl::string_view url)>;
using TaskQueueOpener = std::function<absl::StatusOr<std::unique_ptr<TaskQueue>>(
    absl::string_view url, Store* store, Clock* clock)>;

void RegisterStore(absl::string_view scheme, StoreOpener opener);
void RegisterKv(absl::string_view scheme, KvOpener opener);
void RegisterEventLog(absl::string_view scheme, EventLogOpener opener);
void RegisterTaskQueue(absl::string_view scheme, TaskQueueOpener opener);

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_REGISTRY_H_
