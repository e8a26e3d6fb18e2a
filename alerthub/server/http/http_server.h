// HttpServer: the HTTP/1.1 and WebSocket server AlertHub's REST routes run
// on (Boost.Beast on Asio). Transport only: it parses requests, routes them
// through a Router (router.h), runs handlers, and takes care of what every
// route needs the same way -- keep-alive, limits and timeouts,
// X-Request-Id and W3C traceparent, RFC 9457 errors, one JSON access-log
// line per request, and a metrics hook.
//
//   Router router;
//   router.Add("GET", "/health/live", Live, {.blocking = false});
//   HttpServerOptions options;
//   options.port = 8080;
//   options.on_request = [&](const RequestRecord& r) { metrics.Observe(r); };
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server,
//                             HttpServer::Start(std::move(router), options));
//   ...
//   server->Shutdown(absl::Seconds(10));  // drain, then stop
//
// Threads: `io_threads` run all socket I/O and non-blocking handlers;
// blocking handlers and WebSocket acceptors run on `handler_threads`
// threads. Each connection serves its requests one at a time, in order
// (pipelined requests wait for the previous response).
//
// Server-generated errors, all application/problem+json: 400 malformed
// request (connection closed), 404 unknown path, 405 known path with another
// method (with Allow), 413 body over max_body_bytes and 431 header over
// max_header_bytes (connection closed), 426 non-upgrade request to a
// WebSocket-only path, 500 handler dropped its writer, 503 WebSocket upgrade
// during shutdown.
#ifndef ALERTHUB_SERVER_HTTP_HTTP_SERVER_H_
#define ALERTHUB_SERVER_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/server/http/router.h"

namespace alerthub::http {

// What the server reports about each finished request (for metrics). The
// views are valid only during the on_request call.
struct RequestRecord {
  // The route's name (RouteOptions::name, else its pattern); "unmatched"
  // when no route has the path or the request could not be parsed.
  absl::string_view route = {};
  absl::string_view method = {};  // empty when the request could not be parsed
  int status = 0;                 // 101 for an accepted WebSocket upgrade
  // From the complete request header to the response written.
  absl::Duration duration = {};
  size_t bytes = 0;  // response body bytes
};

// The default access log: queues `json_line` for a writer thread that
// appends it and a newline to stderr, whole lines only, so a slow or stalled
// reader of stderr never blocks a request. Thread-safe.
void WriteAccessLogToStderr(absl::string_view json_line);

// Waits until every line WriteAccessLogToStderr() queued has been written,
// up to `timeout`; false on timeout. Call before exiting.
bool FlushAccessLog(absl::Duration timeout);

// Lines WriteAccessLogToStderr() dropped because stderr was not keeping up
// (more than 16,384 lines waiting).
int64_t AccessLogLinesDropped();

struct HttpServerOptions {
  // IP address to listen on ("0.0.0.0", "::", "127.0.0.1"); not a host name.
  std::string address = "127.0.0.1";
  // TCP port; 0 picks a free one (see HttpServer::port()).
  int port = 0;
  // Threads doing socket I/O and running non-blocking handlers; 0 means one
  // per CPU this process may run on (its affinity mask).
  int io_threads = 0;
  // Threads running blocking handlers and WebSocket acceptors; this many
  // handlers run at once, others queue. Large by default because handlers
  // that wait on the database (a batch submission waits on its group
  // commit, shared by many concurrent requests) must be in flight together.
  int handler_threads = 64;
  // Larger request bodies are answered 413 and the connection closed.
  size_t max_body_bytes = 256 * 1024;
  // Larger request headers (request line and fields) are answered 431.
  size_t max_header_bytes = 16 * 1024;
  // Limit on receiving a request header: from accepting the connection for
  // its first request, from the first byte for later ones. Protects against
  // slowloris clients; the connection is closed without a response.
  absl::Duration header_timeout = absl::Seconds(10);
  // How long a keep-alive connection may wait for its next request.
  absl::Duration idle_timeout = absl::Seconds(60);
  // Limit on reading one request body, and on writing one response.
  absl::Duration body_timeout = absl::Seconds(30);
  // Messages a WebSocket may have queued (Send() not yet written); beyond
  // this the client is too slow and is closed with 1013.
  size_t ws_max_queue = 1024;
  // Larger incoming WebSocket messages close the connection with 1009.
  size_t ws_max_message_bytes = 64 * 1024;
  // A WebSocket from which nothing arrives for half this long is pinged; if
  // still nothing arrives by the full period the peer is dead and dropped.
  // The WebSocket opening and closing handshakes are limited by
  // header_timeout.
  absl::Duration ws_idle_timeout = absl::Seconds(60);
  // Receives one JSON access-log line per request (no trailing newline),
  // on an I/O thread: it must be quick. nullptr disables the access log.
  std::function<void(absl::string_view json_line)> access_log =
      WriteAccessLogToStderr;
  // Called once per finished request (including server-generated errors and
  // WebSocket upgrades), on an I/O thread: it must be quick. Optional.
  std::function<void(const RequestRecord&)> on_request;
};

class HttpServer {
 public:
  // Listens on options.address:options.port and starts serving `router`.
  // Errors: kInvalidArgument for a router with registration errors
  // (Router::status()), an invalid option (the message names it) or an
  // address that is not local; kUnavailable when the port is in use;
  // kPermissionDenied when binding is not allowed.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      Router router, HttpServerOptions options);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Shutdown(absl::ZeroDuration()) unless Shutdown() was called.
  ~HttpServer();

  // The port being listened on (the chosen one when options.port was 0).
  int port() const;

  // Stops accepting connections and closes idle ones, lets requests already
  // being served finish (their responses say Connection: close) for up to
  // `grace`, closes every WebSocket with 1001 "going away", then closes what
  // is left and joins all threads: it returns once no handler runs (a
  // handler still running after `grace` is waited for; its response is
  // dropped). Idempotent; thread-safe. Must not be called from a handler.
  void Shutdown(absl::Duration grace);

  // Open WebSocket connections (for metrics). Thread-safe.
  int64_t ws_connections() const;
  // WebSockets closed with 1013 because their send queue was full, since
  // Start(). Thread-safe.
  int64_t ws_slow_closed() const;
  // Open connections, HTTP and WebSocket. Thread-safe.
  int64_t connections() const;

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace alerthub::http

#endif  // ALERTHUB_SERVER_HTTP_HTTP_SERVER_H_
