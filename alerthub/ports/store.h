// Store: AlertHub's source of truth — tenants, API keys, notifications, their
// events and the transactional outbox. Embedded default `sqlite://`
// (adapters/sqlite), distributed `postgres://`.
//
// Thread safety: safe for concurrent access from multiple threads. Every
// query is tenant-scoped: an object of another tenant is kNotFound.
//
// Durability: a call that returns OK has committed; its effects survive a
// crash (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on).
//
// Errors common to every method: kUnavailable when the database cannot be
// reached or is busy beyond the adapter's timeout (retry), kInternal for a
// corrupt row, kDataLoss for a corrupt database.
#ifndef ALERTHUB_PORTS_STORE_H_
#define ALERTHUB_PORTS_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/model/event.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/tenant.h"
#include "alerthub/ports/task_queue.h"

namespace alerthub {

class Clock;

// One accepted submission: written in one transaction with its first event
// and its outbox message.
struct SubmissionWrite {
  Notification notification;  // id, tenant_id, created_at set
  CloudEvent accepted_event;  // type kEventAccepted, subject = notification.id
  std::string outbox_topic;   // kTopicCreated
  std::string outbox_payload; // CloudEvents JSON published by the relay
  // NotificationToJson(notification).dump() and
  // CloudEventToJson(accepted_event).dump(), rendered by the caller (in
  // parallel, outside the store's single writer). Stores that keep JSON
  // documents use them as they are; when empty the store renders them.
  std::string notification_json;
  std::string accepted_event_json;
};

struct SubmissionOutcome {
  std::string id;          // the new id, or the original's for a duplicate
  bool duplicate = false;  // (tenant, dedup_key) existed: nothing was written
};

struct NotificationFilter {
  std::optional<NotificationStatus> status;
  std::string type;                      // exact match; empty = any
  std::optional<absl::Time> since;       // created_at >= since
  std::string before_id;                 // keyset cursor: only ids < before_id
  int limit = 50;                        // 1-500
};

struct NotificationPage {
  std::vector<Notification> items;  // newest first
  bool has_more = false;            // more items exist after the last one
};

// A pending outbox message claimed for publication.
struct OutboxRecord {
  int64_t seq = 0;   // increasing commit order
  std::string topic;
  std::string key;   // notification id
  std::string payload;
};

struct StoreOptions {
  // Source of time for leases and timestamps. Must outlive the store.
  Clock* clock = nullptr;  // nullptr: Clock::Real()
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Tenants ---------------------------------------------------------------
  // kAlreadyExists when the id or the name is taken.
  virtual absl::Status CreateTenant(const Tenant& tenant) = 0;
  // kNotFound when absent.
  virtual absl::StatusOr<Tenant> GetTenant(absl::string_view id) = 0;
  virtual absl::StatusOr<Tenant> GetTenantByName(absl::string_view name) = 0;

  // --- API keys --------------------------------------------------------------
  // kAlreadyExists when the id or the hash is taken; kNotFound when the tenant
  // does not exist.
  virtual absl::Status CreateApiKey(const ApiKey& key) = 0;
  // The key whose hash is `key_hash`, revoked or not; kNotFound when none.
  virtual absl::StatusOr<ApiKey> FindApiKeyByHash(absl::string_view key_hash) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<ApiKey>> ListApiKeys(
      absl::string_view tenant_id) = 0;
  // Sets revoked_at (idempotent: a revoked key keeps its first time);
  // kNotFound when the key is not the tenant's.
  virtual absl::Status RevokeApiKey(absl::string_view tenant_id,
                                    absl::string_view key_id, absl::Time at) = 0;

  // --- Submissions -----------------------------------------------------------
  // Writes every submission that is not a duplicate, with its event and its
  // outbox message, in ONE transaction (group commit), and returns one outcome
  // per submission, in order. A submission is a duplicate when its
  // notification has a non-empty dedup_key already stored for its tenant, or
  // used by an earlier submission of the same call; its outcome names the
  // original id. On error nothing was written.
  virtual absl::StatusOr<std::vector<SubmissionOutcome>> CommitSubmissions(
      absl::Span<const SubmissionWrite> submissions) = 0;

  // kNotFound when absent or another tenant's.
  virtual absl::StatusOr<Notification> GetNotification(
      absl::string_view tenant_id, absl::string_view id) = 0;

  // kInvalidArgument when filter.limit is outside 1-500.
  virtual absl::StatusOr<NotificationPage> ListNotifications(
      absl::string_view tenant_id, const NotificationFilter& filter) = 0;

  // The notification's events, oldest first; kNotFound when the notification
  // is absent or another tenant's.
  virtual absl::StatusOr<std::vector<CloudEvent>> ListEvents(
      absl::string_view tenant_id, absl::string_view notification_id) = 0;

  // --- Outbox ----------------------------------------------------------------
  // Claims up to `max` unsent messages, lowest seq first, for `lease`: until
  // then no other claimer gets them. Unsent messages whose lease expired are
  // claimable again (at-least-once). REQUIRES: max > 0.
  virtual absl::StatusOr<std::vector<OutboxRecord>> ClaimOutbox(
      int max, absl::Duration lease) = 0;

  // Marks messages sent; they are never claimed again. Unknown seqs are
  // ignored.
  virtual absl::Status MarkOutboxSent(absl::Span<const int64_t> seqs) = 0;

  // Messages not yet marked sent.
  virtual absl::StatusOr<int64_t> CountOutboxPending() = 0;

  // --- Capabilities ----------------------------------------------------------
  // A TaskQueue kept in this store's database (`sql://`), sharing its
  // durability. kUnimplemented when the adapter has none.
  virtual absl::StatusOr<std::unique_ptr<TaskQueue>> OpenTaskQueue() {
    return absl::UnimplementedError("this store has no built-in task queue");
  }

  // OK when the database answers a trivial query now.
  virtual absl::Status Ping() = 0;
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_STORE_H_
