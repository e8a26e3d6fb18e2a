#include "alerthub/delivery/channels/internal/common.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace alerthub::channels_internal {
namespace {

// Error messages quote at most this much of an answer.
constexpr size_t kMaxBodyInError = 200;

}  // namespace

std::string Utf8Prefix(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character
  // that does not fit, and cut before it.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

SendResult Broken(std::string why) {
  SendResult r;
  r.outcome = AttemptOutcome::kPermanent;
  r.error = std::move(why);
  return r;
}

absl::StatusOr<absl::string_view> OptionalString(const nlohmann::json& object,
                                                 absl::string_view key, absl::string_view path) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.substr(0, path.rfind('.')), " is not an object"));
  }
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return absl::string_view();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a string"));
  }
  return absl::string_view(it->get_ref<const std::string&>());
}

absl::StatusOr<absl::string_view> RequiredString(const nlohmann::json& object,
                                                 absl::string_view key, absl::string_view path) {
  absl::StatusOr<absl::string_view> value = OptionalString(object, key, path);
  if (value.ok() && value->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is required"));
  }
  return value;
}

std::optional<absl::Duration> RetryAfterOf(const HttpResponse& response, absl::Time now) {
  for (const auto& [name, value] : response.headers) {
    if (absl::EqualsIgnoreCase(name, "Retry-After")) return ParseRetryAfter(value, now);
  }
  return std::nullopt;
}

std::string BodyForError(absl::string_view body) {
  body = absl::StripAsciiWhitespace(body.substr(0, body.find_first_of("\r\n")));
  std::string out = Utf8Prefix(body, kMaxBodyInError);
  if (out.size() < body.size()) out += "…";
  return out;
}

SendResult TransportFailure(const absl::Status& status, absl::string_view who) {
  SendResult r;
  r.outcome = ClassifyTransportError(status);
  r.error = absl::StrCat("no answer from ", who, ": ", absl::StatusCodeToString(status.code()),
                         ": ", status.message());
  return r;
}

SendResult ResultFromHttp(const absl::StatusOr<HttpResponse>& response, absl::string_view who,
                          absl::Time now) {
  if (!response.ok()) return TransportFailure(response.status(), who);
  SendResult r;
  r.code = response->status;
  r.outcome = ClassifyHttpStatus(response->status);
  r.response = Utf8Prefix(response->body);
  if (r.outcome != AttemptOutcome::kSuccess) {
    r.retry_after = RetryAfterOf(*response, now);
    r.error = absl::StrCat(who, " answered HTTP ", response->status);
    const std::string excerpt = BodyForError(response->body);
    if (!excerpt.empty()) absl::StrAppend(&r.error, ": ", excerpt);
  }
  return r;
}

std::string MaskToken(absl::string_view token) {
  constexpr size_t kShown = 8;
  if (token.size() <= kShown) return std::string(token);
  return absl::StrCat("…", token.substr(token.size() - kShown));
}

}  // namespace alerthub::channels_internal
