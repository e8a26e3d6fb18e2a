#include "alerthub/server/grpc/auth_services.h"

#include <utility>

#include "absl/time/time.h"
#include "alerthub/common/status.h"
#include "alerthub/server/grpc/grpc_status.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;

void ToProto(AuthSessions::Tokens tokens, pb::TokenResponse* out) {
  out->set_access_token(std::move(tokens.access_token));
  out->set_refresh_token(std::move(tokens.refresh_token));
  out->set_expires_in(static_cast<int32_t>(absl::ToInt64Seconds(tokens.expires_in)));
  out->set_token_type("Bearer");
}

}  // namespace

absl::Status AuthOperations::Login(const pb::LoginRequest& request, pb::TokenResponse* response) {
  ALERTHUB_ASSIGN_OR_RETURN(
      AuthSessions::Tokens tokens,
      sessions_->Login(request.tenant(), request.email(), request.password()));
  ToProto(std::move(tokens), response);
  return absl::OkStatus();
}

absl::Status AuthOperations::Refresh(const pb::RefreshRequest& request,
                                     pb::TokenResponse* response) {
  ALERTHUB_ASSIGN_OR_RETURN(AuthSessions::Tokens tokens,
                            sessions_->Refresh(request.refresh_token()));
  ToProto(std::move(tokens), response);
  return absl::OkStatus();
}

absl::Status AuthOperations::Logout(const pb::LogoutRequest& request,
                                    google::protobuf::Empty* response) {
  return sessions_->Logout(request.refresh_token());
}

grpc::Status AuthGrpcService::Login(grpc::ServerContext* context, const pb::LoginRequest* request,
                                    pb::TokenResponse* response) {
  return ToGrpcStatus(operations_->Login(*request, response));
}

grpc::Status AuthGrpcService::Refresh(grpc::ServerContext* context,
                                      const pb::RefreshRequest* request,
                                      pb::TokenResponse* response) {
  return ToGrpcStatus(operations_->Refresh(*request, response));
}

grpc::Status AuthGrpcService::Logout(grpc::ServerContext* context,
                                     const pb::LogoutRequest* request,
                                     google::protobuf::Empty* response) {
  return ToGrpcStatus(operations_->Logout(*request, response));
}

}  // namespace alerthub::server
