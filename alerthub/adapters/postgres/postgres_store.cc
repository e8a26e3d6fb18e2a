#include "alerthub/adapters/postgres/postgres_store.h"

// Debian puts libpq under /usr/include/postgresql, outside the default search
// path that @system//:pq relies on; its own includes are relative.
#include <postgresql/libpq-fe.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "alerthub/adapters/postgres/internal/audit_log.h"
#include "alerthub/adapters/postgres/internal/connection.h"
#include "alerthub/adapters/postgres/internal/database.h"
#include "alerthub/adapters/postgres/internal/task_queue.h"
#include "alerthub/adapters/postgres/postgres_store_analytics.h"
#include "alerthub/adapters/postgres/postgres_store_auth.h"
#include "alerthub/adapters/postgres/postgres_store_privacy.h"
#include "alerthub/adapters/postgres/postgres_store_tenants.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/ports/delivery_transitions.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using postgres_internal::Connection;
using postgres_internal::Database;
using postgres_internal::Params;
using postgres_internal::Result;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// --- Documents -------------------------------------------------------------------

absl::StatusOr<std::string> Dump(const nlohmann::json& j, absl::string_view what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    // dump() throws on strings that are not valid UTF-8.
    return absl::InvalidArgumentError(
        absl::StrCat(what, " cannot be stored as JSON: ", e.what()));
  }
}

// Decodes a stored document with `from_json` (json -> StatusOr<T>); a
// document that does not decode is a corrupt row (kInternal).
template <typename T, typename FromJson>
absl::StatusOr<T> DecodeDoc(absl::string_view doc, absl::string_view table,
                            FromJson from_json) {
  nlohmann::json j = nlohmann::json::parse(doc.begin(), doc.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InternalError(
        absl::StrCat("postgres: corrupt row in ", table, ": not valid JSON"));
  }
  absl::StatusOr<T> v = absl::InternalError("unset");
  try {
    v = from_json(j);
  } catch (const nlohmann::json::exception& e) {
    v = absl::InvalidArgumentError(e.what());
  }
  if (!v.ok()) {
    return absl::InternalError(
        absl::StrCat("postgres: corrupt row in ", table, ": ", v.status().message()));
  }
  return v;
}

absl::StatusOr<CloudEvent> EventFromDoc(absl::string_view doc) {
  return DecodeDoc<CloudEvent>(doc, "events",
                               [](const nlohmann::json& j) { return CloudEventFromJson(j); });
}

// Columns: status, updated_at, doc.
absl::StatusOr<Notification> NotificationFromRow(const Result& r, int row) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Notification n,
      DecodeDoc<Notification>(r.Text(row, 2), "notifications", [](const nlohmann::json& j) {
        return NotificationFromJson(j);
      }));
  n.status = static_cast<NotificationStatus>(r.Int(row, 0));
  n.updated_at = r.Time(row, 1);
  return n;
}

absl::Status CheckLimit(int limit) {
  if (limit < 1 || limit > 500) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be 1-500, got ", limit));
  }
  return absl::OkStatus();
}

// Reads up to `limit` rows of `r` (which asked for limit + 1) with
// `decode(r, row)`; the extra row sets has_more.
template <typename T, typename Decode>
absl::StatusOr<Page<T>> PageOf(const Result& r, int limit, Decode decode) {
  Page<T> page;
  for (int row = 0; row < r.rows(); ++row) {
    if (row == limit) {
      page.has_more = true;
      break;
    }
    ALERTHUB_ASSIGN_OR_RETURN(T item, decode(r, row));
    page.items.push_back(std::move(item));
  }
  return page;
}

// --- Row decoders ------------------------------------------------------------------

// Connections for outbox batches held open (TakeOutbox): as many as the
// outbox relay keeps rounds in flight (OutboxRelayOptions).
constexpr int kOutboxBatchConnections = 4;

// Rows of (seq, topic, key, payload), in the result's order.
std::vector<OutboxRecord> OutboxRecordsOf(const Result& r) {
  std::vector<OutboxRecord> records;
  records.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    OutboxRecord rec;
    rec.seq = r.Int(row, 0);
    rec.topic = std::string(r.Text(row, 1));
    rec.key = std::string(r.Text(row, 2));
    rec.payload = std::string(r.Text(row, 3));
    records.push_back(std::move(rec));
  }
  return records;
}

constexpr absl::string_view kApiKeyColumns =
    "id, tenant_id, name, prefix, key_hash, role, created_at, revoked_at";

ApiKey ApiKeyFromRow(const Result& r, int row) {
  ApiKey k;
  k.id = std::string(r.Text(row, 0));
  k.tenant_id = std::string(r.Text(row, 1));
  k.name = std::string(r.Text(row, 2));
  k.prefix = std::string(r.Text(row, 3));
  k.key_hash = std::string(r.Text(row, 4));
  k.role = static_cast<Role>(r.Int(row, 5));
  k.created_at = r.Time(row, 6);
  k.revoked_at = r.OptTime(row, 7);
  return k;
}

constexpr absl::string_view kIntegrationColumns =
    "id, tenant_id, name, channel, config, enabled, is_default, created_at, updated_at, retry";

absl::StatusOr<Integration> IntegrationFromRow(const Result& r, int row) {
  Integration i;
  i.id = std::string(r.Text(row, 0));
  i.tenant_id = std::string(r.Text(row, 1));
  i.name = std::string(r.Text(row, 2));
  i.channel = static_cast<Channel>(r.Int(row, 3));
  auto identity = [](const nlohmann::json& j) { return absl::StatusOr<nlohmann::json>(j); };
  ALERTHUB_ASSIGN_OR_RETURN(i.config,
                            DecodeDoc<nlohmann::json>(r.Text(row, 4), "integrations", identity));
  i.enabled = r.Bool(row, 5);
  i.is_default = r.Bool(row, 6);
  i.created_at = r.Time(row, 7);
  i.updated_at = r.Time(row, 8);
  ALERTHUB_ASSIGN_OR_RETURN(i.retry,
                            DecodeDoc<nlohmann::json>(r.Text(row, 9), "integrations", identity));
  return i;
}

absl::StatusOr<Template> TemplateFromDoc(absl::string_view doc) {
  return DecodeDoc<Template>(doc, "templates",
                             [](const nlohmann::json& j) { return TemplateFromJson(j); });
}

absl::StatusOr<Rule> RuleFromDoc(absl::string_view doc) {
  return DecodeDoc<Rule>(doc, "rules", [](const nlohmann::json& j) { return RuleFromJson(j); });
}

absl::StatusOr<User> UserFromDoc(absl::string_view doc) {
  return DecodeDoc<User>(doc, "users", [](const nlohmann::json& j) { return UserFromJson(j); });
}

// Row `row` of a result selecting "id, name, settings, created_at" first.
absl::StatusOr<Tenant> TenantFromRow(const Result& r, int row) {
  Tenant t;
  t.id = std::string(r.Text(row, 0));
  t.name = std::string(r.Text(row, 1));
  ALERTHUB_ASSIGN_OR_RETURN(
      t.settings, DecodeDoc<TenantSettings>(r.Text(row, 2), "tenants",
                                            [](const nlohmann::json& j) {
                                              return TenantSettingsFromJson(j);
                                            }));
  t.created_at = r.Time(row, 3);
  return t;
}

absl::StatusOr<Preferences> PreferencesFromDoc(absl::string_view doc) {
  return DecodeDoc<Preferences>(
      doc, "preferences", [](const nlohmann::json& j) { return PreferencesFromJson(j); });
}

constexpr absl::string_view kDeliveryColumns =
    "id, tenant_id, notification_id, integration_id, channel, recipient, status, "
    "attempts, next_attempt_at, last_error, created_at, updated_at, lease_until, digest_key";

struct DeliveryRow {
  Delivery delivery;
  std::optional<absl::Time> lease_until;
};

DeliveryRow DeliveryFromRow(const Result& r, int row) {
  DeliveryRow out;
  Delivery& d = out.delivery;
  d.id = std::string(r.Text(row, 0));
  d.tenant_id = std::string(r.Text(row, 1));
  d.notification_id = std::string(r.Text(row, 2));
  d.integration_id = std::string(r.Text(row, 3));
  d.channel = static_cast<Channel>(r.Int(row, 4));
  d.recipient = std::string(r.Text(row, 5));
  d.status = static_cast<DeliveryStatus>(r.Int(row, 6));
  d.attempts = static_cast<int>(r.Int(row, 7));
  d.next_attempt_at = r.OptTime(row, 8);
  d.last_error = std::string(r.Text(row, 9));
  d.created_at = r.Time(row, 10);
  d.updated_at = r.Time(row, 11);
  out.lease_until = r.OptTime(row, 12);
  d.digest_key = std::string(r.Text(row, 13));
  return out;
}

absl::StatusOr<Delivery> DeliveryOnly(const Result& r, int row) {
  return DeliveryFromRow(r, row).delivery;
}

absl::Status NoDelivery(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no delivery \"", id, "\""));
}

absl::Status NoNotification(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no notification \"", id, "\""));
}

// Errors of one item of a batch, found before it wrote anything: the others
// still commit.
bool IsItemError(const absl::Status& s) {
  return absl::IsNotFound(s) || absl::IsFailedPrecondition(s);
}

// --- Statements shared by several methods --------------------------------------------

absl::Status InsertEvent(Connection& c, const CloudEvent& e, absl::string_view tenant_id,
                         absl::string_view notification_id) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(CloudEventToJson(e), "event"));
  return c
      .Query("INSERT INTO events (id, tenant_id, notification_id, type, time, doc) "
             "VALUES ($1, $2, $3, $4, $5, $6)",
             Params()
                 .Text(e.id)
                 .Text(tenant_id)
                 .Text(notification_id)
                 .Text(e.type)
                 .Int(Micros(e.time))
                 .Text(doc))
      .status();
}

// The tenant's delivery `id`, locked for this transaction, its notification
// locked first; nullopt when absent.
//
// Lock order: every transaction that changes deliveries (routing, claims,
// attempts, replays, cancellation) locks the notification's row before any
// of its deliveries, so they never deadlock on one notification. (A
// delivery's notification_id never changes: reading it unlocked is safe.)
absl::StatusOr<std::optional<DeliveryRow>> LockDelivery(Connection& c,
                                                        absl::string_view tenant_id,
                                                        absl::string_view id) {
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result n, c.Query("SELECT 1 FROM notifications WHERE id = "
                          "(SELECT notification_id FROM deliveries "
                          "WHERE id = $1 AND tenant_id = $2) FOR UPDATE",
                          Params().Text(id).Text(tenant_id)));
  }
  ALERTHUB_ASSIGN_OR_RETURN(
      Result r, c.Query(absl::StrCat("SELECT ", kDeliveryColumns,
                                     " FROM deliveries WHERE id = $1 AND tenant_id = $2 "
                                     "FOR UPDATE"),
                        Params().Text(id).Text(tenant_id)));
  if (r.rows() == 0) return std::optional<DeliveryRow>();
  return std::optional<DeliveryRow>(DeliveryFromRow(r, 0));
}

