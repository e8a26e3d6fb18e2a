#include "alerthub/model/integration.h"

#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/model/internal/validation.h"

namespace alerthub {
namespace {

using model_internal::FieldErrorList;
using model_internal::IndexPath;
using model_internal::Json;
using model_internal::ParseMode;
using model_internal::RequestObject;

constexpr absl::string_view kHttpUrlRule = "must be an http or https URL";
constexpr absl::string_view kSmtpUrlRule =
    "must be an smtp:// or smtps:// URL without credentials";
constexpr absl::string_view kSecretRule =
    "must be whsec_ followed by the base64 of 24-64 bytes";
constexpr absl::string_view kEmailRule = "must be an e-mail address";
constexpr absl::string_view kTokenRule =
    "must be 1-256 printable characters without spaces";
constexpr absl::string_view kPrivateKeyRule = "must be a PEM private key";
constexpr absl::string_view kSlackEither =
    "must have either webhook_url or bot_token and channel";

enum IntegrationField : size_t {
  kName,
  kChannel,
  kConfig,
  kEnabled,
  kDefault,
  kRetry,
  kId,
  kTenantId,
  kCreatedAt,
  kUpdatedAt
};
constexpr absl::string_view kIntegrationFields[] = {
    "name", "channel",   "config",     "enabled",   "default",
    "retry", "id",       "tenant_id",  "created_at", "updated_at"};
static_assert(std::size(kIntegrationFields) == kUpdatedAt + 1);
constexpr size_t kNumAssigned = 4;

void RequireUrl(const Json* v, absl::string_view path, FieldErrorList* errors) {
  if (v == nullptr) {
    errors->Add(std::string(path), model_internal::kRequired);
    return;
  }
  const std::string* s = model_internal::GetString(*v, path, errors);
  if (s != nullptr && !model_internal::IsUrlWithScheme(*s, {"http", "https"})) {
    errors->Add(std::string(path), kHttpUrlRule);
  }
}

// Credentials belong in username/password, where redaction finds them.
bool HasUserInfo(absl::string_view url) {
  size_t start = url.find("://");
  if (start == absl::string_view::npos) return false;
  absl::string_view authority = url.substr(start + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  return absl::StrContains(authority, '@');
}

void CheckEmail(const Json* v, absl::string_view path, FieldErrorList* errors) {
  if (v == nullptr) {
    errors->Add(std::string(path), model_internal::kRequired);
    return;
  }
  const std::string* s = model_internal::GetString(*v, path, errors);
  if (s != nullptr && !model_internal::IsEmailAddress(*s)) {
    errors->Add(std::string(path), kEmailRule);
  }
}

void CheckToken(const Json& v, absl::string_view path, FieldErrorList* errors) {
  const std::string* s = model_internal::GetString(v, path, errors);
  if (s == nullptr) return;
  if (s->empty() || s->size() > 256 || !model_internal::IsPrintable(*s) ||
      absl::StrContains(*s, ' ')) {
    errors->Add(std::string(path), kTokenRule);
  }
}

// Standard Webhooks secrets: "whsec_" and the base64 of 24-64 random bytes.
void CheckWebhookSecret(const Json& v, absl::string_view path, FieldErrorList* errors) {
  const std::string* s = model_internal::GetString(v, path, errors);
  if (s == nullptr) return;
  std::string raw;
  if (!absl::StartsWith(*s, "whsec_") ||
      !absl::Base64Unescape(absl::string_view(*s).substr(6), &raw) ||
      raw.size() < 24 || raw.size() > 64) {
    errors->Add(std::string(path), kSecretRule);
  }
}

void CheckWebhook(const Json& config, ParseMode mode, FieldErrorList* errors) {
  static constexpr absl::string_view kFields[] = {"url", "secret", "previous_secrets"};
  RequestObject obj(config, kFields, 0, "config", mode, errors);
  RequireUrl(obj.Get(0), "config.url", errors);
  if (const Json* secret = obj.Get(1)) {
    CheckWebhookSecret(*secret, "config.secret", errors);
  }
  if (const Json* previous = obj.Get(2)) {
    if (!previous->is_array() ||
        previous->size() > IntegrationLimits::kMaxPreviousSecrets) {
      errors->Add("config.previous_secrets",
                  absl::StrCat("must be an array of at most ",
                               IntegrationLimits::kMaxPreviousSecrets, " secrets"));
    } else {
      for (size_t k = 0; k < previous->size(); ++k) {
        CheckWebhookSecret((*previous)[k], IndexPath("config.previous_secrets", k),
                           errors);
      }
    }
  }
}

void CheckSlack(const Json& config, ParseMode mode, FieldErrorList* errors) {
  static constexpr absl::string_view kFields[] = {"webhook_url", "bot_token",
                                                  "channel"};
  RequestObject obj(config, kFields, 0, "config", mode, errors);
  const Json* url = obj.Get(0);
  const Json* token = obj.Get(1);
  const Json* channel = obj.Get(2);
  if (url != nullptr && (token != nullptr || channel != nullptr)) {
    errors->Add("config", absl::StrCat(kSlackEither, ", not both"));
  } else if (url == nullptr && token == nullptr && channel == nullptr) {
    errors->Add("config", kSlackEither);
  } else if (url == nullptr) {
    if (token == nullptr) {
      errors->Add("config.bot_token", model_internal::kRequired);
    }
    if (channel == nullptr) {
      errors->Add("config.channel", model_internal::kRequired);
    }
  }
  if (url != nullptr) RequireUrl(url, "config.webhook_url", errors);
  if (token != nullptr) CheckToken(*token, "config.bot_token", errors);
  if (channel != nullptr) {
    std::string ignored;
    model_internal::ParseText(*channel, "config.channel", 80, false, &ignored,
                              errors);
  }
}

void CheckDiscord(const Json& config, ParseMode mode, FieldErrorList* errors) {
  static constexpr absl::string_view kFields[] = {"webhook_url"};
  RequestObject obj(config, kFields, 0, "config", mode, errors);
  RequireUrl(obj.Get(0), "config.webhook_url", errors);
}

void CheckEmailConfig(const Json& config, ParseMode mode,
                      FieldErrorList* errors) {
  static constexpr absl::string_view kFields[] = {"smtp_url", "username",
                                                  "password", "from", "to"};
  RequestObject obj(config, kFields, 0, "config", mode, errors);
  if (const Json* url = obj.Get(0)) {
    const std::string* s =
        model_internal::GetString(*url, "config.smtp_url", errors);
    if (s != nullptr &&
        (!model_internal::IsUrlWithScheme(*s, {"smtp", "smtps"}) ||
         HasUserInfo(*s))) {
      errors->Add("config.smtp_url", kSmtpUrlRule);
    }
  } else {
    errors->Add("config.smtp_url", model_internal::kRequired);
  }
  std::string ignored;
  if (const Json* username = obj.Get(1)) {
    model_internal::ParseText(*username, "config.username", 256, false,
                              &ignored, errors);
  }
  if (const Json* password = obj.Get(2)) {
    model_internal::ParseText(*password, "config.password", 1024, false,
                              &ignored, errors);
    if (obj.Get(1) == nullptr) {
      errors->Add("config.username", "is required when password is set");
    }
  }
  CheckEmail(obj.Get(3), "config.from", errors);
  const Json* to = obj.Get(4);
  if (to == nullptr) {
    errors->Add("config.to", model_internal::kRequired);
  } else if (!to->is_array()) {
    errors->Add("config.to", model_internal::kMustBeStringArray);
  } else if (to->empty()) {
    errors->Add("config.to", "must list at least one address");
  } else {
    const bool too_many = to->size() > IntegrationLimits::kMaxEmailRecipients;
    if (too_many) {
      errors->Add("config.to", model_internal::CountRule(
                                   IntegrationLimits::kMaxEmailRecipients));
    }
    for (size_t i = 0; i < to->size(); ++i) {
      std::string path = IndexPath("config.to", i);
      CheckEmail(&(*to)[i], path, errors);
      // Quadratic, so only within the limit.
      for (size_t k = 0; k < i && !too_many; ++k) {
        if ((*to)[k] == (*to)[i]) {
          errors->Add(path, model_internal::kDuplicate);
          break;
        }
      }
    }
  }
}

void CheckPush(const Json& config, ParseMode mode, FieldErrorList* errors) {
  static constexpr absl::string_view kFields[] = {"service_account", "tokens"};
  RequestObject obj(config, kFields, 0, "config", mode, errors);
  const Json* account = obj.Get(0);
  if (account == nullptr) {
    errors->Add("config.service_account", model_internal::kRequired);
  } else if (!account->is_object()) {
    errors->Add("config.service_account", model_internal::kMustBeObject);
  } else {
    // A Google key file has more members (type, client_id, auth_uri, ...);
    // they are kept as given.
    auto member = [&](const char* key) -> const Json* {
      auto it = account->find(key);
      return it == account->end() || it->is_null() ? nullptr : &*it;
    };
    std::string ignored;
    if (const Json* project = member("project_id")) {
      model_internal::ParseText(*project, "config.service_account.project_id",
                                128, false, &ignored, errors);
    } else {
      errors->Add("config.service_account.project_id",
                  model_internal::kRequired);
    }
    CheckEmail(member("client_email"), "config.service_account.client_email",
               errors);
    if (const Json* key = member("private_key")) {
      const std::string* s = model_internal::GetString(
          *key, "config.service_account.private_key", errors);
      if (s != nullptr && (!absl::StrContains(*s, "-----BEGIN") ||
                           !absl::StrContains(*s, "PRIVATE KEY-----"))) {
        errors->Add("config.service_account.private_key", kPrivateKeyRule);
      }
    } else {
      errors->Add("config.service_account.private_key",
                  model_internal::kRequired);
    }
    if (const Json* uri = member("token_uri")) {
      RequireUrl(uri, "config.service_account.token_uri", errors);
    }
  }
  if (const Json* tokens = obj.Get(1)) {
    std::vector<std::string> ignored;
    model_internal::ParseTextList(
        *tokens, "config.tokens", IntegrationLimits::kMaxPushTokens,
        IntegrationLimits::kMaxPushTokenLength, &ignored, errors);
  }
}

void CheckConfig(Channel channel, const Json& config, ParseMode mode,
                 FieldErrorList* errors) {
  if (!config.is_object()) {
    errors->Add("config", model_internal::kMustBeObject);
    return;
  }
  switch (channel) {
    case Channel::kWebhook:
      return CheckWebhook(config, mode, errors);
    case Channel::kSlack:
      return CheckSlack(config, mode, errors);
    case Channel::kDiscord:
      return CheckDiscord(config, mode, errors);
    case Channel::kEmail:
      return CheckEmailConfig(config, mode, errors);
    case Channel::kPush:
      return CheckPush(config, mode, errors);
  }
  errors->Add("channel", model_internal::kChannelRule);
}

absl::StatusOr<Integration> ParseIntegration(const Json& j, ParseMode mode) {
  const absl::string_view what = mode == ParseMode::kRequest
                                     ? "invalid integration"
                                     : "invalid integration record";
  if (!j.is_object()) {
    return InvalidArgumentWithFields(
        what, {{"", std::string(model_internal::kNotAnObject)}});
  }
  FieldErrorList errors;
  RequestObject obj(j, kIntegrationFields, kNumAssigned, "", mode, &errors);
  Integration i;
  if (const Json* v = obj.Get(kName)) {
    model_internal::ParseText(*v, "name", IntegrationLimits::kMaxNameLength,
                              false, &i.name, &errors);
  } else {
    errors.Add("name", model_internal::kRequired);
  }
  std::optional<Channel> channel;
  if (const Json* v = obj.Get(kChannel)) {
    channel = model_internal::ParseChannelAt(*v, "channel", &errors);
  } else {
    errors.Add("channel", model_internal::kRequired);
  }
  if (const Json* v = obj.Get(kConfig)) {
    if (channel.has_value()) {
      CheckConfig(*channel, *v, mode, &errors);
    } else if (!v->is_object()) {
      errors.Add("config", model_internal::kMustBeObject);
    }
    if (v->is_object()) i.config = *v;
  } else {
    errors.Add("config", model_internal::kRequired);
  }
  if (channel.has_value()) i.channel = *channel;
  if (const Json* v = obj.Get(kEnabled)) {
    if (std::optional<bool> b =
            model_internal::GetBool(*v, "enabled", &errors)) {
      i.enabled = *b;
    }
  }
  if (const Json* v = obj.Get(kDefault)) {
    if (std::optional<bool> b =
            model_internal::GetBool(*v, "default", &errors)) {
      i.is_default = *b;
    }
  }
  if (const Json* v = obj.Get(kRetry)) {
    if (v->is_object() || v->is_null()) {
      i.retry = *v;
    } else {
      errors.Add("retry", model_internal::kMustBeObject);
    }
  }
  if (mode == ParseMode::kRecord) {
    model_internal::ParseRequiredString(obj.Get(kId), "id", &i.id, &errors);
    model_internal::ParseRequiredString(obj.Get(kTenantId), "tenant_id",
                                        &i.tenant_id, &errors);
    model_internal::ParseOptionalTime(obj.Get(kCreatedAt), "created_at",
                                      &i.created_at, &errors);
    model_internal::ParseOptionalTime(obj.Get(kUpdatedAt), "updated_at",
                                      &i.updated_at, &errors);
  }
  ALERTHUB_RETURN_IF_ERROR(std::move(errors).ToStatus(what));
  return i;
}

// Replaces the secrets present in `config` with kRedactedSecret.
Json RedactConfig(Channel channel, Json config) {
  ForEachConfigSecret(channel, config, [](absl::string_view, Json& value) {
    value = std::string(kRedactedSecret);
  });
  return config;
}

}  // namespace

void ForEachConfigSecret(
    Channel channel, nlohmann::json& config,
    absl::FunctionRef<void(absl::string_view path, nlohmann::json& value)> fn) {
  if (!config.is_object()) return;
  auto visit = [&](Json& object, absl::string_view key, absl::string_view path) {
    if (!object.is_object()) return;
    auto it = object.find(key);
    if (it != object.end() && it->is_string()) fn(path, *it);
  };
  switch (channel) {
    case Channel::kWebhook: {
      visit(config, "secret", "secret");
      auto previous = config.find("previous_secrets");
      if (previous != config.end() && previous->is_array()) {
        for (size_t k = 0; k < previous->size(); ++k) {
          Json& value = (*previous)[k];
          if (value.is_string()) fn(IndexPath("previous_secrets", k), value);
        }
      }
      break;
    }
    case Channel::kSlack:
      visit(config, "webhook_url", "webhook_url");
      visit(config, "bot_token", "bot_token");
      break;
    case Channel::kDiscord:
      visit(config, "webhook_url", "webhook_url");
      break;
    case Channel::kEmail:
      visit(config, "password", "password");
      break;
    case Channel::kPush: {
      auto sa = config.find("service_account");
      if (sa != config.end()) visit(*sa, "private_key", "service_account.private_key");
      break;
    }
  }
}

absl::Status ValidateIntegrationConfig(Channel channel,
                                       const nlohmann::json& config) {
  FieldErrorList errors;
  CheckConfig(channel, config, ParseMode::kRequest, &errors);
  return std::move(errors).ToStatus("invalid integration");
}

absl::StatusOr<Integration> IntegrationFromRequestJson(
    const nlohmann::json& j) {
  return ParseIntegration(j, ParseMode::kRequest);
}

absl::StatusOr<Integration> IntegrationFromJson(const nlohmann::json& j) {
  return ParseIntegration(j, ParseMode::kRecord);
}

nlohmann::json IntegrationToJson(const Integration& i, SecretHandling secrets) {
  Json j = {{"id", i.id},
            {"tenant_id", i.tenant_id},
            {"name", i.name},
            {"channel", std::string(ChannelName(i.channel))},
            {"config", secrets == SecretHandling::kInclude
                           ? i.config
                           : RedactConfig(i.channel, i.config)},
            {"enabled", i.enabled},
            {"default", i.is_default}};
  if (!i.retry.is_null()) j["retry"] = i.retry;
  model_internal::PutTime(j, "created_at", i.created_at);
  model_internal::PutTime(j, "updated_at", i.updated_at);
  return j;
}

}  // namespace alerthub
