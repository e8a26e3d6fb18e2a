// User logins (AuthService: Login, Refresh, Logout), transport-free: the
// gRPC service and the REST routes /api/v1/auth/* both call it
// (ARCHITECTURE §4, Auth).
//
//   AuthSessions sessions(store, jwt_keys.signer.get(), clock, {.issuer = "alerthub"});
//   ALERTHUB_ASSIGN_OR_RETURN(AuthSessions::Tokens t,
//                             sessions.Login("default", "ada@example.com", password));
//   // t.access_token: RS256 JWT for 15 minutes; t.refresh_token: "ahr_...".
//   ALERTHUB_ASSIGN_OR_RETURN(t, sessions.Refresh(t.refresh_token));  // rotates
//
// Login names the tenant by its name ("default", the bootstrap tenant, when
// empty) and the user by e-mail (case-insensitive); the password is checked
// against the stored Argon2id hash. An unknown tenant, an unknown e-mail, a
// user without a password and a wrong password all fail the same way
// (kUnauthenticated "invalid e-mail or password") after one Argon2id
// verification each, so neither the answer nor its timing tells which.
//
// Each login starts a session: a family of refresh tokens. A refresh token
// is opaque ("ahr_" + 64 hex digits from the OS's CSPRNG), stored only as its
// SHA-256, valid for `refresh_ttl` from its issue, and single-use: Refresh
// consumes it and returns its successor with a new access token (role read
// afresh from the user). Presenting a consumed token again revokes the whole
// family — the thief's and the owner's tokens alike — and fails. Logout
// revokes the family. Setting a user's password ends all their sessions.
//
// Failed logins are rate limited (LoginLimitOptions) with token buckets on
// the Kv port, one per account (tenant + lower-cased e-mail) and one per
// client address: each attempt takes a token from both before anything is
// verified, a successful one gives them back, so only failures count. An
// attempt that finds a bucket empty fails with kResourceExhausted carrying a
// RateLimitInfo (HTTP 429 with Retry-After, gRPC RESOURCE_EXHAUSTED) at the
// cost of a store lookup, without an Argon2id run; a limited attempt takes
// nothing, so retrying does not extend the wait. Malformed requests (missing
// fields) are refused before the limits and do not count.
//
// Access tokens carry iss, aud, sub (user id), tid (tenant id), role, iat,
// nbf, exp, jti and the signing key's kid in the header. A daemon without a
// signing key refuses Login and Refresh with kFailedPrecondition.
//
// Thread-safe.
#ifndef ALERTHUB_ADMIN_AUTH_SESSIONS_H_
#define ALERTHUB_ADMIN_AUTH_SESSIONS_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/auth/jwt.h"
#include "alerthub/auth/principal.h"
#include "alerthub/model/tenant.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ports/store.h"
#include "nlohmann/json.hpp"

namespace alerthub {

// How many failed logins are allowed before further attempts are refused.
// Each limit is a token bucket: `burst` failures at once, then one more
// every 1 / rate_per_second seconds. A spec with burst <= 0 turns that limit
// off.
struct LoginLimitOptions {
  // Per account: the tenant and the lower-cased e-mail. Default: 5 failures
  // per 15 minutes.
  TokenBucketSpec per_account = {.rate_per_second = 5.0 / 900, .burst = 5};
  // Per client address (the IP without its port; behind a reverse proxy,
  // the proxy's). Default: 50 failures per 15 minutes.
  TokenBucketSpec per_address = {.rate_per_second = 50.0 / 900, .burst = 50};
  // When the Kv is unavailable: true lets the attempt through unlimited
  // (logged), false refuses it with kUnavailable.
  bool fail_open = true;
};

struct AuthSessionsOptions {
  // The `iss` and `aud` of access tokens: what the daemons' verifiers expect.
  std::string issuer = "alerthub";
  std::string audience = "alerthub-api";
  // Lifetime of an access token.
  absl::Duration access_ttl = absl::Minutes(15);
  // Lifetime of each refresh token from its issue (a rotation issues a new
  // one, so an active session lasts while it is used within this).
  absl::Duration refresh_ttl = absl::Hours(24 * 30);
  // The tenant a login that names none belongs to.
  std::string default_tenant = "default";
  // Failed-login limits, kept in `kv` (shared by every daemon on the same
  // Kv). `kv` must outlive the AuthSessions; nullptr: no limits.
  LoginLimitOptions login_limits = {};
  Kv* kv = nullptr;
};

class AuthSessions {
 public:
  // `store` and `clock` must outlive this; `signer` too, and may be null
  // (this daemon cannot issue tokens).
  AuthSessions(Store* store, const JwtSigner* signer, Clock* clock, AuthSessionsOptions options);

