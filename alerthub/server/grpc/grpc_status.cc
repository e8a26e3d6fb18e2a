#include "alerthub/server/grpc/grpc_status.h"

#include <string>

#include "absl/time/clock.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/proto/google/rpc/status.pb.h"
#include "alerthub/server/http/trace_context.h"

namespace alerthub::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl's codes are the canonical gRPC codes, number for number.
  const auto code = static_cast<grpc::StatusCode>(static_cast<int>(status.code()));
  const std::string message(status.message());
  const std::vector<FieldError> errors = FieldErrorsOf(status);
  if (errors.empty()) return grpc::Status(code, message);
  google::rpc::BadRequest bad_request;
  for (const FieldError& e : errors) {
    google::rpc::BadRequest::FieldViolation* v = bad_request.add_field_violations();
    v->set_field(e.field);
    v->set_description(e.message);
  }
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  details.add_details()->PackFrom(bad_request);
  return grpc::Status(code, message, details.SerializeAsString());
}

std::string GrpcRequestId(const grpc::ServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("x-request-id");
  if (it != md.end()) {
    std::string id(it->second.data(), it->second.size());
    if (http::IsValidRequestId(id)) return id;
  }
  return NewUuidV7(absl::Now());
}

AuditActor GrpcAuditActor(const grpc::ServerContext& context, const Principal& who) {
  AuditActor actor = AuditActorOf(who);
  if (actor.request_id.empty()) actor.request_id = GrpcRequestId(context);
  return actor;
}

}  // namespace alerthub::server
