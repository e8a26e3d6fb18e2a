// Store: AlertHub's source of truth — tenants, API keys, notifications, their
// events, the transactional outbox, integrations, templates and deliveries. Embedded default `sqlite://`
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
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "alerthub/model/delivery.h"
#include "alerthub/model/event.h"
#include "alerthub/model/integration.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/model/template.h"
#include "alerthub/model/tenant.h"
#include "alerthub/model/user.h"
#include "alerthub/ports/audit.h"
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
  // Increasing in insertion order. Rows of concurrent transactions may
  // commit out of seq order (PostgreSQL sequences), which only reorders
  // publication.
  int64_t seq = 0;
  std::string topic;
  std::string key;   // notification id
  std::string payload;
};

// A batch of outbox messages taken for publication by Store::TakeOutbox.
// While it is held (until it is finished or destroyed, and at most for the
// take's lease) no other take or claim gets its messages. Not thread-safe;
// one owner.
class OutboxBatch {
 public:
  explicit OutboxBatch(std::vector<OutboxRecord> records) : records_(std::move(records)) {}
  OutboxBatch(const OutboxBatch&) = delete;
  OutboxBatch& operator=(const OutboxBatch&) = delete;
  // Destroying a batch that was not finished releases its messages (or
  // leaves them to their lease; see TakeOutbox).
  virtual ~OutboxBatch() = default;

  // The messages, lowest seq first. The caller may move their strings out.
  std::vector<OutboxRecord>& records() { return records_; }

  // Marks the messages whose seqs are in `sent` sent, for good, and gives the
  // others back to later takes and claims. Seqs not in the batch are
  // ignored. Call at most once. On error nothing is known to be marked: the
  // messages are published again later (at-least-once).
  virtual absl::Status Finish(absl::Span<const int64_t> sent) = 0;

 protected:
  // The seqs of `sent` that belong to this batch, in the order given.
  std::vector<int64_t> SeqsOfThisBatch(absl::Span<const int64_t> sent) const;

 private:
  std::vector<OutboxRecord> records_;
};

struct StoreLimits {
  static constexpr size_t kMaxRulesPerTenant = 10'000;
};

// Keyset paging for the integration, template and delivery lists.
struct PageRequest {
  // The id of the last item of the previous page; empty for the first page.
  std::string cursor;
  int limit = 50;  // 1-500
};

template <typename T>
struct Page {
  std::vector<T> items;
  bool has_more = false;  // more items exist after the last one
};

struct IntegrationFilter {
  std::optional<Channel> channel;
  std::optional<bool> enabled;
  std::optional<bool> is_default;
};

struct DeliveryFilter {
  std::optional<DeliveryStatus> status;
  std::string notification_id;  // empty = any
};

// The notification's aggregate status before and after a delivery changed.
struct StatusTransition {
  NotificationStatus before = NotificationStatus::kAccepted;
  NotificationStatus after = NotificationStatus::kAccepted;
  bool changed() const { return before != after; }
};

// --- Digests ---
// A rule's `digest` action holds deliveries and sends each group's together,
// as ONE summary (Alertmanager's group_wait / group_interval). A digest group
// is (tenant, integration, recipient, digest_key); Delivery::digest_key names
// the rule and its group key. Members are stored kHeld, due at the group's
// flush time (DigestFlushTime in ports/delivery_transitions.h), so the hold
// survives restarts; Store::ClaimDigest claims a due group at once.

// The timing of a digest (the rule's digest action).
struct DigestWindow {
  // How long the first notification of a group waits for others.
  absl::Duration group_wait = absl::ZeroDuration();
  // The least time between two flushes of one group.
  absl::Duration group_interval = absl::ZeroDuration();

  bool operator==(const DigestWindow& other) const = default;
};

// What routing decided for one accepted notification (ARCHITECTURE §3 step 3).
struct RoutingWrite {
  std::string tenant_id;
  std::string notification_id;
  // New deliveries (id, tenant_id, notification_id, integration_id, channel,
  // recipient, status, next_attempt_at, created_at and updated_at set). One
  // per (notification, integration, recipient): a delivery whose key is
  // already stored is skipped, so replaying routing creates nothing twice.
  std::vector<Delivery> deliveries;
  // The notification's status after routing (kRouted, or kSuppressed when
  // nothing is to be sent) and the event recording the decision. Applied only
  // while the notification is still kAccepted, so a replay adds neither.
  NotificationStatus status = NotificationStatus::kRouted;
  CloudEvent event;
  // Digests: required when a delivery has a digest_key (kInvalidArgument
  // otherwise); see Store::RecordRouting.
  std::optional<DigestWindow> digest;
};

