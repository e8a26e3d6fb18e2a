// A small real HTTP/1.1 server on 127.0.0.1 for tests of outbound HTTP:
// webhook receivers and fake providers (Slack, Discord, FCM) that answer the
// way the provider documents, including errors and rate limits. It records
// every request and counts accepted TCP connections, so tests can check
// exactly what was sent and that keep-alive connections are reused.
//
//   ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
//       FakeHttpServer::Start(ScriptedAnswers({
//           Respond(429, "slow down", {{"Retry-After", "7"}}),
//           Respond(200, "ok"),
//       })));
//   request.url = server->Url("/hook");
//   ... send twice ...
//   EXPECT_EQ(server->requests()[1].body, expected_body);
//   EXPECT_EQ(server->connections_accepted(), 1);
//
// Each connection is served by its own thread with blocking I/O; the handler
// runs on that thread, so it may be called concurrently. The server is
// thread-safe.
#ifndef ALERTHUB_TESTING_FAKE_HTTP_SERVER_H_
#define ALERTHUB_TESTING_FAKE_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/http_client.h"

namespace alerthub::testing {

// One request as the server received it.
struct RecordedRequest {
  std::string method;
  // The request target: path and query ("/hook?wait=true").
  std::string target;
  // Header fields in the order received.
  HttpHeaders headers;
  std::string body;
  // Which TCP connection it came on: 1 for the first one accepted, ...
  int connection = 0;

  // The first header field named `name` (any case), or "".
  std::string Header(absl::string_view name) const;
  // `target` without the query.
  std::string Path() const;
};

// What the server answers to one request.
struct FakeResponse {
  int status = 200;
  // Sent in order; Content-Length is added.
  HttpHeaders headers;
  std::string body;
  // Waits this long before answering (to test client timeouts). The wait
  // ends early when the server stops.
  absl::Duration delay = absl::ZeroDuration();
  // Close the connection after answering (Connection: close).
  bool close_connection = false;
  // Close the connection without answering at all.
  bool drop_connection = false;
};

// Readable ways to write answers (GCC warns about designated initializers
// that leave members out):
//   Respond(429, "slow down", {{"Retry-After", "7"}})
//   RespondAfter(absl::Seconds(5), 200)     // a slow receiver
//   RespondAndClose(200)                    // then closes the connection
//   DropConnection()                        // closes without answering
FakeResponse Respond(int status, std::string body = "", HttpHeaders headers = {});
FakeResponse RespondAfter(absl::Duration delay, int status, std::string body = "");
FakeResponse RespondAndClose(int status, std::string body = "");
FakeResponse DropConnection();

// Answers a request; called on the connection's thread.
using FakeHandler = std::function<FakeResponse(const RecordedRequest&)>;

// A handler answering the requests, in order of arrival, with `answers`, and
// every request after them with `then`.
FakeHandler ScriptedAnswers(std::vector<FakeResponse> answers, FakeResponse then = FakeResponse{});

class FakeHttpServer {
 public:
  // Listens on 127.0.0.1 on a free port and serves until destroyed.
  // kUnavailable when the socket cannot be set up.
  static absl::StatusOr<std::unique_ptr<FakeHttpServer>> Start(FakeHandler handler);

  // Stops accepting, closes every connection (cutting delayed answers short)
  // and joins the server's threads.
  ~FakeHttpServer();

  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  uint16_t port() const;
  // "http://127.0.0.1:<port><path>"; `path` starts with '/'.
  std::string Url(absl::string_view path) const;

  // Replaces the handler for requests that arrive from now on.
  void SetHandler(FakeHandler handler);

  // Every request received so far, in order of arrival.
  std::vector<RecordedRequest> requests() const;
  // TCP connections accepted so far.
  int connections_accepted() const;

 private:
  class Impl;
  explicit FakeHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTING_FAKE_HTTP_SERVER_H_
