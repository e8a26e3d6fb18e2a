#include "alerthub/common/crypto.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

// Vectors from FIPS 180-2 and RFC 4231.
TEST(CryptoTest, Sha256KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(CryptoTest, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, RandomBytesLengthAndVariety) {
  EXPECT_EQ(RandomBytes(32).size(), 32u);
  EXPECT_NE(RandomBytes(16), RandomBytes(16));
}

TEST(CryptoTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

}  // namespace
}  // namespace alerthub

namespace alerthub {
namespace {

TEST(Aes256GcmTest, RoundTripsAndBindsAad) {
  const std::string key(32, 'k');
  absl::StatusOr<std::string> sealed = Aes256GcmSeal(key, "hunter2", "tenant/i1/secret");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), kAesGcmNonceBytes + 7 + kAesGcmTagBytes);
  absl::StatusOr<std::string> opened = Aes256GcmOpen(key, *sealed, "tenant/i1/secret");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "hunter2");
  // Another aad, another key, an altered byte, a truncation: all refused.
  EXPECT_EQ(Aes256GcmOpen(key, *sealed, "tenant/i2/secret").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Aes256GcmOpen(std::string(32, 'x'), *sealed, "tenant/i1/secret").status().code(),
            absl::StatusCode::kDataLoss);
  std::string altered = *sealed;
  altered[kAesGcmNonceBytes] ^= 1;
  EXPECT_EQ(Aes256GcmOpen(key, altered, "tenant/i1/secret").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(Aes256GcmOpen(key, sealed->substr(0, 20), "tenant/i1/secret").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(Aes256GcmTest, FreshNonceEveryTime) {
  const std::string key(32, 'k');
  EXPECT_NE(*Aes256GcmSeal(key, "same", ""), *Aes256GcmSeal(key, "same", ""));
  EXPECT_EQ(*Aes256GcmOpen(key, *Aes256GcmSeal(key, "", ""), ""), "");
}

TEST(Aes256GcmTest, RejectsWrongKeySize) {
  EXPECT_EQ(Aes256GcmSeal("short", "x", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Aes256GcmOpen("short", std::string(40, 'x'), "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// NIST SP 800-38D test case 14 (AES-256, zero key, zero IV, one zero block):
// decrypting the published ciphertext and tag gives the zero block, so the
// layout and algorithm match the standard.
TEST(Aes256GcmTest, OpensNistVector) {
  auto unhex = [](absl::string_view hex) {
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) {
      out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
  };
  const std::string key(32, '\0');
  const std::string sealed = std::string(12, '\0') +
                             unhex("cea7403d4d606b6e074ec5d3baf39d18") +
                             unhex("d0d1c8a799996bf0265b98b5d48ab919");
  absl::StatusOr<std::string> opened = Aes256GcmOpen(key, sealed, "");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, std::string(16, '\0'));
}

}  // namespace
}  // namespace alerthub
