// RouterService: the notification router's REST and WebSocket routes
// (docs/api.md) over the embedded engine — submit, batch submit, get,
// events, list, realtime updates — plus health and metrics.
//
//   RouterService service(engine, &authenticator, &registry, {});
//   http::Router router;
//   service.Register(router);
//   service.RegisterOperational(router, [&] { return server->ws_connections(); });
//
// Thread-safe: handlers run concurrently on the HTTP server's handler pool
// (the submit route on its I/O threads with inline_submit).
#ifndef ALERTHUB_SERVER_ROUTER_SERVICE_H_
#define ALERTHUB_SERVER_ROUTER_SERVICE_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/auth/principal.h"
#include "alerthub/engine/engine.h"
#include "alerthub/server/http/router.h"
#include "alerthub/server/metrics/metrics.h"

namespace alerthub::server {

struct RouterServiceOptions {
  // The version reported by alerthub_build_info.
  std::string version = "0.1.0";
  std::string commit = "unknown";
  // Serve POST /api/v1/notifications on the HTTP I/O threads instead of the
  // handler pool. Either way the group commit answers the request when it
  // lands (Pipeline::SubmitAsync), so no thread waits on a commit; inline,
  // the checks before it (tenant, rate limit, dedup lookup) run on the I/O
  // thread too. Only for an engine whose Kv and store answer from this
  // process (memory://, sqlite://): a network round trip there would stall
  // every connection of the I/O thread. RouterApp sets it from the engine's
  // URLs.
  bool inline_submit = false;
};

class RouterService {
 public:
  // `engine`, `auth` and `registry` must outlive the service.
  RouterService(Engine* engine, const RequestAuthenticator* auth, metrics::Registry* registry,
                RouterServiceOptions options);

  // The /api/v1/notifications routes and the /api/v1/ws WebSocket.
  void Register(http::Router& router);

  // /health/live, /health/ready and /metrics. `ws_connections` and
  // `ws_slow_closed` read the HTTP server's counters at scrape time.
  void RegisterOperational(http::Router& router, std::function<int64_t()> ws_connections,
                           std::function<int64_t()> ws_slow_closed);

  // Counts one finished request (the HTTP server's on_request hook).
  void ObserveRequest(absl::string_view method, absl::string_view route, int status,
                      absl::Duration duration);

 private:
  absl::StatusOr<Principal> Authenticate(const http::Request& req, Permission permission,
                                         bool allow_query_key = false);

  void Submit(http::Request req, http::ResponseWriter writer);
  void AnswerSubmit(absl::StatusOr<SubmitResult> r, http::ResponseWriter writer);
  void SubmitBatch(http::Request req, http::ResponseWriter writer);
  void Get(http::Request req, http::ResponseWriter writer);
  // DELETE /api/v1/notifications/{id}: cancels one not yet sent (scheduled or
  // held); 409 once a delivery has started.
  void Cancel(http::Request req, http::ResponseWriter writer);
  void Events(http::Request req, http::ResponseWriter writer);
  void List(http::Request req, http::ResponseWriter writer);
  http::WebSocketAcceptResult AcceptWebSocket(const http::Request& req);
  void Ready(http::Request req, http::ResponseWriter writer);

  Engine* const engine_;
  const RequestAuthenticator* const auth_;
  metrics::Registry* const registry_;
  const RouterServiceOptions options_;

  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* durations_ = nullptr;
  metrics::Counter* accepted_ = nullptr;
  metrics::Counter* duplicates_ = nullptr;
  metrics::Counter* rate_limited_ = nullptr;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_ROUTER_SERVICE_H_
