#include "alerthub/pipeline/pipeline.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/pipeline/realtime.h"

namespace alerthub {

inline constexpr absl::string_view kSubmitEndpoint = "notifications.submit";
inline constexpr absl::string_view kBatchEndpoint = "notifications.batch";

// Per-item state between validation and commit.
struct Pipeline::Prepared {
  bool valid = false;
  bool duplicate = false;      // content duplicate of a stored notification
  std::string duplicate_of;
  // Index of an earlier item of the same call with the same content, or -1.
  int same_as = -1;
  std::string content_hash;    // set when the content window applies
  size_t write_index = 0;      // position in the commit when !duplicate
};

// One Submit/SubmitBatch call from its checks to its results.
struct Pipeline::Call {
  bool batch = false;
  Tenant tenant;
  absl::Time now;
  absl::Duration window;  // content-dedup window
  std::string traceparent;
  std::vector<Notification> items;
  std::vector<absl::StatusOr<SubmitResult>> results;
  std::vector<Prepared> prepared;
  size_t valid = 0;
  // Distinct content hashes, sorted: held from the dedup lookup until the
  // outcome is remembered (ContentClaims).
  std::vector<std::string> claimed;
  RateLimitInfo limit;
  // Filled by BuildWrites for the commit's rows.
  std::vector<size_t> item_of_write;
  std::vector<StatusUpdate> updates;
};

bool Pipeline::ContentClaims::AcquireAllOrQueue(const std::vector<std::string>& hashes,
                                                absl::FunctionRef<Retry()> make_retry) {
  absl::MutexLock lock(&mu_);
  for (const std::string& h : hashes) {
    auto it = held_.find(h);
    if (it != held_.end()) {
      it->second.push_back(make_retry());
      return false;
    }
  }
  for (const std::string& h : hashes) held_.try_emplace(h);
  return true;
}

void Pipeline::ContentClaims::Acquire(const std::string& hash) {
  absl::MutexLock lock(&mu_);
  auto free = [this, &hash]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !held_.contains(hash);
  };
  mu_.Await(absl::Condition(&free));
  held_.try_emplace(hash);
}

void Pipeline::ContentClaims::Release(const std::string& hash) {
  std::vector<Retry> waiting;
  {
    absl::MutexLock lock(&mu_);
    auto it = held_.find(hash);
    if (it == held_.end()) return;
    waiting = std::move(it->second);
    held_.erase(it);
  }
  for (Retry& retry : waiting) std::move(retry)();
}

Pipeline::Pipeline(Store* store, Kv* kv, PipelineOptions options)
    : store_(store),
      kv_(kv),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      rate_limiter_(kv, options_.rate_limit),
      dedup_(kv, store),
      committer_(store, options_.group_commit) {}

Pipeline::~Pipeline() = default;

absl::StatusOr<Tenant> Pipeline::LookupTenant(absl::string_view tenant_id) {
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&tenants_mu_);
    auto it = tenants_.find(tenant_id);
    if (it != tenants_.end() && now < it->second.expires) return it->second.tenant;
  }
  absl::StatusOr<Tenant> tenant = store_->GetTenant(tenant_id);
  if (!tenant.ok()) {
    if (tenant.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("tenant ", tenant_id, " not found"));
    }
    return tenant.status();
  }
  absl::MutexLock lock(&tenants_mu_);
  tenants_[tenant_id] = CachedTenant{*tenant, now + options_.tenant_cache_ttl};
  return tenant;
}

absl::StatusOr<SubmitResult> Pipeline::Submit(const SubmitContext& ctx, Notification n) {
  std::vector<Notification> items;
  items.push_back(std::move(n));
  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> r =
      Run(ctx, std::move(items), /*batch=*/false);
  if (!r.ok()) return r.status();
  return std::move(r->front());
}

absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> Pipeline::SubmitBatch(
    const SubmitContext& ctx, std::vector<Notification> items) {
  if (items.empty() || items.size() > kMaxBatch) {
    return InvalidArgumentWithFields(
        "invalid batch",
        {{"items", absl::StrCat("must hold 1-", kMaxBatch, " notifications")}});
  }
  return Run(ctx, std::move(items), /*batch=*/true);
}

absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> Pipeline::Run(
    const SubmitContext& ctx, std::vector<Notification> items, bool batch) {
  ALERTHUB_ASSIGN_OR_RETURN(Call call, Start(ctx, std::move(items), batch));
  if (call.valid == 0) return std::move(call.results);
  // Claimed in sorted order, so two callers with overlapping hashes do not
  // wait on each other.
  for (const std::string& h : call.claimed) content_claims_.Acquire(h);
  absl::Cleanup release = [this, &call] { ReleaseClaims(call); };
  std::vector<SubmissionWrite> writes;
  ALERTHUB_RETURN_IF_ERROR(BuildWrites(call, &writes));
  absl::StatusOr<std::vector<SubmissionOutcome>> outcomes = std::vector<SubmissionOutcome>();
  if (!writes.empty()) outcomes = committer_.Commit(std::move(writes));
  return Finish(call, std::move(outcomes));
}

void Pipeline::SubmitAsync(const SubmitContext& ctx, Notification n, SubmitCallback done) {
  std::vector<Notification> items;
  items.push_back(std::move(n));
  absl::StatusOr<Call> call = Start(ctx, std::move(items), /*batch=*/false);
  if (!call.ok()) return std::move(done)(call.status());
  // A single item that failed validation failed the whole call in Start().
  ContinueAsync(std::make_unique<Call>(*std::move(call)), std::move(done));
}

void Pipeline::ContinueAsync(std::unique_ptr<Call> call, SubmitCallback done) {
  if (!call->claimed.empty()) {
    // Identical content being committed by another call: retry once it is
    // remembered (then it is found as a duplicate), on the releasing thread.
    const std::vector<std::string>& hashes = call->claimed;
    const bool held = content_claims_.AcquireAllOrQueue(hashes, [&]() -> ContentClaims::Retry {
      return [this, call = std::move(call), done = std::move(done)]() mutable {
        ContinueAsync(std::move(call), std::move(done));
      };
    });
    if (!held) return;
  }
  auto finish = [this](Call& c, absl::StatusOr<std::vector<SubmissionOutcome>> outcomes,
                       SubmitCallback& cb) {
    absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> r =
        Finish(c, std::move(outcomes));
    ReleaseClaims(c);
    if (!r.ok()) return std::move(cb)(r.status());
    std::move(cb)(std::move(r->front()));
  };
  std::vector<SubmissionWrite> writes;
  absl::Status built = BuildWrites(*call, &writes);
  if (!built.ok()) {
    ReleaseClaims(*call);
    return std::move(done)(built);
  }
  if (writes.empty()) return finish(*call, std::vector<SubmissionOutcome>(), done);
  committer_.CommitAsync(
      std::move(writes),
      [finish, call = std::move(call), done = std::move(done)](
          absl::StatusOr<std::vector<SubmissionOutcome>> outcomes) mutable {
        finish(*call, std::move(outcomes), done);
      });
}

void Pipeline::ReleaseClaims(Call& call) {
  for (const std::string& h : call.claimed) content_claims_.Release(h);
  call.claimed.clear();
}

