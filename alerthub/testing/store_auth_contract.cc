// StoreContractTest cases for login sessions: password hashes and refresh
// tokens with rotation and family revocation (ports/store.h, "Auth
// sessions"). Registered with the rest of the suite.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/user.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "gmock/gmock.h"

namespace alerthub::testing {
namespace {

using ::absl::StatusCode;
using Result = RefreshRotation::Result;

// Stand-ins for what the caller computes: an Argon2id string and SHA-256
// hex digests. Stores keep them as given.
constexpr char kHash[] = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";

std::string TokenHash(int n) {
  std::string h = absl::StrCat(n);
  return std::string(64 - h.size(), 'a') + h;
}

User AddUser(Store& store, const Tenant& t, absl::Time now, absl::string_view email) {
  User u;
  u.id = NewUuidV7(now);
  u.tenant_id = t.id;
  u.email = std::string(email);
  u.role = Role::kMember;
  u.created_at = now;
  EXPECT_OK(store.CreateUser(u));
  return u;
}

RefreshToken FirstToken(const User& u, absl::Time now, int n) {
  return RefreshToken{.token_hash = TokenHash(n),
                      .family_id = NewUuidV7(now),
                      .tenant_id = u.tenant_id,
                      .user_id = u.id,
                      .issued_at = now,
                      .expires_at = now + absl::Hours(24),
                      .used_at = std::nullopt,
                      .revoked_at = std::nullopt};
}

TEST_P(StoreContractTest, LoginUserIsFoundByEmailAnyCaseWithItsPasswordHash) {
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  User u = AddUser(*store_, t, clock_.Now(), "Ada@Example.com");
  ASSERT_OK_AND_ASSIGN(LoginRecord before, store_->FindLoginUser(t.id, "ada@example.com"));
  EXPECT_EQ(before.user.id, u.id);
  EXPECT_EQ(before.password_hash, "");  // none set yet

  ASSERT_OK(store_->SetUserPassword(t.id, u.id, kHash, clock_.Now()));
  ASSERT_OK_AND_ASSIGN(LoginRecord got, store_->FindLoginUser(t.id, "ADA@EXAMPLE.COM"));
  EXPECT_EQ(got.user.id, u.id);
  EXPECT_EQ(got.user.email, "Ada@Example.com");
  EXPECT_EQ(got.user.role, Role::kMember);
  EXPECT_EQ(got.password_hash, kHash);

  EXPECT_THAT(store_->FindLoginUser(other.id, "ada@example.com"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->FindLoginUser(t.id, "bob@example.com"), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, PasswordOfAnUnknownOrAnotherTenantsUserIsNotFound) {
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  User u = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  EXPECT_THAT(store_->SetUserPassword(other.id, u.id, kHash, clock_.Now()),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->SetUserPassword(t.id, NewUuidV7(clock_.Now()), kHash, clock_.Now()),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->SetUserPassword(t.id, u.id, "", clock_.Now()),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(LoginRecord got, store_->FindLoginUser(t.id, "ada@example.com"));
  EXPECT_EQ(got.password_hash, "");
}

TEST_P(StoreContractTest, UpdatingAUserKeepsTheirPassword) {
  Tenant t = AddTenant("acme");
  User u = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  ASSERT_OK(store_->SetUserPassword(t.id, u.id, kHash, clock_.Now()));
  u.email = "ada@lovelace.org";
  u.role = Role::kAdmin;
  ASSERT_OK(store_->UpdateUser(u));
  ASSERT_OK_AND_ASSIGN(LoginRecord got, store_->FindLoginUser(t.id, "ada@lovelace.org"));
  EXPECT_EQ(got.password_hash, kHash);
  EXPECT_EQ(got.user.role, Role::kAdmin);
}

TEST_P(StoreContractTest, RefreshTokenRoundTrips) {
  Tenant t = AddTenant("acme");
  User u = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  RefreshToken first = FirstToken(u, clock_.Now(), 1);
  ASSERT_OK(store_->CreateRefreshToken(first));
  ASSERT_OK_AND_ASSIGN(RefreshToken got, store_->FindRefreshToken(first.token_hash));
  EXPECT_EQ(got, first);
  EXPECT_THAT(store_->CreateRefreshToken(first), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->FindRefreshToken(TokenHash(2)), StatusIs(StatusCode::kNotFound));

  RefreshToken ghost = FirstToken(u, clock_.Now(), 3);
  ghost.user_id = NewUuidV7(clock_.Now());
  EXPECT_THAT(store_->CreateRefreshToken(ghost), StatusIs(StatusCode::kNotFound));
  Tenant other = AddTenant("other");
  RefreshToken cross = FirstToken(u, clock_.Now(), 4);
  cross.tenant_id = other.id;
  EXPECT_THAT(store_->CreateRefreshToken(cross), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->FindRefreshToken(cross.token_hash), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, RotationConsumesTheTokenAndStoresItsSuccessor) {
  Tenant t = AddTenant("acme");
  User u = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  RefreshToken first = FirstToken(u, clock_.Now(), 1);
  ASSERT_OK(store_->CreateRefreshToken(first));
  clock_.Advance(absl::Minutes(5));
  const absl::Time now = clock_.Now();
  ASSERT_OK_AND_ASSIGN(RefreshRotation r, store_->RotateRefreshToken(
                                              first.token_hash, TokenHash(2),
                                              now + absl::Hours(24), now));
  EXPECT_EQ(r.result, Result::kRotated);
  EXPECT_EQ(r.presented.used_at, now);
  EXPECT_EQ(r.presented.revoked_at, std::nullopt);
  const RefreshToken expected{.token_hash = TokenHash(2),
                              .family_id = first.family_id,
                              .tenant_id = t.id,
                              .user_id = u.id,
                              .issued_at = now,
                              .expires_at = now + absl::Hours(24),
                      .used_at = std::nullopt,
                      .revoked_at = std::nullopt};
  EXPECT_EQ(r.successor, expected);
  ASSERT_OK_AND_ASSIGN(RefreshToken stored, store_->FindRefreshToken(TokenHash(2)));
  EXPECT_EQ(stored, expected);
  ASSERT_OK_AND_ASSIGN(RefreshToken used, store_->FindRefreshToken(first.token_hash));
  EXPECT_EQ(used.used_at, now);

  // The successor rotates in turn.
  ASSERT_OK_AND_ASSIGN(r, store_->RotateRefreshToken(TokenHash(2), TokenHash(3),
                                                     now + absl::Hours(24), now));
  EXPECT_EQ(r.result, Result::kRotated);
  EXPECT_EQ(r.successor.family_id, first.family_id);

  EXPECT_THAT(store_->RotateRefreshToken(TokenHash(9), TokenHash(10), now, now),
              StatusIs(StatusCode::kNotFound));
  // A successor hash that is taken fails and consumes nothing.
  EXPECT_THAT(store_->RotateRefreshToken(TokenHash(3), TokenHash(1), now + absl::Hours(1), now),
              StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(RefreshToken third, store_->FindRefreshToken(TokenHash(3)));
  EXPECT_EQ(third.used_at, std::nullopt);
}

TEST_P(StoreContractTest, ReusingAUsedTokenRevokesTheWholeFamily) {
  Tenant t = AddTenant("acme");
  User u = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  RefreshToken first = FirstToken(u, clock_.Now(), 1);
  RefreshToken other_session = FirstToken(u, clock_.Now(), 50);
  ASSERT_OK(store_->CreateRefreshToken(first));
  ASSERT_OK(store_->CreateRefreshToken(other_session));
  const absl::Time t0 = clock_.Now();
  ASSERT_OK_AND_ASSIGN(RefreshRotation r, store_->RotateRefreshToken(
                                              first.token_hash, TokenHash(2),
                                              t0 + absl::Hours(1), t0));
  ASSERT_EQ(r.result, Result::kRotated);

  clock_.Advance(absl::Seconds(10));
  const absl::Time t1 = clock_.Now();
  ASSERT_OK_AND_ASSIGN(r, store_->RotateRefreshToken(first.token_hash, TokenHash(3),
                                                     t1 + absl::Hours(1), t1));
  EXPECT_EQ(r.result, Result::kReused);
  EXPECT_EQ(r.presented.revoked_at, t1);
  EXPECT_THAT(store_->FindRefreshToken(TokenHash(3)), StatusIs(StatusCode::kNotFound));

  // The successor the legitimate holder (or the thief) got is dead too.
  ASSERT_OK_AND_ASSIGN(RefreshToken second, store_->FindRefreshToken(TokenHash(2)));
  EXPECT_EQ(second.revoked_at, t1);
  ASSERT_OK_AND_ASSIGN(r, store_->RotateRefreshToken(TokenHash(2), TokenHash(4),
                                                     t1 + absl::Hours(1), t1));
  EXPECT_EQ(r.result, Result::kRevoked);
  EXPECT_THAT(store_->FindRefreshToken(TokenHash(4)), StatusIs(StatusCode::kNotFound));

  // Another session of the same user is untouched.
  ASSERT_OK_AND_ASSIGN(r, store_->RotateRefreshToken(other_session.token_hash, TokenHash(51),
                                                     t1 + absl::Hours(1), t1));
  EXPECT_EQ(r.result, Result::kRotated);
}

TEST_P(StoreContractTest, AnExpiredTokenDoesNotRotate) {
  Tenant t = AddTenant("acme");
  User u = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  RefreshToken first = FirstToken(u, clock_.Now(), 1);
  ASSERT_OK(store_->CreateRefreshToken(first));
  const absl::Time late = first.expires_at;
  ASSERT_OK_AND_ASSIGN(RefreshRotation r, store_->RotateRefreshToken(
                                              first.token_hash, TokenHash(2),
                                              late + absl::Hours(1), late));
  EXPECT_EQ(r.result, Result::kExpired);
  EXPECT_EQ(r.presented, first);  // unchanged
  EXPECT_THAT(store_->FindRefreshToken(TokenHash(2)), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, RevokingAFamilyEndsEveryTokenOfIt) {
  Tenant t = AddTenant("acme");
  User u = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  RefreshToken first = FirstToken(u, clock_.Now(), 1);
  ASSERT_OK(store_->CreateRefreshToken(first));
  const absl::Time t0 = clock_.Now();
  ASSERT_OK(store_->RotateRefreshToken(first.token_hash, TokenHash(2), t0 + absl::Hours(1), t0)
                .status());
  clock_.Advance(absl::Seconds(1));
  const absl::Time t1 = clock_.Now();
  ASSERT_OK_AND_ASSIGN(RefreshToken revoked, store_->RevokeRefreshFamily(TokenHash(2), t1));
  EXPECT_EQ(revoked.token_hash, TokenHash(2));
  EXPECT_EQ(revoked.revoked_at, t1);
  ASSERT_OK_AND_ASSIGN(RefreshToken old, store_->FindRefreshToken(first.token_hash));
  EXPECT_EQ(old.revoked_at, t1);

  // Idempotent: the first time stays.
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(revoked, store_->RevokeRefreshFamily(first.token_hash, clock_.Now()));
  EXPECT_EQ(revoked.revoked_at, t1);

  ASSERT_OK_AND_ASSIGN(RefreshRotation r, store_->RotateRefreshToken(
                                              TokenHash(2), TokenHash(3),
                                              t1 + absl::Hours(1), clock_.Now()));
  EXPECT_EQ(r.result, Result::kRevoked);
  EXPECT_THAT(store_->RevokeRefreshFamily(TokenHash(9), t1), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, SettingAPasswordRevokesTheUsersSessionsOnly) {
  Tenant t = AddTenant("acme");
  User ada = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  User bob = AddUser(*store_, t, clock_.Now(), "bob@example.com");
  ASSERT_OK(store_->CreateRefreshToken(FirstToken(ada, clock_.Now(), 1)));
  ASSERT_OK(store_->CreateRefreshToken(FirstToken(bob, clock_.Now(), 2)));
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(store_->SetUserPassword(t.id, ada.id, kHash, clock_.Now()));
  ASSERT_OK_AND_ASSIGN(RefreshToken a, store_->FindRefreshToken(TokenHash(1)));
  EXPECT_EQ(a.revoked_at, clock_.Now());
  ASSERT_OK_AND_ASSIGN(RefreshToken b, store_->FindRefreshToken(TokenHash(2)));
  EXPECT_EQ(b.revoked_at, std::nullopt);
}

TEST_P(StoreContractTest, ADeletedUsersTokensNoLongerRotate) {
  Tenant t = AddTenant("acme");
  User u = AddUser(*store_, t, clock_.Now(), "ada@example.com");
  ASSERT_OK(store_->CreateRefreshToken(FirstToken(u, clock_.Now(), 1)));
  ASSERT_OK(store_->DeleteUser(t.id, u.id));
  absl::StatusOr<RefreshRotation> r = store_->RotateRefreshToken(
      TokenHash(1), TokenHash(2), clock_.Now() + absl::Hours(1), clock_.Now());
  // Gone with the user, or kept and refused.
  if (r.ok()) {
    EXPECT_EQ(r->result, Result::kRevoked);
  } else {
    EXPECT_THAT(r.status(), StatusIs(StatusCode::kNotFound));
  }
  EXPECT_THAT(store_->FindRefreshToken(TokenHash(2)), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace alerthub::testing
