#include "alerthub/ports/http_client.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace alerthub {
namespace {

// The payload type URL under which SetSmtpReplyCode stores the code, as
// decimal text.
constexpr absl::string_view kSmtpReplyCodePayload = "type.alerthub.dev/smtp-reply-code";

}  // namespace

std::string HttpResponse::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

void SetSmtpReplyCode(absl::Status& status, int code) {
  if (status.ok()) return;
  status.SetPayload(kSmtpReplyCodePayload, absl::Cord(std::to_string(code)));
}

std::optional<int> SmtpReplyCode(const absl::Status& status) {
  const auto payload = status.GetPayload(kSmtpReplyCodePayload);
  int code = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &code)) {
    return std::nullopt;
  }
  return code;
}

}  // namespace alerthub