absl::StatusOr<Pipeline::Call> Pipeline::Start(const SubmitContext& ctx,
                                               std::vector<Notification> items, bool batch) {
  // The Idempotency-Key becomes a dedup_key, so it obeys the same rule.
  if (!ctx.idempotency_key.empty()) {
    ALERTHUB_RETURN_IF_ERROR(ValidateIdempotencyKey(ctx.idempotency_key));
  }
  Call call;
  ALERTHUB_ASSIGN_OR_RETURN(call.tenant, LookupTenant(ctx.tenant_id));
  call.batch = batch;
  call.now = clock_->Now();
  call.traceparent = ctx.traceparent;
  call.items = std::move(items);
  const size_t n_items = call.items.size();
  call.results.assign(n_items,
                      absl::StatusOr<SubmitResult>(absl::InternalError("not processed")));
  call.prepared.resize(n_items);

  // 1. Validate.
  for (size_t i = 0; i < n_items; ++i) {
    if (!ctx.validated) {
      absl::Status s = ValidateNotification(call.items[i], call.now);
      if (!s.ok()) {
        if (!batch) return s;
        call.results[i] = s;
        continue;
      }
    }
    call.prepared[i].valid = true;
    ++call.valid;
  }
  if (call.valid == 0) return call;

  // 2. Dedup keys: content hashes, and identical content repeated within
  // this call.
  call.window = call.tenant.settings.dedup_window.value_or(options_.default_dedup_window);
  absl::flat_hash_map<std::string, size_t> first_with_hash;
  for (size_t i = 0; i < n_items; ++i) {
    Prepared& p = call.prepared[i];
    if (!p.valid) continue;
    Notification& n = call.items[i];
    if (n.dedup_key.empty() && !ctx.idempotency_key.empty()) {
      // A batch's Idempotency-Key covers each item by its position.
      n.dedup_key = batch ? BatchItemDedupKey(ctx.idempotency_key, i) : ctx.idempotency_key;
    }
    if (!n.dedup_key.empty() || call.window <= absl::ZeroDuration()) continue;
    p.content_hash = ContentHash(n);
    auto [it, inserted] = first_with_hash.try_emplace(p.content_hash, i);
    if (inserted) {
      call.claimed.push_back(p.content_hash);
    } else {
      p.same_as = static_cast<int>(it->second);
    }
  }
  // Each hash is held from its lookup to remembering it, so identical
  // content submitted concurrently in this process is stored once.
  std::sort(call.claimed.begin(), call.claimed.end());
  return call;
}

