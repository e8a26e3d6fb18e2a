#include "alerthub/adapters/sqlite/internal/privacy_tables.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/delivery_tables.h"
#include "alerthub/adapters/sqlite/internal/table_util.h"
#include "alerthub/common/status.h"
#include "alerthub/model/event.h"
#include "alerthub/ports/user_erasure.h"

namespace alerthub::sqlite_internal {
namespace {

absl::Status NoUser(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no user \"", id, "\""));
}

absl::StatusOr<nlohmann::json> JsonColumn(const Statement& st, int col, absl::string_view what) {
  return ParseColumn(st.ColumnText(col), what);
}

// Runs `body` in one read transaction on `c` (a snapshot of the database).
absl::Status ReadTransaction(Connection& c, absl::FunctionRef<absl::Status()> body) {
  ALERTHUB_RETURN_IF_ERROR(c.Run("BEGIN"));
  absl::Status s = body();
  if (s.ok()) s = c.Run("COMMIT");
  if (!s.ok() && !c.InAutocommit()) c.Run("ROLLBACK").IgnoreError();
  return s;
}

// The user's notifications (ports/store.h "Privacy (GDPR)"): those whose
// document mentions the id (confirmed by decoding: HasRecipient) or that
// have a delivery addressed to them. ?1 tenant, ?2 RecipientNeedle, ?3 user.
constexpr char kUserNotificationsSql[] =
    "SELECT id, status, updated_at, doc FROM notifications WHERE tenant_id = ?1 AND "
    "(instr(doc, ?2) > 0 OR id IN (SELECT notification_id FROM deliveries "
    "WHERE tenant_id = ?1 AND recipient = ?3)) ORDER BY id";

// One stored notification document of the user's, by id.
struct NotificationDoc {
  std::string id;
  NotificationStatus status = NotificationStatus::kAccepted;
  absl::Time updated_at;
  nlohmann::json doc;
};

// The user's notifications as stored, oldest first; `deliveries_of` holds the
// ids of the notifications with a delivery addressed to the user.
absl::StatusOr<std::vector<NotificationDoc>> ReadUserNotifications(
    Connection& c, absl::string_view tenant_id, absl::string_view user_id,
    const absl::flat_hash_set<std::string>& deliveries_of) {
  const std::string needle = RecipientNeedle(user_id);
  ALERTHUB_ASSIGN_OR_RETURN(Statement st, c.Prepare(kUserNotificationsSql));
  st.BindText(1, tenant_id);
  st.BindText(2, needle);
  st.BindText(3, user_id);
  std::vector<NotificationDoc> out;
  while (true) {
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    NotificationDoc n;
    n.id = std::string(st.ColumnText(0));
    n.status = static_cast<NotificationStatus>(st.ColumnInt64(1));
    n.updated_at = FromMicros(st.ColumnInt64(2));
    ALERTHUB_ASSIGN_OR_RETURN(n.doc, JsonColumn(st, 3, "notifications.doc"));
    // The needle may also match inside data or tags.
    if (!HasRecipient(n.doc, user_id) && !deliveries_of.contains(n.id)) continue;
    out.push_back(std::move(n));
  }
  return out;
}

absl::StatusOr<std::vector<Delivery>> ReadUserDeliveries(Connection& c,
                                                         absl::string_view tenant_id,
                                                         absl::string_view user_id) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st, c.Prepare(absl::StrCat("SELECT ", kDeliverySelectColumns,
                                           " FROM deliveries WHERE tenant_id = ?1 AND "
                                           "recipient = ?2 ORDER BY id")));
  st.BindText(1, tenant_id);
  st.BindText(2, user_id);
  std::vector<Delivery> out;
  while (true) {
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(DeliveryFromStatement(st));
  }
}

absl::flat_hash_set<std::string> NotificationIdsOf(const std::vector<Delivery>& deliveries) {
  absl::flat_hash_set<std::string> ids;
  for (const Delivery& d : deliveries) ids.insert(d.notification_id);
  return ids;
}

