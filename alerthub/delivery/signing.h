// Standard Webhooks 1.0 signatures (https://www.standardwebhooks.com): how
// AlertHub signs the webhooks it sends, so receivers can check that a request
// came from AlertHub, unaltered, and recently.
//
// Every webhook carries three headers:
//   webhook-id         the message id; the same on every retry, so receivers
//                      can dedupe (AlertHub uses the delivery's id)
//   webhook-timestamp  Unix seconds of this attempt
//   webhook-signature  "v1,<base64 HMAC-SHA256 of "id.timestamp.body">", one
//                      per secret, space-separated (several while a secret is
//                      being rotated)
//
//   std::string whsec = GenerateWebhookSecret();       // "whsec_..."; shown once
//   absl::StatusOr<std::string> key = DecodeWebhookSecret(whsec);
//   absl::StatusOr<HttpHeaders> headers = WebhookHeaders(
//       {*key}, delivery_id, absl::ToUnixSeconds(clock->Now()), body);
//
// Everything here is a pure function and safe to call from any thread.
#ifndef ALERTHUB_DELIVERY_SIGNING_H_
#define ALERTHUB_DELIVERY_SIGNING_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/http_client.h"

namespace alerthub {

// HttpHeaders (alerthub/ports/http_client.h): header fields in the order
// they are sent. Names are compared without regard to case where this file
// reads them (VerifyWebhook).

inline constexpr absl::string_view kWebhookIdHeader = "webhook-id";
inline constexpr absl::string_view kWebhookTimestampHeader = "webhook-timestamp";
inline constexpr absl::string_view kWebhookSignatureHeader = "webhook-signature";

// The prefix of every encoded secret.
inline constexpr absl::string_view kWebhookSecretPrefix = "whsec_";
// Bounds on the decoded secret, as the Standard Webhooks spec sets them.
inline constexpr size_t kMinWebhookSecretBytes = 24;
inline constexpr size_t kMaxWebhookSecretBytes = 64;

// A new secret: "whsec_" and the base64 of 32 bytes from the operating
// system's CSPRNG.
std::string GenerateWebhookSecret();

// The key bytes of a "whsec_<base64>" secret. Accepts exactly what
// ValidateIntegrationConfig accepts for config.secret (so every stored secret
// decodes): the prefix, then standard base64 (padding optional) of 24-64
// bytes. kInvalidArgument saying which rule is broken otherwise; the message
// never contains the secret.
absl::StatusOr<std::string> DecodeWebhookSecret(absl::string_view whsec);

// "v1," and the base64 of HMAC-SHA256(secret_bytes, "<msg_id>.<timestamp_s>.<body>").
// `secret_bytes` is a decoded secret (DecodeWebhookSecret), `body` the exact
// bytes sent.
std::string SignWebhook(absl::string_view secret_bytes, absl::string_view msg_id,
                        int64_t timestamp_s, absl::string_view body);

// The three headers for one attempt, in the order webhook-id,
// webhook-timestamp, webhook-signature. `secrets` are decoded secrets; while
// a secret is rotated there are several and the signature header carries one
// signature for each, in the same order, separated by single spaces.
// kInvalidArgument when `secrets` is empty or holds an empty secret (a
// webhook is never sent unsigned), or when `msg_id` is empty or holds
// anything but printable ASCII without spaces (it becomes a header value).
absl::StatusOr<HttpHeaders> WebhookHeaders(const std::vector<std::string>& secrets,
                                           absl::string_view msg_id,
                                           int64_t timestamp_s,
                                           absl::string_view body);

// How old or new a webhook-timestamp VerifyWebhook accepts by default.
inline constexpr absl::Duration kDefaultWebhookTolerance = absl::Minutes(5);

// Checks a received webhook as a receiver would (AlertHub's own tests and
// examples use it). `secret_bytes` is a decoded secret; `headers` are the
// request's header fields (names in any case); `body` the raw body.
//   OK                  some v1 signature in webhook-signature matches
//   kInvalidArgument    a header is missing or malformed (names it)
//   kUnauthenticated    the timestamp is more than `tolerance` away from
//                       `now`, or no v1 signature matches
// Signatures of other versions ("v1a,...") are ignored; the comparison is
// constant-time.
absl::Status VerifyWebhook(absl::string_view secret_bytes, const HttpHeaders& headers,
                           absl::string_view body, absl::Time now,
                           absl::Duration tolerance = kDefaultWebhookTolerance);

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_SIGNING_H_
