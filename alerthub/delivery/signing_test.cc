#include "alerthub/delivery/signing.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

// The example of the Standard Webhooks / Svix documentation, re-derived when
// this test was written with python3:
//   base64.b64encode(hmac.new(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
//       b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}',
//       hashlib.sha256).digest())
constexpr absl::string_view kSpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr absl::string_view kSpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kSpecTimestamp = 1614265330;
constexpr absl::string_view kSpecBody = R"({"test": 2432232314})";
constexpr absl::string_view kSpecSignature =
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// A 64-byte key (bytes 0x00..0x3f) and a body with non-ASCII UTF-8 and a
// trailing newline; derived with python3:
//   key = bytes(range(64)); body = '{"title":"café ☃","n":1}\n'.encode()
//   base64.b64encode(hmac.new(key, b'01890a5d-ac96-7f4e-8f7b-2c9b4c1f0e55.'
//       b'1800000000.' + body, hashlib.sha256).digest())
// and the same content under a 24-byte key of 0xaa bytes.
constexpr absl::string_view kLongSecret =
    "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMD"
    "EyMzQ1Njc4OTo7PD0+Pw==";
constexpr absl::string_view kRotatedSecret = "whsec_qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq";
constexpr absl::string_view kUuidId = "01890a5d-ac96-7f4e-8f7b-2c9b4c1f0e55";
constexpr int64_t kTimestamp = 1800000000;
constexpr absl::string_view kUtf8Body = "{\"title\":\"caf\xc3\xa9 \xe2\x98\x83\",\"n\":1}\n";
constexpr absl::string_view kLongSignature =
    "v1,5+GETT14CwL7n7bTpMEqKyGIsyzbYwz37eX7wrKo3bA=";
constexpr absl::string_view kRotatedSignature =
    "v1,9cTeutVu/NkxktOpQaS2F/Wva2arDUg1aae3QfCxxtg=";

std::string Decode(absl::string_view whsec) {
  absl::StatusOr<std::string> key = DecodeWebhookSecret(whsec);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? *key : std::string();
}

TEST(SignWebhookTest, MatchesTheSpecExample) {
  EXPECT_EQ(SignWebhook(Decode(kSpecSecret), kSpecId, kSpecTimestamp, kSpecBody),
            kSpecSignature);
}

TEST(SignWebhookTest, MatchesIndependentVectorWithLongKeyAndUtf8Body) {
  EXPECT_EQ(SignWebhook(Decode(kLongSecret), kUuidId, kTimestamp, kUtf8Body),
            kLongSignature);
  EXPECT_EQ(SignWebhook(Decode(kRotatedSecret), kUuidId, kTimestamp, kUtf8Body),
            kRotatedSignature);
}

TEST(SignWebhookTest, EverySignedPartChangesTheSignature) {
  const std::string key = Decode(kSpecSecret);
  const std::string base = SignWebhook(key, kSpecId, kSpecTimestamp, kSpecBody);
  EXPECT_NE(SignWebhook(key, "msg_other", kSpecTimestamp, kSpecBody), base);
  EXPECT_NE(SignWebhook(key, kSpecId, kSpecTimestamp + 1, kSpecBody), base);
  EXPECT_NE(SignWebhook(key, kSpecId, kSpecTimestamp, R"({"test": 2432232315})"), base);
  EXPECT_NE(SignWebhook(Decode(kRotatedSecret), kSpecId, kSpecTimestamp, kSpecBody),
            base);
}

TEST(GenerateWebhookSecretTest, IsWhsecOf32RandomBytes) {
  const std::string a = GenerateWebhookSecret();
  const std::string b = GenerateWebhookSecret();
  EXPECT_THAT(a, StartsWith("whsec_"));
  EXPECT_EQ(a.size(), 6u + 44u);  // base64 of 32 bytes is 44 characters
  EXPECT_NE(a, b);
  absl::StatusOr<std::string> key = DecodeWebhookSecret(a);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->size(), 32u);
}

TEST(DecodeWebhookSecretTest, DecodesToTheKeyBytes) {
  EXPECT_EQ(Decode(kRotatedSecret), std::string(24, '\xaa'));
  std::string expected;
  for (int i = 0; i < 64; ++i) expected.push_back(static_cast<char>(i));
  EXPECT_EQ(Decode(kLongSecret), expected);
}

TEST(DecodeWebhookSecretTest, RejectsEachBrokenRuleWithoutEchoingTheSecret) {
  EXPECT_THAT(DecodeWebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "webhook secret must start with \"whsec_\""));
  EXPECT_THAT(DecodeWebhookSecret("whsec_not*base64!"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "webhook secret is not valid base64 after \"whsec_\""));
  // 23 and 65 bytes: one outside each bound.
  EXPECT_THAT(
      DecodeWebhookSecret(absl::StrCat("whsec_", absl::Base64Escape(std::string(23, 'k')))),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "webhook secret must decode to 24-64 bytes; it decodes to 23"));
  EXPECT_THAT(
      DecodeWebhookSecret(absl::StrCat("whsec_", absl::Base64Escape(std::string(65, 'k')))),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "webhook secret must decode to 24-64 bytes; it decodes to 65"));
  EXPECT_THAT(DecodeWebhookSecret("whsec_"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "webhook secret must decode to 24-64 bytes; it decodes to 0"));
}