struct RoutingOutcome {
  // Every delivery of the notification after the call, oldest first (also
  // those an earlier call created).
  std::vector<Delivery> deliveries;
  // The notification's status change; changed() only for the call that
  // moved it out of kAccepted.
  StatusTransition notification;
};

// Names one delivery of one tenant.
struct DeliveryRef {
  std::string tenant_id;
  std::string id;
};

struct DeliveryClaim {
  enum class Result {
    kClaimed,   // the caller owns the delivery until the lease ends
    kNotDue,    // pending, but its next attempt is later: delivery.next_attempt_at
    kBusy,      // claimed by another worker whose lease has not ended
    kFinished,  // delivered, failed or suppressed: nothing to do
  };
  Result result = Result::kFinished;
  Delivery delivery;  // as stored after the call
  StatusTransition notification;  // routed -> delivering on a first claim
};

// The outcome of one attempt, recorded in one transaction with its event and
// the notification's new aggregate status.
struct AttemptWrite {
  std::string tenant_id;
  std::string delivery_id;
  // kDelivered; kPending with next_attempt_at for a retry; kFailed when
  // dead-lettered.
  DeliveryStatus status = DeliveryStatus::kPending;
  std::optional<absl::Time> next_attempt_at;
  std::string last_error;  // empty on success
  // kEventDeliveryAttempt, subject = notification id.
  CloudEvent attempt_event;
};

struct AttemptOutcomeRecord {
  Delivery delivery;  // as stored after the call (attempts incremented)
  StatusTransition notification;
};

// A notification's recipient as routing needs it.
struct Recipient {
  User user;
  Preferences preferences;  // the defaults when never set
};

// What cancelling a notification changed.
struct CancelOutcome {
  Notification notification;  // as stored after the call (kCancelled)
  int64_t deliveries_cancelled = 0;  // pending or held deliveries suppressed
};

// --- Digests (continued) ---

// Names one digest group.
struct DigestGroup {
  std::string tenant_id;
  std::string integration_id;
  std::string recipient;  // '' when not recipient-targeted
  std::string digest_key;
};

// What Store::ClaimDigest did.
struct DigestClaim {
  // For the named delivery, as DeliveryClaim::result.
  DeliveryClaim::Result result = DeliveryClaim::Result::kFinished;
  // kClaimed: every member of the group claimed with it, oldest first (the
  // named one among them), each now sending under the same lease.
  // Otherwise: the named delivery alone, as stored.
  std::vector<Delivery> deliveries;
  // kClaimed: each delivery's notification status change (routed ->
  // delivering on a first claim), in the same order.
  std::vector<StatusTransition> notifications;
};

// --- Auth sessions ---
// Login by e-mail and password, and the refresh tokens of each login session
// (ARCHITECTURE §4, Auth). Stores keep only hashes: the Argon2id string of a
// password, the SHA-256 of a refresh token.

// A user as login needs them.
struct LoginRecord {
  User user;
  std::string password_hash;  // Argon2id ("$argon2id$..."); empty: no password set
};

// One refresh token of a login session. Each rotation marks the presented
// token used and adds its successor to the same family; a family is revoked
// as a whole (logout, reuse of a used token, a password change).
struct RefreshToken {
  std::string token_hash;  // lowercase hex SHA-256 of the opaque token; never the token
  std::string family_id;   // the login session (UUIDv7)
  std::string tenant_id;
  std::string user_id;
  absl::Time issued_at = absl::InfinitePast();
  absl::Time expires_at = absl::InfinitePast();
  std::optional<absl::Time> used_at;     // set when it was rotated
  std::optional<absl::Time> revoked_at;  // set when its family was revoked

  bool operator==(const RefreshToken& other) const = default;
};

// What presenting a refresh token did (Store::RotateRefreshToken; every
// adapter decides with ports/refresh_rotation.h).
struct RefreshRotation {
  enum class Result {
    kRotated,  // the presented token is now used and `successor` is stored
    kReused,   // it had been used before: its whole family is now revoked
    kRevoked,  // its family was revoked earlier, or its user no longer exists
    kExpired,  // it expired; nothing changed
  };
  Result result = Result::kRevoked;
  RefreshToken presented;  // as stored after the call
  RefreshToken successor;  // kRotated only
};

