#include "alerthub/delivery/channels/internal/service_account_jwt.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace alerthub::channels_internal {
namespace {

using Json = nlohmann::json;

// Refuses to prompt for a passphrase (OpenSSL's default reads the terminal).
int NoPassphrase(char*, int, int, void*) { return 0; }

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string Base64Url(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

}  // namespace

absl::StatusOr<std::string> SignServiceAccountJwt(const JwtClaims& claims,
                                                  absl::string_view private_key_pem) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "service_account.private_key is not an unencrypted PEM private key");
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError(
        "service_account.private_key is not an RSA key (RS256 needs one)");
  }

  Json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!claims.key_id.empty()) header["kid"] = claims.key_id;
  const int64_t iat = absl::ToUnixSeconds(claims.issued_at);
  const Json payload = {{"iss", claims.issuer},
                        {"scope", claims.scope},
                        {"aud", claims.audience},
                        {"iat", iat},
                        {"exp", iat + absl::ToInt64Seconds(claims.lifetime)}};
  const std::string signing_input =
      absl::StrCat(Base64Url(header.dump()), ".", Base64Url(payload.dump()));

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t length = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL could not set up RS256 signing");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL could not sign the JWT");
  }
  signature.resize(length);
  return absl::StrCat(signing_input, ".", Base64Url(signature));
}

}  // namespace alerthub::channels_internal