TEST(WebhookHeadersTest, ProducesTheThreeHeadersInOrder) {
  absl::StatusOr<HttpHeaders> headers =
      WebhookHeaders({Decode(kSpecSecret)}, kSpecId, kSpecTimestamp, kSpecBody);
  ASSERT_TRUE(headers.ok()) << headers.status();
  EXPECT_THAT(*headers,
              ElementsAre(Pair("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
                          Pair("webhook-timestamp", "1614265330"),
                          Pair("webhook-signature", kSpecSignature)));
}

TEST(WebhookHeadersTest, SignsWithEverySecretDuringRotation) {
  absl::StatusOr<HttpHeaders> headers = WebhookHeaders(
      {Decode(kLongSecret), Decode(kRotatedSecret)}, kUuidId, kTimestamp, kUtf8Body);
  ASSERT_TRUE(headers.ok()) << headers.status();
  ASSERT_EQ(headers->size(), 3u);
  EXPECT_EQ((*headers)[2].second, absl::StrCat(kLongSignature, " ", kRotatedSignature));
}

TEST(WebhookHeadersTest, RefusesToSendUnsignedOrWithABadId) {
  EXPECT_THAT(WebhookHeaders({}, kSpecId, kSpecTimestamp, kSpecBody),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "a webhook needs at least one secret"));
  EXPECT_THAT(WebhookHeaders({Decode(kSpecSecret), ""}, kSpecId, kSpecTimestamp, kSpecBody),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "a webhook secret must not be empty"));
  for (absl::string_view id : {"", "msg 1", "msg\r\nx-injected: 1", "caf\xc3\xa9"}) {
    EXPECT_THAT(WebhookHeaders({Decode(kSpecSecret)}, id, kSpecTimestamp, kSpecBody),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "webhook-id must be non-empty printable ASCII without spaces"))
        << id;
  }
}

class VerifyWebhookTest : public ::testing::Test {
 protected:
  const std::string key_ = Decode(kSpecSecret);
  const absl::Time sent_ = absl::FromUnixSeconds(kSpecTimestamp);
  HttpHeaders headers_ = *WebhookHeaders({key_}, kSpecId, kSpecTimestamp, kSpecBody);
};

TEST_F(VerifyWebhookTest, AcceptsWhatWebhookHeadersProduced) {
  EXPECT_OK(VerifyWebhook(key_, headers_, kSpecBody, sent_));
  EXPECT_OK(VerifyWebhook(key_, headers_, kSpecBody, sent_ + absl::Minutes(5)));
  EXPECT_OK(VerifyWebhook(key_, headers_, kSpecBody, sent_ - absl::Minutes(5)));
}

TEST_F(VerifyWebhookTest, HeaderNamesAreCaseInsensitive) {
  HttpHeaders upper = {{"Webhook-Id", headers_[0].second},
                       {"WEBHOOK-TIMESTAMP", headers_[1].second},
                       {"Webhook-Signature", headers_[2].second}};
  EXPECT_OK(VerifyWebhook(key_, upper, kSpecBody, sent_));
}

TEST_F(VerifyWebhookTest, AcceptsWhenAnyOfSeveralSignaturesMatches) {
  headers_[2].second = absl::StrCat("v1a,ignored v1,AAAA ", kSpecSignature);
  EXPECT_OK(VerifyWebhook(key_, headers_, kSpecBody, sent_));
}

TEST_F(VerifyWebhookTest, RejectsATamperedBodyOrTheWrongSecret) {
  EXPECT_THAT(VerifyWebhook(key_, headers_, R"({"test": 1})", sent_),
              StatusIs(absl::StatusCode::kUnauthenticated, "no webhook signature matches"));
  EXPECT_THAT(VerifyWebhook(Decode(kRotatedSecret), headers_, kSpecBody, sent_),
              StatusIs(absl::StatusCode::kUnauthenticated, "no webhook signature matches"));
  headers_[2].second = absl::StrCat("v2,", kSpecSignature.substr(3));
  EXPECT_THAT(VerifyWebhook(key_, headers_, kSpecBody, sent_),
              StatusIs(absl::StatusCode::kUnauthenticated, "no webhook signature matches"));
}

TEST_F(VerifyWebhookTest, RejectsTimestampsOutsideTheTolerance) {
  EXPECT_THAT(VerifyWebhook(key_, headers_, kSpecBody, sent_ + absl::Seconds(301)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "webhook timestamp is too old: 5m1s before now; the "
                       "tolerance is 5m"));
  EXPECT_THAT(VerifyWebhook(key_, headers_, kSpecBody, sent_ - absl::Seconds(301)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       "webhook timestamp is too new: 5m1s after now; the "
                       "tolerance is 5m"));
  EXPECT_OK(VerifyWebhook(key_, headers_, kSpecBody, sent_ + absl::Hours(1),
                          /*tolerance=*/absl::Hours(2)));
}

TEST_F(VerifyWebhookTest, RejectsMissingOrMalformedHeaders) {
  for (size_t drop = 0; drop < 3; ++drop) {
    HttpHeaders partial = headers_;
    const std::string name = partial[drop].first;
    partial.erase(partial.begin() + static_cast<ptrdiff_t>(drop));
    EXPECT_THAT(VerifyWebhook(key_, partial, kSpecBody, sent_),
                StatusIs(absl::StatusCode::kInvalidArgument, "missing header " + name));
  }
  headers_[1].second = "-1614265330";
  EXPECT_THAT(VerifyWebhook(key_, headers_, kSpecBody, sent_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "webhook-timestamp must be Unix seconds; got \"-1614265330\""));
}

}  // namespace
}  // namespace alerthub
