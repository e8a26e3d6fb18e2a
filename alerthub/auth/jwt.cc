#include "alerthub/auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "alerthub/common/uuid.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

constexpr absl::string_view kAlgorithm = "RS256";
constexpr int kMinRsaBits = 2048;

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid token: ", why));
}

BioPtr MemoryBio(absl::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

absl::StatusOr<PkeyPtr> CheckRsa(PkeyPtr key, absl::string_view what) {
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a PEM key OpenSSL can read"));
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not an RSA key (RS256 needs one)"));
  }
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has ", EVP_PKEY_get_bits(key.get()), " bits; at least ",
                     kMinRsaBits, " are required"));
  }
  return key;
}

absl::StatusOr<PkeyPtr> ReadPrivateKey(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  return CheckRsa(PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)),
                  "the private key");
}

absl::StatusOr<PkeyPtr> ReadPublicKey(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    BioPtr again = MemoryBio(pem);
    key.reset(PEM_read_bio_PrivateKey(again.get(), nullptr, nullptr, nullptr));
  }
  return CheckRsa(std::move(key), "the public key");
}

absl::StatusOr<std::string> WritePem(EVP_PKEY* key, bool private_part) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  const int ok = private_part
                     ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                nullptr)
                     : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1) return absl::InternalError("openssl: could not write the key as PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Base64Url(absl::string_view bytes) { return absl::WebSafeBase64Escape(bytes); }

// Strict base64url: the URL-safe alphabet, no padding, no whitespace.
bool DecodeSegment(absl::string_view segment, std::string* out) {
  if (segment.empty()) return false;
  for (char c : segment) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  if (segment.size() % 4 == 1) return false;
  return absl::WebSafeBase64Unescape(segment, out);
}

int64_t Seconds(absl::Time t) { return absl::ToUnixSeconds(t); }

// A NumericDate claim: a finite JSON number of seconds.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const nlohmann::json& payload,
                                                    const char* name) {
  auto it = payload.find(name);
  if (it == payload.end()) return std::optional<absl::Time>();
  if (!it->is_number()) return Unauthenticated(absl::StrCat("\"", name, "\" is not a number"));
  const double v = it->get<double>();
  if (!std::isfinite(v) || std::fabs(v) > 1e11) {
    return Unauthenticated(absl::StrCat("\"", name, "\" is out of range"));
  }
  return std::optional<absl::Time>(absl::FromUnixSeconds(static_cast<int64_t>(std::floor(v))));
}

absl::StatusOr<std::string> StringClaim(const nlohmann::json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Unauthenticated(absl::StrCat("\"", name, "\" is missing or not a string"));
  }
  return it->get<std::string>();
}

bool AudienceMatches(const nlohmann::json& aud, absl::string_view want) {
  if (aud.is_string()) return aud.get_ref<const std::string&>() == want;
  if (!aud.is_array()) return false;
  for (const nlohmann::json& a : aud) {
    if (a.is_string() && a.get_ref<const std::string&>() == want) return true;
  }
  return false;
}

}  // namespace

// --- Signer ----------------------------------------------------------------------

struct JwtSigner::Key {
  PkeyPtr pkey;
};

JwtSigner::JwtSigner(std::unique_ptr<Key> key, std::string key_id)
    : key_(std::move(key)), key_id_(std::move(key_id)) {}
JwtSigner::~JwtSigner() = default;

absl::StatusOr<std::unique_ptr<JwtSigner>> JwtSigner::FromPem(absl::string_view private_pem,
                                                              absl::string_view key_id) {
  if (key_id.empty()) return absl::InvalidArgumentError("a signing key needs a key id (kid)");
  absl::StatusOr<PkeyPtr> pkey = ReadPrivateKey(private_pem);
  if (!pkey.ok()) return pkey.status();
  auto key = std::make_unique<Key>();
  key->pkey = *std::move(pkey);
  return std::unique_ptr<JwtSigner>(new JwtSigner(std::move(key), std::string(key_id)));
}

absl::StatusOr<std::string> JwtSigner::Sign(const AccessClaims& claims,
                                            const JwtSignOptions& options) const {
  if (claims.subject.empty() || claims.tenant_id.empty()) {
    return absl::InvalidArgumentError("a token needs a subject and a tenant");
  }
  const absl::Time now = options.now == absl::InfinitePast() ? absl::Now() : options.now;
  const nlohmann::json header = {{"alg", kAlgorithm}, {"typ", "JWT"}, {"kid", key_id_}};
  const nlohmann::json payload = {
      {"iss", options.issuer},
      {"aud", options.audience},
      {"sub", claims.subject},
      {"tid", claims.tenant_id},
      {"role", RoleName(claims.role)},
      {"jti", claims.token_id.empty() ? NewUuidV7(now) : claims.token_id},
      {"iat", Seconds(now)},
      {"nbf", Seconds(now)},
      {"exp", Seconds(now + options.ttl)},
  };
  const std::string signing_input =
      absl::StrCat(Base64Url(header.dump()), ".", Base64Url(payload.dump()));

  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t length = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return absl::InternalError("openssl: could not start an RS256 signature");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return absl::InternalError("openssl: RS256 signing failed");
  }
  signature.resize(length);
  return absl::StrCat(signing_input, ".", Base64Url(signature));
}

absl::StatusOr<std::string> JwtSigner::PublicKeyPem() const {
  return WritePem(key_->pkey.get(), /*private_part=*/false);
}

