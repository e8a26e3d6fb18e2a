// State shared by the server and its connections.
//
// Lifetimes (the subtle part): an HttpServer owns a ServerContext, which
// connections point to; they use it only while running on the io_context,
// and the server joins the I/O threads before destroying it. The io_context
// itself lives in SharedState, which ResponseWriters and WebSocketSession
// handles also hold, because route code may keep those past Shutdown() and
// a connection must never outlive its io_context. Completion handlers queued
// in the io_context hold connections but never SharedState, so there is no
// reference cycle: destroying the io_context destroys the connections.
#ifndef ALERTHUB_SERVER_HTTP_INTERNAL_SERVER_CONTEXT_H_
#define ALERTHUB_SERVER_HTTP_INTERNAL_SERVER_CONTEXT_H_

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/string.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/server/http/http_server.h"
#include "alerthub/server/http/router.h"

namespace alerthub::http::http_internal {

namespace net = boost::asio;

inline absl::string_view ToAbsl(boost::beast::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline boost::beast::string_view ToBeast(absl::string_view s) {
  return boost::beast::string_view(s.data(), s.size());
}

// The route name of requests no route took.
inline constexpr absl::string_view kUnmatchedRoute = "unmatched";

struct SharedState {
  explicit SharedState(int io_threads) : ioc(io_threads) {}
  net::io_context ioc;
  std::atomic<int64_t> ws_connections{0};
  std::atomic<int64_t> ws_slow_closed{0};
};

// A live connection, as Shutdown() sees it. Drain() and ForceClose() are
// called on the connection's own strand (executor()).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual net::any_io_executor executor() const = 0;
  // Shutdown started: finish what is in flight, close when idle.
  virtual void Drain() = 0;
  // The grace period is over: close now.
  virtual void ForceClose() = 0;
};

// Per-request data the access log and metrics need.
struct RequestInfo {
  std::string method;
  std::string path;                           // raw path, no query string
  absl::string_view route = kUnmatchedRoute;  // points into the Router
  std::string request_id;
  std::string traceparent;
  absl::Time start_wall;
  std::chrono::steady_clock::time_point start;
};

class ServerContext {
 public:
  ServerContext(const Router* router, const HttpServerOptions* options,
                std::shared_ptr<SharedState> shared, net::thread_pool* pool)
      : router(router),
        options(options),
        shared(std::move(shared)),
        pool(pool) {}

  const Router* const router;
  const HttpServerOptions* const options;
  const std::shared_ptr<SharedState> shared;
  net::thread_pool* const pool;
  std::atomic<bool> draining{false};

  void Register(const std::shared_ptr<Connection>& connection);
  // Idempotent.
  void Unregister(Connection* connection);
  std::vector<std::shared_ptr<Connection>> Snapshot();
  int64_t size();
  // Blocks until no connection is registered or `deadline`; true if empty.
  bool AwaitEmpty(absl::Time deadline);

  // Reports a finished request to the access log and on_request.
  void Record(const RequestInfo& info, absl::string_view remote, int status,
              size_t bytes) const;

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<Connection*, std::weak_ptr<Connection>> live_
      ABSL_GUARDED_BY(mu_);
};

// Sets `stream`'s deadline `d` from now; an infinite `d` means none.
template <typename Stream>
void SetExpiry(Stream& stream, absl::Duration d) {
  if (d == absl::InfiniteDuration()) {
    stream.expires_never();
  } else {
    stream.expires_after(absl::ToChronoNanoseconds(d));
  }
}

}  // namespace alerthub::http::http_internal

#endif  // ALERTHUB_SERVER_HTTP_INTERNAL_SERVER_CONTEXT_H_
