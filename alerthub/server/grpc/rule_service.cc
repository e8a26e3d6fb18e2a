#include "alerthub/server/grpc/rule_service.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/notification.h"
#include "alerthub/rules/rules_resolver.h"
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

const catalog_rpc::MaskedFields kRuleFields = {
    .message = "NotificationRule",
    .replaceable = {"name", "enabled", "position", "continue", "match", "actions"},
    .immutable = {"id", "create_time", "update_time"}};

absl::Status ToProto(const Rule& r, pb::NotificationRule* out) {
  const nlohmann::json request = RuleRequestJson(r);
  out->set_id(r.id);
  out->set_name(r.name);
  out->set_enabled(r.enabled);
  out->set_position(r.position);
  out->set_continue_(r.continue_matching);
  ALERTHUB_RETURN_IF_ERROR(
      JsonToMessage(request.value("match", nlohmann::json::object()), out->mutable_match()));
  ALERTHUB_RETURN_IF_ERROR(
      JsonToMessage(request.value("actions", nlohmann::json::object()), out->mutable_actions()));
  SetTime(r.created_at, out->mutable_create_time());
  SetTime(r.updated_at, out->mutable_update_time());
  return absl::OkStatus();
}

// Where a ListRules page ends: the last rule's place in evaluation order.
struct RulePlace {
  int position = 0;
  std::string id;

  bool operator<(const RulePlace& other) const {
    return std::tie(position, id) < std::tie(other.position, other.id);
  }
};

constexpr absl::string_view kRuleTokenPrefix = "rules:";

std::string EncodeRuleToken(const Rule& last) {
  return absl::WebSafeBase64Escape(absl::StrCat(kRuleTokenPrefix, last.position, ":", last.id));
}

absl::StatusOr<RulePlace> DecodeRuleToken(absl::string_view token) {
  std::string raw;
  RulePlace place;
  std::vector<absl::string_view> parts;
  if (absl::WebSafeBase64Unescape(token, &raw) &&
      absl::StartsWith(raw, kRuleTokenPrefix)) {
    parts = absl::StrSplit(absl::string_view(raw).substr(kRuleTokenPrefix.size()), ':');
  }
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &place.position) || !IsUuid(parts[1])) {
    return InvalidArgumentWithFields("invalid request", {{"page_token", "is not a page token"}});
  }
  place.id = std::string(parts[1]);
  return place;
}

}  // namespace

nlohmann::json RuleRequestFromProto(const pb::NotificationRule& r) {
  nlohmann::json j = {{"enabled", r.enabled()},
                      {"position", r.position()},
                      {"continue", r.continue_()}};
  if (!r.name().empty()) j["name"] = r.name();
  if (r.has_match()) j["match"] = MessageToJson(r.match());
  if (r.has_actions()) j["actions"] = MessageToJson(r.actions());
  return j;
}

absl::StatusOr<nlohmann::json> RuleReplacement(const Rule& current,
                                               const pb::UpdateRuleRequest& request) {
  nlohmann::json body = RuleRequestJson(current);
  ALERTHUB_RETURN_IF_ERROR(ApplyUpdateMask(request.update_mask(), kRuleFields,
                                           RuleRequestFromProto(request.rule()), &body));
  return body;
}

grpc::Status RuleGrpcService::CreateRule(grpc::ServerContext* context,
                                         const pb::CreateRuleRequest* request,
                                         pb::NotificationRule* response) {
  return ServeAudited(*authenticator_, *context, Permission::kManageRules, store_, clock_,
                      "rule.create", "", [&](const Principal& who) -> absl::Status {
                        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
                        ALERTHUB_ASSIGN_OR_RETURN(
                            Rule rule, catalog->CreateRule(who.tenant_id,
                                                           RuleRequestFromProto(request->rule())));
                        return ToProto(rule, response);
                      });
}

grpc::Status RuleGrpcService::GetRule(grpc::ServerContext* context,
                                      const pb::GetRuleRequest* request,
                                      pb::NotificationRule* response) {
  return Serve(*authenticator_, *context, Permission::kReadConfiguration,
               [&](const Principal& who) -> absl::Status {
                 ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
                 ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                           RequestObjectId(request->id(), "id", "rule"));
                 ALERTHUB_ASSIGN_OR_RETURN(Rule rule, catalog->GetRule(who.tenant_id, id));
                 return ToProto(rule, response);
               });
}

