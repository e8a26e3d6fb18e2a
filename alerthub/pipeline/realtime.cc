#include "alerthub/pipeline/realtime.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/common/time.h"
#include "nlohmann/json.hpp"

namespace alerthub {

std::string UpdatesChannel(absl::string_view tenant_id) {
  return absl::StrCat("alerthub.updates.", tenant_id);
}

std::string StatusUpdateToJson(const StatusUpdate& u) {
  nlohmann::json j = {
      {"type", "notification.updated"},
      {"id", u.id},
      {"status", std::string(NotificationStatusName(u.status))},
      {"at", FormatRfc3339(u.at)},
      {"notification_type", u.notification_type},
      {"priority", std::string(PriorityName(u.priority))},
  };
  return j.dump();
}

absl::StatusOr<StatusUpdate> StatusUpdateFromJson(absl::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("type", "") != "notification.updated" ||
      !j.contains("id") || !j["id"].is_string() || !j.contains("status") ||
      !j["status"].is_string()) {
    return absl::InvalidArgumentError("not a notification.updated message");
  }
  StatusUpdate u;
  u.id = j["id"].get<std::string>();
  absl::StatusOr<NotificationStatus> status =
      ParseNotificationStatus(j["status"].get<std::string>());
  if (!status.ok()) return status.status();
  u.status = *status;
  if (j.contains("at") && j["at"].is_string()) {
    absl::StatusOr<absl::Time> at = ParseRfc3339(j["at"].get<std::string>());
    if (at.ok()) u.at = *at;
  }
  u.notification_type = j.value("notification_type", "");
  if (j.contains("priority")) {
    absl::StatusOr<Priority> p = ParsePriority(j["priority"]);
    if (p.ok()) u.priority = *p;
  }
  return u;
}

KvWrite StatusUpdateWrite(absl::string_view tenant_id, const StatusUpdate& u) {
  return KvWrite::Publish(UpdatesChannel(tenant_id), StatusUpdateToJson(u));
}

void PublishStatusUpdate(Kv* kv, absl::string_view tenant_id, const StatusUpdate& u) {
  std::vector<KvWrite> writes;
  writes.push_back(StatusUpdateWrite(tenant_id, u));
  kv->WriteBehind(std::move(writes));
}

}  // namespace alerthub
