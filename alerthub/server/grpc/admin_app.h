// The admin side of a daemon: JWT keys, the one RequestAuthenticator every
// route uses (API keys or JWT access tokens), the admin operations, their
// REST mapping (with the login routes) and the gRPC server (with
// reflection). The all-in-one and
// `alerthub-admin` start it; the router and integrations daemons use only
// its authenticator.
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<AdminApp> admin,
//                             AdminApp::Start(&store, &api_keys, options, router, clock));
//   RouterService service(..., &admin->authenticator(), ...);
#ifndef ALERTHUB_SERVER_GRPC_ADMIN_APP_H_
#define ALERTHUB_SERVER_GRPC_ADMIN_APP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alerthub/admin/analytics.h"
#include "alerthub/admin/audit_admin.h"
#include "alerthub/admin/api_keys_admin.h"
#include "alerthub/admin/auth_sessions.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/jwt_keys.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"
#include "alerthub/server/grpc/admin_rest.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/server/grpc/analytics_service.h"
#include "alerthub/server/grpc/audit_service.h"
#include "alerthub/server/grpc/auth_services.h"
#include "alerthub/server/grpc/tenant_service.h"
// UserService and RuleService
#include "alerthub/admin/user_privacy.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/server/grpc/rule_service.h"
#include "alerthub/server/grpc/user_service.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

struct AdminAppOptions {
  // Serve the admin REST routes (/api/v1/api-keys) on the HTTP router.
  bool serve_rest = false;
  // The gRPC server: -1 none, 0 any free port (see grpc_port()).
  std::string grpc_address = "0.0.0.0";
  int grpc_port = -1;
  // JWT access tokens; no files configured: API keys only. Logins need a
  // signing key.
  JwtKeyFiles jwt;
  // Lifetime of each refresh token from its issue (AuthSessionsOptions).
  absl::Duration refresh_token_ttl = absl::Hours(24 * 30);
  // --- Failed-login limits (AuthSessionsOptions) ---
  LoginLimitOptions login_limits = {};
  // Where their buckets live (the daemon's Kv); must outlive the app.
  // nullptr: logins are not limited.
  Kv* login_kv = nullptr;
};

class AdminApp {
 public:
  // Every pointer must outlive the app. Registers the REST routes on
  // `router` when asked; logs "grpc listening" with the port.
  static absl::StatusOr<std::unique_ptr<AdminApp>> Start(Store* store,
                                                          ApiKeyAuthenticator* api_keys,
                                                          const AdminAppOptions& options,
                                                          http::Router& router, Clock* clock);
  ~AdminApp();

  const RequestAuthenticator& authenticator() const { return *authenticator_; }
  // Logins and users' passwords (the users API sets them through it).
  AuthSessions& sessions() const { return *sessions_; }
  // The gRPC port, 0 when no gRPC server runs.
  int grpc_port() const { return grpc_ != nullptr ? grpc_->port() : 0; }
  // Stops the gRPC server, waiting up to `grace` for running calls.
  void Shutdown(absl::Duration grace);
  // Serves UserService and RuleService over `routing` (the daemon's, which
  // must outlive the app; the rules and users REST routes use the same one,
  // so both see every change at once). Until called, those RPCs answer
  // UNAVAILABLE.
  void ServeRouting(RoutingCatalog* routing);

 private:
  AdminApp() = default;

  JwtKeys jwt_;
  std::unique_ptr<RequestAuthenticator> authenticator_;
  std::unique_ptr<ApiKeysAdmin> api_keys_admin_;
  std::unique_ptr<ApiKeyOperations> api_key_operations_;
  std::unique_ptr<ApiKeyGrpcService> api_key_service_;
  std::unique_ptr<AuthSessions> sessions_;
  std::unique_ptr<AuthOperations> auth_operations_;
  std::unique_ptr<AuthGrpcService> auth_service_;
  std::unique_ptr<AdminRest> rest_;
  // --- Tenants (TenantService, /api/v1/tenants) ---
  std::unique_ptr<TenantsAdmin> tenants_admin_;
  std::unique_ptr<TenantOperations> tenant_operations_;
  std::unique_ptr<TenantGrpcService> tenant_service_;
  std::unique_ptr<TenantRest> tenant_rest_;
  // --- Analytics ---
  std::unique_ptr<AnalyticsAdmin> analytics_admin_;
  std::unique_ptr<AnalyticsOperations> analytics_operations_;
  std::unique_ptr<AnalyticsGrpcService> analytics_service_;
  // --- Audit (AuditService, /api/v1/audit) ---
  std::unique_ptr<AuditAdmin> audit_admin_;
  std::unique_ptr<AuditOperations> audit_operations_;
  std::unique_ptr<AuditGrpcService> audit_service_;
  // --- Users and rules (UserService, RuleService; see ServeRouting) ---
  std::unique_ptr<UserPrivacy> user_privacy_;
  std::unique_ptr<UserGrpcService> user_service_;
  std::unique_ptr<RuleGrpcService> rule_service_;
  std::unique_ptr<GrpcServer> grpc_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_ADMIN_APP_H_
