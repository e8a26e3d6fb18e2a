// Hashing and encoding helpers over OpenSSL (never hand-rolled primitives).
//
//   std::string digest = Sha256("abc");            // 32 raw bytes
//   std::string hex = HexEncode(digest);           // "ba7816bf..."
//   std::string mac = HmacSha256(key, message);    // 32 raw bytes
#ifndef ALERTHUB_COMMON_CRYPTO_H_
#define ALERTHUB_COMMON_CRYPTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace alerthub {

// SHA-256 of `data`, 32 raw bytes.
std::string Sha256(absl::string_view data);

// HMAC-SHA256 of `message` under `key`, 32 raw bytes.
std::string HmacSha256(absl::string_view key, absl::string_view message);

// Lowercase hexadecimal.
std::string HexEncode(absl::string_view bytes);

// `n` bytes from the operating system's CSPRNG (OpenSSL RAND_bytes).
std::string RandomBytes(size_t n);

// Constant-time comparison of equal-length secrets; false when lengths differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// AES-256-GCM authenticated encryption (secrets at rest).
inline constexpr size_t kAes256KeyBytes = 32;
inline constexpr size_t kAesGcmNonceBytes = 12;
inline constexpr size_t kAesGcmTagBytes = 16;

// Encrypts `plaintext` under the 32-byte `key` with a fresh random nonce;
// `aad` is authenticated but not encrypted (bind the ciphertext to where it
// belongs). Returns nonce || ciphertext || tag. kInvalidArgument for a key
// of the wrong size.
absl::StatusOr<std::string> Aes256GcmSeal(absl::string_view key,
                                          absl::string_view plaintext,
                                          absl::string_view aad);

// Decrypts what Aes256GcmSeal returned. kInvalidArgument for a key of the
// wrong size; kDataLoss when `sealed` is truncated or fails authentication
// (another key, another aad, altered bytes).
absl::StatusOr<std::string> Aes256GcmOpen(absl::string_view key,
                                          absl::string_view sealed,
                                          absl::string_view aad);

}  // namespace alerthub

#endif  // ALERTHUB_COMMON_CRYPTO_H_
