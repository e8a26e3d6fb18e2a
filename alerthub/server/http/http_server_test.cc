// HttpServer end to end: a real server on loopback, a small Beast client, and
// raw sockets for what a well-behaved client would never send.
#include "alerthub/server/http/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "alerthub/common/time.h"
#include "alerthub/common/uuid.h"
#include "alerthub/server/http/problem.h"
#include "alerthub/server/http/trace_context.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ClientResponse = bhttp::response<bhttp::string_body>;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr auto kClientTimeout = std::chrono::seconds(10);

std::string Str(beast::string_view s) {
  return std::string(s.data(), s.size());
}

// Runs one asynchronous operation started by `start` on `ioc` to completion
// (every operation carries a deadline, so this cannot hang).
template <typename Start>
beast::error_code RunOp(net::io_context& ioc, Start start) {
  beast::error_code result = net::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// A minimal blocking HTTP/1.1 client on one keep-alive connection.
class TestClient {
 public:
  explicit TestClient(int port) : stream_(ioc_) {
    stream_.expires_after(kClientTimeout);
    const beast::error_code ec = RunOp(ioc_, [&](auto handler) {
      stream_.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                          static_cast<unsigned short>(port)),
                            handler);
    });
    EXPECT_FALSE(ec) << ec.message();
  }

  // Sends a request and reads its response; `error` (if given) receives the
  // failure, else a failure fails the test.
  ClientResponse Do(bhttp::verb method, const std::string& target,
                    const std::string& body = "", const Headers& headers = {},
                    beast::error_code* error = nullptr) {
    bhttp::request<bhttp::string_body> req(method, target, 11);
    req.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    if (!body.empty() || method == bhttp::verb::post) req.prepare_payload();
    stream_.expires_after(kClientTimeout);
    beast::error_code ec = RunOp(
        ioc_, [&](auto handler) { bhttp::async_write(stream_, req, handler); });
    ClientResponse res;
    if (!ec) {
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(16 << 20);
      stream_.expires_after(kClientTimeout);
      ec = RunOp(ioc_, [&](auto handler) {
        bhttp::async_read(stream_, buffer_, parser, handler);
      });
      if (!ec) res = parser.release();
    }
    if (error != nullptr) {
      *error = ec;
    } else {
      EXPECT_FALSE(ec) << ec.message();
    }
    return res;
  }

  ClientResponse Get(const std::string& target, const Headers& headers = {}) {
    return Do(bhttp::verb::get, target, "", headers);
  }

  // True when the server closes the connection within `timeout` (the next
  // read sees end of stream or a reset).
  bool ServerCloses(std::chrono::milliseconds timeout = kClientTimeout) {
    char c;
    stream_.expires_after(timeout);
    const beast::error_code ec = RunOp(ioc_, [&](auto handler) {
      stream_.async_read_some(net::buffer(&c, 1), handler);
    });
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

 private:
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// A bare TCP connection, for malformed and slow requests.
class RawSocket {
 public:
  explicit RawSocket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawSocket() { ::close(fd_); }

  bool connected() const { return connected_; }

  // False once the peer has closed.
  bool Send(absl::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until the peer closes or `timeout` passes; `closed` says which.
  std::string ReadAll(absl::Duration timeout, bool* closed) {
    std::string out;
    *closed = false;
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      const int wait_ms =
          static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      if (wait_ms <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, wait_ms) <= 0) return out;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        *closed = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }

  // Reads until `out` contains `marker` (or the peer closes / timeout).
  std::string ReadUntil(absl::string_view marker,
                        absl::Duration timeout = absl::Seconds(10)) {
    std::string out;
    const absl::Time deadline = absl::Now() + timeout;
    while (!absl::StrContains(out, marker)) {
      const int wait_ms =
          static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
      if (wait_ms <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, wait_ms) <= 0) break;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// A blocking WebSocket client.
class WsClient {
 public:
  WsClient() : ws_(ioc_) {}

  // Connects and asks for an upgrade of `target`; `res` gets the server's
  // handshake response (101, or the rejection).
  beast::error_code Connect(int port, const std::string& target,
                            websocket::response_type* res,
                            const Headers& headers = {}) {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    tcp_layer.expires_after(kClientTimeout);
    beast::error_code ec = RunOp(ioc_, [&](auto handler) {
      tcp_layer.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                            static_cast<unsigned short>(port)),
                              handler);
    });
    if (ec) return ec;
    ws_.set_option(websocket::stream_base::decorator(
        [headers](websocket::request_type& req) {
          for (const auto& [name, value] : headers) req.set(name, value);
        }));
    tcp_layer.expires_after(kClientTimeout);
    return RunOp(ioc_, [&](auto handler) {
      ws_.async_handshake(*res, "127.0.0.1", target, handler);
    });
  }

  beast::error_code Write(const std::string& text, bool binary = false) {
    beast::get_lowest_layer(ws_).expires_after(kClientTimeout);
    ws_.binary(binary);
    return RunOp(ioc_, [&](auto handler) {
      ws_.async_write(net::buffer(text), handler);
    });
  }

  beast::error_code Read(std::string* text) {
    beast::flat_buffer buffer;
    beast::get_lowest_layer(ws_).expires_after(kClientTimeout);
    const beast::error_code ec =
        RunOp(ioc_, [&](auto handler) { ws_.async_read(buffer, handler); });
    *text = beast::buffers_to_string(buffer.data());
    return ec;
  }

  // Reads (and discards) messages until the connection closes; returns the
  // close code the server sent, or -1.
  int ReadUntilClosed(int* messages = nullptr) {
    std::string text;
    int count = 0;
    while (true) {
      const beast::error_code ec = Read(&text);
      if (ec == websocket::error::closed) break;
      if (ec) return -1;
      ++count;
    }
    if (messages != nullptr) *messages = count;
    return ws_.reason().code;
  }

 private:
  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
};

// Waits (polling) for `condition`; for effects that happen after a
// response is on the wire (access log, counters).
template <typename Condition>
bool Eventually(Condition condition,
                absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return condition();
}

// Collects access-log lines and request records.
class LogCapture {
 public:
  void Install(HttpServerOptions& options) {
    options.access_log = [this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    };
    options.on_request = [this](const RequestRecord& r) {
      absl::MutexLock lock(&mu_);
      records_.push_back(Record{std::string(r.route), std::string(r.method),
                                r.status, r.duration, r.bytes});
    };
  }
  struct Record {
    std::string route;
    std::string method;
    int status;
    absl::Duration duration;
    size_t bytes;
  };
  std::vector<std::string> lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  std::vector<Record> records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return lines_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  std::vector<Record> records_ ABSL_GUARDED_BY(mu_);
};

// What the tests see of the server side of WebSockets.
struct WsProbe {
  absl::Mutex mu;
  std::shared_ptr<WebSocketSession> session ABSL_GUARDED_BY(mu);
  std::vector<std::string> received ABSL_GUARDED_BY(mu);
  absl::Notification opened;
  absl::Notification closed;
  std::string request_id ABSL_GUARDED_BY(mu);

  std::shared_ptr<WebSocketSession> Session() {
    absl::MutexLock lock(&mu);
    return session;
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  static HttpServerOptions TestOptions() {
    HttpServerOptions options;
    options.io_threads = 2;
    options.access_log = nullptr;  // keep test output readable
    return options;
  }

  void StartServer(Router router, HttpServerOptions options = TestOptions()) {
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::Start(std::move(router), std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    port_ = server_->port();
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(1));
  }

  // Objects the server's callbacks use; declared before server_ so that
  // they outlive it (TearDown shuts the server down after the test body).
  WsProbe* NewProbe() { return &probes_.emplace_back(); }
  LogCapture capture_;
  std::deque<WsProbe> probes_;

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

Handler Reply(std::string body, int status = 200) {
  return [body, status](Request, ResponseWriter writer) {
    std::move(writer).Send(Response{.status = status, .body = body});
  };
}

// A handler echoing what the server made of the request.
void Describe(Request req, ResponseWriter writer) {
  nlohmann::json query = nlohmann::json::object();
  for (const auto& [k, v] : req.query) {
    if (!query.contains(k)) query[k] = v;  // the first value
  }
  nlohmann::json j = {
      {"method", req.method},
      {"path", req.path},
      {"raw_target", req.raw_target},
      {"params", req.path_params},
      {"query", query},
      {"x_test", req.Header("x-test").value_or("")},
      {"body", req.body},
      {"remote", req.remote_address},
      {"request_id", req.request_id},
      {"traceparent", req.traceparent},
      {"parent_traceparent", req.parent_traceparent},
  };
  std::move(writer).Send(Response{.body = j.dump()});
}

// --- Routing -----------------------------------------------------------------

TEST_F(HttpServerTest, RoutesWithParamsQueryAndHeaders) {
  Router router;
  router.Add("GET", "/api/v1/notifications/{id}", Describe, {.name = "get"});
  router.Add("GET", "/api/v1/notifications/{id}/events", Describe,
             {.blocking = false, .name = "events"});
  router.Add("POST", "/api/v1/notifications/batch", Describe,
             {.name = "batch"});
  StartServer(std::move(router));

  TestClient client(port_);
  ClientResponse res = client.Get(
      "/api/v1/notifications/a%20b%2Fc?x=1&y=a+b&y=2&z", {{"X-Test", "hello"}});
  ASSERT_EQ(res.result_int(), 200);
  nlohmann::json j = nlohmann::json::parse(res.body());
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/api/v1/notifications/a b/c");
  EXPECT_EQ(j["raw_target"], "/api/v1/notifications/a%20b%2Fc?x=1&y=a+b&y=2&z");
  EXPECT_EQ(j["params"], nlohmann::json({{"id", "a b/c"}}));
  EXPECT_EQ(j["query"]["x"], "1");
  EXPECT_EQ(j["query"]["y"], "a b");  // the first of two values
  EXPECT_EQ(j["query"]["z"], "");
  EXPECT_EQ(j["x_test"], "hello");
  EXPECT_THAT(std::string(j["remote"]), StartsWith("127.0.0.1:"));
  // Headers every response carries.
  EXPECT_EQ(Str(res[bhttp::field::server]), "alerthub");
  EXPECT_EQ(Str(res[bhttp::field::content_type]), "application/json");
  EXPECT_EQ(Str(res[bhttp::field::content_length]),
            std::to_string(res.body().size()));
  absl::Time date;
  std::string date_error;
  EXPECT_TRUE(absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT",
                              Str(res[bhttp::field::date]), &date, &date_error))
      << date_error;
  EXPECT_LT(absl::AbsDuration(absl::Now() - date), absl::Minutes(1));

  res = client.Get("/api/v1/notifications/n1/events");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(res.body())["params"]["id"], "n1");

  res = client.Do(bhttp::verb::post, "/api/v1/notifications/batch", "[1]");
  ASSERT_EQ(res.result_int(), 200);
  j = nlohmann::json::parse(res.body());
  EXPECT_EQ(j["body"], "[1]");
  EXPECT_EQ(j["params"], nlohmann::json::object());
}

TEST_F(HttpServerTest, UnknownPathIs404ProblemJson) {
  Router router;
  router.Add("GET", "/a", Reply("{}"));
  StartServer(std::move(router));
  TestClient client(port_);
  ClientResponse res = client.Get("/nope?secret=1");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(Str(res[bhttp::field::content_type]), "application/problem+json");
  EXPECT_EQ(Str(res[bhttp::field::content_length]),
            std::to_string(res.body().size()));
  EXPECT_EQ(nlohmann::json::parse(res.body()),
            nlohmann::json({{"type", "about:blank"},
                            {"title", "Not Found"},
                            {"status", 404},
                            {"detail", "no route for /nope"}}));
  // The connection stays usable.
  EXPECT_EQ(client.Get("/a").result_int(), 200);
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  Router router;
  router.Add("GET", "/api/v1/integrations/{id}", Reply("{}"));
  router.Add("PATCH", "/api/v1/integrations/{id}", Reply("{}"));
  router.Add("DELETE", "/api/v1/integrations/{id}", Reply("{}"));
  StartServer(std::move(router));
  TestClient client(port_);
  ClientResponse res =
      client.Do(bhttp::verb::post, "/api/v1/integrations/7", "{}");
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(Str(res[bhttp::field::allow]), "DELETE, GET, HEAD, PATCH");
  EXPECT_EQ(Str(res[bhttp::field::content_type]), "application/problem+json");
  nlohmann::json j = nlohmann::json::parse(res.body());
  EXPECT_EQ(j["status"], 405);
  EXPECT_EQ(j["title"], "Method Not Allowed");
}

TEST_F(HttpServerTest, HeadAnswersWithTheGetLengthAndNoBody) {
  Router router;
  router.Add("GET", "/doc", Reply("0123456789"));
  StartServer(std::move(router));
  RawSocket raw(port_);
  ASSERT_TRUE(
      raw.Send("HEAD /doc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  const std::string out = raw.ReadAll(absl::Seconds(10), &closed);
  EXPECT_TRUE(closed);
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(out, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_TRUE(absl::EndsWith(out, "\r\n\r\n")) << out;  // no body
}

// --- Handlers and threads
// -------------------------------------------------------

TEST_F(HttpServerTest, BlockingHandlerAnswersFromAnotherThread) {
  absl::Mutex mu;
  std::vector<std::thread> workers;
  std::thread::id io_thread;
  std::thread::id handler_thread;
  std::thread::id sender_thread;
  Router router;
  router.Add("GET", "/io",
             [&](Request, ResponseWriter writer) {
               {
                 absl::MutexLock lock(&mu);
                 io_thread = std::this_thread::get_id();
               }
               std::move(writer).Send(Response{.body = "io"});
             },
             {.blocking = false});
  router.Add("GET", "/later", [&](Request req, ResponseWriter writer) {
    absl::MutexLock lock(&mu);
    handler_thread = std::this_thread::get_id();
    // Like a group commit: the answer comes from a thread we do not own.
    workers.emplace_back([&mu, &sender_thread, w = std::move(writer),
                          id = req.path_params]() mutable {
      absl::SleepFor(absl::Milliseconds(20));
      {
        absl::MutexLock lock(&mu);
        sender_thread = std::this_thread::get_id();
      }
      std::move(w).Send(Response{.status = 202, .body = R"({"id":"x"})"});
    });
  });
  HttpServerOptions options = TestOptions();
  options.io_threads = 1;
  StartServer(std::move(router), options);

  TestClient client(port_);
  EXPECT_EQ(client.Get("/io").body(), "io");
  ClientResponse res = client.Get("/later");
  EXPECT_EQ(res.result_int(), 202);
  EXPECT_EQ(res.body(), R"({"id":"x"})");
  absl::MutexLock lock(&mu);
  EXPECT_NE(handler_thread, io_thread);  // blocking handlers use the pool
  EXPECT_NE(sender_thread, handler_thread);
  for (std::thread& t : workers) t.join();
}

TEST_F(HttpServerTest, SlowBlockingHandlerDoesNotBlockIo) {
  absl::Notification release;
  Router router;
  router.Add("GET", "/slow", [&](Request, ResponseWriter writer) {
    release.WaitForNotificationWithTimeout(absl::Seconds(10));
    std::move(writer).Send(Response{.body = "slow"});
  });
  router.Add("GET", "/fast", Reply("fast"), {.blocking = false});
  HttpServerOptions options = TestOptions();
  options.io_threads = 1;  // the only I/O thread must stay free
  StartServer(std::move(router), options);

  std::thread slow([&] {
    TestClient client(port_);
    EXPECT_EQ(client.Get("/slow").body(), "slow");
  });
  TestClient client(port_);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.Get("/fast").body(), "fast");
  EXPECT_FALSE(release.HasBeenNotified());
  release.Notify();
  slow.join();
}

TEST_F(HttpServerTest, SixtyFourBlockingHandlersRunConcurrently) {
  constexpr int kRequests = 64;
  absl::Mutex mu;
  int in_flight = 0;
  int max_in_flight = 0;
  Router router;
  router.Add("POST", "/ingest", [&](Request, ResponseWriter writer) {
    absl::MutexLock lock(&mu);
    ++in_flight;
    max_in_flight = std::max(max_in_flight, in_flight);
    // A barrier: nobody answers until all 64 are inside a handler at once.
    const bool all_in = mu.AwaitWithTimeout(
        absl::Condition(
            +[](int* n) { return *n >= kRequests; }, &max_in_flight),
        absl::Seconds(20));
    std::move(writer).Send(Response{.status = all_in ? 202 : 503});
  });
  StartServer(std::move(router));  // default handler_threads: 64

  std::vector<int> statuses(kRequests, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i) {
    clients.emplace_back([&, i] {
      TestClient client(port_);
      statuses[i] = client.Do(bhttp::verb::post, "/ingest", "{}").result_int();
    });
  }
  for (std::thread& t : clients) t.join();
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(statuses[i], 202) << i;
  absl::MutexLock lock(&mu);
  EXPECT_EQ(max_in_flight, kRequests);
}

TEST_F(HttpServerTest, DroppedWriterAndThrowingHandlerAnswer500) {
  Router router;
  router.Add("GET", "/drop", [](Request, ResponseWriter) {});
  router.Add("GET", "/throw",
             [](Request, ResponseWriter) { throw std::runtime_error("boom"); });
  router.Add("GET", "/throw-inline",
             [](Request, ResponseWriter) { throw std::runtime_error("boom"); },
             {.blocking = false});
  StartServer(std::move(router));
  TestClient client(port_);
  for (const char* target : {"/drop", "/throw", "/throw-inline"}) {
    ClientResponse res = client.Get(target);
    EXPECT_EQ(res.result_int(), 500) << target;
    EXPECT_EQ(Str(res[bhttp::field::content_type]), "application/problem+json");
  }
}

TEST_F(HttpServerTest, HandlerHeadersAreSentButManagedOnesIgnored) {
  Router router;
  router.Add("GET", "/h", [](Request, ResponseWriter writer) {
    Response r{.status = 201, .body = "<p>", .content_type = "text/html"};
    r.headers = {{"Location", "/h/1"},
                 {"Content-Length", "999"},
                 {"X-Evil", "a\r\nInjected: yes"},
                 {"RateLimit-Remaining", "4"}};
    std::move(writer).Send(std::move(r));
  });
  router.Add("DELETE", "/h", Reply("", 204));
  StartServer(std::move(router));
  TestClient client(port_);
  ClientResponse res = client.Get("/h");
  EXPECT_EQ(res.result_int(), 201);
  EXPECT_EQ(Str(res[bhttp::field::location]), "/h/1");
  EXPECT_EQ(Str(res["RateLimit-Remaining"]), "4");
  EXPECT_EQ(Str(res[bhttp::field::content_length]), "3");
  EXPECT_EQ(Str(res[bhttp::field::content_type]), "text/html");
  EXPECT_EQ(res.count("X-Evil"), 0u);
  EXPECT_EQ(res.count("Injected"), 0u);
  res = client.Do(bhttp::verb::delete_, "/h");
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res.count(bhttp::field::content_type), 0u);
}

// --- Connections
// -----------------------------------------------------------------

TEST_F(HttpServerTest, KeepAliveReusesOneConnection) {
  Router router;
  router.Add("GET", "/who",
             [](Request req, ResponseWriter writer) {
               std::move(writer).Send(Response{.body = req.remote_address});
             },
             {.blocking = false});
  StartServer(std::move(router));
  TestClient client(port_);
  const std::string first = client.Get("/who").body();
  for (int i = 0; i < 5; ++i) {
    ClientResponse res = client.Get("/who");
    EXPECT_EQ(res.body(), first);  // same client port: same connection
    EXPECT_TRUE(res.keep_alive());
  }
  EXPECT_EQ(server_->connections(), 1);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  Router router;
  router.Add("GET", "/x", Reply("{}"));
  StartServer(std::move(router));
  TestClient client(port_);
  ClientResponse res = client.Get("/x", {{"Connection", "close"}});
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(client.ServerCloses());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  std::atomic<int> counter{0};
  Router router;
  router.Add("GET", "/n/{i}", [&](Request req, ResponseWriter writer) {
    // The first request is the slowest: order must still hold.
    if (req.path_params["i"] == "1") absl::SleepFor(absl::Milliseconds(50));
    counter++;
    std::move(writer).Send(Response{.body = "r" + req.path_params["i"]});
  });
  StartServer(std::move(router));
  RawSocket raw(port_);
  ASSERT_TRUE(
      raw.Send("GET /n/1 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /n/2 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /n/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  const std::string out = raw.ReadAll(absl::Seconds(10), &closed);
  EXPECT_TRUE(closed);
  const size_t r1 = out.find("\r\n\r\nr1");
  const size_t r2 = out.find("\r\n\r\nr2");
  const size_t r3 = out.find("\r\n\r\nr3");
  ASSERT_NE(r1, std::string::npos) << out;
  ASSERT_NE(r2, std::string::npos) << out;
  ASSERT_NE(r3, std::string::npos) << out;
  EXPECT_LT(r1, r2);
  EXPECT_LT(r2, r3);
}

TEST_F(HttpServerTest, BodyLimitIs413AndClosesTheConnection) {
  Router router;
  router.Add("POST", "/in", [](Request req, ResponseWriter writer) {
    std::move(writer).Send(Response{.body = std::to_string(req.body.size())});
  });
  StartServer(std::move(router));

  TestClient ok_client(port_);
  EXPECT_EQ(ok_client.Do(bhttp::verb::post, "/in", std::string(256 * 1024, 'a'))
                .body(),
            "262144");

  TestClient client(port_);
  ClientResponse res =
      client.Do(bhttp::verb::post, "/in", std::string(256 * 1024 + 1, 'a'));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(Str(res[bhttp::field::content_type]), "application/problem+json");
  EXPECT_FALSE(res.keep_alive());
  nlohmann::json j = nlohmann::json::parse(res.body());
  EXPECT_EQ(j["status"], 413);
  EXPECT_EQ(j["title"], "Content Too Large");
  EXPECT_TRUE(client.ServerCloses());
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  Router router;
  router.Add("POST", "/in", Reply("{}"));
  HttpServerOptions options = TestOptions();
  options.max_body_bytes = 10;
  StartServer(std::move(router), options);
  RawSocket raw(port_);
  ASSERT_TRUE(raw.Send(
      "POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n"));
  bool closed = false;
  const std::string out = raw.ReadAll(absl::Seconds(10), &closed);
  EXPECT_THAT(out, StartsWith("HTTP/1.1 413 "));
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, MalformedRequestsAre400AndClose) {
  Router router;
  router.Add("GET", "/", Reply("{}"));
  StartServer(std::move(router));
  for (const char* request : {
           "GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
           "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
           "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",  // bad escape in the target
           "GET nope HTTP/1.1\r\nHost: x\r\n\r\n",
       }) {
    RawSocket raw(port_);
    ASSERT_TRUE(raw.Send(request));
    bool closed = false;
    const std::string out = raw.ReadAll(absl::Seconds(10), &closed);
    EXPECT_THAT(out, StartsWith("HTTP/1.1 400 Bad Request\r\n")) << request;
    EXPECT_THAT(out, HasSubstr("application/problem+json")) << request;
    EXPECT_THAT(out, HasSubstr("X-Request-Id: ")) << request;
    EXPECT_TRUE(closed) << request;
  }
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  Router router;
  router.Add("GET", "/", Reply("{}"));
  StartServer(std::move(router));
  RawSocket raw(port_);
  ASSERT_TRUE(raw.Send(absl::StrCat("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ",
                                    std::string(20000, 'a'), "\r\n\r\n")));
  bool closed = false;
  EXPECT_THAT(raw.ReadAll(absl::Seconds(10), &closed),
              StartsWith("HTTP/1.1 431 "));
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, HeaderTimeoutDisconnectsSlowloris) {
  Router router;
  router.Add("GET", "/", Reply("{}"));
  HttpServerOptions options = TestOptions();
  options.header_timeout = absl::Milliseconds(300);
  StartServer(std::move(router), options);

  RawSocket raw(port_);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(raw.Send("GET / HTTP/1.1\r\nHost: x\r\n"));
  // One byte every 50 ms: each byte is "activity", but the header as a
  // whole is far too slow.
  const std::string drip = "X-Slow: " + std::string(200, 'a');
  bool disconnected = false;
  for (char c : drip) {
    absl::SleepFor(absl::Milliseconds(50));
    bool closed = false;
    const std::string got = raw.ReadAll(absl::ZeroDuration(), &closed);
    EXPECT_EQ(got, "");  // no response to a slowloris
    if (closed || !raw.Send(std::string(1, c))) {
      disconnected = true;
      break;
    }
  }
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_TRUE(disconnected);
  EXPECT_GE(elapsed, absl::Milliseconds(250));
  EXPECT_LT(elapsed, absl::Seconds(3));
}

TEST_F(HttpServerTest, SilentConnectionIsClosedAfterHeaderTimeout) {
  Router router;
  router.Add("GET", "/", Reply("{}"));
  HttpServerOptions options = TestOptions();
  options.header_timeout = absl::Milliseconds(200);
  StartServer(std::move(router), options);
  RawSocket raw(port_);
  bool closed = false;
  const absl::Time start = absl::Now();
  EXPECT_EQ(raw.ReadAll(absl::Seconds(5), &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  Router router;
  router.Add("GET", "/", Reply("{}"));
  HttpServerOptions options = TestOptions();
  options.idle_timeout = absl::Milliseconds(300);
  StartServer(std::move(router), options);
  TestClient client(port_);
  EXPECT_EQ(client.Get("/").result_int(), 200);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(client.ServerCloses());
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_GE(elapsed, absl::Milliseconds(250));
  EXPECT_LT(elapsed, absl::Seconds(3));
}

TEST_F(HttpServerTest, ExpectContinue) {
  Router router;
  router.Add("POST", "/in", [](Request req, ResponseWriter writer) {
    std::move(writer).Send(Response{.body = req.body});
  });
  StartServer(std::move(router));
  RawSocket raw(port_);
  ASSERT_TRUE(
      raw.Send("POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(raw.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(raw.Send("hello"));
  const std::string out = raw.ReadUntil("hello");
  EXPECT_THAT(out, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(absl::EndsWith(out, "\r\n\r\nhello"));
}

// --- Request id and trace context --------------------------------------------

TEST_F(HttpServerTest, EchoesAValidRequestIdAndGeneratesOtherwise) {
  Router router;
  router.Add("GET", "/", Describe);
  StartServer(std::move(router));
  TestClient client(port_);

  ClientResponse res = client.Get("/", {{"X-Request-Id", "client-id-42"}});
  EXPECT_EQ(Str(res["X-Request-Id"]), "client-id-42");
  EXPECT_EQ(nlohmann::json::parse(res.body())["request_id"], "client-id-42");

  for (const Headers& headers :
       {Headers{}, Headers{{"X-Request-Id", std::string(129, 'x')}}}) {
    res = client.Get("/", headers);
    const std::string id = Str(res["X-Request-Id"]);
    EXPECT_TRUE(IsUuid(id)) << id;
    EXPECT_NE(UuidV7Time(id), absl::InfinitePast());
    EXPECT_EQ(nlohmann::json::parse(res.body())["request_id"], id);
  }
}

TEST_F(HttpServerTest, ContinuesAValidTraceparentWithANewSpan) {
  Router router;
  router.Add("GET", "/", Describe);
  StartServer(std::move(router));
  TestClient client(port_);
  const std::string incoming =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
  ClientResponse res = client.Get("/", {{"traceparent", incoming}});
  const std::string ours = Str(res["traceparent"]);
  std::optional<TraceParent> tp = ParseTraceparent(ours);
  ASSERT_TRUE(tp.has_value()) << ours;
  EXPECT_EQ(ours.substr(0, 36), incoming.substr(0, 36));    // same trace-id
  EXPECT_NE(ours.substr(36, 16), incoming.substr(36, 16));  // our span
  EXPECT_EQ(ours.substr(53), "00");                         // flags kept
  nlohmann::json j = nlohmann::json::parse(res.body());
  EXPECT_EQ(j["traceparent"], ours);
  EXPECT_EQ(j["parent_traceparent"], incoming);
}

TEST_F(HttpServerTest, StartsANewTraceForAMissingOrInvalidTraceparent) {
  Router router;
  router.Add("GET", "/", Describe);
  StartServer(std::move(router));
  TestClient client(port_);
  for (const Headers& headers : {
           Headers{},
           Headers{{"traceparent",
                    "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}},
           Headers{{"traceparent",
                    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}},
           Headers{{"traceparent", "garbage"}},
       }) {
    ClientResponse res = client.Get("/", headers);
    const std::string ours = Str(res["traceparent"]);
    ASSERT_TRUE(ParseTraceparent(ours).has_value()) << ours;
    EXPECT_EQ(ours.substr(53), "01");
    if (!headers.empty()) {
      EXPECT_NE(ours.substr(3, 32), headers[0].second.substr(3, 32));
    }
    nlohmann::json j = nlohmann::json::parse(res.body());
    EXPECT_EQ(j["traceparent"], ours);
    EXPECT_EQ(j["parent_traceparent"], "");
  }
}

// --- Access log and metrics hook
// ----------------------------------------------------

TEST_F(HttpServerTest, AccessLogLineAndRequestRecord) {
  Router router;
  router.Add("GET", "/api/v1/notifications/{id}", Reply(R"({"ok":true})"),
             {.name = "notifications.get"});
  HttpServerOptions options = TestOptions();
  capture_.Install(options);
  StartServer(std::move(router), options);

  TestClient client(port_);
  const absl::Time before = absl::Now();
  ClientResponse res = client.Get("/api/v1/notifications/n1?api_key=ahk_secret",
                                  {{"X-Request-Id", "rid-1"}});
  ASSERT_EQ(res.result_int(), 200);
  ASSERT_TRUE(Eventually([&] { return capture_.size() >= 1; }));
  const std::string line = capture_.lines()[0];
  EXPECT_THAT(line, ::testing::Not(HasSubstr("ahk_secret")));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("\n")));
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j.size(), 12u) << line;
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "request");
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/api/v1/notifications/n1");
  EXPECT_EQ(j["route"], "notifications.get");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["bytes"], res.body().size());
  EXPECT_TRUE(j["duration_ms"].is_number());
  EXPECT_GE(j["duration_ms"].get<double>(), 0.0);
  EXPECT_EQ(j["request_id"], "rid-1");
  EXPECT_EQ(j["traceparent"], Str(res["traceparent"]));
  EXPECT_THAT(std::string(j["remote"]), StartsWith("127.0.0.1:"));
  absl::StatusOr<absl::Time> ts = ParseRfc3339(std::string(j["ts"]));
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_GE(*ts, before - absl::Seconds(1));
  EXPECT_LE(*ts, absl::Now());

  // Unmatched requests have a fixed route name (metrics cardinality).
  EXPECT_EQ(client.Get("/nope/123").result_int(), 404);
  ASSERT_TRUE(Eventually([&] { return capture_.records().size() >= 2; }));
  std::vector<LogCapture::Record> records = capture_.records();
  EXPECT_EQ(records[0].route, "notifications.get");
  EXPECT_EQ(records[0].method, "GET");
  EXPECT_EQ(records[0].status, 200);
  EXPECT_EQ(records[0].bytes, res.body().size());
  EXPECT_GE(records[0].duration, absl::ZeroDuration());
  EXPECT_EQ(records[1].route, "unmatched");
  EXPECT_EQ(records[1].status, 404);
}

TEST_F(HttpServerTest, DefaultAccessLogWritesToStderr) {
  Router router;
  router.Add("GET", "/", Reply("{}"));
  HttpServerOptions options = TestOptions();
  options.access_log = HttpServerOptions().access_log;
  StartServer(std::move(router), options);
  ::testing::internal::CaptureStderr();
  TestClient client(port_);
  EXPECT_EQ(client.Get("/").result_int(), 200);
  std::string err;
  Eventually([&] {
    // CaptureStderr can only be read once; keep polling the server's count.
    return server_->connections() >= 1;
  });
  absl::SleepFor(absl::Milliseconds(100));
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("\"msg\":\"request\""));
  EXPECT_TRUE(absl::EndsWith(err, "}\n")) << err;
}

// --- WebSocket
// -------------------------------------------------------------------

class EchoHandler : public WebSocketHandler {
 public:
  explicit EchoHandler(WsProbe* probe) : probe_(probe) {}
  void OnOpen(std::shared_ptr<WebSocketSession> session) override {
    session_ = session;
    {
      absl::MutexLock lock(&probe_->mu);
      probe_->session = std::move(session);
    }
    probe_->opened.Notify();
  }
  void OnMessage(std::string text) override {
    {
      absl::MutexLock lock(&probe_->mu);
      probe_->received.push_back(text);
    }
    session_->Send("echo:" + text);
  }
  void OnClose() override { probe_->closed.Notify(); }

 private:
  WsProbe* probe_;
  std::shared_ptr<WebSocketSession> session_;
};

// Accepts upgrades that carry "Authorization: Bearer ok".
WebSocketAcceptor EchoAcceptor(WsProbe* probe) {
  return [probe](const Request& req) -> WebSocketAcceptResult {
    if (req.Header("authorization") != "Bearer ok") {
      return ProblemResponse(401, "Unauthorized", "a token is required");
    }
    {
      absl::MutexLock lock(&probe->mu);
      probe->request_id = req.request_id;
    }
    return std::make_unique<EchoHandler>(probe);
  };
}

const Headers kAuth = {{"Authorization", "Bearer ok"}};

TEST_F(HttpServerTest, WebSocketUpgradeAndMessagesBothWays) {
  WsProbe& probe = *NewProbe();
  Router router;
  router.AddWebSocket("/api/v1/ws", EchoAcceptor(&probe), {.name = "ws"});
  HttpServerOptions options = TestOptions();
  capture_.Install(options);
  StartServer(std::move(router), options);

  WsClient ws;
  websocket::response_type handshake;
  ASSERT_FALSE(
      ws.Connect(port_, "/api/v1/ws", &handshake,
                 {{"Authorization", "Bearer ok"}, {"X-Request-Id", "ws-rid"}}));
  EXPECT_EQ(handshake.result_int(), 101);
  EXPECT_EQ(Str(handshake["X-Request-Id"]), "ws-rid");
  EXPECT_TRUE(ParseTraceparent(Str(handshake["traceparent"])).has_value());
  ASSERT_TRUE(probe.opened.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(Eventually([&] { return server_->ws_connections() == 1; }));

  ASSERT_FALSE(ws.Write("hello"));
  std::string text;
  ASSERT_FALSE(ws.Read(&text));
  EXPECT_EQ(text, "echo:hello");

  // The server pushes from a thread of its own.
  std::thread pusher([&] {
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(probe.Session()->Send(absl::StrCat("push", i)));
    }
  });
  pusher.join();
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(ws.Read(&text));
    EXPECT_EQ(text, absl::StrCat("push", i));
  }

  // A server-initiated close after the queued messages.
  EXPECT_TRUE(probe.Session()->Send("last"));
  probe.Session()->Close(kWsCloseNormal, "bye");
  EXPECT_FALSE(probe.Session()->Send("too late"));
  ASSERT_FALSE(ws.Read(&text));
  EXPECT_EQ(text, "last");
  EXPECT_EQ(ws.ReadUntilClosed(), kWsCloseNormal);
  ASSERT_TRUE(probe.closed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(Eventually([&] { return server_->ws_connections() == 0; }));

  ASSERT_TRUE(Eventually([&] { return capture_.size() >= 1; }));
  nlohmann::json j = nlohmann::json::parse(capture_.lines()[0]);
  EXPECT_EQ(j["status"], 101);
  EXPECT_EQ(j["route"], "ws");
  EXPECT_EQ(j["request_id"], "ws-rid");
}

TEST_F(HttpServerTest, WebSocketRejectedWithPlainHttp401) {
  WsProbe& probe = *NewProbe();
  Router router;
  router.AddWebSocket("/api/v1/ws", EchoAcceptor(&probe));
  StartServer(std::move(router));
  WsClient ws;
  websocket::response_type handshake;
  EXPECT_EQ(ws.Connect(port_, "/api/v1/ws", &handshake),
            websocket::error::upgrade_declined);
  EXPECT_EQ(handshake.result_int(), 401);
  EXPECT_EQ(Str(handshake[bhttp::field::content_type]),
            "application/problem+json");
  EXPECT_EQ(handshake.count(bhttp::field::upgrade), 0u);
  EXPECT_FALSE(probe.opened.HasBeenNotified());
  EXPECT_EQ(server_->ws_connections(), 0);
}

TEST_F(HttpServerTest, PlainRequestToWebSocketPathIs426) {
  WsProbe& probe = *NewProbe();
  Router router;
  router.AddWebSocket("/api/v1/ws", EchoAcceptor(&probe));
  StartServer(std::move(router));
  TestClient client(port_);
  ClientResponse res = client.Get("/api/v1/ws");
  EXPECT_EQ(res.result_int(), 426);
  EXPECT_EQ(Str(res[bhttp::field::upgrade]), "websocket");
}

TEST_F(HttpServerTest, WebSocketRefusesBinaryAndOversizedMessages) {
  WsProbe& binary_probe = *NewProbe();
  WsProbe& big_probe = *NewProbe();
  Router router;
  router.AddWebSocket("/binary", EchoAcceptor(&binary_probe));
  router.AddWebSocket("/big", EchoAcceptor(&big_probe));
  StartServer(std::move(router));
  {
    WsClient ws;
    websocket::response_type handshake;
    ASSERT_FALSE(ws.Connect(port_, "/binary", &handshake, kAuth));
    ASSERT_FALSE(ws.Write("\x01\x02", /*binary=*/true));
    EXPECT_EQ(ws.ReadUntilClosed(), 1003);
  }
  {
    WsClient ws;
    websocket::response_type handshake;
    ASSERT_FALSE(ws.Connect(port_, "/big", &handshake, kAuth));
    ASSERT_FALSE(ws.Write(std::string(64 * 1024, 'a')));  // at the limit: fine
    std::string text;
    ASSERT_FALSE(ws.Read(&text));
    EXPECT_EQ(text.size(), 5 + 64 * 1024u);
    ASSERT_FALSE(ws.Write(std::string(64 * 1024 + 1, 'a')));
    EXPECT_EQ(ws.ReadUntilClosed(), 1009);
  }
}

TEST_F(HttpServerTest, SlowWebSocketConsumerIsClosedWith1013) {
  WsProbe& probe = *NewProbe();
  Router router;
  router.AddWebSocket("/ws", EchoAcceptor(&probe));
  HttpServerOptions options = TestOptions();
  options.ws_max_queue = 4;
  StartServer(std::move(router), options);

  WsClient slow;  // never reads until the end
  websocket::response_type handshake;
  ASSERT_FALSE(slow.Connect(port_, "/ws", &handshake, kAuth));
  ASSERT_TRUE(probe.opened.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::shared_ptr<WebSocketSession> session = probe.Session();

  const std::string chunk(16 * 1024, 'x');
  int sent = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (session->Send(chunk) && absl::Now() < deadline)
    ++sent;  // never blocks
  EXPECT_EQ(server_->ws_slow_closed(), 1);
  EXPECT_FALSE(session->Send("more"));

  int received = 0;
  EXPECT_EQ(slow.ReadUntilClosed(&received), kWsCloseTryAgainLater);
  EXPECT_LE(received, sent);
  ASSERT_TRUE(probe.closed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(Eventually([&] { return server_->ws_connections() == 0; }));
}

TEST_F(HttpServerTest, SlowConsumerDoesNotDelayOthers) {
  WsProbe& slow_probe = *NewProbe();
  WsProbe& fast_probe = *NewProbe();
  Router router;
  router.AddWebSocket("/slow", EchoAcceptor(&slow_probe));
  router.AddWebSocket("/fast", EchoAcceptor(&fast_probe));
  HttpServerOptions options = TestOptions();
  options.ws_max_queue = 64;
  options.io_threads = 1;
  StartServer(std::move(router), options);

  WsClient slow;
  WsClient fast;
  websocket::response_type handshake;
  ASSERT_FALSE(slow.Connect(port_, "/slow", &handshake, kAuth));
  ASSERT_FALSE(fast.Connect(port_, "/fast", &handshake, kAuth));
  ASSERT_TRUE(
      slow_probe.opened.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(
      fast_probe.opened.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // Fill the slow client's socket buffers and queue.
  const std::string chunk(64 * 1024, 'x');
  while (slow_probe.Session()->Send(chunk)) {
  }
  // The fast client still gets its messages promptly.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(fast_probe.Session()->Send(absl::StrCat("m", i)));
    std::string text;
    ASSERT_FALSE(fast.Read(&text));
    EXPECT_EQ(text, absl::StrCat("m", i));
  }
}

TEST_F(HttpServerTest, WebSocketPingsIdlePeersAndDropsDeadOnes) {
  WsProbe& dead_probe = *NewProbe();
  WsProbe& live_probe = *NewProbe();
  Router router;
  router.AddWebSocket("/dead", EchoAcceptor(&dead_probe));
  router.AddWebSocket("/live", EchoAcceptor(&live_probe));
  HttpServerOptions options = TestOptions();
  options.ws_idle_timeout = absl::Milliseconds(300);
  StartServer(std::move(router), options);

  // A peer that completes the upgrade and then never answers anything.
  RawSocket dead(port_);
  ASSERT_TRUE(dead.Send(
      "GET /dead HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer ok\r\n\r\n"));
  EXPECT_THAT(dead.ReadUntil("\r\n\r\n"), StartsWith("HTTP/1.1 101 "));
  const absl::Time start = absl::Now();
  bool closed = false;
  const std::string frames = dead.ReadAll(absl::Seconds(5), &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(static_cast<uint8_t>(frames[0]), 0x89);  // FIN + ping
  ASSERT_TRUE(
      dead_probe.closed.WaitForNotificationWithTimeout(absl::Seconds(10)));

  // A live client answers the pings (while reading) and stays connected
  // well past the idle timeout.
  WsClient live;
  websocket::response_type handshake;
  ASSERT_FALSE(live.Connect(port_, "/live", &handshake, kAuth));
  ASSERT_TRUE(
      live_probe.opened.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::thread later([&] {
    absl::SleepFor(absl::Seconds(1));
    live_probe.Session()->Send("still here");
  });
  std::string text;
  EXPECT_FALSE(live.Read(&text));
  EXPECT_EQ(text, "still here");
  later.join();
  EXPECT_FALSE(live_probe.closed.HasBeenNotified());
}

// --- Shutdown
// --------------------------------------------------------------------

TEST_F(HttpServerTest, GracefulShutdownFinishesInFlightAndClosesWebSockets) {
  absl::Notification entered;
  absl::Notification release;
  WsProbe& probe = *NewProbe();
  Router router;
  router.Add("GET", "/slow", [&](Request, ResponseWriter writer) {
    entered.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(10));
    std::move(writer).Send(Response{.body = "done"});
  });
  router.AddWebSocket("/ws", EchoAcceptor(&probe));
  StartServer(std::move(router));
  const int port = port_;

  WsClient ws;
  websocket::response_type handshake;
  ASSERT_FALSE(ws.Connect(port, "/ws", &handshake, kAuth));
  ASSERT_TRUE(probe.opened.WaitForNotificationWithTimeout(absl::Seconds(10)));
  TestClient idle(port);  // keep-alive, between requests

  ClientResponse slow_response;
  bool slow_closed = false;
  std::thread slow_client([&] {
    TestClient client(port);
    slow_response = client.Get("/slow");
    slow_closed = client.ServerCloses();
  });
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(absl::Seconds(10)));

  absl::Notification stopped;
  std::thread stopper([&] {
    server_->Shutdown(absl::Seconds(10));
    stopped.Notify();
  });
  // WebSockets are told the server is going away; idle connections closed.
  EXPECT_EQ(ws.ReadUntilClosed(), kWsCloseGoingAway);
  ASSERT_TRUE(probe.closed.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(idle.ServerCloses());
  // The in-flight request holds Shutdown() up until it is answered.
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(stopped.HasBeenNotified());
  release.Notify();
  slow_client.join();
  EXPECT_EQ(slow_response.result_int(), 200);
  EXPECT_EQ(slow_response.body(), "done");
  EXPECT_FALSE(slow_response.keep_alive());
  EXPECT_TRUE(slow_closed);
  stopper.join();
  EXPECT_TRUE(stopped.HasBeenNotified());
  EXPECT_EQ(server_->ws_connections(), 0);

  RawSocket after(port);
  EXPECT_FALSE(after.connected());  // no longer listening
}

TEST_F(HttpServerTest, ShutdownGraceExpiresForAStuckHandler) {
  absl::Notification entered;
  absl::Notification release;
  Router router;
  router.Add("GET", "/stuck", [&](Request, ResponseWriter writer) {
    entered.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(10));
    std::move(writer).Send(Response{.body = "late"});  // dropped
  });
  StartServer(std::move(router));
  const int port = port_;
  beast::error_code error;
  std::thread client_thread([&] {
    TestClient client(port);
    client.Do(bhttp::verb::get, "/stuck", "", {}, &error);
  });
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(300));
    release.Notify();
  });
  const absl::Time start = absl::Now();
  server_->Shutdown(absl::Milliseconds(100));
  // Returns once the handler has returned, but its connection was closed.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  client_thread.join();
  releaser.join();
  EXPECT_TRUE(error) << "expected the connection to be closed";
}

TEST_F(HttpServerTest, WriterOutlivingTheServerIsHarmless) {
  absl::Mutex mu;
  std::vector<ResponseWriter> kept;
  absl::Notification entered;
  Router router;
  router.Add("GET", "/keep", [&](Request, ResponseWriter writer) {
    absl::MutexLock lock(&mu);
    kept.push_back(std::move(writer));
    entered.Notify();
  });
  StartServer(std::move(router));
  const int port = port_;
  beast::error_code error;
  std::thread client_thread([&] {
    TestClient client(port);
    client.Do(bhttp::verb::get, "/keep", "", {}, &error);
  });
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  server_->Shutdown(absl::Milliseconds(50));
  server_.reset();
  client_thread.join();
  EXPECT_TRUE(error);
  absl::MutexLock lock(&mu);
  std::move(kept[0]).Send(Response{});  // the server is gone: dropped
  kept.clear();
}

// --- Start
// ---------------------------------------------------------------------------

TEST(HttpServerStartTest, ReportsBindAndConfigurationErrors) {
  HttpServerOptions options;
  options.access_log = nullptr;
  absl::StatusOr<std::unique_ptr<HttpServer>> first =
      HttpServer::Start(Router(), options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GT((*first)->port(), 0);

  options.port = (*first)->port();
  EXPECT_THAT(HttpServer::Start(Router(), options),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("127.0.0.1:", options.port))));

  options.port = 0;
  options.address = "localhost";
  EXPECT_THAT(HttpServer::Start(Router(), options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not an IP address")));
  options.address = "192.0.2.1";  // TEST-NET-1: not an address of this host
  EXPECT_THAT(HttpServer::Start(Router(), options),
              StatusIs(absl::StatusCode::kInvalidArgument));

  options.address = "127.0.0.1";
  options.handler_threads = 0;
  EXPECT_THAT(HttpServer::Start(Router(), options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("handler_threads")));

  Router bad;
  bad.Add("GET", "no-slash", Reply("{}"));
  EXPECT_THAT(
      HttpServer::Start(std::move(bad), HttpServerOptions()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no-slash")));
}

}  // namespace
}  // namespace alerthub::http
