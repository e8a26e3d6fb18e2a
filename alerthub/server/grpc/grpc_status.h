// absl::Status -> grpc::Status with the canonical code, and for
// kInvalidArgument with field errors (common/status.h) a google.rpc.Status
// carrying a google.rpc.BadRequest in the `grpc-status-details-bin`
// trailer, one FieldViolation per field — what gRPC clients' rich-error
// helpers read.
#ifndef ALERTHUB_SERVER_GRPC_GRPC_STATUS_H_
#define ALERTHUB_SERVER_GRPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace alerthub::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_GRPC_STATUS_H_
