#include "alerthub/adapters/postgres/postgres_store_privacy.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/model/event.h"
#include "alerthub/ports/user_erasure.h"
#include "nlohmann/json.hpp"

namespace alerthub::postgres_internal {
namespace {

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

absl::Status NoUser(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("no user \"", id, "\""));
}

// A stored document. The parser checks that strings are UTF-8, so the
// edited documents' dump() cannot throw.
absl::StatusOr<nlohmann::json> ParseDoc(absl::string_view text, absl::string_view table) {
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InternalError(
        absl::StrCat("postgres: corrupt row in ", table, ": not valid JSON"));
  }
  return j;
}

// The user's notifications (ports/store.h "Privacy (GDPR)"): those whose
// document mentions the id (confirmed with HasRecipient) or that have a
// delivery addressed to them. $1 tenant, $2 RecipientNeedle, $3 user.
constexpr char kUserNotificationsSql[] =
    "SELECT status, updated_at, doc, id FROM notifications WHERE tenant_id = $1 AND "
    "(strpos(doc, $2) > 0 OR id IN (SELECT notification_id FROM deliveries "
    "WHERE tenant_id = $1 AND recipient = $3)) ORDER BY id";

// Rows of `r` (kUserNotificationsSql) that are the user's: `each(row, doc)`.
absl::Status ForUserNotifications(const Result& r, absl::string_view user_id,
                                  const absl::flat_hash_set<std::string>& deliveries_of,
                                  absl::FunctionRef<absl::Status(int, nlohmann::json&)> each) {
  for (int row = 0; row < r.rows(); ++row) {
    ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json doc, ParseDoc(r.Text(row, 2), "notifications"));
    // The needle may also match inside data or tags.
    if (!HasRecipient(doc, user_id) && !deliveries_of.contains(r.Text(row, 3))) continue;
    ALERTHUB_RETURN_IF_ERROR(each(row, doc));
  }
  return absl::OkStatus();
}

absl::flat_hash_set<std::string> NotificationIdsOf(const std::vector<Delivery>& deliveries) {
  absl::flat_hash_set<std::string> ids;
  for (const Delivery& d : deliveries) ids.insert(d.notification_id);
  return ids;
}

// Runs `body` in one transaction on `c` started with `begin`.
absl::Status InTransaction(Connection& c, absl::string_view begin,
                           absl::FunctionRef<absl::Status()> body) {
  ALERTHUB_RETURN_IF_ERROR(c.Exec(begin));
  absl::Status s = body();
  if (s.ok()) s = c.Exec("COMMIT");
  if (!s.ok() && c.in_transaction() && !c.broken()) c.Exec("ROLLBACK").IgnoreError();
  return s;
}

}  // namespace

