#include "alerthub/server/grpc/admin_rest.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using http::Request;
using http::Response;
using http::ResponseWriter;

absl::StatusOr<Principal> Caller(const RequestAuthenticator& auth, const Request& req) {
  return auth.Authenticate(req.Header("X-API-Key"), req.Header("Authorization"), std::nullopt);
}

// The body as `message` (protobuf's JSON mapping; unknown fields refused).
absl::Status ParseBody(const Request& req, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const std::string body = req.body.empty() ? "{}" : req.body;
  const auto s = google::protobuf::util::JsonStringToMessage(body, message, options);
  if (s.ok()) return absl::OkStatus();
  return InvalidArgumentWithFields("invalid request body",
                                   {{"", std::string(s.message().data(), s.message().size())}});
}

Response ProtoResponse(int status, const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto s = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!s.ok()) return ProblemFromStatus(absl::InternalError("cannot render the response"));
  Response r;
  r.status = status;
  r.body = std::move(json);
  return r;
}

// Runs `op(who, request, &response)` for an authenticated caller and answers.
template <typename Req, typename Resp, typename Op>
void Serve(const RequestAuthenticator& auth, const Request& req, ResponseWriter writer,
           const Req& request, int ok_status, Op op) {
  absl::StatusOr<Principal> who = Caller(auth, req);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  Resp response;
  const absl::Status s = op(*who, request, &response);
  if (!s.ok()) return std::move(writer).Send(ProblemFromStatus(s));
  std::move(writer).Send(ProtoResponse(ok_status, response));
}

}  // namespace

void AdminRest::Register(http::Router& router) {
  router.Add("POST", "/api/v1/api-keys", [this](Request req, ResponseWriter writer) {
    pb::CreateApiKeyRequest request;
    if (absl::Status s = ParseBody(req, &request); !s.ok()) {
      return std::move(writer).Send(ProblemFromStatus(s));
    }
    Serve<pb::CreateApiKeyRequest, pb::CreateApiKeyResponse>(
        *authenticator_, req, std::move(writer), request, 201,
        [this](const Principal& who, const auto& in, auto* out) {
          return api_keys_->Create(who, in, out);
        });
  });
  router.Add("GET", "/api/v1/api-keys", [this](Request req, ResponseWriter writer) {
    pb::ListApiKeysRequest request;
    request.set_prefix(req.QueryParam("prefix").value_or(""));
    request.set_page_token(req.QueryParam("page_token").value_or(""));
    if (std::optional<std::string> size = req.QueryParam("page_size"); size.has_value()) {
      int32_t n = 0;
      if (!absl::SimpleAtoi(*size, &n)) {
        return std::move(writer).Send(QueryProblem(
            InvalidArgumentWithFields("invalid query", {{"page_size", "must be a number"}})));
      }
      request.set_page_size(n);
    }
    Serve<pb::ListApiKeysRequest, pb::ListApiKeysResponse>(
        *authenticator_, req, std::move(writer), request, 200,
        [this](const Principal& who, const auto& in, auto* out) {
          return api_keys_->List(who, in, out);
        });
  });
  router.Add("DELETE", "/api/v1/api-keys/{id}", [this](Request req, ResponseWriter writer) {
    pb::RevokeApiKeyRequest request;
    request.set_id(req.path_params["id"]);
    Serve<pb::RevokeApiKeyRequest, pb::ApiKey>(
        *authenticator_, req, std::move(writer), request, 200,
        [this](const Principal& who, const auto& in, auto* out) {
          return api_keys_->Revoke(who, in, out);
        });
  });
}

}  // namespace alerthub::server
