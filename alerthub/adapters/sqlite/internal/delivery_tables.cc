#include "alerthub/adapters/sqlite/internal/delivery_tables.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/table_util.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/ports/delivery_transitions.h"
#include "nlohmann/json.hpp"

namespace alerthub::sqlite_internal {
namespace {

// Binds `to_int(*value)` at `index`, or NULL when `value` is empty.
template <typename T, typename ToInt>
void BindOptional(Statement& st, int index, const std::optional<T>& value, ToInt to_int) {
  if (value.has_value()) {
    st.BindInt64(index, to_int(*value));
  } else {
    st.BindNull(index);
  }
}

// --- Integrations ---------------------------------------------------------------

constexpr absl::string_view kIntegrationColumns =
    "id, tenant_id, name, channel, config, enabled, is_default, created_at, updated_at, retry";

absl::StatusOr<Integration> IntegrationFromRow(const Statement& s) {
  Integration i;
  i.id = std::string(s.ColumnText(0));
  i.tenant_id = std::string(s.ColumnText(1));
  i.name = std::string(s.ColumnText(2));
  i.channel = static_cast<Channel>(s.ColumnInt64(3));
  ALERTHUB_ASSIGN_OR_RETURN(i.config, ParseColumn(s.ColumnText(4), "integrations.config"));
  i.enabled = s.ColumnInt64(5) != 0;
  i.is_default = s.ColumnInt64(6) != 0;
  i.created_at = FromMicros(s.ColumnInt64(7));
  i.updated_at = FromMicros(s.ColumnInt64(8));
  ALERTHUB_ASSIGN_OR_RETURN(i.retry, ParseColumn(s.ColumnText(9), "integrations.retry"));
  return i;
}

// --- Templates --------------------------------------------------------------------

absl::StatusOr<Template> TemplateFromDoc(absl::string_view doc) {
  return DecodeJsonColumn(doc, "templates.doc", TemplateFromJson);
}

absl::Status TemplateConflict(const absl::Status& s, const Template& t) {
  if (s.code() != absl::StatusCode::kAlreadyExists) return s;
  if (absl::StrContains(s.message(), "templates.id")) {
    return absl::AlreadyExistsError(absl::StrCat("a template with id \"", t.id,
                                                 "\" already exists"));
  }
  return absl::AlreadyExistsError(absl::StrCat("a ", ChannelName(t.channel),
                                               " template named \"", t.name,
                                               "\" already exists"));
}

// --- Deliveries -------------------------------------------------------------------

constexpr absl::string_view kDeliveryColumns =
    "id, tenant_id, notification_id, integration_id, channel, recipient, status, "
    "attempts, next_attempt_at, last_error, created_at, updated_at, lease_until, digest_key";

struct DeliveryRow {
  Delivery delivery;
  std::optional<absl::Time> lease_until;
};

DeliveryRow DeliveryFromRow(const Statement& s) {
  DeliveryRow row;
  Delivery& d = row.delivery;
  d.id = std::string(s.ColumnText(0));
  d.tenant_id = std::string(s.ColumnText(1));
  d.notification_id = std::string(s.ColumnText(2));
  d.integration_id = std::string(s.ColumnText(3));
  d.channel = static_cast<Channel>(s.ColumnInt64(4));
  d.recipient = std::string(s.ColumnText(5));
  d.status = static_cast<DeliveryStatus>(s.ColumnInt64(6));
  d.attempts = static_cast<int>(s.ColumnInt64(7));
  if (!s.ColumnIsNull(8)) d.next_attempt_at = FromMicros(s.ColumnInt64(8));
  d.last_error = std::string(s.ColumnText(9));
  d.created_at = FromMicros(s.ColumnInt64(10));
  d.updated_at = FromMicros(s.ColumnInt64(11));
  if (!s.ColumnIsNull(12)) row.lease_until = FromMicros(s.ColumnInt64(12));
  d.digest_key = std::string(s.ColumnText(13));
  return row;
}

// The tenant's delivery `id` as stored now; nullopt when absent.
absl::StatusOr<std::optional<DeliveryRow>> ReadDelivery(Connection& c,
                                                        absl::string_view tenant_id,
                                                        absl::string_view id) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st, c.Prepare(absl::StrCat("SELECT ", kDeliveryColumns,
                                           " FROM deliveries WHERE id = ?1 AND tenant_id = ?2")));
  st.BindText(1, id);
  st.BindText(2, tenant_id);
  ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<DeliveryRow>();
  return std::optional<DeliveryRow>(DeliveryFromRow(st));
}

absl::Status NoDelivery(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no delivery \"", id, "\""));
}

