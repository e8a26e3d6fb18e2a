#include "alerthub/server/grpc/admin_app.h"

#include <utility>

#include "alerthub/common/log.h"
#include "alerthub/common/status.h"
#include "alerthub/server/grpc/analytics_rest.h"

namespace alerthub::server {

absl::StatusOr<std::unique_ptr<AdminApp>> AdminApp::Start(Store* store,
                                                          ApiKeyAuthenticator* api_keys,
                                                          const AdminAppOptions& options,
                                                          http::Router& router, Clock* clock) {
  std::unique_ptr<AdminApp> app(new AdminApp());
  ALERTHUB_ASSIGN_OR_RETURN(app->jwt_, LoadJwtKeys(options.jwt, clock));
  app->authenticator_ = std::make_unique<RequestAuthenticator>(api_keys, app->jwt_.verifier.get());
  app->api_keys_admin_ = std::make_unique<ApiKeysAdmin>(store, api_keys, clock);
  app->api_key_operations_ = std::make_unique<ApiKeyOperations>(app->api_keys_admin_.get());
  app->sessions_ = std::make_unique<AuthSessions>(
      store, app->jwt_.signer.get(), clock,
      AuthSessionsOptions{.issuer = options.jwt.issuer,
                          .audience = options.jwt.audience,
                          .refresh_ttl = options.refresh_token_ttl,
                          .login_limits = options.login_limits,
                          .kv = options.login_kv});
  app->auth_operations_ = std::make_unique<AuthOperations>(app->sessions_.get());
  app->tenants_admin_ = std::make_unique<TenantsAdmin>(store, api_keys, clock);
  app->tenant_operations_ = std::make_unique<TenantOperations>(app->tenants_admin_.get());
  app->analytics_admin_ = std::make_unique<AnalyticsAdmin>(store);
  app->analytics_operations_ =
      std::make_unique<AnalyticsOperations>(app->analytics_admin_.get());
  app->audit_admin_ = std::make_unique<AuditAdmin>(store);
  app->audit_operations_ = std::make_unique<AuditOperations>(app->audit_admin_.get());
  if (options.serve_rest) {
    app->rest_ = std::make_unique<AdminRest>(app->authenticator_.get(),
                                             app->api_key_operations_.get(),
                                             app->auth_operations_.get());
    app->rest_->Register(router);
    RegisterAnalyticsRoutes(router, app->authenticator_.get(),
                            app->analytics_operations_.get());
    RegisterAuditRoutes(router, app->authenticator_.get(), app->audit_operations_.get());
    app->tenant_rest_ = std::make_unique<TenantRest>(app->authenticator_.get(),
                                                     app->tenant_operations_.get());
    app->tenant_rest_->Register(router);
  }
  if (options.grpc_port >= 0) {
    app->api_key_service_ = std::make_unique<ApiKeyGrpcService>(
        app->authenticator_.get(), app->api_key_operations_.get());
    app->auth_service_ = std::make_unique<AuthGrpcService>(app->auth_operations_.get());
    app->tenant_service_ = std::make_unique<TenantGrpcService>(app->authenticator_.get(),
                                                               app->tenant_operations_.get());
    app->analytics_service_ = std::make_unique<AnalyticsGrpcService>(
        app->authenticator_.get(), app->analytics_operations_.get());
    app->audit_service_ = std::make_unique<AuditGrpcService>(app->authenticator_.get(),
                                                             app->audit_operations_.get());
    // --- Users and rules: their catalog comes with ServeRouting ---
    app->user_privacy_ = std::make_unique<UserPrivacy>(store, clock);
    app->user_service_ = std::make_unique<UserGrpcService>(
        app->authenticator_.get(), nullptr, app->sessions_.get(), app->user_privacy_.get(), store,
        clock);
    app->rule_service_ =
        std::make_unique<RuleGrpcService>(app->authenticator_.get(), nullptr, store, clock);
    ALERTHUB_ASSIGN_OR_RETURN(
        app->grpc_, GrpcServer::Start(options.grpc_address, options.grpc_port,
                                      {app->api_key_service_.get(), app->auth_service_.get(),
                                       app->tenant_service_.get(), app->analytics_service_.get(),
                                       app->audit_service_.get(),
                                       // Users and rules
                                       app->user_service_.get(), app->rule_service_.get()}));
    Log(LogLevel::kInfo, "grpc listening", {{"port", app->grpc_->port()}});
  }
  return app;
}

void AdminApp::ServeRouting(RoutingCatalog* routing) {
  if (user_service_ != nullptr) user_service_->set_catalog(routing);
  if (rule_service_ != nullptr) rule_service_->set_catalog(routing);
}

void AdminApp::Shutdown(absl::Duration grace) {
  if (grpc_ != nullptr) grpc_->Shutdown(grace);
}

AdminApp::~AdminApp() { Shutdown(absl::Seconds(5)); }

}  // namespace alerthub::server
