#include "alerthub/auth/jwt.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "alerthub/common/crypto.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kIssuer[] = "https://alerthub.example";
constexpr char kAudience[] = "alerthub-api";

// Keys are slow to make: one pair for the whole suite, plus an attacker's.
const std::string& TrustedPem() {
  static const std::string* pem = new std::string(GenerateRsaPrivateKeyPem(2048).value());
  return *pem;
}
const std::string& AttackerPem() {
  static const std::string* pem = new std::string(GenerateRsaPrivateKeyPem(2048).value());
  return *pem;
}

std::string B64(absl::string_view s) { return absl::WebSafeBase64Escape(s); }

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(signer_, JwtSigner::FromPem(TrustedPem(), "k1"));
    ASSERT_OK_AND_ASSIGN(public_pem_, signer_->PublicKeyPem());
    ASSERT_OK(verifier_.AddKey("k1", public_pem_));
  }

  AccessClaims Claims() const {
    AccessClaims c;
    c.subject = "user-1";
    c.tenant_id = "tenant-1";
    c.role = Role::kMember;
    return c;
  }

  JwtSignOptions SignOptions() const {
    return JwtSignOptions{.issuer = kIssuer, .audience = kAudience,
                          .ttl = absl::Minutes(15), .now = clock_.Now()};
  }

  std::string Good() { return signer_->Sign(Claims(), SignOptions()).value(); }

  nlohmann::json GoodPayload() const {
    const int64_t now = absl::ToUnixSeconds(clock_.Now());
    return {{"iss", kIssuer}, {"aud", kAudience}, {"sub", "user-1"}, {"tid", "tenant-1"},
            {"role", "owner"}, {"jti", "j1"}, {"iat", now}, {"nbf", now}, {"exp", now + 900}};
  }

  // A token with any header and payload, signed with HMAC-SHA256 under `key`.
  static std::string Hs256(const nlohmann::json& header, const nlohmann::json& payload,
                           absl::string_view key) {
    const std::string input = absl::StrCat(B64(header.dump()), ".", B64(payload.dump()));
    return absl::StrCat(input, ".", B64(HmacSha256(key, input)));
  }

  static std::string SignRaw(const nlohmann::json& header, const nlohmann::json& payload,
                             absl::string_view pem);

  SimulatedClock clock_;
  std::unique_ptr<JwtSigner> signer_;
  std::string public_pem_;
  JwtVerifier verifier_{JwtVerifierOptions{.issuer = kIssuer, .audience = kAudience,
                                           .leeway = absl::Seconds(30), .clock = &clock_}};
};

}  // namespace
}  // namespace alerthub

// RS256 over an arbitrary header and payload, with OpenSSL directly, so the
// tests can forge exactly what an attacker with (or without) the key could.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace alerthub {
namespace {

std::string JwtTest::SignRaw(const nlohmann::json& header, const nlohmann::json& payload,
                             absl::string_view pem) {
  const std::string input = absl::StrCat(B64(header.dump()), ".", B64(payload.dump()));
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t n = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(n, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(n);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return absl::StrCat(input, ".", B64(sig));
}

TEST_F(JwtTest, AGoodTokenRoundTrips) {
  ASSERT_OK_AND_ASSIGN(AccessClaims c, verifier_.Verify(Good()));
  EXPECT_EQ(c.subject, "user-1");
  EXPECT_EQ(c.tenant_id, "tenant-1");
  EXPECT_EQ(c.role, Role::kMember);
  EXPECT_EQ(c.key_id, "k1");
  EXPECT_FALSE(c.token_id.empty());
  EXPECT_EQ(c.issued_at, absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now())));
  EXPECT_EQ(c.expires_at, c.issued_at + absl::Minutes(15));

  // Header and payload carry what ARCHITECTURE §4 lists.
  std::vector<std::string> parts = absl::StrSplit(Good(), '.');
  std::string header, payload;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[0], &header));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload));
  EXPECT_EQ(nlohmann::json::parse(header),
            nlohmann::json({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}}));
  for (const char* claim : {"iss", "aud", "sub", "tid", "role", "exp", "nbf", "iat", "jti"}) {
    EXPECT_TRUE(nlohmann::json::parse(payload).contains(claim)) << claim;
  }
}

TEST_F(JwtTest, LeewayAllowsSmallSkewOnly) {
  const std::string token = Good();
  clock_.Advance(absl::Minutes(15) + absl::Seconds(29));
  EXPECT_OK(verifier_.Verify(token).status());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(verifier_.Verify(token), StatusIs(StatusCode::kUnauthenticated, HasSubstr("expired")));
}

