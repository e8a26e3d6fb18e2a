// Status helpers shared by every AlertHub component.
//
// AlertHub reports every failure as an absl::Status. Two kinds carry
// structured detail as payloads, so transports (HTTP problem+json, gRPC,
// Python exceptions) can render it without parsing messages:
//
//   * invalid input: kInvalidArgument with the list of offending fields;
//   * rate limiting: kResourceExhausted with the retry-after and the limit.
//
// Example:
//   absl::Status s = InvalidArgumentWithFields(
//       "invalid notification", {{"type", "is required"}});
//   for (const FieldError& e : FieldErrorsOf(s)) { ... }   // {"type", "is required"}
#ifndef ALERTHUB_COMMON_STATUS_H_
#define ALERTHUB_COMMON_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace alerthub {

// One broken rule of one input field. `field` is a JSON path relative to the
// request body ("type", "tags.env", "items[3].priority").
struct FieldError {
  std::string field;
  std::string message;

  bool operator==(const FieldError& other) const = default;
};

// kInvalidArgument whose message is `message` followed by each field error
// ("invalid notification: type: is required; title: must not be empty"), with
// the errors attached as a payload that FieldErrorsOf() reads back.
absl::Status InvalidArgumentWithFields(absl::string_view message,
                                       std::vector<FieldError> errors);

// The field errors attached by InvalidArgumentWithFields(); empty otherwise.
std::vector<FieldError> FieldErrorsOf(const absl::Status& status);

// Prefixes every field error of `status` with `prefix` ("items[2]."), keeping
// the code. A status without field errors is returned unchanged.
absl::Status PrefixFieldErrors(const absl::Status& status,
                               absl::string_view prefix);

// What a rate limiter decided, as transports report it (RateLimit-* headers).
struct RateLimitInfo {
  int64_t limit = 0;          // bucket capacity (burst)
  int64_t remaining = 0;      // whole tokens left
  absl::Duration reset_after;  // until the bucket is full again
  absl::Duration retry_after;  // until the request would be allowed
};

// kResourceExhausted carrying `info`.
absl::Status RateLimitedError(absl::string_view message,
                              const RateLimitInfo& info);

// The RateLimitInfo attached by RateLimitedError(), if any.
std::optional<RateLimitInfo> RateLimitInfoOf(const absl::Status& status);

}  // namespace alerthub

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define ALERTHUB_RETURN_IF_ERROR(expr)                 \
  do {                                                 \
    ::absl::Status alerthub_status_ = (expr);          \
    if (!alerthub_status_.ok()) return alerthub_status_; \
  } while (0)

#define ALERTHUB_STATUS_CONCAT_INNER_(a, b) a##b
#define ALERTHUB_STATUS_CONCAT_(a, b) ALERTHUB_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when not OK,
// else move-assigns its value to `lhs` (which may be a declaration).
#define ALERTHUB_ASSIGN_OR_RETURN(lhs, rexpr)                                 \
  ALERTHUB_ASSIGN_OR_RETURN_IMPL_(                                            \
      ALERTHUB_STATUS_CONCAT_(alerthub_statusor_, __LINE__), lhs, rexpr)
#define ALERTHUB_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return statusor.status();               \
  lhs = std::move(statusor).value()

#endif  // ALERTHUB_COMMON_STATUS_H_
