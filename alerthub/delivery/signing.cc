#include "alerthub/delivery/signing.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <optional>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "alerthub/common/crypto.h"

namespace alerthub {
namespace {

// Bytes of a generated secret: 256 bits, the HMAC-SHA256 output size.
constexpr size_t kGeneratedSecretBytes = 32;

// Standard base64 with padding, as the Standard Webhooks spec encodes both
// secrets and signatures.
std::string Base64Encode(absl::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + EVP's NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  if (n < 0) std::abort();  // EVP_EncodeBlock cannot fail on valid buffers
  out.resize(static_cast<size_t>(n));
  return out;
}

// "<msg_id>.<timestamp_s>.<body>", the signed content.
std::string SignedContent(absl::string_view msg_id, int64_t timestamp_s,
                          absl::string_view body) {
  return absl::StrCat(msg_id, ".", timestamp_s, ".", body);
}

bool IsHeaderToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

// The value of the first header named `name` (case-insensitively).
std::optional<absl::string_view> FindHeader(const HttpHeaders& headers,
                                            absl::string_view name) {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return absl::string_view(value);
  }
  return std::nullopt;
}

}  // namespace

std::string GenerateWebhookSecret() {
  return absl::StrCat(kWebhookSecretPrefix,
                      Base64Encode(RandomBytes(kGeneratedSecretBytes)));
}

absl::StatusOr<std::string> DecodeWebhookSecret(absl::string_view whsec) {
  if (!absl::StartsWith(whsec, kWebhookSecretPrefix)) {
    return absl::InvalidArgumentError(
        "webhook secret must start with \"whsec_\"");
  }
  // absl::Base64Unescape is what ValidateIntegrationConfig checks stored
  // secrets with; using it here keeps "accepted" and "usable" the same set.
  std::string key;
  if (!absl::Base64Unescape(whsec.substr(kWebhookSecretPrefix.size()), &key)) {
    return absl::InvalidArgumentError(
        "webhook secret is not valid base64 after \"whsec_\"");
  }
  if (key.size() < kMinWebhookSecretBytes || key.size() > kMaxWebhookSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "webhook secret must decode to ", kMinWebhookSecretBytes, "-",
        kMaxWebhookSecretBytes, " bytes; it decodes to ", key.size()));
  }
  return key;
}

std::string SignWebhook(absl::string_view secret_bytes, absl::string_view msg_id,
                        int64_t timestamp_s, absl::string_view body) {
  return absl::StrCat(
      "v1,", Base64Encode(HmacSha256(secret_bytes,
                                     SignedContent(msg_id, timestamp_s, body))));
}

absl::StatusOr<HttpHeaders> WebhookHeaders(const std::vector<std::string>& secrets,
                                           absl::string_view msg_id,
                                           int64_t timestamp_s,
                                           absl::string_view body) {
  if (secrets.empty()) {
    return absl::InvalidArgumentError("a webhook needs at least one secret");
  }
  if (!IsHeaderToken(msg_id)) {
    return absl::InvalidArgumentError(
        "webhook-id must be non-empty printable ASCII without spaces");
  }
  // Sign once per secret over the same content; only the key differs.
  const std::string content = SignedContent(msg_id, timestamp_s, body);
  std::string signatures;
  for (const std::string& secret : secrets) {
    if (secret.empty()) {
      return absl::InvalidArgumentError("a webhook secret must not be empty");
    }
    if (!signatures.empty()) signatures.push_back(' ');
    absl::StrAppend(&signatures, "v1,", Base64Encode(HmacSha256(secret, content)));
  }
  return HttpHeaders{
      {std::string(kWebhookIdHeader), std::string(msg_id)},
      {std::string(kWebhookTimestampHeader), absl::StrCat(timestamp_s)},
      {std::string(kWebhookSignatureHeader), std::move(signatures)},
  };
}

absl::Status VerifyWebhook(absl::string_view secret_bytes, const HttpHeaders& headers,
                           absl::string_view body, absl::Time now,
                           absl::Duration tolerance) {
  const std::optional<absl::string_view> id = FindHeader(headers, kWebhookIdHeader);
  const std::optional<absl::string_view> ts_text =
      FindHeader(headers, kWebhookTimestampHeader);
  const std::optional<absl::string_view> sigs =
      FindHeader(headers, kWebhookSignatureHeader);
  for (const auto& [value, name] :
       {std::pair{id, kWebhookIdHeader}, std::pair{ts_text, kWebhookTimestampHeader},
        std::pair{sigs, kWebhookSignatureHeader}}) {
    if (!value.has_value() || value->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("missing header ", name));
    }
  }

  int64_t timestamp_s = 0;
  if (!absl::c_all_of(*ts_text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(*ts_text, &timestamp_s)) {
    return absl::InvalidArgumentError(absl::StrCat(
        kWebhookTimestampHeader, " must be Unix seconds; got \"", *ts_text, "\""));
  }
  const absl::Time sent = absl::FromUnixSeconds(timestamp_s);
  if (sent < now - tolerance) {
    return absl::UnauthenticatedError(absl::StrCat(
        "webhook timestamp is too old: ", absl::FormatDuration(now - sent),
        " before now; the tolerance is ", absl::FormatDuration(tolerance)));
  }
  if (sent > now + tolerance) {
    return absl::UnauthenticatedError(absl::StrCat(
        "webhook timestamp is too new: ", absl::FormatDuration(sent - now),
        " after now; the tolerance is ", absl::FormatDuration(tolerance)));
  }

  const std::string expected = SignWebhook(secret_bytes, *id, timestamp_s, body);
  for (absl::string_view sig : absl::StrSplit(*sigs, ' ', absl::SkipEmpty())) {
    if (absl::StartsWith(sig, "v1,") && ConstantTimeEquals(sig, expected)) {
      return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError("no webhook signature matches");
}

}  // namespace alerthub
