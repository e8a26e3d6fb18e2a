// The router application: an Engine, API-key authentication, the router's
// routes and the HTTP server, started together and stopped gracefully. The
// all-in-one `alerthub` daemon and `alerthub-router` are main() plus flags
// around RunRouterApp().
//
//   AppOptions options;
//   options.engine.store = "sqlite:///var/lib/alerthub/alerthub.db";
//   options.http.port = 8080;
//   return RunRouterApp(options).ok() ? 0 : 1;   // until SIGTERM/SIGINT
#ifndef ALERTHUB_SERVER_APP_H_
#define ALERTHUB_SERVER_APP_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "alerthub/auth/api_keys.h"
#include "alerthub/delivery/catalog.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/dispatcher.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/delivery/secret_box.h"
#include "alerthub/engine/engine.h"
#include "alerthub/ports/http_client.h"
#include "alerthub/ratelimit/rate_limiter.h"
#include "alerthub/rules/rules_resolver.h"
#include "alerthub/server/grpc/admin_app.h"
#include "alerthub/server/http/http_server.h"
#include "alerthub/server/integrations_service.h"
#include "alerthub/server/metrics/metrics.h"
#include "alerthub/server/router_service.h"
#include "alerthub/server/rules_service.h"

namespace alerthub::server {

// The delivery side: the integrations service's routes and the workers.
struct DeliveryAppOptions {
  // Serve /api/v1/integrations, /templates and /deliveries, route accepted
  // notifications and run the delivery workers.
  bool enabled = true;
  // The key sealing integration secrets at rest: `secrets_key` (64 hex
  // digits or base64 of 32 bytes) wins over `secrets_key_file`; with
  // `create_secrets_key`, a missing file is created with a fresh key (the
  // all-in-one daemon's first start).
  std::string secrets_key;
  std::string secrets_key_file;
  bool create_secrets_key = false;
  // Allow deliveries to loopback and private networks (ARCHITECTURE §4).
  bool allow_private_networks = false;
  ChannelOptions channels;
  DispatcherOptions dispatcher;
};

struct AppOptions {
  EngineOptions engine;
  // Serve the notification router's routes (/api/v1/notifications, the
  // WebSocket). Off for the integrations-only daemon.
  bool serve_router = true;
  DeliveryAppOptions delivery;
  http::HttpServerOptions http;
  // Create tenant "default" and an owner API key when the store has no
  // tenant of that name, print the key once and write it to this file
  // (mode 0600). Empty: no bootstrap.
  std::string bootstrap_key_file;
  // Routing rules: how long this process routes with a tenant's rules
  // before reading them again, the bound on how late it sees changes made by
  // other processes (its own changes apply at once). The rules, users and
  // preferences routes are served whenever the app serves anything.
  absl::Duration rules_max_staleness = absl::Seconds(30);
  // The admin API (its REST routes, the gRPC server) and JWT access tokens.
  AdminAppOptions admin;
  // How long shutdown waits for in-flight requests.
  absl::Duration shutdown_grace = absl::Seconds(10);
  RouterServiceOptions service;
};

// A started application. Destroying it shuts it down gracefully.
class RouterApp {
 public:
  static absl::StatusOr<std::unique_ptr<RouterApp>> Start(AppOptions options);
  ~RouterApp();

  int port() const { return server_->port(); }
  Engine& engine() { return *engine_; }
  // Stops accepting, finishes in-flight requests (up to the grace period),
  // closes WebSockets with 1001, then stops the engine. Idempotent.
  void Shutdown();

 private:
  RouterApp() = default;
  // The rules resolver and the rules and users routes; before StartDelivery,
  // whose dispatcher routes with the resolver.
  void StartRules(http::Router& router);
  absl::Status StartDelivery(http::Router& router);

  AppOptions options_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ApiKeyAuthenticator> auth_;
  // API keys or JWTs for every route; the admin routes and gRPC server.
  std::unique_ptr<AdminApp> admin_;
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<RouterService> service_;
  // Rules and users (always): the resolver routing uses and the
  // /api/v1/rules and /api/v1/users routes.
  std::unique_ptr<RulesTargetResolver> resolver_;
  std::unique_ptr<RoutingCatalog> routing_;
  std::unique_ptr<RateLimiter> rules_limiter_;
  std::unique_ptr<RulesService> rules_service_;
  // Delivery (when options_.delivery.enabled).
  std::unique_ptr<SecretBox> secrets_;
  std::unique_ptr<HttpClient> http_client_;
  std::unique_ptr<MailTransport> mail_;
  std::unique_ptr<ChannelSender> senders_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<IntegrationsService> integrations_;
  std::unique_ptr<http::HttpServer> server_;
  bool stopped_ = false;
};

// Creates the bootstrap tenant and owner key when absent (see AppOptions).
// Returns the plaintext key when one was created, empty otherwise.
absl::StatusOr<std::string> BootstrapTenant(Engine& engine, const std::string& key_file);

// Starts the app, logs where it listens, waits for SIGTERM or SIGINT, then
// shuts down gracefully.
absl::Status RunRouterApp(AppOptions options);

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_APP_H_
