// Pipeline: the ingest path of ARCHITECTURE §3 step 1 —
//   validate -> rate-limit -> dedup -> ONE transaction writing the
//   notification, its `accepted` event and its outbox message.
// Concurrent submissions are group-committed (see group_commit.h). A result
// that is OK means the notification is durable.
//
//   Pipeline pipeline(store, kv, {});
//   SubmitContext ctx{.tenant_id = tenant.id};
//   absl::StatusOr<SubmitResult> r = pipeline.Submit(ctx, notification);
//   // r->id, r->duplicate
//
// Thread-safe. Errors:
//   kInvalidArgument     the notification breaks a rule (FieldErrorsOf names each field)
//   kResourceExhausted   rate limited (RateLimitInfoOf carries retry-after)
//   kNotFound            the tenant does not exist
//   kUnavailable         the store (or, failing closed, Kv) is unavailable: retry
#ifndef ALERTHUB_PIPELINE_PIPELINE_H_
#define ALERTHUB_PIPELINE_PIPELINE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/dedup/dedup.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/tenant.h"
#include "alerthub/pipeline/group_commit.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ports/store.h"
#include "alerthub/ratelimit/rate_limiter.h"

namespace alerthub {

struct PipelineOptions {
  RateLimitOptions rate_limit;
  GroupCommitOptions group_commit;
  // Content-dedup window for tenants that do not set their own; zero disables.
  absl::Duration default_dedup_window = kDefaultDedupWindow;
  // How long tenant settings are cached before being read again.
  absl::Duration tenant_cache_ttl = absl::Seconds(10);
  // The `source` attribute of the CloudEvents the pipeline writes.
  std::string event_source = "/alerthub/pipeline";
  // Source of time. Must outlive the pipeline. nullptr: Clock::Real().
  Clock* clock = nullptr;
};

// Who submits and how; never taken from the notification body.
struct SubmitContext {
  std::string tenant_id;
  std::string idempotency_key;  // the Idempotency-Key header, if any
  std::string traceparent;      // W3C trace context to carry to the bus
  // The notification came from NotificationFromRequestJson() and is already
  // validated; skips validating it a second time.
  bool validated = false;
};

struct SubmitResult {
  std::string id;
  NotificationStatus status = NotificationStatus::kAccepted;
  bool duplicate = false;  // an earlier submission with the same dedup key or content
  RateLimitInfo rate_limit;  // state of the tenant's buckets after this call
};

class Pipeline {
 public:
  // `store` and `kv` must outlive the pipeline.
  Pipeline(Store* store, Kv* kv, PipelineOptions options);

  absl::StatusOr<SubmitResult> Submit(const SubmitContext& ctx, Notification n);

  // Submits up to kMaxBatch notifications in one transaction and returns one
  // result per item, in order: a bad item gets its own error and does not
  // sink the others. The whole call fails (one error for all) only when the
  // batch size is out of range, the tenant is unknown, the batch is rate
  // limited (it costs one token per valid item) or the commit fails.
  static constexpr size_t kMaxBatch = 100;
  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> SubmitBatch(
      const SubmitContext& ctx, std::vector<Notification> items);

  // Cancels the tenant's notification `id` while nothing of it has been
  // sent (Store::CancelNotification: waiting deliveries are suppressed, a
  // later routing writes nothing) and publishes the status update. Returns
  // the notification as stored after. kNotFound when absent or another
  // tenant's; kFailedPrecondition when it is final or a delivery of it has
  // started.
  absl::StatusOr<Notification> Cancel(const SubmitContext& ctx, absl::string_view id);

  // Called after every commit that wrote new notifications (the outbox relay
  // wakes on it). Set before the first Submit.
  void SetCommitListener(std::function<void()> listener) {
    commit_listener_ = std::move(listener);
  }

  const GroupCommitter& committer() const { return committer_; }
  const RateLimiter& rate_limiter() const { return rate_limiter_; }
  // Notifications accepted (not duplicates) since construction.
  int64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }

 private:
  struct Prepared;

  absl::StatusOr<Tenant> LookupTenant(absl::string_view tenant_id);
  // Validates and dedups one item; fills `p`. A non-OK status is the item's
  // own error; an OK with p->duplicate set is a content duplicate.
  absl::Status Prepare(const SubmitContext& ctx, const Tenant& tenant,
                       absl::Time now, Notification n, Prepared* p);
  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> Run(
      const SubmitContext& ctx, std::vector<Notification> items, bool batch);

  // Content hashes being deduplicated and committed right now in this
  // process: a second submission of identical content waits for the first to
  // be committed and remembered, then finds it (see dedup/dedup.h).
  class ContentClaims {
   public:
    // Blocks while another caller holds `hash`, then holds it.
    void Acquire(const std::string& hash);
    void Release(const std::string& hash);

   private:
    absl::Mutex mu_;
    absl::flat_hash_set<std::string> held_ ABSL_GUARDED_BY(mu_);
  };

  Store* const store_;
  Kv* const kv_;
  const PipelineOptions options_;
  Clock* const clock_;
  RateLimiter rate_limiter_;
  ContentDeduplicator dedup_;
  GroupCommitter committer_;
  ContentClaims content_claims_;
  std::function<void()> commit_listener_;
  std::atomic<int64_t> accepted_{0};

  struct CachedTenant {
    Tenant tenant;
    absl::Time expires;
  };
  absl::Mutex tenants_mu_;
  absl::flat_hash_map<std::string, CachedTenant> tenants_ ABSL_GUARDED_BY(tenants_mu_);
};

}  // namespace alerthub

#endif  // ALERTHUB_PIPELINE_PIPELINE_H_
