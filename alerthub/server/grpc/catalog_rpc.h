// Private to the UserService and RuleService target (user_service.h,
// rule_service.h): what their RPCs share — the call prologue (authenticate,
// authorize, open the audit scope), request ids, update-mask errors and the
// JSON <-> google.protobuf.Struct bridge for the catalogs' REST-shaped JSON.
#ifndef ALERTHUB_SERVER_GRPC_CATALOG_RPC_H_
#define ALERTHUB_SERVER_GRPC_CATALOG_RPC_H_

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/principal.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/ports/audit.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"
#include "alerthub/server/grpc/admin_services.h"
#include "alerthub/server/grpc/grpc_status.h"
#include "nlohmann/json.hpp"

namespace alerthub::server::catalog_rpc {

// `j` in protobuf's JSON mapping as `out` (a Struct takes any JSON object);
// fields `out` does not have are ignored. kInternal when it does not fit:
// for the catalogs' own JSON that is a bug.
absl::Status JsonToMessage(const nlohmann::json& j, google::protobuf::Message* out);

// `m` in protobuf's JSON mapping with the .proto's field names; empty
// fields are left out, numbers of a Struct print as 10, not 10.0.
nlohmann::json MessageToJson(const google::protobuf::Message& m);

// The id a request names, lowercased: kInvalidArgument naming `field` when
// empty, kNotFound "no <what> <id>" when it cannot be an id (as the REST
// routes' 404 for such a path).
absl::StatusOr<std::string> RequestObjectId(absl::string_view id, absl::string_view field,
                                            absl::string_view what);

// The catalog a service was given, or kUnavailable before it was (a
// daemon builds it after its gRPC server starts).
absl::StatusOr<RoutingCatalog*> LoadCatalog(const std::atomic<RoutingCatalog*>& catalog);

// The fields of a message an update mask may name, each a whole field
// whose mask path is its key in the catalog's request JSON.
struct MaskedFields {
  absl::string_view message;                   // "User", for errors
  std::vector<absl::string_view> replaceable;  // the paths an empty mask means
  std::vector<absl::string_view> immutable;    // paths that "cannot be changed"
};

// Replaces in `body` (the stored object's request JSON) each field `mask`
// names, every replaceable one when it is empty, with `given`'s (the
// request's, as request JSON), erasing those `given` lacks (they take their
// defaults). kInvalidArgument with one violation on "update_mask.paths"
// naming an immutable or unknown path; `body` is then partly replaced.
absl::Status ApplyUpdateMask(const google::protobuf::FieldMask& mask, const MaskedFields& fields,
                             const nlohmann::json& given, nlohmann::json* body);

// The call's caller when it holds `permission` (kUnauthenticated,
// kPermissionDenied otherwise).
absl::StatusOr<Principal> Admit(const RequestAuthenticator& authenticator,
                                const grpc::ServerContext& context, Permission permission);

// Admits the call, then runs `op(who)` -> absl::Status.
template <typename Op>
grpc::Status Serve(const RequestAuthenticator& authenticator, const grpc::ServerContext& context,
                   Permission permission, Op op) {
  absl::StatusOr<Principal> who = Admit(authenticator, context, permission);
  if (!who.ok()) return ToGrpcStatus(who.status());
  return ToGrpcStatus(op(*who));
}

// Serve() for a mutating RPC: `op` runs inside an AuditScope of `action` on
// `target` (the request's id; empty for creates, whose catalog describes the
// new id), finished with op's status.
template <typename Op>
grpc::Status ServeAudited(const RequestAuthenticator& authenticator,
                          const grpc::ServerContext& context, Permission permission, Store* store,
                          Clock* clock, absl::string_view action, absl::string_view target,
                          Op op) {
  absl::StatusOr<Principal> who = Admit(authenticator, context, permission);
  if (!who.ok()) return ToGrpcStatus(who.status());
  AuditScope audit(store, clock, GrpcAuditActor(context, *who), action,
                   absl::AsciiStrToLower(target));
  absl::Status s = op(*who);
  return ToGrpcStatus(audit.Finish(std::move(s)));
}

}  // namespace alerthub::server::catalog_rpc

#endif  // ALERTHUB_SERVER_GRPC_CATALOG_RPC_H_
