// Helpers every channel sender uses: checking an attempt, reading config
// members, timing, and turning an HTTP exchange into a SendResult. Private to
// //alerthub/delivery/channels.
#ifndef ALERTHUB_DELIVERY_CHANNELS_INTERNAL_COMMON_H_
#define ALERTHUB_DELIVERY_CHANNELS_INTERNAL_COMMON_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "nlohmann/json.hpp"

namespace alerthub::channels_internal {

// SendResult::response is cut to this many bytes.
inline constexpr size_t kMaxResponseExcerptBytes = 1024;

// The User-Agent of provider API calls (webhooks have their own).
inline constexpr absl::string_view kProviderUserAgent = "AlertHub/1.0";

// Measures an attempt on the monotonic clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  absl::Duration Elapsed() const {
    return absl::FromChrono(std::chrono::steady_clock::now() - start_);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// At most `max_bytes` of `text`, cut before a UTF-8 character that would not
// fit whole.
std::string Utf8Prefix(absl::string_view text, size_t max_bytes = kMaxResponseExcerptBytes);

// The result for an attempt that can never succeed as it is (broken input or
// config): kPermanent with `why`.
SendResult Broken(std::string why);

// Checks the attempt's pointers, that the integration is for `channel`, and
// that the message was rendered for it; the message, or the reason.
template <typename Message>
absl::StatusOr<const Message*> MessageFor(const SendAttempt& attempt, Channel channel) {
  if (attempt.integration == nullptr || attempt.delivery == nullptr ||
      attempt.notification == nullptr || attempt.message == nullptr) {
    return absl::InvalidArgumentError(
        "send attempt lacks its integration, delivery, notification or message");
  }
  if (attempt.integration->channel != channel) {
    return absl::InvalidArgumentError(
        absl::StrCat("integration ", attempt.integration->id, " is for channel ",
                     ChannelName(attempt.integration->channel), ", not ", ChannelName(channel)));
  }
  const Message* message = std::get_if<Message>(attempt.message);
  if (message == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the message was not rendered for channel ", ChannelName(channel)));
  }
  return message;
}

// The string member `key` of `object`, or kInvalidArgument naming
// `path` ("config.url") when it is missing, empty or not a string.
absl::StatusOr<absl::string_view> RequiredString(const nlohmann::json& object,
                                                 absl::string_view key, absl::string_view path);
// The same, but "" when the member is absent or null.
absl::StatusOr<absl::string_view> OptionalString(const nlohmann::json& object,
                                                 absl::string_view key, absl::string_view path);

// Fills outcome, code, retry_after, response and error from an HTTP exchange
// whose meaning is the plain HTTP one (ClassifyHttpStatus, or
// ClassifyTransportError when no answer came). `who` names the other side
// in errors ("webhook receiver"). Retry-After dates are read against `now`.
SendResult ResultFromHttp(const absl::StatusOr<HttpResponse>& response, absl::string_view who,
                          absl::Time now);

// The result when no answer came: the outcome per ClassifyTransportError.
SendResult TransportFailure(const absl::Status& status, absl::string_view who);

// The Retry-After of `response`, if it has a readable one.
std::optional<absl::Duration> RetryAfterOf(const HttpResponse& response, absl::Time now);

// The first line of a body, cut for an error message.
std::string BodyForError(absl::string_view body);

// "…" and the last 8 characters of a device token (or the whole of a short
// one), for logs and errors.
std::string MaskToken(absl::string_view token);

}  // namespace alerthub::channels_internal

#endif  // ALERTHUB_DELIVERY_CHANNELS_INTERNAL_COMMON_H_
