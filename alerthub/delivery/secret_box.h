// SecretBox: integration secrets at rest (ARCHITECTURE §4, §5: AES-256-GCM).
//
// Every secret member of an integration's config (ForEachConfigSecret: the
// webhook signing secrets, Slack and Discord webhook URLs, the Slack bot
// token, the SMTP password, the FCM service-account private key) is stored
// as "enc:v1:<base64 of nonce || ciphertext || tag>", encrypted under the
// deployment's 32-byte key with the tenant id, the integration id and the
// member's path as associated data, so a sealed value copied to another
// integration or member does not open.
//
//   ALERTHUB_ASSIGN_OR_RETURN(SecretBox box, SecretBox::LoadOrCreate(key_file));
//   ALERTHUB_RETURN_IF_ERROR(box.Seal(&integration));   // before the store
//   ALERTHUB_RETURN_IF_ERROR(box.Open(&integration));   // before sending
//
// Thread-safe: Seal and Open are const and keep no state.
#ifndef ALERTHUB_DELIVERY_SECRET_BOX_H_
#define ALERTHUB_DELIVERY_SECRET_BOX_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "alerthub/model/integration.h"

namespace alerthub {

inline constexpr absl::string_view kSealedSecretPrefix = "enc:v1:";

class SecretBox {
 public:
  // A box over `key`: 32 raw bytes. kInvalidArgument otherwise.
  static absl::StatusOr<SecretBox> FromKey(std::string key);

  // A key written as text (a key file's content or ALERTHUB_SECRETS_KEY): 64
  // hexadecimal digits or the standard base64 of 32 bytes; surrounding
  // whitespace is ignored. kInvalidArgument naming the expected forms.
  static absl::StatusOr<SecretBox> FromText(absl::string_view text);

  // Reads the key file at `path` (FromText's forms). kNotFound when absent,
  // kPermissionDenied when unreadable, kInvalidArgument when malformed.
  static absl::StatusOr<SecretBox> FromFile(const std::string& path);

  // FromFile, after creating the file with a fresh random key (base64, mode
  // 0600, written atomically) when it does not exist: the all-in-one daemon's
  // first start.
  static absl::StatusOr<SecretBox> LoadOrCreate(const std::string& path);

  // Encrypts every secret of i->config that is not sealed yet.
  // REQUIRES: i->id and i->tenant_id are set.
  absl::Status Seal(Integration* i) const;

  // Decrypts every sealed secret of i->config. kDataLoss naming the member
  // when one does not open (another key, or the row was altered).
  absl::Status Open(Integration* i) const;

  // Whether `value` is a sealed secret.
  static bool IsSealed(absl::string_view value);

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}

  std::string key_;
};

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_SECRET_BOX_H_
