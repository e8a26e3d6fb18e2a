#include "alerthub/admin/auth_sessions.h"

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/auth/jwt.h"
#include "alerthub/auth/password.h"
#include "alerthub/common/crypto.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/sqlite_fixture.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/unavailable_kv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kPassword[] = "correct horse battery staple";

// One RSA key for the whole suite: generating one takes a while.
const std::string& PrivatePem() {
  static const std::string* pem = [] {
    absl::StatusOr<std::string> p = GenerateRsaPrivateKeyPem(2048);
    EXPECT_TRUE(p.ok()) << p.status();
    return new std::string(p.ok() ? *p : "");
  }();
  return *pem;
}

class AuthSessionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(signer_, JwtSigner::FromPem(PrivatePem(), "kid-1"));
    ASSERT_OK_AND_ASSIGN(std::string public_pem, signer_->PublicKeyPem());
    verifier_ = std::make_unique<JwtVerifier>(
        JwtVerifierOptions{.issuer = "alerthub", .audience = "alerthub-api", .clock = &clock_});
    ASSERT_OK(verifier_->AddKey("kid-1", public_pem));
    sessions_ = std::make_unique<AuthSessions>(db_.store(), signer_.get(), &clock_,
                                               AuthSessionsOptions{});
    ada_ = AddUser("Ada@Example.com", Role::kAdmin);
    ASSERT_OK(sessions_->SetPassword(Owner(), ada_.id, kPassword));
  }

  User AddUser(const std::string& email, Role role, const std::string& tenant = "") {
    User u;
    u.id = NewUuidV7(clock_.Now());
    u.tenant_id = tenant.empty() ? db_.tenant_id() : tenant;
    u.email = email;
    u.role = role;
    u.created_at = clock_.Now();
    EXPECT_OK(db_.store()->CreateUser(u));
    return u;
  }

  Principal Owner() const {
    return Principal{.tenant_id = db_.tenant_id(), .key_id = "k", .role = Role::kOwner,
                     .subject = "apikey:k", .platform_operator = false};
  }

  AuthSessions::Tokens LoginAda() {
    absl::StatusOr<AuthSessions::Tokens> t = sessions_->Login("acme", "ada@example.com", kPassword);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : AuthSessions::Tokens{};
  }

  SimulatedClock clock_;
  ::alerthub::testing::SqliteFixture db_{&clock_};
  std::unique_ptr<JwtSigner> signer_;
  std::unique_ptr<JwtVerifier> verifier_;
  std::unique_ptr<AuthSessions> sessions_;
  User ada_;
};

TEST_F(AuthSessionsTest, LoginIssuesAnAccessTokenWithEveryClaimAndARefreshToken) {
  const absl::Time now = clock_.Now();
  AuthSessions::Tokens t = LoginAda();
  EXPECT_EQ(t.expires_in, absl::Minutes(15));
  EXPECT_THAT(t.refresh_token, StartsWith("ahr_"));
  EXPECT_THAT(t.refresh_token, SizeIs(4 + 64));
  ASSERT_OK_AND_ASSIGN(AccessClaims c, verifier_->Verify(t.access_token));
  EXPECT_EQ(c.subject, ada_.id);
  EXPECT_EQ(c.tenant_id, db_.tenant_id());
  EXPECT_EQ(c.role, Role::kAdmin);
  EXPECT_EQ(c.key_id, "kid-1");
  EXPECT_FALSE(c.token_id.empty());
  EXPECT_EQ(absl::ToUnixSeconds(c.issued_at), absl::ToUnixSeconds(now));
  EXPECT_EQ(absl::ToUnixSeconds(c.not_before), absl::ToUnixSeconds(now));
  EXPECT_EQ(absl::ToUnixSeconds(c.expires_at), absl::ToUnixSeconds(now + absl::Minutes(15)));

  // Only the refresh token's SHA-256 is stored.
  ASSERT_OK_AND_ASSIGN(RefreshToken stored,
                       db_.store()->FindRefreshToken(HexEncode(Sha256(t.refresh_token))));
  EXPECT_EQ(stored.user_id, ada_.id);
  EXPECT_EQ(stored.expires_at, clock_.Now() + absl::Hours(24 * 30));
}

