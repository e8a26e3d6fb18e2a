// Channel senders: one attempt of one delivery, spoken in its provider's
// contract (ARCHITECTURE §3 step 4 "send", §4 "Channels"):
//
//   webhook  POST the body, signed per Standard Webhooks (signing.h)
//   slack    incoming webhook, or chat.postMessage with a bot token
//   discord  webhook execute, mentions disabled, 429 retry_after honoured
//   email    a MIME multipart/alternative message over SMTP
//   push     FCM HTTP v1: service-account JWT -> OAuth token -> messages:send
//
// The transports are ports (ports/http_client.h), so nothing here links an
// HTTP or SMTP library, and every provider's base URL is an option, so tests
// point the senders at local servers.
//
//   std::unique_ptr<ChannelSender> senders =
//       NewChannelSenders(ChannelOptions{}, http.get(), mail.get());
//   SendAttempt attempt;
//   attempt.integration = &integration;   // config with plaintext secrets
//   attempt.delivery = &delivery;
//   attempt.notification = &notification;
//   attempt.message = &rendered;          // RenderForChannel(channel, ...)
//   attempt.attempt = delivery.attempts + 1;
//   SendResult r = senders->Send(attempt);
//   RetryDecision d = NextAttempt(policy, attempt.attempt, r.outcome, r.retry_after,
//                                 clock->Now(), bitgen);
//
// A sender never throws and never retries by itself: it reports how the
// attempt ended and the caller's retry policy decides what comes next.
#ifndef ALERTHUB_DELIVERY_CHANNELS_CHANNEL_SENDER_H_
#define ALERTHUB_DELIVERY_CHANNELS_CHANNEL_SENDER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "alerthub/delivery/retry_policy.h"
#include "alerthub/delivery/templates.h"
#include "alerthub/model/delivery.h"
#include "alerthub/model/integration.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/user.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/http_client.h"

namespace alerthub {

// One attempt of one delivery. Borrowed pointers, valid during Send.
struct SendAttempt {
  // The destination, its config with plaintext secrets.
  const Integration* integration = nullptr;
  // delivery->id is the webhook-id (the same on every attempt) and the
  // e-mail Message-ID; delivery->recipient may be empty.
  const Delivery* delivery = nullptr;
  const Notification* notification = nullptr;
  // Rendered for integration->channel (RenderForChannel).
  const RenderedMessage* message = nullptr;
  // 1 for the first attempt.
  int attempt = 1;
  // The W3C trace context to pass on ("00-<trace>-<span>-01"); empty for
  // none. Webhooks carry it as the `traceparent` header.
  std::string traceparent;
  // The user when delivery->recipient is set (routing fanned the
  // notification out to its recipients); null otherwise. The recipient's
  // address replaces the integration's destination:
  //   email    to = RecipientEmail(user) (addresses.email, else User::email)
  //            instead of config.to
  //   push     the user's addresses.fcm_tokens instead of config.tokens
  //   slack    chat.postMessage: channel = addresses.slack_user_id (a DM
  //            from the bot); an incoming webhook cannot choose its channel,
  //            so the text opens with the mention "<@id>" in the webhook's
  //            channel
  //   discord  the content opens with "<@id>" and allowed_mentions.users =
  //            [id], so only that user is pinged
  // A recipient without that address is kPermanent (routing drops such
  // recipients, so only an address removed since routing gets here).
  const User* recipient = nullptr;
};

// How one target of a delivery fared, when a delivery has several (push:
// one per device token).
struct TargetResult {
  // Which target: for a device token its last 8 characters after "…"
  // (tokens are credentials of a sort and are not logged whole).
  std::string target;
  AttemptOutcome outcome = AttemptOutcome::kRetriable;
  // HTTP status, 0 when no answer (or not attempted).
  int code = 0;
  // The provider's reason when not successful ("UNREGISTERED").
  std::string error;
};

// How an attempt ended.
struct SendResult {
  // What the retry policy needs: success, retriable, permanent or gone (the
  // destination no longer exists; disable the integration).
  AttemptOutcome outcome = AttemptOutcome::kRetriable;
  // The HTTP status or SMTP reply code that decided, 0 when no answer came.
  int code = 0;
  // How long the provider asked to wait (Retry-After, Slack's and Discord's
  // rate-limit answers); unset when it did not say.
  std::optional<absl::Duration> retry_after;
  // Time spent sending, measured on a monotonic clock.
  absl::Duration latency;
  // Why it did not succeed, for people and the delivery's last_error; names
  // what failed ("Slack answered channel_not_found"), never a secret. Empty
  // on success.
  std::string error;
  // The provider's answer (HTTP body or SMTP reply), at most 1 KiB (cut at a
  // UTF-8 character boundary), for the delivery's event log.
  std::string response;
  // Per-target results when the delivery has several targets (push);
  // empty otherwise. See NewChannelSenders for how they add up.
  std::vector<TargetResult> targets;
};

// Sends attempts for one or more channels. Implementations are thread-safe
// and never throw.
class ChannelSender {
 public:
  virtual ~ChannelSender() = default;