// --- Analytics ---
// Counts for the admin API's AnalyticsService (alerthub/admin/analytics.h),
// aggregated by the database (GROUP BY), never by loading rows. A window
// [start, end) is cut into buckets of `bucket`; a row's bucket index is
// floor((created_at - start) / bucket). Only the rows' created_at decides
// the bucket (a delivery's latency too).

struct AnalyticsWindow {
  absl::Time start = absl::InfinitePast();  // inclusive
  absl::Time end = absl::InfinitePast();    // exclusive
  absl::Duration bucket = absl::Minutes(1);  // > 0; the last bucket may be cut short
};

// Upper bounds (milliseconds, inclusive) of the accept -> delivered latency
// histogram, ascending; index kLatencyBoundsMs.size() is +Inf. Shared by
// every adapter (the SQL is generated from it, store_analytics_sql.h) and by
// the percentile estimates (admin/analytics.h).
inline constexpr int64_t kLatencyBoundsMs[] = {
    10,     25,     50,      100,     250,     500,     1'000,     2'500,     5'000,
    10'000, 30'000, 60'000,  120'000, 300'000, 600'000, 1'800'000, 3'600'000, 21'600'000};
inline constexpr int kLatencyBucketCount =
    static_cast<int>(sizeof(kLatencyBoundsMs) / sizeof(kLatencyBoundsMs[0])) + 1;

// Notifications created in one bucket with one status.
struct NotificationCountRow {
  int64_t bucket = 0;
  NotificationStatus status = NotificationStatus::kAccepted;
  int64_t count = 0;

  bool operator==(const NotificationCountRow& other) const = default;
};

// Deliveries created in one bucket for one channel with one status.
struct DeliveryCountRow {
  int64_t bucket = 0;
  Channel channel = Channel::kWebhook;
  DeliveryStatus status = DeliveryStatus::kPending;
  int64_t count = 0;
  int64_t retried = 0;  // of them, those attempted more than once

  bool operator==(const DeliveryCountRow& other) const = default;
};

// Delivered deliveries created in one bucket for one channel whose latency
// — the delivered time (the delivery's updated_at) minus its notification's
// created_at — falls in histogram slot `slot`: at most kLatencyBoundsMs[slot]
// and above the previous bound (slot kLatencyBucketCount - 1: above all).
struct LatencyHistogramRow {
  int64_t bucket = 0;
  Channel channel = Channel::kWebhook;
  int slot = 0;
  int64_t count = 0;

  bool operator==(const LatencyHistogramRow& other) const = default;
};

// --- Privacy (GDPR) ---
// One user's personal data, exported or erased (alerthub/admin/user_privacy.h).
// "The user's notifications" are the tenant's notifications whose
// recipients include the user's id, or that have a delivery addressed to
// them; "the user's deliveries" are those whose recipient is the user's id.
// Another tenant's user is kNotFound, as everywhere.

// One login session of a user (a refresh-token family), without its tokens'
// hashes.
struct LoginSessionInfo {
  std::string family_id;
  absl::Time started_at = absl::InfinitePast();         // its first token's issue
  absl::Time last_refreshed_at = absl::InfinitePast();  // its newest token's issue
  absl::Time expires_at = absl::InfinitePast();         // its newest token's expiry
  std::optional<absl::Time> revoked_at;                 // set when it was ended

  bool operator==(const LoginSessionInfo& other) const = default;
};

// What a store holds about one user (Store::ExportUserData). Never a
// password hash nor a refresh-token hash.
struct UserDataExport {
  User user;
  Preferences preferences;  // the defaults when never set
  bool has_password = false;
  std::vector<LoginSessionInfo> sessions;   // oldest first
  std::vector<Notification> notifications;  // the user's, oldest first
  std::vector<Delivery> deliveries;         // the user's, oldest first
  // Every event of those notifications, by notification (oldest first),
  // then oldest first. Callers that show them to the user leave out what
  // concerns other recipients (their deliveries' attempts).
  std::vector<CloudEvent> events;
};