absl::Status InsertEvent(Connection& c, const CloudEvent& e, absl::string_view tenant_id,
                         absl::string_view notification_id) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(CloudEventToJson(e), "event"));
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("INSERT INTO events (id, tenant_id, notification_id, type, "
                              "time, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  st.BindText(1, e.id);
  st.BindText(2, tenant_id);
  st.BindText(3, notification_id);
  st.BindText(4, e.type);
  st.BindInt64(5, Micros(e.time));
  st.BindText(6, doc);
  return st.Run();
}

// Recomputes the notification's status from its deliveries, inside the
// caller's transaction; when it changes, stores it and, for a final status,
// appends the announcing event and its outbox message.
absl::StatusOr<StatusTransition> Reaggregate(Connection& c, absl::string_view tenant_id,
                                             absl::string_view notification_id,
                                             absl::Time now,
                                             absl::string_view traceparent) {
  StatusTransition t;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT status FROM notifications "
                                "WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, notification_id);
    st.BindText(2, tenant_id);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return absl::NotFoundError(
          absl::StrCat("no notification \"", notification_id, "\""));
    }
    t.before = static_cast<NotificationStatus>(st.ColumnInt64(0));
  }
  DeliveryTally tally;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT status, attempts FROM deliveries "
                                "WHERE notification_id = ?1"));
    st.BindText(1, notification_id);
    while (true) {
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      Delivery d;
      d.status = static_cast<DeliveryStatus>(st.ColumnInt64(0));
      d.attempts = static_cast<int>(st.ColumnInt64(1));
      CountDelivery(d, &tally);
    }
  }
  t.after = AggregateNotificationStatus(t.before, tally);
  if (!t.changed()) return t;

  ALERTHUB_ASSIGN_OR_RETURN(
      Statement up, c.Prepare("UPDATE notifications SET status = ?2, updated_at = ?3 "
                              "WHERE id = ?1"));
  up.BindText(1, notification_id);
  up.BindInt64(2, static_cast<int64_t>(t.after));
  up.BindInt64(3, Micros(now));
  ALERTHUB_RETURN_IF_ERROR(up.Run());

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
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement ob, c.Prepare("INSERT INTO outbox (topic, key, payload, created_at) "
                              "VALUES (?1, ?2, ?3, ?4)"));
  ob.BindText(1, announce->topic);
  ob.BindText(2, notification_id);
  ob.BindBlob(3, payload);
  ob.BindInt64(4, Micros(now));
  ALERTHUB_RETURN_IF_ERROR(ob.Run());
  return t;
}

// --- Digests ---------------------------------------------------------------------

DigestGroup GroupOf(const Delivery& d) {
  return DigestGroup{d.tenant_id, d.integration_id, d.recipient, d.digest_key};
}

// Binds the group at ?1-?4.
void BindGroup(Statement& st, const DigestGroup& g) {
  st.BindText(1, g.tenant_id);
  st.BindText(2, g.integration_id);
  st.BindText(3, g.recipient);
  st.BindText(4, g.digest_key);
}

// The flush time of a member of `g` due no earlier than `given` (its
// next_attempt_at before routing), as RecordRouting stores it.
absl::StatusOr<absl::Time> ReadDigestFlush(Connection& c, const DigestGroup& g,
                                           const DigestWindow& window,
                                           std::optional<absl::Time> given, absl::Time now) {
  std::optional<absl::Time> waiting;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT min(next_attempt_at) FROM deliveries "
                                "WHERE tenant_id = ?1 AND integration_id = ?2 "
                                "AND recipient = ?3 AND digest_key = ?4 AND digest_key <> '' "
                                "AND status = ?5 AND next_attempt_at >= ?6"));
    BindGroup(st, g);
    st.BindInt64(5, static_cast<int64_t>(DeliveryStatus::kHeld));
    st.BindInt64(6, Micros(DigestJoinFloor(given, now)));
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && !st.ColumnIsNull(0)) waiting = FromMicros(st.ColumnInt64(0));
  }
  std::optional<absl::Time> last_flush;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT last_flush_at FROM digest_groups WHERE tenant_id = ?1 "
                                "AND integration_id = ?2 AND recipient = ?3 "
                                "AND digest_key = ?4"));
    BindGroup(st, g);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && !st.ColumnIsNull(0)) last_flush = FromMicros(st.ColumnInt64(0));
  }
  const absl::Time earliest = given.has_value() ? std::max(*given, now) : now;
  return DigestFlushTime(window, earliest, waiting, last_flush);
}

