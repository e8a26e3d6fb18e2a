#include "alerthub/model/notification.h"

#include <cstdint>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/internal/validation.h"

namespace alerthub {
namespace {

using model_internal::CountRule;
using model_internal::FieldErrorList;
using model_internal::IndexPath;
using model_internal::Json;
using model_internal::Path;
using model_internal::RecordReader;
using model_internal::RequestObject;
using model_internal::TextError;
using Limits = NotificationLimits;

constexpr absl::string_view kPriorityNames[] = {"min", "low", "normal", "high",
                                                "critical"};
constexpr absl::string_view kStatusNames[] = {
    "accepted", "routed",     "delivering", "delivered", "partially_delivered",
    "failed",   "suppressed", "cancelled"};
constexpr absl::string_view kChannelNames[] = {"webhook", "slack", "discord",
                                               "email", "push"};

constexpr absl::string_view kInvalidNotification = "invalid notification";
constexpr absl::string_view kTagKeyRule =
    "key must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'";
constexpr absl::string_view kDedupKeyRule =
    "must be 1-256 printable characters";
constexpr absl::string_view kScheduleRule = "must be at most 30 days ahead";
constexpr absl::string_view kDataDepthRule =
    "must be nested at most 16 levels deep";
constexpr absl::string_view kDataSizeRule =
    "must be at most 65536 bytes as JSON";

// Request members, in the order their errors are reported.
enum RequestField : size_t {
  kType,
  kTitle,
  kBody,
  kPriorityField,
  kData,
  kTags,
  kRecipients,
  kChannels,
  kIntegrationIds,
  kTemplate,
  kDedupKey,
  kScheduledAt,
};
// Followed by the server-assigned members.
constexpr absl::string_view kRequestFields[] = {
    "type",       "title",        "body",     "priority",        "data",
    "tags",       "recipients",   "channels", "integration_ids", "template",
    "dedup_key",  "scheduled_at", "id",       "tenant_id",       "status",
    "created_at", "updated_at"};
constexpr size_t kNumAssigned = 5;
static_assert(std::size(kRequestFields) == kScheduledAt + 1 + kNumAssigned);

// --- Checks shared by ValidateNotification() and the request parser. -----

void CheckTitle(absl::string_view title, FieldErrorList* errors) {
  std::string e = TextError(title, Limits::kMaxTitleLength, false);
  if (!e.empty()) errors->Add("title", e);
}

void CheckBody(absl::string_view body, FieldErrorList* errors) {
  std::string e = TextError(body, Limits::kMaxBodyLength, true);
  if (!e.empty()) errors->Add("body", e);
}

// True when `j` nests at most `levels` objects/arrays (the outermost one
// counts). Bounded recursion: it stops at `levels`.
bool DepthAtMost(const Json& j, int levels) {
  if (!j.is_structured()) return true;
  if (levels == 0) return false;
  for (const Json& child : j) {
    if (!DepthAtMost(child, levels - 1)) return false;
  }
  return true;
}

void CheckData(const Json& data, FieldErrorList* errors) {
  if (!data.is_object()) {
    errors->Add("data", model_internal::kMustBeObject);
    return;
  }
  if (data.empty()) return;
  if (!DepthAtMost(data, Limits::kMaxDataDepth)) {
    errors->Add("data", kDataDepthRule);
    return;
  }
  size_t size = 0;
  try {
    size = data.dump().size();
  } catch (const Json::type_error&) {  // a string that is not UTF-8
    errors->Add("data", model_internal::kInvalidUtf8);
    return;
  }
  if (size > Limits::kMaxDataBytes) errors->Add("data", kDataSizeRule);
}

void CheckTag(const std::string& key, absl::string_view value,
              FieldErrorList* errors) {
  if (!model_internal::IsTagKey(key, Limits::kMaxTagKeyLength)) {
    errors->Add(Path("tags", key), kTagKeyRule);
  }
  std::string e = TextError(value, Limits::kMaxTagValueLength, true);
  if (!e.empty()) errors->Add(Path("tags", key), e);
}

void CheckRecipient(absl::string_view recipient, size_t index,
                    FieldErrorList* errors) {
  std::string e = TextError(recipient, Limits::kMaxRecipientLength, false);
  if (!e.empty()) errors->Add(IndexPath("recipients", index), e);
}

bool IsValidChannel(Channel c) {
  int v = static_cast<int>(c);
  return v >= static_cast<int>(Channel::kWebhook) &&
         v <= static_cast<int>(Channel::kPush);
}

// Reports channels[index] when `c` repeats an earlier entry; `seen` is a bit
// set of the channels so far.
void CheckChannelRepeat(Channel c, size_t index, uint32_t* seen,
                        FieldErrorList* errors) {
  uint32_t bit = 1u << static_cast<int>(c);
  if (*seen & bit) {
    errors->Add(IndexPath("channels", index), model_internal::kDuplicate);
  }
  *seen |= bit;
}

// Checks integration_ids[index] against the rule and the entries before it
// (case-insensitively; the request parser lowercases). Repeats are looked
// for only within the limit, so an oversized list stays linear.
void CheckIntegrationId(const std::vector<std::string>& ids, size_t index,
                        FieldErrorList* errors) {
  const std::string& id = ids[index];
  if (!IsUuid(id)) {
    errors->Add(IndexPath("integration_ids", index),
                model_internal::kMustBeUuid);
    return;
  }
  if (ids.size() > Limits::kMaxIntegrationIds) return;
  for (size_t i = 0; i < index; ++i) {
    if (absl::EqualsIgnoreCase(ids[i], id)) {
      errors->Add(IndexPath("integration_ids", index),
                  model_internal::kDuplicate);
      return;
    }
  }
}

void CheckTemplate(absl::string_view name, FieldErrorList* errors) {
  if (!model_internal::IsSlug(name, Limits::kMaxTemplateLength)) {
    errors->Add("template", model_internal::kSlugRule);
  }
}

void CheckDedupKey(absl::string_view key, FieldErrorList* errors) {
  std::optional<size_t> length = model_internal::Utf8Length(key);
  if (key.empty() || !length.has_value() ||
      *length > Limits::kMaxDedupKeyLength ||
      !model_internal::IsPrintable(key)) {
    errors->Add("dedup_key", kDedupKeyRule);
  }
}

void CheckScheduledAt(absl::Time t, absl::Time now, FieldErrorList* errors) {
  if (t > now + Limits::kMaxScheduleAhead) {
    errors->Add("scheduled_at", kScheduleRule);
  }
}

// --- Request parsing, one member at a time. --------------------------------

void ParseTags(const Json& v, Notification* n, FieldErrorList* errors) {
  if (!v.is_object()) {
    errors->Add("tags", model_internal::kMustBeObject);
    return;
  }
  if (v.size() > Limits::kMaxTags) {
    errors->Add("tags", CountRule(Limits::kMaxTags));
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_string()) {
      errors->Add(Path("tags", it.key()), model_internal::kMustBeString);
      continue;
    }
    const std::string& value = it.value().get_ref<const std::string&>();
    CheckTag(it.key(), value, errors);
    // Members arrive sorted, so each insertion is at the end.
    n->tags.emplace_hint(n->tags.end(), it.key(), value);
  }
}

void ParseRecipients(const Json& v, Notification* n, FieldErrorList* errors) {
  if (!v.is_array()) {
    errors->Add("recipients", model_internal::kMustBeStringArray);
    return;
  }
  if (v.size() > Limits::kMaxRecipients) {
    errors->Add("recipients", CountRule(Limits::kMaxRecipients));
  }
  n->recipients.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      errors->Add(IndexPath("recipients", i), model_internal::kMustBeString);
      continue;
    }
    const std::string& r = v[i].get_ref<const std::string&>();
    CheckRecipient(r, i, errors);
    n->recipients.push_back(r);
  }
}

}  // namespace

