#include "alerthub/admin/user_privacy.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "alerthub/model/delivery.h"
#include "alerthub/model/event.h"
#include "alerthub/ports/audit.h"

namespace alerthub {
namespace {

using Json = nlohmann::json;

// Audit pages are read whole: the records about one user are few.
constexpr int kAuditPage = 500;

Json SessionToJson(const LoginSessionInfo& s) {
  Json j = {{"id", s.family_id},
            {"started_at", FormatRfc3339(s.started_at)},
            {"last_refreshed_at", FormatRfc3339(s.last_refreshed_at)},
            {"expires_at", FormatRfc3339(s.expires_at)}};
  if (s.revoked_at.has_value()) j["revoked_at"] = FormatRfc3339(*s.revoked_at);
  return j;
}

// The notification as the user may see it: the other recipients are
// counted, not named.
Json NotificationForUser(const Notification& n, absl::string_view user_id) {
  Json j = NotificationToJson(n);
  size_t others = 0;
  bool listed = false;
  for (const std::string& r : n.recipients) {
    if (r == user_id) {
      listed = true;
    } else {
      ++others;
    }
  }
  j.erase("recipients");
  if (listed) j["recipients"] = Json::array({std::string(user_id)});
  if (others > 0) j["other_recipients"] = others;
  return j;
}

// Removes the entries of `list` (an array of objects with "recipient")
// that name someone else.
void KeepOwnEntries(Json& list, absl::string_view user_id) {
  if (!list.is_array()) return;
  Json kept = Json::array();
  for (Json& entry : list) {
    auto r = entry.is_object() ? entry.find("recipient") : entry.end();
    if (entry.is_object() && r != entry.end() && r->is_string() &&
        r->get_ref<const std::string&>() != user_id) {
      continue;
    }
    kept.push_back(std::move(entry));
  }
  list = std::move(kept);
}

// The event as the user may see it, or null when it is about another
// recipient's delivery: attempts of others' deliveries are left out, and a
// routing decision keeps only the targets that are the user's (or nobody's).
Json EventForUser(CloudEvent e, absl::string_view user_id,
                  const absl::flat_hash_set<std::string>& own_deliveries) {
  if (e.type == kEventDeliveryAttempt) {
    auto d = e.data.is_object() ? e.data.find("delivery_id") : e.data.end();
    if (e.data.is_object() && d != e.data.end() && d->is_string() &&
        !own_deliveries.contains(d->get_ref<const std::string&>())) {
      return nullptr;
    }
  }
  if (e.type == kEventRouted && e.data.is_object()) {
    for (const char* list : {"deliveries", "dropped_recipients"}) {
      if (e.data.contains(list)) KeepOwnEntries(e.data[list], user_id);
    }
  }
  return CloudEventToJson(e);
}

}  // namespace

absl::StatusOr<nlohmann::json> UserPrivacy::Export(const Principal& who,
                                                   absl::string_view user_id) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kManageTenant));
  const absl::Time now = clock_->Now();
  ALERTHUB_ASSIGN_OR_RETURN(UserDataExport data, store_->ExportUserData(who.tenant_id, user_id));

  Json sessions = Json::array();
  for (const LoginSessionInfo& s : data.sessions) sessions.push_back(SessionToJson(s));
  Json notifications = Json::array();
  for (const Notification& n : data.notifications) {
    notifications.push_back(NotificationForUser(n, user_id));
  }
  Json deliveries = Json::array();
  absl::flat_hash_set<std::string> own;
  for (const Delivery& d : data.deliveries) {
    deliveries.push_back(DeliveryToJson(d));
    own.insert(d.id);
  }
  Json events = Json::array();
  for (CloudEvent& e : data.events) {
    Json j = EventForUser(std::move(e), user_id, own);
    if (!j.is_null()) events.push_back(std::move(j));
  }
  Json audit = Json::array();
  PageRequest page{.cursor = "", .limit = kAuditPage};
  while (true) {
    AuditFilter filter;
    filter.target = std::string(user_id);
    ALERTHUB_ASSIGN_OR_RETURN(Page<AuditRecord> records,
                              store_->ListAuditRecords(who.tenant_id, filter, page));
    for (const AuditRecord& r : records.items) audit.push_back(AuditRecordToJson(r));
    if (!records.has_more || records.items.empty()) break;
    page.cursor = records.items.back().id;
  }

  return Json{{"exported_at", FormatRfc3339(now)},
              {"user", UserToJson(data.user)},
              {"preferences", PreferencesToJson(data.preferences)},
              {"has_password", data.has_password},
              {"sessions", std::move(sessions)},
              {"notifications", std::move(notifications)},
              {"deliveries", std::move(deliveries)},
              {"events", std::move(events)},
              {"audit_records", std::move(audit)}};
}

absl::Status UserPrivacy::Erase(const Principal& who, absl::string_view user_id) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kManageTenant));
  // What the audit record keeps of the user: no personal data beyond ids.
  ALERTHUB_ASSIGN_OR_RETURN(User user, store_->GetUser(who.tenant_id, user_id));
  AuditScope::Describe(user.id, Json{{"id", user.id}, {"role", std::string(RoleName(user.role))}},
                       nullptr);
  return store_->EraseUser(who.tenant_id, user_id, clock_->Now()).status();
}

}  // namespace alerthub
