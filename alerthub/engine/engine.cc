#include "alerthub/engine/engine.h"

#include <utility>

#include "alerthub/adapters/registry.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"

namespace alerthub {

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  std::unique_ptr<Engine> e(new Engine());
  e->clock_ = options.clock != nullptr ? options.clock : Clock::Real();
  ALERTHUB_ASSIGN_OR_RETURN(e->store_, OpenStore(options.store, e->clock_));
  ALERTHUB_ASSIGN_OR_RETURN(e->kv_, OpenKv(options.kv, e->clock_));
  ALERTHUB_ASSIGN_OR_RETURN(e->event_log_, OpenEventLog(options.bus));
  ALERTHUB_ASSIGN_OR_RETURN(e->task_queue_,
                            OpenTaskQueue(options.queue, e->store_.get(), e->clock_));

  PipelineOptions pipeline_options = options.pipeline;
  pipeline_options.clock = e->clock_;
  e->pipeline_ = std::make_unique<Pipeline>(e->store_.get(), e->kv_.get(),
                                            std::move(pipeline_options));
  e->relay_ = std::make_unique<OutboxRelay>(e->store_.get(), e->event_log_.get(),
                                            options.relay);
  if (options.run_relay) e->StartRelay();
  return e;
}

void Engine::StartRelay() {
  if (relay_started_) return;
  relay_started_ = true;
  OutboxRelay* relay = relay_.get();
  pipeline_->SetCommitListener([relay] { relay->Wake(); });
  relay->Start();
}

Engine::~Engine() {
  if (relay_ != nullptr) relay_->Stop();
  // Asynchronous submissions still committing finish here, while the relay
  // their commits wake and every adapter still exist.
  pipeline_.reset();
}

absl::StatusOr<Tenant> Engine::EnsureTenant(absl::string_view name) {
  absl::StatusOr<Tenant> existing = store_->GetTenantByName(name);
  if (existing.ok() || existing.status().code() != absl::StatusCode::kNotFound) {
    return existing;
  }
  ALERTHUB_RETURN_IF_ERROR(ValidateTenantName(name));
  Tenant t;
  t.id = NewUuidV7(clock_->Now());
  t.name = std::string(name);
  t.created_at = clock_->Now();
  absl::Status created = store_->CreateTenant(t);
  if (created.code() == absl::StatusCode::kAlreadyExists) {
    return store_->GetTenantByName(name);  // created concurrently
  }
  ALERTHUB_RETURN_IF_ERROR(created);
  return t;
}

}  // namespace alerthub
