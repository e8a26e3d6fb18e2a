#include "alerthub/auth/api_keys.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/auth/principal.h"
#include "alerthub/common/uuid.h"
#include "alerthub/ports/store_wrapper.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::absl::StatusCode;

MATCHER_P(IsOkAndHolds, expected, "is OK and holds " + ::testing::PrintToString(expected)) {
  if (!arg.ok()) {
    *result_listener << "whose status is " << arg.status();
    return false;
  }
  return *arg == expected;
}

constexpr absl::string_view kAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// --- Format ------------------------------------------------------------------

TEST(GenerateApiKeyTest, TokenAndRecordHaveTheDocumentedShape) {
  const absl::Time now = absl::FromUnixMillis(1'800'000'000'123);
  NewApiKey key = GenerateApiKey("tenant-1", "ci", Role::kAdmin, now);

  EXPECT_EQ(key.plaintext.size(), 42u);
  EXPECT_TRUE(absl::StartsWith(key.plaintext, "ahk_"));
  for (char c : key.plaintext.substr(4)) {
    EXPECT_NE(kAlphabet.find(c), absl::string_view::npos) << c;
  }
  EXPECT_OK(CheckApiKeyFormat(key.plaintext));

  EXPECT_TRUE(IsUuid(key.record.id));
  EXPECT_EQ(UuidV7Time(key.record.id), now);
  EXPECT_EQ(key.record.tenant_id, "tenant-1");
  EXPECT_EQ(key.record.name, "ci");
  EXPECT_EQ(key.record.prefix, key.plaintext.substr(0, 12));
  EXPECT_EQ(key.record.key_hash, HashApiKey(key.plaintext));
  EXPECT_EQ(key.record.role, Role::kAdmin);
  EXPECT_EQ(key.record.created_at, now);
  EXPECT_EQ(key.record.revoked_at, std::nullopt);
}

TEST(HashApiKeyTest, IsLowercaseHexSha256OfTheWholeToken) {
  // sha256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(HashApiKey("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CheckApiKeyFormatTest, ChecksumIsZlibCrc32InBase62) {
  // Computed independently with Python:
  //   zlib.crc32(b"ahk_0123456789abcdefghijklmnopqrstuv") = 0xaeb6afd2,
  //   which is "3CN38k" in 6 big-endian base62 digits (0-9A-Za-z).
  EXPECT_OK(CheckApiKeyFormat("ahk_0123456789abcdefghijklmnopqrstuv3CN38k"));
  EXPECT_OK(CheckApiKeyFormat("ahk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2GQ4q7"));
}

TEST(CheckApiKeyFormatTest, EveryOneCharacterChangeIsCaught) {
  const std::string token = GenerateApiKey("t", "k", Role::kMember, absl::Now()).plaintext;
  int checked = 0;
  for (size_t i = 4; i < token.size(); ++i) {
    for (char c : kAlphabet) {
      if (c == token[i]) continue;
      std::string typo = token;
      typo[i] = c;
      EXPECT_THAT(CheckApiKeyFormat(typo),
                  StatusIs(StatusCode::kUnauthenticated, "API key checksum mismatch"))
          << "position " << i;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 38 * 61);
}

TEST(CheckApiKeyFormatTest, TransposedNeighboursAreCaught) {
  const std::string token = GenerateApiKey("t", "k", Role::kMember, absl::Now()).plaintext;
  for (size_t i = 4; i + 1 < token.size(); ++i) {
    if (token[i] == token[i + 1]) continue;
    std::string swapped = token;
    std::swap(swapped[i], swapped[i + 1]);
    EXPECT_THAT(CheckApiKeyFormat(swapped),
                StatusIs(StatusCode::kUnauthenticated, "API key checksum mismatch"))
        << "position " << i;
  }
}

TEST(CheckApiKeyFormatTest, MalformedTokensAreRejectedWithoutEchoingThem) {
  const std::string good = "ahk_0123456789abcdefghijklmnopqrstuv3CN38k";
  const std::vector<std::string> malformed = {
      "",
      "ahk_",
      good.substr(0, 41),                              // truncated
      good + "x",                                      // too long
      good + "\n",                                     // pasted with a newline
      "ghp_0123456789abcdefghijklmnopqrstuv3CN38k",    // another vendor's token
      "AHK_0123456789abcdefghijklmnopqrstuv3CN38k",    // prefix is case-sensitive
      "ahk-0123456789abcdefghijklmnopqrstuv3CN38k",
      "ahk_0123456789abcdefghijklmnopqrstu-3CN38k",    // not base62
      "ahk_0123456789abcdefghijklmnopqrst\xc3\xa9" "3CN38k",
  };
  for (const std::string& token : malformed) {
    EXPECT_THAT(CheckApiKeyFormat(token),
                StatusIs(StatusCode::kUnauthenticated, "malformed API key"))
        << absl::CEscape(token);
  }
}

TEST(GenerateApiKeyTest, KeysAndIdsAreUnique) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  absl::flat_hash_set<std::string> tokens, hashes, prefixes;
  std::string previous_id;
  for (int i = 0; i < 2000; ++i) {
    NewApiKey key = GenerateApiKey("t", "k", Role::kMember, now);
    EXPECT_TRUE(tokens.insert(key.plaintext).second);
    EXPECT_TRUE(hashes.insert(key.record.key_hash).second);
    prefixes.insert(key.record.prefix);
    EXPECT_GT(key.record.id, previous_id);
    previous_id = key.record.id;
  }
  // 8 random characters (~47 bits) in the display prefix: 2000 keys collide
  // with probability ~1e-8.
  EXPECT_EQ(prefixes.size(), 2000u);
}

