// Users of a tenant, where each channel reaches them, and what they want to
// receive (Preferences). Routing reads both: a notification's `recipients`
// are user ids.
//
//   absl::StatusOr<User> u = UserFromRequestJson(nlohmann::json::parse(R"({
//       "email": "ada@example.com", "name": "Ada", "role": "admin",
//       "addresses": {"slack_user_id": "U024BE7LH"}})"));
//   absl::StatusOr<Preferences> p = PreferencesFromRequestJson(
//       nlohmann::json::parse(R"({"opt_out_types": ["marketing.*"],
//           "time_zone": "Europe/Berlin",
//           "quiet_hours": [{"days": ["mon", "tue", "wed", "thu", "fri"],
//                            "start": "22:00", "end": "07:00"}]})"));
//
// Wire shape of a user: {"email", "name", "role", "addresses": {"email",
// "fcm_tokens": [...], "slack_user_id", "discord_user_id"}}; id, tenant_id
// and created_at are assigned by AlertHub. Preferences: {"opt_out_channels",
// "opt_out_types", "min_priority", "time_zone", "quiet_hours"}. Unknown
// fields are rejected.
#ifndef ALERTHUB_MODEL_USER_H_
#define ALERTHUB_MODEL_USER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/tenant.h"
#include "nlohmann/json.hpp"

namespace alerthub {

struct UserLimits {
  static constexpr size_t kMaxNameLength = 256;  // characters
  static constexpr size_t kMaxFcmTokens = 20;
  static constexpr size_t kMaxFcmTokenLength = 4096;
  static constexpr size_t kMaxChatIdLength = 64;  // Slack and Discord ids
  static constexpr size_t kMaxOptOutTypes = 64;
  static constexpr size_t kMaxTypeGlobLength = 128;
  static constexpr size_t kMaxQuietHours = 28;
};

// Where each channel reaches a user. Empty means "not reachable there"
// (except `email`, which falls back to User::email).
struct ChannelAddresses {
  std::string email;
  std::vector<std::string> fcm_tokens;  // push device registration tokens
  std::string slack_user_id;            // "U024BE7LH"
  std::string discord_user_id;          // a snowflake, digits only
};

struct User {
  std::string id;         // UUIDv7
  std::string tenant_id;  // from the credential, never from the body
  std::string email;      // required; identifies the user within the tenant
  std::string name;       // for people; may be empty
  Role role = Role::kMember;
  ChannelAddresses addresses;
  absl::Time created_at = absl::InfinitePast();
};

// Parses a create/replace request body. kInvalidArgument with one FieldError
// per broken rule ("email", "addresses.fcm_tokens[1]", ...).
absl::StatusOr<User> UserFromRequestJson(const nlohmann::json& j);

// The full record; empty optional fields are omitted.
nlohmann::json UserToJson(const User& u);

// Reads what UserToJson() wrote (stores use it); the request rules apply,
// server-assigned fields are read and unknown fields ignored.
absl::StatusOr<User> UserFromJson(const nlohmann::json& j);

// A weekly window in the user's time zone during which deliveries are held.
// It starts on each of `days` at `start_minute` and ends at `end_minute` the
// same day, or the next day when end_minute < start_minute ("22:00" to
// "07:00").
struct QuietHours {
  std::vector<absl::Weekday> days;  // "mon".."sun" on the wire; no repeats
  int start_minute = 0;             // minutes after midnight; "HH:MM"
  int end_minute = 0;               // != start_minute; "HH:MM"
};

struct Preferences {
  std::vector<Channel> opt_out_channels;   // never deliver on these
  std::vector<std::string> opt_out_types;  // type globs, '*' any run
  Priority min_priority = Priority::kMin;  // drop anything below
  std::string time_zone = "UTC";           // IANA name, for quiet_hours
  std::vector<QuietHours> quiet_hours;
};

// Parses an UpdatePreferences body (a full replacement; absent fields take
// the defaults above). The time zone is checked with absl::LoadTimeZone.
absl::StatusOr<Preferences> PreferencesFromRequestJson(const nlohmann::json& j);

// Every field, quiet hours as "HH:MM" and day names.
nlohmann::json PreferencesToJson(const Preferences& p);

// Reads what PreferencesToJson() wrote; unknown fields are ignored.
absl::StatusOr<Preferences> PreferencesFromJson(const nlohmann::json& j);

}  // namespace alerthub

#endif  // ALERTHUB_MODEL_USER_H_