// RecordRouting's due time for the digest member `d` of `w`.
absl::StatusOr<absl::Time> DigestDueTime(Connection& c, const RoutingWrite& w,
                                         const Delivery& d, absl::Time now) {
  ALERTHUB_RETURN_IF_ERROR(CheckDigestMember(w, d));
  return ReadDigestFlush(c, GroupOf(d), *w.digest, d.next_attempt_at, now);
}

}  // namespace

// --- Privacy (GDPR) ---
const absl::string_view kDeliverySelectColumns = kDeliveryColumns;
Delivery DeliveryFromStatement(const Statement& st) { return DeliveryFromRow(st).delivery; }

// --- Integrations -------------------------------------------------------------------

absl::Status DeliveryTables::CreateIntegration(const Integration& i) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string config, Dump(i.config, "integration config"));
  ALERTHUB_ASSIGN_OR_RETURN(std::string retry, Dump(i.retry, "integration retry"));
  absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(absl::StrCat("INSERT INTO integrations (", kIntegrationColumns,
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")));
    st.BindText(1, i.id);
    st.BindText(2, i.tenant_id);
    st.BindText(3, i.name);
    st.BindInt64(4, static_cast<int64_t>(i.channel));
    st.BindText(5, config);
    st.BindInt64(6, i.enabled ? 1 : 0);
    st.BindInt64(7, i.is_default ? 1 : 0);
    st.BindInt64(8, Micros(i.created_at));
    st.BindInt64(9, Micros(i.updated_at));
    st.BindText(10, retry);
    return st.Run();
  });
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(
        absl::StrCat("an integration with id \"", i.id, "\" already exists"));
  }
  return s;
}

absl::StatusOr<Integration> DeliveryTables::GetIntegration(absl::string_view tenant_id,
                                                           absl::string_view id) {
  std::optional<Integration> found;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(absl::StrCat("SELECT ", kIntegrationColumns,
                               " FROM integrations WHERE id = ?1 AND tenant_id = ?2")));
    st.BindText(1, id);
    st.BindText(2, tenant_id);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      ALERTHUB_ASSIGN_OR_RETURN(found, IntegrationFromRow(st));
    }
    return absl::OkStatus();
  }));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("no integration \"", id, "\""));
  }
  return *std::move(found);
}

absl::StatusOr<Page<Integration>> DeliveryTables::ListIntegrations(
    absl::string_view tenant_id, const IntegrationFilter& filter, const PageRequest& page) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kIntegrationColumns,
      " FROM integrations WHERE tenant_id = ?1 AND (?2 IS NULL OR channel = ?2) "
      "AND (?3 IS NULL OR enabled = ?3) AND (?4 IS NULL OR is_default = ?4) "
      "AND id > ?5 ORDER BY id LIMIT ?6");
  auto to_int = [](const auto& v) -> int64_t { return static_cast<int64_t>(v); };
  return ReadPage<Integration>(
      *db_, sql, page,
      [&](Statement& st) {
        st.BindText(1, tenant_id);
        BindOptional(st, 2, filter.channel, to_int);
        BindOptional(st, 3, filter.enabled, to_int);
        BindOptional(st, 4, filter.is_default, to_int);
        st.BindText(5, page.cursor);
        st.BindInt64(6, page.limit + 1);
      },
      IntegrationFromRow);
}

absl::Status DeliveryTables::UpdateIntegration(const Integration& i) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string config, Dump(i.config, "integration config"));
  ALERTHUB_ASSIGN_OR_RETURN(std::string retry, Dump(i.retry, "integration retry"));
  return db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("UPDATE integrations SET name = ?3, config = ?4, enabled = ?5, "
                  "is_default = ?6, updated_at = ?7, retry = ?8 "
                  "WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, i.id);
    st.BindText(2, i.tenant_id);
    st.BindText(3, i.name);
    st.BindText(4, config);
    st.BindInt64(5, i.enabled ? 1 : 0);
    st.BindInt64(6, i.is_default ? 1 : 0);
    st.BindInt64(7, Micros(i.updated_at));
    st.BindText(8, retry);
    ALERTHUB_RETURN_IF_ERROR(st.Run());
    if (st.Changes() == 0) {
      return absl::NotFoundError(absl::StrCat("no integration \"", i.id, "\""));
    }
    return absl::OkStatus();
  });
}

absl::Status DeliveryTables::DeleteIntegration(absl::string_view tenant_id,
                                               absl::string_view id) {
  return db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("DELETE FROM integrations WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, id);
    st.BindText(2, tenant_id);
    ALERTHUB_RETURN_IF_ERROR(st.Run());
    if (st.Changes() == 0) {
      return absl::NotFoundError(absl::StrCat("no integration \"", id, "\""));
    }
    return absl::OkStatus();
  });
}

