#include "alerthub/server/http/problem.h"

#include <string>
#include <utility>

namespace alerthub::http {

Response ProblemResponse(int status, absl::string_view title,
                         absl::string_view detail, nlohmann::json extra) {
  nlohmann::json body = {
      {"type", "about:blank"},
      {"title", std::string(title)},
      {"status", status},
      {"detail", std::string(detail)},
  };
  if (extra.is_object()) {
    for (auto& [key, value] : extra.items()) body[key] = std::move(value);
  }
  Response response;
  response.status = status;
  response.content_type = std::string(kProblemJsonContentType);
  response.body =
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

absl::string_view StatusReason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown Status";
  }
}

}  // namespace alerthub::http
