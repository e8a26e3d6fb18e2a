// Unit tests of the pieces that do no I/O: Router, ResponseWriter,
// ProblemResponse and trace context.
#include "alerthub/server/http/router.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "alerthub/server/http/problem.h"
#include "alerthub/server/http/trace_context.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub::http {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

void Noop(Request, ResponseWriter) {}

Router NotificationRoutes() {
  Router router;
  router.Add("POST", "/api/v1/notifications", Noop, {.name = "submit"});
  router.Add("GET", "/api/v1/notifications", Noop, {.name = "list"});
  router.Add("POST", "/api/v1/notifications/batch", Noop, {.name = "batch"});
  router.Add("GET", "/api/v1/notifications/{id}", Noop, {.name = "get"});
  router.Add("GET", "/api/v1/notifications/{id}/events", Noop,
             {.name = "events"});
  router.Add("GET", "/", Noop, {.name = "root"});
  return router;
}

TEST(RouterTest, BindsParametersAndPrefersLiterals) {
  Router router = NotificationRoutes();
  ASSERT_TRUE(router.status().ok()) << router.status();

  Router::Match m = router.Find("GET", "/api/v1/notifications/0193-ab");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options->name, "get");
  EXPECT_THAT(m.params, ElementsAre(Pair("id", "0193-ab")));
  EXPECT_EQ(m.pattern, "/api/v1/notifications/{id}");

  m = router.Find("GET", "/api/v1/notifications/x/events");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options->name, "events");
  EXPECT_THAT(m.params, ElementsAre(Pair("id", "x")));

  m = router.Find("POST", "/api/v1/notifications/batch");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options->name, "batch");
  EXPECT_TRUE(m.params.empty());

  m = router.Find("GET", "/");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options->name, "root");
}

TEST(RouterTest, LiteralPathWithOtherMethodIsMethodNotAllowed) {
  Router router = NotificationRoutes();
  // "batch" is a resource of its own: GET on it is 405, not GET {id}.
  Router::Match m = router.Find("GET", "/api/v1/notifications/batch");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_found);
  EXPECT_EQ(m.allow, "POST");

  m = router.Find("DELETE", "/api/v1/notifications");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_found);
  EXPECT_EQ(m.allow, "GET, HEAD, POST");
}

TEST(RouterTest, BacktracksFromLiteralToParameter) {
  Router router;
  router.Add("GET", "/a/{x}/c", Noop, {.name = "param"});
  router.Add("GET", "/a/b/d", Noop, {.name = "literal"});
  Router::Match m = router.Find("GET", "/a/b/c");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options->name, "param");
  EXPECT_THAT(m.params, ElementsAre(Pair("x", "b")));
  m = router.Find("GET", "/a/b/d");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options->name, "literal");
}

TEST(RouterTest, UnknownPathsAndEmptySegments) {
  Router router = NotificationRoutes();
  EXPECT_FALSE(router.Find("GET", "/api/v1/nope").path_found);
  EXPECT_FALSE(
      router.Find("GET", "/api/v1/notifications/x/events/y").path_found);
  // A parameter never binds an empty segment; trailing slashes matter.
  EXPECT_FALSE(router.Find("GET", "/api/v1/notifications//events").path_found);
  EXPECT_FALSE(router.Find("GET", "/api/v1/notifications/").path_found);
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router router = NotificationRoutes();
  Router::Match m = router.Find("HEAD", "/api/v1/notifications/x");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.options->name, "get");
  EXPECT_EQ(router.Find("HEAD", "/api/v1/notifications/batch").handler,
            nullptr);
}

TEST(RouterTest, DefaultsNameToPatternAndBlockingToTrue) {
  Router router;
  router.Add("GET", "/x/{id}", Noop);
  Router::Match m = router.Find("GET", "/x/1");
  ASSERT_NE(m.options, nullptr);
  EXPECT_EQ(m.options->name, "/x/{id}");
  EXPECT_TRUE(m.options->blocking);
}

TEST(RouterTest, WebSocketRoutes) {
  Router router;
  router.AddWebSocket("/ws", [](const Request&) -> WebSocketAcceptResult {
    return Response{};
  });
  Router::Match m = router.Find("GET", "/ws");
  EXPECT_EQ(m.handler, nullptr);
  ASSERT_NE(m.websocket, nullptr);
  EXPECT_EQ(m.websocket_options->name, "/ws");
  EXPECT_TRUE(m.path_found);
  EXPECT_EQ(m.allow, "");
}

