// Push through Firebase Cloud Messaging's HTTP v1 API (ARCHITECTURE §4
// "Channels"):
//
// 1. OAuth: a JWT signed with the service account's RSA key (iss =
//    client_email, scope = firebase.messaging, aud = the token URL, one hour)
//    is POSTed to the token URL as grant_type=jwt-bearer; the answer's
//    access_token is cached per service account until a minute before its
//    expires_in runs out. A refused grant (400/401/403) is permanent.
// 2. Send: one POST {fcm_base_url}/v1/projects/{project_id}/messages:send
//    per device token (config.tokens, or the recipient's addresses.fcm_tokens
//    for a delivery to one user) with "Authorization: Bearer <access token>" and
//    {"message": {"token", "notification": {"title", "body"}, "data":
//    {"notification_id", "delivery_id", "type", "priority"}, "android":
//    {"collapse_key", "priority"}, "apns": {"headers": {"apns-collapse-id"}}}}.
//    FCM answers 200, or an error {"error": {"code", "message", "status",
//    "details": [{"@type": "...FcmError", "errorCode": "UNREGISTERED"}]}}.
//
// Per token: 200 accepted; 404 UNREGISTERED, 400 INVALID_ARGUMENT, 403
// SENDER_ID_MISMATCH and 401 THIRD_PARTY_AUTH_ERROR (the platform's
// credentials) refuse that token for good; 401 otherwise means the access
// token expired or was revoked: it is dropped from the cache and the attempt
// is retriable; 429 QUOTA_EXCEEDED, 500 INTERNAL, 503 UNAVAILABLE and
// transport failures are retriable and end the attempt (the other tokens
// would meet the same). A 403 without SENDER_ID_MISMATCH (the service
// account lacks permission) refuses every token at once. channel_sender.h
// says how the tokens' results add up.
#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/common/crypto.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/internal/common.h"
#include "alerthub/delivery/channels/internal/service_account_jwt.h"

