#include "alerthub/server/rules_service.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/rule.h"
#include "alerthub/model/user.h"
#include "alerthub/ports/audit.h"
#include "alerthub/server/rest_util.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {
namespace {

using http::Request;
using http::Response;
using http::ResponseWriter;

// Rate-limit endpoints (each with its own bucket per tenant, beside the
// tenant's bucket that submissions share).
constexpr absl::string_view kRulesEndpoint = "rules";
constexpr absl::string_view kUsersEndpoint = "users";

// Sends `r` as `code` with to_json(*r), or its problem.
template <typename T, typename ToJson>
void Reply(ResponseWriter writer, const absl::StatusOr<T>& r, int code, ToJson to_json) {
  if (!r.ok()) return std::move(writer).Send(ProblemFromStatus(r.status()));
  std::move(writer).Send(JsonResponse(code, to_json(*r)));
}

// 201 with the created object and its Location.
template <typename T, typename ToJson>
void ReplyCreated(ResponseWriter writer, const absl::StatusOr<T>& r, absl::string_view collection,
                  ToJson to_json) {
  if (!r.ok()) return std::move(writer).Send(ProblemFromStatus(r.status()));
  Response res = JsonResponse(201, to_json(*r));
  res.headers.emplace_back("Location", absl::StrCat(collection, "/", r->id));
  std::move(writer).Send(std::move(res));
}

void ReplyDeleted(ResponseWriter writer, const absl::Status& s) {
  if (!s.ok()) return std::move(writer).Send(ProblemFromStatus(s));
  std::move(writer).Send(NoContent());
}

nlohmann::json RuleListBody(const std::vector<Rule>& rules) {
  nlohmann::json items = nlohmann::json::array();
  for (const Rule& r : rules) items.push_back(RuleToJson(r));
  return {{"rules", std::move(items)}};
}

}  // namespace

absl::StatusOr<Principal> RulesService::Admit(const Request& req, absl::string_view endpoint,
                                              Permission permission) {
  ALERTHUB_ASSIGN_OR_RETURN(Principal who, AuthenticateRequest(*auth_, req, permission));
  if (limiter_ != nullptr) {
    ALERTHUB_RETURN_IF_ERROR(limiter_->Check(who.tenant_id, endpoint, 1).status());
  }
  return who;
}

void RulesService::Register(http::Router& router) {
  using Handler = void (RulesService::*)(Request, ResponseWriter);
  auto add = [&](absl::string_view method, absl::string_view pattern, Handler handler) {
    router.Add(method, pattern,
               [this, handler](Request r, ResponseWriter w) {
                 (this->*handler)(std::move(r), std::move(w));
               },
               {.name = std::string(pattern)});
  };
  add("POST", "/api/v1/rules", &RulesService::CreateRule);
  add("GET", "/api/v1/rules", &RulesService::ListRules);
  add("POST", "/api/v1/rules/evaluate", &RulesService::EvaluateRules);
  add("GET", "/api/v1/rules/{id}", &RulesService::GetRule);
  add("PUT", "/api/v1/rules/{id}", &RulesService::ReplaceRule);
  add("PATCH", "/api/v1/rules/{id}", &RulesService::PatchRule);
  add("DELETE", "/api/v1/rules/{id}", &RulesService::DeleteRule);
  add("POST", "/api/v1/users", &RulesService::CreateUser);
  add("GET", "/api/v1/users", &RulesService::ListUsers);
  add("GET", "/api/v1/users/{id}", &RulesService::GetUser);
  add("PUT", "/api/v1/users/{id}", &RulesService::ReplaceUser);
  add("DELETE", "/api/v1/users/{id}", &RulesService::DeleteUser);
  add("GET", "/api/v1/users/{id}/preferences", &RulesService::GetPreferences);
  add("PUT", "/api/v1/users/{id}/preferences", &RulesService::SetPreferences);
  // --- Privacy (GDPR) ---
  if (store_ != nullptr) {
    add("GET", "/api/v1/users/{id}/export", &RulesService::ExportUser);
    add("POST", "/api/v1/users/{id}/erase", &RulesService::EraseUser);
  }
}

