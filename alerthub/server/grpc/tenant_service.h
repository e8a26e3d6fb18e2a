// TenantService (alerthub/proto/admin.proto) over gRPC and REST, on
// TenantsAdmin (alerthub/admin/tenants_admin.h), which decides who may do
// what: platform operators manage every tenant, other credentials see only
// their own (other ids are NOT_FOUND).
//
// REST, with protobuf's JSON mapping as the other admin routes
// (admin_rest.h):
//   POST   /api/v1/tenants       CreateTenantRequest -> 201 CreateTenantResponse
//   GET    /api/v1/tenants       ?page_size=&page_token= -> ListTenantsResponse
//   GET    /api/v1/tenants/{id}  -> Tenant
//   PATCH  /api/v1/tenants/{id}  Tenant, ?update_mask=name,settings.rate_limit_burst
//                                -> Tenant
//   DELETE /api/v1/tenants/{id}  -> 204
//
// Update masks name "name", "settings" or one of its fields
// ("settings.rate_limit_per_second", "settings.rate_limit_burst",
// "settings.dedup_window"); only those change. Without a mask, the name is
// replaced when the request gives one and the settings when it has them.
// Any other path is INVALID_ARGUMENT naming it.
//
//   TenantOperations operations(&tenants_admin);
//   TenantGrpcService grpc_service(&request_authenticator, &operations);
//   TenantRest(&request_authenticator, &operations).Register(router);
#ifndef ALERTHUB_SERVER_GRPC_TENANT_SERVICE_H_
#define ALERTHUB_SERVER_GRPC_TENANT_SERVICE_H_

#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "alerthub/admin/tenants_admin.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/principal.h"
#include "alerthub/proto/admin.grpc.pb.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

// The fields an UpdateTenantRequest replaces (see the file comment);
// kInvalidArgument with a field error on "update_mask.paths" naming an
// unknown or immutable path.
absl::StatusOr<TenantUpdate> TenantUpdateFromRequest(
    const admin::v1::UpdateTenantRequest& request);

// TenantService's operations on its protobuf messages for an
// authenticated caller: what the gRPC service and the REST mapping both
// run.
class TenantOperations {
 public:
  // `admin` must outlive this.
  explicit TenantOperations(TenantsAdmin* admin) : admin_(admin) {}

  absl::Status Create(const Principal& who, const admin::v1::CreateTenantRequest& request,
                      admin::v1::CreateTenantResponse* response);
  absl::Status Get(const Principal& who, const admin::v1::GetTenantRequest& request,
                   admin::v1::Tenant* response);
  absl::Status Update(const Principal& who, const admin::v1::UpdateTenantRequest& request,
                      admin::v1::Tenant* response);
  absl::Status List(const Principal& who, const admin::v1::ListTenantsRequest& request,
                    admin::v1::ListTenantsResponse* response);
  absl::Status Delete(const Principal& who, const admin::v1::DeleteTenantRequest& request,
                      google::protobuf::Empty* response);

 private:
  TenantsAdmin* const admin_;
};

class TenantGrpcService final : public admin::v1::TenantService::Service {
 public:
  // Both must outlive the service.
  TenantGrpcService(const RequestAuthenticator* authenticator, TenantOperations* operations)
      : authenticator_(authenticator), operations_(operations) {}

  grpc::Status CreateTenant(grpc::ServerContext* context,
                            const admin::v1::CreateTenantRequest* request,
                            admin::v1::CreateTenantResponse* response) override;
  grpc::Status GetTenant(grpc::ServerContext* context, const admin::v1::GetTenantRequest* request,
                         admin::v1::Tenant* response) override;
  grpc::Status UpdateTenant(grpc::ServerContext* context,
                            const admin::v1::UpdateTenantRequest* request,
                            admin::v1::Tenant* response) override;
  grpc::Status ListTenants(grpc::ServerContext* context,
                           const admin::v1::ListTenantsRequest* request,
                           admin::v1::ListTenantsResponse* response) override;
  grpc::Status DeleteTenant(grpc::ServerContext* context,
                            const admin::v1::DeleteTenantRequest* request,
                            google::protobuf::Empty* response) override;

 private:
  // Authenticates the call, then runs `op` for the caller.
  template <typename Op>
  grpc::Status Serve(const grpc::ServerContext& context, Op op);

  const RequestAuthenticator* const authenticator_;
  TenantOperations* const operations_;
};

// The REST routes above, on the daemon's HTTP router.
class TenantRest {
 public:
  // Both must outlive this.
  TenantRest(const RequestAuthenticator* authenticator, TenantOperations* operations)
      : authenticator_(authenticator), operations_(operations) {}

  void Register(http::Router& router);

 private:
  const RequestAuthenticator* const authenticator_;
  TenantOperations* const operations_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_TENANT_SERVICE_H_