TEST(GenerateApiKeyTest, RandomCharactersAreUniform) {
  // 4000 keys give 128000 random characters, 2064.5 expected per character
  // (standard deviation 45). Plain `byte % 62` would give the first eight
  // characters 2500 each; the bounds are six standard deviations wide.
  absl::flat_hash_map<char, int> counts;
  for (int i = 0; i < 4000; ++i) {
    std::string token = GenerateApiKey("t", "k", Role::kMember, absl::Now()).plaintext;
    for (char c : token.substr(4, 32)) ++counts[c];
  }
  ASSERT_EQ(counts.size(), 62u);
  for (char c : kAlphabet) {
    EXPECT_GT(counts[c], 1794) << c;
    EXPECT_LT(counts[c], 2335) << c;
  }
}

// --- Extraction --------------------------------------------------------------

constexpr absl::string_view kToken = "ahk_0123456789abcdefghijklmnopqrstuv3CN38k";

TEST(ExtractApiKeyTest, FromXApiKeyHeader) {
  EXPECT_THAT(ExtractApiKey(std::string(kToken), std::nullopt, std::nullopt),
              IsOkAndHolds(std::string(kToken)));
  EXPECT_EQ(*ExtractApiKey(absl::StrCat(" ", kToken, "\t"), std::nullopt, std::nullopt),
            kToken);
}

TEST(ExtractApiKeyTest, FromBearerAuthorizationWithAnyCaseScheme) {
  for (absl::string_view scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    EXPECT_EQ(*ExtractApiKey(std::nullopt, absl::StrCat(scheme, " ", kToken), std::nullopt),
              kToken)
        << scheme;
  }
  EXPECT_EQ(*ExtractApiKey(std::nullopt, absl::StrCat("Bearer   ", kToken, " "), std::nullopt),
            kToken);
}

TEST(ExtractApiKeyTest, FromQueryParameter) {
  EXPECT_EQ(*ExtractApiKey(std::nullopt, std::nullopt, std::string(kToken)), kToken);
}

TEST(ExtractApiKeyTest, HeaderThenAuthorizationThenQuery) {
  const std::string a = "ahk_a", b = "ahk_b", c = "ahk_c";
  EXPECT_EQ(*ExtractApiKey(a, "Bearer " + b, c), a);
  EXPECT_EQ(*ExtractApiKey(std::nullopt, "Bearer " + b, c), b);
  // Empty values count as absent.
  EXPECT_EQ(*ExtractApiKey("", " ", c), c);
}

TEST(ExtractApiKeyTest, NothingPresentIsMissingCredentials) {
  EXPECT_THAT(ExtractApiKey(std::nullopt, std::nullopt, std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, "missing credentials"));
  EXPECT_THAT(ExtractApiKey("", "  ", ""),
              StatusIs(StatusCode::kUnauthenticated, "missing credentials"));
}