absl::string_view PriorityName(Priority p) {
  int v = static_cast<int>(p);
  if (v < 1 || v > 5) return "unknown";
  return kPriorityNames[v - 1];
}

absl::StatusOr<Priority> ParsePriority(const nlohmann::json& value) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.size() == 1 && s[0] >= '1' && s[0] <= '5') {
      return static_cast<Priority>(s[0] - '0');
    }
    for (int i = 0; i < 5; ++i) {
      if (s == kPriorityNames[i]) return static_cast<Priority>(i + 1);
    }
  } else if (value.is_number_integer()) {  // signed or unsigned
    int64_t v = value.get<int64_t>();
    if (v >= 1 && v <= 5) return static_cast<Priority>(v);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("priority ", model_internal::kPriorityRule));
}

absl::string_view NotificationStatusName(NotificationStatus s) {
  int v = static_cast<int>(s);
  if (v < 1 || v > 8) return "unknown";
  return kStatusNames[v - 1];
}

absl::StatusOr<NotificationStatus> ParseNotificationStatus(
    absl::string_view name) {
  for (int i = 0; i < 8; ++i) {
    if (name == kStatusNames[i]) return static_cast<NotificationStatus>(i + 1);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown notification status \"", name,
      "\"; expected one of accepted, routed, delivering, delivered, "
      "partially_delivered, failed, suppressed, cancelled"));
}