// Recomputes the notification's status from its deliveries (the notification
// row locked, so concurrent workers serialize here); when it changes, stores
// it and, for a final status, appends the announcing event and its outbox
// message. The same steps as the SQLite store's.
absl::StatusOr<StatusTransition> Reaggregate(Connection& c, absl::string_view tenant_id,
                                             absl::string_view notification_id, absl::Time now,
                                             absl::string_view traceparent) {
  StatusTransition t;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("SELECT status FROM notifications WHERE id = $1 AND tenant_id = $2 "
                          "FOR UPDATE",
                          Params().Text(notification_id).Text(tenant_id)));
    if (r.rows() == 0) return NoNotification(notification_id);
    t.before = static_cast<NotificationStatus>(r.Int(0, 0));
  }
  DeliveryTally tally;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("SELECT status, attempts FROM deliveries WHERE notification_id = $1",
                          Params().Text(notification_id)));
    for (int row = 0; row < r.rows(); ++row) {
      Delivery d;
      d.status = static_cast<DeliveryStatus>(r.Int(row, 0));
      d.attempts = static_cast<int>(r.Int(row, 1));
      CountDelivery(d, &tally);
    }
  }
  t.after = AggregateNotificationStatus(t.before, tally);
  if (!t.changed()) return t;

  ALERTHUB_RETURN_IF_ERROR(
      c.Query("UPDATE notifications SET status = $2, updated_at = $3 WHERE id = $1",
              Params()
                  .Text(notification_id)
                  .Int(static_cast<int64_t>(t.after))
                  .Int(Micros(now)))
          .status());

  std::optional<OutcomeAnnouncement> announce = AnnouncementFor(t.after);
  if (!announce.has_value()) return t;
  CloudEvent e;
  e.id = NewUuidV7(now);
  e.source = "/alerthub/delivery";
  e.type = std::string(announce->event_type);
  e.subject = std::string(notification_id);
  e.time = now;
  e.tenantid = std::string(tenant_id);
  e.traceparent = std::string(traceparent);
  e.data = {{"status", std::string(NotificationStatusName(t.after))},
            {"deliveries", tally.delivered + tally.failed + tally.suppressed},
            {"delivered", tally.delivered},
            {"failed", tally.failed}};
  ALERTHUB_RETURN_IF_ERROR(InsertEvent(c, e, tenant_id, notification_id));
  ALERTHUB_ASSIGN_OR_RETURN(std::string payload, Dump(CloudEventToJson(e), "event"));
  ALERTHUB_RETURN_IF_ERROR(
      c.Query("INSERT INTO outbox (topic, key, payload, created_at) VALUES ($1, $2, $3, $4)",
              Params()
                  .Text(announce->topic)
                  .Text(notification_id)
                  .Text(payload)
                  .Int(Micros(now)))
          .status());
  return t;
}

// Stores a claim: `id` is sending under a lease until `lease_until`.
absl::Status MarkSending(Connection& c, absl::string_view id, absl::Time lease_until,
                         absl::Time now) {
  return c
      .Query("UPDATE deliveries SET status = $2, lease_until = $3, updated_at = $4 WHERE id = $1",
             Params()
                 .Text(id)
                 .Int(static_cast<int64_t>(DeliveryStatus::kSending))
                 .Int(Micros(lease_until))
                 .Int(Micros(now)))
      .status();
}

absl::StatusOr<DeliveryClaim> ClaimOne(Connection& c, const DeliveryRef& ref,
                                       absl::Duration lease, absl::Time now) {
  DeliveryClaim claim;
  ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> row,
                            LockDelivery(c, ref.tenant_id, ref.id));
  if (!row.has_value()) return NoDelivery(ref.id);
  claim.delivery = row->delivery;
  Delivery& d = claim.delivery;
  claim.result = ClaimTransition(d, row->lease_until, now);
  if (claim.result != DeliveryClaim::Result::kClaimed) return claim;
  ALERTHUB_RETURN_IF_ERROR(MarkSending(c, d.id, now + lease, now));
  ALERTHUB_ASSIGN_OR_RETURN(claim.notification,
                            Reaggregate(c, ref.tenant_id, d.notification_id, now, ""));
  return claim;
}

absl::StatusOr<AttemptOutcomeRecord> RecordOne(Connection& c, const AttemptWrite& w,
                                               absl::Time now) {
  AttemptOutcomeRecord out;
  ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> row,
                            LockDelivery(c, w.tenant_id, w.delivery_id));
  if (!row.has_value()) return NoDelivery(w.delivery_id);
  out.delivery = row->delivery;
  Delivery& d = out.delivery;
  ALERTHUB_RETURN_IF_ERROR(AttemptTransition(d, w, now));
  ALERTHUB_RETURN_IF_ERROR(
      c.Query("UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4, "
              "lease_until = NULL, last_error = $5, updated_at = $6 WHERE id = $1",
              Params()
                  .Text(d.id)
                  .Int(static_cast<int64_t>(d.status))
                  .Int(d.attempts)
                  .OptTime(d.next_attempt_at)
                  .Text(d.last_error)
                  .Int(Micros(now)))
          .status());
  ALERTHUB_RETURN_IF_ERROR(InsertEvent(c, w.attempt_event, w.tenant_id, d.notification_id));
  ALERTHUB_ASSIGN_OR_RETURN(out.notification,
                            Reaggregate(c, w.tenant_id, d.notification_id, now,
                                        w.attempt_event.traceparent));
  return out;
}

// Runs `one` for every item inside the caller's transaction; an item error
// (found by reading, before the item wrote anything) fills its slot, any
// other error fails the transaction.
template <typename Out, typename In, typename One>
absl::Status ForEachItem(Connection& c, absl::Span<const In> items,
                         std::vector<absl::StatusOr<Out>>* out, One one) {
  out->clear();
  out->reserve(items.size());
  for (const In& item : items) {
    absl::StatusOr<Out> r = one(item);
    if (!r.ok() && !IsItemError(r.status())) return r.status();
    out->push_back(std::move(r));
  }
  return absl::OkStatus();
}

// --- Digests ---------------------------------------------------------------------------
// (ports/store.h "Digests"). A group's digest_groups row is its lock: routing
// and claims of one group take it (routing after the notification's row, a
// claim before its members'), so they serialize and agree on flush times.

Params GroupParams(const DigestGroup& g) {
  return Params().Text(g.tenant_id).Text(g.integration_id).Text(g.recipient).Text(g.digest_key);
}

constexpr absl::string_view kGroupWhere =
    "tenant_id = $1 AND integration_id = $2 AND recipient = $3 AND digest_key = $4";

// Locks the group's row (creating it) and returns its last flush.
absl::StatusOr<std::optional<absl::Time>> LockDigestGroup(Connection& c, const DigestGroup& g) {
  ALERTHUB_RETURN_IF_ERROR(
      c.Query("INSERT INTO digest_groups (tenant_id, integration_id, recipient, digest_key) "
              "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
              GroupParams(g))
          .status());
  ALERTHUB_ASSIGN_OR_RETURN(
      Result r, c.Query(absl::StrCat("SELECT last_flush_at FROM digest_groups WHERE ",
                                     kGroupWhere, " FOR UPDATE"),
                        GroupParams(g)));
  if (r.rows() == 0) return std::optional<absl::Time>();
  return r.OptTime(0, 0);
}

// The flush time of a member of `g` given `given` (see SQLite's twin in
// sqlite/internal/delivery_tables.cc); `lock` takes the group's row.
absl::StatusOr<absl::Time> ReadDigestFlush(Connection& c, const DigestGroup& g,
                                           const DigestWindow& window,
                                           std::optional<absl::Time> given, absl::Time now,
                                           bool lock) {
  std::optional<absl::Time> last_flush;
  if (lock) {
    ALERTHUB_ASSIGN_OR_RETURN(last_flush, LockDigestGroup(c, g));
  } else {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query(absl::StrCat("SELECT last_flush_at FROM digest_groups WHERE ",
                                       kGroupWhere),
                          GroupParams(g)));
    if (r.rows() > 0) last_flush = r.OptTime(0, 0);
  }
  ALERTHUB_ASSIGN_OR_RETURN(
      Result r, c.Query(absl::StrCat("SELECT min(next_attempt_at) FROM deliveries WHERE ",
                                     kGroupWhere,
                                     " AND digest_key <> '' AND status = $5 "
                                     "AND next_attempt_at >= $6"),
                        GroupParams(g)
                            .Int(static_cast<int64_t>(DeliveryStatus::kHeld))
                            .Int(Micros(DigestJoinFloor(given, now)))));
  std::optional<absl::Time> waiting;
  if (r.rows() > 0) waiting = r.OptTime(0, 0);
  const absl::Time earliest = given.has_value() ? std::max(*given, now) : now;
  return DigestFlushTime(window, earliest, waiting, last_flush);
}

absl::StatusOr<absl::Time> DigestDueTime(Connection& c, const RoutingWrite& w, const Delivery& d,
                                         absl::Time now) {
  ALERTHUB_RETURN_IF_ERROR(CheckDigestMember(w, d));
  return ReadDigestFlush(c, {d.tenant_id, d.integration_id, d.recipient, d.digest_key},
                         *w.digest, d.next_attempt_at, now, /*lock=*/true);
}

