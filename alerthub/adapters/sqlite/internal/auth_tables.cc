#include "alerthub/adapters/sqlite/internal/auth_tables.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/internal/connection.h"
#include "alerthub/adapters/sqlite/internal/table_util.h"
#include "alerthub/common/status.h"
#include "alerthub/model/user.h"
#include "alerthub/ports/refresh_rotation.h"

namespace alerthub::sqlite_internal {

// Timestamps are integer microseconds since the Unix epoch, as elsewhere.
const char kAuthSessionsMigrationSql[] = R"sql(
-- The Argon2id string of the user's password (never the password); NULL
-- until one is set. It goes with the user's row.
ALTER TABLE users ADD COLUMN password_hash TEXT;

-- Refresh tokens, by the lowercase hex SHA-256 of the opaque token (never
-- the token). A family is one login session: each rotation marks the
-- presented token used and inserts its successor.
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY NOT NULL,
  family_id  TEXT NOT NULL,
  tenant_id  TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,                   -- NULL until rotated
  revoked_at INTEGER                    -- NULL until the family is revoked
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
)sql";

namespace {

constexpr char kTokenColumns[] =
    "token_hash, family_id, tenant_id, user_id, issued_at, expires_at, used_at, revoked_at";

absl::Status NoToken() { return absl::NotFoundError("no such refresh token"); }

std::optional<absl::Time> OptionalTime(const Statement& st, int index) {
  if (st.ColumnIsNull(index)) return std::nullopt;
  return FromMicros(st.ColumnInt64(index));
}

// The row of `st` read with kTokenColumns first.
RefreshToken TokenFromRow(const Statement& st) {
  RefreshToken t;
  t.token_hash = std::string(st.ColumnText(0));
  t.family_id = std::string(st.ColumnText(1));
  t.tenant_id = std::string(st.ColumnText(2));
  t.user_id = std::string(st.ColumnText(3));
  t.issued_at = FromMicros(st.ColumnInt64(4));
  t.expires_at = FromMicros(st.ColumnInt64(5));
  t.used_at = OptionalTime(st, 6);
  t.revoked_at = OptionalTime(st, 7);
  return t;
}

// The token with `hash` and whether its user still exists, read on `c`;
// nullopt when there is none.
absl::StatusOr<std::optional<std::pair<RefreshToken, bool>>> ReadToken(Connection& c,
                                                                       absl::string_view hash) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare(absl::StrCat("SELECT ", kTokenColumns,
                             ", EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id "
                             "AND u.tenant_id = t.tenant_id) "
                             "FROM refresh_tokens t WHERE token_hash = ?1")));
  st.BindText(1, hash);
  ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<std::pair<RefreshToken, bool>>();
  return std::optional<std::pair<RefreshToken, bool>>(
      std::make_pair(TokenFromRow(st), st.ColumnInt64(8) != 0));
}

// Inserts `t` when its user is the tenant's; kNotFound otherwise.
absl::Status InsertToken(Connection& c, const RefreshToken& t) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare(absl::StrCat("INSERT INTO refresh_tokens (", kTokenColumns,
                             ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL WHERE EXISTS "
                             "(SELECT 1 FROM users WHERE id = ?4 AND tenant_id = ?3)")));
  st.BindText(1, t.token_hash);
  st.BindText(2, t.family_id);
  st.BindText(3, t.tenant_id);
  st.BindText(4, t.user_id);
  st.BindInt64(5, Micros(t.issued_at));
  st.BindInt64(6, Micros(t.expires_at));
  ALERTHUB_RETURN_IF_ERROR(st.Run());
  if (st.Changes() == 0) return absl::NotFoundError(absl::StrCat("no user \"", t.user_id, "\""));
  return absl::OkStatus();
}

// Revokes every unrevoked token of `family_id` at `at`.
absl::Status RevokeFamily(Connection& c, absl::string_view family_id, absl::Time at) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("UPDATE refresh_tokens SET revoked_at = ?2 "
                              "WHERE family_id = ?1 AND revoked_at IS NULL"));
  st.BindText(1, family_id);
  st.BindInt64(2, Micros(at));
  return st.Run();
}

absl::Status MarkUsed(Connection& c, absl::string_view token_hash, absl::Time at) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("UPDATE refresh_tokens SET used_at = ?2 "
                              "WHERE token_hash = ?1 AND used_at IS NULL"));
  st.BindText(1, token_hash);
  st.BindInt64(2, Micros(at));
  ALERTHUB_RETURN_IF_ERROR(st.Run());
  if (st.Changes() != 1) return absl::AbortedError("refresh token rotated concurrently");
  return absl::OkStatus();
}

}  // namespace

