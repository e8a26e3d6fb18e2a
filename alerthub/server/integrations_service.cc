#include "alerthub/server/integrations_service.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "alerthub/client.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/delivery.h"
#include "alerthub/ports/audit.h"
#include "alerthub/server/rest_util.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {
namespace {

using http::Request;
using http::Response;
using http::ResponseWriter;

nlohmann::json Shown(const Integration& i) { return IntegrationToJson(i, SecretHandling::kRedact); }

nlohmann::json SendResultJson(const SendResult& r) {
  nlohmann::json j = {{"outcome", std::string(AttemptOutcomeName(r.outcome))},
                      {"success", r.outcome == AttemptOutcome::kSuccess},
                      {"latency_ms", absl::ToDoubleMilliseconds(r.latency)}};
  if (r.code != 0) j["code"] = r.code;
  if (!r.error.empty()) j["error"] = r.error;
  if (!r.response.empty()) j["response"] = r.response;
  if (r.retry_after.has_value()) j["retry_after_s"] = absl::ToDoubleSeconds(*r.retry_after);
  if (!r.targets.empty()) {
    nlohmann::json targets = nlohmann::json::array();
    for (const TargetResult& t : r.targets) {
      nlohmann::json tj = {{"target", t.target},
                           {"outcome", std::string(AttemptOutcomeName(t.outcome))}};
      if (t.code != 0) tj["code"] = t.code;
      if (!t.error.empty()) tj["error"] = t.error;
      targets.push_back(std::move(tj));
    }
    j["targets"] = std::move(targets);
  }
  return j;
}

}  // namespace

absl::StatusOr<Principal> IntegrationsService::Authenticate(const Request& req,
                                                            Permission permission) {
  return AuthenticateRequest(*auth_, req, permission);
}

void IntegrationsService::Register(http::Router& router) {
  using Route = void (IntegrationsService::*)(Request, ResponseWriter);
  auto add = [&](absl::string_view method, absl::string_view pattern, Route route) {
    router.Add(method, pattern,
               [this, route](Request r, ResponseWriter w) {
                 (this->*route)(std::move(r), std::move(w));
               },
               {.name = std::string(pattern)});
  };
  add("POST", "/api/v1/integrations", &IntegrationsService::CreateIntegration);
  add("GET", "/api/v1/integrations", &IntegrationsService::ListIntegrations);
  add("GET", "/api/v1/integrations/{id}", &IntegrationsService::GetIntegration);
  add("PATCH", "/api/v1/integrations/{id}", &IntegrationsService::PatchIntegration);
  add("DELETE", "/api/v1/integrations/{id}", &IntegrationsService::DeleteIntegration);
  add("POST", "/api/v1/integrations/{id}/test", &IntegrationsService::TestIntegration);
  add("POST", "/api/v1/templates", &IntegrationsService::CreateTemplate);
  add("GET", "/api/v1/templates", &IntegrationsService::ListTemplates);
  add("GET", "/api/v1/templates/{id}", &IntegrationsService::GetTemplate);
  add("PATCH", "/api/v1/templates/{id}", &IntegrationsService::PatchTemplate);
  add("DELETE", "/api/v1/templates/{id}", &IntegrationsService::DeleteTemplate);
  add("GET", "/api/v1/deliveries", &IntegrationsService::ListDeliveries);
  add("GET", "/api/v1/deliveries/{id}", &IntegrationsService::GetDelivery);
  add("POST", "/api/v1/deliveries/{id}/replay", &IntegrationsService::ReplayDelivery);
}

// --- Integrations ---------------------------------------------------------------------

void IntegrationsService::CreateIntegration(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kManageIntegrations);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  JsonBody body = ParseJsonBody(req);
  if (body.problem.has_value()) return std::move(writer).Send(*std::move(body.problem));
  AuditScope audit(&catalog_->store(), &catalog_->clock(), RestAuditActor(req, *who), "integration.create");
  absl::StatusOr<CreatedIntegration> c = catalog_->CreateIntegration(who->tenant_id, body.json);
  if (absl::Status s = audit.Finish(c.status()); !s.ok()) {
    return std::move(writer).Send(ProblemFromStatus(s));
  }
  nlohmann::json shown = Shown(c->integration);
  // The generated signing secret, this once.
  if (!c->generated_secret.empty()) shown["config"]["secret"] = c->generated_secret;
  Response res = JsonResponse(201, shown);
  res.headers.emplace_back("Location", absl::StrCat("/api/v1/integrations/", c->integration.id));
  std::move(writer).Send(std::move(res));
}

