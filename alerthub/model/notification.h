// The Notification: what a tenant asks AlertHub to deliver, plus the state
// AlertHub keeps about it. The same struct is the request (server-assigned
// fields empty) and the stored record.
//
//   absl::StatusOr<Notification> n = NotificationFromRequestJson(
//       nlohmann::json::parse(R"({"type": "deploy.finished", "title": "v2 is live"})"),
//       absl::Now());
//   if (!n.ok()) { /* FieldErrorsOf(n.status()) names each bad field */ }
//   nlohmann::json wire = NotificationToJson(*n);
//
// Wire shape (ARCHITECTURE §4): type (required, [a-z0-9._-]{1,128}), title,
// body, priority (min|low|normal|high|critical or 1-5, default normal), data
// (object), tags (string map), recipients (user ids), channels or
// integration_ids (explicit targets), template, dedup_key, scheduled_at.
// Unknown fields are rejected, so a misspelt field never passes silently.
#ifndef ALERTHUB_MODEL_NOTIFICATION_H_
#define ALERTHUB_MODEL_NOTIFICATION_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// Stored and sent as numbers 1-5 and as names; never renumbered.
enum class Priority : int {
  kMin = 1,
  kLow = 2,
  kNormal = 3,
  kHigh = 4,
  kCritical = 5,
};

// "min", "low", "normal", "high", "critical".
absl::string_view PriorityName(Priority p);
// Accepts a name (case-sensitive, lowercase) or an integer 1-5 given as a
// JSON number or a numeric string; kInvalidArgument otherwise.
absl::StatusOr<Priority> ParsePriority(const nlohmann::json& value);

// Lifecycle: accepted -> routed -> delivering -> delivered |
// partially_delivered | failed | suppressed; cancelled before routing.
// Stored as numbers; never renumbered.
enum class NotificationStatus : int {
  kAccepted = 1,
  kRouted = 2,
  kDelivering = 3,
  kDelivered = 4,
  kPartiallyDelivered = 5,
  kFailed = 6,
  kSuppressed = 7,
  kCancelled = 8,
};

absl::string_view NotificationStatusName(NotificationStatus s);
// kInvalidArgument naming the accepted values when `name` is unknown.
absl::StatusOr<NotificationStatus> ParseNotificationStatus(absl::string_view name);
// True for delivered, partially_delivered, failed, suppressed and cancelled.
bool IsTerminal(NotificationStatus s);

// Delivery channels. Stored as numbers; never renumbered.
enum class Channel : int {
  kWebhook = 1,
  kSlack = 2,
  kDiscord = 3,
  kEmail = 4,
  kPush = 5,
};

absl::string_view ChannelName(Channel c);
absl::StatusOr<Channel> ParseChannel(absl::string_view name);

// Validation limits, named in the error messages they cause.
struct NotificationLimits {
  static constexpr size_t kMaxTypeLength = 128;
  static constexpr size_t kMaxTitleLength = 256;        // characters
  static constexpr size_t kMaxBodyLength = 16 * 1024;   // characters
  static constexpr size_t kMaxDataBytes = 64 * 1024;    // serialized JSON
  static constexpr int kMaxDataDepth = 16;
  static constexpr size_t kMaxTags = 64;
  static constexpr size_t kMaxTagKeyLength = 64;
  static constexpr size_t kMaxTagValueLength = 256;
  static constexpr size_t kMaxRecipients = 1000;
  static constexpr size_t kMaxRecipientLength = 256;
  static constexpr size_t kMaxIntegrationIds = 50;
  static constexpr size_t kMaxTemplateLength = 128;
  static constexpr size_t kMaxDedupKeyLength = 256;
  static constexpr absl::Duration kMaxScheduleAhead = absl::Hours(24 * 30);
};

struct Notification {
  // Assigned by AlertHub.
  std::string id;         // UUIDv7
  std::string tenant_id;  // from the credential, never from the body
  NotificationStatus status = NotificationStatus::kAccepted;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();

  // Given by the submitter.
  std::string type;
  std::string title;
  std::string body;
  Priority priority = Priority::kNormal;
  nlohmann::json data = nlohmann::json::object();
  std::map<std::string, std::string> tags;
  std::vector<std::string> recipients;
  std::vector<Channel> channels;
  std::vector<std::string> integration_ids;
  std::string template_name;  // "template" on the wire
  std::string dedup_key;
  std::optional<absl::Time> scheduled_at;
};

// Checks the submitter's fields of `n` against the rules above, collecting
// every broken rule: kInvalidArgument with one FieldError per field (see
// common/status.h), OK otherwise. `now` bounds `scheduled_at` (at most 30 days
// ahead; a past time means "now" and is accepted).
absl::Status ValidateNotification(const Notification& n, absl::Time now);

// Checks an Idempotency-Key (which becomes the submission's dedup_key when
// it has none, and travels in an HTTP header): 1-256 printable ASCII
// characters. kInvalidArgument with the field "Idempotency-Key" otherwise.
absl::Status ValidateIdempotencyKey(absl::string_view key);

// The dedup key an Idempotency-Key gives the item at `position` of a batch
// (its index in the caller's list, whichever items were left out):
// "<key>#<position>".
std::string BatchItemDedupKey(absl::string_view idempotency_key, size_t position);

// Parses a submitted request body (a JSON object) and validates it. Unknown
// fields and server-assigned fields (id, status, ...) are field errors.
absl::StatusOr<Notification> NotificationFromRequestJson(const nlohmann::json& j,
                                                         absl::Time now);

// The full record: the request fields plus id, tenant_id, status, created_at,
// updated_at. Empty optional fields are omitted.
nlohmann::json NotificationToJson(const Notification& n);

// Reads what NotificationToJson() wrote (stores use it). Lenient about
// missing optional fields; kInvalidArgument when the shape is wrong.
absl::StatusOr<Notification> NotificationFromJson(const nlohmann::json& j);

}  // namespace alerthub

#endif  // ALERTHUB_MODEL_NOTIFICATION_H_
