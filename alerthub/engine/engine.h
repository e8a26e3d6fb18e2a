// Engine: the embedded AlertHub — adapters opened from URLs, the ingest
// pipeline and the outbox relay, wired as in ARCHITECTURE §3. The all-in-one
// daemon and the in-process alerthub::Client both run one.
//
//   EngineOptions options;
//   options.store = "sqlite:///var/lib/alerthub/alerthub.db";
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine, Engine::Open(options));
//   ALERTHUB_ASSIGN_OR_RETURN(Tenant t, engine->EnsureTenant("default"));
//   engine->pipeline().Submit({.tenant_id = t.id}, notification);
//
// Open() replays the outbox messages a previous run left unpublished, so a
// crash loses nothing that was acknowledged.
#ifndef ALERTHUB_ENGINE_ENGINE_H_
#define ALERTHUB_ENGINE_ENGINE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/model/tenant.h"
#include "alerthub/pipeline/outbox_relay.h"
#include "alerthub/pipeline/pipeline.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/event_log.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ports/store.h"
#include "alerthub/ports/task_queue.h"

namespace alerthub {

struct EngineOptions {
  // Adapter URLs (see alerthub/adapters/registry.h).
  std::string store = "sqlite://alerthub.db";
  std::string bus = "inproc://";
  std::string queue = "sql://";
  std::string kv = "memory://";
  PipelineOptions pipeline;
  OutboxRelayOptions relay;
  // Start the outbox relay thread in Open(). Off for callers that subscribe
  // to the bus first and then call StartRelay(), and for tools and tests that
  // drain the outbox themselves.
  bool run_relay = true;
  // Source of time for everything the engine opens. nullptr: Clock::Real().
  Clock* clock = nullptr;
};

class Engine {
 public:
  // Opens every adapter, replays the unpublished outbox and starts the relay.
  // kInvalidArgument for a bad URL; the adapters' errors otherwise.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options);

  // Stops the relay, then closes adapters in reverse order of opening.
  ~Engine();

  // Starts the relay thread and wakes it after every commit; its first round
  // replays what a previous run left unpublished. Subscribe consumers to the
  // bus before calling it. Idempotent.
  void StartRelay();

  // The tenant named `name`, created (with default settings) when absent.
  absl::StatusOr<Tenant> EnsureTenant(absl::string_view name);

  Store& store() { return *store_; }
  Kv& kv() { return *kv_; }
  EventLog& event_log() { return *event_log_; }
  TaskQueue& task_queue() { return *task_queue_; }
  Pipeline& pipeline() { return *pipeline_; }
  OutboxRelay& relay() { return *relay_; }
  Clock& clock() { return *clock_; }

 private:
  Engine() = default;

  Clock* clock_ = nullptr;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Kv> kv_;
  std::unique_ptr<EventLog> event_log_;
  std::unique_ptr<TaskQueue> task_queue_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<OutboxRelay> relay_;
  bool relay_started_ = false;
};

}  // namespace alerthub

#endif  // ALERTHUB_ENGINE_ENGINE_H_