TEST_F(AuthSessionsTest, AccessTokensExpireAfterFifteenMinutes) {
  AuthSessions::Tokens t = LoginAda();
  clock_.Advance(absl::Minutes(15) + absl::Seconds(31));  // past the verifier's leeway
  EXPECT_THAT(verifier_->Verify(t.access_token), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(AuthSessionsTest, BadCredentialsFailAlikeWhateverIsWrong) {
  AddUser("nopass@example.com", Role::kMember);
  const std::string other = db_.AddTenant("other");
  AddUser("ada@example.com", Role::kOwner, other);  // no password there
  struct Case {
    const char* tenant;
    const char* email;
    const char* password;
  } cases[] = {
      {"acme", "ada@example.com", "wrong password here"},
      {"acme", "bob@example.com", kPassword},
      {"acme", "nopass@example.com", kPassword},
      {"nosuchtenant", "ada@example.com", kPassword},
      {"other", "ada@example.com", kPassword},
      {"", "ada@example.com", kPassword},  // "default" does not exist here
  };
  for (const Case& c : cases) {
    EXPECT_THAT(sessions_->Login(c.tenant, c.email, c.password),
                StatusIs(StatusCode::kUnauthenticated, "invalid e-mail or password"))
        << c.tenant << " " << c.email;
  }
}

TEST_F(AuthSessionsTest, LoginWithoutATenantUsesTheDefaultOne) {
  const std::string def = db_.AddTenant("default");
  User u = AddUser("root@example.com", Role::kOwner, def);
  Principal owner{.tenant_id = def, .key_id = "k", .role = Role::kOwner, .subject = "apikey:k",
                  .platform_operator = true};
  ASSERT_OK(sessions_->SetPassword(owner, u.id, kPassword));
  ASSERT_OK_AND_ASSIGN(AuthSessions::Tokens t, sessions_->Login("", "ROOT@example.com", kPassword));
  ASSERT_OK_AND_ASSIGN(AccessClaims c, verifier_->Verify(t.access_token));
  EXPECT_EQ(c.tenant_id, def);
  EXPECT_EQ(c.role, Role::kOwner);
}

TEST_F(AuthSessionsTest, MissingFieldsAreNamed) {
  absl::Status s = sessions_->Login("acme", "", "").status();
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument));
  ASSERT_THAT(FieldErrorsOf(s), SizeIs(2));
  EXPECT_EQ(FieldErrorsOf(s)[0].field, "email");
  EXPECT_EQ(FieldErrorsOf(s)[1].field, "password");
  EXPECT_EQ(FieldErrorsOf(sessions_->Refresh("").status())[0].field, "refresh_token");
  EXPECT_EQ(FieldErrorsOf(sessions_->Logout(""))[0].field, "refresh_token");
}

TEST_F(AuthSessionsTest, RefreshRotatesAndReadsTheRoleAfresh) {
  AuthSessions::Tokens first = LoginAda();
  clock_.Advance(absl::Minutes(10));
  ada_.role = Role::kViewer;
  ASSERT_OK(db_.store()->UpdateUser(ada_));
  ASSERT_OK_AND_ASSIGN(AuthSessions::Tokens second, sessions_->Refresh(first.refresh_token));
  EXPECT_NE(second.refresh_token, first.refresh_token);
  ASSERT_OK_AND_ASSIGN(AccessClaims c, verifier_->Verify(second.access_token));
  EXPECT_EQ(c.role, Role::kViewer);
  EXPECT_EQ(absl::ToUnixSeconds(c.issued_at), absl::ToUnixSeconds(clock_.Now()));
  // And again.
  ASSERT_OK_AND_ASSIGN(AuthSessions::Tokens third, sessions_->Refresh(second.refresh_token));
  EXPECT_NE(third.refresh_token, second.refresh_token);
}

TEST_F(AuthSessionsTest, ReusingARefreshTokenRevokesTheSession) {
  AuthSessions::Tokens first = LoginAda();
  AuthSessions::Tokens other_session = LoginAda();
  ASSERT_OK_AND_ASSIGN(AuthSessions::Tokens second, sessions_->Refresh(first.refresh_token));
  // The old token again (a stolen copy): refused, and the session is over.
  EXPECT_THAT(sessions_->Refresh(first.refresh_token),
              StatusIs(StatusCode::kUnauthenticated, "invalid refresh token"));
  EXPECT_THAT(sessions_->Refresh(second.refresh_token),
              StatusIs(StatusCode::kUnauthenticated, "invalid refresh token"));
  // Other sessions live on.
  EXPECT_OK(sessions_->Refresh(other_session.refresh_token).status());
}

