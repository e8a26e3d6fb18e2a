#include "alerthub/remote/remote_client.h"

#include <string>
#include <vector>

#include "alerthub/common/status.h"
#include "alerthub/remote/internal/endpoint.h"
#include "alerthub/remote/internal/http_mapping.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::remote_internal::Endpoint;
using ::alerthub::remote_internal::HttpResponse;
using ::alerthub::remote_internal::ParseEndpoint;
using ::alerthub::remote_internal::PercentEncode;
using ::alerthub::remote_internal::RateLimitFromHeaders;
using ::alerthub::remote_internal::RetryBackoff;
using ::alerthub::remote_internal::StatusFromHttpResponse;
using ::alerthub::remote_internal::StatusFromProblem;
using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldError& e : FieldErrorsOf(s)) out.push_back(e.field);
  return out;
}

TEST(ParseEndpointTest, AcceptsHttpAndHttpsBases) {
  ASSERT_OK_AND_ASSIGN(Endpoint e, ParseEndpoint("http://127.0.0.1:8080"));
  EXPECT_FALSE(e.tls);
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 8080);
  EXPECT_EQ(e.host_header, "127.0.0.1:8080");
  EXPECT_EQ(e.base_url, "http://127.0.0.1:8080");

  ASSERT_OK_AND_ASSIGN(e, ParseEndpoint("HTTPS://Alerts.Example.com/"));
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.port, 443);
  EXPECT_EQ(e.host_header, "Alerts.Example.com");
  EXPECT_EQ(e.base_url, "https://alerts.example.com");

  ASSERT_OK_AND_ASSIGN(e, ParseEndpoint("http://[::1]:9000/"));
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.host_header, "[::1]:9000");
  EXPECT_EQ(e.base_url, "http://[::1]:9000");

  ASSERT_OK_AND_ASSIGN(e, ParseEndpoint("http://localhost"));
  EXPECT_EQ(e.port, 80);
  EXPECT_EQ(e.base_url, "http://localhost");
}

