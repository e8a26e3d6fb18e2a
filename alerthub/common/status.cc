#include "alerthub/common/status.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

constexpr absl::string_view kFieldErrorsUrl =
    "type.alerthub.dev/alerthub.FieldErrors";
constexpr absl::string_view kRateLimitUrl =
    "type.alerthub.dev/alerthub.RateLimitInfo";

int64_t ToMillis(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

}  // namespace

absl::Status InvalidArgumentWithFields(absl::string_view message,
                                       std::vector<FieldError> errors) {
  std::string text(message);
  if (!errors.empty()) {
    absl::StrAppend(&text, ": ",
                    absl::StrJoin(errors, "; ", [](std::string* out,
                                                   const FieldError& e) {
                      absl::StrAppend(out, e.field, ": ", e.message);
                    }));
  }
  absl::Status status = absl::InvalidArgumentError(text);
  nlohmann::json payload = nlohmann::json::array();
  for (const FieldError& e : errors) {
    payload.push_back({{"field", e.field}, {"message", e.message}});
  }
  // Invalid UTF-8 in a field name or message must not throw.
  status.SetPayload(kFieldErrorsUrl,
                    absl::Cord(payload.dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace)));
  return status;
}

std::vector<FieldError> FieldErrorsOf(const absl::Status& status) {
  std::vector<FieldError> out;
  auto payload = status.GetPayload(kFieldErrorsUrl);
  if (!payload.has_value()) return out;
  nlohmann::json j = nlohmann::json::parse(std::string(*payload), nullptr,
                                           /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    out.push_back({e.value("field", ""), e.value("message", "")});
  }
  return out;
}

absl::Status PrefixFieldErrors(const absl::Status& status,
                               absl::string_view prefix) {
  std::vector<FieldError> errors = FieldErrorsOf(status);
  if (errors.empty()) return status;
  for (FieldError& e : errors) e.field = absl::StrCat(prefix, e.field);
  std::string message(status.message());
  // Keep the leading sentence (before the first field list) as the message.
  if (size_t colon = message.find(": "); colon != std::string::npos) {
    message.resize(colon);
  }
  return InvalidArgumentWithFields(message, std::move(errors));
}

absl::Status RateLimitedError(absl::string_view message,
                              const RateLimitInfo& info) {
  absl::Status status = absl::ResourceExhaustedError(message);
  nlohmann::json payload = {{"limit", info.limit},
                            {"remaining", info.remaining},
                            {"reset_after_ms", ToMillis(info.reset_after)},
                            {"retry_after_ms", ToMillis(info.retry_after)}};
  status.SetPayload(kRateLimitUrl, absl::Cord(payload.dump()));
  return status;
}

std::optional<RateLimitInfo> RateLimitInfoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRateLimitUrl);
  if (!payload.has_value()) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(std::string(*payload), nullptr,
                                           /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  RateLimitInfo info;
  info.limit = j.value("limit", int64_t{0});
  info.remaining = j.value("remaining", int64_t{0});
  info.reset_after = absl::Milliseconds(j.value("reset_after_ms", int64_t{0}));
  info.retry_after = absl::Milliseconds(j.value("retry_after_ms", int64_t{0}));
  return info;
}

}  // namespace alerthub