TEST_F(AuthSessionsTest, RefreshTokensExpireAfterThirtyDays) {
  AuthSessions::Tokens first = LoginAda();
  clock_.Advance(absl::Hours(24 * 30) - absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(AuthSessions::Tokens second, sessions_->Refresh(first.refresh_token));
  // Each rotation's token lives 30 days from its issue.
  clock_.Advance(absl::Hours(24 * 30));
  EXPECT_THAT(sessions_->Refresh(second.refresh_token),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(AuthSessionsTest, RefreshTtlIsConfigurable) {
  AuthSessions short_lived(db_.store(), signer_.get(), &clock_,
                           AuthSessionsOptions{.refresh_ttl = absl::Hours(1)});
  ASSERT_OK_AND_ASSIGN(AuthSessions::Tokens t,
                       short_lived.Login("acme", "ada@example.com", kPassword));
  clock_.Advance(absl::Hours(1));
  EXPECT_THAT(short_lived.Refresh(t.refresh_token), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(AuthSessionsTest, LogoutEndsTheSessionAndIsIdempotent) {
  AuthSessions::Tokens first = LoginAda();
  ASSERT_OK_AND_ASSIGN(AuthSessions::Tokens second, sessions_->Refresh(first.refresh_token));
  ASSERT_OK(sessions_->Logout(second.refresh_token));
  EXPECT_THAT(sessions_->Refresh(second.refresh_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_OK(sessions_->Logout(second.refresh_token));
  EXPECT_OK(sessions_->Logout("ahr_unknown"));
}

TEST_F(AuthSessionsTest, ChangingThePasswordEndsSessionsAndTheOldPassword) {
  AuthSessions::Tokens t = LoginAda();
  ASSERT_OK(sessions_->SetPassword(Owner(), ada_.id, "another long password"));
  EXPECT_THAT(sessions_->Refresh(t.refresh_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(sessions_->Login("acme", "ada@example.com", kPassword),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_OK(sessions_->Login("acme", "ada@example.com", "another long password").status());
  // Stored as Argon2id, never as given.
  ASSERT_OK_AND_ASSIGN(LoginRecord r, db_.store()->FindLoginUser(db_.tenant_id(), ada_.email));
  EXPECT_THAT(r.password_hash, StartsWith("$argon2id$"));
  EXPECT_THAT(r.password_hash, ::testing::Not(HasSubstr("another")));
}

TEST_F(AuthSessionsTest, SettingPasswordsFollowsTheRoleTable) {
  User owner = AddUser("owner@example.com", Role::kOwner);
  Principal admin{.tenant_id = db_.tenant_id(), .key_id = "k", .role = Role::kAdmin,
                  .subject = "apikey:k", .platform_operator = false};
  Principal member = admin;
  member.role = Role::kMember;
  EXPECT_THAT(sessions_->SetPassword(admin, owner.id, kPassword),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(sessions_->SetPassword(member, ada_.id, kPassword),
              StatusIs(StatusCode::kPermissionDenied));
  // Users set their own.
  Principal ada_self = member;
  ada_self.subject = "user:" + ada_.id;
  EXPECT_OK(sessions_->SetPassword(ada_self, ada_.id, "my own new password"));
  absl::Status short_one = sessions_->SetPassword(Owner(), ada_.id, "short");
  EXPECT_THAT(short_one, StatusIs(StatusCode::kInvalidArgument));
  ASSERT_THAT(FieldErrorsOf(short_one), SizeIs(1));
  EXPECT_EQ(FieldErrorsOf(short_one)[0].field, "password");
  EXPECT_THAT(sessions_->SetPassword(Owner(), NewUuidV7(clock_.Now()), kPassword),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(AuthSessions::CheckNewPassword(admin, Role::kOwner, kPassword),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_OK(AuthSessions::CheckNewPassword(admin, Role::kMember, kPassword));
}

TEST_F(AuthSessionsTest, WithoutASigningKeyLoginIsRefusedClearly) {
  AuthSessions verify_only(db_.store(), nullptr, &clock_, AuthSessionsOptions{});
  EXPECT_FALSE(verify_only.can_issue());
  EXPECT_THAT(verify_only.Login("acme", "ada@example.com", kPassword),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("--jwt_signing_key_file")));
  AuthSessions::Tokens t = LoginAda();
  EXPECT_THAT(verify_only.Refresh(t.refresh_token), StatusIs(StatusCode::kFailedPrecondition));
  // Nothing was consumed.
  EXPECT_OK(sessions_->Refresh(t.refresh_token).status());
}

TEST_F(AuthSessionsTest, ADeletedUserCannotRefresh) {
  AuthSessions::Tokens t = LoginAda();
  ASSERT_OK(db_.store()->DeleteUser(db_.tenant_id(), ada_.id));
  EXPECT_THAT(sessions_->Refresh(t.refresh_token), StatusIs(StatusCode::kUnauthenticated));
}


// --- Failed-login limits -------------------------------------------------------
// Small buckets (every attempt here costs an Argon2id run): 3 failures per
// account, then one more every 3 minutes; 5 per address.

class LoginLimitsTest : public AuthSessionsTest {
 protected:
  void SetUp() override {
    AuthSessionsTest::SetUp();
    limited_ = std::make_unique<AuthSessions>(
        db_.store(), signer_.get(), &clock_,
        AuthSessionsOptions{
            .login_limits = {.per_account = {.rate_per_second = 1.0 / 180, .burst = 3},
                             .per_address = {.rate_per_second = 1.0 / 180, .burst = 5}},
            .kv = kv_.get()});
  }

  absl::Status Attempt(const std::string& email, const std::string& password,
                       const std::string& peer = "10.0.0.1:40000") {
    return limited_->Login("acme", email, password, peer).status();
  }

  std::unique_ptr<Kv> kv_ = NewMemoryKv({.clock = &clock_});
  std::unique_ptr<AuthSessions> limited_;
};

TEST_F(LoginLimitsTest, FailuresPerAccountThenRefusedWithoutAPasswordCheck) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(Attempt("ada@example.com", "wrong password here"),
                StatusIs(StatusCode::kUnauthenticated, "invalid e-mail or password"))
        << i;
  }
  const int64_t checks = limited_->PasswordVerificationsForTest();
  // The right password too: the limit is checked before any Argon2id run.
  absl::Status limited = Attempt("ADA@example.com", kPassword);
  EXPECT_THAT(limited, StatusIs(StatusCode::kResourceExhausted,
                                "too many failed logins for this account; try again later"));
  std::optional<RateLimitInfo> info = RateLimitInfoOf(limited);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->limit, 3);
  EXPECT_EQ(info->remaining, 0);
  EXPECT_NEAR(absl::ToDoubleSeconds(info->retry_after), 180, 0.01);  // one failure's refill
  EXPECT_EQ(limited_->PasswordVerificationsForTest(), checks);

  // Other accounts (an unknown one here) are not limited by Ada's failures.
  EXPECT_THAT(Attempt("bob@example.com", kPassword), StatusIs(StatusCode::kUnauthenticated));

  // Refused attempts take nothing: one failure's worth of refill later Ada is in.
  clock_.Advance(absl::Seconds(178));
  EXPECT_THAT(Attempt("ada@example.com", kPassword), StatusIs(StatusCode::kResourceExhausted));
  clock_.Advance(absl::Seconds(3));
  EXPECT_OK(Attempt("ada@example.com", kPassword));
  // And a success does not count, so that token is still there for a typo.
  EXPECT_THAT(Attempt("ada@example.com", "wrong password here"),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(Attempt("ada@example.com", kPassword), StatusIs(StatusCode::kResourceExhausted));
}

TEST_F(LoginLimitsTest, SuccessfulLoginsNeverCount) {
  for (int i = 0; i < 4; ++i) EXPECT_OK(Attempt("ada@example.com", kPassword)) << i;
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(Attempt("ada@example.com", "wrong password here"),
                StatusIs(StatusCode::kUnauthenticated))
        << i;
  }
  EXPECT_THAT(Attempt("ada@example.com", kPassword), StatusIs(StatusCode::kResourceExhausted));
}

TEST_F(LoginLimitsTest, AccountsAreTenantAndCaseInsensitiveEmail) {
  const std::string other = db_.AddTenant("other");
  AddUser("ada@example.com", Role::kOwner, other);
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(Attempt(i % 2 ? "ADA@EXAMPLE.COM" : "ada@example.com", "wrong password here",
                        absl::StrCat("10.0.1.", i, ":1")),
                StatusIs(StatusCode::kUnauthenticated));
  }
  EXPECT_THAT(Attempt("Ada@Example.Com", kPassword, "10.9.9.9:1"),
              StatusIs(StatusCode::kResourceExhausted));
  // The same e-mail in another tenant is another account.
  EXPECT_THAT(limited_->Login("other", "ada@example.com", kPassword, "10.0.0.1:1").status(),
              StatusIs(StatusCode::kUnauthenticated, "invalid e-mail or password"));
}

TEST_F(LoginLimitsTest, FailuresFromOneAddressAreLimitedAcrossAccounts) {
  // Five failures on five accounts from one address (the port varies).
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(Attempt(absl::StrCat("user", i, "@example.com"), kPassword,
                        absl::StrCat("ipv4:192.0.2.7:", 5000 + i)),
                StatusIs(StatusCode::kUnauthenticated))
        << i;
  }
  absl::Status s = Attempt("ada@example.com", kPassword, "192.0.2.7:6000");
  EXPECT_THAT(s, StatusIs(StatusCode::kResourceExhausted,
                          "too many failed logins from this address; try again later"));
  EXPECT_EQ(RateLimitInfoOf(s)->limit, 5);
  // All or none: the refused attempt took nothing from Ada's own bucket, so
  // from elsewhere she still has her three tries.
  for (int i = 0; i < 2; ++i) {
    EXPECT_THAT(Attempt("ada@example.com", "wrong password here", "198.51.100.1:1"),
                StatusIs(StatusCode::kUnauthenticated));
  }
  EXPECT_OK(Attempt("ada@example.com", kPassword, "198.51.100.1:1"));
  // Without an address only the account counts.
  EXPECT_OK(limited_->Login("acme", "ada@example.com", kPassword).status());
}

TEST_F(LoginLimitsTest, MalformedRequestsAreRefusedBeforeTheLimits) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(Attempt("ada@example.com", ""), StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_OK(Attempt("ada@example.com", kPassword));
}

TEST_F(LoginLimitsTest, ALimitWithBurstZeroIsOff) {
  AuthSessions unlimited(db_.store(), signer_.get(), &clock_,
                         AuthSessionsOptions{.login_limits = {.per_account = {0, 0},
                                                              .per_address = {0, 0}},
                                             .kv = kv_.get()});
  for (int i = 0; i < 6; ++i) {
    EXPECT_THAT(unlimited.Login("acme", "ada@example.com", "wrong password here", "10.0.0.1:1")
                    .status(),
                StatusIs(StatusCode::kUnauthenticated));
  }
  EXPECT_OK(unlimited.Login("acme", "ada@example.com", kPassword, "10.0.0.1:1").status());
}

TEST_F(LoginLimitsTest, AnUnavailableKvFailsOpenOrClosedAsConfigured) {
  ::alerthub::testing::UnavailableKv down;
  AuthSessions open(db_.store(), signer_.get(), &clock_,
                    AuthSessionsOptions{.login_limits = {.fail_open = true}, .kv = &down});
  EXPECT_OK(open.Login("acme", "ada@example.com", kPassword, "10.0.0.1:1").status());
  AuthSessions closed(db_.store(), signer_.get(), &clock_,
                      AuthSessionsOptions{.login_limits = {.fail_open = false}, .kv = &down});
  EXPECT_THAT(closed.Login("acme", "ada@example.com", kPassword, "10.0.0.1:1").status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("login limits unavailable")));
}

TEST(ClientAddressTest, DropsThePortAndTheTransportPrefix) {
  EXPECT_EQ(AuthSessions::ClientAddress("10.0.0.1:5000"), "10.0.0.1");
  EXPECT_EQ(AuthSessions::ClientAddress("ipv4:10.0.0.1:5000"), "10.0.0.1");
  EXPECT_EQ(AuthSessions::ClientAddress("[::1]:5000"), "::1");
  EXPECT_EQ(AuthSessions::ClientAddress("ipv6:[2001:db8::7]:5000"), "2001:db8::7");
  EXPECT_EQ(AuthSessions::ClientAddress("ipv6:%5B::1%5D:5000"), "::1");
  EXPECT_EQ(AuthSessions::ClientAddress("2001:db8::7"), "2001:db8::7");
  EXPECT_EQ(AuthSessions::ClientAddress(""), "");
}

}  // namespace
}  // namespace alerthub
