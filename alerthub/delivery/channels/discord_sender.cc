// Discord webhooks (ARCHITECTURE §4 "Channels"): POST
// {webhook_url}?wait=true with {"content", "allowed_mentions": {"parse":
// []}} (so notification text cannot ping @everyone or roles). A delivery to
// one recipient (SendAttempt::recipient) opens the content with
// "<@discord_user_id>" and allows that one mention: {"parse": [], "users":
// [id]}. Discord
// answers 200 with the message (204 without wait=true), 429 with a JSON body
// {"message", "retry_after": <seconds, fractional>, "global": bool} and the
// same delay in Retry-After, or a 4xx/5xx with {"message", "code"}. The
// outcome is the plain HTTP one (ClassifyHttpStatus); for a 429 the body's
// retry_after wins over the header (it has the fraction).
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/internal/common.h"

namespace alerthub {
namespace {

using channels_internal::Broken;
using Json = nlohmann::json;

// The URL with wait=true added, so Discord confirms the message was created
// (it otherwise answers 204 before the message is stored).
std::string WithWait(absl::string_view url) {
  const size_t query = url.find('?');
  if (query != absl::string_view::npos && absl::StrContains(url.substr(query), "wait=")) {
    return std::string(url);
  }
  return absl::StrCat(url, query == absl::string_view::npos ? "?" : "&", "wait=true");
}

class DiscordSender final : public ChannelSender {
 public:
  DiscordSender(const ChannelOptions& options, HttpClient* http)
      : timeout_(options.timeout),
        clock_(options.clock != nullptr ? options.clock : Clock::Real()),
        http_(http) {}

  SendResult Send(const SendAttempt& attempt) override {
    const channels_internal::Stopwatch stopwatch;
    absl::StatusOr<const DiscordMessage*> message =
        channels_internal::MessageFor<DiscordMessage>(attempt, Channel::kDiscord);
    if (!message.ok()) return Broken(std::string(message.status().message()));
    absl::StatusOr<absl::string_view> url = channels_internal::RequiredString(
        attempt.integration->config, "webhook_url", "config.webhook_url");
    if (!url.ok()) return Broken(std::string(url.status().message()));

    HttpRequest request;
    request.method = "POST";
    request.url = WithWait(*url);
    request.timeout = timeout_;
    request.headers = {{"Content-Type", "application/json"},
                       {"User-Agent", std::string(channels_internal::kProviderUserAgent)}};
    Json body = {{"content", (*message)->content},
                 {"allowed_mentions", {{"parse", Json::array()}}}};
    if (attempt.recipient != nullptr) {
      // A delivery to one recipient pings that user and nobody else.
      const std::string& user = attempt.recipient->addresses.discord_user_id;
      if (user.empty()) {
        return Broken(absl::StrCat("recipient ", attempt.recipient->id,
                                   " has no addresses.discord_user_id"));
      }
      body["content"] = absl::StrCat("<@", user, "> ", (*message)->content);
      body["allowed_mentions"]["users"] = Json::array({user});
    }
    request.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);

    constexpr absl::string_view kWho = "Discord webhook";
    absl::StatusOr<HttpResponse> response = http_->Send(request);
    SendResult result = channels_internal::ResultFromHttp(response, kWho, clock_->Now());
    if (response.ok() && result.outcome != AttemptOutcome::kSuccess) {
      Explain(*response, kWho, &result);
    }
    result.latency = stopwatch.Elapsed();
    return result;
  }

 private:
  // Discord's JSON error body, when there is one, replaces the raw excerpt
  // in `error`, and a 429's retry_after sets the delay.
  static void Explain(const HttpResponse& response, absl::string_view who, SendResult* result) {
    const Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return;
    if (response.status == 429) {
      auto retry_after = body.find("retry_after");
      if (retry_after != body.end() && retry_after->is_number()) {
        const double seconds = retry_after->get<double>();
        if (std::isfinite(seconds) && seconds >= 0) result->retry_after = absl::Seconds(seconds);
      }
      const bool global = body.value("global", false);
      result->error =
          absl::StrCat(who, " answered HTTP 429: rate limited", global ? " (global limit)" : "");
      if (result->retry_after.has_value()) {
        absl::StrAppend(&result->error, "; retry after ",
                        absl::FormatDuration(*result->retry_after));
      }
      return;
    }
    auto text = body.find("message");
    if (text == body.end() || !text->is_string()) return;
    result->error = absl::StrCat(who, " answered HTTP ", response.status, ": ",
                                 channels_internal::BodyForError(text->get<std::string>()));
    auto code = body.find("code");
    if (code != body.end() && code->is_number_integer()) {
      absl::StrAppend(&result->error, " (code ", code->get<int64_t>(), ")");
    }
  }

  const absl::Duration timeout_;
  Clock* const clock_;
  HttpClient* const http_;
};

}  // namespace

std::unique_ptr<ChannelSender> NewDiscordSender(const ChannelOptions& options, HttpClient* http) {
  return std::make_unique<DiscordSender>(options, http);
}

}  // namespace alerthub