grpc::Status RuleGrpcService::UpdateRule(grpc::ServerContext* context,
                                         const pb::UpdateRuleRequest* request,
                                         pb::NotificationRule* response) {
  return ServeAudited(
      *authenticator_, *context, Permission::kManageRules, store_, clock_, "rule.update",
      request->rule().id(), [&](const Principal& who) -> absl::Status {
        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
        ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                  RequestObjectId(request->rule().id(), "rule.id", "rule"));
        ALERTHUB_ASSIGN_OR_RETURN(Rule current, catalog->GetRule(who.tenant_id, id));
        ALERTHUB_ASSIGN_OR_RETURN(nlohmann::json body, RuleReplacement(current, *request));
        ALERTHUB_ASSIGN_OR_RETURN(Rule rule, catalog->ReplaceRule(who.tenant_id, id, body));
        return ToProto(rule, response);
      });
}

grpc::Status RuleGrpcService::ListRules(grpc::ServerContext* context,
                                        const pb::ListRulesRequest* request,
                                        pb::ListRulesResponse* response) {
  return Serve(
      *authenticator_, *context, Permission::kReadConfiguration,
      [&](const Principal& who) -> absl::Status {
        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
        // The size as every list's; the token is this list's own.
        ALERTHUB_ASSIGN_OR_RETURN(PageRequest page, ToPageRequest(request->page_size(), ""));
        std::optional<RulePlace> after;
        if (!request->page_token().empty()) {
          ALERTHUB_ASSIGN_OR_RETURN(after, DecodeRuleToken(request->page_token()));
        }
        ALERTHUB_ASSIGN_OR_RETURN(std::vector<Rule> rules, catalog->ListRules(who.tenant_id));
        auto it = rules.begin();
        if (after.has_value()) {
          it = std::find_if(rules.begin(), rules.end(), [&](const Rule& r) {
            return *after < RulePlace{r.position, r.id};
          });
        }
        for (; it != rules.end() && response->rules_size() < page.limit; ++it) {
          ALERTHUB_RETURN_IF_ERROR(ToProto(*it, response->add_rules()));
        }
        if (it != rules.end()) response->set_next_page_token(EncodeRuleToken(*std::prev(it)));
        return absl::OkStatus();
      });
}

grpc::Status RuleGrpcService::DeleteRule(grpc::ServerContext* context,
                                         const pb::DeleteRuleRequest* request,
                                         google::protobuf::Empty* /*response*/) {
  return ServeAudited(*authenticator_, *context, Permission::kManageRules, store_, clock_,
                      "rule.delete", request->id(), [&](const Principal& who) -> absl::Status {
                        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
                        ALERTHUB_ASSIGN_OR_RETURN(std::string id,
                                                  RequestObjectId(request->id(), "id", "rule"));
                        return catalog->DeleteRule(who.tenant_id, id);
                      });
}

grpc::Status RuleGrpcService::EvaluateRule(grpc::ServerContext* context,
                                           const pb::EvaluateRuleRequest* request,
                                           pb::EvaluateRuleResponse* response) {
  return Serve(
      *authenticator_, *context, Permission::kReadConfiguration,
      [&](const Principal& who) -> absl::Status {
        ALERTHUB_ASSIGN_OR_RETURN(RoutingCatalog * catalog, LoadCatalog(catalog_));
        // Validated as a submission is, as POST /api/v1/rules/evaluate does.
        ALERTHUB_ASSIGN_OR_RETURN(Notification n,
                                  NotificationFromRequestJson(MessageToJson(request->notification()),
                                                              catalog->clock().Now()));
        ALERTHUB_ASSIGN_OR_RETURN(RoutingPlan plan, catalog->Evaluate(who.tenant_id, std::move(n)));
        for (const MatchedRule& m : plan.evaluation.matched_rules) {
          response->add_matched_rule_ids(m.id);
        }
        return JsonToMessage(RoutingPlanToJson(plan), response->mutable_plan());
      });
}

}  // namespace alerthub::server
