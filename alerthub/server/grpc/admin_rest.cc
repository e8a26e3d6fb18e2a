#include "alerthub/server/grpc/admin_rest.h"

#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/server/grpc/rest_proto.h"
#include "alerthub/server/rest_util.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using http::Request;
using http::Response;
using http::ResponseWriter;

absl::StatusOr<Principal> Caller(const RequestAuthenticator& auth, const Request& req) {
  return AuthenticateCaller(auth, req);
}

}  // namespace

namespace {

// Runs `op(who, request, &response)` for an authenticated caller and answers.
template <typename Req, typename Resp, typename Op>
void Serve(const RequestAuthenticator& auth, const Request& req, ResponseWriter writer,
           const Req& request, int ok_status, Op op) {
  absl::StatusOr<Principal> who = Caller(auth, req);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  Resp response;
  const absl::Status s = op(*who, request, &response);
  if (!s.ok()) return std::move(writer).Send(ProblemFromStatus(s));
  std::move(writer).Send(ProtoJsonResponse(ok_status, response));
}

// Runs an AuthService operation on the body: it carries its own credential,
// so no header is read. Tokens are not cached on the way (RFC 6749 §5.1).
// A daemon that cannot issue tokens is a server-side condition: 503.
template <typename Req, typename Resp, typename Op>
void ServeAuth(const Request& req, ResponseWriter writer, Op op) {
  Req request;
  absl::Status s = ParseProtoBody(req, &request);
  Resp response;
  if (s.ok()) s = op(request, &response);
  if (absl::IsFailedPrecondition(s)) s = absl::UnavailableError(s.message());
  if (!s.ok()) return std::move(writer).Send(ProblemFromStatus(s));
  Response r;
  if constexpr (std::is_same_v<Resp, google::protobuf::Empty>) {
    r.status = 204;
  } else {
    r = ProtoJsonResponse(200, response);
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  std::move(writer).Send(std::move(r));
}

}  // namespace

void AdminRest::Register(http::Router& router) {
  if (auth_ != nullptr) {
    router.Add("POST", "/api/v1/auth/login", [this](Request req, ResponseWriter writer) {
      // The peer's address counts failed logins (AuthSessions::Login).
      ServeAuth<pb::LoginRequest, pb::TokenResponse>(
          req, std::move(writer), [this, &req](const auto& in, auto* out) {
            return auth_->Login(in, out, req.remote_address);
          });
    });
    router.Add("POST", "/api/v1/auth/refresh", [this](Request req, ResponseWriter writer) {
      ServeAuth<pb::RefreshRequest, pb::TokenResponse>(
          req, std::move(writer),
          [this](const auto& in, auto* out) { return auth_->Refresh(in, out); });
    });
    router.Add("POST", "/api/v1/auth/logout", [this](Request req, ResponseWriter writer) {
      ServeAuth<pb::LogoutRequest, google::protobuf::Empty>(
          req, std::move(writer),
          [this](const auto& in, auto* out) { return auth_->Logout(in, out); });
    });
  }
  router.Add("POST", "/api/v1/api-keys", [this](Request req, ResponseWriter writer) {
    pb::CreateApiKeyRequest request;
    if (absl::Status s = ParseProtoBody(req, &request); !s.ok()) {
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
