// absl::Status -> grpc::Status with the canonical code, and for
// kInvalidArgument with field errors (common/status.h) a google.rpc.Status
// carrying a google.rpc.BadRequest in the `grpc-status-details-bin`
// trailer, one FieldViolation per field — what gRPC clients' rich-error
// helpers read. Also the call's request id for audit records.
#ifndef ALERTHUB_SERVER_GRPC_GRPC_STATUS_H_
#define ALERTHUB_SERVER_GRPC_GRPC_STATUS_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "alerthub/auth/principal.h"
#include "alerthub/ports/audit.h"

namespace alerthub::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The call's request id: its `x-request-id` metadata when that is a valid
// request id (as HTTP's X-Request-Id), else a new UUIDv7.
std::string GrpcRequestId(const grpc::ServerContext& context);

// Who acts in the call, for an AuditScope (ports/audit.h).
AuditActor GrpcAuditActor(const grpc::ServerContext& context, const Principal& who);

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_GRPC_STATUS_H_