bool IsTerminal(NotificationStatus s) {
  switch (s) {
    case NotificationStatus::kDelivered:
    case NotificationStatus::kPartiallyDelivered:
    case NotificationStatus::kFailed:
    case NotificationStatus::kSuppressed:
    case NotificationStatus::kCancelled:
      return true;
    case NotificationStatus::kAccepted:
    case NotificationStatus::kRouted:
    case NotificationStatus::kDelivering:
      return false;
  }
  return false;
}

absl::string_view ChannelName(Channel c) {
  if (!IsValidChannel(c)) return "unknown";
  return kChannelNames[static_cast<int>(c) - 1];
}

absl::StatusOr<Channel> ParseChannel(absl::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (name == kChannelNames[i]) return static_cast<Channel>(i + 1);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown channel \"", name,
                   "\"; expected one of webhook, slack, discord, email, push"));
}

absl::Status ValidateNotification(const Notification& n, absl::Time now) {
  FieldErrorList errors;
  if (n.type.empty()) {
    errors.Add("type", model_internal::kRequired);
  } else if (!model_internal::IsSlug(n.type, Limits::kMaxTypeLength)) {
    errors.Add("type", model_internal::kSlugRule);
  }
  if (!n.title.empty()) CheckTitle(n.title, &errors);
  CheckBody(n.body, &errors);
  int p = static_cast<int>(n.priority);
  if (p < 1 || p > 5) errors.Add("priority", model_internal::kPriorityRule);
  CheckData(n.data, &errors);
  if (n.tags.size() > Limits::kMaxTags) {
    errors.Add("tags", CountRule(Limits::kMaxTags));
  }
  for (const auto& [key, value] : n.tags) CheckTag(key, value, &errors);
  if (n.recipients.size() > Limits::kMaxRecipients) {
    errors.Add("recipients", CountRule(Limits::kMaxRecipients));
  }
  for (size_t i = 0; i < n.recipients.size(); ++i) {
    CheckRecipient(n.recipients[i], i, &errors);
  }
  uint32_t seen = 0;
  for (size_t i = 0; i < n.channels.size(); ++i) {
    if (!IsValidChannel(n.channels[i])) {
      errors.Add(IndexPath("channels", i), model_internal::kChannelRule);
    } else {
      CheckChannelRepeat(n.channels[i], i, &seen, &errors);
    }
  }
  if (n.integration_ids.size() > Limits::kMaxIntegrationIds) {
    errors.Add("integration_ids", CountRule(Limits::kMaxIntegrationIds));
  }
  for (size_t i = 0; i < n.integration_ids.size(); ++i) {
    CheckIntegrationId(n.integration_ids, i, &errors);
  }
  if (!n.template_name.empty()) CheckTemplate(n.template_name, &errors);
  if (!n.dedup_key.empty()) CheckDedupKey(n.dedup_key, &errors);
  if (n.scheduled_at.has_value())
    CheckScheduledAt(*n.scheduled_at, now, &errors);
  return std::move(errors).ToStatus(kInvalidNotification);
}

