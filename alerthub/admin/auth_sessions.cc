#include "alerthub/admin/auth_sessions.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "alerthub/auth/password.h"
#include "alerthub/auth/rbac.h"
#include "alerthub/common/crypto.h"
#include "alerthub/common/log.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/ports/audit.h"

namespace alerthub {
namespace {

constexpr char kBadLogin[] = "invalid e-mail or password";
constexpr char kBadRefresh[] = "invalid refresh token";

// The stored form of a refresh token.
std::string RefreshTokenHash(absl::string_view token) { return HexEncode(Sha256(token)); }

std::string NewRefreshToken() {
  return absl::StrCat(AuthSessions::kRefreshTokenPrefix, HexEncode(RandomBytes(32)));
}

absl::Status PasswordFieldError(absl::string_view password) {
  if (password.size() < PasswordLimits::kMinLength) {
    return InvalidArgumentWithFields(
        "invalid password",
        {{"password", absl::StrCat("must be at least ", PasswordLimits::kMinLength, " characters")}});
  }
  if (password.size() > PasswordLimits::kMaxLength) {
    return InvalidArgumentWithFields(
        "invalid password",
        {{"password", absl::StrCat("must be at most ", PasswordLimits::kMaxLength, " bytes")}});
  }
  return absl::OkStatus();
}

bool IsSelf(const Principal& who, absl::string_view user_id) {
  return who.subject == absl::StrCat("user:", user_id);
}

// Kv keys of the failed-login buckets. The account's is a digest, so the Kv
// holds no e-mail address.
constexpr absl::string_view kAccountKeyPrefix = "rl:login:a:";
constexpr absl::string_view kAddressKeyPrefix = "rl:login:ip:";

bool LimitOn(const TokenBucketSpec& spec) { return spec.burst > 0 && spec.rate_per_second > 0; }

}  // namespace

std::string AuthSessions::ClientAddress(absl::string_view peer) {
  std::string p = absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5b", "["}, {"%5D", "]"}, {"%5d", "]"}});
  absl::string_view v = p;
  if (!absl::ConsumePrefix(&v, "ipv4:")) absl::ConsumePrefix(&v, "ipv6:");
  if (absl::StartsWith(v, "[")) {  // [v6]:port
    const size_t close = v.find(']');
    if (close != absl::string_view::npos) return std::string(v.substr(1, close - 1));
    return std::string(v);
  }
  // v4:port; a bare IPv6 address (two or more colons) has no port to drop.
  const size_t colon = v.rfind(':');
  if (colon != absl::string_view::npos && v.find(':') == colon) {
    return std::string(v.substr(0, colon));
  }
  return std::string(v);
}

absl::Status AuthSessions::TakeLoginTokens(std::vector<LimitKey>& keys) const {
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<TokenBucketDecision> d = options_.kv->TakeTokens(keys[i].key, *keys[i].spec, 1);
    if (d.ok() && d->allowed) continue;
    // All or none: give back what this attempt took.
    for (size_t j = 0; j < i; ++j) (void)options_.kv->TakeTokens(keys[j].key, *keys[j].spec, -1);
    if (!d.ok()) {
      if (!options_.login_limits.fail_open) {
        return absl::UnavailableError(
            absl::StrCat("login limits unavailable: ", d.status().message()));
      }
      Log(LogLevel::kWarning, "login limits unavailable; attempt not limited",
          {{"error", d.status().ToString()}});
      keys.clear();
      return absl::OkStatus();
    }
    RateLimitInfo info;
    info.limit = static_cast<int64_t>(keys[i].spec->burst);
    info.remaining = 0;
    info.retry_after = d->retry_after;
    info.reset_after = d->reset_after;
    return RateLimitedError(absl::StrCat("too many failed logins ", keys[i].what,
                                         "; try again later"),
                            info);
  }
  return absl::OkStatus();
}

void AuthSessions::ReturnLoginTokens(const std::vector<LimitKey>& keys) const {
  for (const LimitKey& k : keys) (void)options_.kv->TakeTokens(k.key, *k.spec, -1);
}

AuthSessions::AuthSessions(Store* store, const JwtSigner* signer, Clock* clock,
                           AuthSessionsOptions options)
    : store_(store), signer_(signer), clock_(clock), options_(std::move(options)) {}

absl::Status AuthSessions::CheckSigner() const {
  if (signer_ != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "this daemon cannot issue access tokens: it has no JWT signing key "
      "(start it with --jwt_signing_key_file)");
}

