#include "alerthub/auth/jwt_keys.h"

#include <cstdlib>
#include <string>

#include "alerthub/common/files.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

AccessClaims Claims() {
  AccessClaims c;
  c.subject = "u1";
  c.tenant_id = "t1";
  c.role = Role::kAdmin;
  return c;
}

TEST(JwtKeysTest, FirstStartCreatesAKeyLaterStartsReuseIt) {
  SimulatedClock clock;
  JwtKeyFiles files;
  files.signing_key_file = TempPath("jwt-signing-key.pem");
  files.create_signing_key = true;
  ASSERT_OK_AND_ASSIGN(JwtKeys first, LoadJwtKeys(files, &clock));
  ASSERT_NE(first.signer, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string token,
                       first.signer->Sign(Claims(), {.issuer = "alerthub", .audience = "alerthub-api",
                                                     .ttl = absl::Minutes(15), .now = clock.Now()}));
  // A restart (or another daemon given the same file) verifies it: same kid.
  ASSERT_OK_AND_ASSIGN(JwtKeys second, LoadJwtKeys(files, &clock));
  EXPECT_EQ(second.signer->key_id(), first.signer->key_id());
  ASSERT_OK_AND_ASSIGN(AccessClaims c, second.verifier->Verify(token));
  EXPECT_EQ(c.role, Role::kAdmin);

  // A verify-only daemon given the public key (or the private one).
  ASSERT_OK_AND_ASSIGN(std::string public_pem, first.signer->PublicKeyPem());
  ASSERT_OK(WritePrivateFile(TempPath("jwt.pub"), public_pem));
  JwtKeyFiles verify_only;
  verify_only.verification_key_files = {TempPath("jwt.pub"), files.signing_key_file};
  ASSERT_OK_AND_ASSIGN(JwtKeys router, LoadJwtKeys(verify_only, &clock));
  EXPECT_EQ(router.signer, nullptr);
  EXPECT_OK(router.verifier->Verify(token).status());
}

TEST(JwtKeysTest, NothingConfiguredMeansNoTokensAndBadFilesAreNamed) {
  ASSERT_OK_AND_ASSIGN(JwtKeys none, LoadJwtKeys({}, nullptr));
  EXPECT_EQ(none.verifier, nullptr);

  JwtKeyFiles missing;
  missing.signing_key_file = TempPath("absent.pem");
  EXPECT_THAT(LoadJwtKeys(missing, nullptr), StatusIs(StatusCode::kNotFound, HasSubstr("absent.pem")));
  ASSERT_OK(WritePrivateFile(TempPath("junk.pem"), "junk"));
  JwtKeyFiles junk;
  junk.verification_key_files = {TempPath("junk.pem")};
  EXPECT_THAT(LoadJwtKeys(junk, nullptr),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("junk.pem")));
}

}  // namespace
}  // namespace alerthub
