// The signed JWT a Google service account trades for an OAuth access token
// (RFC 7523 "jwt-bearer" grant, as Google's OAuth server takes it). Private
// to //alerthub/delivery/channels.
#ifndef ALERTHUB_DELIVERY_CHANNELS_INTERNAL_SERVICE_ACCOUNT_JWT_H_
#define ALERTHUB_DELIVERY_CHANNELS_INTERNAL_SERVICE_ACCOUNT_JWT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace alerthub::channels_internal {

struct JwtClaims {
  std::string issuer;    // iss: the service account's client_email
  std::string scope;     // scope: space-separated OAuth scopes
  std::string audience;  // aud: the token endpoint's URL
  absl::Time issued_at;  // iat; exp is iat + lifetime
  absl::Duration lifetime = absl::Hours(1);
  std::string key_id;  // kid header, the key file's private_key_id; may be empty
};

// "<header>.<claims>.<signature>", each base64url without padding; RS256
// (RSASSA-PKCS1-v1_5 with SHA-256, OpenSSL's EVP API) with the PEM
// `private_key_pem` (PKCS#8 "BEGIN PRIVATE KEY" as Google's key files hold,
// or PKCS#1 "BEGIN RSA PRIVATE KEY").
//   kInvalidArgument  the key is not an unencrypted RSA private key in PEM
//                     form (the message never holds key material)
//   kInternal         OpenSSL failed to sign
absl::StatusOr<std::string> SignServiceAccountJwt(const JwtClaims& claims,
                                                  absl::string_view private_key_pem);

}  // namespace alerthub::channels_internal

#endif  // ALERTHUB_DELIVERY_CHANNELS_INTERNAL_SERVICE_ACCOUNT_JWT_H_
