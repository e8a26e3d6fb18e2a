#include "alerthub/server/grpc/auth_services.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
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

absl::Status AuthOperations::Login(const pb::LoginRequest& request, pb::TokenResponse* response,
                                   absl::string_view client_address) {
  ALERTHUB_ASSIGN_OR_RETURN(
      AuthSessions::Tokens tokens,
      sessions_->Login(request.tenant(), request.email(), request.password(), client_address));
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
  const absl::Status s = operations_->Login(*request, response, context->peer());
  // Too many failed logins: when to try again, as HTTP's Retry-After says.
  if (std::optional<RateLimitInfo> limit = RateLimitInfoOf(s)) {
    context->AddTrailingMetadata(
        "retry-after",
        absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(limit->retry_after,
                                                                          absl::Seconds(1))))));
  }
  return ToGrpcStatus(s);
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
