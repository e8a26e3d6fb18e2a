#include "alerthub/server/status_http.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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

http::Response Relabel(http::Response r, int status, absl::string_view title, absl::string_view type_suffix) {
  nlohmann::json body = nlohmann::json::parse(r.body);
  body["status"] = status;
  body["title"] = std::string(title);
  body["type"] = absl::StrCat(kProblemBase, type_suffix);
  r.status = status;
  r.body = body.dump();
  return r;
}


JsonBody ParseJsonBody(const http::Request& req) {
  if (std::optional<std::string> ct = req.Header("Content-Type")) {
    std::string media = absl::AsciiStrToLower(
        absl::StripAsciiWhitespace(absl::string_view(*ct).substr(0, ct->find(';'))));
    if (media != "application/json" && !absl::EndsWith(media, "+json")) {
      return {nullptr, Relabel(ProblemFromStatus(absl::InvalidArgumentError(absl::StrCat(
                                   "unsupported Content-Type \"", media,
                                   "\": send application/json"))),
                               415, "Unsupported Media Type", "unsupported-media-type")};
    }
  }
  absl::StatusOr<nlohmann::json> j = ParseJsonText(req);
  if (!j.ok()) return {nullptr, ProblemFromStatus(j.status())};
  return {*std::move(j), std::nullopt};
}

absl::StatusOr<nlohmann::json> ParseJsonText(const http::Request& req) {
  if (req.body.empty()) return absl::InvalidArgumentError("the request body is empty: send a JSON object");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ...".
    std::string what = e.what();
    size_t pos = what.find("] ");
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON: ", pos == std::string::npos ? what : what.substr(pos + 2)));
  }
  return j;
}

http::Response QueryProblem(const absl::Status& s) {
  http::Response r = ProblemFromStatus(s);
  if (r.status != 422) return r;
  return Relabel(std::move(r), 400, "Bad Request", "invalid-parameter");
}

}  // namespace alerthub::server