absl::Status AuthSessions::FailLogin(absl::string_view password) const {
  absl::call_once(dummy_once_, [this] {
    absl::StatusOr<std::string> dummy = HashPassword(HexEncode(RandomBytes(16)));
    if (dummy.ok()) dummy_hash_ = *std::move(dummy);
  });
  verifications_.fetch_add(1, std::memory_order_relaxed);
  (void)VerifyPassword(dummy_hash_, password);
  return absl::UnauthenticatedError(kBadLogin);
}

absl::StatusOr<AuthSessions::Tokens> AuthSessions::Issue(const User& user,
                                                         std::string refresh_token) const {
  AccessClaims claims;
  claims.subject = user.id;
  claims.tenant_id = user.tenant_id;
  claims.role = user.role;
  ALERTHUB_ASSIGN_OR_RETURN(std::string access,
                            signer_->Sign(claims, {.issuer = options_.issuer,
                                                   .audience = options_.audience,
                                                   .ttl = options_.access_ttl,
                                                   .now = clock_->Now()}));
  return Tokens{std::move(access), std::move(refresh_token), options_.access_ttl};
}

absl::StatusOr<AuthSessions::Tokens> AuthSessions::Login(absl::string_view tenant,
                                                         absl::string_view email,
                                                         absl::string_view password,
                                                         absl::string_view client_address) {
  std::vector<FieldError> errors;
  if (email.empty()) errors.push_back({"email", "is required"});
  if (password.empty()) errors.push_back({"password", "is required"});
  if (password.size() > PasswordLimits::kMaxLength) {
    errors.push_back(
        {"password", absl::StrCat("must be at most ", PasswordLimits::kMaxLength, " bytes")});
  }
  if (!errors.empty()) return InvalidArgumentWithFields("invalid login", std::move(errors));
  ALERTHUB_RETURN_IF_ERROR(CheckSigner());

  const std::string tenant_name(tenant.empty() ? options_.default_tenant : tenant);
  absl::StatusOr<Tenant> t = store_->GetTenantByName(tenant_name);
  if (!t.ok() && !absl::IsNotFound(t.status())) return t.status();

  // The limits, before any password is checked.
  std::vector<LimitKey> limits;
  if (options_.kv != nullptr) {
    const LoginLimitOptions& o = options_.login_limits;
    if (LimitOn(o.per_account)) {
      // An unknown tenant's accounts are keyed by the name asked for.
      const std::string tenant_key =
          t.ok() ? t->id : absl::StrCat("name:", absl::AsciiStrToLower(tenant_name));
      const std::string account = absl::StrCat(tenant_key, "\n", absl::AsciiStrToLower(email));
      limits.push_back({absl::StrCat(kAccountKeyPrefix, HexEncode(Sha256(account))),
                        &o.per_account, "for this account"});
    }
    const std::string address = ClientAddress(client_address);
    if (LimitOn(o.per_address) && !address.empty()) {
      limits.push_back({absl::StrCat(kAddressKeyPrefix, address), &o.per_address,
                        "from this address"});
    }
  }
  if (!limits.empty()) ALERTHUB_RETURN_IF_ERROR(TakeLoginTokens(limits));
  absl::StatusOr<Tokens> tokens = VerifyLogin(t, email, password);
  // Only bad credentials count; a success or a store outage gives the tokens back.
  if (!absl::IsUnauthenticated(tokens.status())) ReturnLoginTokens(limits);
  return tokens;
}

absl::StatusOr<AuthSessions::Tokens> AuthSessions::VerifyLogin(const absl::StatusOr<Tenant>& t,
                                                               absl::string_view email,
                                                               absl::string_view password) {
  if (!t.ok()) return FailLogin(password);
  absl::StatusOr<LoginRecord> found = store_->FindLoginUser(t->id, email);
  if (absl::IsNotFound(found.status())) return FailLogin(password);
  if (!found.ok()) return found.status();
  if (found->password_hash.empty()) return FailLogin(password);
  verifications_.fetch_add(1, std::memory_order_relaxed);
  if (!VerifyPassword(found->password_hash, password).ok()) {
    return absl::UnauthenticatedError(kBadLogin);
  }

  const absl::Time now = clock_->Now();
  std::string refresh = NewRefreshToken();
  ALERTHUB_RETURN_IF_ERROR(store_->CreateRefreshToken(
      RefreshToken{.token_hash = RefreshTokenHash(refresh),
                   .family_id = NewUuidV7(now),
                   .tenant_id = found->user.tenant_id,
                   .user_id = found->user.id,
                   .issued_at = now,
                   .expires_at = now + options_.refresh_ttl,
                   .used_at = std::nullopt,
                   .revoked_at = std::nullopt}));
  return Issue(found->user, std::move(refresh));
}