absl::Status Pipeline::BuildWrites(Call& call, std::vector<SubmissionWrite>* writes) {
  // 3. Rate-limit: one token per valid item.
  std::optional<TokenBucketSpec> tenant_limit;
  const TenantSettings& settings = call.tenant.settings;
  if (settings.rate_limit_per_second > 0 && settings.rate_limit_burst > 0) {
    tenant_limit = TokenBucketSpec{settings.rate_limit_per_second, settings.rate_limit_burst};
  }
  ALERTHUB_ASSIGN_OR_RETURN(
      call.limit,
      rate_limiter_.Check(call.tenant.id, call.batch ? kBatchEndpoint : kSubmitEndpoint,
                          static_cast<double>(call.valid), tenant_limit));

  // 4. Dedup lookups and the writes.
  const size_t n_items = call.items.size();
  writes->reserve(call.valid);
  call.item_of_write.reserve(call.valid);
  for (size_t i = 0; i < n_items; ++i) {
    Prepared& p = call.prepared[i];
    if (!p.valid || p.same_as >= 0) continue;
    Notification& n = call.items[i];
    if (!p.content_hash.empty()) {
      absl::StatusOr<std::optional<std::string>> original =
          dedup_.Find(call.tenant.id, p.content_hash);
      if (!original.ok()) {
        if (!call.batch) return original.status();
        call.results[i] = original.status();
        p.valid = false;
        continue;
      }
      if (original->has_value()) {
        p.duplicate = true;
        p.duplicate_of = **original;
        continue;
      }
    }

    n.id = NewUuidV7(call.now);
    n.tenant_id = call.tenant.id;
    n.status = NotificationStatus::kAccepted;
    n.created_at = call.now;
    n.updated_at = call.now;

    SubmissionWrite w;
    w.accepted_event = MakeNotificationEvent(n, kEventAccepted, options_.event_source, call.now,
                                             {{"status", "accepted"}}, call.traceparent);
    CloudEvent created = w.accepted_event;
    created.data = NotificationToJson(n);
    w.outbox_topic = std::string(kTopicCreated);
    w.outbox_payload = CloudEventToJson(created).dump();
    // Rendered here, in the submitting thread, so the committing thread does
    // only database work.
    w.notification_json = created.data.dump();
    w.accepted_event_json = CloudEventToJson(w.accepted_event).dump();
    // Kept for the post-commit steps; the writes move into the commit.
    call.updates.push_back(StatusUpdate{n.id, NotificationStatus::kAccepted, call.now, n.type,
                                        n.priority});
    w.notification = std::move(n);
    p.write_index = writes->size();
    writes->push_back(std::move(w));
    call.item_of_write.push_back(i);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> Pipeline::Finish(
    Call& call, absl::StatusOr<std::vector<SubmissionOutcome>> committed) {
  // 5. The commit's outcomes (shared with concurrent callers' rows).
  if (!committed.ok()) return committed.status();
  const std::vector<SubmissionOutcome>& outcomes = *committed;
  bool any_new = false;
  // Remembered hashes and realtime updates, handed to the Kv in one call
  // that does not wait for it (before the claims are released, so a
  // resubmission of this content finds the hash).
  std::vector<KvWrite> kv_writes;
  for (size_t j = 0; j < outcomes.size(); ++j) {
    const size_t i = call.item_of_write[j];
    SubmitResult r;
    r.id = outcomes[j].id;
    r.duplicate = outcomes[j].duplicate;
    r.rate_limit = call.limit;
    if (!r.duplicate) {
      any_new = true;
      accepted_.fetch_add(1, std::memory_order_relaxed);
      if (!call.prepared[i].content_hash.empty()) {
        std::optional<KvWrite> remember = ContentDeduplicator::RememberWrite(
            call.tenant.id, call.prepared[i].content_hash, r.id, call.window);
        if (remember.has_value()) kv_writes.push_back(*std::move(remember));
      }
      kv_writes.push_back(StatusUpdateWrite(call.tenant.id, call.updates[j]));
    }
    call.results[i] = std::move(r);
  }
  if (!kv_writes.empty()) kv_->WriteBehind(std::move(kv_writes));
  if (any_new && commit_listener_) commit_listener_();

  const size_t n_items = call.items.size();
  // Repeats within this call share the first item's outcome, as duplicates.
  for (size_t i = 0; i < n_items; ++i) {
    Prepared& p = call.prepared[i];
    if (!p.valid || p.same_as < 0) continue;
    const Prepared& first = call.prepared[p.same_as];
    const absl::StatusOr<SubmitResult>& first_result = call.results[p.same_as];
    if (first.duplicate) {
      p.duplicate = true;
      p.duplicate_of = first.duplicate_of;
    } else if (first.valid && first_result.ok()) {
      p.duplicate = true;
      p.duplicate_of = first_result->id;
    } else {
      call.results[i] =
          first_result.ok() ? absl::InternalError("no outcome") : first_result.status();
      p.valid = false;
    }
  }

  // Duplicates report the original's current status.
  for (size_t i = 0; i < n_items; ++i) {
    const Prepared& p = call.prepared[i];
    const bool dup = p.duplicate || (call.results[i].ok() && call.results[i]->duplicate);
    if (!p.valid || !dup) continue;
    SubmitResult r;
    r.id = p.duplicate ? p.duplicate_of : call.results[i]->id;
    r.duplicate = true;
    r.rate_limit = call.limit;
    absl::StatusOr<Notification> original = store_->GetNotification(call.tenant.id, r.id);
    if (original.ok()) r.status = original->status;
    call.results[i] = std::move(r);
  }
  return std::move(call.results);
}

absl::StatusOr<Notification> Pipeline::Cancel(const SubmitContext& ctx, absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(Notification n, store_->GetNotification(ctx.tenant_id, id));
  const absl::Time now = clock_->Now();
  const CloudEvent event = MakeNotificationEvent(n, kEventCancelled, options_.event_source, now,
                                                 {{"status", "cancelled"}}, ctx.traceparent);
  ALERTHUB_ASSIGN_OR_RETURN(CancelOutcome out,
                            store_->CancelNotification(ctx.tenant_id, id, event));
  PublishStatusUpdate(kv_, ctx.tenant_id,
                      StatusUpdate{out.notification.id, out.notification.status, now,
                                   out.notification.type, out.notification.priority});
  return std::move(out.notification);
}

}  // namespace alerthub