// What Store::EraseUser changed.
struct UserErasure {
  int64_t sessions_deleted = 0;           // refresh tokens deleted
  int64_t notifications_updated = 0;      // lost the user from their recipients
  int64_t notifications_blanked = 0;      // ... and their content (sole recipient)
  int64_t deliveries_suppressed = 0;      // pending or held: "recipient erased"
  int64_t deliveries_scrubbed = 0;        // the user's deliveries, errors cleared
  int64_t events_scrubbed = 0;            // attempt events of those deliveries

  bool operator==(const UserErasure& other) const = default;
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
  // CreateTenant and CreateApiKey(first_key), a key of `tenant`, in ONE
  // transaction: both are stored or neither (a tenant never exists without
  // its first owner key). Errors as theirs.
  virtual absl::Status CreateTenantWithKey(const Tenant& tenant, const ApiKey& first_key) = 0;
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

  // Takes up to `max` unsent messages, lowest seq first, as one batch; empty
  // when none is claimable. `after_seq` is where to start looking: messages
  // at or below it may be left out (a store that scans in seq order skips
  // what a taker knows it has just taken; the caller passes 0 now and then,
  // so that a message committed out of seq order waits not long). Same
  // visibility as ClaimOutbox otherwise, and each adapter
  // holds the batch its cheapest way: the default claims with `lease` and
  // finishes with MarkOutboxSent, so unsent messages come back when the lease
  // passes; PostgreSQL holds row locks in a transaction of its own instead,
  // so they come back as soon as the batch is finished, destroyed or its
  // connection lost (and `lease` only bounds how long the transaction may
  // stay open). REQUIRES: max > 0, lease > 0.
  virtual absl::StatusOr<std::unique_ptr<OutboxBatch>> TakeOutbox(int max, absl::Duration lease,
                                                                  int64_t after_seq);

  // Messages not yet marked sent.
  virtual absl::StatusOr<int64_t> CountOutboxPending() = 0;

  // --- Integrations ----------------------------------------------------------
  // Configs are stored as given: callers encrypt secrets before (the
  // integration catalog does). kAlreadyExists when the id is taken.
  virtual absl::Status CreateIntegration(const Integration& integration) = 0;
  // kNotFound when absent or another tenant's.
  virtual absl::StatusOr<Integration> GetIntegration(absl::string_view tenant_id,
                                                     absl::string_view id) = 0;
  // Oldest first; the cursor is the last id seen. kInvalidArgument when
  // page.limit is outside 1-500.
  virtual absl::StatusOr<Page<Integration>> ListIntegrations(
      absl::string_view tenant_id, const IntegrationFilter& filter,
      const PageRequest& page) = 0;
  // Replaces name, config, enabled, is_default, retry and updated_at of the stored
  // integration with integration.id. kNotFound when absent or another
  // tenant's.
  virtual absl::Status UpdateIntegration(const Integration& integration) = 0;
  // kNotFound when absent or another tenant's. Its deliveries stay (they
  // fail permanently when next attempted).
  virtual absl::Status DeleteIntegration(absl::string_view tenant_id,
                                         absl::string_view id) = 0;

  // --- Templates -------------------------------------------------------------
  // kAlreadyExists when the id, or the (tenant, channel, name), is taken.
  virtual absl::Status CreateTemplate(const Template& tmpl) = 0;
  virtual absl::StatusOr<Template> GetTemplate(absl::string_view tenant_id,
                                               absl::string_view id) = 0;
  // The tenant's template called `name` for `channel`; kNotFound when none.
  virtual absl::StatusOr<Template> FindTemplate(absl::string_view tenant_id,
                                                absl::string_view name,
                                                Channel channel) = 0;
  // Oldest first; the cursor is the last id seen.
  virtual absl::StatusOr<Page<Template>> ListTemplates(absl::string_view tenant_id,
                                                       const PageRequest& page) = 0;
  // Replaces name, channel, fields and updated_at. kNotFound as above;
  // kAlreadyExists when the new (channel, name) belongs to another template.
  virtual absl::Status UpdateTemplate(const Template& tmpl) = 0;
  virtual absl::Status DeleteTemplate(absl::string_view tenant_id,
                                      absl::string_view id) = 0;

  // --- Deliveries ------------------------------------------------------------
  // Writes routing's decisions for several notifications in ONE
  // transaction (see RoutingWrite). One result per write, in order: kNotFound
  // in its slot when the notification is absent or another tenant's (that
  // write stores nothing; the others commit). A malformed write
  // (kInvalidArgument: a delivery of another notification or tenant, a
  // digest member without its window) or a failed transaction fails the
  // whole call.
  virtual absl::StatusOr<std::vector<absl::StatusOr<RoutingOutcome>>> RecordRoutings(
      absl::Span<const RoutingWrite> writes) = 0;

