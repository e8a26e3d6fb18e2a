// Principal: who a request acts as, once its credential has been verified.
//
// Every authenticator (API keys today, JWT access tokens later) produces one,
// and everything downstream (tenant scoping, role checks, audit) reads only
// this, never the credential.
//
//   ALERTHUB_ASSIGN_OR_RETURN(Principal who, authenticator.Authenticate(token));
//   store->GetNotification(who.tenant_id, id);
#ifndef ALERTHUB_AUTH_PRINCIPAL_H_
#define ALERTHUB_AUTH_PRINCIPAL_H_

#include <string>

#include "alerthub/model/tenant.h"
#include "alerthub/ports/audit.h"

namespace alerthub {

struct Principal {
  // The tenant every query of the request is scoped to.
  std::string tenant_id;
  // The API key that authenticated the request; empty for other credentials.
  std::string key_id;
  // What the principal may do (owner > admin > member > viewer).
  Role role = Role::kViewer;
  // Who, for audit logs: "apikey:<key id>" (later "user:<user id>").
  std::string subject;
  // An owner of the bootstrap tenant: may manage other tenants.
  bool platform_operator = false;
  // The request this principal acts in (HTTP X-Request-Id, gRPC
  // x-request-id), for audit records; set by the transport.
  std::string request_id = "";

  bool operator==(const Principal& other) const = default;
};

// Who acts, as audit records name them (ports/audit.h).
inline AuditActor AuditActorOf(const Principal& who) {
  return {.tenant_id = who.tenant_id, .actor = who.subject, .request_id = who.request_id};
}

}  // namespace alerthub

#endif  // ALERTHUB_AUTH_PRINCIPAL_H_
