// Routing for AlertHub's HTTP transport: the request and response types route
// code sees, the asynchronous handler signature, WebSocket endpoints, and the
// Router that maps "METHOD /path/{param}" to handlers. HttpServer
// (http_server.h) runs a Router; nothing here does I/O.
//
//   Router router;
//   router.Add("GET", "/api/v1/notifications/{id}",
//              [store](Request req, ResponseWriter writer) {
//                // Runs on the handler pool (blocking = true is the default),
//                // so it may wait on the database. Answer from any thread:
//                Response res;
//                res.body = LookUp(store, req.path_params.at("id"));
//                std::move(writer).Send(std::move(res));
//              },
//              {.name = "notifications.get"});
//   router.Add(
//       "GET", "/health/live",
//       [](Request, ResponseWriter w) { std::move(w).Send({.body = "{}"}); },
//       {.blocking = false, .name = "health.live"});
//   router.AddWebSocket(
//       "/api/v1/ws", [](const Request& req) -> WebSocketAcceptResult {
//         if (!Authorized(req)) {
//           return ProblemResponse(401, "Unauthorized", "a token is required");
//         }
//         return std::make_unique<WatchHandler>();
//       });
//   ALERTHUB_ASSIGN_OR_RETURN(auto server,
//                             HttpServer::Start(std::move(router), {}));
#ifndef ALERTHUB_SERVER_HTTP_ROUTER_H_
#define ALERTHUB_SERVER_HTTP_ROUTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace alerthub::http {

namespace http_internal {
class ResponseSink;
struct ResponseWriterAccess;
}  // namespace http_internal

// One HTTP request, as a handler receives it (by value: it may be moved to
// another thread).
struct Request {
  std::string method;      // "GET", as sent (methods are case-sensitive)
  std::string path;        // percent-decoded path, without the query string
  std::string raw_target;  // the request-target as sent ("/a%20b?x=1")
  // Percent-decoded query parameters ('+' is a space), in order of appearance.
  std::multimap<std::string, std::string> query;
  // Header fields as received, in order; names keep the client's spelling.
  // Use Header() for lookups.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // "ip:port" of the peer
  // The request's X-Request-Id: the client's when it sent a valid one
  // (IsValidRequestId), else a new UUIDv7. Echoed on the response.
  std::string request_id;
  // The W3C traceparent of this request's server span, always valid: it keeps
  // the trace-id of a valid incoming traceparent (else starts a new trace) and
  // has a new span-id. Echoed on the response, written to the access log, and
  // what downstream work (bus events, deliveries) should carry.
  std::string traceparent;
  // The client's traceparent when it was valid (the parent of our span);
  // empty when absent or invalid.
  std::string parent_traceparent;
  // Values bound by the route pattern's {name} segments, percent-decoded.
  std::map<std::string, std::string> path_params;

  // The value of the first header field named `name` (ASCII case-insensitive),
  // or nullopt.
  std::optional<std::string> Header(absl::string_view name) const;
  // The first value of query parameter `name`, or nullopt.
  std::optional<std::string> QueryParam(absl::string_view name) const;
};

// One HTTP response. The server sets Content-Length (none for 204 and 304),
// Content-Type (from `content_type`), Date, Server, Connection, X-Request-Id
// and traceparent itself; those names in `headers` are ignored, as are
// headers whose name or value could split the header (CR, LF, NUL).
struct Response {
  int status = 200;  // 200-599; anything else is sent as 500
  // Every member has an initializer so that designated initializers such as
  // Response{.status = 202, .body = "{}"} compile cleanly under -Wextra.
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string body = {};
  // Sent as Content-Type when the body is not empty; empty means none.
  std::string content_type = "application/json";
};

// The one-shot way to answer a Request. Move-only; Send() may be called from
// any thread, exactly once. A writer destroyed without Send() answers 500
// (problem+json), so a handler that throws or forgets cannot hang the client.
// A writer may outlive the HttpServer; a response sent after the connection
// closed or the server shut down is dropped.
class ResponseWriter {
 public:
  // A writer that hands the response to `done` on the thread calling Send()
  // (or the destructor). For unit tests that call handlers without a server.
  static ResponseWriter ForCallback(absl::AnyInvocable<void(Response) &&> done);

  ResponseWriter(ResponseWriter&& other) noexcept = default;
  // Abandons (answers 500 to) this writer's request first, if still pending.
  ResponseWriter& operator=(ResponseWriter&& other) noexcept;
  ResponseWriter(const ResponseWriter&) = delete;
  ResponseWriter& operator=(const ResponseWriter&) = delete;
  ~ResponseWriter();

  // Answers the request. REQUIRES: pending().
  void Send(Response response) &&;

  // True until Send() is called or the writer is moved from.
  bool pending() const { return sink_ != nullptr; }

 private:
  friend struct http_internal::ResponseWriterAccess;
  ResponseWriter(std::shared_ptr<const void> keep_alive,
                 std::shared_ptr<http_internal::ResponseSink> sink);

  // Keeps the server's I/O machinery alive while the writer exists; destroyed
  // after sink_ (declaration order matters).
  std::shared_ptr<const void> keep_alive_;
  std::shared_ptr<http_internal::ResponseSink> sink_;
};