// --- Verifier --------------------------------------------------------------------

struct JwtVerifier::Key {
  PkeyPtr pkey;
};

JwtVerifier::JwtVerifier(JwtVerifierOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()) {}
JwtVerifier::~JwtVerifier() = default;

absl::Status JwtVerifier::AddKey(absl::string_view key_id, absl::string_view public_pem) {
  if (key_id.empty()) return absl::InvalidArgumentError("a verification key needs a key id");
  if (keys_.contains(key_id)) {
    return absl::AlreadyExistsError(absl::StrCat("key id \"", key_id, "\" is added already"));
  }
  absl::StatusOr<PkeyPtr> pkey = ReadPublicKey(public_pem);
  if (!pkey.ok()) return pkey.status();
  auto key = std::make_unique<Key>();
  key->pkey = *std::move(pkey);
  keys_.emplace(std::string(key_id), std::move(key));
  return absl::OkStatus();
}

absl::StatusOr<AccessClaims> JwtVerifier::Verify(absl::string_view token) const {
  if (token.size() > kMaxTokenLength) return Unauthenticated("too long");
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Unauthenticated("not three dot-separated segments");
  std::string header_json, payload_json, signature;
  if (!DecodeSegment(parts[0], &header_json) || !DecodeSegment(parts[1], &payload_json) ||
      !DecodeSegment(parts[2], &signature)) {
    return Unauthenticated("a segment is not unpadded base64url");
  }

  // The header picks nothing but a key id among keys this verifier trusts.
  const nlohmann::json header = nlohmann::json::parse(header_json, nullptr, false);
  if (!header.is_object()) return Unauthenticated("the header is not a JSON object");
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() ||
      alg->get_ref<const std::string&>() != kAlgorithm) {
    return Unauthenticated("the algorithm is not RS256");
  }
  if (header.contains("crit")) return Unauthenticated("critical header extensions are refused");
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) return Unauthenticated("no key id (kid)");
  auto key = keys_.find(kid->get_ref<const std::string&>());
  if (key == keys_.end()) return Unauthenticated("unknown key id");

  const absl::string_view signing_input =
      token.substr(0, parts[0].size() + 1 + parts[1].size());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key->second->pkey.get()) !=
          1) {
    return absl::InternalError("openssl: could not start an RS256 verification");
  }
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
    return Unauthenticated("bad signature");
  }

  // Signed by a trusted key: now the claims.
  const nlohmann::json payload = nlohmann::json::parse(payload_json, nullptr, false);
  if (!payload.is_object()) return Unauthenticated("the payload is not a JSON object");
  absl::StatusOr<std::string> iss = StringClaim(payload, "iss");
  if (!iss.ok()) return iss.status();
  if (*iss != options_.issuer) return Unauthenticated("wrong issuer");
  auto aud = payload.find("aud");
  if (aud == payload.end() || !AudienceMatches(*aud, options_.audience)) {
    return Unauthenticated("wrong audience");
  }

  const absl::Time now = clock_->Now();
  AccessClaims c;
  c.key_id = kid->get<std::string>();
  absl::StatusOr<std::optional<absl::Time>> exp = TimeClaim(payload, "exp");
  if (!exp.ok()) return exp.status();
  if (!exp->has_value()) return Unauthenticated("no expiry (exp)");
  if (now >= **exp + options_.leeway) return Unauthenticated("expired");
  c.expires_at = **exp;
  absl::StatusOr<std::optional<absl::Time>> nbf = TimeClaim(payload, "nbf");
  if (!nbf.ok()) return nbf.status();
  if (nbf->has_value()) {
    if (**nbf > now + options_.leeway) return Unauthenticated("not valid yet (nbf)");
    c.not_before = **nbf;
  }
  absl::StatusOr<std::optional<absl::Time>> iat = TimeClaim(payload, "iat");
  if (!iat.ok()) return iat.status();
  if (iat->has_value()) {
    if (**iat > now + options_.leeway) return Unauthenticated("issued in the future (iat)");
    c.issued_at = **iat;
  }

  absl::StatusOr<std::string> sub = StringClaim(payload, "sub");
  if (!sub.ok()) return sub.status();
  absl::StatusOr<std::string> tid = StringClaim(payload, "tid");
  if (!tid.ok()) return tid.status();
  absl::StatusOr<std::string> role = StringClaim(payload, "role");
  if (!role.ok()) return role.status();
  absl::StatusOr<Role> parsed_role = ParseRole(*role);
  if (!parsed_role.ok()) return Unauthenticated("unknown role");
  c.subject = *std::move(sub);
  c.tenant_id = *std::move(tid);
  c.role = *parsed_role;
  auto jti = payload.find("jti");
  if (jti != payload.end()) {
    if (!jti->is_string()) return Unauthenticated("\"jti\" is not a string");
    c.token_id = jti->get<std::string>();
  }
  return c;
}

absl::StatusOr<std::string> GenerateRsaPrivateKeyPem(int bits) {
  if (bits < kMinRsaBits) {
    return absl::InvalidArgumentError(absl::StrCat("RSA keys need at least ", kMinRsaBits, " bits"));
  }
  PkeyPtr key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  if (key == nullptr) return absl::InternalError("openssl: RSA key generation failed");
  return WritePem(key.get(), /*private_part=*/true);
}

}  // namespace alerthub
