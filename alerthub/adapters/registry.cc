#include "alerthub/adapters/registry.h"

#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/inproc/inproc_event_log.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/postgres/postgres_store.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/adapters/kafka/kafka_event_log.h"
#include "alerthub/adapters/rabbitmq/rabbitmq_task_queue.h"
#include "alerthub/adapters/redis/redis_kv.h"

namespace alerthub {
namespace {

template <typename Opener>
class Table {
 public:
  explicit Table(std::string what) : what_(std::move(what)) {}

  void Register(absl::string_view scheme, Opener opener) {
    absl::MutexLock lock(&mu_);
    openers_[std::string(scheme)] = std::move(opener);
  }

  absl::StatusOr<Opener> Find(absl::string_view url) {
    absl::StatusOr<std::string> scheme = UrlScheme(url);
    absl::MutexLock lock(&mu_);
    if (scheme.ok()) {
      auto it = openers_.find(*scheme);
      if (it != openers_.end()) return it->second;
    }
    std::vector<std::string> known;
    for (const auto& [s, unused] : openers_) known.push_back(absl::StrCat(s, "://"));
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported ", what_, " URL \"", url, "\": expected one of ",
        absl::StrJoin(known, ", ")));
  }

 private:
  const std::string what_;
  absl::Mutex mu_;
  std::map<std::string, Opener> openers_ ABSL_GUARDED_BY(mu_);
};

struct Registry {
  Table<StoreOpener> stores{"store"};
  Table<KvOpener> kvs{"kv"};
  Table<EventLogOpener> logs{"bus"};
  Table<TaskQueueOpener> queues{"queue"};

  Registry() {
    stores.Register("sqlite", [](absl::string_view url, Clock* clock)
                                  -> absl::StatusOr<std::unique_ptr<Store>> {
      absl::StatusOr<SqliteStoreOptions> options = SqliteStoreOptionsFromUrl(url);
      if (!options.ok()) return options.status();
      options->clock = clock;
      return OpenSqliteStore(*options);
    });
    kvs.Register("memory", [](absl::string_view url, Clock* clock)
                               -> absl::StatusOr<std::unique_ptr<Kv>> {
      if (url != "memory://") {
        return absl::InvalidArgumentError(
            absl::StrCat("kv URL \"", url, "\": memory:// takes no host or path"));
      }
      return NewMemoryKv({.clock = clock});
    });
    logs.Register("inproc", [](absl::string_view url)
                                -> absl::StatusOr<std::unique_ptr<EventLog>> {
      if (url != "inproc://") {
        return absl::InvalidArgumentError(
            absl::StrCat("bus URL \"", url, "\": inproc:// takes no host or path"));
      }
      return NewInprocEventLog();
    });
    queues.Register("sql", [](absl::string_view url, Store* store, Clock*)
                               -> absl::StatusOr<std::unique_ptr<TaskQueue>> {
      if (url != "sql://") {
        return absl::InvalidArgumentError(
            absl::StrCat("queue URL \"", url, "\": sql:// takes no host or path"));
      }
      if (store == nullptr) return absl::FailedPreconditionError("sql:// needs a store");
      return store->OpenTaskQueue();
    });
    // Distributed adapters (ARCHITECTURE §2).
    for (const char* scheme : {"postgres", "postgresql"}) {
      stores.Register(scheme, [](absl::string_view url, Clock* clock)
                                  -> absl::StatusOr<std::unique_ptr<Store>> {
        absl::StatusOr<PostgresStoreOptions> options = PostgresStoreOptionsFromUrl(url);
        if (!options.ok()) return options.status();
        options->clock = clock;
        return OpenPostgresStore(*options);
      });
    }
    kvs.Register("redis", [](absl::string_view url, Clock* clock)
                              -> absl::StatusOr<std::unique_ptr<Kv>> {
      absl::StatusOr<RedisKvOptions> options = RedisKvOptionsFromUrl(url);
      if (!options.ok()) return options.status();
      options->clock = clock;
      return OpenRedisKv(*options);
    });
    logs.Register("kafka", [](absl::string_view url)
                               -> absl::StatusOr<std::unique_ptr<EventLog>> {
      absl::StatusOr<KafkaEventLogOptions> options = KafkaEventLogOptionsFromUrl(url);
      if (!options.ok()) return options.status();
      return OpenKafkaEventLog(*options);
    });
    queues.Register("amqp", [](absl::string_view url, Store*, Clock* clock)
                                -> absl::StatusOr<std::unique_ptr<TaskQueue>> {
      absl::StatusOr<AmqpTaskQueueOptions> options = AmqpTaskQueueOptionsFromUrl(url);
      if (!options.ok()) return options.status();
      options->clock = clock;
      return OpenAmqpTaskQueue(*options);
    });
  }
};

Registry& Get() {
  static Registry* registry = new Registry();
  return *registry;
}

}  // namespace

absl::StatusOr<std::string> UrlScheme(absl::string_view url) {
  size_t pos = url.find("://");
  if (pos == absl::string_view::npos || pos == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", url, "\" is not a URL of the form scheme://..."));
  }
  return std::string(url.substr(0, pos));
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url, Clock* clock) {
  absl::StatusOr<StoreOpener> opener = Get().stores.Find(url);
  if (!opener.ok()) return opener.status();
  return (*opener)(url, clock != nullptr ? clock : Clock::Real());
}

absl::StatusOr<std::unique_ptr<Kv>> OpenKv(absl::string_view url, Clock* clock) {
  absl::StatusOr<KvOpener> opener = Get().kvs.Find(url);
  if (!opener.ok()) return opener.status();
  return (*opener)(url, clock != nullptr ? clock : Clock::Real());
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenEventLog(absl::string_view url) {
  absl::StatusOr<EventLogOpener> opener = Get().logs.Find(url);
  if (!opener.ok()) return opener.status();
  return (*opener)(url);
}

absl::StatusOr<std::unique_ptr<TaskQueue>> OpenTaskQueue(absl::string_view url,
                                                         Store* store, Clock* clock) {
  absl::StatusOr<TaskQueueOpener> opener = Get().queues.Find(url);
  if (!opener.ok()) return opener.status();
  return (*opener)(url, store, clock != nullptr ? clock : Clock::Real());
}

void RegisterStore(absl::string_view scheme, StoreOpener opener) {
  Get().stores.Register(scheme, std::move(opener));
}
void RegisterKv(absl::string_view scheme, KvOpener opener) {
  Get().kvs.Register(scheme, std::move(opener));
}
void RegisterEventLog(absl::string_view scheme, EventLogOpener opener) {
  Get().logs.Register(scheme, std::move(opener));
}
void RegisterTaskQueue(absl::string_view scheme, TaskQueueOpener opener) {
  Get().queues.Register(scheme, std::move(opener));
}

}  // namespace alerthub
