// JWT access tokens (RFC 7519), RS256 only (ARCHITECTURE §4, Auth).
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<JwtSigner> signer,
//                             JwtSigner::FromPem(private_pem, "2026-11"));
//   AccessClaims c{.subject = user.id, .tenant_id = user.tenant_id, .role = user.role};
//   ALERTHUB_ASSIGN_OR_RETURN(std::string token, signer->Sign(c, {.issuer = ..., ...}));
//
//   JwtVerifier verifier({.issuer = "alerthub", .audience = "alerthub-api"});
//   ALERTHUB_RETURN_IF_ERROR(verifier.AddKey("2026-11", public_pem));
//   ALERTHUB_ASSIGN_OR_RETURN(AccessClaims who, verifier.Verify(token));
//
// Verification is deliberately narrow, so the classic attacks fail:
//   * the header's `alg` must be exactly "RS256" ("none" in any casing,
//     HS256 keyed with the public key, ES256 ... are refused before any
//     signature check), and the key is chosen by `kid` among the keys added
//     to the verifier — never from the token (`jku`, `x5u`, `jwk` and `x5c`
//     are ignored; an unknown `kid`, including a path-like one, is refused);
//   * the signature is checked with OpenSSL's EVP API (RSASSA-PKCS1-v1_5,
//     SHA-256) before any claim is believed;
//   * `iss` and `aud` must equal the configured ones (`aud` may be an array
//     containing it); `exp` is required and `nbf`/`iat` may not lie in the
//     future, each with a small leeway;
//   * base64url without padding only, exactly three segments, a size limit,
//     and JSON objects with the claims' expected types.
// Every failure is kUnauthenticated with a message for logs (not for the
// response body, which says only "invalid token").
//
// Thread-safe once keys are added.
#ifndef ALERTHUB_AUTH_JWT_H_
#define ALERTHUB_AUTH_JWT_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/model/tenant.h"
#include "alerthub/ports/clock.h"

namespace alerthub {

// What an access token says about its bearer.
struct AccessClaims {
  std::string subject;    // "sub": the user id
  std::string tenant_id;  // "tid"
  Role role = Role::kViewer;  // "role": "owner" | "admin" | "member" | "viewer"
  std::string token_id;   // "jti": unique per token (UUIDv7)
  absl::Time issued_at = absl::InfinitePast();   // "iat"
  absl::Time not_before = absl::InfinitePast();  // "nbf"
  absl::Time expires_at = absl::InfinitePast();  // "exp"
  std::string key_id;     // "kid" of the header

  bool operator==(const AccessClaims& other) const = default;
};

struct JwtSignOptions {
  std::string issuer;    // "iss"
  std::string audience;  // "aud"
  absl::Duration ttl = absl::Minutes(15);
  absl::Time now = absl::InfinitePast();  // InfinitePast: the real clock
};

class JwtSigner {
 public:
  // An RSA private key (PKCS#8 or traditional PEM, >= 2048 bits) and the
  // `kid` its tokens carry. kInvalidArgument for anything else.
  static absl::StatusOr<std::unique_ptr<JwtSigner>> FromPem(absl::string_view private_pem,
                                                            absl::string_view key_id);
  ~JwtSigner();

  // A signed token for `claims`; iat = nbf = options.now, exp = now + ttl and
  // jti (when claims.token_id is empty, a fresh UUIDv7) are filled in.
  // claims.subject and claims.tenant_id must not be empty.
  absl::StatusOr<std::string> Sign(const AccessClaims& claims, const JwtSignOptions& options) const;

  // The public half, PEM (SubjectPublicKeyInfo), for verifiers.
  absl::StatusOr<std::string> PublicKeyPem() const;
  const std::string& key_id() const { return key_id_; }

 private:
  struct Key;
  JwtSigner(std::unique_ptr<Key> key, std::string key_id);
  std::unique_ptr<Key> key_;
  std::string key_id_;
};

struct JwtVerifierOptions {
  std::string issuer;    // required value of "iss"
  std::string audience;  // required value (or member) of "aud"
  absl::Duration leeway = absl::Seconds(30);  // clock skew allowed on exp/nbf/iat
  Clock* clock = nullptr;  // nullptr: Clock::Real(); must outlive the verifier
};

class JwtVerifier {
 public:
  explicit JwtVerifier(JwtVerifierOptions options);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // Trusts `public_pem` (an RSA public key, SubjectPublicKeyInfo PEM, or a
  // private key whose public half is used) for tokens whose header names
  // `key_id`. kInvalidArgument for a bad key; kAlreadyExists for a kid added
  // before. Not thread-safe with Verify(): add keys before serving.
  absl::Status AddKey(absl::string_view key_id, absl::string_view public_pem);

  // The token's claims when it is valid now; kUnauthenticated otherwise.
  absl::StatusOr<AccessClaims> Verify(absl::string_view token) const;

  static constexpr size_t kMaxTokenLength = 8 * 1024;

 private:
  struct Key;
  const JwtVerifierOptions options_;
  Clock* const clock_;
  absl::flat_hash_map<std::string, std::unique_ptr<Key>> keys_;
};

// A new RSA private key of `bits` bits, PKCS#8 PEM. The all-in-one writes
// one (JwtKeyFiles::generated_key_bits) to its data directory on first start.
absl::StatusOr<std::string> GenerateRsaPrivateKeyPem(int bits = 3072);

}  // namespace alerthub

#endif  // ALERTHUB_AUTH_JWT_H_