  // RecordRoutings for one notification.
  absl::StatusOr<RoutingOutcome> RecordRouting(const RoutingWrite& write) {
    absl::StatusOr<std::vector<absl::StatusOr<RoutingOutcome>>> r =
        RecordRoutings(absl::MakeConstSpan(&write, 1));
    if (!r.ok()) return r.status();
    return std::move(r->front());
  }

  // Claims each delivery of `refs` for one attempt until now + lease, in ONE
  // transaction, when it is pending or held and due (next_attempt_at unset
  // or passed; a held delivery waits for a quiet-hours window or a digest to
  // end), or sending under an expired lease (its worker died). The first
  // claim of a notification's deliveries moves it from routed to delivering.
  // One result per ref, in order: kNotFound in its slot when the delivery is
  // absent or another tenant's. A failed transaction fails the whole call.
  virtual absl::StatusOr<std::vector<absl::StatusOr<DeliveryClaim>>> ClaimDeliveries(
      absl::Span<const DeliveryRef> refs, absl::Duration lease) = 0;

  // ClaimDeliveries for one delivery.
  absl::StatusOr<DeliveryClaim> ClaimDelivery(absl::string_view tenant_id,
                                              absl::string_view id, absl::Duration lease) {
    const DeliveryRef ref{std::string(tenant_id), std::string(id)};
    absl::StatusOr<std::vector<absl::StatusOr<DeliveryClaim>>> r =
        ClaimDeliveries(absl::MakeConstSpan(&ref, 1), lease);
    if (!r.ok()) return r.status();
    return std::move(r->front());
  }

  // Records attempts of claimed deliveries in ONE transaction (one fsync for
  // all): for each, increments attempts, sets status, next_attempt_at and
  // last_error, appends the attempt event, and recomputes the notification's
  // status (AggregateNotificationStatus); when that status becomes final it
  // also appends a kEventDelivered or kEventFailed event and an outbox
  // message on kTopicDelivered or kTopicFailed. One result per write, in
  // order: kNotFound when the delivery is absent, kFailedPrecondition when it
  // is not being sent (not claimed, or already finished); those write
  // nothing and leave the others to commit. A write whose status is not
  // delivered, pending or failed (kInvalidArgument), or a failed
  // transaction, fails the whole call.
  virtual absl::StatusOr<std::vector<absl::StatusOr<AttemptOutcomeRecord>>> RecordAttempts(
      absl::Span<const AttemptWrite> writes) = 0;

  // RecordAttempts for one attempt.
  absl::StatusOr<AttemptOutcomeRecord> RecordAttempt(const AttemptWrite& write) {
    absl::StatusOr<std::vector<absl::StatusOr<AttemptOutcomeRecord>>> r =
        RecordAttempts(absl::MakeConstSpan(&write, 1));
    if (!r.ok()) return r.status();
    return std::move(r->front());
  }

  // Puts a failed (dead-lettered) delivery back to pending, due now, with its
  // attempt count reset so it runs the whole schedule again; the
  // notification's status is recomputed. `event` (subject = notification id)
  // records the replay. kFailedPrecondition when the delivery is not failed.
  virtual absl::StatusOr<AttemptOutcomeRecord> ReplayDelivery(absl::string_view tenant_id,
                                                             absl::string_view id,
                                                             const CloudEvent& event) = 0;

  virtual absl::StatusOr<Delivery> GetDelivery(absl::string_view tenant_id,
                                               absl::string_view id) = 0;
  // Every tenant's deliveries that are not finished (pending, sending or
  // held), oldest first; the cursor is the last id seen. For re-enqueueing
  // after a restart.
  virtual absl::StatusOr<Page<Delivery>> ListUnfinishedDeliveries(const PageRequest& page) = 0;

  // Newest first; the cursor is the last id seen.
  virtual absl::StatusOr<Page<Delivery>> ListDeliveries(absl::string_view tenant_id,
                                                        const DeliveryFilter& filter,
                                                        const PageRequest& page) = 0;

