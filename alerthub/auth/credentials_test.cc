#include "alerthub/auth/credentials.h"

#include <memory>
#include <string>

#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

class RequestAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tenant_ = db_.tenant_id();
    key_ = db_.AddApiKey(Role::kMember);
    api_keys_ = std::make_unique<ApiKeyAuthenticator>(db_.store());

    static const std::string* pem = new std::string(GenerateRsaPrivateKeyPem(2048).value());
    ASSERT_OK_AND_ASSIGN(signer_, JwtSigner::FromPem(*pem, "k1"));
    ASSERT_OK_AND_ASSIGN(std::string public_pem, signer_->PublicKeyPem());
    ASSERT_OK(verifier_.AddKey("k1", public_pem));
  }

  std::string Jwt(Role role) {
    AccessClaims c;
    c.subject = "user-7";
    c.tenant_id = tenant_;
    c.role = role;
    return signer_->Sign(c, {.issuer = "alerthub", .audience = "alerthub-api",
                             .ttl = absl::Minutes(15), .now = clock_.Now()})
        .value();
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  std::string tenant_, key_;
  std::unique_ptr<ApiKeyAuthenticator> api_keys_;
  std::unique_ptr<JwtSigner> signer_;
  JwtVerifier verifier_{{.issuer = "alerthub", .audience = "alerthub-api",
                         .leeway = absl::Seconds(30), .clock = &clock_}};
};

TEST_F(RequestAuthenticatorTest, ApiKeysAndAccessTokensBothAuthenticate) {
  RequestAuthenticator auth(api_keys_.get(), &verifier_);
  ASSERT_OK_AND_ASSIGN(Principal by_key, auth.Authenticate(key_, std::nullopt, std::nullopt));
  EXPECT_EQ(by_key.tenant_id, tenant_);
  EXPECT_EQ(by_key.role, Role::kMember);
  ASSERT_OK_AND_ASSIGN(Principal by_bearer_key,
                       auth.Authenticate(std::nullopt, "Bearer " + key_, std::nullopt));
  EXPECT_EQ(by_bearer_key, by_key);

  ASSERT_OK_AND_ASSIGN(Principal by_jwt,
                       auth.Authenticate(std::nullopt, "bearer " + Jwt(Role::kAdmin), std::nullopt));
  EXPECT_EQ(by_jwt.tenant_id, tenant_);
  EXPECT_EQ(by_jwt.role, Role::kAdmin);
  EXPECT_EQ(by_jwt.subject, "user:user-7");
  EXPECT_EQ(by_jwt.key_id, "");
}

TEST_F(RequestAuthenticatorTest, BadOrUnsupportedCredentialsAreUnauthenticated) {
  RequestAuthenticator keys_only(api_keys_.get(), nullptr);
  EXPECT_THAT(keys_only.Authenticate(std::nullopt, "Bearer " + Jwt(Role::kOwner), std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("unsupported bearer token")));

  RequestAuthenticator auth(api_keys_.get(), &verifier_);
  std::string tampered = Jwt(Role::kMember);
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'x' ? 'y' : 'x';
  EXPECT_THAT(auth.Authenticate(std::nullopt, "Bearer " + tampered, std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("invalid token")));
  EXPECT_THAT(auth.Authenticate(std::nullopt, "Basic dXNlcjpwYXNz", std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("scheme")));
  EXPECT_THAT(auth.Authenticate(std::nullopt, std::nullopt, std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("missing credentials")));
  const std::string expired = Jwt(Role::kMember);
  clock_.Advance(absl::Minutes(16));
  EXPECT_THAT(auth.Authenticate(std::nullopt, "Bearer " + expired, std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("expired")));
}

}  // namespace
}  // namespace alerthub