// Runs `sql` (binding ?1 tenant, ?2 user, then `more`) and returns how many
// rows it changed.
absl::StatusOr<int64_t> Change(Connection& c, absl::string_view sql, absl::string_view tenant_id,
                               absl::string_view user_id,
                               absl::FunctionRef<void(Statement&)> more = [](Statement&) {}) {
  ALERTHUB_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  st.BindText(1, tenant_id);
  st.BindText(2, user_id);
  more(st);
  ALERTHUB_RETURN_IF_ERROR(st.Run());
  return st.Changes();
}

// Rows to rewrite: (seq, new document).
using Rewrites = std::vector<std::pair<int64_t, std::string>>;

// Runs `update_sql` ("UPDATE t SET doc = ?2 WHERE seq = ?1") for each
// rewrite, binding the document as a blob when `blob`.
absl::Status ApplyRewrites(Connection& c, absl::string_view update_sql, const Rewrites& rows,
                           bool blob) {
  ALERTHUB_ASSIGN_OR_RETURN(Statement up, c.Prepare(update_sql));
  for (const auto& [seq, doc] : rows) {
    up.Reset();
    up.BindInt64(1, seq);
    if (blob) {
      up.BindBlob(2, doc);
    } else {
      up.BindText(2, doc);
    }
    ALERTHUB_RETURN_IF_ERROR(up.Run());
  }
  return absl::OkStatus();
}

// Scrubs the attempt events of `deliveries` (all the user's); returns how
// many changed.
absl::StatusOr<int64_t> ScrubAttemptEvents(Connection& c, absl::string_view tenant_id,
                                           const std::vector<Delivery>& deliveries) {
  absl::flat_hash_set<std::string> ids;
  for (const Delivery& d : deliveries) ids.insert(d.id);
  Rewrites updates;
  {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT seq, doc FROM events WHERE notification_id = ?1 "
                                "AND tenant_id = ?2 AND type = ?3"));
    for (const std::string& notification_id : NotificationIdsOf(deliveries)) {
      st.Reset();
      st.BindText(1, notification_id);
      st.BindText(2, tenant_id);
      st.BindText(3, kEventDeliveryAttempt);
      while (true) {
        ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json e, JsonColumn(st, 1, "events.doc"));
        if (!e.is_object() || !e.contains("data")) continue;
        nlohmann::json& data = e["data"];
        if (!ids.contains(AttemptDeliveryId(data)) || !ScrubAttemptData(data)) continue;
        ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(e, "event"));
        updates.emplace_back(st.ColumnInt64(0), std::move(doc));
      }
    }
  }
  ALERTHUB_RETURN_IF_ERROR(ApplyRewrites(c, "UPDATE events SET doc = ?2 WHERE seq = ?1", updates,
                                         /*blob=*/false));
  return static_cast<int64_t>(updates.size());
}

// Removes the user from the messages published on kTopicCreated for the
// notifications `changed` (ids), sent or not.
absl::Status EraseFromCreatedMessages(Connection& c, absl::string_view user_id,
                                      const absl::flat_hash_set<std::string>& changed) {
  if (changed.empty()) return absl::OkStatus();
  const std::string needle = RecipientNeedle(user_id);
  Rewrites updates;
  {
    // No index on key: one scan of the outbox for the whole erasure.
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT seq, key, payload FROM outbox "
                                "WHERE topic = ?1 AND instr(payload, ?2) > 0"));
    st.BindText(1, kTopicCreated);
    st.BindText(2, needle);
    while (true) {
      ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      if (!changed.contains(st.ColumnText(1))) continue;
      ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json message,
                                ParseColumn(st.ColumnBlob(2), "outbox.payload"));
      if (!message.is_object() || !message.contains("data")) continue;
      if (EraseRecipientFromDoc(message["data"], user_id) == RecipientErasure::kNotRecipient) {
        continue;
      }
      ALERTHUB_ASSIGN_OR_RETURN(std::string payload, Dump(message, "outbox message"));
      updates.emplace_back(st.ColumnInt64(0), std::move(payload));
    }
  }
  return ApplyRewrites(c, "UPDATE outbox SET payload = ?2 WHERE seq = ?1", updates,
                       /*blob=*/true);
}

}  // namespace

