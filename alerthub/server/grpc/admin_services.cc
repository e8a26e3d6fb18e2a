#include "alerthub/server/grpc/admin_services.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/client.h"
#include "alerthub/common/status.h"
#include "alerthub/server/grpc/grpc_status.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;

std::optional<std::string> Metadata(const grpc::ServerContext& context, const char* key) {
  const auto& md = context.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return std::nullopt;
  return std::string(it->second.data(), it->second.size());
}

}  // namespace

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t us = absl::ToUnixMicros(t);
  out->set_seconds(us / 1'000'000);
  out->set_nanos(static_cast<int32_t>(us % 1'000'000) * 1000);
}

namespace {

pb::Role ToProto(Role r) { return static_cast<pb::Role>(static_cast<int>(r)); }

absl::StatusOr<Role> FromProto(pb::Role r, const char* field) {
  if (r < pb::ROLE_OWNER || r > pb::ROLE_VIEWER) {
    return InvalidArgumentWithFields("invalid request",
                                     {{field, "must be owner, admin, member or viewer"}});
  }
  return static_cast<Role>(static_cast<int>(r));
}

void ToProto(const ApiKey& k, pb::ApiKey* out) {
  out->set_id(k.id);
  out->set_name(k.name);
  out->set_prefix(k.prefix);
  out->set_role(ToProto(k.role));
  SetTime(k.created_at, out->mutable_create_time());
  if (k.revoked_at.has_value()) SetTime(*k.revoked_at, out->mutable_revoke_time());
}

}  // namespace

// page_size 0 means the default; page_token is an opaque list cursor.
absl::StatusOr<PageRequest> ToPageRequest(int32_t page_size, const std::string& page_token) {
  PageRequest page;
  page.limit = page_size == 0 ? 50 : page_size;
  if (page.limit < 1 || page.limit > 500) {
    return InvalidArgumentWithFields("invalid request", {{"page_size", "must be 0-500"}});
  }
  if (!page_token.empty()) {
    absl::StatusOr<std::string> cursor = DecodeListCursor(page_token);
    if (!cursor.ok()) {
      return InvalidArgumentWithFields("invalid request", {{"page_token", "is not a page token"}});
    }
    page.cursor = *std::move(cursor);
  }
  return page;
}

absl::StatusOr<Principal> AuthenticateCall(const RequestAuthenticator& authenticator,
                                           const grpc::ServerContext& context) {
  ALERTHUB_ASSIGN_OR_RETURN(Principal who,
                            authenticator.Authenticate(Metadata(context, "x-api-key"),
                                                       Metadata(context, "authorization"),
                                                       std::nullopt));
  who.request_id = GrpcRequestId(context);
  return who;
}

absl::Status ApiKeyOperations::Create(const Principal& who, const pb::CreateApiKeyRequest& request,
                                      pb::CreateApiKeyResponse* response) {
  ALERTHUB_ASSIGN_OR_RETURN(Role role, FromProto(request.role(), "role"));
  ALERTHUB_ASSIGN_OR_RETURN(ApiKeysAdmin::Created created,
                            admin_->Create(who, request.name(), role));
  ToProto(created.key, response->mutable_api_key());
  response->set_plaintext(created.plaintext);
  return absl::OkStatus();
}

absl::Status ApiKeyOperations::List(const Principal& who, const pb::ListApiKeysRequest& request,
                                    pb::ListApiKeysResponse* response) {
  ALERTHUB_ASSIGN_OR_RETURN(PageRequest page,
                            ToPageRequest(request.page_size(), request.page_token()));
  ALERTHUB_ASSIGN_OR_RETURN(Page<ApiKey> keys, admin_->List(who, request.prefix(), page));
  for (const ApiKey& k : keys.items) ToProto(k, response->add_api_keys());
  if (keys.has_more && !keys.items.empty()) {
    response->set_next_page_token(EncodeListCursor(keys.items.back().id));
  }
  return absl::OkStatus();
}

absl::Status ApiKeyOperations::Revoke(const Principal& who, const pb::RevokeApiKeyRequest& request,
                                      pb::ApiKey* response) {
  ALERTHUB_ASSIGN_OR_RETURN(ApiKey key, admin_->Revoke(who, request.id()));
  ToProto(key, response);
  return absl::OkStatus();
}

namespace {

// Authenticates the call, then runs `op` for the caller.
template <typename Op>
grpc::Status Serve(const RequestAuthenticator& authenticator, const grpc::ServerContext& context,
                   Op op) {
  absl::StatusOr<Principal> who = AuthenticateCall(authenticator, context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ToGrpcStatus(op(*who));
}

}  // namespace

grpc::Status ApiKeyGrpcService::CreateApiKey(grpc::ServerContext* context,
                                             const pb::CreateApiKeyRequest* request,
                                             pb::CreateApiKeyResponse* response) {
  return Serve(*authenticator_, *context, [&](const Principal& who) {
    return operations_->Create(who, *request, response);
  });
}

grpc::Status ApiKeyGrpcService::ListApiKeys(grpc::ServerContext* context,
                                            const pb::ListApiKeysRequest* request,
                                            pb::ListApiKeysResponse* response) {
  return Serve(*authenticator_, *context, [&](const Principal& who) {
    return operations_->List(who, *request, response);
  });
}

grpc::Status ApiKeyGrpcService::RevokeApiKey(grpc::ServerContext* context,
                                             const pb::RevokeApiKeyRequest* request,
                                             pb::ApiKey* response) {
  return Serve(*authenticator_, *context, [&](const Principal& who) {
    return operations_->Revoke(who, *request, response);
  });
}

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const std::string& address, int port, const std::vector<grpc::Service*>& services) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::unique_ptr<GrpcServer> server(new GrpcServer());
  builder.AddListeningPort(absl::StrCat(address, ":", port), grpc::InsecureServerCredentials(),
                           &server->port_);
  for (grpc::Service* s : services) builder.RegisterService(s);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve gRPC on ", address, ":", port, " (in use?)"));
  }
  return server;
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
}

GrpcServer::~GrpcServer() { Shutdown(absl::Seconds(5)); }

}  // namespace alerthub::server