absl::StatusOr<UserDataExport> PostgresPrivacyTables::ExportUserData(absl::string_view tenant_id,
                                                                     absl::string_view user_id) {
  const std::string needle = RecipientNeedle(user_id);
  UserDataExport out;
  auto read = [&](Connection& c) -> absl::Status {
    out = UserDataExport();
    {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT u.doc, p.doc, u.password_hash IS NOT NULL FROM users u "
                            "LEFT JOIN preferences p ON p.user_id = u.id "
                            "WHERE u.id = $1 AND u.tenant_id = $2",
                            Params().Text(user_id).Text(tenant_id)));
      if (r.rows() == 0) return NoUser(user_id);
      ALERTHUB_ASSIGN_OR_RETURN(out.user, decode_.user(r.Text(0, 0)));
      if (!r.IsNull(0, 1)) {
        ALERTHUB_ASSIGN_OR_RETURN(out.preferences, decode_.preferences(r.Text(0, 1)));
      }
      out.has_password = r.Bool(0, 2);
    }
    {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query("SELECT family_id, min(issued_at), max(issued_at), "
                            "max(expires_at), max(revoked_at) FROM refresh_tokens "
                            "WHERE user_id = $1 AND tenant_id = $2 "
                            "GROUP BY family_id ORDER BY 2, 1",
                            Params().Text(user_id).Text(tenant_id)));
      for (int row = 0; row < r.rows(); ++row) {
        out.sessions.push_back(LoginSessionInfo{.family_id = std::string(r.Text(row, 0)),
                                                .started_at = r.Time(row, 1),
                                                .last_refreshed_at = r.Time(row, 2),
                                                .expires_at = r.Time(row, 3),
                                                .revoked_at = r.OptTime(row, 4)});
      }
    }
    {
      ALERTHUB_ASSIGN_OR_RETURN(
          Result r, c.Query(absl::StrCat("SELECT ", decode_.delivery_columns,
                                         " FROM deliveries WHERE tenant_id = $1 AND "
                                         "recipient = $2 ORDER BY id"),
                            Params().Text(tenant_id).Text(user_id)));
      for (int row = 0; row < r.rows(); ++row) {
        ALERTHUB_ASSIGN_OR_RETURN(Delivery d, decode_.delivery(r, row));
        out.deliveries.push_back(std::move(d));
      }
    }
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query(kUserNotificationsSql,
                          Params().Text(tenant_id).Text(needle).Text(user_id)));
    return ForUserNotifications(
        r, user_id, NotificationIdsOf(out.deliveries),
        [&](int row, nlohmann::json&) -> absl::Status {
          ALERTHUB_ASSIGN_OR_RETURN(Notification n, decode_.notification(r, row));
          ALERTHUB_ASSIGN_OR_RETURN(
              Result events, c.Query("SELECT doc FROM events WHERE notification_id = $1 "
                                     "AND tenant_id = $2 ORDER BY seq",
                                     Params().Text(n.id).Text(tenant_id)));
          for (int e = 0; e < events.rows(); ++e) {
            ALERTHUB_ASSIGN_OR_RETURN(CloudEvent ev, decode_.event(events.Text(e, 0)));
            out.events.push_back(std::move(ev));
          }
          out.notifications.push_back(std::move(n));
          return absl::OkStatus();
        });
  };
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    return InTransaction(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                         [&] { return read(c); });
  }));
  return out;
}

