// Slack, two ways (ARCHITECTURE §4 "Channels"):
//
// Incoming webhook (config.webhook_url): POST {"text", "blocks"?}. Slack
// answers 200 "ok", or a plain-text error code with an HTTP status: 400
// invalid_payload / no_text / ..., 403 action_prohibited / invalid_token,
// 404 channel_not_found / no_service, 410 channel_is_archived, 429 with
// Retry-After, 5xx. The outcome is the plain HTTP one (ClassifyHttpStatus:
// 410 gone, 429 and 5xx retriable, other 4xx permanent).
//
// Web API (config.bot_token and config.channel): POST
// {slack_api_base_url}/chat.postMessage with "Authorization: Bearer <token>"
// and {"channel", "text", "blocks"?}. Slack answers HTTP 200 with {"ok":
// true} or {"ok": false, "error": "<code>"}; rate limits are HTTP 429 with
// Retry-After. Error codes meaning "try later" are retriable
// (kRetriableApiErrors), every other code is permanent (channel_not_found,
// not_in_channel, is_archived, invalid_auth, account_inactive,
// token_revoked, missing_scope, invalid_blocks, msg_too_long, ...).
//
// A delivery to one recipient (SendAttempt::recipient): chat.postMessage
// goes to their slack_user_id (Slack opens the bot's DM with them); an
// incoming webhook can only post to its own channel, so its text opens with
// the mention "<@slack_user_id>" there.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/internal/common.h"

namespace alerthub {
namespace {

using channels_internal::Broken;
using Json = nlohmann::json;

// chat.postMessage error codes that are Slack's trouble or a rate limit, not
// the request's: worth another attempt.
constexpr absl::string_view kRetriableApiErrors[] = {
    "ratelimited",         "rate_limited",    "internal_error",    "fatal_error",
    "service_unavailable", "request_timeout", "team_added_to_org",
};

bool IsRetriableApiError(absl::string_view error) {
  for (absl::string_view e : kRetriableApiErrors) {
    if (e == error) return true;
  }
  return false;
}

class SlackSender final : public ChannelSender {
 public:
  SlackSender(const ChannelOptions& options, HttpClient* http)
      : timeout_(options.timeout),
        post_message_url_(absl::StrCat(options.slack_api_base_url, "/chat.postMessage")),
        clock_(options.clock != nullptr ? options.clock : Clock::Real()),
        http_(http) {}

  SendResult Send(const SendAttempt& attempt) override {
    const channels_internal::Stopwatch stopwatch;
    absl::StatusOr<const SlackMessage*> message =
        channels_internal::MessageFor<SlackMessage>(attempt, Channel::kSlack);
    if (!message.ok()) return Broken(std::string(message.status().message()));
    const Json& config = attempt.integration->config;
    absl::StatusOr<absl::string_view> webhook_url =
        channels_internal::OptionalString(config, "webhook_url", "config.webhook_url");
    if (!webhook_url.ok()) return Broken(std::string(webhook_url.status().message()));

    std::string slack_user;
    if (attempt.recipient != nullptr) {
      slack_user = attempt.recipient->addresses.slack_user_id;
      if (slack_user.empty()) {
        return Broken(absl::StrCat("recipient ", attempt.recipient->id,
                                   " has no addresses.slack_user_id"));
      }
    }
    SendResult result = webhook_url->empty()
                            ? PostMessage(config, **message, slack_user)
                            : PostToWebhook(*webhook_url, **message, slack_user);
    result.latency = stopwatch.Elapsed();
    return result;
  }

 private:
  // `user`: a recipient's Slack id, or empty. The webhook posts to its own
  // channel, so the recipient is mentioned there.
  SendResult PostToWebhook(absl::string_view url, const SlackMessage& message,
                           absl::string_view user) {
    Json body = {{"text", user.empty() ? message.text
                                       : absl::StrCat("<@", user, "> ", message.text)}};
    if (message.blocks.has_value()) body["blocks"] = *message.blocks;
    HttpRequest request = JsonPost(url, body);
    return channels_internal::ResultFromHttp(http_->Send(request), "Slack incoming webhook",
                                             clock_->Now());
  }

  // `user`: a recipient's Slack id, or empty. With one, the bot writes to
  // the user (a direct message) instead of config.channel.
  SendResult PostMessage(const Json& config, const SlackMessage& message,
                         absl::string_view user) {
    absl::StatusOr<absl::string_view> token =
        channels_internal::RequiredString(config, "bot_token", "config.bot_token");
    if (!token.ok()) {
      return Broken(
          absl::StrCat("Slack integration needs webhook_url, or bot_token and "
                       "channel: ",
                       token.status().message()));
    }
    absl::StatusOr<absl::string_view> channel =
        user.empty() ? channels_internal::RequiredString(config, "channel", "config.channel")
                     : absl::StatusOr<absl::string_view>(user);
    if (!channel.ok()) return Broken(std::string(channel.status().message()));

    Json body = {{"channel", *channel}, {"text", message.text}};
    if (message.blocks.has_value()) body["blocks"] = *message.blocks;
    HttpRequest request = JsonPost(post_message_url_, body);
    request.headers.emplace_back("Authorization", absl::StrCat("Bearer ", *token));

    constexpr absl::string_view kWho = "Slack chat.postMessage";
    absl::StatusOr<HttpResponse> response = http_->Send(request);
    const absl::Time now = clock_->Now();
    if (!response.ok() || response->status != 200) {
      return channels_internal::ResultFromHttp(response, kWho, now);
    }
    SendResult result;
    result.code = response->status;
    result.response = channels_internal::Utf8Prefix(response->body);
    const Json answer = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (!answer.is_object() || !answer.contains("ok") || !answer["ok"].is_boolean()) {
      // Not Slack's API answering (a proxy's page?); it may be back later.
      result.outcome = AttemptOutcome::kRetriable;
      result.error = absl::StrCat(kWho, " answered HTTP 200 without an \"ok\" member: ",
                                  channels_internal::BodyForError(response->body));
      return result;
    }
    if (answer["ok"].get<bool>()) {
      result.outcome = AttemptOutcome::kSuccess;
      return result;
    }
    const std::string error = answer.value("error", std::string("unknown_error"));
    result.outcome =
        IsRetriableApiError(error) ? AttemptOutcome::kRetriable : AttemptOutcome::kPermanent;
    result.retry_after = channels_internal::RetryAfterOf(*response, now);
    result.error = absl::StrCat(kWho, " answered ", error);
    return result;
  }

  HttpRequest JsonPost(absl::string_view url, const Json& body) const {
    HttpRequest request;
    request.method = "POST";
    request.url = std::string(url);
    request.timeout = timeout_;
    request.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    request.headers = {{"Content-Type", "application/json; charset=utf-8"},
                       {"User-Agent", std::string(channels_internal::kProviderUserAgent)}};
    return request;
  }

  const absl::Duration timeout_;
  const std::string post_message_url_;
  Clock* const clock_;
  HttpClient* const http_;
};

}  // namespace

std::unique_ptr<ChannelSender> NewSlackSender(const ChannelOptions& options, HttpClient* http) {
  return std::make_unique<SlackSender>(options, http);
}

}  // namespace alerthub
