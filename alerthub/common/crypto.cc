#include "alerthub/common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

#include "absl/status/status.h"

namespace alerthub {

std::string Sha256(absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) != 1) {
    std::abort();  // only fails on allocation failure inside OpenSSL
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string HmacSha256(absl::string_view key, absl::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(),
           out, &len) == nullptr) {
    std::abort();
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHex[c >> 4];
    out[2 * i + 1] = kHex[c & 0x0F];
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();  // no entropy: refusing to continue is the only safe answer
  }
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

unsigned char* Bytes(std::string& s, size_t offset = 0) {
  return reinterpret_cast<unsigned char*>(s.data() + offset);
}
const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<std::string> Aes256GcmSeal(absl::string_view key,
                                          absl::string_view plaintext,
                                          absl::string_view aad) {
  if (key.size() != kAes256KeyBytes) {
    return absl::InvalidArgumentError("AES-256-GCM needs a 32-byte key");
  }
  std::string out = RandomBytes(kAesGcmNonceBytes);
  out.resize(kAesGcmNonceBytes + plaintext.size() + kAesGcmTagBytes);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key),
                         Bytes(out)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), Bytes(out, kAesGcmNonceBytes), &len,
                        Bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), Bytes(out, kAesGcmNonceBytes + len), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAesGcmTagBytes,
                          Bytes(out, kAesGcmNonceBytes + plaintext.size())) != 1) {
    return absl::InternalError("AES-256-GCM encryption failed inside OpenSSL");
  }
  return out;
}

absl::StatusOr<std::string> Aes256GcmOpen(absl::string_view key,
                                          absl::string_view sealed,
                                          absl::string_view aad) {
  if (key.size() != kAes256KeyBytes) {
    return absl::InvalidArgumentError("AES-256-GCM needs a 32-byte key");
  }
  if (sealed.size() < kAesGcmNonceBytes + kAesGcmTagBytes) {
    return absl::DataLossError("encrypted value is truncated");
  }
  const absl::string_view nonce = sealed.substr(0, kAesGcmNonceBytes);
  const absl::string_view body = sealed.substr(
      kAesGcmNonceBytes, sealed.size() - kAesGcmNonceBytes - kAesGcmTagBytes);
  std::string tag(sealed.substr(sealed.size() - kAesGcmTagBytes));
  std::string out(body.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key),
                         Bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(out), &len, Bytes(body),
                        static_cast<int>(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAesGcmTagBytes,
                          Bytes(tag)) != 1) {
    return absl::InternalError("AES-256-GCM decryption failed inside OpenSSL");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(out, len), &len) != 1) {
    return absl::DataLossError(
        "encrypted value failed authentication (wrong key or altered data)");
  }
  return out;
}

}  // namespace alerthub