// Routes one notification inside the caller's transaction (see
// Store::RecordRoutings). Its only item error is kNotFound for an absent or
// foreign notification, found before it writes anything; a malformed write
// is kInvalidArgument, which fails the whole batch.
absl::StatusOr<RoutingOutcome> RouteOne(Connection& c, const RoutingWrite& w, absl::Time now) {
  RoutingOutcome out;
  {
    // Locked: a concurrent replay of the same routing waits, then sees the
    // notification routed.
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("SELECT status FROM notifications WHERE id = $1 "
                          "AND tenant_id = $2 FOR UPDATE",
                          Params().Text(w.notification_id).Text(w.tenant_id)));
    if (r.rows() == 0) return NoNotification(w.notification_id);
    out.notification.before = out.notification.after =
        static_cast<NotificationStatus>(r.Int(0, 0));
  }
  // After the lookup, as in SQLite: an unknown notification is kNotFound
  // whatever the deliveries say.
  for (const Delivery& d : w.deliveries) {
    if (d.tenant_id != w.tenant_id || d.notification_id != w.notification_id) {
      return absl::InvalidArgumentError(absl::StrCat(
          "delivery \"", d.id, "\" belongs to another notification or tenant"));
    }
  }
  if (!w.deliveries.empty()) {
    std::vector<std::string> ids, integrations, recipients, digest_keys;
    std::vector<int64_t> channels, statuses, created, updated;
    std::vector<std::optional<std::string>> due;
    for (const Delivery& d : w.deliveries) {
      ids.push_back(d.id);
      integrations.push_back(d.integration_id);
      recipients.push_back(d.recipient);
      digest_keys.push_back(d.digest_key);
      channels.push_back(static_cast<int64_t>(d.channel));
      statuses.push_back(static_cast<int64_t>(d.status));
      created.push_back(Micros(d.created_at));
      updated.push_back(Micros(d.updated_at));
      std::optional<absl::Time> at = d.next_attempt_at;
      // --- Digests: a member is due at its group's flush time.
      if (!d.digest_key.empty()) {
        ALERTHUB_ASSIGN_OR_RETURN(at, DigestDueTime(c, w, d, now));
      }
      due.push_back(at.has_value() ? std::optional<std::string>(absl::StrCat(Micros(*at)))
                                   : std::nullopt);
    }
    ALERTHUB_RETURN_IF_ERROR(
        c.Query(absl::StrCat(
                    "INSERT INTO deliveries (", kDeliveryColumns,
                    ") SELECT a, $2::text, $3::text, b, c, d, e, 0, f, '', g, h, NULL::bigint, "
                    "k FROM unnest($1::text[], $4::text[], $5::int[], $6::text[], $7::int[], "
                    "$8::bigint[], $9::bigint[], $10::bigint[], $11::text[]) WITH ORDINALITY "
                    "AS u(a, b, c, d, e, f, g, h, k, o) ORDER BY o "
                    "ON CONFLICT (notification_id, integration_id, recipient) DO NOTHING"),
                Params()
                    .TextArray(ids)
                    .Text(w.tenant_id)
                    .Text(w.notification_id)
                    .TextArray(integrations)
                    .IntArray(channels)
                    .TextArray(recipients)
                    .IntArray(statuses)
                    .TextArray(due)
                    .IntArray(created)
                    .IntArray(updated)
                    .TextArray(digest_keys))
            .status());
  }
  // Only the first routing of a notification (or the first write for it in
  // a batch) moves it on; a replay finds it routed and changes nothing.
  if (out.notification.before == NotificationStatus::kAccepted) {
    DeliveryTally tally;
    for (const Delivery& d : w.deliveries) CountDelivery(d, &tally);
    const NotificationStatus after = AggregateNotificationStatus(w.status, tally);
    ALERTHUB_RETURN_IF_ERROR(
        c.Query("UPDATE notifications SET status = $2, updated_at = $3 WHERE id = $1",
                Params()
                    .Text(w.notification_id)
                    .Int(static_cast<int64_t>(after))
                    .Int(Micros(now)))
            .status());
    ALERTHUB_RETURN_IF_ERROR(InsertEvent(c, w.event, w.tenant_id, w.notification_id));
    out.notification.after = after;
  }
  ALERTHUB_ASSIGN_OR_RETURN(
      Result r, c.Query(absl::StrCat("SELECT ", kDeliveryColumns,
                                     " FROM deliveries WHERE notification_id = $1 ORDER BY id"),
                        Params().Text(w.notification_id)));
  for (int row = 0; row < r.rows(); ++row) {
    out.deliveries.push_back(DeliveryFromRow(r, row).delivery);
  }
  return out;
}

// Store::ClaimDigest's transaction.
absl::StatusOr<DigestClaim> ClaimDigestIn(Connection& c, absl::string_view tenant_id,
                                          absl::string_view id, absl::Duration lease,
                                          absl::Time now) {
  DigestClaim out;
  DigestGroup g;
  {
    // Unlocked: a delivery's group never changes.
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("SELECT integration_id, recipient, digest_key FROM deliveries "
                          "WHERE id = $1 AND tenant_id = $2",
                          Params().Text(id).Text(tenant_id)));
    if (r.rows() == 0) return NoDelivery(id);
    g = {std::string(tenant_id), std::string(r.Text(0, 0)), std::string(r.Text(0, 1)),
         std::string(r.Text(0, 2))};
  }
  if (!g.digest_key.empty()) ALERTHUB_RETURN_IF_ERROR(LockDigestGroup(c, g).status());
  ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> named, LockDelivery(c, tenant_id, id));
  if (!named.has_value()) return NoDelivery(id);
  {
    Delivery probe = named->delivery;
    out.result = ClaimTransition(probe, named->lease_until, now);
    if (out.result != DeliveryClaim::Result::kClaimed) {
      out.deliveries.push_back(std::move(probe));
      return out;
    }
  }
  if (g.digest_key.empty()) {
    // Not a digest member: claimed alone, as ClaimDeliveries would.
    ALERTHUB_ASSIGN_OR_RETURN(DeliveryClaim one,
                              ClaimOne(c, {std::string(tenant_id), std::string(id)}, lease, now));
    out.deliveries.push_back(std::move(one.delivery));
    out.notifications.push_back(one.notification);
    return out;
  }
  ALERTHUB_ASSIGN_OR_RETURN(
      Result members,
      c.Query(absl::StrCat("SELECT id FROM deliveries WHERE ", kGroupWhere,
                           " AND digest_key <> '' AND status IN (1, 2, 5) ORDER BY id"),
              GroupParams(g)));
  bool flushed = false;
  for (int row = 0; row < members.rows(); ++row) {
    const std::string member(members.Text(row, 0));
    ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> m, LockDelivery(c, tenant_id, member));
    if (!m.has_value()) continue;
    Delivery& d = m->delivery;
    const DeliveryStatus before = d.status;
    if (ClaimTransition(d, m->lease_until, now) != DeliveryClaim::Result::kClaimed) continue;
    flushed = flushed || before == DeliveryStatus::kHeld;
    ALERTHUB_RETURN_IF_ERROR(MarkSending(c, d.id, now + lease, now));
    ALERTHUB_ASSIGN_OR_RETURN(StatusTransition t,
                              Reaggregate(c, tenant_id, d.notification_id, now, ""));
    out.deliveries.push_back(std::move(d));
    out.notifications.push_back(t);
  }
  if (flushed) {
    ALERTHUB_RETURN_IF_ERROR(
        c.Query(absl::StrCat("UPDATE digest_groups SET last_flush_at = $5 WHERE ", kGroupWhere),
                GroupParams(g).Int(Micros(now)))
            .status());
  }
  return out;
}

// --- The store --------------------------------------------------------------------------

class PostgresStoreImpl final : public PostgresStore {
 public:
  // `outbox_db`: the pool that TakeOutbox's held transactions come from, so
  // they never wait for (or starve) the other calls' connections.
  PostgresStoreImpl(std::shared_ptr<Database> db, std::shared_ptr<Database> outbox_db)
      : db_(std::move(db)),
        outbox_db_(std::move(outbox_db)),
        auth_(db_, &UserFromDoc),
        tenants_(db_, &TenantFromRow),
        audit_(db_),
        privacy_(db_, {.user = &UserFromDoc,
                       .preferences = &PreferencesFromDoc,
                       .event = &EventFromDoc,
                       .notification = &NotificationFromRow,
                       .delivery = &DeliveryOnly,
                       .delivery_columns = kDeliveryColumns}) {}

  // --- Tenants and API keys ---

  absl::Status CreateTenant(const Tenant& tenant) override {
    return CreateTenantAndKey(tenant, nullptr);
  }

  absl::Status CreateTenantWithKey(const Tenant& tenant, const ApiKey& first_key) override {
    return CreateTenantAndKey(tenant, &first_key);
  }

  absl::StatusOr<Tenant> GetTenant(absl::string_view id) override {
    return ReadTenant("SELECT id, name, settings, created_at FROM tenants "
                      "WHERE id = $1 AND deleted_at IS NULL",
                      id,
                      "id");
  }

  absl::StatusOr<Tenant> GetTenantByName(absl::string_view name) override {
    return ReadTenant("SELECT id, name, settings, created_at FROM tenants "
                      "WHERE name = $1 AND deleted_at IS NULL",
                      name, "name");
  }

  absl::Status CreateApiKey(const ApiKey& key) override {
    return ApiKeyWriteError(db_->Write([&](Connection& c) { return InsertApiKey(c, key); }), key);
  }

