// IntegrationsService: the integrations service's REST routes (docs/api.md)
// over the Catalog and the Dispatcher:
//
//   POST/GET          /api/v1/integrations           create, list (cursor)
//   GET/PATCH/DELETE  /api/v1/integrations/{id}
//   POST              /api/v1/integrations/{id}/test  send a test message now
//   POST/GET          /api/v1/templates
//   GET/PATCH/DELETE  /api/v1/templates/{id}
//   GET               /api/v1/deliveries              ?status=dead|...&notification_id=
//   GET               /api/v1/deliveries/{id}
//   POST              /api/v1/deliveries/{id}/replay  re-queue a dead letter
//
// Tenant-scoped by the caller's API key; errors are problem+json as on the
// router; secrets are never returned (a generated webhook secret is shown
// once, in the creation response).
//
// Thread-safe.
#ifndef ALERTHUB_SERVER_INTEGRATIONS_SERVICE_H_
#define ALERTHUB_SERVER_INTEGRATIONS_SERVICE_H_

#include "absl/status/statusor.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/auth/principal.h"
#include "alerthub/delivery/catalog.h"
#include "alerthub/delivery/dispatcher.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

class IntegrationsService {
 public:
  // Every pointer must outlive the service.
  IntegrationsService(Catalog* catalog, Dispatcher* dispatcher, const RequestAuthenticator* auth)
      : catalog_(catalog), dispatcher_(dispatcher), auth_(auth) {}

  void Register(http::Router& router);

 private:
  absl::StatusOr<Principal> Authenticate(const http::Request& req, Permission permission);

  void CreateIntegration(http::Request req, http::ResponseWriter writer);
  void ListIntegrations(http::Request req, http::ResponseWriter writer);
  void GetIntegration(http::Request req, http::ResponseWriter writer);
  void PatchIntegration(http::Request req, http::ResponseWriter writer);
  void DeleteIntegration(http::Request req, http::ResponseWriter writer);
  void TestIntegration(http::Request req, http::ResponseWriter writer);
  void CreateTemplate(http::Request req, http::ResponseWriter writer);
  void ListTemplates(http::Request req, http::ResponseWriter writer);
  void GetTemplate(http::Request req, http::ResponseWriter writer);
  void PatchTemplate(http::Request req, http::ResponseWriter writer);
  void DeleteTemplate(http::Request req, http::ResponseWriter writer);
  void ListDeliveries(http::Request req, http::ResponseWriter writer);
  void GetDelivery(http::Request req, http::ResponseWriter writer);
  void ReplayDelivery(http::Request req, http::ResponseWriter writer);

  Catalog* const catalog_;
  Dispatcher* const dispatcher_;
  const RequestAuthenticator* const auth_;
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_INTEGRATIONS_SERVICE_H_
