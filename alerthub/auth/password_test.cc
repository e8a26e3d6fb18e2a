#include "alerthub/auth/password.h"

#include <string>

#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(PasswordTest, HashesAreArgon2idSaltedAndVerify) {
  ASSERT_OK_AND_ASSIGN(std::string a, HashPassword("correct horse battery"));
  ASSERT_OK_AND_ASSIGN(std::string b, HashPassword("correct horse battery"));
  EXPECT_THAT(a, StartsWith("$argon2id$"));
  EXPECT_NE(a, b);  // salted
  EXPECT_THAT(a, Not(HasSubstr("correct horse")));
  EXPECT_OK(VerifyPassword(a, "correct horse battery"));
  EXPECT_OK(VerifyPassword(b, "correct horse battery"));
  EXPECT_FALSE(PasswordNeedsRehash(a));
}

TEST(PasswordTest, WrongPasswordsAndForeignHashesAreUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(std::string h, HashPassword("correct horse battery"));
  for (const char* wrong : {"correct horse batterY", "", "correct horse battery "}) {
    EXPECT_THAT(VerifyPassword(h, wrong), StatusIs(StatusCode::kUnauthenticated)) << wrong;
  }
  // Plaintext, other algorithms and truncated hashes never verify.
  for (const std::string& stored :
       {std::string("correct horse battery"), std::string(""),
        std::string("$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$abc"), h.substr(0, h.size() - 4),
        std::string("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW")}) {
    EXPECT_THAT(VerifyPassword(stored, "correct horse battery"),
                StatusIs(StatusCode::kUnauthenticated))
        << stored;
  }
}

TEST(PasswordTest, LengthRulesAreNamed) {
  EXPECT_THAT(HashPassword("short"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at least 12")));
  EXPECT_THAT(HashPassword(std::string(PasswordLimits::kMaxLength + 1, 'x')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at most")));
  EXPECT_OK(HashPassword(std::string(PasswordLimits::kMinLength, 'x')).status());
}

TEST(PasswordTest, WeakerHashesNeedARehash) {
  // A hash made with the minimum cost libsodium allows.
  EXPECT_TRUE(PasswordNeedsRehash(
      "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
      "zQ0mK1fmW7EcnpiMq0ehfvFO3HQBtTRwJsoG6qjP3mE"));
}

}  // namespace
}  // namespace alerthub
