// Formatting for the access log and the Date header; hot-path helpers.
#ifndef ALERTHUB_SERVER_HTTP_INTERNAL_ACCESS_LOG_H_
#define ALERTHUB_SERVER_HTTP_INTERNAL_ACCESS_LOG_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace alerthub::http::http_internal {

struct AccessLogEntry {
  absl::Time ts;  // when the request header was complete
  absl::string_view method;
  absl::string_view path;  // without the query string
  absl::string_view route;
  int status = 0;
  size_t bytes = 0;
  absl::Duration duration;
  absl::string_view request_id;
  absl::string_view traceparent;
  absl::string_view remote;
};

// One JSON object, no trailing newline:
// {"ts":"2026-...Z","level":"info","msg":"request","method":"GET",
//  "path":"/x","route":"/x","status":200,"bytes":2,"duration_ms":0.123,
//  "request_id":"...","traceparent":"00-...","remote":"127.0.0.1:5555"}
std::string FormatAccessLogLine(const AccessLogEntry& entry);

// Appends `s` as a JSON string literal (quotes included). Invalid UTF-8
// becomes U+FFFD, so the line is always valid JSON.
void AppendJsonString(std::string& out, absl::string_view s);

// The IMF-fixdate of `now` ("Sun, 06 Nov 1994 08:49:37 GMT"), cached per
// thread for the current second.
absl::string_view HttpDate(absl::Time now);

}  // namespace alerthub::http::http_internal

#endif  // ALERTHUB_SERVER_HTTP_INTERNAL_ACCESS_LOG_H_
