// A Delivery: one notification sent through one integration. Created once per
// (notification, integration) by routing; its attempts are events on the
// notification.
#ifndef ALERTHUB_MODEL_DELIVERY_H_
#define ALERTHUB_MODEL_DELIVERY_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// Stored as numbers; never renumbered.
enum class DeliveryStatus : int {
  kPending = 1,    // created, queued or waiting for its next attempt
  kSending = 2,    // claimed by a worker (under a lease)
  kDelivered = 3,  // the provider accepted it
  kFailed = 4,     // permanent failure, dead-lettered
  kHeld = 5,       // waiting for a quiet-hours window or digest
  kSuppressed = 6, // dropped on purpose (rule, preference, throttle)
};

absl::string_view DeliveryStatusName(DeliveryStatus s);
absl::StatusOr<DeliveryStatus> ParseDeliveryStatus(absl::string_view name);

struct Delivery {
  std::string id;               // UUIDv7; also the webhook-id sent on every attempt
  std::string tenant_id;
  std::string notification_id;
  std::string integration_id;
  Channel channel = Channel::kWebhook;
  std::string recipient;        // user id for recipient-targeted channels, else empty
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  std::optional<absl::Time> next_attempt_at;
  std::string last_error;
  // Set when the delivery is held for a digest (a rule's `digest` action):
  // "<rule id>/<group key>". Deliveries of one tenant, integration and
  // recipient with the same digest_key are sent together, as one summary
  // (ports/store.h, "Digests"). Empty otherwise.
  std::string digest_key;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
};

// How a notification's deliveries stand, for AggregateNotificationStatus.
struct DeliveryTally {
  int not_started = 0;  // pending or held, never attempted
  int in_progress = 0;  // sending, or pending/held after an attempt
  int delivered = 0;
  int failed = 0;
  int suppressed = 0;
};

// Adds one delivery to the tally.
void CountDelivery(const Delivery& d, DeliveryTally* tally);

// A notification's status from its deliveries (suppressed ones aside):
//   some not finished -> delivering once any was attempted, else routed;
//   all finished      -> delivered, failed, or partially_delivered;
//   none but suppressed ones -> suppressed;
//   no deliveries, or `current` is cancelled -> `current`.
NotificationStatus AggregateNotificationStatus(NotificationStatus current,
                                               const DeliveryTally& tally);

// For a status reached through deliveries: the event type and topic that
// announce it (kEventDelivered on kTopicDelivered for delivered and
// partially_delivered, kEventFailed on kTopicFailed for failed); nullopt
// for any other status.
struct OutcomeAnnouncement {
  absl::string_view event_type;
  absl::string_view topic;
};
std::optional<OutcomeAnnouncement> AnnouncementFor(NotificationStatus status);

nlohmann::json DeliveryToJson(const Delivery& d);
absl::StatusOr<Delivery> DeliveryFromJson(const nlohmann::json& j);

}  // namespace alerthub

#endif  // ALERTHUB_MODEL_DELIVERY_H_