// --- Templates ----------------------------------------------------------------------

absl::Status DeliveryTables::CreateTemplate(const Template& t) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(TemplateToJson(t), "template"));
  absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("INSERT INTO templates (id, tenant_id, channel, name, doc) "
                                "VALUES (?1, ?2, ?3, ?4, ?5)"));
    st.BindText(1, t.id);
    st.BindText(2, t.tenant_id);
    st.BindInt64(3, static_cast<int64_t>(t.channel));
    st.BindText(4, t.name);
    st.BindText(5, doc);
    return st.Run();
  });
  return TemplateConflict(s, t);
}

absl::StatusOr<Template> DeliveryTables::GetTemplate(absl::string_view tenant_id,
                                                     absl::string_view id) {
  std::optional<Template> found;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT doc FROM templates WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, id);
    st.BindText(2, tenant_id);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      ALERTHUB_ASSIGN_OR_RETURN(found, TemplateFromDoc(st.ColumnText(0)));
    }
    return absl::OkStatus();
  }));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("no template \"", id, "\""));
  }
  return *std::move(found);
}

absl::StatusOr<Template> DeliveryTables::FindTemplate(absl::string_view tenant_id,
                                                      absl::string_view name,
                                                      Channel channel) {
  std::optional<Template> found;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT doc FROM templates WHERE tenant_id = ?1 "
                                "AND channel = ?2 AND name = ?3"));
    st.BindText(1, tenant_id);
    st.BindInt64(2, static_cast<int64_t>(channel));
    st.BindText(3, name);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      ALERTHUB_ASSIGN_OR_RETURN(found, TemplateFromDoc(st.ColumnText(0)));
    }
    return absl::OkStatus();
  }));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("no ", ChannelName(channel),
                                            " template named \"", name, "\""));
  }
  return *std::move(found);
}

absl::StatusOr<Page<Template>> DeliveryTables::ListTemplates(absl::string_view tenant_id,
                                                             const PageRequest& page) {
  return ReadPage<Template>(
      *db_,
      "SELECT doc FROM templates WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3", page,
      [&](Statement& st) {
        st.BindText(1, tenant_id);
        st.BindText(2, page.cursor);
        st.BindInt64(3, page.limit + 1);
      },
      [](const Statement& row) { return TemplateFromDoc(row.ColumnText(0)); });
}

absl::Status DeliveryTables::UpdateTemplate(const Template& t) {
  ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(TemplateToJson(t), "template"));
  absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("UPDATE templates SET channel = ?3, name = ?4, doc = ?5 "
                                "WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, t.id);
    st.BindText(2, t.tenant_id);
    st.BindInt64(3, static_cast<int64_t>(t.channel));
    st.BindText(4, t.name);
    st.BindText(5, doc);
    ALERTHUB_RETURN_IF_ERROR(st.Run());
    if (st.Changes() == 0) {
      return absl::NotFoundError(absl::StrCat("no template \"", t.id, "\""));
    }
    return absl::OkStatus();
  });
  return TemplateConflict(s, t);
}

absl::Status DeliveryTables::DeleteTemplate(absl::string_view tenant_id,
                                            absl::string_view id) {
  return db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("DELETE FROM templates WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, id);
    st.BindText(2, tenant_id);
    ALERTHUB_RETURN_IF_ERROR(st.Run());
    if (st.Changes() == 0) {
      return absl::NotFoundError(absl::StrCat("no template \"", id, "\""));
    }
    return absl::OkStatus();
  });
}

// --- Deliveries ---------------------------------------------------------------------

