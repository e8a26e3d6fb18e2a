#include "alerthub/auth/jwt_keys.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/common/crypto.h"
#include "alerthub/common/files.h"
#include "alerthub/common/status.h"

namespace alerthub {
namespace {

absl::Status InFile(const absl::Status& s, const std::string& path) {
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

}  // namespace

std::string KeyIdOf(absl::string_view public_pem) {
  return HexEncode(Sha256(public_pem)).substr(0, 16);
}

absl::StatusOr<JwtKeys> LoadJwtKeys(const JwtKeyFiles& files, Clock* clock) {
  JwtKeys keys;
  if (files.signing_key_file.empty() && files.verification_key_files.empty()) return keys;
  keys.verifier = std::make_unique<JwtVerifier>(JwtVerifierOptions{
      .issuer = files.issuer, .audience = files.audience, .leeway = files.leeway,
      .clock = clock});
  if (!files.signing_key_file.empty()) {
    const std::string& path = files.signing_key_file;
    if (files.create_signing_key && !FileExists(path)) {
      ALERTHUB_ASSIGN_OR_RETURN(std::string pem,
                                GenerateRsaPrivateKeyPem(files.generated_key_bits));
      ALERTHUB_RETURN_IF_ERROR(WritePrivateFile(path, pem));
    }
    ALERTHUB_ASSIGN_OR_RETURN(std::string pem, ReadSmallFile(path));
    // The kid comes from the public half; a provisional signer reads it.
    absl::StatusOr<std::unique_ptr<JwtSigner>> probe = JwtSigner::FromPem(pem, "probe");
    if (!probe.ok()) return InFile(probe.status(), path);
    ALERTHUB_ASSIGN_OR_RETURN(std::string public_pem, (*probe)->PublicKeyPem());
    const std::string kid = KeyIdOf(public_pem);
    ALERTHUB_ASSIGN_OR_RETURN(keys.signer, JwtSigner::FromPem(pem, kid));
    ALERTHUB_RETURN_IF_ERROR(keys.verifier->AddKey(kid, public_pem));
    if (!files.public_key_file.empty()) {
      ALERTHUB_RETURN_IF_ERROR(WritePrivateFile(files.public_key_file, public_pem));
    }
  }
  for (const std::string& path : files.verification_key_files) {
    absl::StatusOr<std::string> pem = ReadSmallFile(path);
    if (!pem.ok()) return pem.status();
    // Normalise to the public PEM so the kid matches the issuer's.
    absl::StatusOr<std::unique_ptr<JwtSigner>> as_private = JwtSigner::FromPem(*pem, "probe");
    std::string public_pem = *pem;
    if (as_private.ok()) {
      ALERTHUB_ASSIGN_OR_RETURN(public_pem, (*as_private)->PublicKeyPem());
    }
    absl::Status added = keys.verifier->AddKey(KeyIdOf(public_pem), public_pem);
    if (absl::IsAlreadyExists(added)) continue;  // the same key twice
    if (!added.ok()) return InFile(added, path);
  }
  return keys;
}

}  // namespace alerthub
