// How remote mode turns the router's HTTP answers back into the absl::Status
// values embedded mode returns, so callers handle one set of codes whichever
// mode they run in (docs/api.md "Errors"):
//
//   400, 413, 422  kInvalidArgument (with the problem's `errors` as field
//                  errors, readable with FieldErrorsOf)
//   401 kUnauthenticated   403 kPermissionDenied   404 kNotFound
//   409 kAlreadyExists     429 kResourceExhausted (RateLimitInfoOf: from
//                          Retry-After and RateLimit-*)
//   502, 503, 504  kUnavailable          501 kUnimplemented
//   other 5xx      kInternal             anything else kUnknown
//
//   HttpResponse r = ...;  // status 422, problem+json body
//   absl::Status s = StatusFromHttpResponse(r);
//   FieldErrorsOf(s)       // {{"type", "is required"}}
#ifndef ALERTHUB_REMOTE_INTERNAL_HTTP_MAPPING_H_
#define ALERTHUB_REMOTE_INTERNAL_HTTP_MAPPING_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/common/status.h"
#include "nlohmann/json.hpp"

namespace alerthub::remote_internal {

// One HTTP answer as the transport received it.
struct HttpResponse {
  int status = 0;
  // Header fields with lowercased names; a repeated field keeps its last value.
  std::map<std::string, std::string> headers;
  std::string body;

  // The value of header `lowercase_name`, if present.
  std::optional<std::string> Header(absl::string_view lowercase_name) const;
};

// OK for 2xx, else the status the table above gives, built from the problem
// body (or the raw body when it is not problem+json) and the headers.
absl::Status StatusFromHttpResponse(const HttpResponse& response);

// The status for a problem object with HTTP status `http_status`, as a batch
// reports per-item failures. `headers` may be null (batch items have none).
absl::Status StatusFromProblem(int http_status, const nlohmann::json& problem,
                               const HttpResponse* headers);

// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds) as a
// RateLimitInfo; zeros for absent or malformed fields. retry_after is not set.
RateLimitInfo RateLimitFromHeaders(const HttpResponse& response);

// How long to wait before retry number `retry` (0-based): 50 ms, 100 ms,
// 200 ms, ... with up to 50% random jitter subtracted.
absl::Duration RetryBackoff(int retry);

}  // namespace alerthub::remote_internal

#endif  // ALERTHUB_REMOTE_INTERNAL_HTTP_MAPPING_H_
