#include "alerthub/server/grpc/user_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/client.h"
#include "alerthub/common/status.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/server/grpc/catalog_rpc.h"

namespace alerthub::server {
namespace {

namespace pb = ::alerthub::admin::v1;
using catalog_rpc::ApplyUpdateMask;
using catalog_rpc::JsonToMessage;
using catalog_rpc::LoadCatalog;
using catalog_rpc::MessageToJson;
using catalog_rpc::RequestObjectId;
using catalog_rpc::Serve;
using catalog_rpc::ServeAudited;

const catalog_rpc::MaskedFields kUserFields = {
    .message = "User",
    .replaceable = {"email", "name", "role", "addresses"},
    .immutable = {"id", "tenant_id", "create_time"}};
const catalog_rpc::MaskedFields kPreferencesFields = {
    .message = "UserPreferences",
    .replaceable = {"opt_out_channels", "opt_out_types", "min_priority", "time_zone",
                    "quiet_hours"},
    .immutable = {}};

bool IsRole(pb::Role r) { return r >= pb::ROLE_OWNER && r <= pb::ROLE_VIEWER; }

Role FromProto(pb::Role r) { return static_cast<Role>(static_cast<int>(r)); }

void ToProto(const User& u, pb::User* out) {
  out->set_id(u.id);
  out->set_tenant_id(u.tenant_id);
  out->set_email(u.email);
  out->set_name(u.name);
  out->set_role(static_cast<pb::Role>(static_cast<int>(u.role)));
  pb::ChannelAddresses* a = out->mutable_addresses();
  a->set_email(u.addresses.email);
  for (const std::string& t : u.addresses.fcm_tokens) a->add_fcm_tokens(t);
  a->set_slack_user_id(u.addresses.slack_user_id);
  a->set_discord_user_id(u.addresses.discord_user_id);
  SetTime(u.created_at, out->mutable_create_time());
}

absl::Status ToProto(const Preferences& p, pb::UserPreferences* out) {
  // PreferencesToJson's fields are UserPreferences' (docs/api.md).
  return JsonToMessage(PreferencesToJson(p), out);
}

}  // namespace

nlohmann::json UserRequestFromProto(const pb::User& u) {
  nlohmann::json j = nlohmann::json::object();
  if (!u.email().empty()) j["email"] = u.email();
  if (!u.name().empty()) j["name"] = u.name();
  if (IsRole(u.role())) {
    j["role"] = RoleName(FromProto(u.role()));
  } else if (u.role() != pb::ROLE_UNSPECIFIED) {
    // Out of range: the model refuses it, naming "role".
    j["role"] = static_cast<int>(u.role());
  }
  if (u.has_addresses()) {
    nlohmann::json a = MessageToJson(u.addresses());
    if (!a.empty()) j["addresses"] = std::move(a);
  }
  return j;
}

absl::StatusOr<nlohmann::json> UserReplacement(const User& current,
                                               const pb::UpdateUserRequest& request) {
  nlohmann::json body = UserRequestJson(current);
  nlohmann::json given = UserRequestFromProto(request.user());
  if (request.user().role() == pb::ROLE_UNSPECIFIED) {
    if (request.update_mask().paths().empty()) {
      given["role"] = body["role"];  // keeps the stored role
    } else if (absl::c_linear_search(request.update_mask().paths(), "role")) {
      return InvalidArgumentWithFields("invalid user",
                                       {{"role", "must be owner, admin, member or viewer"}});
    }
  }
  ALERTHUB_RETURN_IF_ERROR(ApplyUpdateMask(request.update_mask(), kUserFields, given, &body));
  return body;
}

absl::StatusOr<nlohmann::json> PreferencesReplacement(
    const Preferences& current, const pb::UpdatePreferencesRequest& request) {
  nlohmann::json body = PreferencesToJson(current);
  ALERTHUB_RETURN_IF_ERROR(ApplyUpdateMask(request.update_mask(), kPreferencesFields,
                                           MessageToJson(request.preferences()), &body));
  return body;
}

grpc::Status UserGrpcService::CreateUser(grpc::ServerContext* context,
                                         const pb::CreateUserRequest* request,
                                         pb::User* response) {
  return ServeAudited(
      *authenticator_, *context, Permission::kManageUsers, store_, clock_, "user.create", "",
      [&](const Principal& who) -> absl::Status {
        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
        const nlohmann::json body = UserRequestFromProto(request->user());
        if (IsRole(request->user().role())) {
          ALERTHUB_RETURN_IF_ERROR(AuthorizeGrant(who, FromProto(request->user().role())));
        }
        const std::string& password = request->password();
        if (!password.empty()) {
          if (sessions_ == nullptr) {
            return absl::UnimplementedError("this daemon cannot set passwords");
          }
          ALERTHUB_RETURN_IF_ERROR(AuthSessions::CheckNewUserPassword(who, body, password));
        }
        ALERTHUB_ASSIGN_OR_RETURN(User user, catalog->CreateUser(who.tenant_id, body));
        // The user exists from here; should the password fail (an outage),
        // the error says so and the user can be given one later.
        if (!password.empty()) {
          ALERTHUB_RETURN_IF_ERROR(sessions_->SetPassword(who, user.id, password));
        }
        ToProto(user, response);
        return absl::OkStatus();
      });
}

grpc::Status UserGrpcService::GetUser(grpc::ServerContext* context,
                                      const pb::GetUserRequest* request, pb::User* response) {
  return Serve(*authenticator_, *context, Permission::kReadConfiguration,
               [&](const Principal& who) -> absl::Status {
                 ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
                 ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                           RequestObjectId(request->id(), "id", "user"));
                 ALERTHUB_ASSIGN_OR_RETURN(User user, catalog->GetUser(who.tenant_id, id));
                 ToProto(user, response);
                 return absl::OkStatus();
               });
}

