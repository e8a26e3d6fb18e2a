#include "alerthub/server/rest_util.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/server/status_http.h"

namespace alerthub::server {

using http::Request;
using http::Response;

absl::StatusOr<Principal> AuthenticateRequest(const RequestAuthenticator& auth,
                                              const Request& req, Permission permission,
                                              bool allow_query_key) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Principal who,
      auth.Authenticate(req.Header("X-API-Key"), req.Header("Authorization"),
                        allow_query_key ? req.QueryParam("api_key") : std::nullopt));
  who.request_id = req.request_id;
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, permission));
  return who;
}

absl::StatusOr<Principal> AuthenticateCaller(const RequestAuthenticator& auth,
                                             const Request& req) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Principal who,
      auth.Authenticate(req.Header("X-API-Key"), req.Header("Authorization"), std::nullopt));
  who.request_id = req.request_id;
  return who;
}

AuditActor RestAuditActor(const Request& req, const Principal& who) {
  AuditActor actor = AuditActorOf(who);
  actor.request_id = req.request_id;
  return actor;
}

Response NoContent() {
  Response res;
  res.status = 204;
  return res;
}

// The path's {id}, lowercased; nullopt when it cannot be an id (then the
// object does not exist).
std::optional<std::string> PathId(const Request& req) {
  std::string id = absl::AsciiStrToLower(req.path_params.at("id"));
  if (!IsUuid(id)) return std::nullopt;
  return id;
}

Response NotFound(absl::string_view what, absl::string_view id) {
  return ProblemFromStatus(absl::NotFoundError(absl::StrCat("no ", what, " ", id)));
}

// Lookup failures: "absent" and "another tenant's" read the same.
Response LookupProblem(const absl::Status& s, absl::string_view what, absl::string_view id) {
  if (absl::IsNotFound(s)) return NotFound(what, id);
  return ProblemFromStatus(s);
}

// Reads `limit`, `cursor` and the parameters in `allowed`; any other
// parameter is an error, as are malformed values.
absl::StatusOr<ListQuery> ParseListQuery(const Request& req,
                                         std::initializer_list<absl::string_view> allowed) {
  ListQuery q;
  std::vector<FieldError> errors;
  auto parse_bool = [&](const std::string& name, const std::string& value,
                        std::optional<bool>* out) {
    if (value == "true") {
      *out = true;
    } else if (value == "false") {
      *out = false;
    } else {
      errors.push_back({name, "must be true or false"});
    }
  };
  for (const auto& [name, value] : req.query) {
    const bool known = name == "limit" || name == "cursor" ||
                       std::find(allowed.begin(), allowed.end(), name) != allowed.end();
    if (!known) {
      errors.push_back({name, "unknown query parameter"});
    } else if (name == "limit") {
      int limit = 0;
      if (!absl::SimpleAtoi(value, &limit) || limit < 1 || limit > 500) {
        errors.push_back({"limit", "must be an integer between 1 and 500"});
      } else {
        q.page.limit = limit;
      }
    } else if (name == "cursor") {
      absl::StatusOr<std::string> last = DecodeListCursor(value);
      if (!last.ok()) {
        errors.push_back({"cursor", "is malformed"});
      } else {
        q.page.cursor = *last;
      }
    } else if (name == "channel") {
      absl::StatusOr<Channel> c = ParseChannel(value);
      if (c.ok()) {
        q.channel = *c;
      } else {
        errors.push_back({"channel", "must be one of webhook, slack, discord, email, push"});
      }
    } else if (name == "enabled") {
      parse_bool(name, value, &q.enabled);
    } else if (name == "default") {
      parse_bool(name, value, &q.is_default);
    } else if (name == "status") {
      // "dead" names the dead letters: failed deliveries.
      absl::StatusOr<DeliveryStatus> s =
          value == "dead" ? DeliveryStatus::kFailed : ParseDeliveryStatus(value);
      if (s.ok()) {
        q.status = *s;
      } else {
        errors.push_back(
            {"status", "must be one of dead, pending, sending, delivered, failed, held, suppressed"});
      }
    } else if (name == "notification_id") {
      q.notification_id = absl::AsciiStrToLower(value);
    }
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid query parameters", errors);
  return q;
}

}  // namespace alerthub::server
