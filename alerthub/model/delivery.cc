#include "alerthub/model/delivery.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/model/event.h"
#include "alerthub/model/internal/validation.h"

namespace alerthub {
namespace {

constexpr absl::string_view kStatusNames[] = {
    "pending", "sending", "delivered", "failed", "held", "suppressed"};
constexpr absl::string_view kStatusRule =
    "must be one of pending, sending, delivered, failed, held, suppressed";

}  // namespace

absl::string_view DeliveryStatusName(DeliveryStatus s) {
  int v = static_cast<int>(s);
  if (v < 1 || v > 6) return "unknown";
  return kStatusNames[v - 1];
}

absl::StatusOr<DeliveryStatus> ParseDeliveryStatus(absl::string_view name) {
  for (int i = 0; i < 6; ++i) {
    if (name == kStatusNames[i]) return static_cast<DeliveryStatus>(i + 1);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown delivery status \"", name, "\"; ", kStatusRule));
}

void CountDelivery(const Delivery& d, DeliveryTally* tally) {
  switch (d.status) {
    case DeliveryStatus::kPending:
    case DeliveryStatus::kHeld:
      (d.attempts > 0 ? tally->in_progress : tally->not_started)++;
      break;
    case DeliveryStatus::kSending:
      tally->in_progress++;
      break;
    case DeliveryStatus::kDelivered:
      tally->delivered++;
      break;
    case DeliveryStatus::kFailed:
      tally->failed++;
      break;
    case DeliveryStatus::kSuppressed:
      tally->suppressed++;
      break;
  }
}

NotificationStatus AggregateNotificationStatus(NotificationStatus current,
                                               const DeliveryTally& t) {
  if (current == NotificationStatus::kCancelled) return current;
  const int unfinished = t.not_started + t.in_progress;
  const int finished = t.delivered + t.failed;
  if (unfinished + finished == 0) {
    return t.suppressed > 0 ? NotificationStatus::kSuppressed : current;
  }
  if (unfinished > 0) {
    return t.in_progress > 0 || finished > 0 ? NotificationStatus::kDelivering
                                             : NotificationStatus::kRouted;
  }
  if (t.failed == 0) return NotificationStatus::kDelivered;
  if (t.delivered == 0) return NotificationStatus::kFailed;
  return NotificationStatus::kPartiallyDelivered;
}

std::optional<OutcomeAnnouncement> AnnouncementFor(NotificationStatus status) {
  switch (status) {
    case NotificationStatus::kDelivered:
    case NotificationStatus::kPartiallyDelivered:
      return OutcomeAnnouncement{kEventDelivered, kTopicDelivered};
    case NotificationStatus::kFailed:
      return OutcomeAnnouncement{kEventFailed, kTopicFailed};
    default:
      return std::nullopt;
  }
}

nlohmann::json DeliveryToJson(const Delivery& d) {
  nlohmann::json j = {
      {"id", d.id},
      {"tenant_id", d.tenant_id},
      {"notification_id", d.notification_id},
      {"integration_id", d.integration_id},
      {"channel", std::string(ChannelName(d.channel))},
      {"status", std::string(DeliveryStatusName(d.status))},
      {"attempts", d.attempts},
  };
  if (!d.recipient.empty()) j["recipient"] = d.recipient;
  if (d.next_attempt_at.has_value()) {
    model_internal::PutTime(j, "next_attempt_at", *d.next_attempt_at);
  }
  if (!d.last_error.empty()) j["last_error"] = d.last_error;
  if (!d.digest_key.empty()) j["digest_key"] = d.digest_key;
  model_internal::PutTime(j, "created_at", d.created_at);
  model_internal::PutTime(j, "updated_at", d.updated_at);
  return j;
}

absl::StatusOr<Delivery> DeliveryFromJson(const nlohmann::json& j) {
  model_internal::FieldErrorList errors;
  model_internal::RecordReader r(j, "", &errors);
  Delivery d;
  r.String("id", &d.id, /*required=*/true);
  r.String("tenant_id", &d.tenant_id, /*required=*/true);
  r.String("notification_id", &d.notification_id, /*required=*/true);
  r.String("integration_id", &d.integration_id, /*required=*/true);
  if (const nlohmann::json* v = r.Find("channel", /*required=*/true)) {
    absl::StatusOr<Channel> c = ParseChannel(model_internal::StringOrEmpty(*v));
    if (c.ok()) {
      d.channel = *c;
    } else {
      r.Fail("channel", model_internal::kChannelRule);
    }
  }
  r.String("recipient", &d.recipient);
  if (const nlohmann::json* v = r.Find("status", /*required=*/true)) {
    absl::StatusOr<DeliveryStatus> s =
        ParseDeliveryStatus(model_internal::StringOrEmpty(*v));
    if (s.ok()) {
      d.status = *s;
    } else {
      r.Fail("status", kStatusRule);
    }
  }
  r.Int("attempts", &d.attempts, /*required=*/true);
  r.OptionalTime("next_attempt_at", &d.next_attempt_at);
  r.String("last_error", &d.last_error);
  r.String("digest_key", &d.digest_key);
  r.Time("created_at", &d.created_at);
  r.Time("updated_at", &d.updated_at);
  ALERTHUB_RETURN_IF_ERROR(
      std::move(errors).ToStatus("invalid delivery record"));
  return d;
}

}  // namespace alerthub