namespace {

// Routes one notification inside the caller's transaction (see
// Store::RecordRoutings). Its only item error is kNotFound for an absent or
// foreign notification, found before it writes anything; a malformed write
// is kInvalidArgument, which fails the whole batch.
absl::StatusOr<RoutingOutcome> RouteOne(Connection& c, const RoutingWrite& w, absl::Time now) {
  // Cached by the connection and built once: a batch only looks them up.
  static const std::string insert_sql = absl::StrCat(
      "INSERT INTO deliveries (", kDeliveryColumns,
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, '', ?9, ?10, NULL, ?11) "
      "ON CONFLICT (notification_id, integration_id, recipient) DO NOTHING");
  static const std::string select_sql = absl::StrCat(
      "SELECT ", kDeliveryColumns, " FROM deliveries WHERE notification_id = ?1 ORDER BY id");
  RoutingOutcome out;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT status FROM notifications "
                                "WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, w.notification_id);
    st.BindText(2, w.tenant_id);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      return absl::NotFoundError(absl::StrCat("no notification \"", w.notification_id, "\""));
    }
    out.notification.before = out.notification.after =
        static_cast<NotificationStatus>(st.ColumnInt64(0));
  }
  ALERTHUB_ASSIGN_OR_RETURN(Statement ins, c.Prepare(insert_sql));
  for (const Delivery& d : w.deliveries) {
    if (d.tenant_id != w.tenant_id || d.notification_id != w.notification_id) {
      return absl::InvalidArgumentError(absl::StrCat(
          "delivery \"", d.id, "\" belongs to another notification or tenant"));
    }
    // --- Digests: a member is due at its group's flush time.
    std::optional<absl::Time> next_attempt_at = d.next_attempt_at;
    if (!d.digest_key.empty()) {
      ALERTHUB_ASSIGN_OR_RETURN(next_attempt_at, DigestDueTime(c, w, d, now));
    }
    ins.Reset();
    ins.BindText(1, d.id);
    ins.BindText(2, d.tenant_id);
    ins.BindText(3, d.notification_id);
    ins.BindText(4, d.integration_id);
    ins.BindInt64(5, static_cast<int64_t>(d.channel));
    ins.BindText(6, d.recipient);
    ins.BindInt64(7, static_cast<int64_t>(d.status));
    BindOptional(ins, 8, next_attempt_at, [](const auto& v) -> int64_t { return Micros(v); });
    ins.BindInt64(9, Micros(d.created_at));
    ins.BindInt64(10, Micros(d.updated_at));
    ins.BindText(11, d.digest_key);
    ALERTHUB_RETURN_IF_ERROR(ins.Run());
  }
  // Only the first routing of a notification (or the first write for it in
  // a batch) moves it on; a replay finds it routed and changes nothing.
  if (out.notification.before == NotificationStatus::kAccepted) {
    DeliveryTally tally;
    for (const Delivery& d : w.deliveries) CountDelivery(d, &tally);
    const NotificationStatus after = AggregateNotificationStatus(w.status, tally);
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement up, c.Prepare("UPDATE notifications SET status = ?2, updated_at = ?3 "
                                "WHERE id = ?1"));
    up.BindText(1, w.notification_id);
    up.BindInt64(2, static_cast<int64_t>(after));
    up.BindInt64(3, Micros(now));
    ALERTHUB_RETURN_IF_ERROR(up.Run());
    ALERTHUB_RETURN_IF_ERROR(InsertEvent(c, w.event, w.tenant_id, w.notification_id));
    out.notification.after = after;
  }
  ALERTHUB_ASSIGN_OR_RETURN(Statement sel, c.Prepare(select_sql));
  sel.BindText(1, w.notification_id);
  while (true) {
    ALERTHUB_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) return out;
    out.deliveries.push_back(DeliveryFromRow(sel).delivery);
  }
}

// Errors of one item of a batch, found before it wrote anything: the others
// still commit.
bool IsItemError(const absl::Status& s) {
  return absl::IsNotFound(s) || absl::IsFailedPrecondition(s);
}

// Stores a claim: `id` is sending under a lease until `lease_until`.
absl::Status MarkSending(Connection& c, absl::string_view id, absl::Time lease_until,
                         absl::Time now) {
  ALERTHUB_ASSIGN_OR_RETURN(Statement up,
                            c.Prepare("UPDATE deliveries SET status = ?2, lease_until = ?3, "
                                      "updated_at = ?4 WHERE id = ?1"));
  up.BindText(1, id);
  up.BindInt64(2, static_cast<int64_t>(DeliveryStatus::kSending));
  up.BindInt64(3, Micros(lease_until));
  up.BindInt64(4, Micros(now));
  return up.Run();
}

absl::StatusOr<DeliveryClaim> ClaimOne(Connection& c, const DeliveryRef& ref,
                                       absl::Duration lease, absl::Time now) {
  DeliveryClaim claim;
  ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> row, ReadDelivery(c, ref.tenant_id, ref.id));
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
  ALERTHUB_RETURN_IF_ERROR(CheckAttemptWrite(w));
  AttemptOutcomeRecord out;
  ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> row,
                            ReadDelivery(c, w.tenant_id, w.delivery_id));
  if (!row.has_value()) return NoDelivery(w.delivery_id);
  out.delivery = row->delivery;
  Delivery& d = out.delivery;
  ALERTHUB_RETURN_IF_ERROR(AttemptTransition(d, w, now));
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement up,
      c.Prepare("UPDATE deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, "
                "lease_until = NULL, last_error = ?5, updated_at = ?6 WHERE id = ?1"));
  up.BindText(1, d.id);
  up.BindInt64(2, static_cast<int64_t>(d.status));
  up.BindInt64(3, d.attempts);
  BindOptional(up, 4, d.next_attempt_at,
               [](const auto& v) -> int64_t { return Micros(v); });
  up.BindText(5, d.last_error);
  up.BindInt64(6, Micros(now));
  ALERTHUB_RETURN_IF_ERROR(up.Run());
  ALERTHUB_RETURN_IF_ERROR(InsertEvent(c, w.attempt_event, w.tenant_id, d.notification_id));
  ALERTHUB_ASSIGN_OR_RETURN(out.notification,
                            Reaggregate(c, w.tenant_id, d.notification_id, now,
                                        w.attempt_event.traceparent));
  return out;
}