absl::StatusOr<UserDataExport> PrivacyTables::ExportUserData(absl::string_view tenant_id,
                                                             absl::string_view user_id) {
  UserDataExport out;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    return ReadTransaction(c, [&]() -> absl::Status {
      out = UserDataExport();
      {
        ALERTHUB_ASSIGN_OR_RETURN(
            Statement st, c.Prepare("SELECT doc, preferences, password_hash IS NOT NULL "
                                    "FROM users WHERE id = ?1 AND tenant_id = ?2"));
        st.BindText(1, user_id);
        st.BindText(2, tenant_id);
        ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return NoUser(user_id);
        ALERTHUB_ASSIGN_OR_RETURN(out.user, DecodeJsonColumn(st.ColumnText(0), "users.doc",
                                                             UserFromJson));
        if (!st.ColumnIsNull(1)) {
          ALERTHUB_ASSIGN_OR_RETURN(
              out.preferences,
              DecodeJsonColumn(st.ColumnText(1), "users.preferences", PreferencesFromJson));
        }
        out.has_password = st.ColumnInt64(2) != 0;
      }
      {
        ALERTHUB_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("SELECT family_id, min(issued_at), max(issued_at), max(expires_at), "
                      "max(revoked_at) FROM refresh_tokens WHERE user_id = ?1 AND "
                      "tenant_id = ?2 GROUP BY family_id ORDER BY 2, 1"));
        st.BindText(1, user_id);
        st.BindText(2, tenant_id);
        while (true) {
          ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
          if (!row) break;
          LoginSessionInfo s;
          s.family_id = std::string(st.ColumnText(0));
          s.started_at = FromMicros(st.ColumnInt64(1));
          s.last_refreshed_at = FromMicros(st.ColumnInt64(2));
          s.expires_at = FromMicros(st.ColumnInt64(3));
          if (!st.ColumnIsNull(4)) s.revoked_at = FromMicros(st.ColumnInt64(4));
          out.sessions.push_back(std::move(s));
        }
      }
      ALERTHUB_ASSIGN_OR_RETURN(out.deliveries, ReadUserDeliveries(c, tenant_id, user_id));
      ALERTHUB_ASSIGN_OR_RETURN(
          std::vector<NotificationDoc> docs,
          ReadUserNotifications(c, tenant_id, user_id, NotificationIdsOf(out.deliveries)));
      ALERTHUB_ASSIGN_OR_RETURN(
          Statement events, c.Prepare("SELECT doc FROM events WHERE notification_id = ?1 "
                                      "AND tenant_id = ?2 ORDER BY seq"));
      for (const NotificationDoc& d : docs) {
        ALERTHUB_ASSIGN_OR_RETURN(Notification n,
                                  DecodeJsonColumn(d.doc.dump(), "notifications.doc",
                                                   NotificationFromJson));
        n.status = d.status;
        n.updated_at = d.updated_at;
        out.notifications.push_back(std::move(n));
        events.Reset();
        events.BindText(1, d.id);
        events.BindText(2, tenant_id);
        while (true) {
          ALERTHUB_ASSIGN_OR_RETURN(bool row, events.Step());
          if (!row) break;
          ALERTHUB_ASSIGN_OR_RETURN(
              CloudEvent e, DecodeJsonColumn(events.ColumnText(0), "events.doc",
                                             [](const nlohmann::json& j) {
                                               return CloudEventFromJson(j);
                                             }));
          out.events.push_back(std::move(e));
        }
      }
      return absl::OkStatus();
    });
  }));
  return out;
}

