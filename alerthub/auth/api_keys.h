// Tenant API keys: generation, format checks and authentication.
//
// A key is a 42-character token
//
//   ahk_ <32 random base62 characters> <6 base62 characters of checksum>
//
// where the checksum is the CRC-32 (IEEE, as zlib's crc32()) of the first 36
// characters, written as a zero-padded big-endian base62 number. As in
// GitHub's token format, the prefix makes leaked keys easy to scan for, and
// the checksum lets a typo or a truncated paste be rejected without a
// database lookup. The random part carries 32 * log2(62) ~ 190 bits.
//
// The token is shown to its creator once; the Store keeps only its lowercase
// hex SHA-256 (ApiKey::key_hash) and its first 12 characters (ApiKey::prefix,
// for display).
//
//   NewApiKey key = GenerateApiKey(tenant_id, "ci", Role::kMember, absl::Now());
//   ALERTHUB_RETURN_IF_ERROR(store->CreateApiKey(key.record));
//   // ... show key.plaintext once ...
//
//   ApiKeyAuthenticator auth(store);
//   ALERTHUB_ASSIGN_OR_RETURN(std::string token,
//                             ExtractApiKey(x_api_key, authorization, api_key_param));
//   ALERTHUB_ASSIGN_OR_RETURN(Principal who, auth.Authenticate(token));
#ifndef ALERTHUB_AUTH_API_KEYS_H_
#define ALERTHUB_AUTH_API_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/auth/principal.h"
#include "alerthub/model/tenant.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/store.h"

namespace alerthub {

// Every API key starts with this.
inline constexpr absl::string_view kApiKeyTokenPrefix = "ahk_";
// Length of a whole token: prefix, 32 random and 6 checksum characters.
inline constexpr size_t kApiKeyTokenLength = 42;
// Length of ApiKey::prefix: "ahk_" and the first 8 random characters.
inline constexpr size_t kApiKeyDisplayPrefixLength = 12;

// A freshly generated key: the token, to show once, and the record to store.
struct NewApiKey {
  std::string plaintext;
  ApiKey record;
};

// A new key for `tenant_id`. record.id is a UUIDv7 of `now`, record.prefix the
// first 12 characters of the token, record.key_hash HashApiKey(plaintext),
// record.created_at `now`, record.revoked_at unset. Randomness comes from the
// operating system's CSPRNG (aborts if none is available). Thread-safe.
NewApiKey GenerateApiKey(absl::string_view tenant_id, absl::string_view name, Role role,
                         absl::Time now);

// OK when `token` has the shape of an API key and its checksum matches.
// kUnauthenticated "malformed API key" for a wrong prefix, length or
// character, "API key checksum mismatch" for a bad checksum. The message
// never contains the token, so it may be logged and returned to clients.
// Says nothing about whether the key exists.
absl::Status CheckApiKeyFormat(absl::string_view token);

// Lowercase hex SHA-256 of the whole token: what the Store keeps and looks up.
std::string HashApiKey(absl::string_view token);

// The credential of a request: an API key, or (a Bearer token that is not
// `ahk_...`) a JWT access token for auth/jwt.h.
struct Credential {
  enum class Kind { kApiKey, kAccessToken };
  Kind kind = Kind::kApiKey;
  std::string token;
};

// The credential of a request, from (in this order of precedence) the
// `X-API-Key` header, an `Authorization: Bearer ...` header (the scheme is
// case-insensitive) or the `api_key` query parameter, which browsers'
// WebSocket clients need because they cannot set headers (query strings end
// up in access logs: prefer the headers everywhere else). Each argument is
// the raw value, std::nullopt when absent; a value that is empty or only
// whitespace counts as absent. Surrounding whitespace is removed. The token's
// format is not checked here (the authenticators do).
//
// kUnauthenticated with, and never echoing the credential:
//   "missing credentials"                 none of the three is present;
//   "unsupported authorization scheme"    Authorization is not Bearer;
//   "malformed authorization header"      "Bearer" without a token.
absl::StatusOr<Credential> ExtractCredential(std::optional<std::string> x_api_key_header,
                                             std::optional<std::string> authorization_header,
                                             std::optional<std::string> api_key_query);

// ExtractCredential() for callers that take API keys only: an access token
// is kUnauthenticated "unsupported bearer token".
absl::StatusOr<std::string> ExtractApiKey(std::optional<std::string> x_api_key_header,
                                          std::optional<std::string> authorization_header,
                                          std::optional<std::string> api_key_query);

struct ApiKeyAuthenticatorOptions {
  // How long a successful lookup is reused without asking the Store. This is
  // how long a key revoked through another process (or without Invalidate())
  // may keep working here. Zero (or negative) disables the cache.
  absl::Duration cache_ttl = absl::Seconds(5);
  // Most keys cached at once; when full, an arbitrary entry makes room.
  size_t cache_capacity = 10'000;
  // Time for cache expiry. nullptr: Clock::Real(). Must outlive the
  // authenticator.
  Clock* clock = nullptr;
};

// Verifies API keys against the Store, with a small cache of recently
// verified keys so that most requests do not query the database. Only
// successes are cached: unknown and revoked keys always reach the Store.
//
// Revocation: Invalidate() takes effect in this process at once, including
// for lookups already in flight. Other processes (and this one, when
// Invalidate() is not called) stop accepting a revoked key within
// options.cache_ttl.
//
// Thread-safe. The cache is keyed by the key's hash; plaintext tokens are
// never kept.
class ApiKeyAuthenticator {
 public:
  // `store` must outlive the authenticator.
  explicit ApiKeyAuthenticator(Store* store, ApiKeyAuthenticatorOptions options = {});

  ApiKeyAuthenticator(const ApiKeyAuthenticator&) = delete;
  ApiKeyAuthenticator& operator=(const ApiKeyAuthenticator&) = delete;

  // The principal of `token`: its key's tenant, id and role, subject
  // "apikey:<id>". kUnauthenticated as CheckApiKeyFormat() for a malformed
  // token, "invalid API key" for a well-formed key the Store does not know,
  // "API key revoked" for a revoked one. Store failures (kUnavailable, ...)
  // are returned as they are, so that an outage is not reported as a bad
  // credential.
  absl::StatusOr<Principal> Authenticate(absl::string_view token);

  // Forgets the cached verification of the key whose hash is `key_hash`
  // (ApiKey::key_hash), so its next use queries the Store. Call it after
  // Store::RevokeApiKey(). A lookup that started before this call does not
  // repopulate the cache with what it read.
  void Invalidate(absl::string_view key_hash);

  // Keys currently cached, expired or not.
  size_t CacheSizeForTest() const;

 private:
  struct CacheEntry {
    Principal principal;
    absl::Time expires_at;
  };

  Store* const store_;
  Clock* const clock_;
  const absl::Duration cache_ttl_;
  const size_t cache_capacity_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
  // Incremented by every Invalidate(); a lookup caches its result only when
  // no invalidation happened while it was querying the Store.
  uint64_t invalidations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace alerthub

#endif  // ALERTHUB_AUTH_API_KEYS_H_
