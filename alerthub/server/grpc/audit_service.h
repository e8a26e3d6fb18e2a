// AuditService (alerthub/proto/admin.proto: ListAuditRecords) over
// AuditAdmin (alerthub/admin/audit_admin.h), for gRPC and for its REST
// mapping; Permission::kReadAudit (admins and owners), the caller's tenant
// only.
//
//   GET /api/v1/audit ?actor=&action=&target=&start=&end=&page_size=&page_token=
//       -> ListAuditRecordsResponse (protobuf JSON mapping), newest first
//
// `action` is exact, or a prefix when it ends in "." ("rule."); start and
// end are RFC 3339 times (records at or after start, before end).
//
//   AuditOperations operations(&audit_admin);
//   AuditGrpcService audit(&request_authenticator, &operations);
//   RegisterAuditRoutes(router, &request_authenticator, &operations);
#ifndef ALERTHUB_SERVER_GRPC_AUDIT_SERVICE_H_
#define ALERTHUB_SERVER_GRPC_AUDIT_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "alerthub/admin/audit_admin.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/principal.h"
#include "alerthub/ports/audit.h"
#include "alerthub/proto/admin.grpc.pb.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

// `record` as the AuditRecord message (before/after as Structs).
void ToProto(const AuditRecord& record, admin::v1::AuditRecord* out);

class AuditOperations {
 public:
  // `admin` must outlive this.
  explicit AuditOperations(AuditAdmin* admin) : admin_(admin) {}

  // kInvalidArgument naming the field (page_size, page_token, range,
  // action); kPermissionDenied below admin.
  absl::Status List(const Principal& who, const admin::v1::ListAuditRecordsRequest& request,
                    admin::v1::ListAuditRecordsResponse* response);

 private:
  AuditAdmin* const admin_;
};

class AuditGrpcService final : public admin::v1::AuditService::Service {
 public:
  // Both must outlive the service.
  AuditGrpcService(const RequestAuthenticator* authenticator, AuditOperations* operations)
      : authenticator_(authenticator), operations_(operations) {}

  grpc::Status ListAuditRecords(grpc::ServerContext* context,
                                const admin::v1::ListAuditRecordsRequest* request,
                                admin::v1::ListAuditRecordsResponse* response) override;

 private:
  const RequestAuthenticator* const authenticator_;
  AuditOperations* const operations_;
};

// GET /api/v1/audit (above). Both must outlive the router's use of it.
void RegisterAuditRoutes(http::Router& router, const RequestAuthenticator* authenticator,
                         AuditOperations* operations);

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_AUDIT_SERVICE_H_