absl::StatusOr<UserErasure> PrivacyTables::EraseUser(absl::string_view tenant_id,
                                                     absl::string_view user_id, absl::Time at) {
  UserErasure out;
  ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    out = UserErasure();
    // One writer: nothing interleaves between these reads and writes.
    ALERTHUB_ASSIGN_OR_RETURN(
        out.sessions_deleted,
        Change(c, "DELETE FROM refresh_tokens WHERE tenant_id = ?1 AND user_id = ?2",
               tenant_id, user_id));
    // Their password hash and preferences are columns of the row. Nothing
    // was written when it is not the tenant's: the transaction rolls back.
    ALERTHUB_ASSIGN_OR_RETURN(
        int64_t deleted,
        Change(c, "DELETE FROM users WHERE tenant_id = ?1 AND id = ?2", tenant_id, user_id));
    if (deleted == 0) return NoUser(user_id);

    ALERTHUB_ASSIGN_OR_RETURN(
        out.deliveries_suppressed,
        Change(c,
               "UPDATE deliveries SET status = ?3, last_error = ?4, next_attempt_at = NULL, "
               "lease_until = NULL, updated_at = ?5 WHERE tenant_id = ?1 AND recipient = ?2 "
               "AND status IN (?6, ?7)",
               tenant_id, user_id, [&](Statement& st) {
                 st.BindInt64(3, static_cast<int64_t>(DeliveryStatus::kSuppressed));
                 st.BindText(4, kRecipientErased);
                 st.BindInt64(5, Micros(at));
                 st.BindInt64(6, static_cast<int64_t>(DeliveryStatus::kPending));
                 st.BindInt64(7, static_cast<int64_t>(DeliveryStatus::kHeld));
               }));
    ALERTHUB_ASSIGN_OR_RETURN(
        out.deliveries_scrubbed,
        Change(c,
               "UPDATE deliveries SET last_error = '' WHERE tenant_id = ?1 AND recipient = ?2 "
               "AND last_error NOT IN ('', ?3)",
               tenant_id, user_id, [&](Statement& st) { st.BindText(3, kRecipientErased); }));
    // Their dead letters in the `sql://` queue (tasks are named by delivery id).
    ALERTHUB_RETURN_IF_ERROR(
        Change(c,
               "UPDATE tasks SET last_error = '' WHERE last_error <> '' AND id IN "
               "(SELECT id FROM deliveries WHERE tenant_id = ?1 AND recipient = ?2)",
               tenant_id, user_id)
            .status());

    ALERTHUB_ASSIGN_OR_RETURN(std::vector<Delivery> deliveries,
                              ReadUserDeliveries(c, tenant_id, user_id));
    ALERTHUB_ASSIGN_OR_RETURN(out.events_scrubbed,
                              ScrubAttemptEvents(c, tenant_id, deliveries));

    ALERTHUB_ASSIGN_OR_RETURN(std::vector<NotificationDoc> docs,
                              ReadUserNotifications(c, tenant_id, user_id, {}));
    absl::flat_hash_set<std::string> changed;
    ALERTHUB_ASSIGN_OR_RETURN(Statement up,
                              c.Prepare("UPDATE notifications SET doc = ?2 WHERE id = ?1"));
    for (NotificationDoc& n : docs) {
      const RecipientErasure e = EraseRecipientFromDoc(n.doc, user_id);
      if (e == RecipientErasure::kNotRecipient) continue;
      ++out.notifications_updated;
      if (e == RecipientErasure::kBlanked) ++out.notifications_blanked;
      ALERTHUB_ASSIGN_OR_RETURN(std::string doc, Dump(n.doc, "notification"));
      up.Reset();
      up.BindText(1, n.id);
      up.BindText(2, doc);
      ALERTHUB_RETURN_IF_ERROR(up.Run());
      changed.insert(n.id);
    }
    return EraseFromCreatedMessages(c, user_id, changed);
  }));
  return out;
}

}  // namespace alerthub::sqlite_internal