  // Cancels a notification none of whose deliveries has been attempted yet:
  // in ONE transaction the notification becomes kCancelled, each of its
  // pending or held deliveries becomes kSuppressed with last_error
  // "cancelled", and `event` (kEventCancelled, subject = notification id) is
  // appended. A later RecordRouting for it writes nothing (it is no longer
  // kAccepted). kNotFound when absent or another tenant's;
  // kFailedPrecondition when it is final already, or when a delivery of it
  // has been claimed or attempted (sending, delivered, failed, or pending
  // or held with attempts > 0).
  virtual absl::StatusOr<CancelOutcome> CancelNotification(absl::string_view tenant_id,
                                                           absl::string_view id,
                                                           const CloudEvent& event) = 0;

  // --- Rules -----------------------------------------------------------------
  // Stored as given (callers validate with RuleFromRequestJson and keep a
  // tenant within StoreLimits::kMaxRulesPerTenant; a store may also refuse
  // a rule beyond it with kResourceExhausted). kAlreadyExists when the id is
  // taken; kNotFound when the tenant does not exist.
  virtual absl::Status CreateRule(const Rule& rule) = 0;
  // kNotFound when absent or another tenant's.
  virtual absl::StatusOr<Rule> GetRule(absl::string_view tenant_id, absl::string_view id) = 0;
  // Every rule of the tenant, enabled or not, by ascending position, then id.
  // Tenants hold at most StoreLimits::kMaxRulesPerTenant rules.
  virtual absl::StatusOr<std::vector<Rule>> ListRules(absl::string_view tenant_id) = 0;
  // Replaces everything but id, tenant_id and created_at. kNotFound when
  // absent or another tenant's.
  virtual absl::Status UpdateRule(const Rule& rule) = 0;
  // kNotFound when absent or another tenant's.
  virtual absl::Status DeleteRule(absl::string_view tenant_id, absl::string_view id) = 0;

  // --- Users and preferences -------------------------------------------------
  // kAlreadyExists when the id, or the (tenant, email) — compared
  // case-insensitively — is taken; kNotFound when the tenant does not exist.
  virtual absl::Status CreateUser(const User& user) = 0;
  // kNotFound when absent or another tenant's.
  virtual absl::StatusOr<User> GetUser(absl::string_view tenant_id, absl::string_view id) = 0;
  // Oldest first; the cursor is the last id seen.
  virtual absl::StatusOr<Page<User>> ListUsers(absl::string_view tenant_id,
                                               const PageRequest& page) = 0;
  // Replaces email, name, role and addresses. kNotFound as above;
  // kAlreadyExists when the new email belongs to another user of the tenant.
  virtual absl::Status UpdateUser(const User& user) = 0;
  // Deletes the user and their preferences. kNotFound as above.
  virtual absl::Status DeleteUser(absl::string_view tenant_id, absl::string_view id) = 0;
  // The user's preferences; Preferences{} when never set. kNotFound when the
  // user is absent or another tenant's.
  virtual absl::StatusOr<Preferences> GetPreferences(absl::string_view tenant_id,
                                                     absl::string_view user_id) = 0;
  // Replaces the user's preferences. kNotFound as above.
  virtual absl::Status SetPreferences(absl::string_view tenant_id, absl::string_view user_id,
                                      const Preferences& preferences) = 0;
  // The users of `user_ids` that exist in the tenant, with their
  // preferences, in the order given, each once; unknown ids (and other
  // tenants' users) are left out. One round trip: routing calls it per
  // notification.
  virtual absl::StatusOr<std::vector<Recipient>> GetRecipients(
      absl::string_view tenant_id, absl::Span<const std::string> user_ids) = 0;

