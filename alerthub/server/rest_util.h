// Pieces the tenant-scoped REST resources share (integrations, templates,
// deliveries, rules, users): API-key authentication, path ids, "not found"
// answers that do not tell another tenant's object from an absent one, list
// query parameters and paged list bodies.
//
//   absl::StatusOr<Principal> who = AuthenticateRequest(*auth, req, Permission::kManageRules);
//   if (!who.ok()) return std::move(writer).Send(ProblemFromStatus(who.status()));
//   std::optional<std::string> id = PathId(req);
//   if (!id.has_value()) return std::move(writer).Send(NotFound("rule", req.path_params["id"]));
#ifndef ALERTHUB_SERVER_REST_UTIL_H_
#define ALERTHUB_SERVER_REST_UTIL_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/auth/credentials.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/auth/principal.h"
#include "alerthub/client.h"
#include "alerthub/model/delivery.h"
#include "alerthub/model/integration.h"
#include "alerthub/ports/store.h"
#include "alerthub/server/http/router.h"
#include "nlohmann/json.hpp"

namespace alerthub::server {

// The caller of `req` (an API key in X-API-Key or Authorization: Bearer, or
// a JWT access token in Authorization: Bearer) when its role holds
// `permission` (auth/rbac.h): kUnauthenticated, kPermissionDenied otherwise.
// With `allow_query_key`, an `api_key` query parameter counts too (the
// WebSocket: browsers cannot set its headers).
absl::StatusOr<Principal> AuthenticateRequest(const RequestAuthenticator& auth,
                                              const http::Request& req, Permission permission,
                                              bool allow_query_key = false);

// The caller of `req`, whatever their role (the admin operations check
// roles themselves); kUnauthenticated otherwise. Like AuthenticateRequest,
// the principal carries the request's id for audit records.
absl::StatusOr<Principal> AuthenticateCaller(const RequestAuthenticator& auth,
                                             const http::Request& req);

// Who acts in `req`, for an AuditScope (ports/audit.h).
AuditActor RestAuditActor(const http::Request& req, const Principal& who);

// The path's {id}, lowercased; nullopt when it cannot be an id (then the
// object does not exist).
std::optional<std::string> PathId(const http::Request& req);

// 404 "no <what> <id>".
http::Response NotFound(absl::string_view what, absl::string_view id);

// Lookup failures: "absent" and "another tenant's" read the same (404).
http::Response LookupProblem(const absl::Status& s, absl::string_view what, absl::string_view id);

// 204 without a body.
http::Response NoContent();

// The query parameters of the list routes.
struct ListQuery {
  PageRequest page;
  std::optional<Channel> channel;
  std::optional<bool> enabled;
  std::optional<bool> is_default;
  std::optional<DeliveryStatus> status;
  std::string notification_id;
};

// Reads `limit`, `cursor` (made by EncodeListCursor) and the parameters in
// `allowed` (any of channel, enabled, default, status, notification_id); any
// other parameter is an error, as are malformed values (kInvalidArgument
// with field errors: answer with QueryProblem).
absl::StatusOr<ListQuery> ParseListQuery(const http::Request& req,
                                         std::initializer_list<absl::string_view> allowed);

// {"<key>": [to_json(item)...], "next_cursor": "..." (when more exist)}.
template <typename T, typename ToJson>
nlohmann::json PageBody(absl::string_view key, const Page<T>& page, ToJson to_json) {
  nlohmann::json items = nlohmann::json::array();
  for (const T& item : page.items) items.push_back(to_json(item));
  nlohmann::json body = {{std::string(key), std::move(items)}};
  if (page.has_more && !page.items.empty()) {
    body["next_cursor"] = EncodeListCursor(page.items.back().id);
  }
  return body;
}

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_REST_UTIL_H_