// The attack catalogue: each is refused with kUnauthenticated.
TEST_F(JwtTest, AlgNoneInAnyCasingIsRefused) {
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    const nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}, {"kid", "k1"}};
    const std::string unsigned_token =
        absl::StrCat(B64(header.dump()), ".", B64(GoodPayload().dump()), ".");
    EXPECT_THAT(verifier_.Verify(unsigned_token), StatusIs(StatusCode::kUnauthenticated)) << alg;
    // Even with some bytes where the signature goes.
    EXPECT_THAT(verifier_.Verify(absl::StrCat(unsigned_token, "AAAA")),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr("not RS256")))
        << alg;
  }
}

TEST_F(JwtTest, Hs256SignedWithThePublicKeyIsRefused) {
  for (const char* alg : {"HS256", "RS256"}) {
    const std::string forged =
        Hs256({{"alg", alg}, {"kid", "k1"}}, GoodPayload(), public_pem_);
    EXPECT_THAT(verifier_.Verify(forged), StatusIs(StatusCode::kUnauthenticated)) << alg;
  }
}

TEST_F(JwtTest, OtherAlgorithmsAndMissingAlgAreRefused) {
  for (const nlohmann::json& header :
       {nlohmann::json{{"alg", "RS512"}, {"kid", "k1"}}, nlohmann::json{{"alg", "PS256"}, {"kid", "k1"}},
        nlohmann::json{{"alg", "rs256"}, {"kid", "k1"}}, nlohmann::json{{"kid", "k1"}},
        nlohmann::json{{"alg", nlohmann::json::array({"RS256"})}, {"kid", "k1"}}}) {
    EXPECT_THAT(verifier_.Verify(SignRaw(header, GoodPayload(), TrustedPem())),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr("not RS256")))
        << header.dump();
  }
}

TEST_F(JwtTest, UnknownPathLikeOrMissingKidIsRefused) {
  for (const nlohmann::json& header :
       {nlohmann::json{{"alg", "RS256"}, {"kid", "k2"}},
        nlohmann::json{{"alg", "RS256"}, {"kid", "../../../../dev/null"}},
        nlohmann::json{{"alg", "RS256"}, {"kid", "/etc/passwd"}},
        nlohmann::json{{"alg", "RS256"}, {"kid", ""}},
        nlohmann::json{{"alg", "RS256"}, {"kid", 1}},
        nlohmann::json{{"alg", "RS256"}}}) {
    EXPECT_THAT(verifier_.Verify(SignRaw(header, GoodPayload(), TrustedPem())),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr("key id")))
        << header.dump();
  }
}

TEST_F(JwtTest, KeysNamedByTheTokenAreNeverUsed) {
  // An attacker's key, offered through every header that can carry one: the
  // verifier uses only its own key for "k1", so the signature fails.
  const nlohmann::json header = {
      {"alg", "RS256"}, {"kid", "k1"}, {"jku", "https://attacker.example/jwks.json"},
      {"x5u", "https://attacker.example/cert.pem"},
      {"jwk", {{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}}}};
  EXPECT_THAT(verifier_.Verify(SignRaw(header, GoodPayload(), AttackerPem())),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("bad signature")));
  // The same headers on a token the trusted key signed are ignored, not used.
  EXPECT_OK(verifier_.Verify(SignRaw(header, GoodPayload(), TrustedPem())).status());
  // Critical extensions are not understood, so refused.
  nlohmann::json crit = {{"alg", "RS256"}, {"kid", "k1"}, {"crit", {"exp"}}};
  EXPECT_THAT(verifier_.Verify(SignRaw(crit, GoodPayload(), TrustedPem())),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("critical")));
}

TEST_F(JwtTest, TimeClaimsOutsideTheLeewayAreRefused) {
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  const nlohmann::json rs = {{"alg", "RS256"}, {"kid", "k1"}};
  struct Case {
    const char* claim;
    nlohmann::json value;
    const char* why;
  };
  for (const Case& c : {Case{"exp", now - 31, "expired"}, Case{"exp", nullptr, "not a number"},
                        Case{"exp", "9999999999", "not a number"},
                        Case{"nbf", now + 31, "nbf"}, Case{"iat", now + 31, "iat"},
                        Case{"exp", 1e300, "out of range"}}) {
    nlohmann::json p = GoodPayload();
    p[c.claim] = c.value;
    EXPECT_THAT(verifier_.Verify(SignRaw(rs, p, TrustedPem())),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr(c.why)))
        << c.claim << "=" << c.value.dump();
  }
  nlohmann::json no_exp = GoodPayload();
  no_exp.erase("exp");
  EXPECT_THAT(verifier_.Verify(SignRaw(rs, no_exp, TrustedPem())),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("exp")));
  // Within the leeway both ways: accepted.
  nlohmann::json skewed = GoodPayload();
  skewed["nbf"] = now + 29;
  skewed["iat"] = now + 29;
  skewed["exp"] = now - 29;
  EXPECT_OK(verifier_.Verify(SignRaw(rs, skewed, TrustedPem())).status());
}

