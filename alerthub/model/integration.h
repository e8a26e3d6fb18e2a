// Integrations: a configured destination on one channel (a webhook URL, a
// Slack workspace, an SMTP relay, ...) that deliveries are sent through.
//
//   absl::StatusOr<Integration> i = IntegrationFromRequestJson(
//       nlohmann::json::parse(R"({"name": "ops hook", "channel": "webhook",
//           "config": {"url": "https://example.com/hook"}})"));
//   nlohmann::json shown = IntegrationToJson(*i, SecretHandling::kRedact);
//
// Wire shape (ARCHITECTURE §4): {"name", "channel", "config", "enabled"
// (default true), "default" (default false), "retry" (optional schedule
// override)}; id, tenant_id, created_at and
// updated_at are assigned by AlertHub. Config per channel, unknown members
// rejected:
//   webhook  {"url": http(s) URL, "secret": optional "whsec_<base64>",
//             "previous_secrets": optional [whsec_...] still signed with
//             while receivers rotate to the new secret}
//   slack    {"webhook_url"} or {"bot_token", "channel"}
//   discord  {"webhook_url"}
//   email    {"smtp_url": smtp:// or smtps://, "username", "password",
//             "from", "to": [addresses]}
//   push     {"service_account": {"project_id", "client_email",
//             "private_key", "token_uri" (optional), and any other member of
//             a Google service-account key file}, "tokens": [device tokens]}
// Generating a webhook secret when none is given is the service's job.
#ifndef ALERTHUB_MODEL_INTEGRATION_H_
#define ALERTHUB_MODEL_INTEGRATION_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "nlohmann/json.hpp"

namespace alerthub {

struct IntegrationLimits {
  static constexpr size_t kMaxNameLength = 128;  // characters
  static constexpr size_t kMaxEmailRecipients = 100;
  static constexpr size_t kMaxPushTokens = 1000;
  static constexpr size_t kMaxPushTokenLength = 4096;
  static constexpr size_t kMaxPreviousSecrets = 5;
};

struct Integration {
  std::string id;         // UUIDv7
  std::string tenant_id;  // from the credential, never from the body
  std::string name;       // for people, 1-128 characters
  Channel channel = Channel::kWebhook;
  // Channel-specific, as above; holds secrets (encrypted at rest by stores).
  nlohmann::json config = nlohmann::json::object();
  bool enabled = true;
  // "default" on the wire: receives notifications that name no target and
  // match no rule.
  bool is_default = false;
  // This integration's retry schedule ({"schedule": ["0s", "30s", ...],
  // "jitter", "max_retry_after"}, checked by the catalog with
  // RetryPolicyFromJson); null: the deployment's default schedule.
  nlohmann::json retry = nullptr;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
};

// Checks `config` for `channel`, collecting every broken rule as a
// FieldError whose path starts with "config." ("config.url",
// "config.to[2]", "config.service_account.private_key").
absl::Status ValidateIntegrationConfig(Channel channel,
                                       const nlohmann::json& config);

// Calls `fn` with the path ("secret", "previous_secrets[0]",
// "service_account.private_key") and the value of every secret string present
// in `config` for `channel`: the members redaction hides and stores encrypt.
// `fn` may replace the value.
void ForEachConfigSecret(
    Channel channel, nlohmann::json& config,
    absl::FunctionRef<void(absl::string_view path, nlohmann::json& value)> fn);

// Parses a create/replace request body, including its config.
absl::StatusOr<Integration> IntegrationFromRequestJson(const nlohmann::json& j);

// Whether secrets in the config (webhook secret, Slack webhook URL and bot
// token, Discord webhook URL, SMTP password, service-account private key)
// are written or replaced by kRedactedSecret. API responses redact; stores
// include.
enum class SecretHandling { kRedact, kInclude };
inline constexpr absl::string_view kRedactedSecret = "[redacted]";

// The full record; `secrets` decides how config secrets appear.
nlohmann::json IntegrationToJson(const Integration& i, SecretHandling secrets);

// Reads what IntegrationToJson(i, kInclude) wrote (stores use it); the
// request rules apply, server-assigned fields are read and unknown fields
// ignored.
absl::StatusOr<Integration> IntegrationFromJson(const nlohmann::json& j);

}  // namespace alerthub

#endif  // ALERTHUB_MODEL_INTEGRATION_H_
