// RuleService (alerthub/proto/admin.proto) over gRPC, on the RoutingCatalog
// the REST routes /api/v1/rules use (rules_service.h): the same validation,
// field errors, per-tenant limit and resolver invalidation, so a rule
// changed here routes the next notification at once.
//
//   RuleGrpcService rules(&request_authenticator, &routing_catalog, &store, &clock);
//   ALERTHUB_ASSIGN_OR_RETURN(auto server, GrpcServer::Start("0.0.0.0", 9090, {&rules}));
//
// A NotificationRule's `match` and `actions` are Structs holding the REST
// shape (ARCHITECTURE §4 "Rule (request)"); validation errors name fields as
// the REST routes do ("name", "match.tags[0].op", "actions.throttle.limit").
// proto3 has no absent bool: a rule created without `enabled` is disabled.
//
// Permissions, as the REST routes: GetRule, ListRules and EvaluateRule need
// kReadConfiguration; CreateRule, UpdateRule and DeleteRule kManageRules.
// Another tenant's rule id, or a string that cannot be an id, is NOT_FOUND.
// Mutating RPCs run in an AuditScope ("rule.create", "rule.update",
// "rule.delete").
//
// UpdateRule's update_mask names the fields replaced: "name", "enabled",
// "position", "continue", "match", "actions" (each whole); an empty mask
// replaces all six. "id", "create_time", "update_time" and any other path
// are INVALID_ARGUMENT with a violation on "update_mask.paths". The other
// fields keep the values read just before the write (last writer wins, as
// PUT and PATCH /api/v1/rules/{id}).
//
// ListRules pages the tenant's rules in evaluation order (position, then
// id); its page token resumes after the last rule returned even when rules
// change between pages.
//
// EvaluateRule is POST /api/v1/rules/evaluate: the notification (a
// submission body) is validated as a submission, then routed by the stored
// rules without side effects; `plan` is that route's JSON body.
//
// Thread-safe.
#ifndef ALERTHUB_SERVER_GRPC_RULE_SERVICE_H_
#define ALERTHUB_SERVER_GRPC_RULE_SERVICE_H_

#include <google/protobuf/empty.pb.h>
#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/status/statusor.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/model/rule.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"
#include "alerthub/proto/admin.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace alerthub::server {

// `r` as the catalog's request body (RuleFromRequestJson): name (left out
// when empty), enabled, position, continue, and match and actions when set.
nlohmann::json RuleRequestFromProto(const admin::v1::NotificationRule& r);

// The request body that replaces `current` for an UpdateRuleRequest (see
// the file comment); kInvalidArgument naming "update_mask.paths".
absl::StatusOr<nlohmann::json> RuleReplacement(const Rule& current,
                                               const admin::v1::UpdateRuleRequest& request);

class RuleGrpcService final : public admin::v1::RuleService::Service {
 public:
  // Every pointer must outlive the service; without a catalog (see
  // set_catalog) every RPC is UNAVAILABLE.
  RuleGrpcService(const RequestAuthenticator* authenticator, RoutingCatalog* catalog,
                  Store* store, Clock* clock)
      : authenticator_(authenticator), catalog_(catalog), store_(store), clock_(clock) {}

  // For daemons that build the catalog after the gRPC server starts.
  void set_catalog(RoutingCatalog* catalog) { catalog_.store(catalog); }

  grpc::Status CreateRule(grpc::ServerContext* context, const admin::v1::CreateRuleRequest* request,
                          admin::v1::NotificationRule* response) override;
  grpc::Status GetRule(grpc::ServerContext* context, const admin::v1::GetRuleRequest* request,
                       admin::v1::NotificationRule* response) override;
  grpc::Status UpdateRule(grpc::ServerContext* context, const admin::v1::UpdateRuleRequest* request,
                          admin::v1::NotificationRule* response) override;
  grpc::Status ListRules(grpc::ServerContext* context, const admin::v1::ListRulesRequest* request,
                         admin::v1::ListRulesResponse* response) override;
  grpc::Status DeleteRule(grpc::ServerContext* context, const admin::v1::DeleteRuleRequest* request,
                          google::protobuf::Empty* response) override;
  grpc::Status EvaluateRule(grpc::ServerContext* context,
                            const admin::v1::EvaluateRuleRequest* request,
                            admin::v1::EvaluateRuleResponse* response) override;

 private:
  const RequestAuthenticator* const authenticator_;
  std::atomic<RoutingCatalog*> catalog_;
  Store* const store_;
  Clock* const clock_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_GRPC_RULE_SERVICE_H_
