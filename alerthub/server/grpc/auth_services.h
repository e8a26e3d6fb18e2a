// AuthService (alerthub/proto/admin.proto: Login, Refresh, Logout) over
// AuthSessions (alerthub/admin/auth_sessions.h), for gRPC and for the REST
// routes /api/v1/auth/{login,refresh,logout} (admin_rest.h). The calls carry
// their credential in the message (password or refresh token), so they take
// no API key or bearer token.
//
//   AuthOperations operations(&sessions);
//   AuthGrpcService auth(&operations);
//   ALERTHUB_ASSIGN_OR_RETURN(auto server, GrpcServer::Start("0.0.0.0", 9090, {&auth}));
#ifndef ALERTHUB_SERVER_GRPC_AUTH_SERVICES_H_
#define ALERTHUB_SERVER_GRPC_AUTH_SERVICES_H_

#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "alerthub/admin/auth_sessions.h"
#include "alerthub/proto/admin.grpc.pb.h"

namespace alerthub::server {

// The operations on protobuf messages the gRPC service and the REST mapping
// both run. Errors are AuthSessions'.
class AuthOperations {
 public:
  // `sessions` must outlive this.
  explicit AuthOperations(AuthSessions* sessions) : sessions_(sessions) {}

  // `client_address`: the caller's peer ("ip:port", gRPC's "ipv4:ip:port"),
  // for the per-address limit on failed logins (AuthSessions::Login).
  absl::Status Login(const admin::v1::LoginRequest& request, admin::v1::TokenResponse* response,
                     absl::string_view client_address = "");
  absl::Status Refresh(const admin::v1::RefreshRequest& request,
                       admin::v1::TokenResponse* response);
  absl::Status Logout(const admin::v1::LogoutRequest& request, google::protobuf::Empty* response);

 private:
  AuthSessions* const sessions_;
};

class AuthGrpcService final : public admin::v1::AuthService::Service {
 public:
  // `operations` must outlive the service.
  explicit AuthGrpcService(AuthOperations* operations) : operations_(operations) {}

  grpc::Status Login(grpc::ServerContext* context, const admin::v1::LoginRequest* request,
                     admin::v1::TokenResponse* response) override;
  grpc::Status Refresh(grpc::ServerContext* context, const admin::v1::RefreshRequest* request,
                       admin::v1::TokenResponse* response) override;
  grpc::Status Logout(grpc::ServerContext* context, const admin::v1::LogoutRequest* request,
                      google::protobuf::Empty* response) override;

 private:
  AuthOperations* const operations_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_AUTH_SERVICES_H_