namespace alerthub {
namespace {

using channels_internal::Broken;
using channels_internal::MaskToken;
using Json = nlohmann::json;

constexpr absl::string_view kDefaultTokenUrl = "https://oauth2.googleapis.com/token";
constexpr absl::string_view kMessagingScope = "https://www.googleapis.com/auth/firebase.messaging";
constexpr absl::string_view kJwtBearerGrant =
    "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
// A cached access token is replaced this long before it expires, so a
// request never carries one that runs out on the way.
constexpr absl::Duration kTokenRefreshMargin = absl::Minutes(1);
// When the token endpoint does not say how long its token lives.
constexpr absl::Duration kDefaultTokenLifetime = absl::Hours(1);

constexpr absl::string_view kTokenWho = "OAuth token endpoint";
constexpr absl::string_view kFcmWho = "FCM";

// `s` as one URL path segment.
std::string PathSegment(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// One cached access token; `mu` is held while it is fetched, so concurrent
// sends for the same service account wait for one fetch.
struct CachedToken {
  absl::Mutex mu;
  std::string token ABSL_GUARDED_BY(mu);
  absl::Time refresh_at ABSL_GUARDED_BY(mu) = absl::InfinitePast();
};

// The fields of config.service_account the sender uses, borrowed from the
// config.
struct ServiceAccount {
  absl::string_view project_id;
  absl::string_view client_email;
  absl::string_view private_key;
  absl::string_view private_key_id;
  absl::string_view token_uri;
};

absl::StatusOr<ServiceAccount> ReadServiceAccount(const Json& config) {
  auto sa = config.find("service_account");
  if (sa == config.end() || !sa->is_object()) {
    return absl::InvalidArgumentError("config.service_account is required");
  }
  ServiceAccount out;
  for (auto [key, field, required] : {std::tuple{"project_id", &out.project_id, true},
                                      std::tuple{"client_email", &out.client_email, true},
                                      std::tuple{"private_key", &out.private_key, true},
                                      std::tuple{"private_key_id", &out.private_key_id, false},
                                      std::tuple{"token_uri", &out.token_uri, false}}) {
    const std::string path = absl::StrCat("config.service_account.", key);
    absl::StatusOr<absl::string_view> value =
        required ? channels_internal::RequiredString(*sa, key, path)
                 : channels_internal::OptionalString(*sa, key, path);
    if (!value.ok()) return value.status();
    *field = *value;
  }
  return out;
}

// FCM's reason for refusing a message: the FcmError errorCode
// ("UNREGISTERED"), else the status ("NOT_FOUND"), else "".
std::string FcmReason(const Json& answer) {
  if (!answer.is_object()) return "";
  auto error = answer.find("error");
  if (error == answer.end() || !error->is_object()) return "";
  auto details = error->find("details");
  if (details != error->end() && details->is_array()) {
    for (const Json& d : *details) {
      if (d.is_object() && d.contains("errorCode") && d["errorCode"].is_string()) {
        return d["errorCode"].get<std::string>();
      }
    }
  }
  return error->value("status", std::string());
}

std::string FcmMessageText(const Json& answer) {
  if (!answer.is_object()) return "";
  auto error = answer.find("error");
  if (error == answer.end() || !error->is_object()) return "";
  return error->value("message", std::string());
}

class PushSender final : public ChannelSender {
 public:
  PushSender(const ChannelOptions& options, HttpClient* http)
      : timeout_(options.timeout),
        fcm_base_url_(options.fcm_base_url),
        token_url_override_(options.fcm_token_url),
        clock_(options.clock != nullptr ? options.clock : Clock::Real()),
        http_(http) {}

  SendResult Send(const SendAttempt& attempt) override {
    const channels_internal::Stopwatch stopwatch;
    SendResult result = SendToTokens(attempt);
    result.latency = stopwatch.Elapsed();
    return result;
  }

 private:
  SendResult SendToTokens(const SendAttempt& attempt) {
    absl::StatusOr<const PushMessage*> message =
        channels_internal::MessageFor<PushMessage>(attempt, Channel::kPush);
    if (!message.ok()) return Broken(std::string(message.status().message()));
    const Json& config = attempt.integration->config;
    absl::StatusOr<ServiceAccount> account = ReadServiceAccount(config);
    if (!account.ok()) return Broken(std::string(account.status().message()));
    std::vector<std::string> tokens;
    if (attempt.recipient != nullptr) {
      // One recipient of the notification: their devices, not config.tokens.
      tokens = attempt.recipient->addresses.fcm_tokens;
      if (tokens.empty()) {
        return Broken(absl::StrCat("recipient ", attempt.recipient->id,
                                   " has no push device token (addresses.fcm_tokens)"));
      }
    } else {
      auto listed = config.find("tokens");
      if (listed == config.end() || !listed->is_array() || listed->empty()) {
        return Broken("config.tokens must list at least one device token");
      }
      for (size_t i = 0; i < listed->size(); ++i) {
        if (!(*listed)[i].is_string() || (*listed)[i].get_ref<const std::string&>().empty()) {
          return Broken(absl::StrCat("config.tokens[", i, "] is not a device token"));
        }
        tokens.push_back((*listed)[i].get<std::string>());
      }
    }

    const std::string token_url = !token_url_override_.empty()  ? token_url_override_
                                  : !account->token_uri.empty() ? std::string(account->token_uri)
                                                                : std::string(kDefaultTokenUrl);
    std::shared_ptr<CachedToken> cached = CacheEntry(absl::StrCat(
        token_url, "\n", account->client_email, "\n", HexEncode(Sha256(account->private_key))));
    std::string access_token;
    if (std::optional<SendResult> failed =
            AccessToken(*account, token_url, cached.get(), &access_token)) {
      return *std::move(failed);
    }

    HttpRequest request;
    request.method = "POST";
    request.url = absl::StrCat(fcm_base_url_, "/v1/projects/", PathSegment(account->project_id),
                               "/messages:send");
    request.timeout = timeout_;
    request.headers = {{"Content-Type", "application/json; charset=utf-8"},
                       {"User-Agent", std::string(channels_internal::kProviderUserAgent)},
                       {"Authorization", absl::StrCat("Bearer ", access_token)}};
    Json body = MessageBody(attempt, **message);
    Json& token_field = body["message"]["token"];

    SendResult result;
    int accepted = 0;
    int first_permanent_code = 0;
    std::vector<std::string> refusals;
    std::string last_answer;
    bool stopped = false;  // the remaining tokens are not tried
    for (const std::string& device_token : tokens) {
      TargetResult target;
      target.target = MaskToken(device_token);
      if (stopped) {
        target.error = "not tried: FCM failed for now on an earlier token";
        result.targets.push_back(std::move(target));
        continue;
      }
      token_field = device_token;
      request.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
      absl::StatusOr<HttpResponse> response = http_->Send(request);
      const absl::Time now = clock_->Now();

      if (!response.ok()) {
        SendResult failure = channels_internal::TransportFailure(response.status(), kFcmWho);
        target.outcome = failure.outcome;
        target.error = failure.error;
        result.targets.push_back(std::move(target));
        result.outcome = failure.outcome;
        result.error = std::move(failure.error);
        stopped = true;
        continue;
      }
      target.code = response->status;
      last_answer = response->body;
      if (response->status >= 200 && response->status <= 299) {
        target.outcome = AttemptOutcome::kSuccess;
        ++accepted;
        result.targets.push_back(std::move(target));
        continue;
      }
      const Json answer = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
      const std::string reason = FcmReason(answer);
      target.error = reason.empty() ? absl::StrCat("HTTP ", response->status) : reason;
      const std::string detail = absl::StrCat(
          kFcmWho, " answered HTTP ", response->status,
          reason.empty() ? "" : absl::StrCat(" ", reason), " for token ", target.target, ": ",
          channels_internal::BodyForError(FcmMessageText(answer)));

      const bool access_token_refused =
          response->status == 401 && reason != "THIRD_PARTY_AUTH_ERROR";
      const bool project_refused = response->status == 403 && reason != "SENDER_ID_MISMATCH";
      const AttemptOutcome outcome = access_token_refused ? AttemptOutcome::kRetriable
                                     : response->status == 401
                                         ? AttemptOutcome::kPermanent
                                         : ClassifyHttpStatus(response->status);
      target.outcome = outcome == AttemptOutcome::kGone ? AttemptOutcome::kPermanent : outcome;
      if (access_token_refused) Invalidate(cached.get(), access_token);
      if (target.outcome == AttemptOutcome::kRetriable) {
        result.outcome = AttemptOutcome::kRetriable;
        result.code = response->status;
        result.retry_after = channels_internal::RetryAfterOf(*response, now);
        result.error = absl::StrCat(detail, " (", accepted, " of ", tokens.size(),
                                    " tokens accepted before it)");
        stopped = true;
      } else {
        if (first_permanent_code == 0) first_permanent_code = response->status;
        refusals.push_back(absl::StrCat(target.target, " ", target.error));
        if (project_refused) {
          result.outcome = AttemptOutcome::kPermanent;
          result.code = response->status;
          result.error = absl::StrCat(detail,
                                      " (the service account may not send; no token "
                                      "will do)");
          stopped = true;
        }
      }
      result.targets.push_back(std::move(target));
    }

    result.response = channels_internal::Utf8Prefix(last_answer);
    // A stop for now ends the attempt; a stop for good only when no device
    // got the message.
    if (stopped && (result.outcome != AttemptOutcome::kPermanent || accepted == 0)) {
      return result;
    }
    if (accepted > 0) {
      result.outcome = AttemptOutcome::kSuccess;
      result.code = 200;
      result.error.clear();
      return result;
    }
    result.outcome = AttemptOutcome::kPermanent;
    result.code = first_permanent_code;
    result.error = absl::StrCat("FCM refused every device token: ", absl::StrJoin(refusals, ", "));
    return result;
  }

  Json MessageBody(const SendAttempt& attempt, const PushMessage& message) const {
    const Notification& n = *attempt.notification;
    const bool urgent = n.priority >= Priority::kHigh;
    return Json{
        {"message",
         {{"token", ""},
          {"notification", {{"title", message.title}, {"body", message.body}}},
          {"data",
           {{"notification_id", n.id},
            {"delivery_id", attempt.delivery->id},
            {"type", n.type},
            {"priority", PriorityName(n.priority)}}},
          // A retry replaces, rather than repeats, what a device already shows.
          {"android",
           {{"collapse_key", attempt.delivery->id}, {"priority", urgent ? "HIGH" : "NORMAL"}}},
          {"apns", {{"headers", {{"apns-collapse-id", attempt.delivery->id.substr(0, 64)}}}}}}}};
  }

  std::shared_ptr<CachedToken> CacheEntry(const std::string& key) {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<CachedToken>& entry = tokens_[key];
    if (entry == nullptr) entry = std::make_shared<CachedToken>();
    return entry;
  }

  static void Invalidate(CachedToken* cached, const std::string& refused) {
    absl::MutexLock lock(&cached->mu);
    if (cached->token == refused) {
      cached->token.clear();
      cached->refresh_at = absl::InfinitePast();
    }
  }

  // Sets `*access_token` from the cache or the token endpoint; the failed
  // attempt's result when no token could be had.
  std::optional<SendResult> AccessToken(const ServiceAccount& account, const std::string& token_url,
                                        CachedToken* cached, std::string* access_token) {
    absl::MutexLock lock(&cached->mu);
    const absl::Time now = clock_->Now();
    if (!cached->token.empty() && now < cached->refresh_at) {
      *access_token = cached->token;
      return std::nullopt;
    }
    channels_internal::JwtClaims claims;
    claims.issuer = std::string(account.client_email);
    claims.scope = std::string(kMessagingScope);
    claims.audience = token_url;
    claims.issued_at = now;
    claims.key_id = std::string(account.private_key_id);
    absl::StatusOr<std::string> assertion =
        channels_internal::SignServiceAccountJwt(claims, account.private_key);
    if (!assertion.ok()) {
      return assertion.status().code() == absl::StatusCode::kInvalidArgument
                 ? Broken(std::string(assertion.status().message()))
                 : channels_internal::TransportFailure(assertion.status(), "JWT signer");
    }

    HttpRequest request;
    request.method = "POST";
    request.url = token_url;
    request.timeout = timeout_;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"User-Agent", std::string(channels_internal::kProviderUserAgent)}};
    // A JWT is base64url and dots: nothing to escape.
    request.body = absl::StrCat("grant_type=", kJwtBearerGrant, "&assertion=", *assertion);
    absl::StatusOr<HttpResponse> response = http_->Send(request);
    if (!response.ok()) return channels_internal::TransportFailure(response.status(), kTokenWho);

    const Json answer = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (response->status != 200) {
      SendResult failed = channels_internal::ResultFromHttp(response, kTokenWho, clock_->Now());
      if (failed.outcome == AttemptOutcome::kGone) failed.outcome = AttemptOutcome::kPermanent;
      if (answer.is_object() && answer.contains("error") && answer["error"].is_string()) {
        failed.error = absl::StrCat(kTokenWho, " refused the service account (HTTP ",
                                    response->status, "): ", answer["error"].get<std::string>());
        const std::string description = answer.value("error_description", std::string());
        if (!description.empty()) {
          absl::StrAppend(&failed.error, ": ", channels_internal::BodyForError(description));
        }
      }
      return failed;
    }
    auto token = answer.is_object() ? answer.find("access_token") : answer.end();
    if (!answer.is_object() || token == answer.end() || !token->is_string() ||
        token->get_ref<const std::string&>().empty()) {
      SendResult failed;
      failed.outcome = AttemptOutcome::kRetriable;
      failed.code = response->status;
      failed.error = absl::StrCat(kTokenWho, " answered HTTP 200 without an access_token");
      return failed;
    }
    absl::Duration lifetime = kDefaultTokenLifetime;
    auto expires_in = answer.find("expires_in");
    if (expires_in != answer.end() && expires_in->is_number() && expires_in->get<double>() > 0) {
      lifetime = absl::Seconds(expires_in->get<double>());
    }
    cached->token = token->get<std::string>();
    cached->refresh_at = now + std::max(lifetime - kTokenRefreshMargin, lifetime / 2);
    *access_token = cached->token;
    return std::nullopt;
  }

  const absl::Duration timeout_;
  const std::string fcm_base_url_;
  const std::string token_url_override_;
  Clock* const clock_;
  HttpClient* const http_;

  absl::Mutex mu_;
  // One entry per (token URL, service account, key); tokens are small and
  // integrations few, so entries are kept for the sender's lifetime.
  absl::flat_hash_map<std::string, std::shared_ptr<CachedToken>> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<ChannelSender> NewPushSender(const ChannelOptions& options, HttpClient* http) {
  return std::make_unique<PushSender>(options, http);
}

}  // namespace alerthub
