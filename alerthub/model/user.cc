#include "alerthub/model/user.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "alerthub/common/status.h"
#include "alerthub/model/internal/validation.h"

namespace alerthub {
namespace {

using model_internal::FieldErrorList;
using model_internal::IndexPath;
using model_internal::Json;
using model_internal::ParseMode;
using model_internal::Path;
using model_internal::RequestObject;

constexpr absl::string_view kEmailRule = "must be an e-mail address";
constexpr absl::string_view kRoleRule =
    "must be one of owner, admin, member, viewer";
constexpr absl::string_view kSlackIdRule = "must be 1-64 letters and digits";
constexpr absl::string_view kDiscordIdRule = "must be 1-64 digits";
constexpr absl::string_view kTypeGlobRule =
    "must be a type or a glob of a-z, 0-9, '.', '_', '-' and '*'";
constexpr absl::string_view kTimeZoneRule =
    "must be an IANA time zone name such as Europe/Berlin";
constexpr absl::string_view kDayRule =
    "must be one of mon, tue, wed, thu, fri, sat, sun";
constexpr absl::string_view kTimeOfDayRule =
    "must be a time of day from 00:00 to 23:59";

// absl::Weekday order: monday first.
constexpr absl::string_view kDayNames[] = {"mon", "tue", "wed", "thu",
                                           "fri", "sat", "sun"};

enum UserField : size_t {
  kEmail,
  kName,
  kRole,
  kAddresses,
  kId,
  kTenantId,
  kCreatedAt
};
constexpr absl::string_view kUserFields[] = {
    "email", "name", "role", "addresses", "id", "tenant_id", "created_at"};
static_assert(std::size(kUserFields) == kCreatedAt + 1);
constexpr size_t kUserAssigned = 3;

enum AddressField : size_t {
  kAddrEmail,
  kFcmTokens,
  kSlackUserId,
  kDiscordUserId
};
constexpr absl::string_view kAddressFields[] = {
    "email", "fcm_tokens", "slack_user_id", "discord_user_id"};
static_assert(std::size(kAddressFields) == kDiscordUserId + 1);

enum PreferenceField : size_t {
  kOptOutChannels,
  kOptOutTypes,
  kMinPriority,
  kTimeZone,
  kQuietHours
};
constexpr absl::string_view kPreferenceFields[] = {
    "opt_out_channels", "opt_out_types", "min_priority", "time_zone",
    "quiet_hours"};
static_assert(std::size(kPreferenceFields) == kQuietHours + 1);

enum WindowField : size_t { kDays, kStart, kEnd };
constexpr absl::string_view kWindowFields[] = {"days", "start", "end"};
static_assert(std::size(kWindowFields) == kEnd + 1);

template <typename Pred>
bool AllChars(absl::string_view s, size_t max_len, Pred pred) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (!pred(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void ParseEmail(const Json& v, absl::string_view path, std::string* out,
                FieldErrorList* errors) {
  const std::string* s = model_internal::GetString(v, path, errors);
  if (s == nullptr) return;
  if (!model_internal::IsEmailAddress(*s)) {
    errors->Add(std::string(path), kEmailRule);
    return;
  }
  *out = *s;
}

// A Slack (letters and digits) or Discord (digits) id.
void ParseChatId(const Json& v, absl::string_view path, bool digits_only,
                 std::string* out, FieldErrorList* errors) {
  const std::string* s = model_internal::GetString(v, path, errors);
  if (s == nullptr) return;
  bool ok = AllChars(*s, UserLimits::kMaxChatIdLength, [&](unsigned char c) {
    return digits_only ? absl::ascii_isdigit(c) : absl::ascii_isalnum(c);
  });
  if (!ok) {
    errors->Add(std::string(path), digits_only ? kDiscordIdRule : kSlackIdRule);
    return;
  }
  *out = *s;
}

void ParseAddresses(const Json& v, ParseMode mode, ChannelAddresses* out,
                    FieldErrorList* errors) {
  if (!v.is_object()) {
    errors->Add("addresses", model_internal::kMustBeObject);
    return;
  }
  RequestObject obj(v, kAddressFields, 0, "addresses", mode, errors);
  if (const Json* e = obj.Get(kAddrEmail)) {
    ParseEmail(*e, "addresses.email", &out->email, errors);
  }
  if (const Json* t = obj.Get(kFcmTokens)) {
    model_internal::ParseTextList(
        *t, "addresses.fcm_tokens", UserLimits::kMaxFcmTokens,
        UserLimits::kMaxFcmTokenLength, &out->fcm_tokens, errors);
  }
  if (const Json* s = obj.Get(kSlackUserId)) {
    ParseChatId(*s, "addresses.slack_user_id", false, &out->slack_user_id,
                errors);
  }
  if (const Json* d = obj.Get(kDiscordUserId)) {
    ParseChatId(*d, "addresses.discord_user_id", true, &out->discord_user_id,
                errors);
  }
}

absl::StatusOr<User> ParseUser(const Json& j, ParseMode mode) {
  const absl::string_view what =
      mode == ParseMode::kRequest ? "invalid user" : "invalid user record";
  if (!j.is_object()) {
    return InvalidArgumentWithFields(
        what, {{"", std::string(model_internal::kNotAnObject)}});
  }
  FieldErrorList errors;
  RequestObject obj(j, kUserFields, kUserAssigned, "", mode, &errors);
  User u;
  if (const Json* v = obj.Get(kEmail)) {
    ParseEmail(*v, "email", &u.email, &errors);
  } else {
    errors.Add("email", model_internal::kRequired);
  }
  if (const Json* v = obj.Get(kName)) {
    model_internal::ParseText(*v, "name", UserLimits::kMaxNameLength, true,
                              &u.name, &errors);
  }
  if (const Json* v = obj.Get(kRole)) {
    absl::StatusOr<Role> role = ParseRole(model_internal::StringOrEmpty(*v));
    if (role.ok()) {
      u.role = *role;
    } else {
      errors.Add("role", kRoleRule);
    }
  }
  if (const Json* v = obj.Get(kAddresses)) {
    ParseAddresses(*v, mode, &u.addresses, &errors);
  }
  if (mode == ParseMode::kRecord) {
    model_internal::ParseRequiredString(obj.Get(kId), "id", &u.id, &errors);
    model_internal::ParseRequiredString(obj.Get(kTenantId), "tenant_id",
                                        &u.tenant_id, &errors);
    model_internal::ParseOptionalTime(obj.Get(kCreatedAt), "created_at",
                                      &u.created_at, &errors);
  }
  ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus(what));
  return u;
}

// "HH:MM" -> minutes after midnight.
std::optional<int> ParseTimeOfDay(absl::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      return std::nullopt;
    }
  }
  int hours = (s[0] - '0') * 10 + (s[1] - '0');
  int minutes = (s[3] - '0') * 10 + (s[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

std::string FormatTimeOfDay(int minutes) {
  return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60);
}

// IANA names are ASCII letters, digits and "/_+-" ("America/Port-au-Prince",
// "Etc/GMT+5"); checked before absl::LoadTimeZone sees them so no name can
// walk out of the zoneinfo directory.
bool LoadIanaTimeZone(absl::string_view name) {
  if (name == "localtime" || name.empty() || name[0] == '/') return false;
  bool ok = AllChars(name, 64, [](unsigned char c) {
    return absl::ascii_isalnum(c) || c == '/' || c == '_' || c == '+' ||
           c == '-';
  });
  absl::TimeZone tz;
  return ok && absl::LoadTimeZone(name, &tz);
}

void ParseQuietHours(const Json& v, absl::string_view path, ParseMode mode,
                     QuietHours* out, FieldErrorList* errors) {
  if (!v.is_object()) {
    errors->Add(std::string(path), model_internal::kMustBeObject);
    return;
  }
  RequestObject obj(v, kWindowFields, 0, path, mode, errors);
  if (const Json* days = obj.Get(kDays)) {
    std::string days_path = Path(path, "days");
    if (!days->is_array()) {
      errors->Add(days_path, model_internal::kMustBeStringArray);
    } else if (days->empty()) {
      errors->Add(days_path, "must list at least one day");
    } else {
      uint32_t seen = 0;
      for (size_t i = 0; i < days->size(); ++i) {
        absl::string_view name = model_internal::StringOrEmpty((*days)[i]);
        size_t d = 0;
        while (d < 7 && kDayNames[d] != name) ++d;
        if (d == 7) {
          errors->Add(IndexPath(days_path, i), kDayRule);
        } else if (seen & (1u << d)) {
          errors->Add(IndexPath(days_path, i), model_internal::kDuplicate);
        } else {
          seen |= 1u << d;
          out->days.push_back(static_cast<absl::Weekday>(d));
        }
      }
    }
  } else {
    errors->Add(Path(path, "days"), model_internal::kRequired);
  }
  bool times_ok = true;
  for (auto [index, minute] : {std::pair{kStart, &out->start_minute},
                               std::pair{kEnd, &out->end_minute}}) {
    std::string field = Path(path, kWindowFields[index]);
    const Json* t = obj.Get(index);
    if (t == nullptr) {
      errors->Add(field, model_internal::kRequired);
      times_ok = false;
      continue;
    }
    const std::string* s = model_internal::GetString(*t, field, errors);
    std::optional<int> m = s ? ParseTimeOfDay(*s) : std::nullopt;
    if (!m.has_value()) {
      if (s != nullptr) errors->Add(field, kTimeOfDayRule);
      times_ok = false;
      continue;
    }
    *minute = *m;
  }
  if (times_ok && out->start_minute == out->end_minute) {
    errors->Add(Path(path, "end"), "must differ from start");
  }
}

absl::StatusOr<Preferences> ParsePreferences(const Json& j, ParseMode mode) {
  const absl::string_view what = mode == ParseMode::kRequest
                                     ? "invalid preferences"
                                     : "invalid preferences record";
  if (!j.is_object()) {
    return InvalidArgumentWithFields(
        what, {{"", std::string(model_internal::kNotAnObject)}});
  }
  FieldErrorList errors;
  RequestObject obj(j, kPreferenceFields, 0, "", mode, &errors);
  Preferences p;
  if (const Json* v = obj.Get(kOptOutChannels)) {
    model_internal::ParseChannelList(*v, "opt_out_channels",
                                     &p.opt_out_channels, &errors);
  }
  if (const Json* v = obj.Get(kOptOutTypes)) {
    if (!v->is_array()) {
      errors.Add("opt_out_types", model_internal::kMustBeStringArray);
    } else {
      if (v->size() > UserLimits::kMaxOptOutTypes) {
        errors.Add("opt_out_types",
                   model_internal::CountRule(UserLimits::kMaxOptOutTypes));
      }
      for (size_t i = 0; i < v->size(); ++i) {
        std::string field = IndexPath("opt_out_types", i);
        const std::string* s =
            model_internal::GetString((*v)[i], field, &errors);
        if (s == nullptr) continue;
        if (!model_internal::IsTypeGlob(*s, UserLimits::kMaxTypeGlobLength)) {
          errors.Add(field, kTypeGlobRule);
        } else if (std::find(p.opt_out_types.begin(), p.opt_out_types.end(),
                             *s) != p.opt_out_types.end()) {
          errors.Add(field, model_internal::kDuplicate);
        } else {
          p.opt_out_types.push_back(*s);
        }
      }
    }
  }
  if (const Json* v = obj.Get(kMinPriority)) {
    if (std::optional<Priority> pr =
            model_internal::ParsePriorityAt(*v, "min_priority", &errors)) {
      p.min_priority = *pr;
    }
  }
  if (const Json* v = obj.Get(kTimeZone)) {
    if (const std::string* s =
            model_internal::GetString(*v, "time_zone", &errors)) {
      if (LoadIanaTimeZone(*s)) {
        p.time_zone = *s;
      } else {
        errors.Add("time_zone", kTimeZoneRule);
      }
    }
  }
  if (const Json* v = obj.Get(kQuietHours)) {
    if (!v->is_array()) {
      errors.Add("quiet_hours", "must be an array of objects");
    } else {
      if (v->size() > UserLimits::kMaxQuietHours) {
        errors.Add("quiet_hours",
                   model_internal::CountRule(UserLimits::kMaxQuietHours));
      }
      p.quiet_hours.resize(v->size());
      for (size_t i = 0; i < v->size(); ++i) {
        ParseQuietHours((*v)[i], IndexPath("quiet_hours", i), mode,
                        &p.quiet_hours[i], &errors);
      }
    }
  }
  ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus(what));
  return p;
}

}  // namespace

absl::StatusOr<User> UserFromRequestJson(const nlohmann::json& j) {
  return ParseUser(j, ParseMode::kRequest);
}

absl::StatusOr<User> UserFromJson(const nlohmann::json& j) {
  return ParseUser(j, ParseMode::kRecord);
}

nlohmann::json UserToJson(const User& u) {
  Json j = {{"id", u.id},
            {"tenant_id", u.tenant_id},
            {"email", u.email},
            {"role", std::string(RoleName(u.role))}};
  if (!u.name.empty()) j["name"] = u.name;
  Json addresses = Json::object();
  const ChannelAddresses& a = u.addresses;
  if (!a.email.empty()) addresses["email"] = a.email;
  if (!a.fcm_tokens.empty()) addresses["fcm_tokens"] = a.fcm_tokens;
  if (!a.slack_user_id.empty()) addresses["slack_user_id"] = a.slack_user_id;
  if (!a.discord_user_id.empty()) {
    addresses["discord_user_id"] = a.discord_user_id;
  }
  if (!addresses.empty()) j["addresses"] = std::move(addresses);
  model_internal::PutTime(j, "created_at", u.created_at);
  return j;
}

absl::StatusOr<Preferences> PreferencesFromRequestJson(
    const nlohmann::json& j) {
  return ParsePreferences(j, ParseMode::kRequest);
}

absl::StatusOr<Preferences> PreferencesFromJson(const nlohmann::json& j) {
  return ParsePreferences(j, ParseMode::kRecord);
}

nlohmann::json PreferencesToJson(const Preferences& p) {
  Json quiet = Json::array();
  for (const QuietHours& q : p.quiet_hours) {
    Json days = Json::array();
    for (absl::Weekday d : q.days) {
      days.push_back(std::string(kDayNames[static_cast<int>(d)]));
    }
    quiet.push_back({{"days", std::move(days)},
                     {"start", FormatTimeOfDay(q.start_minute)},
                     {"end", FormatTimeOfDay(q.end_minute)}});
  }
  return {
      {"opt_out_channels", model_internal::ChannelsToJson(p.opt_out_channels)},
      {"opt_out_types", p.opt_out_types},
      {"min_priority", std::string(PriorityName(p.min_priority))},
      {"time_zone", p.time_zone},
      {"quiet_hours", std::move(quiet)}};
}

}  // namespace alerthub