// Runs `one` for every item inside the caller's transaction; an item error
// fills its slot, any other error fails the transaction.
template <typename Out, typename In, typename One>
absl::Status ForEachItem(absl::Span<const In> items, std::vector<absl::StatusOr<Out>>* out,
                         One one) {
  out->clear();
  out->reserve(items.size());
  for (const In& item : items) {
    absl::StatusOr<Out> r = one(item);
    if (!r.ok() && !IsItemError(r.status())) return r.status();
    out->push_back(std::move(r));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<RoutingOutcome>>> DeliveryTables::RecordRoutings(
    absl::Span<const RoutingWrite> writes) {
  std::vector<absl::StatusOr<RoutingOutcome>> out;
  if (writes.empty()) return out;
  const absl::Time now = db_->clock().Now();
  ALERTHUB_RETURN_IF_ERROR(db_->Write(
      [&](Connection& c) -> absl::Status {
        return ForEachItem<RoutingOutcome>(
            writes, &out, [&](const RoutingWrite& w) { return RouteOne(c, w, now); });
      },
      /*No fsync needed: the WAL is sequential, so a power loss that undoes
        this also undoes the later outbox sent mark (routing is replayed),
        and a delivery that survives without its task is re-enqueued by the
        dispatcher's restart sweep.*/
      Database::Durability::kRelaxed));
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<DeliveryClaim>>> DeliveryTables::ClaimDeliveries(
    absl::Span<const DeliveryRef> refs, absl::Duration lease) {
  if (lease <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lease must be positive");
  }
  std::vector<absl::StatusOr<DeliveryClaim>> out;
  if (refs.empty()) return out;
  const absl::Time now = db_->clock().Now();
  ALERTHUB_RETURN_IF_ERROR(db_->Write(
      [&](Connection& c) -> absl::Status {
        return ForEachItem<DeliveryClaim>(
            refs, &out, [&](const DeliveryRef& ref) { return ClaimOne(c, ref, lease, now); });
      },
      /*A lost claim only lets the delivery be claimed again: no fsync needed.*/
      Database::Durability::kRelaxed));
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<AttemptOutcomeRecord>>>
DeliveryTables::RecordAttempts(absl::Span<const AttemptWrite> writes) {
  std::vector<absl::StatusOr<AttemptOutcomeRecord>> out;
  if (writes.empty()) return out;
  const absl::Time now = db_->clock().Now();
  ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    return ForEachItem<AttemptOutcomeRecord>(
        writes, &out, [&](const AttemptWrite& w) { return RecordOne(c, w, now); });
  }));
  return out;
}

absl::StatusOr<AttemptOutcomeRecord> DeliveryTables::ReplayDelivery(
    absl::string_view tenant_id, absl::string_view id, const CloudEvent& event) {
  const absl::Time now = db_->clock().Now();
  AttemptOutcomeRecord out;
  ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    out = AttemptOutcomeRecord();
    ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> row, ReadDelivery(c, tenant_id, id));
    if (!row.has_value()) return NoDelivery(id);
    out.delivery = row->delivery;
    Delivery& d = out.delivery;
    ALERTHUB_RETURN_IF_ERROR(ReplayTransition(d, now));
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement up,
        c.Prepare("UPDATE deliveries SET status = ?2, attempts = 0, next_attempt_at = ?3, "
                  "lease_until = NULL, updated_at = ?3 WHERE id = ?1"));
    up.BindText(1, d.id);
    up.BindInt64(2, static_cast<int64_t>(d.status));
    up.BindInt64(3, Micros(now));
    ALERTHUB_RETURN_IF_ERROR(up.Run());
    ALERTHUB_RETURN_IF_ERROR(InsertEvent(c, event, tenant_id, d.notification_id));
    ALERTHUB_ASSIGN_OR_RETURN(out.notification,
                              Reaggregate(c, tenant_id, d.notification_id, now,
                                          event.traceparent));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int64_t> DeliveryTables::CancelNotification(absl::string_view tenant_id,
                                                           absl::string_view id,
                                                           const CloudEvent& event) {
  const absl::Time now = db_->clock().Now();
  int64_t cancelled = 0;
  ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("SELECT status FROM notifications "
                                  "WHERE id = ?1 AND tenant_id = ?2"));
      st.BindText(1, id);
      st.BindText(2, tenant_id);
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return absl::NotFoundError(absl::StrCat("no notification \"", id, "\""));
      const auto status = static_cast<NotificationStatus>(st.ColumnInt64(0));
      if (IsTerminal(status)) {
        return absl::FailedPreconditionError(
            absl::StrCat("notification \"", id, "\" is ", NotificationStatusName(status),
                         " already; only a notification not yet sent can be cancelled"));
      }
    }
    {
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("SELECT count(*) FROM deliveries WHERE notification_id = ?1 "
                                  "AND (status NOT IN (?2, ?3, ?4) OR attempts > 0)"));
      st.BindText(1, id);
      st.BindInt64(2, static_cast<int64_t>(DeliveryStatus::kPending));
      st.BindInt64(3, static_cast<int64_t>(DeliveryStatus::kHeld));
      st.BindInt64(4, static_cast<int64_t>(DeliveryStatus::kSuppressed));
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row && st.ColumnInt64(0) > 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("notification \"", id,
                         "\" is being delivered already; only a notification not yet sent "
                         "can be cancelled"));
      }
    }
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement up, c.Prepare("UPDATE deliveries SET status = ?2, last_error = 'cancelled', "
                                "next_attempt_at = NULL, lease_until = NULL, updated_at = ?3 "
                                "WHERE notification_id = ?1 AND status IN (?4, ?5)"));
    up.BindText(1, id);
    up.BindInt64(2, static_cast<int64_t>(DeliveryStatus::kSuppressed));
    up.BindInt64(3, Micros(now));
    up.BindInt64(4, static_cast<int64_t>(DeliveryStatus::kPending));
    up.BindInt64(5, static_cast<int64_t>(DeliveryStatus::kHeld));
    ALERTHUB_RETURN_IF_ERROR(up.Run());
    cancelled = up.Changes();
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement un, c.Prepare("UPDATE notifications SET status = ?2, updated_at = ?3 "
                                "WHERE id = ?1"));
    un.BindText(1, id);
    un.BindInt64(2, static_cast<int64_t>(NotificationStatus::kCancelled));
    un.BindInt64(3, Micros(now));
    ALERTHUB_RETURN_IF_ERROR(un.Run());
    return InsertEvent(c, event, tenant_id, id);
  }));
  return cancelled;
}

