#include "alerthub/auth/password.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace alerthub {
namespace {

constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

// libsodium must be initialised once before use; sodium_init is idempotent
// and thread-safe, -1 only when no entropy source exists.
bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password) {
  if (password.size() < PasswordLimits::kMinLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "password: must be at least ", PasswordLimits::kMinLength, " characters"));
  }
  if (password.size() > PasswordLimits::kMaxLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "password: must be at most ", PasswordLimits::kMaxLength, " characters"));
  }
  if (!SodiumReady()) return absl::InternalError("libsodium could not be initialised");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("password hashing ran out of memory");
  }
  return std::string(out);
}

absl::Status VerifyPassword(absl::string_view stored, absl::string_view password) {
  static const absl::Status kMismatch = absl::UnauthenticatedError("wrong e-mail or password");
  if (!SodiumReady()) return absl::InternalError("libsodium could not be initialised");
  if (!absl::StartsWith(stored, "$argon2id$") || stored.size() >= crypto_pwhash_STRBYTES ||
      password.size() > PasswordLimits::kMaxLength) {
    return kMismatch;
  }
  const std::string terminated(stored);  // libsodium wants a C string
  if (crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) != 0) {
    return kMismatch;
  }
  return absl::OkStatus();
}

bool PasswordNeedsRehash(absl::string_view stored) {
  if (!SodiumReady()) return false;
  const std::string terminated(stored);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), kOpsLimit, kMemLimit) != 0;
}

}  // namespace alerthub