  // --- Auth sessions ---
  // Sets the user's password hash (an Argon2id string made by the caller;
  // never the plaintext) and, in the same transaction, revokes every
  // refresh-token family of the user (a password change ends their
  // sessions). kNotFound when the user is absent or another tenant's;
  // kInvalidArgument for an empty hash.
  virtual absl::Status SetUserPassword(absl::string_view tenant_id, absl::string_view user_id,
                                       absl::string_view password_hash, absl::Time at) = 0;
  // The tenant's user whose e-mail address is `email` (compared
  // case-insensitively, as CreateUser does), with the password hash.
  // kNotFound when none.
  virtual absl::StatusOr<LoginRecord> FindLoginUser(absl::string_view tenant_id,
                                                    absl::string_view email) = 0;
  // Stores the first token of a new family (used_at and revoked_at unset).
  // kNotFound when the user is absent or another tenant's; kAlreadyExists
  // when the hash is taken.
  virtual absl::Status CreateRefreshToken(const RefreshToken& token) = 0;
  // In ONE transaction: finds the token whose hash is `presented_hash`;
  // when it is unused, unexpired at `now`, unrevoked and its user exists,
  // marks it used at `now` and stores its successor (`successor_hash`,
  // same family, tenant and user, issued `now`, expiring
  // `successor_expires_at`): kRotated. A token presented after it was used
  // revokes its whole family at `now` (kReused) — someone holds a stolen
  // copy. kNotFound when no token has the hash; kAlreadyExists when
  // `successor_hash` is taken.
  virtual absl::StatusOr<RefreshRotation> RotateRefreshToken(absl::string_view presented_hash,
                                                             absl::string_view successor_hash,
                                                             absl::Time successor_expires_at,
                                                             absl::Time now) = 0;
  // Revokes the family of the token whose hash is `token_hash` (every token
  // of it, at `at`; idempotent: revoked tokens keep their first time) and
  // returns that token as stored after the call. kNotFound when no token
  // has the hash.
  virtual absl::StatusOr<RefreshToken> RevokeRefreshFamily(absl::string_view token_hash,
                                                           absl::Time at) = 0;
  // The token whose hash is `token_hash`; kNotFound when none.
  virtual absl::StatusOr<RefreshToken> FindRefreshToken(absl::string_view token_hash) = 0;

  // --- Digests ---
  // (see "Digests" above). RecordRouting stores a delivery that has a
  // digest_key (status kHeld) due at its group's flush time, computed in
  // its transaction by DigestFlushTime(write.digest, earliest, waiting,
  // last flush) where earliest is the later of now and the delivery's given
  // next_attempt_at (a delay, scheduled_at or quiet hours), waiting the
  // earliest due time of the group's held members (those due at or after
  // `earliest` when the delivery was given a future time), and the last
  // flush the time of the group's last ClaimDigest that took a held member.
  // Concurrent routings of one group serialize, so they agree.

  // Claims the digest group of delivery `delivery_id` in ONE transaction:
  // when the named delivery can be claimed (ClaimTransition), every member
  // of its group that can be claimed now — held or pending and due, or
  // sending under an expired lease — is claimed with it under one lease
  // (now + lease) and, when a held member was among them, `now` becomes the
  // group's last flush. Otherwise nothing changes and the result says why
  // (kNotDue, kBusy, kFinished). A delivery without a digest_key is claimed
  // alone. kNotFound when the delivery is absent or another tenant's;
  // kInvalidArgument when lease is not positive.
  virtual absl::StatusOr<DigestClaim> ClaimDigest(absl::string_view tenant_id,
                                                  absl::string_view delivery_id,
                                                  absl::Duration lease) = 0;

  // The flush time RecordRouting would give a delivery of `group` routed
  // now, due no earlier than `earliest` (the dry run). Reads only.
  virtual absl::StatusOr<absl::Time> PeekDigestFlush(const DigestGroup& group,
                                                     const DigestWindow& window,
                                                     absl::Time earliest) = 0;

  // --- Tenant administration ---
  // The platform operators' tenant
  // management (alerthub/admin/tenants_admin.h). Deleting a tenant is a
  // soft delete: from then on GetTenant, GetTenantByName and ListTenants
  // treat it as absent, its name stays taken, and its API keys and refresh
  // tokens are revoked; its notifications, deliveries and outbox messages
  // are kept (what was accepted is still delivered and stays readable to
  // the operator's database tools).
  //
  // Live tenants by ascending id; the cursor is the last id seen.
  // kInvalidArgument for a limit outside 1-500.
  virtual absl::StatusOr<Page<Tenant>> ListTenants(const PageRequest& page) = 0;
  // Replaces the name and settings of the live tenant `tenant.id` (id and
  // created_at are kept). kNotFound when absent or deleted; kAlreadyExists
  // when another tenant, deleted or not, has the name.
  virtual absl::Status UpdateTenant(const Tenant& tenant) = 0;
  // In ONE transaction: marks the live tenant `id` deleted at `at`, and
  // revokes at `at` every API key and refresh-token family of it that is
  // not revoked yet. kNotFound when absent or already deleted.
  virtual absl::Status DeleteTenant(absl::string_view id, absl::Time at) = 0;

