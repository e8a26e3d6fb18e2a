// Password hashing for user logins: Argon2id through libsodium
// (crypto_pwhash_str), so the stored string carries its own salt and cost.
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::string stored, HashPassword(plain));
//   absl::Status ok = VerifyPassword(stored, attempt);  // kUnauthenticated on mismatch
//
// Thread-safe. Hashing costs about 64 MiB and tens of milliseconds by design
// (libsodium's "interactive" limits); call it off latency-critical threads.
#ifndef ALERTHUB_AUTH_PASSWORD_H_
#define ALERTHUB_AUTH_PASSWORD_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace alerthub {

struct PasswordLimits {
  static constexpr size_t kMinLength = 12;   // bytes
  static constexpr size_t kMaxLength = 1024;
};

// kInvalidArgument (naming the rule) when `password` is shorter than
// kMinLength or longer than kMaxLength; the "$argon2id$..." string otherwise.
absl::StatusOr<std::string> HashPassword(absl::string_view password);

// OK when `password` matches `stored`; kUnauthenticated otherwise, also for
// a stored string that is not an Argon2id hash.
absl::Status VerifyPassword(absl::string_view stored, absl::string_view password);

// True when `stored` was made with weaker limits than HashPassword uses now
// (rehash it at the next successful login).
bool PasswordNeedsRehash(absl::string_view stored);

}  // namespace alerthub

#endif  // ALERTHUB_AUTH_PASSWORD_H_
