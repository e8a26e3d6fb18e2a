#include "alerthub/pipeline/pipeline.h"

#include <algorithm>
#include <utility>

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

void Pipeline::ContentClaims::Acquire(const std::string& hash) {
  absl::MutexLock lock(&mu_);
  auto free = [this, &hash]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !held_.contains(hash);
  };
  mu_.Await(absl::Condition(&free));
  held_.insert(hash);
}

void Pipeline::ContentClaims::Release(const std::string& hash) {
  absl::MutexLock lock(&mu_);
  held_.erase(hash);
}

Pipeline::Pipeline(Store* store, Kv* kv, PipelineOptions options)
    : store_(store),
      kv_(kv),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()),
      rate_limiter_(kv, options_.rate_limit),
      dedup_(kv, store),
      committer_(store, options_.group_commit) {}

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
  // The Idempotency-Key becomes a dedup_key, so it obeys the same rule.
  if (!ctx.idempotency_key.empty()) {
    ALERTHUB_RETURN_IF_ERROR(ValidateIdempotencyKey(ctx.idempotency_key));
  }
  ALERTHUB_ASSIGN_OR_RETURN(Tenant tenant, LookupTenant(ctx.tenant_id));
  const absl::Time now = clock_->Now();
  const size_t n_items = items.size();

  std::vector<absl::StatusOr<SubmitResult>> results(
      n_items, absl::StatusOr<SubmitResult>(absl::InternalError("not processed")));
  std::vector<Prepared> prepared(n_items);

  // 1. Validate.
  size_t valid = 0;
  for (size_t i = 0; i < n_items; ++i) {
    if (!ctx.validated) {
      absl::Status s = ValidateNotification(items[i], now);
      if (!s.ok()) {
        if (!batch) return s;
        results[i] = s;
        continue;
      }
    }
    prepared[i].valid = true;
    ++valid;
  }
  if (valid == 0) return results;

  // 2. Rate-limit: one token per valid item.
  std::optional<TokenBucketSpec> tenant_limit;
  if (tenant.settings.rate_limit_per_second > 0 && tenant.settings.rate_limit_burst > 0) {
    tenant_limit = TokenBucketSpec{tenant.settings.rate_limit_per_second,
                                   tenant.settings.rate_limit_burst};
  }
  ALERTHUB_ASSIGN_OR_RETURN(
      RateLimitInfo limit,
      rate_limiter_.Check(tenant.id, batch ? kBatchEndpoint : kSubmitEndpoint,
                          static_cast<double>(valid), tenant_limit));

  // 3. Dedup and 4. build the writes.
  const absl::Duration window =
      tenant.settings.dedup_window.value_or(options_.default_dedup_window);
  // Content hashes, and identical content repeated within this call.
  absl::flat_hash_map<std::string, size_t> first_with_hash;
  std::vector<std::string> claimed;  // distinct hashes, claimed in sorted order
  for (size_t i = 0; i < n_items; ++i) {
    Prepared& p = prepared[i];
    if (!p.valid) continue;
    Notification& n = items[i];
    if (n.dedup_key.empty() && !ctx.idempotency_key.empty()) {
      // A batch's Idempotency-Key covers each item by its position.
      n.dedup_key = batch ? BatchItemDedupKey(ctx.idempotency_key, i) : ctx.idempotency_key;
    }
    if (!n.dedup_key.empty() || window <= absl::ZeroDuration()) continue;
    p.content_hash = ContentHash(n);
    auto [it, inserted] = first_with_hash.try_emplace(p.content_hash, i);
    if (inserted) {
      claimed.push_back(p.content_hash);
    } else {
      p.same_as = static_cast<int>(it->second);
    }
  }
  // Hold each hash from lookup to remembering it, so identical content
  // submitted concurrently in this process is stored once. Sorted order
  // keeps two callers with overlapping hashes from waiting on each other.
  std::sort(claimed.begin(), claimed.end());
  for (const std::string& h : claimed) content_claims_.Acquire(h);
  absl::Cleanup release = [this, &claimed] {
    for (const std::string& h : claimed) content_claims_.Release(h);
  };

  std::vector<SubmissionWrite> writes;
  writes.reserve(valid);
  std::vector<size_t> item_of_write;
  item_of_write.reserve(valid);
  for (size_t i = 0; i < n_items; ++i) {
    Prepared& p = prepared[i];
    if (!p.valid || p.same_as >= 0) continue;
    Notification& n = items[i];
    if (!p.content_hash.empty()) {
      absl::StatusOr<std::optional<std::string>> original =
          dedup_.Find(tenant.id, p.content_hash);
      if (!original.ok()) {
        if (!batch) return original.status();
        results[i] = original.status();
        p.valid = false;
        continue;
      }
      if (original->has_value()) {
        p.duplicate = true;
        p.duplicate_of = **original;
        continue;
      }
    }

    n.id = NewUuidV7(now);
    n.tenant_id = tenant.id;
    n.status = NotificationStatus::kAccepted;
    n.created_at = now;
    n.updated_at = now;

    SubmissionWrite w;
    w.accepted_event = MakeNotificationEvent(n, kEventAccepted, options_.event_source, now,
                                             {{"status", "accepted"}}, ctx.traceparent);
    CloudEvent created = w.accepted_event;
    created.data = NotificationToJson(n);
    w.outbox_topic = std::string(kTopicCreated);
    w.outbox_payload = CloudEventToJson(created).dump();
    // Rendered here, in the submitting thread, so the committing thread does
    // only database work.
    w.notification_json = created.data.dump();
    w.accepted_event_json = CloudEventToJson(w.accepted_event).dump();
    w.notification = std::move(n);
    p.write_index = writes.size();
    writes.push_back(std::move(w));
    item_of_write.push_back(i);
  }

  // 5. One transaction (shared with concurrent callers).
  std::vector<StatusUpdate> updates;
  if (!writes.empty()) {
    // Keep what the post-commit steps need; the writes move into the commit.
    updates.reserve(writes.size());
    for (const SubmissionWrite& w : writes) {
      updates.push_back(StatusUpdate{w.notification.id, NotificationStatus::kAccepted, now,
                                     w.notification.type, w.notification.priority});
    }
    ALERTHUB_ASSIGN_OR_RETURN(std::vector<SubmissionOutcome> outcomes,
                              committer_.Commit(std::move(writes)));
    bool any_new = false;
    for (size_t j = 0; j < outcomes.size(); ++j) {
      const size_t i = item_of_write[j];
      SubmitResult r;
      r.id = outcomes[j].id;
      r.duplicate = outcomes[j].duplicate;
      r.rate_limit = limit;
      if (!r.duplicate) {
        any_new = true;
        accepted_.fetch_add(1, std::memory_order_relaxed);
        if (!prepared[i].content_hash.empty()) {
          dedup_.Remember(tenant.id, prepared[i].content_hash, r.id, window);
        }
        PublishStatusUpdate(kv_, tenant.id, updates[j]);
      }
      results[i] = std::move(r);
    }
    if (any_new && commit_listener_) commit_listener_();
  }

  // Repeats within this call share the first item's outcome, as duplicates.
  for (size_t i = 0; i < n_items; ++i) {
    Prepared& p = prepared[i];
    if (!p.valid || p.same_as < 0) continue;
    const Prepared& first = prepared[p.same_as];
    const absl::StatusOr<SubmitResult>& first_result = results[p.same_as];
    if (first.duplicate) {
      p.duplicate = true;
      p.duplicate_of = first.duplicate_of;
    } else if (first.valid && first_result.ok()) {
      p.duplicate = true;
      p.duplicate_of = first_result->id;
    } else {
      results[i] = first_result.ok() ? absl::InternalError("no outcome") : first_result.status();
      p.valid = false;
    }
  }

  // Duplicates report the original's current status.
  for (size_t i = 0; i < n_items; ++i) {
    const Prepared& p = prepared[i];
    const bool dup = p.duplicate || (results[i].ok() && results[i]->duplicate);
    if (!p.valid || !dup) continue;
    SubmitResult r;
    r.id = p.duplicate ? p.duplicate_of : results[i]->id;
    r.duplicate = true;
    r.rate_limit = limit;
    absl::StatusOr<Notification> original = store_->GetNotification(tenant.id, r.id);
    if (original.ok()) r.status = original->status;
    results[i] = std::move(r);
  }
  return results;
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