TEST(ParseEndpointTest, RejectsEverythingElseNamingTheField) {
  for (const char* bad :
       {"", "localhost:8080", "ftp://host", "ws://host:1", "http://", "http:///x",
        "http://host/api", "http://host/api/v1", "http://host?x=1", "http://host/#f",
        "http://user:pw@host", "http://host:", "http://host:0", "http://host:65536",
        "http://host:80x", "http://[::1", "http://[]:80", "http://ho st", "http://[::1]x"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<Endpoint> e = ParseEndpoint(bad);
    EXPECT_THAT(e, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(Fields(e.status()), ElementsAre("endpoint"));
  }
}

TEST(PercentEncodeTest, KeepsOnlyUnreserved) {
  EXPECT_EQ(PercentEncode("aZ0-._~"), "aZ0-._~");
  EXPECT_EQ(PercentEncode("a b/c?d&e=f#%+"), "a%20b%2Fc%3Fd%26e%3Df%23%25%2B");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");
}

HttpResponse Answer(int status, std::string body, std::map<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(StatusFromHttpTest, SuccessIsOk) {
  EXPECT_OK(StatusFromHttpResponse(Answer(200, "{}")));
  EXPECT_OK(StatusFromHttpResponse(Answer(202, "{}")));
}

TEST(StatusFromHttpTest, ValidationProblemKeepsFieldErrorsAndMessage) {
  // Exactly what the router sends for {"type": "", "recipients": [""]}.
  const std::string body =
      R"({"detail":"invalid notification: type: is required; recipients[0]: must not be empty","errors":[{"field":"type","message":"is required"},{"field":"recipients[0]","message":"must not be empty"}],"status":422,"title":"Unprocessable Content","type":"https://alerthub.dev/problems/validation"})";
  absl::Status s = StatusFromHttpResponse(Answer(422, body));
  const absl::Status embedded = InvalidArgumentWithFields(
      "invalid notification", {{"type", "is required"}, {"recipients[0]", "must not be empty"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), embedded.message());
  EXPECT_EQ(FieldErrorsOf(s), FieldErrorsOf(embedded));
}

TEST(StatusFromHttpTest, BadQueryIsInvalidArgumentWithFields) {
  const std::string body =
      R"({"detail":"invalid query parameters: limit: must be an integer between 1 and 500","errors":[{"field":"limit","message":"must be an integer between 1 and 500"}],"status":400,"title":"Bad Request","type":"https://alerthub.dev/problems/invalid-parameter"})";
  absl::Status s = StatusFromHttpResponse(Answer(400, body));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          "invalid query parameters: limit: must be an integer between 1 and 500"));
  EXPECT_THAT(Fields(s), ElementsAre("limit"));
  // A 400 without `errors` (malformed JSON) has no field errors.
  s = StatusFromHttpResponse(Answer(400, R"({"detail":"malformed JSON: x","status":400})"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "malformed JSON: x"));
  EXPECT_TRUE(FieldErrorsOf(s).empty());
}

TEST(StatusFromHttpTest, CodesFollowTheTable) {
  struct Case {
    int http;
    absl::StatusCode code;
  };
  for (const Case& c : std::vector<Case>{
           {401, absl::StatusCode::kUnauthenticated},
           {403, absl::StatusCode::kPermissionDenied},
           {404, absl::StatusCode::kNotFound},
           {409, absl::StatusCode::kAlreadyExists},
           {413, absl::StatusCode::kInvalidArgument},
           {429, absl::StatusCode::kResourceExhausted},
           {500, absl::StatusCode::kInternal},
           {501, absl::StatusCode::kUnimplemented},
           {502, absl::StatusCode::kUnavailable},
           {503, absl::StatusCode::kUnavailable},
           {504, absl::StatusCode::kUnavailable},
           {405, absl::StatusCode::kUnknown},
           {302, absl::StatusCode::kUnknown},
       }) {
    SCOPED_TRACE(c.http);
    absl::Status s = StatusFromHttpResponse(
        Answer(c.http, absl::StrCat(R"({"detail":"what happened","status":)", c.http, "}")));
    EXPECT_THAT(s, StatusIs(c.code, HasSubstr("what happened")));
  }
}

TEST(StatusFromHttpTest, NonJsonBodyIsEchoedShortly) {
  absl::Status s = StatusFromHttpResponse(
      Answer(502, "<html>\n<body>Bad Gateway</body></html>" + std::string(1000, 'x')));
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 502: <html> <body>Bad Gateway")));
  EXPECT_LT(s.message().size(), 260u);
  EXPECT_THAT(StatusFromHttpResponse(Answer(503, "")),
              StatusIs(absl::StatusCode::kUnavailable, "HTTP 503"));
}

TEST(StatusFromHttpTest, RateLimitReadsHeaders) {
  absl::Status s = StatusFromHttpResponse(
      Answer(429, R"({"detail":"rate limit exceeded for tenant","retry_after_s":1,"status":429})",
             {{"retry-after", "7"},
              {"ratelimit-limit", "10"},
              {"ratelimit-remaining", "0"},
              {"ratelimit-reset", "3"}}));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted, "rate limit exceeded for tenant"));
  std::optional<RateLimitInfo> info = RateLimitInfoOf(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->retry_after, absl::Seconds(7));
  EXPECT_EQ(info->limit, 10);
  EXPECT_EQ(info->remaining, 0);
  EXPECT_EQ(info->reset_after, absl::Seconds(3));

  // Without Retry-After: the body's retry_after_s, else one second.
  info = RateLimitInfoOf(
      StatusFromHttpResponse(Answer(429, R"({"detail":"slow down","retry_after_s":4})")));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->retry_after, absl::Seconds(4));
  info = RateLimitInfoOf(StatusFromHttpResponse(Answer(429, "")));
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->retry_after, absl::Seconds(1));

  // An HTTP-date Retry-After.
  const std::string date = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                            absl::Now() + absl::Seconds(30), absl::UTCTimeZone());
  info = RateLimitInfoOf(StatusFromHttpResponse(Answer(429, "", {{"retry-after", date}})));
  ASSERT_TRUE(info.has_value());
  EXPECT_GT(info->retry_after, absl::Seconds(25));
  EXPECT_LE(info->retry_after, absl::Seconds(30));
}

