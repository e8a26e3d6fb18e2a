// RequestAuthenticator: who a request is, from whichever credential it
// carries — a tenant API key or a JWT access token (ARCHITECTURE §4, Auth).
// Every transport (REST routes, the WebSocket, gRPC metadata) calls this one.
//
//   RequestAuthenticator auth(&api_keys, &jwt_verifier);
//   ALERTHUB_ASSIGN_OR_RETURN(Principal who,
//       auth.Authenticate(req.Header("X-API-Key"), req.Header("Authorization"), std::nullopt));
//
// A JWT's principal: tenant_id = "tid", role = "role", subject "user:<sub>".
// Without a verifier, access tokens are refused ("unsupported bearer
// token"). Errors are kUnauthenticated (and the Store's, for API keys).
//
// Thread-safe.
#ifndef ALERTHUB_AUTH_CREDENTIALS_H_
#define ALERTHUB_AUTH_CREDENTIALS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "alerthub/auth/api_keys.h"
#include "alerthub/auth/jwt.h"
#include "alerthub/auth/principal.h"

namespace alerthub {

class RequestAuthenticator {
 public:
  // Both must outlive this; `jwt` may be null (API keys only).
  RequestAuthenticator(ApiKeyAuthenticator* api_keys, const JwtVerifier* jwt)
      : api_keys_(api_keys), jwt_(jwt) {}

  // See ExtractCredential() for where credentials are looked for.
  absl::StatusOr<Principal> Authenticate(std::optional<std::string> x_api_key,
                                         std::optional<std::string> authorization,
                                         std::optional<std::string> api_key_query) const;

  ApiKeyAuthenticator& api_keys() const { return *api_keys_; }

 private:
  ApiKeyAuthenticator* const api_keys_;
  const JwtVerifier* const jwt_;
};

}  // namespace alerthub

#endif  // ALERTHUB_AUTH_CREDENTIALS_H_