absl::StatusOr<Notification> NotificationFromRequestJson(
    const nlohmann::json& j, absl::Time now) {
  if (!j.is_object()) {
    return InvalidArgumentWithFields(
        kInvalidNotification,
        {{"", std::string(model_internal::kNotAnObject)}});
  }
  FieldErrorList errors;
  RequestObject obj(j, kRequestFields, kNumAssigned, "",
                    model_internal::ParseMode::kRequest, &errors);
  Notification n;

  if (const Json* v = obj.Get(kType)) {
    if (const std::string* s = model_internal::GetString(*v, "type", &errors)) {
      if (model_internal::IsSlug(*s, Limits::kMaxTypeLength)) {
        n.type = *s;
      } else {
        errors.Add("type", model_internal::kSlugRule);
      }
    }
  } else {
    errors.Add("type", model_internal::kRequired);
  }
  if (const Json* v = obj.Get(kTitle)) {
    if (const std::string* s =
            model_internal::GetString(*v, "title", &errors)) {
      CheckTitle(*s, &errors);  // present but empty is an error here
      n.title = *s;
    }
  }
  if (const Json* v = obj.Get(kBody)) {
    if (const std::string* s = model_internal::GetString(*v, "body", &errors)) {
      CheckBody(*s, &errors);
      n.body = *s;
    }
  }
  if (const Json* v = obj.Get(kPriorityField)) {
    absl::StatusOr<Priority> p = ParsePriority(*v);
    if (p.ok()) {
      n.priority = *p;
    } else {
      errors.Add("priority", model_internal::kPriorityRule);
    }
  }
  if (const Json* v = obj.Get(kData)) {
    CheckData(*v, &errors);
    if (v->is_object()) n.data = *v;
  }
  if (const Json* v = obj.Get(kTags)) ParseTags(*v, &n, &errors);
  if (const Json* v = obj.Get(kRecipients)) ParseRecipients(*v, &n, &errors);
  if (const Json* v = obj.Get(kChannels)) {
    model_internal::ParseChannelList(*v, "channels", &n.channels, &errors);
  }
  if (const Json* v = obj.Get(kIntegrationIds)) {
    model_internal::ParseUuidList(*v, "integration_ids",
                                  Limits::kMaxIntegrationIds,
                                  &n.integration_ids, &errors);
  }
  if (const Json* v = obj.Get(kTemplate)) {
    if (const std::string* s =
            model_internal::GetString(*v, "template", &errors)) {
      CheckTemplate(*s, &errors);
      n.template_name = *s;
    }
  }
  if (const Json* v = obj.Get(kDedupKey)) {
    if (const std::string* s =
            model_internal::GetString(*v, "dedup_key", &errors)) {
      CheckDedupKey(*s, &errors);
      n.dedup_key = *s;
    }
  }
  if (const Json* v = obj.Get(kScheduledAt)) {
    // Truncated to the microseconds stores keep, so the record read back
    // equals the one accepted.
    n.scheduled_at = model_internal::ParseTimeAt(*v, "scheduled_at", &errors);
    if (n.scheduled_at.has_value()) {
      CheckScheduledAt(*n.scheduled_at, now, &errors);
    }
  }
  ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus(kInvalidNotification));
  return n;
}