TEST(RouterTest, RecordsTheFirstRegistrationError) {
  {
    Router router;
    router.Add("GET", "/a", Noop);
    router.Add("GET", "/a", Noop);
    EXPECT_THAT(router.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("registered twice")));
  }
  {
    Router router;
    router.Add("GET", "/a/{id}", Noop);
    router.Add("GET", "/a/{name}/x", Noop);
    EXPECT_THAT(router.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("conflicts with {id}")));
  }
  for (const char* bad :
       {"", "a/b", "/a//b", "/a/{}", "/a/{b-c}", "/a/x{y}", "/a?b"}) {
    Router router;
    router.Add("GET", bad, Noop);
    EXPECT_THAT(router.status(), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  {
    Router router;
    router.Add("G T", "/a", Noop);
    EXPECT_THAT(router.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("HTTP token")));
  }
  {
    Router router;
    router.Add("GET", "/a", nullptr);
    EXPECT_THAT(router.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(RequestTest, HeaderLookupIsCaseInsensitive) {
  Request req;
  req.headers = {{"X-Request-Id", "a"}, {"Accept", "b"}, {"accept", "c"}};
  EXPECT_EQ(req.Header("x-request-id"), "a");
  EXPECT_EQ(req.Header("ACCEPT"), "b");
  EXPECT_EQ(req.Header("missing"), std::nullopt);
  req.query = {{"k", "1"}, {"k", "2"}};
  EXPECT_EQ(req.QueryParam("k"), "1");
  EXPECT_EQ(req.QueryParam("x"), std::nullopt);
}

TEST(ResponseWriterTest, ForCallbackDeliversOnce) {
  std::vector<Response> got;
  {
    ResponseWriter writer = ResponseWriter::ForCallback(
        [&](Response r) { got.push_back(std::move(r)); });
    EXPECT_TRUE(writer.pending());
    std::move(writer).Send(Response{.status = 202, .body = "{}"});
    EXPECT_FALSE(writer.pending());
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 202);
  EXPECT_EQ(got[0].body, "{}");
}

TEST(ResponseWriterTest, SendFromAnotherThread) {
  std::vector<Response> got;
  ResponseWriter writer = ResponseWriter::ForCallback(
      [&](Response r) { got.push_back(std::move(r)); });
  std::thread t([w = std::move(writer)]() mutable {
    std::move(w).Send(Response{.status = 204});
  });
  t.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 204);
}

TEST(ResponseWriterTest, AbandonedWriterAnswers500) {
  std::vector<Response> got;
  {
    ResponseWriter writer = ResponseWriter::ForCallback(
        [&](Response r) { got.push_back(std::move(r)); });
    ResponseWriter moved = std::move(writer);
    EXPECT_FALSE(writer.pending());  // NOLINT(bugprone-use-after-move)
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 500);
  EXPECT_EQ(got[0].content_type, "application/problem+json");
}

TEST(ProblemResponseTest, Rfc9457Body) {
  Response r = ProblemResponse(
      422, "Unprocessable Content", "invalid notification",
      {{"errors", {{{"field", "type"}, {"message", "is required"}}}}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(nlohmann::json::parse(r.body),
            nlohmann::json::parse(R"({"type":"about:blank",
                "title":"Unprocessable Content","status":422,
                "detail":"invalid notification",
                "errors":[{"field":"type","message":"is required"}]})"));
}

TEST(ProblemResponseTest, ExtraMayOverrideTypeAndInvalidUtf8IsReplaced) {
  Response r = ProblemResponse(404, "Not Found", "no route for /\xff",
                               {{"type", "https://alerthub.dev/errors/x"}});
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["type"], "https://alerthub.dev/errors/x");
  EXPECT_EQ(body["detail"], "no route for /\xEF\xBF\xBD");
}

constexpr char kValidTraceparent[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ParsesAndFormatsVersion00) {
  std::optional<TraceParent> tp = ParseTraceparent(kValidTraceparent);
  ASSERT_TRUE(tp.has_value());
  EXPECT_EQ(tp->trace_id[0], 0x4b);
  EXPECT_EQ(tp->span_id[7], 0xb7);
  EXPECT_EQ(tp->flags, 0x01);
  EXPECT_EQ(tp->ToString(), kValidTraceparent);
}

TEST(TraceContextTest, RejectsInvalidTraceparents) {
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string span = "00f067aa0ba902b7";
  for (const std::string& bad : {
           std::string(),
           "00-" + trace + "-" + span,                             // short
           "00-" + trace + "-" + span + "-01-",                    // long
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + span + "-01",  // upper
           "00-" + std::string(32, '0') + "-" + span + "-01",      // zero
           "00-" + trace + "-" + std::string(16, '0') + "-01",     // zero
           "ff-" + trace + "-" + span + "-01",                     // ff
           "01-" + trace + "-" + span + "-01",                     // not 00
           "00_" + trace + "_" + span + "_01",                     // dashes
           "00-4bf92f3577b34da6a3ce929d0e0e473g-" + span + "-01",  // hex
       }) {
    EXPECT_EQ(ParseTraceparent(bad), std::nullopt) << bad;
  }
}

TEST(TraceContextTest, NewRootAndChildSpan) {
  TraceParent root = TraceParent::NewRoot();
  std::optional<TraceParent> parsed = ParseTraceparent(root.ToString());
  ASSERT_TRUE(parsed.has_value());  // valid: non-zero ids, lowercase
  EXPECT_EQ(*parsed, root);
  EXPECT_EQ(root.flags, 0x01);
  EXPECT_NE(TraceParent::NewRoot().trace_id, root.trace_id);

  TraceParent child = root.NewChildSpan();
  EXPECT_EQ(child.trace_id, root.trace_id);
  EXPECT_EQ(child.flags, root.flags);
  EXPECT_NE(child.span_id, root.span_id);
}

TEST(TraceContextTest, RequestIdValidity) {
  EXPECT_TRUE(IsValidRequestId("abc-123"));
  EXPECT_TRUE(IsValidRequestId(std::string(128, 'x')));
  EXPECT_FALSE(IsValidRequestId(std::string(129, 'x')));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("a\tb"));
  EXPECT_FALSE(IsValidRequestId("caf\xC3\xA9"));
}

}  // namespace
}  // namespace alerthub::http
