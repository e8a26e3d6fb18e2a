// The key material of a daemon's JWT access tokens, from PEM files:
//   * a signing key (RSA private key) to issue tokens at login — created on
//     first start when asked (the all-in-one: <data_dir>/jwt-signing-key.pem);
//   * any number of extra verification keys (public PEM), e.g. the previous
//     signing key during a rotation, or the admin daemon's key in the router.
// Each key's `kid` is derived from the key itself (KeyIdOf), so every daemon
// given the same files agrees on it without configuration.
#ifndef ALERTHUB_AUTH_JWT_KEYS_H_
#define ALERTHUB_AUTH_JWT_KEYS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alerthub/auth/jwt.h"
#include "alerthub/ports/clock.h"

namespace alerthub {

struct JwtKeyFiles {
  // RSA private key (PEM). Empty: this daemon verifies but cannot issue.
  std::string signing_key_file;
  // Generate a key of `generated_key_bits` into signing_key_file (0600)
  // when it is missing.
  bool create_signing_key = false;
  // 2048 bits, the RS256 norm (112-bit strength): generating one takes a
  // fraction of a second where 3072 bits take seconds, on every fresh data
  // dir. Operators wanting more provide their own key.
  int generated_key_bits = 2048;
  // When set, the signing key's public half (PEM) is written here at every
  // load, for other daemons' verification_key_files.
  std::string public_key_file;
  // Public (or private) PEM keys trusted for verification, besides the
  // signing key's public half.
  std::vector<std::string> verification_key_files;
  std::string issuer = "alerthub";
  std::string audience = "alerthub-api";
  absl::Duration leeway = absl::Seconds(30);
};

struct JwtKeys {
  std::unique_ptr<JwtSigner> signer;      // null without a signing key
  std::unique_ptr<JwtVerifier> verifier;  // null when no key is configured at all
};

// kNotFound / kInvalidArgument naming the file that is missing or not a
// usable RSA key. `clock` (may be null: the real one) must outlive the keys.
absl::StatusOr<JwtKeys> LoadJwtKeys(const JwtKeyFiles& files, Clock* clock);

// The `kid` of a key: 16 hex digits of the SHA-256 of its public PEM.
std::string KeyIdOf(absl::string_view public_pem);

}  // namespace alerthub

#endif  // ALERTHUB_AUTH_JWT_KEYS_H_
