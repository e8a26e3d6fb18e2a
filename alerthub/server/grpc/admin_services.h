// The admin API's gRPC services (alerthub/proto/admin.proto) over the
// transport-free logic in alerthub/admin. Each call authenticates from the
// request metadata (`x-api-key`, or `authorization: Bearer ...`) with the
// same authenticator as the REST routes, then maps absl::Status to
// canonical codes (grpc_status.h).
//
//   ApiKeyOperations operations(&api_keys_admin);
//   ApiKeyGrpcService api_keys(&request_authenticator, &operations);
//   ALERTHUB_ASSIGN_OR_RETURN(auto server, GrpcServer::Start("0.0.0.0", 9090, {&api_keys}));
#ifndef ALERTHUB_SERVER_GRPC_ADMIN_SERVICES_H_
#define ALERTHUB_SERVER_GRPC_ADMIN_SERVICES_H_

#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "alerthub/admin/api_keys_admin.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/principal.h"
#include "alerthub/proto/admin.grpc.pb.h"

namespace alerthub::server {

// The caller of a gRPC call, from its `x-api-key` or `authorization`
// metadata, with the call's request id (GrpcRequestId) for audit records.
absl::StatusOr<Principal> AuthenticateCall(const RequestAuthenticator& authenticator,
                                           const grpc::ServerContext& context);

// Shared by the services' operations (this file, tenant_service.h):
// `t` as a protobuf Timestamp (microsecond precision);
void SetTime(absl::Time t, google::protobuf::Timestamp* out);
// a list request's page (page_size 0: 50; page_token: an opaque cursor),
// kInvalidArgument naming "page_size" or "page_token".
absl::StatusOr<PageRequest> ToPageRequest(int32_t page_size, const std::string& page_token);

// ApiKeyService's operations on its protobuf messages for an
// authenticated caller: what the gRPC service and the REST mapping
// (admin_rest.h) both run, so the two cannot drift apart.
class ApiKeyOperations {
 public:
  explicit ApiKeyOperations(ApiKeysAdmin* admin) : admin_(admin) {}

  absl::Status Create(const Principal& who, const admin::v1::CreateApiKeyRequest& request,
                      admin::v1::CreateApiKeyResponse* response);
  absl::Status List(const Principal& who, const admin::v1::ListApiKeysRequest& request,
                    admin::v1::ListApiKeysResponse* response);
  absl::Status Revoke(const Principal& who, const admin::v1::RevokeApiKeyRequest& request,
                      admin::v1::ApiKey* response);

 private:
  ApiKeysAdmin* const admin_;
};

class ApiKeyGrpcService final : public admin::v1::ApiKeyService::Service {
 public:
  // Both must outlive the service.
  ApiKeyGrpcService(const RequestAuthenticator* authenticator, ApiKeyOperations* operations)
      : authenticator_(authenticator), operations_(operations) {}

  grpc::Status CreateApiKey(grpc::ServerContext* context,
                            const admin::v1::CreateApiKeyRequest* request,
                            admin::v1::CreateApiKeyResponse* response) override;
  grpc::Status ListApiKeys(grpc::ServerContext* context,
                           const admin::v1::ListApiKeysRequest* request,
                           admin::v1::ListApiKeysResponse* response) override;
  grpc::Status RevokeApiKey(grpc::ServerContext* context,
                            const admin::v1::RevokeApiKeyRequest* request,
                            admin::v1::ApiKey* response) override;

 private:
  const RequestAuthenticator* const authenticator_;
  ApiKeyOperations* const operations_;
};

// A gRPC server with server reflection, serving `services` on
// address:port (port 0 picks one; see port()).
class GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const std::string& address, int port, const std::vector<grpc::Service*>& services);
  ~GrpcServer();  // Shutdown() then waits

  int port() const { return port_; }
  // Stops accepting calls and waits up to `grace` for running ones.
  void Shutdown(absl::Duration grace);

 private:
  GrpcServer() = default;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_ADMIN_SERVICES_H_