TEST(ExtractApiKeyTest, OtherSchemesAreUnsupported) {
  EXPECT_THAT(ExtractApiKey(std::nullopt, "Basic dXNlcjpwYXNz", std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, "unsupported authorization scheme"));
  EXPECT_THAT(ExtractApiKey(std::nullopt, absl::StrCat("Token ", kToken), std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, "unsupported authorization scheme"));
  // A bare token without a scheme.
  EXPECT_THAT(ExtractApiKey(std::nullopt, std::string(kToken), std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, "unsupported authorization scheme"));
}

TEST(ExtractApiKeyTest, BearerWithoutTokenIsMalformed) {
  EXPECT_THAT(ExtractApiKey(std::nullopt, "Bearer", std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, "malformed authorization header"));
  EXPECT_THAT(ExtractApiKey(std::nullopt, "Bearer   ", std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, "malformed authorization header"));
}

TEST(ExtractApiKeyTest, NonApiKeyBearerTokensAreNotYetSupported) {
  EXPECT_THAT(ExtractApiKey(std::nullopt, "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", std::nullopt),
              StatusIs(StatusCode::kUnauthenticated, "unsupported bearer token"));
}

TEST(ExtractApiKeyTest, AFailingAuthorizationHeaderIsNotRescuedByTheQuery) {
  EXPECT_THAT(ExtractApiKey(std::nullopt, "Basic dXNlcjpwYXNz", std::string(kToken)),
              StatusIs(StatusCode::kUnauthenticated, "unsupported authorization scheme"));
}

// --- Authentication against the SQLite store -----------------------------------

// Counts FindApiKeyByHash calls and can fail them, or run a one-shot hook
// after the read, before the result is returned.
class CountingStore : public StoreWrapper {
 public:
  using StoreWrapper::StoreWrapper;

  absl::StatusOr<ApiKey> FindApiKeyByHash(absl::string_view h) override {
    ++lookups;
    if (!fail_with.ok()) return fail_with;
    absl::StatusOr<ApiKey> result = StoreWrapper::FindApiKeyByHash(h);
    if (during_lookup) {
      std::function<void()> hook = std::exchange(during_lookup, nullptr);
      hook();
    }
    return result;
  }

  int lookups = 0;
  absl::Status fail_with;
  std::function<void()> during_lookup;
};

class ApiKeyAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        OpenSqliteStore({.path = ":memory:", .clock = &clock_});
    ASSERT_OK(store);
    sqlite_ = *std::move(store);
    counting_ = std::make_unique<CountingStore>(sqlite_.get());
    tenant_.id = NewUuidV7(clock_.Now());
    tenant_.name = "acme";
    tenant_.created_at = clock_.Now();
    ASSERT_OK(sqlite_->CreateTenant(tenant_));
  }

  // A key of tenant_ saved in the store.
  NewApiKey AddKey(Role role = Role::kMember) {
    NewApiKey key = GenerateApiKey(tenant_.id, "ci", role, clock_.Now());
    EXPECT_OK(sqlite_->CreateApiKey(key.record));
    return key;
  }

  Principal PrincipalOf(const NewApiKey& key) {
    return Principal{.tenant_id = tenant_.id,
                     .key_id = key.record.id,
                     .role = key.record.role,
                     .subject = "apikey:" + key.record.id};
  }

  SimulatedClock clock_;
  std::unique_ptr<SqliteStore> sqlite_;
  std::unique_ptr<CountingStore> counting_;
  Tenant tenant_;
};

TEST_F(ApiKeyAuthenticatorTest, ValidKeyYieldsItsPrincipal) {
  NewApiKey key = AddKey(Role::kAdmin);
  ApiKeyAuthenticator auth(sqlite_.get(), {.clock = &clock_});
  ASSERT_OK_AND_ASSIGN(Principal who, auth.Authenticate(key.plaintext));
  EXPECT_EQ(who, PrincipalOf(key));
  EXPECT_EQ(who.subject, absl::StrCat("apikey:", key.record.id));
  EXPECT_EQ(who.role, Role::kAdmin);
}

TEST_F(ApiKeyAuthenticatorTest, ExtractedCredentialAuthenticates) {
  NewApiKey key = AddKey();
  ApiKeyAuthenticator auth(sqlite_.get(), {.clock = &clock_});
  ASSERT_OK_AND_ASSIGN(std::string token,
                       ExtractApiKey(std::nullopt, "bearer " + key.plaintext, std::nullopt));
  EXPECT_THAT(auth.Authenticate(token), IsOkAndHolds(PrincipalOf(key)));
}

