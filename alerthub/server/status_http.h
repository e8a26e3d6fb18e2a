// How an absl::Status becomes an HTTP answer: status code, RFC 9457 problem
// body (with per-field `errors` for invalid input) and the headers clients
// act on (WWW-Authenticate, Retry-After, RateLimit-*). Every AlertHub route
// reports failures through ProblemFromStatus, so one failure has one shape
// whichever route produced it.
//
//   absl::StatusOr<SubmitResult> r = pipeline.Submit(ctx, n);
//   if (!r.ok()) return std::move(writer).Send(ProblemFromStatus(r.status()));
#ifndef ALERTHUB_SERVER_STATUS_HTTP_H_
#define ALERTHUB_SERVER_STATUS_HTTP_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/common/status.h"
#include "alerthub/server/http/router.h"
#include "nlohmann/json.hpp"

namespace alerthub::server {

// The problem `type` URIs AlertHub uses (documented in docs/api.md).
inline constexpr absl::string_view kProblemBase = "https://alerthub.dev/problems/";

// The HTTP status for a status code: kInvalidArgument -> 422 when the status
// carries field errors, else 400; kUnauthenticated 401; kPermissionDenied
// 403; kNotFound 404; kAlreadyExists/kAborted/kFailedPrecondition 409;
// kResourceExhausted 429; kUnavailable 503; kDeadlineExceeded 504;
// kUnimplemented 501; anything else 500.
int HttpStatusFor(const absl::Status& status);

// The problem+json Response for `status` (which must not be OK). Field
// errors become `errors: [{field, message}]`; rate limits add Retry-After
// and RateLimit-*; 401 adds WWW-Authenticate. Internal errors (500) do not
// echo the message, which may hold internals; callers log it.
http::Response ProblemFromStatus(const absl::Status& status);

// The problem object alone (for per-item results of a batch).
nlohmann::json ProblemJson(const absl::Status& status);

// RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset headers (draft
// IETF RateLimit fields; Reset in whole seconds, rounded up). Empty when
// `info.limit` is 0 (limits disabled or unknown).
std::vector<std::pair<std::string, std::string>> RateLimitHeaders(const RateLimitInfo& info);

// `r` (a problem response) re-labelled with another status, title and type
// suffix (of kProblemBase).
http::Response Relabel(http::Response r, int status, absl::string_view title,
                       absl::string_view type_suffix);

// A request body as JSON, or the problem to answer: 415 for a Content-Type
// other than application/json (or +json), 400 for an empty or malformed body.
struct JsonBody {
  nlohmann::json json;
  std::optional<http::Response> problem;
};
JsonBody ParseJsonBody(const http::Request& req);
// The body parsed as JSON, whatever its Content-Type; kInvalidArgument
// naming the position of the syntax error.
absl::StatusOr<nlohmann::json> ParseJsonText(const http::Request& req);

// The answer for bad query parameters: 400 (not 422) with the field errors.
http::Response QueryProblem(const absl::Status& s);

// A 200-599 JSON response.
http::Response JsonResponse(int status, const nlohmann::json& body);

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_STATUS_HTTP_H_
