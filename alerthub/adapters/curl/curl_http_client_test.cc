#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/curl/curl_transport.h"
#include "alerthub/testing/fake_http_server.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::DropConnection;
using ::alerthub::testing::FakeHttpServer;
using ::alerthub::testing::RecordedRequest;
using ::alerthub::testing::Respond;
using ::alerthub::testing::RespondAfter;
using ::alerthub::testing::RespondAndClose;
using ::alerthub::testing::ScriptedAnswers;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

// Sinks live on loopback, so the tests allow private networks (except the
// one that checks they are refused by default).
CurlOptions LoopbackAllowed() {
  CurlOptions options;
  options.ssrf.allow_private_networks = true;
  return options;
}

HttpRequest Post(std::string url, std::string body) {
  HttpRequest r;
  r.url = std::move(url);
  r.headers = {{"Content-Type", "application/json"}, {"X-Test", "yes"}};
  r.body = std::move(body);
  r.timeout = absl::Seconds(10);
  return r;
}

TEST(CurlHttpClientTest, SendsTheRequestAndReadsTheAnswer) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers(
                           {Respond(201, "created", {{"X-Answer", "42"}, {"Retry-After", "7"}})})));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());

  ASSERT_OK_AND_ASSIGN(HttpResponse response,
                       client->Send(Post(server->Url("/hook?x=1"), R"({"a":1})")));
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "created");
  EXPECT_FALSE(response.body_truncated);
  EXPECT_EQ(response.Header("x-answer"), "42");
  EXPECT_EQ(response.Header("RETRY-AFTER"), "7");
  EXPECT_EQ(response.Header("X-Missing"), "");

  const std::vector<RecordedRequest> got = server->requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/hook?x=1");
  EXPECT_EQ(got[0].body, R"({"a":1})");
  EXPECT_EQ(got[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(got[0].Header("X-Test"), "yes");
  // No 100-continue round trip, no proxy headers, no User-Agent of curl's.
  EXPECT_EQ(got[0].Header("Expect"), "");
  EXPECT_EQ(got[0].Header("User-Agent"), "");
}

TEST(CurlHttpClientTest, SendsOtherMethodsAndNoContentTypeOfItsOwn) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(204))));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());

  HttpRequest get;
  get.method = "GET";
  get.url = server->Url("/status");
  ASSERT_OK_AND_ASSIGN(HttpResponse r1, client->Send(get));
  EXPECT_EQ(r1.status, 204);
  HttpRequest put;
  put.method = "PUT";
  put.url = server->Url("/thing");
  put.body = "raw bytes";
  ASSERT_OK_AND_ASSIGN(HttpResponse r2, client->Send(put));
  EXPECT_EQ(r2.status, 204);

  const std::vector<RecordedRequest> got = server->requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].body, "");
  EXPECT_EQ(got[1].method, "PUT");
  EXPECT_EQ(got[1].body, "raw bytes");
  EXPECT_EQ(got[1].Header("Content-Type"), "");
}

TEST(CurlHttpClientTest, KeepAliveReusesOneConnection) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(200, "ok"))));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());

  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(HttpResponse r, client->Send(Post(server->Url("/hook"), "{}")));
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_EQ(server->requests().size(), 10u);
  EXPECT_EQ(server->connections_accepted(), 1);
}

TEST(CurlHttpClientTest, ReconnectsWhenTheServerClosesTheConnection) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<FakeHttpServer> server,
      FakeHttpServer::Start(ScriptedAnswers({RespondAndClose(200)}, Respond(200))));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());

  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(HttpResponse r, client->Send(Post(server->Url("/hook"), "{}")));
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_EQ(server->connections_accepted(), 2);
}

TEST(CurlHttpClientTest, ConcurrentRequestsShareAtMostTheConnectionLimit) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<FakeHttpServer> server,
      FakeHttpServer::Start(ScriptedAnswers({}, RespondAfter(absl::Milliseconds(50), 200))));
  CurlOptions options = LoopbackAllowed();
  options.max_connections_per_host = 2;
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(options);

  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        absl::StatusOr<HttpResponse> r = client->Send(Post(server->Url("/hook"), "{}"));
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 18);
  EXPECT_EQ(server->requests().size(), 18u);
  // Two at a time, each on a kept-alive connection.
  EXPECT_EQ(server->connections_accepted(), 2);
}

TEST(CurlHttpClientTest, WaitingForAConnectionSlotIsBoundedByTheTimeout) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<FakeHttpServer> server,
      FakeHttpServer::Start(ScriptedAnswers({}, RespondAfter(absl::Seconds(2), 200))));
  CurlOptions options = LoopbackAllowed();
  options.max_connections_per_host = 1;
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(options);

  std::thread slow([&] { (void)client->Send(Post(server->Url("/slow"), "{}")); });
  while (server->requests().empty()) absl::SleepFor(absl::Milliseconds(5));
  HttpRequest quick = Post(server->Url("/quick"), "{}");
  quick.timeout = absl::Milliseconds(200);
  EXPECT_THAT(client->Send(quick),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("127.0.0.1")));
  slow.join();
}

