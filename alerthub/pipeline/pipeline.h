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
//   pipeline.SubmitAsync(ctx, notification, [](absl::StatusOr<SubmitResult> r) { ... });
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
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
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
  // Finishes the asynchronous submissions in flight (their callbacks run).
  ~Pipeline();

  absl::StatusOr<SubmitResult> Submit(const SubmitContext& ctx, Notification n);

  // Submit() that does not wait for the commit: `done` gets what Submit()
  // would have returned, exactly once — on the calling thread when the
  // outcome is known without a commit (invalid, rate limited, a duplicate),
  // else on the thread that committed it (GroupCommitter::CommitAsync).
  // Blocks only on the Kv and store calls of the checks before the commit
  // (the tenant, the rate limit, the dedup lookup; a duplicate's status
  // read), so a thread serving many connections may call it when its Kv and
  // store answer from this process. A submission whose content is being
  // committed by another call right now resumes, on that commit's thread,
  // once the first is remembered. On the committing thread, `done` follows
  // Kv::WriteBehind (not waiting for the Kv) and, only for a submission the
  // commit found to be a duplicate, the original's status read.
  using SubmitCallback = absl::AnyInvocable<void(absl::StatusOr<SubmitResult>) &&>;
  void SubmitAsync(const SubmitContext& ctx, Notification n, SubmitCallback done);

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
  struct Call;

  absl::StatusOr<Tenant> LookupTenant(absl::string_view tenant_id);
  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> Run(
      const SubmitContext& ctx, std::vector<Notification> items, bool batch);
  // The steps of a call: Start validates and computes the dedup keys (a
  // non-OK status fails the whole call); with the call's content hashes
  // claimed, BuildWrites rate-limits, looks the hashes up and renders the
  // rows to commit; Finish turns the commit's outcomes into results
  // (remembering new content, publishing status updates). ReleaseClaims
  // comes last.
  absl::StatusOr<Call> Start(const SubmitContext& ctx, std::vector<Notification> items,
                             bool batch);
  absl::Status BuildWrites(Call& call, std::vector<SubmissionWrite>* writes);
  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> Finish(
      Call& call, absl::StatusOr<std::vector<SubmissionOutcome>> committed);
  void ReleaseClaims(Call& call);
  // SubmitAsync from the content claims on.
  void ContinueAsync(std::unique_ptr<Call> call, SubmitCallback done);

  // Content hashes being deduplicated and committed right now in this
  // process: a second submission of identical content waits for the first to
  // be committed and remembered, then finds it (see dedup/dedup.h).
  class ContentClaims {
   public:
    using Retry = absl::AnyInvocable<void() &&>;
    // Blocks while another caller holds `hash`, then holds it.
    void Acquire(const std::string& hash);
    // Holds every one of `hashes` and returns true when none is held; else
    // holds none, queues make_retry()'s result to run when the held one is
    // released (on the releasing thread), and returns false.
    bool AcquireAllOrQueue(const std::vector<std::string>& hashes,
                           absl::FunctionRef<Retry()> make_retry);
    // Releases `hash` and runs the retries queued on it.
    void Release(const std::string& hash);

   private:
    absl::Mutex mu_;
    absl::flat_hash_map<std::string, std::vector<Retry>> held_ ABSL_GUARDED_BY(mu_);
  };

  Store* const store_;
  Kv* const kv_;
  const PipelineOptions options_;
  Clock* const clock_;
  RateLimiter rate_limiter_;
  ContentDeduplicator dedup_;
  ContentClaims content_claims_;
  std::function<void()> commit_listener_;
  std::atomic<int64_t> accepted_{0};

  struct CachedTenant {
    Tenant tenant;
    absl::Time expires;
  };
  absl::Mutex tenants_mu_;
  absl::flat_hash_map<std::string, CachedTenant> tenants_ ABSL_GUARDED_BY(tenants_mu_);

  // Last: destroyed first, finishing asynchronous submissions while
  // everything their callbacks use still exists.
  GroupCommitter committer_;
};

}  // namespace alerthub

#endif  // ALERTHUB_PIPELINE_PIPELINE_H_
