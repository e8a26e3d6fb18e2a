// Webhooks (ARCHITECTURE §4 "Webhooks"): POST the rendered body as JSON,
// signed per Standard Webhooks with every secret the integration holds
// (config.secret, then config.previous_secrets while receivers rotate), with
// webhook-id = the delivery id on every attempt and webhook-timestamp = now.
// The outcome is the plain HTTP one (ClassifyHttpStatus); Retry-After is
// honoured.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/internal/common.h"
#include "alerthub/delivery/signing.h"

namespace alerthub {
namespace {

using channels_internal::Broken;

constexpr absl::string_view kUserAgent = "AlertHub-Webhooks/1.0";

// A W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>"): only a well-formed one
// is passed on, so a bad value never breaks a delivery or its headers.
bool IsTraceparent(absl::string_view v) {
  if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == 2 || i == 35 || i == 52) continue;
    const char c = v[i];
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && !(c >= 'a' && c <= 'f')) {
      return false;
    }
  }
  return true;
}

// The decoded secrets to sign with: config.secret first, then
// config.previous_secrets in order.
absl::StatusOr<std::vector<std::string>> SigningKeys(const nlohmann::json& config) {
  std::vector<std::string> keys;
  absl::StatusOr<absl::string_view> secret =
      channels_internal::OptionalString(config, "secret", "config.secret");
  if (!secret.ok()) return secret.status();
  if (!secret->empty()) {
    absl::StatusOr<std::string> key = DecodeWebhookSecret(*secret);
    if (!key.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("config.secret: ", key.status().message()));
    }
    keys.push_back(*std::move(key));
  }
  auto previous = config.find("previous_secrets");
  if (previous != config.end() && !previous->is_null()) {
    if (!previous->is_array()) {
      return absl::InvalidArgumentError("config.previous_secrets is not an array");
    }
    for (size_t i = 0; i < previous->size(); ++i) {
      const nlohmann::json& v = (*previous)[i];
      absl::StatusOr<std::string> key = v.is_string()
                                            ? DecodeWebhookSecret(v.get_ref<const std::string&>())
                                            : absl::InvalidArgumentError("is not a string");
      if (!key.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("config.previous_secrets[", i, "]: ", key.status().message()));
      }
      keys.push_back(*std::move(key));
    }
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError(
        "webhook integration has no secret (config.secret); webhooks are never sent "
        "unsigned");
  }
  return keys;
}

class WebhookSender final : public ChannelSender {
 public:
  WebhookSender(const ChannelOptions& options, HttpClient* http)
      : timeout_(options.timeout),
        clock_(options.clock != nullptr ? options.clock : Clock::Real()),
        http_(http) {}

  SendResult Send(const SendAttempt& attempt) override {
    const channels_internal::Stopwatch stopwatch;
    absl::StatusOr<const WebhookMessage*> message =
        channels_internal::MessageFor<WebhookMessage>(attempt, Channel::kWebhook);
    if (!message.ok()) return Broken(std::string(message.status().message()));
    const nlohmann::json& config = attempt.integration->config;
    absl::StatusOr<absl::string_view> url =
        channels_internal::RequiredString(config, "url", "config.url");
    if (!url.ok()) return Broken(std::string(url.status().message()));
    absl::StatusOr<std::vector<std::string>> keys = SigningKeys(config);
    if (!keys.ok()) return Broken(std::string(keys.status().message()));

    const absl::Time now = clock_->Now();
    absl::StatusOr<HttpHeaders> signature =
        WebhookHeaders(*keys, attempt.delivery->id, absl::ToUnixSeconds(now), (*message)->body);
    if (!signature.ok()) {
      return Broken(absl::StrCat("cannot sign the webhook: ", signature.status().message()));
    }

    HttpRequest request;
    request.method = "POST";
    request.url = std::string(*url);
    request.timeout = timeout_;
    request.body = (*message)->body;
    request.headers.reserve(signature->size() + 3);
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("User-Agent", kUserAgent);
    for (auto& header : *signature) request.headers.push_back(std::move(header));
    if (IsTraceparent(attempt.traceparent)) {
      request.headers.emplace_back("traceparent", attempt.traceparent);
    }

    SendResult result =
        channels_internal::ResultFromHttp(http_->Send(request), "webhook receiver", clock_->Now());
    result.latency = stopwatch.Elapsed();
    return result;
  }

 private:
  const absl::Duration timeout_;
  Clock* const clock_;
  HttpClient* const http_;
};

}  // namespace

std::unique_ptr<ChannelSender> NewWebhookSender(const ChannelOptions& options, HttpClient* http) {
  return std::make_unique<WebhookSender>(options, http);
}

}  // namespace alerthub
