// RFC 9457 problem details: how every AlertHub HTTP error is reported.
//
// The server uses this for its own errors (404, 405, 413, ...) and route code
// uses it for theirs, so clients see one error shape everywhere:
//
//   std::move(writer).Send(
//       ProblemResponse(404, "Not Found", "no notification " + id));
//   // 404, Content-Type: application/problem+json
//   // {"type":"about:blank","title":"Not Found","status":404,
//   //  "detail":"no notification 0193..."}
//
//   nlohmann::json errors = {{{"field", "type"}, {"message", "is required"}}};
//   ProblemResponse(400, "Bad Request", "invalid notification",
//                   {{"errors", errors}});
#ifndef ALERTHUB_SERVER_HTTP_PROBLEM_H_
#define ALERTHUB_SERVER_HTTP_PROBLEM_H_

#include "absl/strings/string_view.h"
#include "alerthub/server/http/router.h"
#include "nlohmann/json.hpp"

namespace alerthub::http {

// The media type of RFC 9457 problem details.
inline constexpr absl::string_view kProblemJsonContentType =
    "application/problem+json";

// A Response with `status`, Content-Type application/problem+json and body
// {"type": "about:blank", "title": title, "status": status, "detail": detail}
// plus every member of `extra` (which must be a JSON object or null; members
// named like the standard ones replace them, so `extra` may set "type").
// Strings that are not valid UTF-8 are rendered with U+FFFD replacements,
// never thrown on.
Response ProblemResponse(int status, absl::string_view title,
                         absl::string_view detail,
                         nlohmann::json extra = nlohmann::json());

// The standard reason phrase of `status` ("Not Found"), or "Unknown Status".
absl::string_view StatusReason(int status);

}  // namespace alerthub::http

#endif  // ALERTHUB_SERVER_HTTP_PROBLEM_H_