  // Sends one attempt and reports how it ended. A broken attempt (a null
  // pointer, a message rendered for another channel, a config missing a
  // member) is kPermanent with the reason in `error`.
  virtual SendResult Send(const SendAttempt& attempt) = 0;
};

struct ChannelOptions {
  // Per request (each HTTP request, or the whole SMTP session).
  absl::Duration timeout = absl::Seconds(15);
  // Slack's Web API, for chat.postMessage.
  std::string slack_api_base_url = "https://slack.com/api";
  // FCM's API: {fcm_base_url}/v1/projects/{project}/messages:send.
  std::string fcm_base_url = "https://fcm.googleapis.com";
  // Where OAuth tokens for FCM are fetched. Empty: the service account's
  // token_uri, or https://oauth2.googleapis.com/token when it has none. The
  // URL used is also the JWT assertion's audience.
  std::string fcm_token_url;
  // The source of "now" for webhook timestamps, e-mail Date headers, JWT
  // iat/exp, token expiry and Retry-After dates. Null: Clock::Real().
  // Must outlive the senders.
  Clock* clock = nullptr;
};

// The sender for every channel: dispatches on attempt.integration->channel
// to the five senders below. `http` and `mail` must outlive the result.
//
// Push deliveries go to several device tokens, one FCM request each, in
// order; `targets` reports each token, and the outcome adds up as:
//   every token accepted                      -> kSuccess
//   some accepted, the rest refused for good  -> kSuccess (the delivery
//     (UNREGISTERED, INVALID_ARGUMENT, ...)       reached a device; `targets`
//                                                 names the dead tokens)
//   none accepted, all refused for good       -> kPermanent
//   FCM failed for now (429, 500, 503, 401,   -> kRetriable, with the
//     transport), on any token                   largest Retry-After; the
//                                                 tokens after it are not
//                                                 tried this attempt
// A retry sends to every token again; the message carries the delivery id as
// its collapse key, so devices that already have it replace rather than
// repeat it.
std::unique_ptr<ChannelSender> NewChannelSenders(const ChannelOptions& options, HttpClient* http,
                                                 MailTransport* mail);

// The single-channel senders NewChannelSenders dispatches to; each refuses
// attempts for other channels (kPermanent). Same ownership rules. Outcomes:
//   webhook  by HTTP status (ClassifyHttpStatus); Retry-After honoured
//   slack    incoming webhook by HTTP status; chat.postMessage by Slack's
//            "error": ratelimited, internal_error, fatal_error,
//            service_unavailable, request_timeout retriable (ratelimited
//            with Retry-After), every other error permanent
//   discord  by HTTP status; a 429's JSON retry_after (fractional seconds)
//            wins over Retry-After
//   email    SMTP 5xx permanent, 4xx and transport failures retriable;
//            `code` is the SMTP reply code
//   push     per token, added up as described above
// Each sender's .cc file opens with the provider contract it speaks.
std::unique_ptr<ChannelSender> NewWebhookSender(const ChannelOptions& options, HttpClient* http);
std::unique_ptr<ChannelSender> NewSlackSender(const ChannelOptions& options, HttpClient* http);
std::unique_ptr<ChannelSender> NewDiscordSender(const ChannelOptions& options, HttpClient* http);
std::unique_ptr<ChannelSender> NewEmailSender(const ChannelOptions& options, MailTransport* mail);
std::unique_ptr<ChannelSender> NewPushSender(const ChannelOptions& options, HttpClient* http);

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_CHANNELS_CHANNEL_SENDER_H_