absl::StatusOr<AuthSessions::Tokens> AuthSessions::Refresh(absl::string_view refresh_token) {
  if (refresh_token.empty()) {
    return InvalidArgumentWithFields("invalid refresh", {{"refresh_token", "is required"}});
  }
  ALERTHUB_RETURN_IF_ERROR(CheckSigner());
  const absl::Time now = clock_->Now();
  std::string successor = NewRefreshToken();
  absl::StatusOr<RefreshRotation> r = store_->RotateRefreshToken(
      RefreshTokenHash(refresh_token), RefreshTokenHash(successor), now + options_.refresh_ttl,
      now);
  if (absl::IsNotFound(r.status())) return absl::UnauthenticatedError(kBadRefresh);
  if (!r.ok()) return r.status();
  switch (r->result) {
    case RefreshRotation::Result::kRotated:
      break;
    case RefreshRotation::Result::kReused:
      Log(LogLevel::kWarning, "refresh token reused; session revoked",
          {{"tenant_id", r->presented.tenant_id},
           {"user_id", r->presented.user_id},
           {"family_id", r->presented.family_id}});
      return absl::UnauthenticatedError(kBadRefresh);
    case RefreshRotation::Result::kRevoked:
    case RefreshRotation::Result::kExpired:
      return absl::UnauthenticatedError(kBadRefresh);
  }
  // The role as it is now, not as it was at login.
  absl::StatusOr<User> user = store_->GetUser(r->successor.tenant_id, r->successor.user_id);
  if (absl::IsNotFound(user.status())) {
    ALERTHUB_RETURN_IF_ERROR(
        store_->RevokeRefreshFamily(r->successor.token_hash, now).status());
    return absl::UnauthenticatedError(kBadRefresh);
  }
  if (!user.ok()) return user.status();
  return Issue(*user, std::move(successor));
}

absl::Status AuthSessions::Logout(absl::string_view refresh_token) {
  if (refresh_token.empty()) {
    return InvalidArgumentWithFields("invalid logout", {{"refresh_token", "is required"}});
  }
  absl::Status s =
      store_->RevokeRefreshFamily(RefreshTokenHash(refresh_token), clock_->Now()).status();
  if (absl::IsNotFound(s)) return absl::OkStatus();
  return s;
}

absl::Status AuthSessions::CheckNewPassword(const Principal& who, Role role,
                                            absl::string_view password) {
  ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kManageUsers));
  ALERTHUB_RETURN_IF_ERROR(PasswordFieldError(password));
  return AuthorizeGrant(who, role);
}

absl::Status AuthSessions::CheckNewUserPassword(const Principal& who,
                                                const nlohmann::json& user_request,
                                                absl::string_view password) {
  absl::StatusOr<User> user = UserFromRequestJson(user_request);
  absl::Status s = CheckNewPassword(who, user.ok() ? user->role : Role::kViewer, password);
  if (user.ok() || !absl::IsInvalidArgument(s)) return s;
  std::vector<FieldError> errors = FieldErrorsOf(user.status());
  for (FieldError& e : FieldErrorsOf(s)) errors.push_back(std::move(e));
  return InvalidArgumentWithFields("invalid user", std::move(errors));
}

absl::Status AuthSessions::SetPassword(const Principal& who, absl::string_view user_id,
                                       absl::string_view password) {
  const bool self = IsSelf(who, user_id);
  if (!self) ALERTHUB_RETURN_IF_ERROR(Authorize(who, Permission::kManageUsers));
  ALERTHUB_RETURN_IF_ERROR(PasswordFieldError(password));
  ALERTHUB_ASSIGN_OR_RETURN(User user, store_->GetUser(who.tenant_id, user_id));
  if (!self) ALERTHUB_RETURN_IF_ERROR(AuthorizeGrant(who, user.role));
  ALERTHUB_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  // Its own record, in the password's transaction (nested in the request's
  // user.create or user.update, when there is one).
  AuditScope audit(store_, clock_, AuditActorOf(who), "user.set_password", user_id);
  return audit.Finish(store_->SetUserPassword(who.tenant_id, user_id, hash, clock_->Now()));
}

}  // namespace alerthub
