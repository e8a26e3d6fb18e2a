#include "alerthub/server/grpc/tenant_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "alerthub/client.h"
#include "alerthub/common/status.h"
#include "alerthub/server/grpc/admin_rest.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/server/grpc/grpc_status.h"
#include "alerthub/server/grpc/rest_proto.h"
#include "alerthub/server/rest_util.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using http::Request;
using http::Response;
using http::ResponseWriter;

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

void ToProto(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  out->set_seconds(ns / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
}

TenantSettings FromProto(const pb::TenantSettings& s) {
  TenantSettings out;
  out.rate_limit_per_second = s.rate_limit_per_second();
  out.rate_limit_burst = s.rate_limit_burst();
  if (s.has_dedup_window()) out.dedup_window = FromProto(s.dedup_window());
  return out;
}

void ToProto(const Tenant& t, pb::Tenant* out) {
  out->set_id(t.id);
  out->set_name(t.name);
  pb::TenantSettings* s = out->mutable_settings();
  s->set_rate_limit_per_second(t.settings.rate_limit_per_second);
  s->set_rate_limit_burst(t.settings.rate_limit_burst);
  if (t.settings.dedup_window.has_value()) {
    ToProto(*t.settings.dedup_window, s->mutable_dedup_window());
  }
  SetTime(t.created_at, out->mutable_create_time());
}

absl::Status BadPath(absl::string_view path, absl::string_view why) {
  std::string what = absl::StrCat("\"", path, "\" ", why);
  return InvalidArgumentWithFields(absl::StrCat("invalid update_mask: ", what),
                                   {{"update_mask.paths", what}});
}

}  // namespace

absl::StatusOr<TenantUpdate> TenantUpdateFromRequest(const pb::UpdateTenantRequest& request) {
  const pb::Tenant& t = request.tenant();
  const TenantSettings settings = FromProto(t.settings());
  TenantUpdate update;
  auto set_settings = [&] {
    update.rate_limit_per_second = settings.rate_limit_per_second;
    update.rate_limit_burst = settings.rate_limit_burst;
    update.dedup_window = settings.dedup_window;
  };
  if (!request.has_update_mask()) {
    if (!t.name().empty()) update.name = t.name();
    if (t.has_settings()) set_settings();
    return update;
  }
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "name") {
      update.name = t.name();
    } else if (path == "settings") {
      set_settings();
    } else if (path == "settings.rate_limit_per_second") {
      update.rate_limit_per_second = settings.rate_limit_per_second;
    } else if (path == "settings.rate_limit_burst") {
      update.rate_limit_burst = settings.rate_limit_burst;
    } else if (path == "settings.dedup_window") {
      update.dedup_window = settings.dedup_window;
    } else if (path == "id" || path == "create_time") {
      return BadPath(path, "cannot be changed");
    } else {
      return BadPath(path, "is not a field of Tenant that can be updated");
    }
  }
  return update;
}

absl::Status TenantOperations::Create(const Principal& who,
                                      const pb::CreateTenantRequest& request,
                                      pb::CreateTenantResponse* response) {
  ALERTHUB_ASSIGN_OR_RETURN(TenantsAdmin::Created created,
                            admin_->Create(who, request.name(), FromProto(request.settings())));
  ToProto(created.tenant, response->mutable_tenant());
  response->set_owner_api_key(created.owner_key_plaintext);
  return absl::OkStatus();
}

absl::Status TenantOperations::Get(const Principal& who, const pb::GetTenantRequest& request,
                                   pb::Tenant* response) {
  ALERTHUB_ASSIGN_OR_RETURN(Tenant t, admin_->Get(who, request.id()));
  ToProto(t, response);
  return absl::OkStatus();
}

absl::Status TenantOperations::Update(const Principal& who,
                                      const pb::UpdateTenantRequest& request,
                                      pb::Tenant* response) {
  if (request.tenant().id().empty()) {
    return InvalidArgumentWithFields("invalid request", {{"tenant.id", "is required"}});
  }
  ALERTHUB_ASSIGN_OR_RETURN(TenantUpdate update, TenantUpdateFromRequest(request));
  ALERTHUB_ASSIGN_OR_RETURN(Tenant t, admin_->Update(who, request.tenant().id(), update));
  ToProto(t, response);
  return absl::OkStatus();
}

absl::Status TenantOperations::List(const Principal& who, const pb::ListTenantsRequest& request,
                                    pb::ListTenantsResponse* response) {
  ALERTHUB_ASSIGN_OR_RETURN(PageRequest page,
                            ToPageRequest(request.page_size(), request.page_token()));
  ALERTHUB_ASSIGN_OR_RETURN(Page<Tenant> tenants, admin_->List(who, page));
  for (const Tenant& t : tenants.items) ToProto(t, response->add_tenants());
  if (tenants.has_more && !tenants.items.empty()) {
    response->set_next_page_token(EncodeListCursor(tenants.items.back().id));
  }
  return absl::OkStatus();
}

absl::Status TenantOperations::Delete(const Principal& who, const pb::DeleteTenantRequest& request,
                                      google::protobuf::Empty* /*response*/) {
  return admin_->Delete(who, request.id());
}

// --- gRPC ------------------------------------------------------------------------

