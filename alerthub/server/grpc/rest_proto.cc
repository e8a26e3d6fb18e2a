#include "alerthub/server/grpc/rest_proto.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <utility>

#include "alerthub/common/status.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {

absl::Status ParseProtoBody(const http::Request& req, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const std::string body = req.body.empty() ? "{}" : req.body;
  const auto s = google::protobuf::util::JsonStringToMessage(body, message, options);
  if (s.ok()) return absl::OkStatus();
  return InvalidArgumentWithFields("invalid request body",
                                   {{"", std::string(s.message().data(), s.message().size())}});
}

http::Response ProtoJsonResponse(int status, const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto s = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!s.ok()) return ProblemFromStatus(absl::InternalError("cannot render the response"));
  http::Response r;
  r.status = status;
  r.body = std::move(json);
  return r;
}

}  // namespace alerthub::server