  absl::StatusOr<ApiKey> FindApiKeyByHash(absl::string_view key_hash) override {
    std::optional<ApiKey> key;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query(absl::StrCat("SELECT ", kApiKeyColumns,
                                         " FROM api_keys WHERE key_hash = $1"),
                            Params().Text(key_hash)));
      if (r.rows() > 0) key = ApiKeyFromRow(r, 0);
      return absl::OkStatus();
    }));
    if (!key.has_value()) return absl::NotFoundError("no API key with this hash");
    return *std::move(key);
  }

  absl::StatusOr<std::vector<ApiKey>> ListApiKeys(absl::string_view tenant_id) override {
    std::vector<ApiKey> keys;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      keys.clear();
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query(absl::StrCat("SELECT ", kApiKeyColumns,
                                         " FROM api_keys WHERE tenant_id = $1 "
                                         "ORDER BY created_at DESC, id DESC"),
                            Params().Text(tenant_id)));
      for (int row = 0; row < r.rows(); ++row) keys.push_back(ApiKeyFromRow(r, row));
      return absl::OkStatus();
    }));
    return keys;
  }

  absl::Status RevokeApiKey(absl::string_view tenant_id, absl::string_view key_id,
                            absl::Time at) override {
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3) "
                            "WHERE id = $1 AND tenant_id = $2",
                            Params().Text(key_id).Text(tenant_id).Int(Micros(at))));
      if (r.Affected() == 0) {
        return absl::NotFoundError(absl::StrCat("no API key \"", key_id, "\""));
      }
      return absl::OkStatus();
    });
  }

  // --- Submissions ---

  absl::StatusOr<std::vector<SubmissionOutcome>> CommitSubmissions(
      absl::Span<const SubmissionWrite> submissions) override {
    if (submissions.empty()) return std::vector<SubmissionOutcome>();
    // Within the call, a repeated (tenant, dedup_key) is a duplicate of its
    // first submission: `first[i]` is that submission's index (i itself for
    // the ones to insert).
    std::vector<size_t> first(submissions.size());
    std::map<std::pair<std::string, std::string>, size_t> by_key;
    // Arrays for one multi-row INSERT per table (unnest), in call order.
    std::vector<std::string> n_id, n_tenant, n_type, n_doc, e_id, e_type, e_doc, o_topic,
        o_payload;
    std::vector<std::optional<std::string>> n_dedup;
    std::vector<int64_t> n_status, n_priority, n_created, n_updated, e_time;
    for (size_t i = 0; i < submissions.size(); ++i) {
      const SubmissionWrite& w = submissions[i];
      const Notification& n = w.notification;
      if (n.id.empty() || n.tenant_id.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "submissions[", i, "]: notification id and tenant_id must be set"));
      }
      first[i] = i;
      if (!n.dedup_key.empty()) {
        auto [it, inserted] = by_key.emplace(std::make_pair(n.tenant_id, n.dedup_key), i);
        if (!inserted) {
          first[i] = it->second;
          continue;
        }
      }
      std::string ndoc = w.notification_json;
      std::string edoc = w.accepted_event_json;
      if (ndoc.empty()) {
        ALERTHUB_ASSIGN_OR_RETURN(
            ndoc, Dump(NotificationToJson(n), absl::StrCat("submissions[", i, "]")));
      }
      if (edoc.empty()) {
        ALERTHUB_ASSIGN_OR_RETURN(
            edoc, Dump(CloudEventToJson(w.accepted_event), absl::StrCat("submissions[", i, "]")));
      }
      n_id.push_back(n.id);
      n_tenant.push_back(n.tenant_id);
      n_type.push_back(n.type);
      n_status.push_back(static_cast<int64_t>(n.status));
      n_priority.push_back(static_cast<int64_t>(n.priority));
      n_dedup.push_back(n.dedup_key.empty() ? std::nullopt
                                            : std::optional<std::string>(n.dedup_key));
      n_created.push_back(Micros(n.created_at));
      n_updated.push_back(Micros(n.updated_at));
      n_doc.push_back(std::move(ndoc));
      e_id.push_back(w.accepted_event.id);
      e_type.push_back(w.accepted_event.type);
      e_time.push_back(Micros(w.accepted_event.time));
      e_doc.push_back(std::move(edoc));
      o_topic.push_back(w.outbox_topic);
      o_payload.push_back(w.outbox_payload);
    }
    const int64_t now = Micros(db_->clock().Now());

    std::vector<SubmissionOutcome> outcomes;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      outcomes.assign(submissions.size(), SubmissionOutcome());
      // 1. The notifications; a stored (tenant, dedup_key) skips its row.
      absl::flat_hash_set<std::string> inserted;
      {
        ALERTHUB_ASSIGN_OR_RETURN(
            Result r,
            c.Query("INSERT INTO notifications (id, tenant_id, type, status, priority, "
                    "dedup_key, created_at, updated_at, doc) "
                    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], "
                    "$5::int[], $6::text[], $7::bigint[], $8::bigint[], $9::text[]) "
                    "ON CONFLICT (tenant_id, dedup_key) WHERE dedup_key IS NOT NULL "
                    "DO NOTHING RETURNING id",
                    Params()
                        .TextArray(n_id)
                        .TextArray(n_tenant)
                        .TextArray(n_type)
                        .IntArray(n_status)
                        .IntArray(n_priority)
                        .TextArray(n_dedup)
                        .IntArray(n_created)
                        .IntArray(n_updated)
                        .TextArray(n_doc)));
        for (int row = 0; row < r.rows(); ++row) inserted.insert(std::string(r.Text(row, 0)));
      }
      // 2. The originals of those skipped.
      std::map<std::pair<std::string, std::string>, std::string> originals;
      if (inserted.size() < n_id.size()) {
        std::vector<std::string> tenants, keys;
        for (size_t k = 0; k < n_id.size(); ++k) {
          if (inserted.contains(n_id[k])) continue;
          if (!n_dedup[k].has_value()) {
            return absl::InternalError(absl::StrCat(
                "postgres: insert of \"", n_id[k], "\" was skipped but it has no dedup key"));
          }
          tenants.push_back(n_tenant[k]);
          keys.push_back(*n_dedup[k]);
        }
        ALERTHUB_ASSIGN_OR_RETURN(
            Result r, c.Query("SELECT n.tenant_id, n.dedup_key, n.id FROM notifications n "
                              "JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, dedup_key) "
                              "ON n.tenant_id = k.tenant_id AND n.dedup_key = k.dedup_key",
                              Params().TextArray(tenants).TextArray(keys)));
        for (int row = 0; row < r.rows(); ++row) {
          originals[{std::string(r.Text(row, 0)), std::string(r.Text(row, 1))}] =
              std::string(r.Text(row, 2));
        }
      }
      // 3. Events and outbox messages of the inserted ones, in call order.
      std::vector<std::string> ev_id, ev_tenant, ev_nid, ev_type, ev_doc, ob_topic, ob_key,
          ob_payload;
      std::vector<int64_t> ev_time;
      for (size_t k = 0; k < n_id.size(); ++k) {
        if (!inserted.contains(n_id[k])) continue;
        ev_id.push_back(e_id[k]);
        ev_tenant.push_back(n_tenant[k]);
        ev_nid.push_back(n_id[k]);
        ev_type.push_back(e_type[k]);
        ev_time.push_back(e_time[k]);
        ev_doc.push_back(e_doc[k]);
        ob_topic.push_back(o_topic[k]);
        ob_key.push_back(n_id[k]);
        ob_payload.push_back(o_payload[k]);
      }
      if (!ev_id.empty()) {
        ALERTHUB_RETURN_IF_ERROR(
            c.Query("INSERT INTO events (id, tenant_id, notification_id, type, time, doc) "
                    "SELECT a, b, c, d, e, f FROM unnest($1::text[], $2::text[], $3::text[], "
                    "$4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY "
                    "AS u(a, b, c, d, e, f, o) ORDER BY o",
                    Params()
                        .TextArray(ev_id)
                        .TextArray(ev_tenant)
                        .TextArray(ev_nid)
                        .TextArray(ev_type)
                        .IntArray(ev_time)
                        .TextArray(ev_doc))
                .status());
        ALERTHUB_RETURN_IF_ERROR(
            c.Query("INSERT INTO outbox (topic, key, payload, created_at) "
                    "SELECT a, b, c, $4::bigint FROM unnest($1::text[], $2::text[], $3::text[]) "
                    "WITH ORDINALITY AS u(a, b, c, o) ORDER BY o",
                    Params().TextArray(ob_topic).TextArray(ob_key).TextArray(ob_payload).Int(now))
                .status());
      }
      // 4. One outcome per submission.
      for (size_t i = 0; i < submissions.size(); ++i) {
        const Notification& n = submissions[i].notification;
        if (first[i] == i && inserted.contains(n.id)) {
          outcomes[i] = {n.id, /*duplicate=*/false};
          continue;
        }
        const Notification& f = submissions[first[i]].notification;
        if (first[i] != i && inserted.contains(f.id)) {
          outcomes[i] = {f.id, /*duplicate=*/true};
          continue;
        }
        auto it = originals.find({n.tenant_id, n.dedup_key});
        if (it == originals.end()) {
          return absl::InternalError(absl::StrCat(
              "postgres: submissions[", i, "] is a duplicate whose original is not found"));
        }
        outcomes[i] = {it->second, /*duplicate=*/true};
      }
      return absl::OkStatus();
    }));
    return outcomes;
  }

  absl::StatusOr<Notification> GetNotification(absl::string_view tenant_id,
                                                absl::string_view id) override {
    std::optional<Notification> n;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT status, updated_at, doc FROM notifications "
                            "WHERE id = $1 AND tenant_id = $2",
                            Params().Text(id).Text(tenant_id)));
      if (r.rows() == 0) return absl::OkStatus();
      ALERTHUB_ASSIGN_OR_RETURN(n, NotificationFromRow(r, 0));
      return absl::OkStatus();
    }));
    if (!n.has_value()) return NoNotification(id);
    return *std::move(n);
  }

  absl::StatusOr<NotificationPage> ListNotifications(
      absl::string_view tenant_id, const NotificationFilter& filter) override {
    ALERTHUB_RETURN_IF_ERROR(CheckLimit(filter.limit));
    // The statement has one variant per combination of filters (each is
    // prepared once per connection); values are parameters.
    std::string sql = "SELECT status, updated_at, doc FROM notifications WHERE tenant_id = $1";
    Params params;
    params.Text(tenant_id);
    int n = 1;
    if (filter.status.has_value()) {
      absl::StrAppend(&sql, " AND status = $", ++n);
      params.Int(static_cast<int64_t>(*filter.status));
      // Lets the planner use the partial index notifications_by_status.
      if (*filter.status != NotificationStatus::kAccepted) {
        absl::StrAppend(&sql, " AND status <> 1");
      }
    }
    if (!filter.type.empty()) {
      absl::StrAppend(&sql, " AND type = $", ++n);
      params.Text(filter.type);
    }
    if (filter.since.has_value()) {
      absl::StrAppend(&sql, " AND created_at >= $", ++n);
      params.Int(Micros(*filter.since));
    }
    if (!filter.before_id.empty()) {
      absl::StrAppend(&sql, " AND id < $", ++n);
      params.Text(filter.before_id);
    }
    absl::StrAppend(&sql, " ORDER BY id DESC LIMIT $", ++n);
    params.Int(filter.limit + 1);
    NotificationPage page;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r, c.Query(sql, params));
      ALERTHUB_ASSIGN_OR_RETURN(Page<Notification> p,
                                PageOf<Notification>(r, filter.limit, NotificationFromRow));
      page.items = std::move(p.items);
      page.has_more = p.has_more;
      return absl::OkStatus();
    }));
    return page;
  }

  absl::StatusOr<std::vector<CloudEvent>> ListEvents(
      absl::string_view tenant_id, absl::string_view notification_id) override {
    std::vector<CloudEvent> events;
    bool found = false;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      events.clear();
      // One round trip: the notification's row (to tell "absent" from "no
      // events") left-joined with its events.
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT e.doc FROM notifications n "
                            "LEFT JOIN events e ON e.notification_id = n.id "
                            "WHERE n.id = $1 AND n.tenant_id = $2 ORDER BY e.seq",
                            Params().Text(notification_id).Text(tenant_id)));
      found = r.rows() > 0;
      for (int row = 0; row < r.rows(); ++row) {
        if (r.IsNull(row, 0)) continue;
        ALERTHUB_ASSIGN_OR_RETURN(CloudEvent e, EventFromDoc(r.Text(row, 0)));
        events.push_back(std::move(e));
      }
      return absl::OkStatus();
    }));
    if (!found) return NoNotification(notification_id);
    return events;
  }

  // --- Outbox ---

  // The outbox relay's claims and marks commit without waiting for the WAL
  // flush: losing one in a server crash only publishes its messages again
  // (the bus is at-least-once), and any later durable commit flushes it. It
  // takes a flush off every round of the relay.
  static constexpr absl::string_view kOutboxAsyncCommit = "SET LOCAL synchronous_commit = off";

  absl::StatusOr<std::vector<OutboxRecord>> ClaimOutbox(int max,
                                                        absl::Duration lease) override {
    if (max <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("max must be positive, got ", max));
    }
    if (lease <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("lease must be positive");
    }
    const absl::Time now = db_->clock().Now();
    std::vector<OutboxRecord> records;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      records.clear();
      ALERTHUB_RETURN_IF_ERROR(c.Exec(kOutboxAsyncCommit));
      // SKIP LOCKED: concurrent claimers (threads or relays of other
      // processes) take disjoint rows without waiting for each other.
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r,
          c.Query("UPDATE outbox o SET claimed_until = $2 FROM ("
                  "SELECT seq FROM outbox WHERE sent_at IS NULL "
                  "AND (claimed_until IS NULL OR claimed_until <= $1) "
                  "ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED) claim "
                  "WHERE o.seq = claim.seq "
                  "RETURNING o.seq, o.topic, o.key, o.payload",
                  Params().Int(Micros(now)).Int(Micros(now + lease)).Int(max)));
      records = OutboxRecordsOf(r);
      return absl::OkStatus();
    }));
    // RETURNING comes in no particular order.
    std::sort(records.begin(), records.end(),
              [](const OutboxRecord& a, const OutboxRecord& b) { return a.seq < b.seq; });
    return records;
  }

  // A batch held by row locks in a transaction of its own: taking it only
  // locks the rows (ClaimOutbox's UPDATE writes a new version of each wide
  // row), and finishing deletes the sent ones and commits. Unsent rows are
  // unlocked by the commit, the rollback of a destroyed batch, or the end of
  // the session; `lease` becomes the transaction's
  // idle_in_transaction_session_timeout, so a stalled owner cannot keep
  // them locked longer.
  class HeldOutboxBatch final : public OutboxBatch {
   public:
    HeldOutboxBatch(std::vector<OutboxRecord> records,
                    std::unique_ptr<postgres_internal::Transaction> txn)
        : OutboxBatch(std::move(records)), txn_(std::move(txn)) {}

    absl::Status Finish(absl::Span<const int64_t> sent) override {
      if (txn_ == nullptr) return absl::OkStatus();
      std::unique_ptr<postgres_internal::Transaction> txn = std::move(txn_);
      const std::vector<int64_t> seqs = SeqsOfThisBatch(sent);
      if (seqs.empty()) return absl::OkStatus();  // the rollback unlocks them
      ALERTHUB_RETURN_IF_ERROR(txn->connection()
                                   .Query("DELETE FROM outbox WHERE seq = ANY($1::bigint[])",
                                          Params().IntArray(seqs))
                                   .status());
      return txn->Commit();
    }

   private:
    std::unique_ptr<postgres_internal::Transaction> txn_;
  };

  absl::StatusOr<std::unique_ptr<OutboxBatch>> TakeOutbox(int max, absl::Duration lease,
                                                         int64_t after_seq) override {
    if (max <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("max must be positive, got ", max));
    }
    if (lease <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("lease must be positive");
    }
    const absl::Time now = db_->clock().Now();
    ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<postgres_internal::Transaction> txn,
                              outbox_db_->Begin());
    Connection& c = txn->connection();
    // The take must walk the outbox_unsent index in seq order whatever the
    // statistics say: the outbox swings from empty to a large backlog between
    // two autoanalyze runs, and with stale counts the planner reads and sorts
    // the whole backlog to return `max` rows (140 ms instead of 6 ms for
    // 512 of 19k rows).
    ALERTHUB_RETURN_IF_ERROR(c.Exec(absl::StrCat(
        kOutboxAsyncCommit, "; SET LOCAL idle_in_transaction_session_timeout = ",
        std::max<int64_t>(1, absl::ToInt64Milliseconds(lease)),
        "; SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off")));
    // Rows leased by ClaimOutbox (another relay) are skipped like locked ones.
    // Starting after `after_seq` matters: the index scan from the lowest seq
    // would visit every row that batches still in flight hold and every row
    // their commits deleted (dead, but not yet prunable while a batch's
    // transaction is open), ~3 heap visits per row taken at four rounds in
    // flight.
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("SELECT seq, topic, key, payload FROM outbox WHERE sent_at IS NULL "
                          "AND seq > $3 AND (claimed_until IS NULL OR claimed_until <= $1) "
                          "ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED",
                          Params().Int(Micros(now)).Int(max).Int(after_seq)));
    std::vector<OutboxRecord> records = OutboxRecordsOf(r);
    if (records.empty()) txn.reset();  // nothing held: give the connection back
    return std::make_unique<HeldOutboxBatch>(std::move(records), std::move(txn));
  }

  absl::Status MarkOutboxSent(absl::Span<const int64_t> seqs) override {
    if (seqs.empty()) return absl::OkStatus();
    // A sent message is deleted: the bus holds it from now on, nothing reads
    // it here again, and a DELETE writes a few bytes of WAL where an UPDATE
    // would copy the whole wide row (and the table would grow for ever).
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_RETURN_IF_ERROR(c.Exec(kOutboxAsyncCommit));
      return c.Query("DELETE FROM outbox WHERE seq = ANY($1::bigint[])", Params().IntArray(seqs))
          .status();
    });
  }

  absl::StatusOr<int64_t> CountOutboxPending() override {
    int64_t count = 0;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r,
                                c.Query("SELECT count(*) FROM outbox WHERE sent_at IS NULL"));
      count = r.Int(0, 0);
      return absl::OkStatus();
    }));
    return count;
  }

  // --- Integrations ---

  absl::Status CreateIntegration(const Integration& i) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string config, Dump(i.config, "integration config"));
    ALERTHUB_ASSIGN_OR_RETURN(std::string retry, Dump(i.retry, "integration retry"));
    absl::Status s = db_->Write([&](Connection& c) {
      return c
          .Query(absl::StrCat("INSERT INTO integrations (", kIntegrationColumns,
                              ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
                 Params()
                     .Text(i.id)
                     .Text(i.tenant_id)
                     .Text(i.name)
                     .Int(static_cast<int64_t>(i.channel))
                     .Text(config)
                     .Bool(i.enabled)
                     .Bool(i.is_default)
                     .Int(Micros(i.created_at))
                     .Int(Micros(i.updated_at))
                     .Text(retry))
          .status();
    });
    if (absl::IsAlreadyExists(s)) {
      return absl::AlreadyExistsError(
          absl::StrCat("an integration with id \"", i.id, "\" already exists"));
    }
    return s;
  }

  absl::StatusOr<Integration> GetIntegration(absl::string_view tenant_id,
                                             absl::string_view id) override {
    std::optional<Integration> found;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query(absl::StrCat("SELECT ", kIntegrationColumns,
                                         " FROM integrations WHERE id = $1 AND tenant_id = $2"),
                            Params().Text(id).Text(tenant_id)));
      if (r.rows() > 0) {
        ALERTHUB_ASSIGN_OR_RETURN(found, IntegrationFromRow(r, 0));
      }
      return absl::OkStatus();
    }));
    if (!found.has_value()) {
      return absl::NotFoundError(absl::StrCat("no integration \"", id, "\""));
    }
    return *std::move(found);
  }

  absl::StatusOr<Page<Integration>> ListIntegrations(absl::string_view tenant_id,
                                                     const IntegrationFilter& filter,
                                                     const PageRequest& page) override {
    ALERTHUB_RETURN_IF_ERROR(CheckLimit(page.limit));
    Params params;
    params.Text(tenant_id);
    if (filter.channel.has_value()) {
      params.Int(static_cast<int64_t>(*filter.channel));
    } else {
      params.Null();
    }
    if (filter.enabled.has_value()) {
      params.Bool(*filter.enabled);
    } else {
      params.Null();
    }
    if (filter.is_default.has_value()) {
      params.Bool(*filter.is_default);
    } else {
      params.Null();
    }
    params.Text(page.cursor).Int(page.limit + 1);
    return ReadPage<Integration>(
        absl::StrCat("SELECT ", kIntegrationColumns,
                     " FROM integrations WHERE tenant_id = $1 "
                     "AND ($2::int IS NULL OR channel = $2::int) "
                     "AND ($3::boolean IS NULL OR enabled = $3::boolean) "
                     "AND ($4::boolean IS NULL OR is_default = $4::boolean) "
                     "AND id > $5 ORDER BY id LIMIT $6"),
        params, page.limit, IntegrationFromRow);
  }

  absl::Status UpdateIntegration(const Integration& i) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string config, Dump(i.config, "integration config"));
    ALERTHUB_ASSIGN_OR_RETURN(std::string retry, Dump(i.retry, "integration retry"));
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("UPDATE integrations SET name = $3, config = $4, enabled = $5, "
                            "is_default = $6, updated_at = $7, retry = $8 "
                            "WHERE id = $1 AND tenant_id = $2",
                            Params()
                                .Text(i.id)
                                .Text(i.tenant_id)
                                .Text(i.name)
                                .Text(config)
                                .Bool(i.enabled)
                                .Bool(i.is_default)
                                .Int(Micros(i.updated_at))
                                .Text(retry)));
      if (r.Affected() == 0) {
        return absl::NotFoundError(absl::StrCat("no integration \"", i.id, "\""));
      }
      return absl::OkStatus();
    });
  }

  absl::Status DeleteIntegration(absl::string_view tenant_id, absl::string_view id) override {
    return DeleteOne("DELETE FROM integrations WHERE id = $1 AND tenant_id = $2", tenant_id,
                     id, "integration");
  }

  // --- Templates ---

  absl::Status CreateTemplate(const Template& t) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(TemplateToJson(t), "template"));
    absl::Status s = db_->Write([&](Connection& c) {
      return c
          .Query("INSERT INTO templates (id, tenant_id, channel, name, doc) "
                 "VALUES ($1, $2, $3, $4, $5)",
                 Params()
                     .Text(t.id)
                     .Text(t.tenant_id)
                     .Int(static_cast<int64_t>(t.channel))
                     .Text(t.name)
                     .Text(doc))
          .status();
    });
    return TemplateConflict(s, t);
  }

  absl::StatusOr<Template> GetTemplate(absl::string_view tenant_id,
                                       absl::string_view id) override {
    return ReadTemplate("SELECT doc FROM templates WHERE id = $1 AND tenant_id = $2",
                        Params().Text(id).Text(tenant_id),
                        absl::StrCat("no template \"", id, "\""));
  }

  absl::StatusOr<Template> FindTemplate(absl::string_view tenant_id, absl::string_view name,
                                        Channel channel) override {
    return ReadTemplate(
        "SELECT doc FROM templates WHERE tenant_id = $1 AND channel = $2 AND name = $3",
        Params().Text(tenant_id).Int(static_cast<int64_t>(channel)).Text(name),
        absl::StrCat("no ", ChannelName(channel), " template named \"", name, "\""));
  }

  absl::StatusOr<Page<Template>> ListTemplates(absl::string_view tenant_id,
                                               const PageRequest& page) override {
    ALERTHUB_RETURN_IF_ERROR(CheckLimit(page.limit));
    return ReadPage<Template>(
        "SELECT doc FROM templates WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        Params().Text(tenant_id).Text(page.cursor).Int(page.limit + 1), page.limit,
        [](const Result& r, int row) { return TemplateFromDoc(r.Text(row, 0)); });
  }

  absl::Status UpdateTemplate(const Template& t) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(TemplateToJson(t), "template"));
    absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("UPDATE templates SET channel = $3, name = $4, doc = $5 "
                            "WHERE id = $1 AND tenant_id = $2",
                            Params()
                                .Text(t.id)
                                .Text(t.tenant_id)
                                .Int(static_cast<int64_t>(t.channel))
                                .Text(t.name)
                                .Text(doc)));
      if (r.Affected() == 0) {
        return absl::NotFoundError(absl::StrCat("no template \"", t.id, "\""));
      }
      return absl::OkStatus();
    });
    return TemplateConflict(s, t);
  }

  absl::Status DeleteTemplate(absl::string_view tenant_id, absl::string_view id) override {
    return DeleteOne("DELETE FROM templates WHERE id = $1 AND tenant_id = $2", tenant_id, id,
                     "template");
  }

  // --- Deliveries ---

  absl::StatusOr<std::vector<absl::StatusOr<RoutingOutcome>>> RecordRoutings(
      absl::Span<const RoutingWrite> writes) override {
    std::vector<absl::StatusOr<RoutingOutcome>> out;
    if (writes.empty()) return out;
    const absl::Time now = db_->clock().Now();
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) {
      return ForEachItem<RoutingOutcome>(
          c, writes, &out, [&](const RoutingWrite& w) { return RouteOne(c, w, now); });
    }));
    return out;
  }

  absl::StatusOr<std::vector<absl::StatusOr<DeliveryClaim>>> ClaimDeliveries(
      absl::Span<const DeliveryRef> refs, absl::Duration lease) override {
    if (lease <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("lease must be positive");
    }
    std::vector<absl::StatusOr<DeliveryClaim>> out;
    if (refs.empty()) return out;
    const absl::Time now = db_->clock().Now();
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) {
      return ForEachItem<DeliveryClaim>(
          c, refs, &out, [&](const DeliveryRef& ref) { return ClaimOne(c, ref, lease, now); });
    }));
    return out;
  }

  absl::StatusOr<std::vector<absl::StatusOr<AttemptOutcomeRecord>>> RecordAttempts(
      absl::Span<const AttemptWrite> writes) override {
    std::vector<absl::StatusOr<AttemptOutcomeRecord>> out;
    if (writes.empty()) return out;
    for (const AttemptWrite& w : writes) ALERTHUB_RETURN_IF_ERROR(CheckAttemptWrite(w));
    const absl::Time now = db_->clock().Now();
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) {
      return ForEachItem<AttemptOutcomeRecord>(
          c, writes, &out, [&](const AttemptWrite& w) { return RecordOne(c, w, now); });
    }));
    return out;
  }

  absl::StatusOr<AttemptOutcomeRecord> ReplayDelivery(absl::string_view tenant_id,
                                                      absl::string_view id,
                                                      const CloudEvent& event) override {
    const absl::Time now = db_->clock().Now();
    AttemptOutcomeRecord out;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      out = AttemptOutcomeRecord();
      ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> row, LockDelivery(c, tenant_id, id));
      if (!row.has_value()) return NoDelivery(id);
      out.delivery = row->delivery;
      Delivery& d = out.delivery;
      ALERTHUB_RETURN_IF_ERROR(ReplayTransition(d, now));
      ALERTHUB_RETURN_IF_ERROR(
          c.Query("UPDATE deliveries SET status = $2, attempts = 0, next_attempt_at = $3, "
                  "lease_until = NULL, updated_at = $3 WHERE id = $1",
                  Params().Text(d.id).Int(static_cast<int64_t>(d.status)).Int(Micros(now)))
              .status());
      ALERTHUB_RETURN_IF_ERROR(InsertEvent(c, event, tenant_id, d.notification_id));
      ALERTHUB_ASSIGN_OR_RETURN(
          out.notification,
          Reaggregate(c, tenant_id, d.notification_id, now, event.traceparent));
      return absl::OkStatus();
    }));
    return out;
  }

  absl::StatusOr<Delivery> GetDelivery(absl::string_view tenant_id,
                                       absl::string_view id) override {
    std::optional<Delivery> found;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query(absl::StrCat("SELECT ", kDeliveryColumns,
                                         " FROM deliveries WHERE id = $1 AND tenant_id = $2"),
                            Params().Text(id).Text(tenant_id)));
      if (r.rows() > 0) found = DeliveryFromRow(r, 0).delivery;
      return absl::OkStatus();
    }));
    if (!found.has_value()) return NoDelivery(id);
    return *std::move(found);
  }

  absl::StatusOr<Page<Delivery>> ListUnfinishedDeliveries(const PageRequest& page) override {
    ALERTHUB_RETURN_IF_ERROR(CheckLimit(page.limit));
    return ReadPage<Delivery>(
        absl::StrCat("SELECT ", kDeliveryColumns,
                     " FROM deliveries WHERE status IN (1, 2, 5) AND id > $1 "
                     "ORDER BY id LIMIT $2"),
        Params().Text(page.cursor).Int(page.limit + 1), page.limit, DeliveryOnly);
  }

  // --- Digests ---

  absl::StatusOr<DigestClaim> ClaimDigest(absl::string_view tenant_id,
                                          absl::string_view delivery_id,
                                          absl::Duration lease) override {
    if (lease <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("lease must be positive");
    }
    const absl::Time now = db_->clock().Now();
    DigestClaim out;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(out, ClaimDigestIn(c, tenant_id, delivery_id, lease, now));
      return absl::OkStatus();
    }));
    return out;
  }

  absl::StatusOr<absl::Time> PeekDigestFlush(const DigestGroup& group, const DigestWindow& window,
                                             absl::Time earliest) override {
    const absl::Time now = db_->clock().Now();
    absl::Time at;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          at, ReadDigestFlush(c, group, window, earliest, now, /*lock=*/false));
      return absl::OkStatus();
    }));
    return at;
  }

  absl::StatusOr<Page<Delivery>> ListDeliveries(absl::string_view tenant_id,
                                                const DeliveryFilter& filter,
                                                const PageRequest& page) override {
    ALERTHUB_RETURN_IF_ERROR(CheckLimit(page.limit));
    Params params;
    params.Text(tenant_id);
    if (filter.status.has_value()) {
      params.Int(static_cast<int64_t>(*filter.status));
    } else {
      params.Null();
    }
    params.Text(filter.notification_id).Text(page.cursor).Int(page.limit + 1);
    return ReadPage<Delivery>(
        absl::StrCat("SELECT ", kDeliveryColumns,
                     " FROM deliveries WHERE tenant_id = $1 "
                     "AND ($2::int IS NULL OR status = $2::int) "
                     "AND ($3::text = '' OR notification_id = $3::text) "
                     "AND ($4::text = '' OR id < $4::text) "
                     "ORDER BY id DESC LIMIT $5"),
        params, page.limit, DeliveryOnly);
  }

  absl::StatusOr<CancelOutcome> CancelNotification(absl::string_view tenant_id,
                                                   absl::string_view id,
                                                   const CloudEvent& event) override {
    const absl::Time now = db_->clock().Now();
    CancelOutcome out;
    ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
      out = CancelOutcome();
      ALERTHUB_ASSIGN_OR_RETURN(
          Result n, c.Query("SELECT status, updated_at, doc FROM notifications "
                            "WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
                            Params().Text(id).Text(tenant_id)));
      if (n.rows() == 0) return NoNotification(id);
      ALERTHUB_ASSIGN_OR_RETURN(out.notification, NotificationFromRow(n, 0));
      if (IsTerminal(out.notification.status)) {
        return absl::FailedPreconditionError(
            absl::StrCat("notification \"", id, "\" is ",
                         NotificationStatusName(out.notification.status),
                         " already and cannot be cancelled"));
      }
      // Claimed or attempted deliveries make it too late. Every claim locks
      // the notification first (LockDelivery), so none can start now.
      ALERTHUB_ASSIGN_OR_RETURN(
          Result started,
          c.Query("SELECT id, status FROM deliveries WHERE notification_id = $1 "
                  "AND (status NOT IN (1, 5, 6) OR attempts > 0) LIMIT 1",
                  Params().Text(id)));
      if (started.rows() > 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "notification \"", id, "\" cannot be cancelled: its delivery \"",
            started.Text(0, 0), "\" is ",
            DeliveryStatusName(static_cast<DeliveryStatus>(started.Int(0, 1))),
            " or was attempted already"));
      }
      ALERTHUB_ASSIGN_OR_RETURN(
          Result suppressed,
          c.Query("UPDATE deliveries SET status = 6, last_error = 'cancelled', "
                  "lease_until = NULL, updated_at = $2 "
                  "WHERE notification_id = $1 AND status IN (1, 5)",
                  Params().Text(id).Int(Micros(now))));
      out.deliveries_cancelled = suppressed.Affected();
      ALERTHUB_RETURN_IF_ERROR(
          c.Query("UPDATE notifications SET status = $2, updated_at = $3 WHERE id = $1",
                  Params()
                      .Text(id)
                      .Int(static_cast<int64_t>(NotificationStatus::kCancelled))
                      .Int(Micros(now)))
              .status());
      ALERTHUB_RETURN_IF_ERROR(InsertEvent(c, event, tenant_id, id));
      out.notification.status = NotificationStatus::kCancelled;
      out.notification.updated_at = now;
      return absl::OkStatus();
    }));
    return out;
  }

  // --- Rules ---

  absl::Status CreateRule(const Rule& rule) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(RuleToJson(rule), "rule"));
    absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
      // The tenant's row, locked against concurrent creations, so the
      // count below holds until COMMIT.
      ALERTHUB_ASSIGN_OR_RETURN(
          Result t, c.Query("SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
                            Params().Text(rule.tenant_id)));
      if (t.rows() == 0) {
        return absl::NotFoundError(absl::StrCat("no tenant \"", rule.tenant_id, "\""));
      }
      ALERTHUB_ASSIGN_OR_RETURN(Result n, c.Query("SELECT count(*) FROM rules WHERE tenant_id = $1",
                                                  Params().Text(rule.tenant_id)));
      if (n.Int(0, 0) >= static_cast<int64_t>(StoreLimits::kMaxRulesPerTenant)) {
        return absl::ResourceExhaustedError(
            absl::StrCat("the tenant has ", StoreLimits::kMaxRulesPerTenant,
                         " rules, the most it may hold; delete some first"));
      }
      return c
          .Query("INSERT INTO rules (id, tenant_id, position, created_at, doc) "
                 "VALUES ($1, $2, $3, $4, $5)",
                 Params()
                     .Text(rule.id)
                     .Text(rule.tenant_id)
                     .Int(rule.position)
                     .Int(Micros(rule.created_at))
                     .Text(doc))
          .status();
    });
    if (absl::IsAlreadyExists(s)) {
      return absl::AlreadyExistsError(
          absl::StrCat("a rule with id \"", rule.id, "\" already exists"));
    }
    if (absl::IsFailedPrecondition(s)) {
      return absl::NotFoundError(absl::StrCat("no tenant \"", rule.tenant_id, "\""));
    }
    return s;
  }

  absl::StatusOr<Rule> GetRule(absl::string_view tenant_id, absl::string_view id) override {
    std::optional<Rule> found;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r,
                                c.Query("SELECT doc FROM rules WHERE id = $1 AND tenant_id = $2",
                                        Params().Text(id).Text(tenant_id)));
      if (r.rows() > 0) {
        ALERTHUB_ASSIGN_OR_RETURN(found, RuleFromDoc(r.Text(0, 0)));
      }
      return absl::OkStatus();
    }));
    if (!found.has_value()) return absl::NotFoundError(absl::StrCat("no rule \"", id, "\""));
    return *std::move(found);
  }

  absl::StatusOr<std::vector<Rule>> ListRules(absl::string_view tenant_id) override {
    std::vector<Rule> rules;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      rules.clear();
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT doc FROM rules WHERE tenant_id = $1 ORDER BY position, id",
                            Params().Text(tenant_id)));
      rules.reserve(static_cast<size_t>(r.rows()));
      for (int row = 0; row < r.rows(); ++row) {
        ALERTHUB_ASSIGN_OR_RETURN(Rule rule, RuleFromDoc(r.Text(row, 0)));
        rules.push_back(std::move(rule));
      }
      return absl::OkStatus();
    }));
    return rules;
  }

  absl::Status UpdateRule(const Rule& rule) override {
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT created_at FROM rules WHERE id = $1 AND tenant_id = $2 "
                            "FOR UPDATE",
                            Params().Text(rule.id).Text(rule.tenant_id)));
      if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("no rule \"", rule.id, "\""));
      // id, tenant_id and created_at stay as stored.
      Rule stored = rule;
      stored.created_at = r.Time(0, 0);
      ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(RuleToJson(stored), "rule"));
      return c
          .Query("UPDATE rules SET position = $2, doc = $3 WHERE id = $1",
                 Params().Text(rule.id).Int(rule.position).Text(doc))
          .status();
    });
  }

  absl::Status DeleteRule(absl::string_view tenant_id, absl::string_view id) override {
    return DeleteOne("DELETE FROM rules WHERE id = $1 AND tenant_id = $2", tenant_id, id,
                     "rule");
  }

  // --- Users and preferences ---

  absl::Status CreateUser(const User& user) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(UserToJson(user), "user"));
    absl::Status s = db_->Write([&](Connection& c) {
      return c
          .Query("INSERT INTO users (id, tenant_id, email, created_at, doc) "
                 "VALUES ($1, $2, $3, $4, $5)",
                 Params()
                     .Text(user.id)
                     .Text(user.tenant_id)
                     .Text(user.email)
                     .Int(Micros(user.created_at))
                     .Text(doc))
          .status();
    });
    if (absl::IsFailedPrecondition(s)) {
      return absl::NotFoundError(absl::StrCat("no tenant \"", user.tenant_id, "\""));
    }
    return UserConflict(s, user);
  }

  absl::StatusOr<User> GetUser(absl::string_view tenant_id, absl::string_view id) override {
    std::optional<User> found;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r,
                                c.Query("SELECT doc FROM users WHERE id = $1 AND tenant_id = $2",
                                        Params().Text(id).Text(tenant_id)));
      if (r.rows() > 0) {
        ALERTHUB_ASSIGN_OR_RETURN(found, UserFromDoc(r.Text(0, 0)));
      }
      return absl::OkStatus();
    }));
    if (!found.has_value()) return NoUser(id);
    return *std::move(found);
  }

  absl::StatusOr<Page<User>> ListUsers(absl::string_view tenant_id,
                                       const PageRequest& page) override {
    ALERTHUB_RETURN_IF_ERROR(CheckLimit(page.limit));
    return ReadPage<User>(
        "SELECT doc FROM users WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        Params().Text(tenant_id).Text(page.cursor).Int(page.limit + 1), page.limit,
        [](const Result& r, int row) { return UserFromDoc(r.Text(row, 0)); });
  }

  absl::Status UpdateUser(const User& user) override {
    absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT created_at FROM users WHERE id = $1 AND tenant_id = $2 "
                            "FOR UPDATE",
                            Params().Text(user.id).Text(user.tenant_id)));
      if (r.rows() == 0) return NoUser(user.id);
      // id, tenant_id and created_at stay as stored.
      User stored = user;
      stored.created_at = r.Time(0, 0);
      ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(UserToJson(stored), "user"));
      return c
          .Query("UPDATE users SET email = $2, doc = $3 WHERE id = $1",
                 Params().Text(user.id).Text(user.email).Text(doc))
          .status();
    });
    return UserConflict(s, user);
  }

  absl::Status DeleteUser(absl::string_view tenant_id, absl::string_view id) override {
    // Their preferences go with them (ON DELETE CASCADE).
    absl::Status s =
        DeleteOne("DELETE FROM users WHERE id = $1 AND tenant_id = $2", tenant_id, id, "user");
    return s;
  }

  absl::StatusOr<Preferences> GetPreferences(absl::string_view tenant_id,
                                             absl::string_view user_id) override {
    std::optional<Preferences> found;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT p.doc FROM users u LEFT JOIN preferences p "
                            "ON p.user_id = u.id WHERE u.id = $1 AND u.tenant_id = $2",
                            Params().Text(user_id).Text(tenant_id)));
      if (r.rows() == 0) return absl::OkStatus();
      if (r.IsNull(0, 0)) {
        found = Preferences();
        return absl::OkStatus();
      }
      ALERTHUB_ASSIGN_OR_RETURN(found, PreferencesFromDoc(r.Text(0, 0)));
      return absl::OkStatus();
    }));
    if (!found.has_value()) return NoUser(user_id);
    return *std::move(found);
  }

  absl::Status SetPreferences(absl::string_view tenant_id, absl::string_view user_id,
                              const Preferences& preferences) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(PreferencesToJson(preferences),
                                                    "preferences"));
    return db_->Write([&](Connection& c) -> absl::Status {
      // Inserts or replaces in one statement; no row when the user is not
      // the tenant's.
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("INSERT INTO preferences (user_id, tenant_id, doc) "
                            "SELECT id, tenant_id, $3 FROM users "
                            "WHERE id = $1 AND tenant_id = $2 "
                            "ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc",
                            Params().Text(user_id).Text(tenant_id).Text(doc)));
      if (r.Affected() == 0) return NoUser(user_id);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<Recipient>> GetRecipients(
      absl::string_view tenant_id, absl::Span<const std::string> user_ids) override {
    std::vector<Recipient> out;
    if (user_ids.empty()) return out;
    absl::flat_hash_map<std::string, Recipient> found;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      found.clear();
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT u.id, u.doc, p.doc FROM users u "
                            "LEFT JOIN preferences p ON p.user_id = u.id "
                            "WHERE u.tenant_id = $1 AND u.id = ANY($2::text[])",
                            Params().Text(tenant_id).TextArray(user_ids)));
      for (int row = 0; row < r.rows(); ++row) {
        Recipient rec;
        ALERTHUB_ASSIGN_OR_RETURN(rec.user, UserFromDoc(r.Text(row, 1)));
        if (!r.IsNull(row, 2)) {
          ALERTHUB_ASSIGN_OR_RETURN(rec.preferences, PreferencesFromDoc(r.Text(row, 2)));
        }
        found.emplace(std::string(r.Text(row, 0)), std::move(rec));
      }
      return absl::OkStatus();
    }));
    // In the order given, each once.
    for (const std::string& id : user_ids) {
      auto it = found.find(id);
      if (it == found.end()) continue;
      out.push_back(std::move(it->second));
      found.erase(it);
    }
    return out;
  }

  // --- Capabilities ---

  absl::StatusOr<std::unique_ptr<TaskQueue>> OpenTaskQueue() override {
    return postgres_internal::NewPostgresTaskQueue(db_);
  }

  // --- Privacy (GDPR) --- (postgres_store_privacy.cc)
  absl::StatusOr<UserDataExport> ExportUserData(absl::string_view tenant_id,
                                                absl::string_view user_id) override {
    return privacy_.ExportUserData(tenant_id, user_id);
  }
  absl::StatusOr<UserErasure> EraseUser(absl::string_view tenant_id, absl::string_view user_id,
                                        absl::Time at) override {
    return privacy_.EraseUser(tenant_id, user_id, at);
  }

  // --- Audit --- (internal/audit_log.cc; Database::Write inserts scope records)
  absl::Status AppendAuditRecord(const AuditRecord& record) override {
    return audit_.AppendAuditRecord(record);
  }
  absl::StatusOr<Page<AuditRecord>> ListAuditRecords(absl::string_view tenant_id,
                                                     const AuditFilter& filter,
                                                     const PageRequest& page) override {
    return audit_.ListAuditRecords(tenant_id, filter, page);
  }

  // --- Tenant administration --- (postgres_store_tenants.cc)
  absl::StatusOr<Page<Tenant>> ListTenants(const PageRequest& page) override {
    return tenants_.ListTenants(page);
  }
  absl::Status UpdateTenant(const Tenant& tenant) override {
    ALERTHUB_ASSIGN_OR_RETURN(std::string settings,
                              Dump(TenantSettingsToJson(tenant.settings), "tenant settings"));
    return tenants_.UpdateTenant(tenant, settings);
  }
  absl::Status DeleteTenant(absl::string_view id, absl::Time at) override {
    return tenants_.DeleteTenant(id, at);
  }

  // --- Auth sessions --- (postgres_store_auth.cc)
  absl::Status SetUserPassword(absl::string_view tenant_id, absl::string_view user_id,
                               absl::string_view password_hash, absl::Time at) override {
    return auth_.SetUserPassword(tenant_id, user_id, password_hash, at);
  }
  absl::StatusOr<LoginRecord> FindLoginUser(absl::string_view tenant_id,
                                            absl::string_view email) override {
    return auth_.FindLoginUser(tenant_id, email);
  }
  absl::Status CreateRefreshToken(const RefreshToken& token) override {
    return auth_.CreateRefreshToken(token);
  }
  absl::StatusOr<RefreshRotation> RotateRefreshToken(absl::string_view presented_hash,
                                                     absl::string_view successor_hash,
                                                     absl::Time successor_expires_at,
                                                     absl::Time now) override {
    return auth_.RotateRefreshToken(presented_hash, successor_hash, successor_expires_at, now);
  }
  absl::StatusOr<RefreshToken> RevokeRefreshFamily(absl::string_view token_hash,
                                                   absl::Time at) override {
    return auth_.RevokeRefreshFamily(token_hash, at);
  }
  absl::StatusOr<RefreshToken> FindRefreshToken(absl::string_view token_hash) override {
    return auth_.FindRefreshToken(token_hash);
  }

  // --- Analytics --- (postgres_store_analytics.cc)
  absl::StatusOr<std::vector<NotificationCountRow>> CountNotifications(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      absl::string_view type) override {
    return postgres_internal::Analytics(*db_).CountNotifications(tenant_id, window, type);
  }
  absl::StatusOr<std::vector<DeliveryCountRow>> CountDeliveries(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) override {
    return postgres_internal::Analytics(*db_).CountDeliveries(tenant_id, window, channel);
  }
  absl::StatusOr<std::vector<LatencyHistogramRow>> DeliveryLatencyHistogram(
      absl::string_view tenant_id, const AnalyticsWindow& window,
      std::optional<Channel> channel) override {
    return postgres_internal::Analytics(*db_).DeliveryLatencyHistogram(tenant_id, window, channel);
  }

  absl::Status Ping() override {
    return db_->Read([](Connection& c) { return c.Query("SELECT 1").status(); });
  }

  int SchemaVersion() const override { return db_->schema_version(); }

  // Concurrent transactions overlap their round trips and share WAL
  // flushes; each holds one pooled connection, and one is left for the
  // relay and the readers.
  int ConcurrentCommitLimit() const override { return std::max(1, db_->pool_size() - 1); }

 private:
  absl::StatusOr<Tenant> ReadTenant(absl::string_view sql, absl::string_view key,
                                    absl::string_view key_name) {
    std::optional<Tenant> tenant;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r, c.Query(sql, Params().Text(key)));
      if (r.rows() == 0) return absl::OkStatus();
      ALERTHUB_ASSIGN_OR_RETURN(tenant, TenantFromRow(r, 0));
      return absl::OkStatus();
    }));
    if (!tenant.has_value()) {
      return absl::NotFoundError(absl::StrCat("no tenant with ", key_name, " \"", key, "\""));
    }
    return *std::move(tenant);
  }

  absl::StatusOr<Template> ReadTemplate(absl::string_view sql, const Params& params,
                                        const std::string& not_found) {
    std::optional<Template> found;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r, c.Query(sql, params));
      if (r.rows() > 0) {
        ALERTHUB_ASSIGN_OR_RETURN(found, TemplateFromDoc(r.Text(0, 0)));
      }
      return absl::OkStatus();
    }));
    if (!found.has_value()) return absl::NotFoundError(not_found);
    return *std::move(found);
  }

  // One page of `sql` (whose last parameter is limit + 1).
  template <typename T, typename Decode>
  absl::StatusOr<Page<T>> ReadPage(const std::string& sql, const Params& params, int limit,
                                   Decode decode) {
    Page<T> page;
    ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r, c.Query(sql, params));
      ALERTHUB_ASSIGN_OR_RETURN(page, PageOf<T>(r, limit, decode));
      return absl::OkStatus();
    }));
    return page;
  }

  absl::Status DeleteOne(absl::string_view sql, absl::string_view tenant_id,
                         absl::string_view id, absl::string_view what) {
    return db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_ASSIGN_OR_RETURN(Result r, c.Query(sql, Params().Text(id).Text(tenant_id)));
      if (r.Affected() == 0) {
        return absl::NotFoundError(absl::StrCat("no ", what, " \"", id, "\""));
      }
      return absl::OkStatus();
    });
  }

  static absl::Status TemplateConflict(const absl::Status& s, const Template& t) {
    if (!absl::IsAlreadyExists(s)) return s;
    if (absl::StrContains(s.message(), "templates_pkey")) {
      return absl::AlreadyExistsError(
          absl::StrCat("a template with id \"", t.id, "\" already exists"));
    }
    return absl::AlreadyExistsError(absl::StrCat("a ", ChannelName(t.channel),
                                                 " template named \"", t.name,
                                                 "\" already exists"));
  }

  static absl::Status UserConflict(const absl::Status& s, const User& u) {
    if (!absl::IsAlreadyExists(s)) return s;
    if (absl::StrContains(s.message(), "users_pkey")) {
      return absl::AlreadyExistsError(
          absl::StrCat("a user with id \"", u.id, "\" already exists"));
    }
    return absl::AlreadyExistsError(
        absl::StrCat("another user of the tenant has the e-mail address \"", u.email, "\""));
  }

  static absl::Status NoUser(absl::string_view id) {
    return absl::NotFoundError(absl::StrCat("no user \"", id, "\""));
  }

  // The tenant, and `first_key` when not null, in one transaction.
  absl::Status CreateTenantAndKey(const Tenant& tenant, const ApiKey* first_key) {
    ALERTHUB_ASSIGN_OR_RETURN(std::string settings,
                              Dump(TenantSettingsToJson(tenant.settings), "tenant settings"));
    absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
      ALERTHUB_RETURN_IF_ERROR(
          c.Query("INSERT INTO tenants (id, name, settings, created_at) VALUES ($1, $2, $3, $4)",
                  Params()
                      .Text(tenant.id)
                      .Text(tenant.name)
                      .Text(settings)
                      .Int(Micros(tenant.created_at)))
              .status());
      return first_key == nullptr ? absl::OkStatus() : InsertApiKey(c, *first_key);
    });
    if (first_key != nullptr && absl::StrContains(s.message(), "api_keys")) {
      return ApiKeyWriteError(s, *first_key);
    }
    if (absl::IsAlreadyExists(s)) {
      if (absl::StrContains(s.message(), "tenants_name_key")) {
        return absl::AlreadyExistsError(
            absl::StrCat("a tenant named \"", tenant.name, "\" already exists"));
      }
      return absl::AlreadyExistsError(
          absl::StrCat("a tenant with id \"", tenant.id, "\" already exists"));
    }
    return s;
  }

  static absl::Status InsertApiKey(Connection& c, const ApiKey& key) {
    return c
        .Query("INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, role, "
               "created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               Params()
                   .Text(key.id)
                   .Text(key.tenant_id)
                   .Text(key.name)
                   .Text(key.prefix)
                   .Text(key.key_hash)
                   .Int(static_cast<int64_t>(key.role))
                   .Int(Micros(key.created_at))
                   .OptTime(key.revoked_at))
        .status();
  }

  // The Store's errors for a failed insert of `key`.
  static absl::Status ApiKeyWriteError(const absl::Status& s, const ApiKey& key) {
    if (absl::IsFailedPrecondition(s)) {
      return absl::NotFoundError(absl::StrCat("no tenant \"", key.tenant_id, "\""));
    }
    if (absl::IsAlreadyExists(s)) {
      if (absl::StrContains(s.message(), "api_keys_key_hash_key")) {
        return absl::AlreadyExistsError("an API key with this hash already exists");
      }
      return absl::AlreadyExistsError(
          absl::StrCat("an API key with id \"", key.id, "\" already exists"));
    }
    return s;
  }

  const std::shared_ptr<Database> db_;
  const std::shared_ptr<Database> outbox_db_;
  postgres_internal::PostgresAuthTables auth_;  // --- Auth sessions ---
  postgres_internal::PostgresTenantTables tenants_;  // --- Tenant administration ---
  postgres_internal::AuditLog audit_;  // --- Audit ---
  postgres_internal::PostgresPrivacyTables privacy_;  // --- Privacy (GDPR) ---
};