nlohmann::json NotificationToJson(const Notification& n) {
  Json j = Json::object();
  j["id"] = n.id;
  j["tenant_id"] = n.tenant_id;
  j["type"] = n.type;
  if (!n.title.empty()) j["title"] = n.title;
  if (!n.body.empty()) j["body"] = n.body;
  j["priority"] = std::string(PriorityName(n.priority));
  if (!n.data.is_object() || !n.data.empty()) j["data"] = n.data;
  if (!n.tags.empty()) j["tags"] = n.tags;
  if (!n.recipients.empty()) j["recipients"] = n.recipients;
  if (!n.channels.empty())
    j["channels"] = model_internal::ChannelsToJson(n.channels);
  if (!n.integration_ids.empty()) j["integration_ids"] = n.integration_ids;
  if (!n.template_name.empty()) j["template"] = n.template_name;
  if (!n.dedup_key.empty()) j["dedup_key"] = n.dedup_key;
  if (n.scheduled_at.has_value()) {
    model_internal::PutTime(j, "scheduled_at", *n.scheduled_at);
  }
  j["status"] = std::string(NotificationStatusName(n.status));
  model_internal::PutTime(j, "created_at", n.created_at);
  model_internal::PutTime(j, "updated_at", n.updated_at);
  return j;
}

absl::StatusOr<Notification> NotificationFromJson(const nlohmann::json& j) {
  FieldErrorList errors;
  RecordReader r(j, "", &errors);
  Notification n;
  r.String("id", &n.id, /*required=*/true);
  r.String("tenant_id", &n.tenant_id, /*required=*/true);
  r.String("type", &n.type, /*required=*/true);
  r.String("title", &n.title);
  r.String("body", &n.body);
  if (const Json* v = r.Find("priority", /*required=*/true)) {
    absl::StatusOr<Priority> p = ParsePriority(*v);
    if (p.ok()) {
      n.priority = *p;
    } else {
      r.Fail("priority", model_internal::kPriorityRule);
    }
  }
  r.Object("data", &n.data);
  r.StringMap("tags", &n.tags);
  r.StringList("recipients", &n.recipients);
  if (const Json* v = r.Find("channels")) {
    if (!v->is_array()) {
      r.Fail("channels", model_internal::kMustBeStringArray);
    } else {
      for (size_t i = 0; i < v->size(); ++i) {
        absl::StatusOr<Channel> c =
            ParseChannel(model_internal::StringOrEmpty((*v)[i]));
        if (c.ok()) {
          n.channels.push_back(*c);
        } else {
          errors.Add(IndexPath("channels", i), model_internal::kChannelRule);
        }
      }
    }
  }
  r.StringList("integration_ids", &n.integration_ids);
  r.String("template", &n.template_name);
  r.String("dedup_key", &n.dedup_key);
  r.OptionalTime("scheduled_at", &n.scheduled_at);
  if (const Json* v = r.Find("status", /*required=*/true)) {
    absl::StatusOr<NotificationStatus> s =
        ParseNotificationStatus(model_internal::StringOrEmpty(*v));
    if (s.ok()) {
      n.status = *s;
    } else {
      r.Fail("status",
             "must be one of accepted, routed, delivering, delivered, "
             "partially_delivered, failed, suppressed, cancelled");
    }
  }
  r.Time("created_at", &n.created_at);
  r.Time("updated_at", &n.updated_at);
  ALERTHUB_RETURN_IF_ERROR(
      std::move(errors).ToStatus("invalid notification record"));
  return n;
}

std::string BatchItemDedupKey(absl::string_view idempotency_key, size_t position) {
  return absl::StrCat(idempotency_key, "#", position);
}

absl::Status ValidateIdempotencyKey(absl::string_view key) {
  bool ok = !key.empty() && key.size() <= NotificationLimits::kMaxDedupKeyLength;
  for (char c : key) ok = ok && c >= 0x20 && c < 0x7f;
  if (ok) return absl::OkStatus();
  return InvalidArgumentWithFields(
      "invalid Idempotency-Key header",
      {{"Idempotency-Key", "must be 1-256 printable ASCII characters"}});
}

}  // namespace alerthub
