// RulesService: the REST routes for routing rules, users and preferences
// (docs/api.md) over a RoutingCatalog:
//
//   POST/GET           /api/v1/rules                 create; list all, in evaluation order
//   GET/PUT/PATCH/DELETE /api/v1/rules/{id}          PATCH is a JSON merge patch
//   POST               /api/v1/rules/evaluate        dry run of a notification body
//   POST/GET           /api/v1/users                 create; list (cursor, limit)
//   GET/PUT/DELETE     /api/v1/users/{id}
//   GET/PUT            /api/v1/users/{id}/preferences
//   GET                /api/v1/users/{id}/export     GDPR: everything about the user (owners)
//   POST               /api/v1/users/{id}/erase      GDPR: erase the user (owners), 204
//
// Tenant-scoped by the caller's API key (another tenant's id is a 404);
// every request takes a token from the tenant's rate limit and from the
// route family's ("rules", "users"); errors are problem+json with per-field
// `errors`, as on every other route.
//
// Users' passwords: a create or replace body may carry "password" (never
// stored as given, never echoed): it is checked (PasswordLimits; the caller
// may not set the password of a user whose role is above theirs), the user
// is written, then the password's Argon2id hash (AuthSessions::SetPassword,
// which ends the user's sessions). Should that last step fail (an outage),
// the user exists without the new password and the error is returned.
//
// Thread-safe.
#ifndef ALERTHUB_SERVER_RULES_SERVICE_H_
#define ALERTHUB_SERVER_RULES_SERVICE_H_

#include "absl/status/statusor.h"
#include "alerthub/admin/auth_sessions.h"
#include "alerthub/admin/user_privacy.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/auth/principal.h"
#include "alerthub/delivery/routing_catalog.h"
#include "alerthub/ratelimit/rate_limiter.h"
#include "alerthub/server/http/router.h"

namespace alerthub::server {

class RulesService {
 public:
  // Every pointer must outlive the service; `limiter` may be null (no
  // limits), `sessions` too (a "password" in a user body is then refused).
  // `store` is the catalog's, for the GDPR routes and their audit records;
  // without it they are not registered.
  RulesService(RoutingCatalog* catalog, const RequestAuthenticator* auth, RateLimiter* limiter,
               AuthSessions* sessions = nullptr, Store* store = nullptr)
      : catalog_(catalog),
        auth_(auth),
        limiter_(limiter),
        sessions_(sessions),
        store_(store),
        privacy_(store, &catalog->clock()) {}

  void Register(http::Router& router);

 private:
  // The caller, admitted by the rate limit of `endpoint`.
  absl::StatusOr<Principal> Admit(const http::Request& req, absl::string_view endpoint,
                                  Permission permission);

  void CreateRule(http::Request req, http::ResponseWriter writer);
  void ListRules(http::Request req, http::ResponseWriter writer);
  void GetRule(http::Request req, http::ResponseWriter writer);
  void ReplaceRule(http::Request req, http::ResponseWriter writer);
  void PatchRule(http::Request req, http::ResponseWriter writer);
  void DeleteRule(http::Request req, http::ResponseWriter writer);
  void EvaluateRules(http::Request req, http::ResponseWriter writer);
  void CreateUser(http::Request req, http::ResponseWriter writer);
  void ListUsers(http::Request req, http::ResponseWriter writer);
  void GetUser(http::Request req, http::ResponseWriter writer);
  void ReplaceUser(http::Request req, http::ResponseWriter writer);
  void DeleteUser(http::Request req, http::ResponseWriter writer);
  void GetPreferences(http::Request req, http::ResponseWriter writer);
  void SetPreferences(http::Request req, http::ResponseWriter writer);
  // --- Privacy (GDPR) ---
  void ExportUser(http::Request req, http::ResponseWriter writer);
  void EraseUser(http::Request req, http::ResponseWriter writer);

  RoutingCatalog* const catalog_;
  const RequestAuthenticator* const auth_;
  RateLimiter* const limiter_;
  AuthSessions* const sessions_;
  Store* const store_;        // --- Privacy (GDPR) ---
  UserPrivacy privacy_;       // used only when store_ is set
};

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_RULES_SERVICE_H_