void IntegrationsService::ListIntegrations(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadConfiguration);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  absl::StatusOr<ListQuery> q = ParseListQuery(req, {"channel", "enabled", "default"});
  if (!q.ok()) return std::move(writer).Send(QueryProblem(q.status()));
  absl::StatusOr<Page<Integration>> page = catalog_->ListIntegrations(
      who->tenant_id,
      IntegrationFilter{.channel = q->channel, .enabled = q->enabled, .is_default = q->is_default},
      q->page);
  if (!page.ok()) return std::move(writer).Send(ProblemFromStatus(page.status()));
  std::move(writer).Send(JsonResponse(200, PageBody("integrations", *page, Shown)));
}

void IntegrationsService::GetIntegration(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadConfiguration);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("integration", req.path_params["id"]));
  absl::StatusOr<Integration> i = catalog_->GetIntegration(who->tenant_id, *id);
  if (!i.ok()) return std::move(writer).Send(LookupProblem(i.status(), "integration", *id));
  std::move(writer).Send(JsonResponse(200, Shown(*i)));
}

void IntegrationsService::PatchIntegration(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kManageIntegrations);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("integration", req.path_params["id"]));
  JsonBody body = ParseJsonBody(req);
  if (body.problem.has_value()) return std::move(writer).Send(*std::move(body.problem));
  AuditScope audit(&catalog_->store(), &catalog_->clock(), RestAuditActor(req, *who), "integration.update", *id);
  absl::StatusOr<Integration> i = catalog_->PatchIntegration(who->tenant_id, *id, body.json);
  if (absl::Status s = audit.Finish(i.status()); !s.ok()) {
    return std::move(writer).Send(LookupProblem(s, "integration", *id));
  }
  std::move(writer).Send(JsonResponse(200, Shown(*i)));
}

void IntegrationsService::DeleteIntegration(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kManageIntegrations);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("integration", req.path_params["id"]));
  AuditScope audit(&catalog_->store(), &catalog_->clock(), RestAuditActor(req, *who), "integration.delete", *id);
  absl::Status s = audit.Finish(catalog_->DeleteIntegration(who->tenant_id, *id));
  if (!s.ok()) return std::move(writer).Send(LookupProblem(s, "integration", *id));
  std::move(writer).Send(NoContent());
}

void IntegrationsService::TestIntegration(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kManageIntegrations);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("integration", req.path_params["id"]));
  absl::StatusOr<TestSendResult> r = dispatcher_->TestIntegration(who->tenant_id, *id);
  if (!r.ok()) return std::move(writer).Send(LookupProblem(r.status(), "integration", *id));
  std::move(writer).Send(JsonResponse(200, SendResultJson(r->send)));
}

// --- Templates ------------------------------------------------------------------------

void IntegrationsService::CreateTemplate(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kManageIntegrations);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  JsonBody body = ParseJsonBody(req);
  if (body.problem.has_value()) return std::move(writer).Send(*std::move(body.problem));
  AuditScope audit(&catalog_->store(), &catalog_->clock(), RestAuditActor(req, *who), "template.create");
  absl::StatusOr<Template> t = catalog_->CreateTemplate(who->tenant_id, body.json);
  if (absl::Status s = audit.Finish(t.status()); !s.ok()) {
    return std::move(writer).Send(ProblemFromStatus(s));
  }
  Response res = JsonResponse(201, TemplateToJson(*t));
  res.headers.emplace_back("Location", absl::StrCat("/api/v1/templates/", t->id));
  std::move(writer).Send(std::move(res));
}