absl::StatusOr<Delivery> DeliveryTables::GetDelivery(absl::string_view tenant_id,
                                                     absl::string_view id) {
  std::optional<DeliveryRow> row;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(row, ReadDelivery(c, tenant_id, id));
    return absl::OkStatus();
  }));
  if (!row.has_value()) return NoDelivery(id);
  return std::move(row->delivery);
}

absl::StatusOr<Page<Delivery>> DeliveryTables::ListUnfinishedDeliveries(
    const PageRequest& page) {
  static const std::string sql =
      absl::StrCat("SELECT ", kDeliveryColumns,
                   " FROM deliveries WHERE status IN (?1, ?2, ?3) AND id > ?4 "
                   "ORDER BY id LIMIT ?5");
  return ReadPage<Delivery>(
      *db_, sql, page,
      [&](Statement& st) {
        st.BindInt64(1, static_cast<int64_t>(DeliveryStatus::kPending));
        st.BindInt64(2, static_cast<int64_t>(DeliveryStatus::kSending));
        st.BindInt64(3, static_cast<int64_t>(DeliveryStatus::kHeld));
        st.BindText(4, page.cursor);
        st.BindInt64(5, page.limit + 1);
      },
      [](const Statement& row) {
        return absl::StatusOr<Delivery>(DeliveryFromRow(row).delivery);
      });
}

absl::StatusOr<Page<Delivery>> DeliveryTables::ListDeliveries(absl::string_view tenant_id,
                                                              const DeliveryFilter& filter,
                                                              const PageRequest& page) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kDeliveryColumns,
      " FROM deliveries WHERE tenant_id = ?1 AND (?2 IS NULL OR status = ?2) "
      "AND (?3 = '' OR notification_id = ?3) AND (?4 = '' OR id < ?4) "
      "ORDER BY id DESC LIMIT ?5");
  return ReadPage<Delivery>(
      *db_, sql, page,
      [&](Statement& st) {
        st.BindText(1, tenant_id);
        BindOptional(st, 2, filter.status,
                     [](const auto& v) -> int64_t { return static_cast<int64_t>(v); });
        st.BindText(3, filter.notification_id);
        st.BindText(4, page.cursor);
        st.BindInt64(5, page.limit + 1);
      },
      [](const Statement& row) {
        return absl::StatusOr<Delivery>(DeliveryFromRow(row).delivery);
      });
}