  struct Tokens {
    std::string access_token;   // RS256 JWT
    std::string refresh_token;  // "ahr_...": opaque, single-use
    absl::Duration expires_in;  // of the access token
  };

  // kInvalidArgument with field errors ("email", "password") for missing
  // fields; kUnauthenticated for bad credentials; kResourceExhausted with a
  // RateLimitInfo when the account or `client_address` had too many failed
  // logins; kFailedPrecondition without a signing key. `client_address` is
  // the peer as the transport gives it ("ip:port", "[v6]:port", or gRPC's
  // "ipv4:ip:port"); its port is ignored; empty: no per-address limit.
  absl::StatusOr<Tokens> Login(absl::string_view tenant, absl::string_view email,
                               absl::string_view password,
                               absl::string_view client_address = "");

  // Rotates `refresh_token`: new tokens, the presented one consumed.
  // kUnauthenticated for an unknown, expired, consumed (its family is then
  // revoked) or revoked token, or one whose user was deleted;
  // kInvalidArgument (field "refresh_token") when empty;
  // kFailedPrecondition without a signing key.
  absl::StatusOr<Tokens> Refresh(absl::string_view refresh_token);

  // Revokes the session of `refresh_token`. Like RFC 7009, a token that is
  // unknown, expired or revoked already is OK too. kInvalidArgument when
  // empty.
  absl::Status Logout(absl::string_view refresh_token);

  // Sets the password of the tenant's user `user_id` (stored as Argon2id)
  // and ends the user's sessions. Users may set their own; others need
  // Permission::kManageUsers and may not set the password of a user whose
  // role is above theirs (AuthorizeGrant). kInvalidArgument with the field
  // "password" for one outside PasswordLimits; kNotFound for an unknown
  // user.
  absl::Status SetPassword(const Principal& who, absl::string_view user_id,
                           absl::string_view password);

  // What SetPassword checks before it touches the store, for a user with
  // `role` who does not exist yet (the users API checks this before it
  // creates one with a password).
  static absl::Status CheckNewPassword(const Principal& who, Role role,
                                       absl::string_view password);

  // CheckNewPassword for the user a users-API request body describes
  // (`user_request`, as UserFromRequestJson reads it); the body's own field
  // errors join the password's in one kInvalidArgument.
  static absl::Status CheckNewUserPassword(const Principal& who,
                                           const nlohmann::json& user_request,
                                           absl::string_view password);

  // Whether Login and Refresh can issue tokens.
  bool can_issue() const { return signer_ != nullptr; }

  // Argon2id verifications Login has run (real or dummy), so tests can tell
  // that a limited attempt ran none.
  int64_t PasswordVerificationsForTest() const { return verifications_.load(); }

  // The address part of a transport's peer string: "10.0.0.1:5000",
  // "ipv4:10.0.0.1:5000" -> "10.0.0.1"; "[::1]:5000", "ipv6:[::1]:5000",
  // "ipv6:%5B::1%5D:5000" -> "::1". Anything else is returned as given.
  static std::string ClientAddress(absl::string_view peer);

  static constexpr absl::string_view kRefreshTokenPrefix = "ahr_";

 private:
  // Tokens of `user` with `refresh_token` (already stored).
  absl::StatusOr<Tokens> Issue(const User& user, std::string refresh_token) const;
  absl::Status CheckSigner() const;
  // Spends what a real verification costs, then fails like one.
  absl::Status FailLogin(absl::string_view password) const;
  // Login after the limits: finds the user of `tenant` (the lookup's result)
  // and checks the password.
  absl::StatusOr<Tokens> VerifyLogin(const absl::StatusOr<Tenant>& tenant,
                                     absl::string_view email, absl::string_view password);
  // Takes one token from each of `keys`' buckets (all or none): OK, or
  // kResourceExhausted naming the first empty one.
  // On a Kv outage with fail_open, clears `keys` (nothing was taken).
  struct LimitKey {
    std::string key;
    const TokenBucketSpec* spec;
    const char* what;  // for the message: "for this account", "from this address"
  };
  absl::Status TakeLoginTokens(std::vector<LimitKey>& keys) const;
  // Gives the tokens TakeLoginTokens took back (the attempt did not fail).
  void ReturnLoginTokens(const std::vector<LimitKey>& keys) const;

  Store* const store_;
  const JwtSigner* const signer_;
  Clock* const clock_;
  const AuthSessionsOptions options_;
  // An Argon2id hash of a random password: unknown users are checked
  // against it. Made at the first failed login (it costs what a login does).
  mutable absl::once_flag dummy_once_;
  mutable std::string dummy_hash_;
  mutable std::atomic<int64_t> verifications_{0};
};

}  // namespace alerthub

#endif  // ALERTHUB_ADMIN_AUTH_SESSIONS_H_
