#include "alerthub/server/app.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/adapters/curl/curl_transport.h"
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
  // Consumers subscribe to the bus before the relay replays the outbox.
  EngineOptions engine_options = options.engine;
  engine_options.run_relay = false;
  ALERTHUB_ASSIGN_OR_RETURN(app->engine_, Engine::Open(engine_options));
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
  http::Router router;
  AdminAppOptions admin_options = options.admin;
  admin_options.login_kv = &app->engine_->kv();  // failed-login limits share the daemon's Kv
  ALERTHUB_ASSIGN_OR_RETURN(app->admin_,
                            AdminApp::Start(&app->engine_->store(), app->auth_.get(),
                                            admin_options, router, &app->engine_->clock()));
  app->registry_ = std::make_unique<metrics::Registry>();
  RouterServiceOptions service_options = options.service;
  // Submissions run on the I/O threads when nothing they wait on before the
  // commit leaves this process.
  service_options.inline_submit = absl::StartsWith(options.engine.store, "sqlite:") &&
                                  absl::StartsWith(options.engine.kv, "memory:");
  app->service_ = std::make_unique<RouterService>(app->engine_.get(), &app->admin_->authenticator(),
                                                  app->registry_.get(), service_options);
  if (options.serve_router) app->service_->Register(router);
  app->StartRules(router);
  if (options.delivery.enabled) {
    ALERTHUB_RETURN_IF_ERROR(app->StartDelivery(router));
  }
  if (options.engine.run_relay) app->engine_->StartRelay();
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

void RouterApp::StartRules(http::Router& router) {
  Store* store = &engine_->store();
  RulesTargetResolverOptions resolver;
  resolver.clock = &engine_->clock();
  resolver.max_staleness = options_.rules_max_staleness;
  resolver_ = std::make_unique<RulesTargetResolver>(store, &engine_->kv(), StoreRuleSource(store),
                                                    std::move(resolver));
  routing_ = std::make_unique<RoutingCatalog>(store, resolver_.get(), &engine_->clock());
  // Its own buckets per route family, and the tenant's bucket submissions
  // share (same Kv keys).
  rules_limiter_ =
      std::make_unique<RateLimiter>(&engine_->kv(), options_.engine.pipeline.rate_limit);
  rules_service_ =
      std::make_unique<RulesService>(routing_.get(), &admin_->authenticator(), rules_limiter_.get(),
                                     &admin_->sessions(), /*store=*/store);  // + GDPR routes
  rules_service_->Register(router);
  // gRPC UserService and RuleService share the catalog (and its resolver).
  admin_->ServeRouting(routing_.get());
}

absl::Status RouterApp::StartDelivery(http::Router& router) {
  const DeliveryAppOptions& d = options_.delivery;
  absl::StatusOr<SecretBox> box = absl::FailedPreconditionError(
      "integration secrets need a key: set --secrets_key_file or ALERTHUB_SECRETS_KEY "
      "(generate one with: openssl rand -base64 32)");
  if (!d.secrets_key.empty()) {
    box = SecretBox::FromText(d.secrets_key);
  } else if (!d.secrets_key_file.empty()) {
    box = d.create_secrets_key ? SecretBox::LoadOrCreate(d.secrets_key_file)
                               : SecretBox::FromFile(d.secrets_key_file);
  }
  ALERTHUB_RETURN_IF_ERROR(box.status());
  secrets_ = std::make_unique<SecretBox>(*std::move(box));

  CurlOptions curl;
  curl.ssrf.allow_private_networks = d.allow_private_networks;
  http_client_ = NewCurlHttpClient(curl);
  mail_ = NewCurlMailTransport(curl);
  ChannelOptions channels = d.channels;
  channels.clock = &engine_->clock();
  senders_ = NewChannelSenders(channels, http_client_.get(), mail_.get());
  catalog_ = std::make_unique<Catalog>(&engine_->store(), secrets_.get(), &engine_->clock());
  DispatcherOptions dispatcher = d.dispatcher;
  dispatcher.clock = &engine_->clock();
  // The rules decide: targets, delays, suppressions.
  RulesTargetResolver* rules = resolver_.get();
  dispatcher.planner = [rules](const Notification& n) { return rules->Plan(n); };
  auto* attempts = &registry_->AddCounter(
      "alerthub_delivery_attempts_total", "Delivery attempts by channel and outcome.",
      {"channel", "outcome"});
  auto* latency = &registry_->AddHistogram("alerthub_delivery_attempt_duration_seconds",
                                           "Time one delivery attempt took, by channel.",
                                           {"channel"});
  dispatcher.on_attempt = [attempts, latency](Channel channel, const SendResult& r) {
    const std::string name(ChannelName(channel));
    attempts->WithLabels({name, std::string(AttemptOutcomeName(r.outcome))}).Increment();
    latency->WithLabels({name}).ObserveDuration(r.latency);
  };
  TaskQueue* queue = &engine_->task_queue();
  for (Channel c : {Channel::kWebhook, Channel::kSlack, Channel::kDiscord, Channel::kEmail,
                    Channel::kPush}) {
    registry_->AddCallbackGauge(
        absl::StrCat("alerthub_delivery_queue_depth_", ChannelName(c)),
        absl::StrCat("Delivery tasks waiting or in flight on ", DeliveryQueue(c), "."),
        [queue, c] {
          absl::StatusOr<int64_t> n = queue->Depth(DeliveryQueue(c));
          return n.ok() ? static_cast<double>(*n) : -1.0;
        });
  }
  dispatcher_ = std::make_unique<Dispatcher>(&engine_->store(), &engine_->task_queue(),
                                             &engine_->kv(), catalog_.get(), senders_.get(),
                                             resolver_.get(), dispatcher);
  ALERTHUB_RETURN_IF_ERROR(dispatcher_->SubscribeTo(&engine_->event_log()));
  ALERTHUB_RETURN_IF_ERROR(dispatcher_->Start());
  integrations_ =
      std::make_unique<IntegrationsService>(catalog_.get(), dispatcher_.get(),
                                            &admin_->authenticator());
  integrations_->Register(router);
  return absl::OkStatus();
}

RouterApp::~RouterApp() { Shutdown(); }

void RouterApp::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  if (admin_ != nullptr) admin_->Shutdown(options_.shutdown_grace);
  if (server_ != nullptr) server_->Shutdown(options_.shutdown_grace);
  // The engine stops its relay in its destructor, after the last request.
  server_.reset();
  // Workers finish their current send; what they did not reach stays queued.
  if (dispatcher_ != nullptr) dispatcher_->Stop();
  integrations_.reset();
  rules_service_.reset();
  service_.reset();
  admin_.reset();
  dispatcher_.reset();  // unsubscribes from the engine's bus
  routing_.reset();
  resolver_.reset();
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
