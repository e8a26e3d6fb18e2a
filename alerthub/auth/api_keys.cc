#include "alerthub/auth/api_keys.h"

#include <array>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/crypto.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"

namespace alerthub {
namespace {

constexpr absl::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr size_t kRandomLength = 32;
constexpr size_t kChecksumLength = 6;
static_assert(kApiKeyTokenPrefix.size() + kRandomLength + kChecksumLength ==
              kApiKeyTokenLength);

// CRC-32/ISO-HDLC (reflected polynomial 0xEDB88320), the one zlib, PNG and
// Python's zlib.crc32 compute, so other implementations can check tokens.
constexpr std::array<uint32_t, 256> MakeCrc32Table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrc32Table = MakeCrc32Table();

uint32_t Crc32(absl::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) {
    c = kCrc32Table[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  }
  return c ^ 0xFFFFFFFFu;
}

// `value` as exactly kChecksumLength base62 digits, most significant first
// (62^6 > 2^32, so every CRC fits).
std::string EncodeChecksum(uint32_t value) {
  std::string out(kChecksumLength, kBase62[0]);
  for (size_t i = kChecksumLength; i > 0; --i) {
    out[i - 1] = kBase62[value % 62];
    value /= 62;
  }
  return out;
}

bool IsBase62(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// `n` uniformly distributed base62 characters. Bytes >= 248 (= 4 * 62) are
// rejected so that `byte % 62` is unbiased.
std::string RandomBase62(size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    for (char b : RandomBytes(n - out.size() + 8)) {
      unsigned char u = static_cast<unsigned char>(b);
      if (u >= 248) continue;
      out.push_back(kBase62[u % 62]);
      if (out.size() == n) break;
    }
  }
  return out;
}

absl::Status Unauthenticated(absl::string_view message) {
  return absl::UnauthenticatedError(message);
}

}  // namespace

NewApiKey GenerateApiKey(absl::string_view tenant_id, absl::string_view name, Role role,
                         absl::Time now) {
  std::string body = absl::StrCat(kApiKeyTokenPrefix, RandomBase62(kRandomLength));
  NewApiKey key;
  key.plaintext = absl::StrCat(body, EncodeChecksum(Crc32(body)));
  key.record.id = NewUuidV7(now);
  key.record.tenant_id = std::string(tenant_id);
  key.record.name = std::string(name);
  key.record.prefix = key.plaintext.substr(0, kApiKeyDisplayPrefixLength);
  key.record.key_hash = HashApiKey(key.plaintext);
  key.record.role = role;
  key.record.created_at = now;
  return key;
}

absl::Status CheckApiKeyFormat(absl::string_view token) {
  if (token.size() != kApiKeyTokenLength || !absl::StartsWith(token, kApiKeyTokenPrefix)) {
    return Unauthenticated("malformed API key");
  }
  absl::string_view rest = token.substr(kApiKeyTokenPrefix.size());
  for (char c : rest) {
    if (!IsBase62(c)) return Unauthenticated("malformed API key");
  }
  absl::string_view body = token.substr(0, kApiKeyTokenLength - kChecksumLength);
  if (EncodeChecksum(Crc32(body)) != token.substr(body.size())) {
    return Unauthenticated("API key checksum mismatch");
  }
  return absl::OkStatus();
}

std::string HashApiKey(absl::string_view token) { return HexEncode(Sha256(token)); }

absl::StatusOr<Credential> ExtractCredential(std::optional<std::string> x_api_key_header,
                                             std::optional<std::string> authorization_header,
                                             std::optional<std::string> api_key_query) {
  if (x_api_key_header.has_value()) {
    absl::string_view value = absl::StripAsciiWhitespace(*x_api_key_header);
    if (!value.empty()) return Credential{Credential::Kind::kApiKey, std::string(value)};
  }
  if (authorization_header.has_value()) {
    absl::string_view value = absl::StripAsciiWhitespace(*authorization_header);
    if (!value.empty()) {
      // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP token68 ], the scheme
      // case-insensitive.
      size_t space = value.find_first_of(" \t");
      absl::string_view scheme = value.substr(0, space);
      absl::string_view credential =
          space == absl::string_view::npos
              ? absl::string_view()
              : absl::StripLeadingAsciiWhitespace(value.substr(space));
      if (!absl::EqualsIgnoreCase(scheme, "Bearer")) {
        return Unauthenticated("unsupported authorization scheme");
      }
      if (credential.empty()) return Unauthenticated("malformed authorization header");
      const Credential::Kind kind = absl::StartsWith(credential, kApiKeyTokenPrefix)
                                        ? Credential::Kind::kApiKey
                                        : Credential::Kind::kAccessToken;
      return Credential{kind, std::string(credential)};
    }
  }
  if (api_key_query.has_value()) {
    absl::string_view value = absl::StripAsciiWhitespace(*api_key_query);
    if (!value.empty()) return Credential{Credential::Kind::kApiKey, std::string(value)};
  }
  return Unauthenticated("missing credentials");
}

absl::StatusOr<std::string> ExtractApiKey(std::optional<std::string> x_api_key_header,
                                          std::optional<std::string> authorization_header,
                                          std::optional<std::string> api_key_query) {
  ALERTHUB_ASSIGN_OR_RETURN(Credential c,
                            ExtractCredential(std::move(x_api_key_header),
                                              std::move(authorization_header),
                                              std::move(api_key_query)));
  if (c.kind != Credential::Kind::kApiKey) return Unauthenticated("unsupported bearer token");
  return std::move(c.token);
}

ApiKeyAuthenticator::ApiKeyAuthenticator(Store* store, ApiKeyAuthenticatorOptions options)
    : store_(store),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()),
      cache_ttl_(options.cache_ttl),
      cache_capacity_(options.cache_capacity) {}

absl::StatusOr<Principal> ApiKeyAuthenticator::Authenticate(absl::string_view token) {
  if (absl::Status s = CheckApiKeyFormat(token); !s.ok()) return s;
  std::string hash = HashApiKey(token);
  const bool caching = cache_ttl_ > absl::ZeroDuration() && cache_capacity_ > 0;

  uint64_t invalidations_before = 0;
  if (caching) {
    absl::Time now = clock_->Now();
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end()) {
      if (now < it->second.expires_at) return it->second.principal;
      cache_.erase(it);
    }
    invalidations_before = invalidations_;
  }

  absl::StatusOr<ApiKey> key = store_->FindApiKeyByHash(hash);
  if (!key.ok()) {
    if (absl::IsNotFound(key.status())) return Unauthenticated("invalid API key");
    return key.status();
  }
  if (key->revoked_at.has_value()) return Unauthenticated("API key revoked");

  Principal principal;
  principal.tenant_id = key->tenant_id;
  principal.key_id = key->id;
  principal.role = key->role;
  principal.subject = absl::StrCat("apikey:", key->id);

  if (caching) {
    absl::Time expires_at = clock_->Now() + cache_ttl_;
    absl::MutexLock lock(&mu_);
    if (invalidations_ == invalidations_before) {
      if (cache_.size() >= cache_capacity_ && !cache_.contains(hash)) {
        cache_.erase(cache_.begin());
      }
      cache_.insert_or_assign(std::move(hash), CacheEntry{principal, expires_at});
    }
  }
  return principal;
}

void ApiKeyAuthenticator::Invalidate(absl::string_view key_hash) {
  absl::MutexLock lock(&mu_);
  cache_.erase(key_hash);
  ++invalidations_;
}

size_t ApiKeyAuthenticator::CacheSizeForTest() const {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

}  // namespace alerthub
