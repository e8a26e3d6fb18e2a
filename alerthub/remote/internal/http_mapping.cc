#include "alerthub/remote/internal/http_mapping.h"

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace alerthub::remote_internal {
namespace {

constexpr size_t kMaxEchoedBody = 200;

// A non-negative integer header value ("12"), else nullopt.
std::optional<int64_t> IntHeader(const HttpResponse& r, absl::string_view name) {
  std::optional<std::string> v = r.Header(name);
  if (!v.has_value()) return std::nullopt;
  int64_t n = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*v), &n) || n < 0) return std::nullopt;
  return n;
}

// Retry-After as delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
std::optional<absl::Duration> RetryAfter(const HttpResponse& r) {
  if (std::optional<int64_t> s = IntHeader(r, "retry-after")) return absl::Seconds(*s);
  std::optional<std::string> v = r.Header("retry-after");
  if (!v.has_value()) return std::nullopt;
  absl::Time at;
  std::string err;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", absl::StripAsciiWhitespace(*v), &at, &err)) {
    return std::nullopt;
  }
  return std::max(absl::ZeroDuration(), at - absl::Now());
}

std::string StringMember(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return "";
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<FieldError> FieldErrors(const nlohmann::json& problem) {
  std::vector<FieldError> errors;
  if (!problem.is_object()) return errors;
  auto it = problem.find("errors");
  if (it == problem.end() || !it->is_array()) return errors;
  for (const nlohmann::json& e : *it) {
    errors.push_back({StringMember(e, "field"), StringMember(e, "message")});
  }
  return errors;
}

// The router's detail repeats the field errors after the leading sentence
// ("invalid notification: type: is required"); InvalidArgumentWithFields
// appends them again, so pass it the sentence alone. The result then has the
// same message as the status the router rendered.
std::string LeadingSentence(absl::string_view detail, const std::vector<FieldError>& errors) {
  const std::string listed =
      absl::StrCat(": ", absl::StrJoin(errors, "; ", [](std::string* out, const FieldError& e) {
                     absl::StrAppend(out, e.field, ": ", e.message);
                   }));
  if (absl::EndsWith(detail, listed)) detail.remove_suffix(listed.size());
  return detail.empty() ? "invalid request" : std::string(detail);
}

}  // namespace

std::optional<std::string> HttpResponse::Header(absl::string_view lowercase_name) const {
  auto it = headers.find(std::string(lowercase_name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

RateLimitInfo RateLimitFromHeaders(const HttpResponse& response) {
  RateLimitInfo info;
  info.limit = IntHeader(response, "ratelimit-limit").value_or(0);
  info.remaining = IntHeader(response, "ratelimit-remaining").value_or(0);
  info.reset_after = absl::Seconds(IntHeader(response, "ratelimit-reset").value_or(0));
  return info;
}

absl::Status StatusFromProblem(int http_status, const nlohmann::json& problem,
                               const HttpResponse* headers) {
  std::string detail = StringMember(problem, "detail");
  if (detail.empty()) detail = StringMember(problem, "title");
  if (detail.empty()) detail = absl::StrCat("HTTP ", http_status);
  switch (http_status) {
    case 400:
    case 422: {
      std::vector<FieldError> errors = FieldErrors(problem);
      if (errors.empty()) return absl::InvalidArgumentError(detail);
      std::string sentence = LeadingSentence(detail, errors);
      return InvalidArgumentWithFields(sentence, std::move(errors));
    }
    case 413:
      return absl::InvalidArgumentError(absl::StrCat("request too large: ", detail));
    case 401:
      return absl::UnauthenticatedError(detail);
    case 403:
      return absl::PermissionDeniedError(detail);
    case 404:
      return absl::NotFoundError(detail);
    case 409:
      return absl::AlreadyExistsError(detail);
    case 429: {
      RateLimitInfo info;
      std::optional<absl::Duration> retry_after;
      if (headers != nullptr) {
        info = RateLimitFromHeaders(*headers);
        retry_after = RetryAfter(*headers);
      }
      if (!retry_after.has_value() && problem.is_object()) {
        auto it = problem.find("retry_after_s");
        if (it != problem.end() && it->is_number()) {
          retry_after = absl::Seconds(std::max(0.0, it->get<double>()));
        }
      }
      // A 429 without a hint still means "later"; the router always sends one.
      info.retry_after = retry_after.value_or(absl::Seconds(1));
      return RateLimitedError(detail, info);
    }
    case 502:
    case 503:
    case 504:
      return absl::UnavailableError(detail);
    case 501:
      return absl::UnimplementedError(detail);
    default:
      if (http_status >= 500 && http_status < 600) return absl::InternalError(detail);
      return absl::UnknownError(absl::StrCat("unexpected HTTP ", http_status, ": ", detail));
  }
}

absl::Status StatusFromHttpResponse(const HttpResponse& response) {
  if (response.status >= 200 && response.status < 300) return absl::OkStatus();
  nlohmann::json problem =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!problem.is_object()) {
    // Not from the router (a proxy's HTML page, say): echo the start of it.
    std::string text(absl::StripAsciiWhitespace(response.body).substr(0, kMaxEchoedBody));
    for (char& c : text) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    problem = nlohmann::json::object();
    problem["detail"] = text.empty() ? absl::StrCat("HTTP ", response.status)
                                     : absl::StrCat("HTTP ", response.status, ": ", text);
  }
  return StatusFromProblem(response.status, problem, &response);
}

absl::Duration RetryBackoff(int retry) {
  thread_local absl::BitGen gen;
  const absl::Duration full = absl::Milliseconds(50) * (int64_t{1} << std::min(retry, 10));
  return full - full * absl::Uniform(gen, 0.0, 0.5);
}

}  // namespace alerthub::remote_internal
