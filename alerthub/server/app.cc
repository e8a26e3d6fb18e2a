#include "alerthub/server/app.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/log.h"
#include "alerthub/common/status.h"

namespace alerthub::server {

absl::StatusOr<std::string> BootstrapTenant(Engine& engine, const std::string& key_file) {
  if (key_file.empty()) return std::string();
  absl::StatusOr<Tenant> existing = engine.store().GetTenantByName("default");
  if (existing.ok()) return std::string();
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  ALERTHUB_ASSIGN_OR_RETURN(Tenant tenant, engine.EnsureTenant("default"));
  NewApiKey key = GenerateApiKey(tenant.id, "bootstrap owner key", Role::kOwner,
                                 engine.clock().Now());
  ALERTHUB_RETURN_IF_ERROR(engine.store().CreateApiKey(key.record));
  // Write the key with 0600 from the start (no window where others can read).
  int fd = open(key_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", key_file, ": ", strerror(errno)));
  }
  std::string line = key.plaintext + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            fsync(fd) == 0;
  close(fd);
  if (!ok) return absl::UnavailableError(absl::StrCat("cannot write ", key_file));
  return key.plaintext;
}

absl::StatusOr<std::unique_ptr<RouterApp>> RouterApp::Start(AppOptions options) {
  std::unique_ptr<RouterApp> app(new RouterApp());
  app->options_ = options;
  ALERTHUB_ASSIGN_OR_RETURN(app->engine_, Engine::Open(options.engine));
  absl::StatusOr<std::string> key = BootstrapTenant(*app->engine_, options.bootstrap_key_file);
  if (!key.ok()) return key.status();
  if (!key->empty()) {
    // Shown once: only its hash is stored.
    std::fprintf(stdout,
                 "Created tenant \"default\" and its owner API key (shown once, also in %s):\n"
                 "  %s\n",
                 options.bootstrap_key_file.c_str(), key->c_str());
    std::fflush(stdout);
  }
  app->auth_ = std::make_unique<ApiKeyAuthenticator>(&app->engine_->store());
  app->registry_ = std::make_unique<metrics::Registry>();
  app->service_ = std::make_unique<RouterService>(app->engine_.get(), app->auth_.get(),
                                                  app->registry_.get(), options.service);
  http::Router router;
  app->service_->Register(router);
  RouterApp* self = app.get();
  app->service_->RegisterOperational(
      router,
      [self] { return self->server_ != nullptr ? self->server_->ws_connections() : 0; },
      [self] { return self->server_ != nullptr ? self->server_->ws_slow_closed() : 0; });

  http::HttpServerOptions http = options.http;
  RouterService* service = app->service_.get();
  auto user_hook = http.on_request;
  http.on_request = [service, user_hook](const http::RequestRecord& r) {
    service->ObserveRequest(r.method, r.route, r.status, r.duration);
    if (user_hook) user_hook(r);
  };
  ALERTHUB_ASSIGN_OR_RETURN(app->server_, http::HttpServer::Start(std::move(router), http));
  return app;
}

RouterApp::~RouterApp() { Shutdown(); }

void RouterApp::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (server_ != nullptr) server_->Shutdown(options_.shutdown_grace);
  // The engine stops its relay in its destructor, after the last request.
  server_.reset();
  service_.reset();
  engine_.reset();
  http::FlushAccessLog(absl::Seconds(2));
}

absl::Status RunRouterApp(AppOptions options) {
  // Block the signals in every thread; this thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<RouterApp>> app = RouterApp::Start(std::move(options));
  if (!app.ok()) return app.status();
  Log(LogLevel::kInfo, "listening", {{"port", (*app)->port()}});
  int sig = 0;
  sigwait(&signals, &sig);
  Log(LogLevel::kInfo, "shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*app)->Shutdown();
  Log(LogLevel::kInfo, "stopped");
  return absl::OkStatus();
}

}  // namespace alerthub::server