TEST(CurlHttpClientTest, NeverFollowsRedirects) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers(
                           {Respond(302, "", {{"Location", "http://169.254.169.254/latest/"}})})));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());

  ASSERT_OK_AND_ASSIGN(HttpResponse r, client->Send(Post(server->Url("/hook"), "{}")));
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.Header("Location"), "http://169.254.169.254/latest/");
  EXPECT_EQ(server->requests().size(), 1u);
}

TEST(CurlHttpClientTest, RefusesLoopbackUnlessAllowed) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({})));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(CurlOptions{});

  EXPECT_THAT(client->Send(Post(server->Url("/hook"), "{}")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("loopback")));
  EXPECT_THAT(client->Send(Post(absl::StrCat("http://localhost:", server->port(), "/"), "{}")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Numeric spellings curl would read as loopback are refused too.
  EXPECT_THAT(client->Send(Post(absl::StrCat("http://2130706433:", server->port(), "/"), "{}")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(client->Send(Post("http://169.254.169.254/latest/meta-data", "")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("metadata")));
  EXPECT_EQ(server->connections_accepted(), 0);
}

TEST(CurlHttpClientTest, ResolvesNamesAndPinsThem) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(200))));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());

  // "localhost" resolves to loopback, allowed here; the server listens on
  // 127.0.0.1 only, which the pinned addresses include.
  ASSERT_OK_AND_ASSIGN(
      HttpResponse r,
      client->Send(Post(absl::StrCat("http://localhost:", server->port(), "/hook"), "{}")));
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(server->requests().size(), 1u);
  EXPECT_EQ(server->requests()[0].Header("Host"), absl::StrCat("localhost:", server->port()));
}

TEST(CurlHttpClientTest, TimeoutIsDeadlineExceeded) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<FakeHttpServer> server,
      FakeHttpServer::Start(ScriptedAnswers({}, RespondAfter(absl::Seconds(5), 200))));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());

  HttpRequest request = Post(server->Url("/slow"), "{}");
  request.timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  EXPECT_THAT(client->Send(request),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("POST http://127.0.0.1:")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(CurlHttpClientTest, ConnectionFailuresAreUnavailable) {
  uint16_t closed_port = 0;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> gone,
                         FakeHttpServer::Start(ScriptedAnswers({})));
    closed_port = gone->port();
  }
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());
  EXPECT_THAT(client->Send(Post(absl::StrCat("http://127.0.0.1:", closed_port, "/"), "{}")),
              StatusIs(absl::StatusCode::kUnavailable));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> dropping,
                       FakeHttpServer::Start(ScriptedAnswers({}, DropConnection())));
  EXPECT_THAT(client->Send(Post(dropping->Url("/hook"), "{}")),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(CurlHttpClientTest, BadRequestsAreInvalidArgument) {
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());
  EXPECT_THAT(client->Send(Post("ftp://127.0.0.1/file", "")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client->Send(Post("not a url", "")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client->Send(Post("http://user:pw@127.0.0.1/", "")),
              StatusIs(absl::StatusCode::kInvalidArgument));

  HttpRequest injected = Post("http://127.0.0.1:9/", "");
  injected.headers.emplace_back("X-Evil", "a\r\nHost: elsewhere");
  EXPECT_THAT(client->Send(injected),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("X-Evil")));
  HttpRequest bad_method = Post("http://127.0.0.1:9/", "");
  bad_method.method = "GET /x HTTP/1.1\r\n";
  EXPECT_THAT(client->Send(bad_method), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CurlHttpClientTest, LongBodiesAreCutAndTheConnectionStaysUsable) {
  const std::string big(200 * 1024, 'x');
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({Respond(500, big)}, Respond(200))));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());

  ASSERT_OK_AND_ASSIGN(HttpResponse r, client->Send(Post(server->Url("/hook"), "{}")));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.size(), kMaxHttpResponseBodyBytes);
  EXPECT_TRUE(r.body_truncated);
  ASSERT_OK_AND_ASSIGN(HttpResponse again, client->Send(Post(server->Url("/hook"), "{}")));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(server->connections_accepted(), 1);
}

TEST(CurlHttpClientTest, SendsLargeBodiesWhole) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(200))));
  std::unique_ptr<HttpClient> client = NewCurlHttpClient(LoopbackAllowed());
  std::string body(300 * 1024, 'b');
  body.front() = '"';
  body.back() = '"';
  ASSERT_OK_AND_ASSIGN(HttpResponse r, client->Send(Post(server->Url("/hook"), body)));
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(server->requests().size(), 1u);
  EXPECT_EQ(server->requests()[0].body, body);
}

}  // namespace
}  // namespace alerthub
