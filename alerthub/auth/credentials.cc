#include "alerthub/auth/credentials.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/status.h"

namespace alerthub {

absl::StatusOr<Principal> RequestAuthenticator::Authenticate(
    std::optional<std::string> x_api_key, std::optional<std::string> authorization,
    std::optional<std::string> api_key_query) const {
  ALERTHUB_ASSIGN_OR_RETURN(Credential c,
                            ExtractCredential(std::move(x_api_key), std::move(authorization),
                                              std::move(api_key_query)));
  if (c.kind == Credential::Kind::kApiKey) return api_keys_->Authenticate(c.token);
  if (jwt_ == nullptr) return absl::UnauthenticatedError("unsupported bearer token");
  ALERTHUB_ASSIGN_OR_RETURN(AccessClaims claims, jwt_->Verify(c.token));
  Principal p;
  p.tenant_id = std::move(claims.tenant_id);
  p.role = claims.role;
  p.subject = absl::StrCat("user:", claims.subject);
  return p;
}

}  // namespace alerthub