void IntegrationsService::ListTemplates(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadConfiguration);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  absl::StatusOr<ListQuery> q = ParseListQuery(req, {});
  if (!q.ok()) return std::move(writer).Send(QueryProblem(q.status()));
  absl::StatusOr<Page<Template>> page = catalog_->ListTemplates(who->tenant_id, q->page);
  if (!page.ok()) return std::move(writer).Send(ProblemFromStatus(page.status()));
  std::move(writer).Send(JsonResponse(200, PageBody("templates", *page, TemplateToJson)));
}

void IntegrationsService::GetTemplate(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadConfiguration);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("template", req.path_params["id"]));
  absl::StatusOr<Template> t = catalog_->GetTemplate(who->tenant_id, *id);
  if (!t.ok()) return std::move(writer).Send(LookupProblem(t.status(), "template", *id));
  std::move(writer).Send(JsonResponse(200, TemplateToJson(*t)));
}

void IntegrationsService::PatchTemplate(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kManageIntegrations);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("template", req.path_params["id"]));
  JsonBody body = ParseJsonBody(req);
  if (body.problem.has_value()) return std::move(writer).Send(*std::move(body.problem));
  AuditScope audit(&catalog_->store(), &catalog_->clock(), RestAuditActor(req, *who), "template.update", *id);
  absl::StatusOr<Template> t = catalog_->PatchTemplate(who->tenant_id, *id, body.json);
  if (absl::Status s = audit.Finish(t.status()); !s.ok()) {
    return std::move(writer).Send(LookupProblem(s, "template", *id));
  }
  std::move(writer).Send(JsonResponse(200, TemplateToJson(*t)));
}

void IntegrationsService::DeleteTemplate(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kManageIntegrations);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("template", req.path_params["id"]));
  AuditScope audit(&catalog_->store(), &catalog_->clock(), RestAuditActor(req, *who), "template.delete", *id);
  absl::Status s = audit.Finish(catalog_->DeleteTemplate(who->tenant_id, *id));
  if (!s.ok()) return std::move(writer).Send(LookupProblem(s, "template", *id));
  std::move(writer).Send(NoContent());
}

// --- Deliveries -----------------------------------------------------------------------

void IntegrationsService::ListDeliveries(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadNotifications);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  absl::StatusOr<ListQuery> q = ParseListQuery(req, {"status", "notification_id"});
  if (!q.ok()) return std::move(writer).Send(QueryProblem(q.status()));
  absl::StatusOr<Page<Delivery>> page = catalog_->store().ListDeliveries(
      who->tenant_id, DeliveryFilter{.status = q->status, .notification_id = q->notification_id},
      q->page);
  if (!page.ok()) return std::move(writer).Send(ProblemFromStatus(page.status()));
  std::move(writer).Send(JsonResponse(200, PageBody("deliveries", *page, DeliveryToJson)));
}

void IntegrationsService::GetDelivery(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kReadNotifications);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("delivery", req.path_params["id"]));
  absl::StatusOr<Delivery> d = catalog_->store().GetDelivery(who->tenant_id, *id);
  if (!d.ok()) return std::move(writer).Send(LookupProblem(d.status(), "delivery", *id));
  std::move(writer).Send(JsonResponse(200, DeliveryToJson(*d)));
}

void IntegrationsService::ReplayDelivery(Request req, ResponseWriter writer) {
  absl::StatusOr<Principal> who = Authenticate(req, Permission::kManageIntegrations);
  if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
  std::optional<std::string> id = PathId(req);
  if (!id.has_value()) return std::move(writer).Send(NotFound("delivery", req.path_params["id"]));
  AuditScope audit(&catalog_->store(), &catalog_->clock(), RestAuditActor(req, *who), "delivery.replay", *id);
  absl::StatusOr<Delivery> d = dispatcher_->Replay(who->tenant_id, *id);
  if (absl::Status s = audit.Finish(d.status()); !s.ok()) {
    return std::move(writer).Send(LookupProblem(s, "delivery", *id));
  }
  std::move(writer).Send(JsonResponse(202, DeliveryToJson(*d)));
}

}  // namespace alerthub::server