  // --- Analytics ---
  // (see "Analytics" above). Each
  // returns only non-empty groups, ordered by every key column ascending;
  // tenant-scoped. REQUIRES: window.start < window.end, window.bucket > 0
  // (kInvalidArgument otherwise).
  //
  // The tenant's notifications created in the window, per (bucket, status);
  // only those of `type` when it is not empty.
  virtual absl::StatusOr<std::vector<NotificationCountRow>> CountNotifications(
      absl::string_view tenant_id, const AnalyticsWindow& window, absl::string_view type) = 0;
  // The tenant's deliveries created in the window, per (bucket, channel,
  // status); only `channel`'s when set.
  virtual absl::StatusOr<std::vector<DeliveryCountRow>> CountDeliveries(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) = 0;
  // The latency histogram of the tenant's delivered deliveries created in
  // the window, per (bucket, channel, slot); only `channel`'s when set.
  virtual absl::StatusOr<std::vector<LatencyHistogramRow>> DeliveryLatencyHistogram(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) = 0;

  // --- Audit ---
  // Records are inserted by the store itself: every write transaction that
  // commits on a thread with an unwritten AuditScope (ports/audit.h)
  // inserts that scope's record before its COMMIT and marks it written
  // once committed, so a change and its record commit together.
  //
  // Appends `record` in a transaction of its own (AuditScope::Finish, for
  // operations that write nothing else). kAlreadyExists when the id is taken.
  virtual absl::Status AppendAuditRecord(const AuditRecord& record) = 0;
  // The tenant's records matching `filter`, newest first (by time, then id);
  // the cursor is the last id seen. kInvalidArgument for a limit outside
  // 1-500.
  virtual absl::StatusOr<Page<AuditRecord>> ListAuditRecords(absl::string_view tenant_id,
                                                             const AuditFilter& filter,
                                                             const PageRequest& page) = 0;

  // --- Privacy (GDPR) ---
  // (see "Privacy (GDPR)" above)
  //
  // Everything the tenant holds about user `user_id`, read in one snapshot
  // where the adapter has them (SQLite: one read transaction; PostgreSQL:
  // one REPEATABLE READ transaction). kNotFound when the user is absent or
  // another tenant's.
  virtual absl::StatusOr<UserDataExport> ExportUserData(absl::string_view tenant_id,
                                                        absl::string_view user_id) = 0;
  // Erases the user's personal data in ONE transaction, at `at`:
  //   - deletes the user (with their password hash), their preferences and
  //     every refresh token of theirs;
  //   - their pending and held deliveries become kSuppressed with
  //     last_error "recipient erased" (kRecipientErased); the others keep
  //     their status;
  //   - every delivery of theirs (dead-lettered ones included) loses its
  //     stored error, and the attempt events of those deliveries their
  //     provider's answers ("error", "response", "reason", the targets'
  //     "target" and "error"); dead tasks of those deliveries in the
  //     store's own task queue (`sql://`) lose their last_error;
  //   - each notification whose recipients include them loses their id
  //     from its recipients and, when they were its only recipient, its
  //     title, body, data and tags, in the notification and in its
  //     outbox message (published or not).
  // Notifications keep their ids, statuses and types; deliveries keep their
  // recipient id (which names no one once the user is gone) so counts and
  // histories stay whole. kNotFound (nothing changed) when the user is
  // absent or another tenant's — so a second erase is kNotFound.
  virtual absl::StatusOr<UserErasure> EraseUser(absl::string_view tenant_id,
                                                absl::string_view user_id, absl::Time at) = 0;

  // --- Capabilities ----------------------------------------------------------
  // A TaskQueue kept in this store's database (`sql://`), sharing its
  // durability. kUnimplemented when the adapter has none.
  virtual absl::StatusOr<std::unique_ptr<TaskQueue>> OpenTaskQueue() {
    return absl::UnimplementedError("this store has no built-in task queue");
  }

  // How many CommitSubmissions transactions are worth running at once: 1
  // for a store with a single writer (SQLite), more where concurrent
  // transactions commit in parallel and share WAL flushes (PostgreSQL: its
  // pool size). The group committer keeps at most this many in flight.
  virtual int ConcurrentCommitLimit() const { return 1; }

  // OK when the database answers a trivial query now.
  virtual absl::Status Ping() = 0;
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_STORE_H_