// --- URL parsing ---------------------------------------------------------------------------

// AlertHub's parameters are removed from the URI; libpq's pass through.
absl::Status InvalidUrl(absl::string_view url, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "store URL \"", postgres_internal::RedactUrl(url), "\": ", why));
}

}  // namespace

absl::StatusOr<PostgresStoreOptions> PostgresStoreOptionsFromUrl(absl::string_view url) {
  if (!absl::StartsWith(url, "postgres://") && !absl::StartsWith(url, "postgresql://")) {
    return InvalidUrl(url, "is not a postgres:// or postgresql:// URL");
  }
  if (url.find('#') != absl::string_view::npos) {
    return InvalidUrl(url, "must not have a #fragment");
  }
  PostgresStoreOptions options;
  absl::string_view base = url;
  absl::string_view query;
  if (size_t q = url.find('?'); q != absl::string_view::npos) {
    base = url.substr(0, q);
    query = url.substr(q + 1);
  }
  std::vector<std::string> passed;
  bool has_connect_timeout = false;
  for (absl::string_view param : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(param, absl::MaxSplits('=', 1));
    if (kv.first == "pool_size") {
      int n = 0;
      if (!absl::SimpleAtoi(kv.second, &n) || n < 1 || n > 64) {
        return InvalidUrl(url, absl::StrCat("pool_size must be an integer 1-64, got \"",
                                            kv.second, "\""));
      }
      options.pool_size = n;
    } else if (kv.first == "acquire_timeout_ms") {
      int64_t ms = 0;
      if (!absl::SimpleAtoi(kv.second, &ms) || ms < 0) {
        return InvalidUrl(url, absl::StrCat("acquire_timeout_ms must be a non-negative "
                                            "integer, got \"",
                                            kv.second, "\""));
      }
      options.acquire_timeout = absl::Milliseconds(ms);
    } else {
      if (kv.first == "connect_timeout") has_connect_timeout = true;
      passed.emplace_back(param);
    }
  }
  // A server that does not answer fails the call after 5 s, not never.
  if (!has_connect_timeout) passed.push_back("connect_timeout=5");
  passed.push_back("fallback_application_name=alerthub");
  options.conninfo = absl::StrCat(base, "?", absl::StrJoin(passed, "&"));

  // libpq's own check of the URI (host, port, percent-escapes, parameter
  // names), without connecting.
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.conninfo.c_str(), &err);
  if (parsed == nullptr) {
    std::string why = err != nullptr ? std::string(absl::StripTrailingAsciiWhitespace(err))
                                     : "libpq cannot parse it (out of memory?)";
    if (err != nullptr) PQfreemem(err);
    return InvalidUrl(url, why);
  }
  PQconninfoFree(parsed);
  options.redacted_url = postgres_internal::RedactUrl(options.conninfo);
  return options;
}

