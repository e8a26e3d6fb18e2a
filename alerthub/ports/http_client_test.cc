#include "alerthub/ports/http_client.h"

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::testing::Optional;

TEST(HttpResponseTest, HeaderIgnoresCaseAndTakesTheFirst) {
  HttpResponse r;
  r.headers = {{"Retry-After", "7"}, {"X-Dup", "first"}, {"x-dup", "second"}};
  EXPECT_EQ(r.Header("retry-after"), "7");
  EXPECT_EQ(r.Header("RETRY-AFTER"), "7");
  EXPECT_EQ(r.Header("X-DUP"), "first");
  EXPECT_EQ(r.Header("Missing"), "");
}

TEST(SmtpReplyCodeTest, RoundTripsThroughTheStatus) {
  absl::Status refused = absl::FailedPreconditionError("SMTP 550 no such user");
  EXPECT_EQ(SmtpReplyCode(refused), std::nullopt);
  SetSmtpReplyCode(refused, 550);
  EXPECT_THAT(SmtpReplyCode(refused), Optional(550));
  EXPECT_EQ(refused.message(), "SMTP 550 no such user");

  absl::Status ok = absl::OkStatus();
  SetSmtpReplyCode(ok, 250);  // OK statuses carry no payload
  EXPECT_EQ(SmtpReplyCode(ok), std::nullopt);
}

}  // namespace
}  // namespace alerthub