namespace {

// Who is calling, about which object: the prologue of every route.
struct Call {
  Principal who;
  std::string id;  // the path's {id}; empty on collection routes
  nlohmann::json body;  // the JSON body, on routes that take one
};

enum class Body { kNone, kJson };

// Runs `change` (a mutation of the call's object) inside an AuditScope for
// `action` (ports/audit.h); returns its result.
template <typename Change>
auto Audited(RoutingCatalog& catalog, const Request& req, const Call& call,
             absl::string_view action, Change change) -> decltype(change()) {
  return RunAudited(&catalog.store(), &catalog.clock(), RestAuditActor(req, call.who), action,
                    call.id, std::move(change));
}

// Authenticates and rate-limits `req`, reads the path's {id} when `what`
// names the object kind, and the JSON body when `body` asks for one.
// nullopt after answering `writer` with the problem.
template <typename AdmitFn>
std::optional<Call> Begin(const Request& req, ResponseWriter& writer, AdmitFn admit,
                          absl::string_view what, Body body) {
  absl::StatusOr<Principal> who = admit();
  if (!who.ok()) {
    std::move(writer).Send(ProblemFromStatus(who.status()));
    return std::nullopt;
  }
  Call call{*std::move(who), "", nullptr};
  if (!what.empty()) {
    std::optional<std::string> id = PathId(req);
    if (!id.has_value()) {
      std::move(writer).Send(NotFound(what, req.path_params.at("id")));
      return std::nullopt;
    }
    call.id = *std::move(id);
  }
  if (body == Body::kJson) {
    JsonBody parsed = ParseJsonBody(req);
    if (parsed.problem.has_value()) {
      std::move(writer).Send(*std::move(parsed.problem));
      return std::nullopt;
    }
    call.body = std::move(parsed.json);
  }
  return call;
}

}  // namespace

#define ALERTHUB_BEGIN_(endpoint, permission, what, body)                                \
  std::optional<Call> call = Begin(                                                     \
      req, writer, [&] { return Admit(req, endpoint, Permission::permission); }, what,  \
      body);                                                                            \
  if (!call.has_value()) return

// --- Rules ---------------------------------------------------------------------------

void RulesService::CreateRule(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kRulesEndpoint, kManageRules, "", Body::kJson);
  ReplyCreated(std::move(writer), Audited(*catalog_, req, *call, "rule.create", [&] {
                 return catalog_->CreateRule(call->who.tenant_id, call->body);
               }),
               "/api/v1/rules", RuleToJson);
}

void RulesService::ListRules(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kRulesEndpoint, kReadConfiguration, "", Body::kNone);
  // The whole list, in evaluation order: no query parameters.
  std::vector<FieldError> unknown;
  for (const auto& [name, value] : req.query) {
    unknown.push_back({name, "unknown query parameter: rules are listed whole, in evaluation order"});
  }
  if (!unknown.empty()) {
    return std::move(writer).Send(
        QueryProblem(InvalidArgumentWithFields("invalid query parameters", unknown)));
  }
  Reply(std::move(writer), catalog_->ListRules(call->who.tenant_id), 200, RuleListBody);
}

void RulesService::GetRule(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kRulesEndpoint, kReadConfiguration, "rule", Body::kNone);
  Reply(std::move(writer), catalog_->GetRule(call->who.tenant_id, call->id), 200, RuleToJson);
}

void RulesService::ReplaceRule(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kRulesEndpoint, kManageRules, "rule", Body::kJson);
  Reply(std::move(writer), Audited(*catalog_, req, *call, "rule.update", [&] {
          return catalog_->ReplaceRule(call->who.tenant_id, call->id, call->body);
        }),
        200, RuleToJson);
}

void RulesService::PatchRule(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kRulesEndpoint, kManageRules, "rule", Body::kJson);
  Reply(std::move(writer), Audited(*catalog_, req, *call, "rule.update", [&] {
          return catalog_->PatchRule(call->who.tenant_id, call->id, call->body);
        }),
        200, RuleToJson);
}

