#include "alerthub/delivery/secret_box.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/crypto.h"

namespace alerthub {
namespace {

std::string Aad(const Integration& i, absl::string_view path) {
  return absl::StrCat(i.tenant_id, "/", i.id, "/", path);
}

}  // namespace

absl::StatusOr<SecretBox> SecretBox::FromKey(std::string key) {
  if (key.size() != kAes256KeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the secrets key must be 32 bytes, got ", key.size()));
  }
  return SecretBox(std::move(key));
}

absl::StatusOr<SecretBox> SecretBox::FromText(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  std::string key;
  if (text.size() == 64 && absl::c_all_of(text, absl::ascii_isxdigit)) {
    key = absl::HexStringToBytes(text);
  } else if (!absl::Base64Unescape(text, &key) || key.size() != kAes256KeyBytes) {
    return absl::InvalidArgumentError(
        "the secrets key must be 64 hexadecimal digits or the base64 of 32 bytes "
        "(generate one with: openssl rand -base64 32)");
  }
  return FromKey(std::move(key));
}

absl::StatusOr<SecretBox> SecretBox::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat("secrets key file ", path, " does not exist"));
    }
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read secrets key file ", path, ": ", std::strerror(err)));
  }
  std::stringstream content;
  content << in.rdbuf();
  absl::StatusOr<SecretBox> box = FromText(content.str());
  if (!box.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("secrets key file ", path, ": ", box.status().message()));
  }
  return box;
}

absl::StatusOr<SecretBox> SecretBox::LoadOrCreate(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0) {
    const std::string tmp = absl::StrCat(path, ".tmp");
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot create secrets key file ", path, ": ", std::strerror(errno)));
    }
    const std::string text = absl::StrCat(absl::Base64Escape(RandomBytes(32)), "\n");
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                    fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot write secrets key file ", path, ": ",
                                              std::strerror(errno)));
    }
  }
  return FromFile(path);
}

bool SecretBox::IsSealed(absl::string_view value) {
  return absl::StartsWith(value, kSealedSecretPrefix);
}

absl::Status SecretBox::Seal(Integration* i) const {
  absl::Status status;
  ForEachConfigSecret(i->channel, i->config,
                      [&](absl::string_view path, nlohmann::json& value) {
                        const std::string& plain = value.get_ref<const std::string&>();
                        if (!status.ok() || IsSealed(plain)) return;
                        absl::StatusOr<std::string> sealed =
                            Aes256GcmSeal(key_, plain, Aad(*i, path));
                        if (!sealed.ok()) {
                          status = sealed.status();
                          return;
                        }
                        value = absl::StrCat(kSealedSecretPrefix, absl::Base64Escape(*sealed));
                      });
  return status;
}

absl::Status SecretBox::Open(Integration* i) const {
  absl::Status status;
  ForEachConfigSecret(
      i->channel, i->config, [&](absl::string_view path, nlohmann::json& value) {
        const std::string& text = value.get_ref<const std::string&>();
        if (!status.ok() || !IsSealed(text)) return;
        std::string sealed;
        if (!absl::Base64Unescape(absl::string_view(text).substr(kSealedSecretPrefix.size()),
                                  &sealed)) {
          status = absl::DataLossError(absl::StrCat("integration ", i->id, ": config.",
                                                    path, " is not a valid sealed secret"));
          return;
        }
        absl::StatusOr<std::string> plain = Aes256GcmOpen(key_, sealed, Aad(*i, path));
        if (!plain.ok()) {
          status = absl::DataLossError(absl::StrCat(
              "integration ", i->id, ": config.", path,
              " cannot be decrypted (was the secrets key changed?): ", plain.status().message()));
          return;
        }
        value = *std::move(plain);
      });
  return status;
}

}  // namespace alerthub
