// CloudEvents 1.0 envelope (structured JSON mode) used on the bus and as the
// history of a notification (`GET /api/v1/notifications/{id}/events`).
//
//   CloudEvent e = MakeNotificationEvent(n, kEventAccepted, "/alerthub/pipeline",
//                                        now, {{"status", "accepted"}});
//   std::string wire = CloudEventToJson(e).dump();
#ifndef ALERTHUB_MODEL_EVENT_H_
#define ALERTHUB_MODEL_EVENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace alerthub {

struct Notification;

// Event types (the CloudEvents `type` attribute).
inline constexpr absl::string_view kEventAccepted = "alerthub.notification.accepted";
inline constexpr absl::string_view kEventRouted = "alerthub.notification.routed";
inline constexpr absl::string_view kEventDeliveryAttempt = "alerthub.delivery.attempted";
inline constexpr absl::string_view kEventDelivered = "alerthub.notification.delivered";
inline constexpr absl::string_view kEventFailed = "alerthub.notification.failed";
inline constexpr absl::string_view kEventSuppressed = "alerthub.notification.suppressed";
inline constexpr absl::string_view kEventCancelled = "alerthub.notification.cancelled";

// Topics of the EventLog (ARCHITECTURE §4).
inline constexpr absl::string_view kTopicCreated = "alerthub.notifications.created";
inline constexpr absl::string_view kTopicDelivered = "alerthub.notifications.delivered";
inline constexpr absl::string_view kTopicFailed = "alerthub.notifications.failed";
inline constexpr absl::string_view kTopicIntegrationEvents = "alerthub.integrations.events";

struct CloudEvent {
  std::string specversion = "1.0";
  std::string id;       // UUIDv7; consumers dedupe on it
  std::string source;   // URI reference of the producer, e.g. "/alerthub/pipeline"
  std::string type;     // one of the kEvent* constants
  std::string subject;  // the notification id
  absl::Time time = absl::InfinitePast();
  std::string datacontenttype = "application/json";
  nlohmann::json data = nlohmann::json::object();
  // Extension attributes.
  std::string tenantid;
  std::string traceparent;  // W3C trace context, empty when unknown
};

// Structured-mode JSON; extensions are omitted when empty.
nlohmann::json CloudEventToJson(const CloudEvent& e);

// Parses structured-mode JSON. kInvalidArgument naming the attribute when a
// required attribute (specversion "1.0", id, source, type) is missing or of
// the wrong type.
absl::StatusOr<CloudEvent> CloudEventFromJson(const nlohmann::json& j);

// A new event about `n` (subject = n.id, tenantid = n.tenant_id) with a fresh
// UUIDv7 id.
CloudEvent MakeNotificationEvent(const Notification& n, absl::string_view type,
                                 absl::string_view source, absl::Time now,
                                 nlohmann::json data,
                                 absl::string_view traceparent = "");

}  // namespace alerthub

#endif  // ALERTHUB_MODEL_EVENT_H_
