#include "alerthub/model/template.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "alerthub/common/status.h"
#include "alerthub/model/internal/validation.h"

namespace alerthub {
namespace {

using model_internal::FieldErrorList;
using model_internal::Json;
using model_internal::ParseMode;
using model_internal::Path;
using model_internal::RequestObject;

constexpr absl::string_view kWebhookFields[] = {"body"};
constexpr absl::string_view kSlackFields[] = {"text", "blocks"};
constexpr absl::string_view kDiscordFields[] = {"content"};
constexpr absl::string_view kEmailFields[] = {"subject", "text", "html"};
constexpr absl::string_view kPushFields[] = {"title", "body"};

enum TemplateField : size_t {
  kName,
  kChannel,
  kFields,
  kId,
  kTenantId,
  kCreatedAt,
  kUpdatedAt
};
constexpr absl::string_view kTemplateFields[] = {
    "name", "channel", "fields", "id", "tenant_id", "created_at", "updated_at"};
static_assert(std::size(kTemplateFields) == kUpdatedAt + 1);
constexpr size_t kNumAssigned = 4;

void ParseFields(const Json& v, Channel channel, Template* t,
                 FieldErrorList* errors) {
  if (!v.is_object()) {
    errors->Add("fields", model_internal::kMustBeObject);
    return;
  }
  absl::Span<const absl::string_view> allowed = TemplateFieldsFor(channel);
  if (v.empty()) {
    errors->Add("fields", absl::StrCat("must have at least one of ",
                                       absl::StrJoin(allowed, ", ")));
    return;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    std::string path = Path("fields", it.key());
    if (std::find(allowed.begin(), allowed.end(),
                  absl::string_view(it.key())) == allowed.end()) {
      errors->Add(path, absl::StrCat("is not a field of ", ChannelName(channel),
                                     " templates; expected one of ",
                                     absl::StrJoin(allowed, ", ")));
      continue;
    }
    std::string text;
    if (model_internal::ParseText(it.value(), path,
                                  TemplateLimits::kMaxFieldLength, false, &text,
                                  errors)) {
      t->fields.emplace(it.key(), std::move(text));
    }
  }
}

absl::StatusOr<Template> ParseTemplate(const Json& j, ParseMode mode) {
  const absl::string_view what = mode == ParseMode::kRequest
                                     ? "invalid template"
                                     : "invalid template record";
  if (!j.is_object()) {
    return InvalidArgumentWithFields(
        what, {{"", std::string(model_internal::kNotAnObject)}});
  }
  FieldErrorList errors;
  RequestObject obj(j, kTemplateFields, kNumAssigned, "", mode, &errors);
  Template t;
  if (const Json* v = obj.Get(kName)) {
    if (const std::string* s = model_internal::GetString(*v, "name", &errors)) {
      if (model_internal::IsSlug(*s, TemplateLimits::kMaxNameLength)) {
        t.name = *s;
      } else {
        errors.Add("name", model_internal::kSlugRule);
      }
    }
  } else {
    errors.Add("name", model_internal::kRequired);
  }
  std::optional<Channel> channel;
  if (const Json* v = obj.Get(kChannel)) {
    channel = model_internal::ParseChannelAt(*v, "channel", &errors);
    if (channel.has_value()) t.channel = *channel;
  } else {
    errors.Add("channel", model_internal::kRequired);
  }
  if (const Json* v = obj.Get(kFields)) {
    if (channel.has_value()) {
      ParseFields(*v, *channel, &t, &errors);
    } else if (!v->is_object()) {
      errors.Add("fields", model_internal::kMustBeObject);
    }
  } else {
    errors.Add("fields", model_internal::kRequired);
  }
  if (mode == ParseMode::kRecord) {
    model_internal::ParseRequiredString(obj.Get(kId), "id", &t.id, &errors);
    model_internal::ParseRequiredString(obj.Get(kTenantId), "tenant_id",
                                        &t.tenant_id, &errors);
    model_internal::ParseOptionalTime(obj.Get(kCreatedAt), "created_at",
                                      &t.created_at, &errors);
    model_internal::ParseOptionalTime(obj.Get(kUpdatedAt), "updated_at",
                                      &t.updated_at, &errors);
  }
  ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus(what));
  return t;
}

}  // namespace

absl::Span<const absl::string_view> TemplateFieldsFor(Channel channel) {
  switch (channel) {
    case Channel::kWebhook:
      return kWebhookFields;
    case Channel::kSlack:
      return kSlackFields;
    case Channel::kDiscord:
      return kDiscordFields;
    case Channel::kEmail:
      return kEmailFields;
    case Channel::kPush:
      return kPushFields;
  }
  return {};
}

absl::StatusOr<Template> TemplateFromRequestJson(const nlohmann::json& j) {
  return ParseTemplate(j, ParseMode::kRequest);
}

absl::StatusOr<Template> TemplateFromJson(const nlohmann::json& j) {
  return ParseTemplate(j, ParseMode::kRecord);
}

nlohmann::json TemplateToJson(const Template& t) {
  Json j = {{"id", t.id},
            {"tenant_id", t.tenant_id},
            {"name", t.name},
            {"channel", std::string(ChannelName(t.channel))},
            {"fields", t.fields}};
  model_internal::PutTime(j, "created_at", t.created_at);
  model_internal::PutTime(j, "updated_at", t.updated_at);
  return j;
}

}  // namespace alerthub
