#include "alerthub/server/status_http.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "alerthub/server/http/problem.h"

namespace alerthub::server {
namespace {

int64_t CeilSeconds(absl::Duration d) {
  return static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(d)));
}

absl::string_view TypeSuffix(int http_status) {
  switch (http_status) {
    case 400: return "malformed-request";
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 409: return "conflict";
    case 422: return "validation";
    case 429: return "rate-limited";
    case 501: return "not-implemented";
    case 503: return "unavailable";
    case 504: return "timeout";
    default: return "internal";
  }
}

}  // namespace

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return FieldErrorsOf(status).empty() ? 400 : 422;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    case absl::StatusCode::kUnimplemented: return 501;
    default: return 500;
  }
}

nlohmann::json ProblemJson(const absl::Status& status) {
  const int code = HttpStatusFor(status);
  nlohmann::json j = {
      {"type", absl::StrCat(kProblemBase, TypeSuffix(code))},
      {"title", std::string(http::StatusReason(code))},
      {"status", code},
      {"detail", code == 500 ? std::string("internal error; see the server log for the request id")
                             : std::string(status.message())},
  };
  std::vector<FieldError> errors = FieldErrorsOf(status);
  if (!errors.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const FieldError& e : errors) list.push_back({{"field", e.field}, {"message", e.message}});
    j["errors"] = std::move(list);
  }
  if (std::optional<RateLimitInfo> rl = RateLimitInfoOf(status)) {
    j["retry_after_s"] = std::max<int64_t>(1, CeilSeconds(rl->retry_after));
  }
  return j;
}

std::vector<std::pair<std::string, std::string>> RateLimitHeaders(const RateLimitInfo& info) {
  std::vector<std::pair<std::string, std::string>> h;
  if (info.limit <= 0) return h;
  h.emplace_back("RateLimit-Limit", absl::StrCat(info.limit));
  h.emplace_back("RateLimit-Remaining", absl::StrCat(std::max<int64_t>(0, info.remaining)));
  h.emplace_back("RateLimit-Reset", absl::StrCat(CeilSeconds(info.reset_after)));
  return h;
}

http::Response ProblemFromStatus(const absl::Status& status) {
  nlohmann::json body = ProblemJson(status);
  const int code = body["status"].get<int>();
  http::Response r = http::ProblemResponse(code, body["title"].get<std::string>(),
                                           body["detail"].get<std::string>(), body);
  if (code == 401) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"alerthub\"");
  }
  if (std::optional<RateLimitInfo> rl = RateLimitInfoOf(status)) {
    r.headers.emplace_back("Retry-After",
                           absl::StrCat(std::max<int64_t>(1, CeilSeconds(rl->retry_after))));
    for (auto& h : RateLimitHeaders(*rl)) r.headers.push_back(std::move(h));
  } else if (code == 503) {
    r.headers.emplace_back("Retry-After", "1");
  }
  return r;
}

http::Response JsonResponse(int status, const nlohmann::json& body) {
  http::Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace alerthub::server
