// UserService (alerthub/proto/admin.proto) over gRPC, on the logic the REST
// routes /api/v1/users use (rules_service.h): RoutingCatalog validates and
// stores users and preferences (the same field errors), AuthSessions sets
// passwords, UserPrivacy exports and erases (GDPR).
//
//   UserGrpcService users(&request_authenticator, &routing_catalog, &sessions, &privacy,
//                         &store, &clock);
//   ALERTHUB_ASSIGN_OR_RETURN(auto server, GrpcServer::Start("0.0.0.0", 9090, {&users}));
//
// Permissions, as the REST routes: GetUser and ListUsers need
// kReadConfiguration; CreateUser, UpdateUser, DeleteUser and
// UpdatePreferences kManageUsers; ExportUser and EraseUser kManageTenant.
// Roles obey AuthorizeGrant (auth/rbac.h): nobody creates a user with, or
// changes a user to, a role above their own (only owners grant owner), and
// nobody updates or deletes a user whose stored role is above their own.
// Another tenant's user id, or a string that cannot be an id, is NOT_FOUND.
// Every mutating RPC runs in an AuditScope ("user.create", "user.update",
// "user.delete", "preferences.update", "user.export", "user.erase").
//
// UpdateUser's update_mask names what is replaced: "email", "name", "role",
// "addresses" (the whole ChannelAddresses); an empty mask replaces all four,
// except that ROLE_UNSPECIFIED then keeps the stored role (proto3 cannot
// tell an absent role from that one). UpdatePreferences' mask names
// UserPreferences fields ("opt_out_channels", "opt_out_types",
// "min_priority", "time_zone", "quiet_hours"); empty replaces them all, and
// a replaced field left empty takes its default. Any other path is
// INVALID_ARGUMENT with a violation on "update_mask.paths" naming it.
// Validation errors name the fields as the REST routes do ("email",
// "addresses.fcm_tokens[1]", "quiet_hours[0].start", "password").
//
// Thread-safe.
#ifndef ALERTHUB_SERVER_GRPC_USER_SERVICE_H_
#define ALERTHUB_SERVER_GRPC_USER_SERVICE_H_

#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/status/statusor.h"
#include "alerthub/admin/auth_sessions.h"
#include "alerthub/admin/user_privacy.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/model/user.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"
#include "alerthub/proto/admin.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace alerthub::server {

// `u` as the catalog's request body (UserFromRequestJson); empty fields and
// ROLE_UNSPECIFIED are left out (then "email" is reported missing and the
// role defaults to member).
nlohmann::json UserRequestFromProto(const admin::v1::User& u);

// The request body that replaces `current` for an UpdateUserRequest (see
// the file comment for the mask); kInvalidArgument naming
// "update_mask.paths" or "role".
absl::StatusOr<nlohmann::json> UserReplacement(const User& current,
                                               const admin::v1::UpdateUserRequest& request);

// The preferences request body that replaces `current` for an
// UpdatePreferencesRequest; kInvalidArgument naming "update_mask.paths".
absl::StatusOr<nlohmann::json> PreferencesReplacement(
    const Preferences& current, const admin::v1::UpdatePreferencesRequest& request);

class UserGrpcService final : public admin::v1::UserService::Service {
 public:
  // Every pointer must outlive the service. `sessions` may be null (then a
  // CreateUser with a password is UNIMPLEMENTED), `privacy` too (then
  // ExportUser and EraseUser are UNIMPLEMENTED). Without a catalog (see
  // set_catalog) every RPC is UNAVAILABLE.
  UserGrpcService(const RequestAuthenticator* authenticator, RoutingCatalog* catalog,
                  AuthSessions* sessions, UserPrivacy* privacy, Store* store, Clock* clock)
      : authenticator_(authenticator),
        catalog_(catalog),
        sessions_(sessions),
        privacy_(privacy),
        store_(store),
        clock_(clock) {}

  // For daemons that build the catalog after the gRPC server starts; call
  // once, before the first call that needs it is served.
  void set_catalog(RoutingCatalog* catalog) { catalog_.store(catalog); }

  grpc::Status CreateUser(grpc::ServerContext* context, const admin::v1::CreateUserRequest* request,
                          admin::v1::User* response) override;
  grpc::Status GetUser(grpc::ServerContext* context, const admin::v1::GetUserRequest* request,
                       admin::v1::User* response) override;
  grpc::Status UpdateUser(grpc::ServerContext* context, const admin::v1::UpdateUserRequest* request,
                          admin::v1::User* response) override;
  grpc::Status ListUsers(grpc::ServerContext* context, const admin::v1::ListUsersRequest* request,
                         admin::v1::ListUsersResponse* response) override;
  grpc::Status DeleteUser(grpc::ServerContext* context, const admin::v1::DeleteUserRequest* request,
                          google::protobuf::Empty* response) override;
  grpc::Status UpdatePreferences(grpc::ServerContext* context,
                                 const admin::v1::UpdatePreferencesRequest* request,
                                 admin::v1::UserPreferences* response) override;
  grpc::Status ExportUser(grpc::ServerContext* context, const admin::v1::ExportUserRequest* request,
                          admin::v1::ExportUserResponse* response) override;
  grpc::Status EraseUser(grpc::ServerContext* context, const admin::v1::EraseUserRequest* request,
                         google::protobuf::Empty* response) override;

 private:
  const RequestAuthenticator* const authenticator_;
  std::atomic<RoutingCatalog*> catalog_;
  AuthSessions* const sessions_;
  UserPrivacy* const privacy_;
  Store* const store_;
  Clock* const clock_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_USER_SERVICE_H_