TEST_F(ApiKeyAuthenticatorTest, UnknownKeyIsInvalid) {
  AddKey();
  NewApiKey never_stored = GenerateApiKey(tenant_.id, "x", Role::kOwner, clock_.Now());
  ApiKeyAuthenticator auth(counting_.get(), {.clock = &clock_});
  EXPECT_THAT(auth.Authenticate(never_stored.plaintext),
              StatusIs(StatusCode::kUnauthenticated, "invalid API key"));
  EXPECT_THAT(auth.Authenticate(never_stored.plaintext),
              StatusIs(StatusCode::kUnauthenticated, "invalid API key"));
  EXPECT_EQ(counting_->lookups, 2);  // failures are not cached
}

TEST_F(ApiKeyAuthenticatorTest, MalformedTokenNeverReachesTheStore) {
  NewApiKey key = AddKey();
  std::string typo = key.plaintext;
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  ApiKeyAuthenticator auth(counting_.get(), {.clock = &clock_});
  EXPECT_THAT(auth.Authenticate(typo),
              StatusIs(StatusCode::kUnauthenticated, "API key checksum mismatch"));
  EXPECT_THAT(auth.Authenticate("ahk_short"),
              StatusIs(StatusCode::kUnauthenticated, "malformed API key"));
  EXPECT_EQ(counting_->lookups, 0);
}

TEST_F(ApiKeyAuthenticatorTest, StoreKeepsTheHashNotThePlaintext) {
  NewApiKey key = AddKey();
  ASSERT_OK_AND_ASSIGN(std::vector<ApiKey> keys, sqlite_->ListApiKeys(tenant_.id));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].key_hash, HashApiKey(key.plaintext));
  EXPECT_EQ(keys[0].prefix, key.plaintext.substr(0, 12));
  EXPECT_EQ(keys[0].id, key.record.id);
  // Looking the token itself up as a hash finds nothing.
  EXPECT_THAT(sqlite_->FindApiKeyByHash(key.plaintext), StatusIs(StatusCode::kNotFound));
}

TEST_F(ApiKeyAuthenticatorTest, DatabaseFileNeverContainsThePlaintext) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string path = absl::StrCat(tmp, "/keys.db");
  NewApiKey key = GenerateApiKey(tenant_.id, "ci", Role::kMember, clock_.Now());
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> file_store,
                         OpenSqliteStore({.path = path, .clock = &clock_}));
    ASSERT_OK(file_store->CreateTenant(tenant_));
    ASSERT_OK(file_store->CreateApiKey(key.record));
  }
  std::string bytes;
  for (const std::string& f : {path, path + "-wal"}) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    bytes += contents.str();
  }
  EXPECT_TRUE(absl::StrContains(bytes, key.record.key_hash));
  EXPECT_TRUE(absl::StrContains(bytes, key.record.prefix));
  // The random part after the display prefix appears nowhere.
  EXPECT_FALSE(absl::StrContains(bytes, key.plaintext.substr(12)));
}

TEST_F(ApiKeyAuthenticatorTest, SuccessesAreCachedForTheTtl) {
  NewApiKey key = AddKey();
  ApiKeyAuthenticator auth(counting_.get(),
                           {.cache_ttl = absl::Seconds(5), .clock = &clock_});
  ASSERT_OK(auth.Authenticate(key.plaintext));
  clock_.Advance(absl::Seconds(5) - absl::Milliseconds(1));
  EXPECT_THAT(auth.Authenticate(key.plaintext), IsOkAndHolds(PrincipalOf(key)));
  EXPECT_EQ(counting_->lookups, 1);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_THAT(auth.Authenticate(key.plaintext), IsOkAndHolds(PrincipalOf(key)));
  EXPECT_EQ(counting_->lookups, 2);
}

TEST_F(ApiKeyAuthenticatorTest, RevokedKeyIsRejectedAtOnceAfterInvalidate) {
  NewApiKey key = AddKey();
  ApiKeyAuthenticator auth(sqlite_.get(), {.clock = &clock_});
  ASSERT_OK(auth.Authenticate(key.plaintext));  // now cached
  ASSERT_OK(sqlite_->RevokeApiKey(tenant_.id, key.record.id, clock_.Now()));
  auth.Invalidate(key.record.key_hash);
  EXPECT_THAT(auth.Authenticate(key.plaintext),
              StatusIs(StatusCode::kUnauthenticated, "API key revoked"));
  EXPECT_EQ(auth.CacheSizeForTest(), 0u);
}