absl::StatusOr<UserErasure> PostgresPrivacyTables::EraseUser(absl::string_view tenant_id,
                                                             absl::string_view user_id,
                                                             absl::Time at) {
  const std::string needle = RecipientNeedle(user_id);
  UserErasure out;
  ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    out = UserErasure();  // a retried transaction starts over
    auto tenant_user = [&] { return Params().Text(tenant_id).Text(user_id); };
    ALERTHUB_ASSIGN_OR_RETURN(
        Result tokens, c.Query("DELETE FROM refresh_tokens WHERE tenant_id = $1 AND user_id = $2",
                               tenant_user()));
    out.sessions_deleted = tokens.Affected();
    // Their preferences go with them (ON DELETE CASCADE). Nothing was
    // written when they are not the tenant's: the transaction rolls back.
    ALERTHUB_ASSIGN_OR_RETURN(
        Result user, c.Query("DELETE FROM users WHERE tenant_id = $1 AND id = $2", tenant_user()));
    if (user.Affected() == 0) return NoUser(user_id);

    // Every change of a notification's deliveries locks it first.
    ALERTHUB_ASSIGN_OR_RETURN(
        Result notifications,
        c.Query(absl::StrCat(kUserNotificationsSql, " FOR UPDATE"),
                Params().Text(tenant_id).Text(needle).Text(user_id)));

    ALERTHUB_ASSIGN_OR_RETURN(
        Result suppressed,
        c.Query("UPDATE deliveries SET status = $3, last_error = $4, next_attempt_at = NULL, "
                "lease_until = NULL, updated_at = $5 WHERE tenant_id = $1 AND recipient = $2 "
                "AND status IN ($6, $7)",
                tenant_user()
                    .Int(static_cast<int64_t>(DeliveryStatus::kSuppressed))
                    .Text(kRecipientErased)
                    .Int(Micros(at))
                    .Int(static_cast<int64_t>(DeliveryStatus::kPending))
                    .Int(static_cast<int64_t>(DeliveryStatus::kHeld))));
    out.deliveries_suppressed = suppressed.Affected();
    ALERTHUB_ASSIGN_OR_RETURN(
        Result scrubbed,
        c.Query("UPDATE deliveries SET last_error = '' WHERE tenant_id = $1 AND recipient = $2 "
                "AND last_error NOT IN ('', $3)",
                tenant_user().Text(kRecipientErased)));
    out.deliveries_scrubbed = scrubbed.Affected();
    // Their dead letters in the `sql://` queue (tasks are named by delivery id).
    ALERTHUB_RETURN_IF_ERROR(
        c.Query("UPDATE tasks SET last_error = '' WHERE last_error <> '' AND id IN "
                "(SELECT id FROM deliveries WHERE tenant_id = $1 AND recipient = $2)",
                tenant_user())
            .status());

    // The attempt events of their deliveries.
    ALERTHUB_ASSIGN_OR_RETURN(
        Result attempts,
        c.Query("SELECT e.seq, e.doc, d.id FROM deliveries d JOIN events e "
                "ON e.notification_id = d.notification_id AND e.tenant_id = d.tenant_id "
                "WHERE d.tenant_id = $1 AND d.recipient = $2 AND e.type = $3",
                tenant_user().Text(kEventDeliveryAttempt)));
    for (int row = 0; row < attempts.rows(); ++row) {
      ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json e, ParseDoc(attempts.Text(row, 1), "events"));
      if (!e.is_object() || !e.contains("data")) continue;
      nlohmann::json& data = e["data"];
      if (AttemptDeliveryId(data) != attempts.Text(row, 2) || !ScrubAttemptData(data)) continue;
      const std::string doc = e.dump();
      ALERTHUB_RETURN_IF_ERROR(c.Query("UPDATE events SET doc = $2 WHERE seq = $1",
                                       Params().Int(attempts.Int(row, 0)).Text(doc))
                                   .status());
      ++out.events_scrubbed;
    }

    absl::flat_hash_set<std::string> changed;
    ALERTHUB_RETURN_IF_ERROR(ForUserNotifications(
        notifications, user_id, {}, [&](int row, nlohmann::json& doc) -> absl::Status {
          const RecipientErasure e = EraseRecipientFromDoc(doc, user_id);
          if (e == RecipientErasure::kNotRecipient) return absl::OkStatus();
          ++out.notifications_updated;
          if (e == RecipientErasure::kBlanked) ++out.notifications_blanked;
          const std::string text = doc.dump();
          const std::string id(notifications.Text(row, 3));
          ALERTHUB_RETURN_IF_ERROR(c.Query("UPDATE notifications SET doc = $2 WHERE id = $1",
                                           Params().Text(id).Text(text))
                                       .status());
          changed.insert(id);
          return absl::OkStatus();
        }));
    if (changed.empty()) return absl::OkStatus();

    // Their notifications' messages on kTopicCreated, sent or not. No index
    // on key: one scan of the outbox for the whole erasure.
    std::vector<std::string> keys(changed.begin(), changed.end());
    ALERTHUB_ASSIGN_OR_RETURN(
        Result messages, c.Query("SELECT seq, payload FROM outbox WHERE topic = $1 AND "
                                 "key = ANY($2::text[]) AND strpos(payload, $3) > 0",
                                 Params().Text(kTopicCreated).TextArray(keys).Text(needle)));
    for (int row = 0; row < messages.rows(); ++row) {
      ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json m, ParseDoc(messages.Text(row, 1), "outbox"));
      if (!m.is_object() || !m.contains("data")) continue;
      if (EraseRecipientFromDoc(m["data"], user_id) == RecipientErasure::kNotRecipient) continue;
      const std::string payload = m.dump();
      ALERTHUB_RETURN_IF_ERROR(c.Query("UPDATE outbox SET payload = $2 WHERE seq = $1",
                                       Params().Int(messages.Int(row, 0)).Text(payload))
                                   .status());
    }
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace alerthub::postgres_internal
