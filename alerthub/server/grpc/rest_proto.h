// Request and response bodies in protobuf's JSON mapping (field names as in
// the .proto, int64 as strings, Timestamps in RFC 3339), for the admin API's
// REST mappings (admin_rest.h, tenant_service.h, analytics_rest.h).
#ifndef ALERTHUB_SERVER_GRPC_REST_PROTO_H_
#define ALERTHUB_SERVER_GRPC_REST_PROTO_H_

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

// The request body (empty: `{}`) as `message`; unknown fields are refused.
// kInvalidArgument with the parser's message otherwise.
absl::Status ParseProtoBody(const http::Request& req, google::protobuf::Message* message);

// `message` as the JSON body of a `status` response; a problem+json 500
// when it cannot be rendered.
http::Response ProtoJsonResponse(int status, const google::protobuf::Message& message);

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_REST_PROTO_H_