TEST_F(ApiKeyAuthenticatorTest, RevocationElsewhereTakesEffectWithinTheTtl) {
  // `other` is another process: it is not told about the revocation.
  NewApiKey key = AddKey();
  ApiKeyAuthenticator other(sqlite_.get(), {.cache_ttl = absl::Seconds(5), .clock = &clock_});
  ASSERT_OK(other.Authenticate(key.plaintext));
  ASSERT_OK(sqlite_->RevokeApiKey(tenant_.id, key.record.id, clock_.Now()));

  clock_.Advance(absl::Seconds(4));
  EXPECT_OK(other.Authenticate(key.plaintext));  // still cached
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(other.Authenticate(key.plaintext),
              StatusIs(StatusCode::kUnauthenticated, "API key revoked"));
}

TEST_F(ApiKeyAuthenticatorTest, RevokedKeyIsNotCached) {
  NewApiKey key = AddKey();
  ASSERT_OK(sqlite_->RevokeApiKey(tenant_.id, key.record.id, clock_.Now()));
  ApiKeyAuthenticator auth(counting_.get(), {.clock = &clock_});
  for (int i = 0; i < 2; ++i) {
    EXPECT_THAT(auth.Authenticate(key.plaintext),
                StatusIs(StatusCode::kUnauthenticated, "API key revoked"));
  }
  EXPECT_EQ(counting_->lookups, 2);
}

TEST_F(ApiKeyAuthenticatorTest, InvalidateDuringALookupKeepsItsResultOutOfTheCache) {
  NewApiKey key = AddKey();
  ApiKeyAuthenticator auth(counting_.get(), {.clock = &clock_});
  // The key is revoked and invalidated after the lookup read it as valid.
  counting_->during_lookup = [&] {
    ASSERT_OK(sqlite_->RevokeApiKey(tenant_.id, key.record.id, clock_.Now()));
    auth.Invalidate(key.record.key_hash);
  };
  EXPECT_OK(auth.Authenticate(key.plaintext));  // raced with the revocation
  EXPECT_EQ(auth.CacheSizeForTest(), 0u);
  EXPECT_THAT(auth.Authenticate(key.plaintext),
              StatusIs(StatusCode::kUnauthenticated, "API key revoked"));
}

TEST_F(ApiKeyAuthenticatorTest, StoreFailuresAreNotReportedAsBadCredentials) {
  NewApiKey key = AddKey();
  counting_->fail_with = absl::UnavailableError("database is locked");
  ApiKeyAuthenticator auth(counting_.get(), {.clock = &clock_});
  EXPECT_THAT(auth.Authenticate(key.plaintext),
              StatusIs(StatusCode::kUnavailable, "database is locked"));
  counting_->fail_with = absl::OkStatus();
  EXPECT_THAT(auth.Authenticate(key.plaintext), IsOkAndHolds(PrincipalOf(key)));
}

TEST_F(ApiKeyAuthenticatorTest, CacheIsBounded) {
  std::vector<NewApiKey> keys = {AddKey(), AddKey(), AddKey()};
  ApiKeyAuthenticator auth(counting_.get(), {.cache_capacity = 2, .clock = &clock_});
  for (const NewApiKey& key : keys) {
    EXPECT_THAT(auth.Authenticate(key.plaintext), IsOkAndHolds(PrincipalOf(key)));
  }
  EXPECT_EQ(auth.CacheSizeForTest(), 2u);
  EXPECT_EQ(counting_->lookups, 3);
  // An evicted key still authenticates, through the store.
  for (const NewApiKey& key : keys) ASSERT_OK(auth.Authenticate(key.plaintext));
  EXPECT_GE(counting_->lookups, 4);
  EXPECT_EQ(auth.CacheSizeForTest(), 2u);
}

TEST_F(ApiKeyAuthenticatorTest, ZeroTtlDisablesTheCache) {
  NewApiKey key = AddKey();
  ApiKeyAuthenticator auth(counting_.get(),
                           {.cache_ttl = absl::ZeroDuration(), .clock = &clock_});
  for (int i = 0; i < 3; ++i) ASSERT_OK(auth.Authenticate(key.plaintext));
  EXPECT_EQ(counting_->lookups, 3);
  EXPECT_EQ(auth.CacheSizeForTest(), 0u);
}

}  // namespace
}  // namespace alerthub
