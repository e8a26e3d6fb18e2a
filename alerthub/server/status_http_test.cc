#include "alerthub/server/status_http.h"

#include "gtest/gtest.h"

namespace alerthub::server {
namespace {

std::string HeaderOf(const http::Response& r, absl::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(StatusHttpTest, CodeMapping) {
  EXPECT_EQ(HttpStatusFor(absl::InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusFor(InvalidArgumentWithFields("x", {{"f", "m"}})), 422);
  EXPECT_EQ(HttpStatusFor(absl::UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusFor(absl::PermissionDeniedError("x")), 403);
  EXPECT_EQ(HttpStatusFor(absl::NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusFor(absl::AlreadyExistsError("x")), 409);
  EXPECT_EQ(HttpStatusFor(absl::ResourceExhaustedError("x")), 429);
  EXPECT_EQ(HttpStatusFor(absl::UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusFor(absl::DeadlineExceededError("x")), 504);
  EXPECT_EQ(HttpStatusFor(absl::UnimplementedError("x")), 501);
  EXPECT_EQ(HttpStatusFor(absl::InternalError("x")), 500);
}

TEST(StatusHttpTest, ValidationProblemListsFields) {
  http::Response r = ProblemFromStatus(InvalidArgumentWithFields(
      "invalid notification", {{"type", "is required"}, {"title", "must not be empty"}}));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/problem+json");
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body, nlohmann::json::parse(R"({
    "type": "https://alerthub.dev/problems/validation",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "invalid notification: type: is required; title: must not be empty",
    "errors": [{"field": "type", "message": "is required"},
               {"field": "title", "message": "must not be empty"}]})"));
}

TEST(StatusHttpTest, UnauthenticatedHasChallenge) {
  http::Response r = ProblemFromStatus(absl::UnauthenticatedError("missing credentials"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(HeaderOf(r, "WWW-Authenticate"), "Bearer realm=\"alerthub\"");
}

TEST(StatusHttpTest, RateLimitedHasRetryAfterAndRateLimitHeaders) {
  http::Response r = ProblemFromStatus(RateLimitedError(
      "rate limit exceeded for tenant",
      {.limit = 100, .remaining = 0, .reset_after = absl::Milliseconds(2500),
       .retry_after = absl::Milliseconds(300)}));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(HeaderOf(r, "Retry-After"), "1");
  EXPECT_EQ(HeaderOf(r, "RateLimit-Limit"), "100");
  EXPECT_EQ(HeaderOf(r, "RateLimit-Remaining"), "0");
  EXPECT_EQ(HeaderOf(r, "RateLimit-Reset"), "3");
  EXPECT_EQ(nlohmann::json::parse(r.body)["retry_after_s"], 1);
}

TEST(StatusHttpTest, InternalErrorsDoNotLeakMessages) {
  http::Response r = ProblemFromStatus(absl::InternalError("sqlite: disk I/O error at /secret"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST(StatusHttpTest, NoRateLimitHeadersWhenUnknown) {
  EXPECT_TRUE(RateLimitHeaders({}).empty());
}

}  // namespace
}  // namespace alerthub::server