absl::StatusOr<std::unique_ptr<PostgresStore>> OpenPostgresStore(
    const PostgresStoreOptions& options) {
  if (options.conninfo.empty()) {
    return absl::InvalidArgumentError("postgres: conninfo is empty");
  }
  if (options.pool_size < 1 || options.pool_size > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("postgres: pool_size must be 1-64, got ", options.pool_size));
  }
  postgres_internal::DatabaseOptions db_options;
  db_options.conninfo = options.conninfo;
  db_options.display = options.redacted_url.empty()
                           ? postgres_internal::RedactUrl(options.conninfo)
                           : options.redacted_url;
  db_options.pool_size = options.pool_size;
  db_options.acquire_timeout = options.acquire_timeout;
  db_options.clock = options.clock != nullptr ? options.clock : Clock::Real();
  ALERTHUB_ASSIGN_OR_RETURN(std::shared_ptr<Database> db, Database::Open(db_options));
  // Outbox batches (TakeOutbox) hold a connection each while the bus reports
  // on them; the relay keeps up to four in flight. Connected on first use.
  postgres_internal::DatabaseOptions outbox_options = db_options;
  outbox_options.pool_size = kOutboxBatchConnections;
  return std::make_unique<PostgresStoreImpl>(std::move(db),
                                             std::make_shared<Database>(outbox_options));
}

}  // namespace alerthub