TEST(StatusFromHttpTest, BatchItemProblem) {
  nlohmann::json problem = nlohmann::json::parse(
      R"({"detail":"invalid notification: type: is required","errors":[{"field":"type","message":"is required"}],"status":422,"title":"Unprocessable Content"})");
  absl::Status s = StatusFromProblem(422, problem, nullptr);
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kInvalidArgument, "invalid notification: type: is required"));
  EXPECT_THAT(Fields(s), ElementsAre("type"));
  EXPECT_THAT(StatusFromProblem(503, nlohmann::json::object(), nullptr),
              StatusIs(absl::StatusCode::kUnavailable, "HTTP 503"));
}

TEST(RateLimitFromHeadersTest, ZerosWhenAbsentOrMalformed) {
  RateLimitInfo info = RateLimitFromHeaders(Answer(202, "", {{"ratelimit-limit", "x"}}));
  EXPECT_EQ(info.limit, 0);
  EXPECT_EQ(info.remaining, 0);
  EXPECT_EQ(info.reset_after, absl::ZeroDuration());
  info = RateLimitFromHeaders(Answer(
      202, "",
      {{"ratelimit-limit", "2000"}, {"ratelimit-remaining", "1999"}, {"ratelimit-reset", "1"}}));
  EXPECT_EQ(info.limit, 2000);
  EXPECT_EQ(info.remaining, 1999);
  EXPECT_EQ(info.reset_after, absl::Seconds(1));
}

TEST(RetryBackoffTest, DoublesWithJitter) {
  for (int retry = 0; retry < 3; ++retry) {
    const absl::Duration full = absl::Milliseconds(50) * (1 << retry);
    for (int i = 0; i < 20; ++i) {
      absl::Duration d = RetryBackoff(retry);
      EXPECT_LE(d, full);
      EXPECT_GE(d, full / 2);
    }
  }
}

TEST(OpenRemoteClientTest, ValidatesOptions) {
  ClientOptions options;
  options.endpoint = "http://127.0.0.1:1";
  options.api_key = "ahk_x";
  EXPECT_OK(OpenRemoteClient(options));

  ClientOptions bad = options;
  bad.endpoint = "http://127.0.0.1:1/api/v1";
  absl::StatusOr<std::unique_ptr<Client>> c = OpenRemoteClient(bad);
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("path")));
  EXPECT_THAT(Fields(c.status()), ElementsAre("endpoint"));

  bad = options;
  bad.api_key = "";
  c = OpenRemoteClient(bad);
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(c.status()), ElementsAre("api_key"));

  bad = options;
  bad.api_key = "ahk_x\r\nX-Evil: 1";
  c = OpenRemoteClient(bad);
  EXPECT_THAT(Fields(c.status()), ElementsAre("api_key"));

  bad = options;
  bad.timeout = absl::ZeroDuration();
  c = OpenRemoteClient(bad);
  EXPECT_THAT(Fields(c.status()), ElementsAre("timeout"));
}

TEST(OpenRemoteClientTest, IdempotencyKeyMustFitAHeader) {
  ClientOptions options;
  options.endpoint = "http://127.0.0.1:1";
  options.api_key = "ahk_x";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, OpenRemoteClient(options));
  Notification n;
  n.type = "a";
  absl::StatusOr<SubmitResult> r = client->Submit(n, {.idempotency_key = "k\r\nX-Evil: 1"});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(r.status()), ElementsAre("Idempotency-Key"));
  r = client->Submit(n, {.idempotency_key = std::string(257, 'k')});
  EXPECT_THAT(Fields(r.status()), ElementsAre("Idempotency-Key"));
}

}  // namespace
}  // namespace alerthub