// Handles one request. It must eventually Send() on the writer (or drop it),
// but may do so later, from any thread.
using Handler = std::function<void(Request, ResponseWriter)>;

struct RouteOptions {
  // true: the handler runs on the server's handler pool and may block (on the
  // database, a lock, ...). false: it runs inline on an I/O thread and must
  // not block; use it for trivial routes (health, metrics) and for handlers
  // that only hand the request to another component.
  bool blocking = true;
  // The route's name in access logs and metrics; the pattern when empty.
  std::string name = {};
};

// WebSocket close codes AlertHub sends (RFC 6455 §7.4).
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseGoingAway = 1001;        // server shutdown
inline constexpr uint16_t kWsCloseUnsupportedData = 1003;  // binary frame
inline constexpr uint16_t kWsClosePolicyViolation = 1008;
inline constexpr uint16_t kWsCloseTryAgainLater = 1013;  // slow consumer

// The server's side of one open WebSocket. Thread-safe; may outlive the
// connection and the server (calls then do nothing).
class WebSocketSession {
 public:
  virtual ~WebSocketSession() = default;

  // Queues a text message. Never blocks. Returns false when the session is
  // closing or closed, and when the per-connection queue
  // (HttpServerOptions::ws_max_queue) is full, in which case the connection
  // is closed with 1013 "try again later" (a slow consumer must not hold
  // memory or delay anyone else).
  virtual bool Send(std::string text) = 0;

  // Sends a close frame with `code` and `reason` (at most 123 bytes) after
  // the messages already queued; later Send() calls return false.
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// Receives one WebSocket's events. The server calls these on the
// connection's I/O strand, one at a time, so they must not block: hand slow
// work to another thread. OnClose() is called exactly once after OnOpen(),
// and the handler is destroyed soon after it.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  // The upgrade completed; keep `session` to send from any thread.
  virtual void OnOpen(std::shared_ptr<WebSocketSession> session) = 0;
  // One complete text message (valid UTF-8, at most
  // HttpServerOptions::ws_max_message_bytes).
  virtual void OnMessage(std::string text) {}
  // The connection is closed (by either side, a timeout or shutdown).
  virtual void OnClose() {}
};

// Either a Response that rejects the upgrade (sent as plain HTTP, e.g. 401),
// or the handler of the accepted WebSocket (null counts as a 500).
using WebSocketAcceptResult =
    std::variant<Response, std::unique_ptr<WebSocketHandler>>;

// Decides on an upgrade request. Runs on the handler pool, so it may block
// (authentication may hit the database).
using WebSocketAcceptor = std::function<WebSocketAcceptResult(const Request&)>;

// Maps method and path to handlers. Patterns are absolute paths whose
// segments are literals or "{name}" parameters binding one non-empty
// segment: "/api/v1/notifications/{id}/events". Literal segments win over
// parameters ("/a/new" beats "/a/{id}"), falling back to the parameter only
// when the literal branch cannot match the rest of the path.
//
// Not thread-safe while being built; HttpServer only reads it.
class Router {
 public:
  Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;
  ~Router();

  // Routes `method` (an HTTP token such as "GET") on `pattern` to `handler`.
  // A malformed pattern or method, a duplicate route, or a parameter named
  // differently from one already at the same position is recorded in
  // status() (the route is not added). A GET route also answers HEAD unless
  // a HEAD route exists (the body is dropped, Content-Length kept).
  void Add(absl::string_view method, absl::string_view pattern, Handler handler,
           RouteOptions options = {});

  // Accepts WebSocket upgrades (GET with Upgrade: websocket) on `pattern`.
  // Other requests for the path get the path's HTTP routes, else 426.
  // Errors are recorded in status(), as for Add().
  void AddWebSocket(absl::string_view pattern, WebSocketAcceptor acceptor,
                    RouteOptions options = {});

  // OK, or the first registration error (kInvalidArgument naming the
  // pattern). HttpServer::Start() refuses a router that is not OK.
  const absl::Status& status() const { return status_; }

  // What a request path resolves to. Pointers refer into the Router.
  struct Match {
    // The HTTP route for the method, if any.
    const Handler* handler = nullptr;
    const RouteOptions* options = nullptr;
    // The path's WebSocket route, if any (whatever the method).
    const WebSocketAcceptor* websocket = nullptr;
    const RouteOptions* websocket_options = nullptr;
    // Whether some route exists for the path; if so, its pattern and the
    // methods its HTTP routes allow ("GET, HEAD, POST"; empty when it only
    // has a WebSocket route).
    bool path_found = false;
    absl::string_view pattern;
    absl::string_view allow;
    std::map<std::string, std::string> params;
  };

  // Resolves `method` on the path made of `segments` (already
  // percent-decoded; "/a/b" is {"a", "b"}, "/" is {}).
  Match Find(absl::string_view method,
             absl::Span<const std::string> segments) const;
  // Convenience: splits `path` on '/' (no percent-decoding).
  Match Find(absl::string_view method, absl::string_view path) const;

 private:
  struct Node;
  Node* AddPattern(absl::string_view pattern);
  void RecordError(absl::Status status);

  std::unique_ptr<Node> root_;
  absl::Status status_;
};

}  // namespace alerthub::http

#endif  // ALERTHUB_SERVER_HTTP_ROUTER_H_