absl::Status AuthTables::SetUserPassword(absl::string_view tenant_id, absl::string_view user_id,
                                         absl::string_view password_hash, absl::Time at) {
  if (password_hash.empty()) return absl::InvalidArgumentError("empty password hash");
  return db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("UPDATE users SET password_hash = ?3 "
                                "WHERE id = ?1 AND tenant_id = ?2"));
    st.BindText(1, user_id);
    st.BindText(2, tenant_id);
    st.BindText(3, password_hash);
    ALERTHUB_RETURN_IF_ERROR(st.Run());
    if (st.Changes() == 0) {
      return absl::NotFoundError(absl::StrCat("no user \"", user_id, "\""));
    }
    // The user's sessions end with the old password.
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement revoke, c.Prepare("UPDATE refresh_tokens SET revoked_at = ?3 "
                                    "WHERE user_id = ?1 AND tenant_id = ?2 "
                                    "AND revoked_at IS NULL"));
    revoke.BindText(1, user_id);
    revoke.BindText(2, tenant_id);
    revoke.BindInt64(3, Micros(at));
    return revoke.Run();
  });
}

absl::StatusOr<LoginRecord> AuthTables::FindLoginUser(absl::string_view tenant_id,
                                                      absl::string_view email) {
  std::optional<LoginRecord> found;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    // The users_email index is (tenant_id, email COLLATE NOCASE).
    ALERTHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT doc, password_hash FROM users "
                                "WHERE tenant_id = ?1 AND email = ?2 COLLATE NOCASE"));
    st.BindText(1, tenant_id);
    st.BindText(2, email);
    ALERTHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return absl::OkStatus();
    LoginRecord r;
    ALERTHUB_ASSIGN_OR_RETURN(r.user, DecodeJsonColumn(st.ColumnText(0), "users.doc",
                                                       UserFromJson));
    if (!st.ColumnIsNull(1)) r.password_hash = std::string(st.ColumnText(1));
    found = std::move(r);
    return absl::OkStatus();
  }));
  if (!found.has_value()) return absl::NotFoundError("no user with that e-mail address");
  return *std::move(found);
}

absl::Status AuthTables::CreateRefreshToken(const RefreshToken& token) {
  absl::Status s = db_->Write([&](Connection& c) { return InsertToken(c, token); });
  if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError("refresh token hash taken");
  return s;
}

absl::StatusOr<RefreshRotation> AuthTables::RotateRefreshToken(
    absl::string_view presented_hash, absl::string_view successor_hash,
    absl::Time successor_expires_at, absl::Time now) {
  absl::StatusOr<RefreshRotation> out = NoToken();
  absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
    // One writer: nothing interleaves between this read and the writes.
    ALERTHUB_ASSIGN_OR_RETURN(auto found, ReadToken(c, presented_hash));
    if (!found.has_value()) return NoToken();
    out = RotateRefreshTokenWith(
        std::move(found->first), found->second, successor_hash, successor_expires_at, now,
        {.revoke_family = [&](absl::string_view family_id,
                              absl::Time at) { return RevokeFamily(c, family_id, at); },
         .mark_used = [&](absl::string_view hash, absl::Time at) { return MarkUsed(c, hash, at); },
         .insert = [&](const RefreshToken& t) { return InsertToken(c, t); }});
    return out.status();
  });
  if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError("refresh token hash taken");
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<RefreshToken> AuthTables::RevokeRefreshFamily(absl::string_view token_hash,
                                                             absl::Time at) {
  absl::StatusOr<RefreshToken> out = NoToken();
  ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(auto found, ReadToken(c, token_hash));
    if (!found.has_value()) return NoToken();
    out = RevokeRefreshFamilyWith(std::move(found->first), at,
                                  [&](absl::string_view family_id, absl::Time when) {
                                    return RevokeFamily(c, family_id, when);
                                  });
    return out.status();
  }));
  return out;
}

absl::StatusOr<RefreshToken> AuthTables::FindRefreshToken(absl::string_view token_hash) {
  std::optional<RefreshToken> out;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(auto found, ReadToken(c, token_hash));
    if (found.has_value()) out = found->first;
    return absl::OkStatus();
  }));
  if (!out.has_value()) return NoToken();
  return *std::move(out);
}

}  // namespace alerthub::sqlite_internal