void RulesService::DeleteRule(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kRulesEndpoint, kManageRules, "rule", Body::kNone);
  ReplyDeleted(std::move(writer), Audited(*catalog_, req, *call, "rule.delete", [&] {
                 return catalog_->DeleteRule(call->who.tenant_id, call->id);
               }));
}

void RulesService::EvaluateRules(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kRulesEndpoint, kReadConfiguration, "", Body::kJson);
  // Validated as a submission is.
  absl::StatusOr<Notification> n = NotificationFromRequestJson(call->body, catalog_->clock().Now());
  if (!n.ok()) return std::move(writer).Send(ProblemFromStatus(n.status()));
  Reply(std::move(writer), catalog_->Evaluate(call->who.tenant_id, *std::move(n)), 200,
        RoutingPlanToJson);
}

// --- Users and preferences -------------------------------------------------------------

// --- Users' passwords (see rules_service.h) ---

namespace {

// Takes "password" out of a user body (it is no field of the record);
// nullopt when absent.
absl::StatusOr<std::optional<std::string>> TakePassword(nlohmann::json& body,
                                                        const AuthSessions* sessions) {
  if (!body.is_object() || !body.contains("password")) return std::optional<std::string>();
  nlohmann::json value = std::move(body["password"]);
  body.erase("password");
  if (!value.is_string()) {
    return InvalidArgumentWithFields("invalid user", {{"password", "must be a string"}});
  }
  if (sessions == nullptr) {
    return absl::UnimplementedError("this daemon cannot set passwords");
  }
  return std::optional<std::string>(value.get<std::string>());
}

// Nobody gives a user a role above their own (AuthorizeGrant). A body
// that does not parse passes: the catalog reports its errors.
absl::Status CheckRoleGrant(const Principal& who, const nlohmann::json& body) {
  absl::StatusOr<User> user = UserFromRequestJson(body);
  if (!user.ok()) return absl::OkStatus();
  return AuthorizeGrant(who, user->role);
}

// Nobody changes or deletes a user who outranks them: `id`'s stored role
// is checked as a grant. kNotFound when absent or another tenant's.
absl::Status CheckOutranks(RoutingCatalog& catalog, const Principal& who,
                           absl::string_view id) {
  absl::StatusOr<User> current = catalog.GetUser(who.tenant_id, id);
  if (!current.ok()) return current.status();
  return AuthorizeGrant(who, current->role);
}

}  // namespace

void RulesService::CreateUser(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kManageUsers, "", Body::kJson);
  absl::StatusOr<std::optional<std::string>> password = TakePassword(call->body, sessions_);
  if (password.ok() && password->has_value()) {
    if (absl::Status s = AuthSessions::CheckNewUserPassword(call->who, call->body, **password); !s.ok()) {
      password = s;
    }
  }
  if (!password.ok()) return std::move(writer).Send(ProblemFromStatus(password.status()));
  if (absl::Status s = CheckRoleGrant(call->who, call->body); !s.ok()) {
    return std::move(writer).Send(ProblemFromStatus(s));
  }
  absl::StatusOr<User> created = Audited(*catalog_, req, *call, "user.create", [&] {
    absl::StatusOr<User> user = catalog_->CreateUser(call->who.tenant_id, call->body);
    if (user.ok() && password->has_value()) {
      if (absl::Status s = sessions_->SetPassword(call->who, user->id, **password); !s.ok()) {
        user = s;
      }
    }
    return user;
  });
  ReplyCreated(std::move(writer), created, "/api/v1/users", UserToJson);
}

void RulesService::ListUsers(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kReadConfiguration, "", Body::kNone);
  absl::StatusOr<ListQuery> q = ParseListQuery(req, {});
  if (!q.ok()) return std::move(writer).Send(QueryProblem(q.status()));
  Reply(std::move(writer), catalog_->ListUsers(call->who.tenant_id, q->page), 200,
        [](const Page<User>& page) { return PageBody("users", page, UserToJson); });
}

