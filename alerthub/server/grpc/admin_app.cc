#include "alerthub/server/grpc/admin_app.h"

#include <utility>

#include "alerthub/common/log.h"
#include "alerthub/common/status.h"

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
  if (options.serve_rest) {
    app->rest_ = std::make_unique<AdminRest>(app->authenticator_.get(),
                                             app->api_key_operations_.get());
    app->rest_->Register(router);
  }
  if (options.grpc_port >= 0) {
    app->api_key_service_ = std::make_unique<ApiKeyGrpcService>(
        app->authenticator_.get(), app->api_key_operations_.get());
    ALERTHUB_ASSIGN_OR_RETURN(app->grpc_, GrpcServer::Start(options.grpc_address, options.grpc_port,
                                                            {app->api_key_service_.get()}));
    Log(LogLevel::kInfo, "grpc listening", {{"port", app->grpc_->port()}});
  }
  return app;
}

void AdminApp::Shutdown(absl::Duration grace) {
  if (grpc_ != nullptr) grpc_->Shutdown(grace);
}

AdminApp::~AdminApp() { Shutdown(absl::Seconds(5)); }

}  // namespace alerthub::server