template <typename Op>
grpc::Status TenantGrpcService::Serve(const grpc::ServerContext& context, Op op) {
  absl::StatusOr<Principal> who = AuthenticateCall(*authenticator_, context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ToGrpcStatus(op(*who));
}

grpc::Status TenantGrpcService::CreateTenant(grpc::ServerContext* context,
                                             const pb::CreateTenantRequest* request,
                                             pb::CreateTenantResponse* response) {
  return Serve(*context, [&](const Principal& who) {
    return operations_->Create(who, *request, response);
  });
}

grpc::Status TenantGrpcService::GetTenant(grpc::ServerContext* context,
                                          const pb::GetTenantRequest* request,
                                          pb::Tenant* response) {
  return Serve(*context,
               [&](const Principal& who) { return operations_->Get(who, *request, response); });
}

grpc::Status TenantGrpcService::UpdateTenant(grpc::ServerContext* context,
                                             const pb::UpdateTenantRequest* request,
                                             pb::Tenant* response) {
  return Serve(*context, [&](const Principal& who) {
    return operations_->Update(who, *request, response);
  });
}

grpc::Status TenantGrpcService::ListTenants(grpc::ServerContext* context,
                                            const pb::ListTenantsRequest* request,
                                            pb::ListTenantsResponse* response) {
  return Serve(*context,
               [&](const Principal& who) { return operations_->List(who, *request, response); });
}

grpc::Status TenantGrpcService::DeleteTenant(grpc::ServerContext* context,
                                             const pb::DeleteTenantRequest* request,
                                             google::protobuf::Empty* response) {
  return Serve(*context, [&](const Principal& who) {
    return operations_->Delete(who, *request, response);
  });
}

// --- REST ------------------------------------------------------------------------

namespace {

// Authenticates the request, runs `op(who, &response)` and answers with
// `ok_status` and the response's JSON (204 without a body for Empty).
template <typename Resp, typename Op>
void Answer(const RequestAuthenticator& auth, const Request& req, ResponseWriter writer,
            absl::Status parsed, int ok_status, Op op) {
  absl::StatusOr<Principal> who = AuthenticateCaller(auth, req);
  absl::Status s = who.ok() ? parsed : who.status();
  Resp response;
  if (s.ok()) s = op(*who, &response);
  if (!s.ok()) return std::move(writer).Send(ProblemFromStatus(s));
  if (ok_status == 204) {
    Response r;
    r.status = 204;
    return std::move(writer).Send(std::move(r));
  }
  std::move(writer).Send(ProtoJsonResponse(ok_status, response));
}

}  // namespace

void TenantRest::Register(http::Router& router) {
  router.Add("POST", "/api/v1/tenants", [this](Request req, ResponseWriter writer) {
    pb::CreateTenantRequest request;
    absl::Status parsed = ParseProtoBody(req, &request);
    Answer<pb::CreateTenantResponse>(*authenticator_, req, std::move(writer), parsed, 201,
                                     [&](const Principal& who, auto* out) {
                                       return operations_->Create(who, request, out);
                                     });
  });
  router.Add("GET", "/api/v1/tenants", [this](Request req, ResponseWriter writer) {
    pb::ListTenantsRequest request;
    request.set_page_token(req.QueryParam("page_token").value_or(""));
    absl::Status parsed;
    if (std::optional<std::string> size = req.QueryParam("page_size"); size.has_value()) {
      int32_t n = 0;
      if (!absl::SimpleAtoi(*size, &n)) {
        parsed = InvalidArgumentWithFields("invalid query", {{"page_size", "must be a number"}});
      }
      request.set_page_size(n);
    }
    Answer<pb::ListTenantsResponse>(*authenticator_, req, std::move(writer), parsed, 200,
                                    [&](const Principal& who, auto* out) {
                                      return operations_->List(who, request, out);
                                    });
  });
  router.Add("GET", "/api/v1/tenants/{id}", [this](Request req, ResponseWriter writer) {
    pb::GetTenantRequest request;
    request.set_id(req.path_params["id"]);
    Answer<pb::Tenant>(*authenticator_, req, std::move(writer), absl::OkStatus(), 200,
                       [&](const Principal& who, auto* out) {
                         return operations_->Get(who, request, out);
                       });
  });
  router.Add("PATCH", "/api/v1/tenants/{id}", [this](Request req, ResponseWriter writer) {
    pb::UpdateTenantRequest request;
    absl::Status parsed = ParseProtoBody(req, request.mutable_tenant());
    const std::string& id = req.path_params["id"];
    if (parsed.ok() && !request.tenant().id().empty() && request.tenant().id() != id) {
      parsed = InvalidArgumentWithFields("invalid request body",
                                         {{"id", "must be empty or the id in the path"}});
    }
    request.mutable_tenant()->set_id(id);
    if (std::optional<std::string> mask = req.QueryParam("update_mask"); mask.has_value()) {
      auto* paths = request.mutable_update_mask()->mutable_paths();
      for (absl::string_view p : absl::StrSplit(*mask, ',', absl::SkipWhitespace())) {
        paths->Add(std::string(absl::StripAsciiWhitespace(p)));
      }
    }
    Answer<pb::Tenant>(*authenticator_, req, std::move(writer), parsed, 200,
                       [&](const Principal& who, auto* out) {
                         return operations_->Update(who, request, out);
                       });
  });
  router.Add("DELETE", "/api/v1/tenants/{id}", [this](Request req, ResponseWriter writer) {
    pb::DeleteTenantRequest request;
    request.set_id(req.path_params["id"]);
    Answer<google::protobuf::Empty>(*authenticator_, req, std::move(writer), absl::OkStatus(),
                                    204, [&](const Principal& who, auto* out) {
                                      return operations_->Delete(who, request, out);
                                    });
  });
}

}  // namespace alerthub::server