TEST_F(JwtTest, WrongIssuerAudienceOrClaimsAreRefused) {
  const nlohmann::json rs = {{"alg", "RS256"}, {"kid", "k1"}};
  struct Case {
    const char* claim;
    nlohmann::json value;
    const char* why;
  };
  for (const Case& c :
       {Case{"iss", "https://evil.example", "issuer"}, Case{"iss", nullptr, "iss"},
        Case{"aud", "other-api", "audience"},
        Case{"aud", nlohmann::json::array({"a", "b"}), "audience"},
        Case{"aud", 7, "audience"}, Case{"sub", "", "sub"}, Case{"tid", nullptr, "tid"},
        Case{"role", "superuser", "role"}, Case{"jti", 5, "jti"}}) {
    nlohmann::json p = GoodPayload();
    p[c.claim] = c.value;
    EXPECT_THAT(verifier_.Verify(SignRaw(rs, p, TrustedPem())),
                StatusIs(StatusCode::kUnauthenticated, HasSubstr(c.why)))
        << c.claim << "=" << c.value.dump();
  }
  nlohmann::json listed = GoodPayload();
  listed["aud"] = {"other-api", kAudience};
  EXPECT_OK(verifier_.Verify(SignRaw(rs, listed, TrustedPem())).status());
}

TEST_F(JwtTest, TamperedTruncatedOrMalformedTokensAreRefused) {
  const std::string token = Good();
  std::vector<std::string> parts = absl::StrSplit(token, '.');

  // Payload edited to another role and tenant, signature kept.
  nlohmann::json p = GoodPayload();
  p["role"] = "owner";
  p["tid"] = "tenant-2";
  EXPECT_THAT(verifier_.Verify(absl::StrCat(parts[0], ".", B64(p.dump()), ".", parts[2])),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("bad signature")));
  // One flipped signature character.
  std::string flipped = token;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_THAT(verifier_.Verify(flipped), StatusIs(StatusCode::kUnauthenticated));

  for (const std::string& bad :
       {token.substr(0, token.size() - 1), token.substr(0, token.size() / 2),
        absl::StrCat(parts[0], ".", parts[1]), absl::StrCat(parts[0], ".", parts[1], "."),
        absl::StrCat(token, ".", parts[2]), absl::StrCat(token, "="),
        absl::StrCat(parts[0], "=.", parts[1], ".", parts[2]),
        absl::StrCat(" ", token), std::string(""), std::string(".."),
        absl::StrCat(B64("not json"), ".", parts[1], ".", parts[2]),
        absl::StrCat(B64("[1]"), ".", parts[1], ".", parts[2]),
        std::string(JwtVerifier::kMaxTokenLength + 1, 'a')}) {
    EXPECT_THAT(verifier_.Verify(bad), StatusIs(StatusCode::kUnauthenticated)) << bad;
  }
  // A payload that is not an object, correctly signed.
  EXPECT_THAT(verifier_.Verify(SignRaw({{"alg", "RS256"}, {"kid", "k1"}},
                                       nlohmann::json::array({1}), TrustedPem())),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("not a JSON object")));
}

TEST_F(JwtTest, KeyLoadingErrorsAreClear) {
  EXPECT_THAT(JwtSigner::FromPem("not a key", "k"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(JwtSigner::FromPem(TrustedPem(), ""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(GenerateRsaPrivateKeyPem(1024), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(verifier_.AddKey("k1", public_pem_), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(verifier_.AddKey("k9", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
              StatusIs(StatusCode::kInvalidArgument));
  // A private key is accepted where a public one is expected (its public half).
  EXPECT_OK(verifier_.AddKey("k2", TrustedPem()));
  AccessClaims c = Claims();
  EXPECT_THAT(signer_->Sign(AccessClaims{}, SignOptions()), StatusIs(StatusCode::kInvalidArgument));
  c.token_id = "fixed";
  ASSERT_OK_AND_ASSIGN(std::string t, signer_->Sign(c, SignOptions()));
  ASSERT_OK_AND_ASSIGN(AccessClaims back, verifier_.Verify(t));
  EXPECT_EQ(back.token_id, "fixed");
}

}  // namespace
}  // namespace alerthub