// --- Digests ----------------------------------------------------------------------

namespace {

// Claims every member of the group of `named_before` (as stored, claimable
// at `now`) that can be claimed at `now`.
absl::Status ClaimGroupMembers(Connection& c, const Delivery& named_before,
                               absl::Duration lease, absl::Time now, DigestClaim* out) {
  const DigestGroup g = GroupOf(named_before);
  std::vector<DeliveryRow> rows;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(absl::StrCat("SELECT ", kDeliveryColumns,
                               " FROM deliveries WHERE tenant_id = ?1 AND integration_id = ?2 "
                               "AND recipient = ?3 AND digest_key = ?4 AND digest_key <> '' "
                               "AND status IN (?5, ?6, ?7) ORDER BY id")));
    BindGroup(st, g);
    st.BindInt64(5, static_cast<int64_t>(DeliveryStatus::kPending));
    st.BindInt64(6, static_cast<int64_t>(DeliveryStatus::kSending));
    st.BindInt64(7, static_cast<int64_t>(DeliveryStatus::kHeld));
    while (true) {
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      rows.push_back(DeliveryFromRow(st));
    }
  }
  // The named delivery is among the rows and claimable (the caller checked).
  bool flushed = false;
  for (DeliveryRow& row : rows) {
    Delivery& d = row.delivery;
    const DeliveryStatus before = d.status;
    if (ClaimTransition(d, row.lease_until, now) != DeliveryClaim::Result::kClaimed) continue;
    flushed = flushed || before == DeliveryStatus::kHeld;
    ALERTHUB_RETURN_IF_ERROR(MarkSending(c, d.id, now + lease, now));
    ALERTHUB_ASSIGN_OR_RETURN(StatusTransition t,
                              Reaggregate(c, d.tenant_id, d.notification_id, now, ""));
    out->deliveries.push_back(d);
    out->notifications.push_back(t);
  }
  if (!flushed) return absl::OkStatus();
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("INSERT INTO digest_groups (tenant_id, integration_id, recipient, "
                              "digest_key, last_flush_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                              "ON CONFLICT (tenant_id, integration_id, recipient, digest_key) "
                              "DO UPDATE SET last_flush_at = excluded.last_flush_at"));
  BindGroup(st, g);
  st.BindInt64(5, Micros(now));
  return st.Run();
}

}  // namespace

absl::StatusOr<DigestClaim> DeliveryTables::ClaimDigest(absl::string_view tenant_id,
                                                        absl::string_view delivery_id,
                                                        absl::Duration lease) {
  if (lease <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lease must be positive");
  }
  const absl::Time now = db_->clock().Now();
  DigestClaim out;
  ALERTHUB_RETURN_IF_ERROR(db_->Write(
      [&](Connection& c) -> absl::Status {
        out = DigestClaim();
        ALERTHUB_ASSIGN_OR_RETURN(std::optional<DeliveryRow> row,
                                  ReadDelivery(c, tenant_id, delivery_id));
        if (!row.has_value()) return NoDelivery(delivery_id);
        const Delivery before = row->delivery;
        Delivery named = row->delivery;
        out.result = ClaimTransition(named, row->lease_until, now);
        if (out.result != DeliveryClaim::Result::kClaimed) {
          out.deliveries.push_back(std::move(named));
          return absl::OkStatus();
        }
        if (before.digest_key.empty()) {
          // Not a digest member: claimed alone, as ClaimDeliveries would.
          ALERTHUB_ASSIGN_OR_RETURN(DeliveryClaim one,
                                    ClaimOne(c, {std::string(tenant_id), before.id}, lease, now));
          out.deliveries.push_back(std::move(one.delivery));
          out.notifications.push_back(one.notification);
          return absl::OkStatus();
        }
        return ClaimGroupMembers(c, before, lease, now, &out);
      },
      /*A lost claim only lets the group be claimed again: no fsync needed.*/
      Database::Durability::kRelaxed));
  return out;
}

absl::StatusOr<absl::Time> DeliveryTables::PeekDigestFlush(const DigestGroup& group,
                                                           const DigestWindow& window,
                                                           absl::Time earliest) {
  const absl::Time now = db_->clock().Now();
  absl::Time at;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        at, ReadDigestFlush(c, group, window, earliest, now));
    return absl::OkStatus();
  }));
  return at;
}

}  // namespace alerthub::sqlite_internal