grpc::Status UserGrpcService::UpdateUser(grpc::ServerContext* context,
                                         const pb::UpdateUserRequest* request,
                                         pb::User* response) {
  return ServeAudited(
      *authenticator_, *context, Permission::kManageUsers, store_, clock_, "user.update",
      request->user().id(), [&](const Principal& who) -> absl::Status {
        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
        ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                  RequestObjectId(request->user().id(), "user.id", "user"));
        ALERTHUB_ASSIGN_OR_RETURN(User current, catalog->GetUser(who.tenant_id, id));
        ALERTHUB_RETURN_IF_ERROR(AuthorizeGrant(who, current.role));
        ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json body, UserReplacement(current, *request));
        if (const auto role = body.find("role"); role != body.end() && role->is_string()) {
          absl::StatusOr<Role> new_role = ParseRole(role->get<std::string>());
          if (new_role.ok() && *new_role != current.role) {
            ALERTHUB_RETURN_IF_ERROR(AuthorizeGrant(who, *new_role));
          }
        }
        ALERTHUB_ASSIGN_OR_RETURN(User user, catalog->ReplaceUser(who.tenant_id, id, body));
        ToProto(user, response);
        return absl::OkStatus();
      });
}

grpc::Status UserGrpcService::ListUsers(grpc::ServerContext* context,
                                        const pb::ListUsersRequest* request,
                                        pb::ListUsersResponse* response) {
  return Serve(*authenticator_, *context, Permission::kReadConfiguration,
               [&](const Principal& who) -> absl::Status {
                 ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
                 ALERTHUB_ASSIGN_OR_RETURN(
                     PageRequest page, ToPageRequest(request->page_size(), request->page_token()));
                 ALERTHUB_ASSIGN_OR_RETURN(Page<User> users,
                                           catalog->ListUsers(who.tenant_id, page));
                 for (const User& u : users.items) ToProto(u, response->add_users());
                 if (users.has_more && !users.items.empty()) {
                   response->set_next_page_token(EncodeListCursor(users.items.back().id));
                 }
                 return absl::OkStatus();
               });
}

grpc::Status UserGrpcService::DeleteUser(grpc::ServerContext* context,
                                         const pb::DeleteUserRequest* request,
                                         google::protobuf::Empty* /*response*/) {
  return ServeAudited(*authenticator_, *context, Permission::kManageUsers, store_, clock_,
                      "user.delete", request->id(), [&](const Principal& who) -> absl::Status {
                        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
                        ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                                  RequestObjectId(request->id(), "id", "user"));
                        ALERTHUB_ASSIGN_OR_RETURN(User current,
                                                  catalog->GetUser(who.tenant_id, id));
                        ALERTHUB_RETURN_IF_ERROR(AuthorizeGrant(who, current.role));
                        return catalog->DeleteUser(who.tenant_id, id);
                      });
}

grpc::Status UserGrpcService::UpdatePreferences(grpc::ServerContext* context,
                                                const pb::UpdatePreferencesRequest* request,
                                                pb::UserPreferences* response) {
  return ServeAudited(
      *authenticator_, *context, Permission::kManageUsers, store_, clock_, "preferences.update",
      request->user_id(), [&](const Principal& who) -> absl::Status {
        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
        ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                  RequestObjectId(request->user_id(), "user_id", "user"));
        // Nobody changes the preferences of a user who outranks them.
        ALERTHUB_ASSIGN_OR_RETURN(User user, catalog->GetUser(who.tenant_id, id));
        ALERTHUB_RETURN_IF_ERROR(AuthorizeGrant(who, user.role));
        ALERTHUB_ASSIGN_OR_RETURN(Preferences current, catalog->GetPreferences(who.tenant_id, id));
        ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json body, PreferencesReplacement(current, *request));
        ALERTHUB_ASSIGN_OR_RETURN(Preferences stored,
                                  catalog->SetPreferences(who.tenant_id, id, body));
        return ToProto(stored, response);
      });
}

grpc::Status UserGrpcService::ExportUser(grpc::ServerContext* context,
                                         const pb::ExportUserRequest* request,
                                         pb::ExportUserResponse* response) {
  return ServeAudited(*authenticator_, *context, Permission::kManageTenant, store_, clock_,
                      "user.export", request->id(), [&](const Principal& who) -> absl::Status {
                        if (privacy_ == nullptr) {
                          return absl::UnimplementedError("this daemon cannot export users");
                        }
                        ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                                  RequestObjectId(request->id(), "id", "user"));
                        ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json data, privacy_->Export(who, id));
                        return JsonToMessage(data, response->mutable_data());
                      });
}

grpc::Status UserGrpcService::EraseUser(grpc::ServerContext* context,
                                        const pb::EraseUserRequest* request,
                                        google::protobuf::Empty* /*response*/) {
  return ServeAudited(*authenticator_, *context, Permission::kManageTenant, store_, clock_,
                      "user.erase", request->id(), [&](const Principal& who) -> absl::Status {
                        if (privacy_ == nullptr) {
                          return absl::UnimplementedError("this daemon cannot erase users");
                        }
                        ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                                  RequestObjectId(request->id(), "id", "user"));
                        return privacy_->Erase(who, id);
                      });
}

}  // namespace alerthub::server