void RulesService::GetUser(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kReadConfiguration, "user", Body::kNone);
  Reply(std::move(writer), catalog_->GetUser(call->who.tenant_id, call->id), 200, UserToJson);
}

void RulesService::ReplaceUser(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kManageUsers, "user", Body::kJson);
  absl::StatusOr<std::optional<std::string>> password = TakePassword(call->body, sessions_);
  if (password.ok() && password->has_value()) {
    // The new role's grant here, the stored role's just below.
    if (absl::Status s = AuthSessions::CheckNewUserPassword(call->who, call->body, **password); !s.ok()) {
      password = s;
    }
  }
  if (!password.ok()) return std::move(writer).Send(ProblemFromStatus(password.status()));
  absl::Status granted = CheckOutranks(*catalog_, call->who, call->id);
  if (granted.ok()) granted = CheckRoleGrant(call->who, call->body);
  if (!granted.ok()) return std::move(writer).Send(LookupProblem(granted, "user", call->id));
  absl::StatusOr<User> replaced = Audited(*catalog_, req, *call, "user.update", [&] {
    absl::StatusOr<User> user = catalog_->ReplaceUser(call->who.tenant_id, call->id, call->body);
    if (user.ok() && password->has_value()) {
      if (absl::Status s = sessions_->SetPassword(call->who, user->id, **password); !s.ok()) {
        user = s;
      }
    }
    return user;
  });
  Reply(std::move(writer), replaced, 200, UserToJson);
}

void RulesService::DeleteUser(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kManageUsers, "user", Body::kNone);
  if (absl::Status s = CheckOutranks(*catalog_, call->who, call->id); !s.ok()) {
    return std::move(writer).Send(LookupProblem(s, "user", call->id));
  }
  ReplyDeleted(std::move(writer), Audited(*catalog_, req, *call, "user.delete", [&] {
                 return catalog_->DeleteUser(call->who.tenant_id, call->id);
               }));
}

void RulesService::GetPreferences(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kReadConfiguration, "user", Body::kNone);
  Reply(std::move(writer), catalog_->GetPreferences(call->who.tenant_id, call->id), 200,
        PreferencesToJson);
}

void RulesService::SetPreferences(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kManageUsers, "user", Body::kJson);
  if (absl::Status s = CheckOutranks(*catalog_, call->who, call->id); !s.ok()) {
    return std::move(writer).Send(LookupProblem(s, "user", call->id));
  }
  Reply(std::move(writer), Audited(*catalog_, req, *call, "preferences.update", [&] {
          return catalog_->SetPreferences(call->who.tenant_id, call->id, call->body);
        }),
        200, PreferencesToJson);
}

// --- Privacy (GDPR) --------------------------------------------------------------------
// Owners only (kManageTenant); another tenant's id is a 404. Each is one
// audited operation: the export's record is appended when it succeeds, the
// erasure's commits in the erasing transaction.

void RulesService::ExportUser(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kManageTenant, "user", Body::kNone);
  AuditScope audit(store_, &catalog_->clock(), RestAuditActor(req, call->who), "user.export",
                   call->id);
  absl::StatusOr<nlohmann::json> doc = privacy_.Export(call->who, call->id);
  absl::Status s = audit.Finish(doc.status());
  if (!s.ok()) return std::move(writer).Send(ProblemFromStatus(s));
  std::move(writer).Send(JsonResponse(200, *doc));
}

void RulesService::EraseUser(Request req, ResponseWriter writer) {
  ALERTHUB_BEGIN_(kUsersEndpoint, kManageTenant, "user", Body::kNone);
  AuditScope audit(store_, &catalog_->clock(), RestAuditActor(req, call->who), "user.erase",
                   call->id);
  ReplyDeleted(std::move(writer), audit.Finish(privacy_.Erase(call->who, call->id)));
}

#undef ALERTHUB_BEGIN_

}  // namespace alerthub::server
