#include "alerthub/adapters/postgres/postgres_store_auth.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/postgres/internal/connection.h"
#include "alerthub/common/status.h"
#include "alerthub/ports/refresh_rotation.h"

namespace alerthub::postgres_internal {

namespace {

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

absl::Status NoToken() { return absl::NotFoundError("no such refresh token"); }

// Selected by ReadToken, in this order, then "user exists".
constexpr char kTokenColumns[] =
    "token_hash, family_id, tenant_id, user_id, issued_at, expires_at, used_at, revoked_at";

RefreshToken TokenFromRow(const Result& r, int row) {
  RefreshToken t;
  t.token_hash = std::string(r.Text(row, 0));
  t.family_id = std::string(r.Text(row, 1));
  t.tenant_id = std::string(r.Text(row, 2));
  t.user_id = std::string(r.Text(row, 3));
  t.issued_at = r.Time(row, 4);
  t.expires_at = r.Time(row, 5);
  t.used_at = r.OptTime(row, 6);
  t.revoked_at = r.OptTime(row, 7);
  return t;
}

// The token with `hash` and whether its user exists; nullopt when there is
// none. `for_update` locks the row until the transaction ends, so two
// rotations of one token serialize (the second sees it used).
absl::StatusOr<std::optional<std::pair<RefreshToken, bool>>> ReadToken(Connection& c,
                                                                       absl::string_view hash,
                                                                       bool for_update) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Result r, c.Query(absl::StrCat("SELECT ", kTokenColumns,
                                     ", EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id "
                                     "AND u.tenant_id = t.tenant_id) "
                                     "FROM refresh_tokens t WHERE token_hash = $1",
                                     for_update ? " FOR UPDATE OF t" : ""),
                        Params().Text(hash)));
  if (r.rows() == 0) return std::optional<std::pair<RefreshToken, bool>>();
  return std::optional<std::pair<RefreshToken, bool>>(
      std::make_pair(TokenFromRow(r, 0), r.Bool(0, 8)));
}

// Inserts `t` when its user is the tenant's; kNotFound otherwise.
absl::Status InsertToken(Connection& c, const RefreshToken& t) {
  ALERTHUB_ASSIGN_OR_RETURN(
      Result r,
      c.Query(absl::StrCat("INSERT INTO refresh_tokens (", kTokenColumns,
                           ") SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, "
                           "$6::bigint, NULL::bigint, NULL::bigint WHERE EXISTS "
                           "(SELECT 1 FROM users WHERE id = $4::text AND tenant_id = $3::text)"),
              Params()
                  .Text(t.token_hash)
                  .Text(t.family_id)
                  .Text(t.tenant_id)
                  .Text(t.user_id)
                  .Int(Micros(t.issued_at))
                  .Int(Micros(t.expires_at))));
  if (r.Affected() == 0) return absl::NotFoundError(absl::StrCat("no user \"", t.user_id, "\""));
  return absl::OkStatus();
}

absl::Status RevokeFamily(Connection& c, absl::string_view family_id, absl::Time at) {
  return c
      .Query("UPDATE refresh_tokens SET revoked_at = $2 "
             "WHERE family_id = $1 AND revoked_at IS NULL",
             Params().Text(family_id).Int(Micros(at)))
      .status();
}

// The row is locked (ReadToken for_update), so it is still unused.
absl::Status MarkUsed(Connection& c, absl::string_view token_hash, absl::Time at) {
  return c
      .Query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1",
             Params().Text(token_hash).Int(Micros(at)))
      .status();
}

}  // namespace

absl::Status PostgresAuthTables::SetUserPassword(absl::string_view tenant_id,
                                                 absl::string_view user_id,
                                                 absl::string_view password_hash,
                                                 absl::Time at) {
  if (password_hash.empty()) return absl::InvalidArgumentError("empty password hash");
  return db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("UPDATE users SET password_hash = $3 WHERE id = $1 AND tenant_id = $2",
                          Params().Text(user_id).Text(tenant_id).Text(password_hash)));
    if (r.Affected() == 0) return absl::NotFoundError(absl::StrCat("no user \"", user_id, "\""));
    // The user's sessions end with the old password.
    return c
        .Query("UPDATE refresh_tokens SET revoked_at = $3 "
               "WHERE user_id = $1 AND tenant_id = $2 AND revoked_at IS NULL",
               Params().Text(user_id).Text(tenant_id).Int(Micros(at)))
        .status();
  });
}

absl::StatusOr<LoginRecord> PostgresAuthTables::FindLoginUser(absl::string_view tenant_id,
                                                              absl::string_view email) {
  std::optional<LoginRecord> found;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    found.reset();
    // The users_email index is on (tenant_id, lower(email)).
    ALERTHUB_ASSIGN_OR_RETURN(
        Result r, c.Query("SELECT doc, password_hash FROM users "
                          "WHERE tenant_id = $1 AND lower(email) = lower($2)",
                          Params().Text(tenant_id).Text(email)));
    if (r.rows() == 0) return absl::OkStatus();
    LoginRecord rec;
    ALERTHUB_ASSIGN_OR_RETURN(rec.user, user_from_doc_(r.Text(0, 0)));
    if (!r.IsNull(0, 1)) rec.password_hash = std::string(r.Text(0, 1));
    found = std::move(rec);
    return absl::OkStatus();
  }));
  if (!found.has_value()) return absl::NotFoundError("no user with that e-mail address");
  return *std::move(found);
}

absl::Status PostgresAuthTables::CreateRefreshToken(const RefreshToken& token) {
  absl::Status s = db_->Write([&](Connection& c) { return InsertToken(c, token); });
  if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError("refresh token hash taken");
  return s;
}

absl::StatusOr<RefreshRotation> PostgresAuthTables::RotateRefreshToken(
    absl::string_view presented_hash, absl::string_view successor_hash,
    absl::Time successor_expires_at, absl::Time now) {
  absl::StatusOr<RefreshRotation> out = NoToken();
  absl::Status s = db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(auto found, ReadToken(c, presented_hash, /*for_update=*/true));
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

absl::StatusOr<RefreshToken> PostgresAuthTables::RevokeRefreshFamily(absl::string_view token_hash,
                                                                     absl::Time at) {
  absl::StatusOr<RefreshToken> out = NoToken();
  ALERTHUB_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    ALERTHUB_ASSIGN_OR_RETURN(auto found, ReadToken(c, token_hash, /*for_update=*/true));
    if (!found.has_value()) return NoToken();
    out = RevokeRefreshFamilyWith(std::move(found->first), at,
                                  [&](absl::string_view family_id, absl::Time when) {
                                    return RevokeFamily(c, family_id, when);
                                  });
    return out.status();
  }));
  return out;
}

absl::StatusOr<RefreshToken> PostgresAuthTables::FindRefreshToken(absl::string_view token_hash) {
  std::optional<RefreshToken> out;
  ALERTHUB_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    out.reset();
    ALERTHUB_ASSIGN_OR_RETURN(auto found, ReadToken(c, token_hash, /*for_update=*/false));
    if (found.has_value()) out = found->first;
    return absl::OkStatus();
  }));
  if (!out.has_value()) return NoToken();
  return *std::move(out);
}

}  // namespace alerthub::postgres_internal
