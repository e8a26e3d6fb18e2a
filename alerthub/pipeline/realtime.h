// Realtime status updates: every change of a notification's status is
// published on the tenant's Kv pub/sub channel, where WebSocket sessions and
// Client::Watch pick it up (ARCHITECTURE §3 step 5). Fire and forget: the
// store holds the truth; a watcher that misses an update can read it back.
//
// Wire form (also the WebSocket message):
//   {"type": "notification.updated", "id": "...", "status": "accepted",
//    "at": "2026-11-27T03:35:38.123456Z", "notification_type": "deploy.done",
//    "priority": "high"}
#ifndef ALERTHUB_PIPELINE_REALTIME_H_
#define ALERTHUB_PIPELINE_REALTIME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "alerthub/ports/kv.h"

namespace alerthub {

struct StatusUpdate {
  std::string id;                 // notification id
  NotificationStatus status = NotificationStatus::kAccepted;
  absl::Time at = absl::InfinitePast();
  std::string notification_type;  // the notification's `type`
  Priority priority = Priority::kNormal;
};

// The Kv channel carrying `tenant_id`'s updates.
std::string UpdatesChannel(absl::string_view tenant_id);

std::string StatusUpdateToJson(const StatusUpdate& u);
// kInvalidArgument when `json` is not a status update.
absl::StatusOr<StatusUpdate> StatusUpdateFromJson(absl::string_view json);

// The publish of `u` on the tenant's channel, for Kv::WriteBehind.
KvWrite StatusUpdateWrite(absl::string_view tenant_id, const StatusUpdate& u);

// Publishes `u` on the tenant's channel without waiting for the Kv
// (Kv::WriteBehind); errors are ignored (best effort).
void PublishStatusUpdate(Kv* kv, absl::string_view tenant_id, const StatusUpdate& u);

}  // namespace alerthub

#endif  // ALERTHUB_PIPELINE_REALTIME_H_
