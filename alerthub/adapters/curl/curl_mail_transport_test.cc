#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/adapters/curl/curl_transport.h"
#include "alerthub/adapters/curl/testing/smtp_sink.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::SmtpSink;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

// A message whose lines test the transport's part of SMTP: a line that is a
// lone dot (the end-of-data marker, so curl must dot-stuff it) and one
// starting with a dot.
constexpr char kMessage[] =
    "From: alerts@example.com\r\n"
    "To: ops@example.com\r\n"
    "Subject: disk full\r\n"
    "\r\n"
    "first line\r\n"
    ".\r\n"
    ".hidden file\r\n"
    "last line\r\n";

CurlOptions LoopbackAllowed() {
  CurlOptions options;
  options.ssrf.allow_private_networks = true;
  return options;
}

MailEnvelope Envelope(const SmtpSink& sink, std::vector<std::string> to) {
  MailEnvelope mail;
  mail.smtp_url = sink.Url();
  mail.from = "alerts@example.com";
  mail.to = std::move(to);
  mail.message = kMessage;
  mail.timeout = absl::Seconds(10);
  return mail;
}

std::string Raw(const nlohmann::json& record) {
  std::string raw;
  absl::Base64Unescape(record["raw_b64"].get<std::string>(), &raw);
  return raw;
}

TEST(CurlMailTransportTest, SubmitsTheMessage) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());

  ASSERT_OK_AND_ASSIGN(MailReply reply,
                       mail->Send(Envelope(*sink, {"ops@example.com", "oncall@example.com"})));
  EXPECT_EQ(reply.code, 250);
  EXPECT_THAT(reply.text, HasSubstr("queued as 0001"));

  const std::vector<nlohmann::json> got = sink->Messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["mail_from"], "alerts@example.com");
  EXPECT_EQ(got[0]["rcpt_tos"], nlohmann::json({"ops@example.com", "oncall@example.com"}));
  EXPECT_TRUE(got[0]["login"].is_null());
  // Byte for byte, after the server undid the dot-stuffing.
  EXPECT_EQ(Raw(got[0]), kMessage);
}

TEST(CurlMailTransportTest, AuthenticatesWhenAUsernameIsGiven) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink,
                       SmtpSink::Start({.username = "relay-user", .password = "s3cret pass"}));
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());

  MailEnvelope envelope = Envelope(*sink, {"ops@example.com"});
  envelope.username = "relay-user";
  envelope.password = "s3cret pass";
  ASSERT_OK(mail->Send(envelope));
  ASSERT_EQ(sink->Messages().size(), 1u);
  EXPECT_EQ(sink->Messages()[0]["login"], "relay-user");

  envelope.password = "wrong";
  absl::StatusOr<MailReply> refused = mail->Send(envelope);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("SMTP 535")));
  EXPECT_THAT(SmtpReplyCode(refused.status()), Optional(535));

  // Without credentials the server wants AUTH first: 530, permanent.
  envelope.username.clear();
  envelope.password.clear();
  absl::StatusOr<MailReply> anonymous = mail->Send(envelope);
  EXPECT_THAT(anonymous, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(SmtpReplyCode(anonymous.status()), Optional(530));
  EXPECT_EQ(sink->Messages().size(), 1u);
}

TEST(CurlMailTransportTest, PermanentRefusalIsFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());

  absl::StatusOr<MailReply> reply =
      mail->Send(Envelope(*sink, {"ops@example.com", "reject-permanent@example.com"}));
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kFailedPrecondition,
                              HasSubstr("SMTP 550 5.1.1 <reject-permanent@example.com>")));
  EXPECT_THAT(SmtpReplyCode(reply.status()), Optional(550));
  EXPECT_TRUE(sink->Messages().empty());
}

TEST(CurlMailTransportTest, TemporaryRefusalIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());

  absl::StatusOr<MailReply> reply = mail->Send(Envelope(*sink, {"reject-temporary@example.com"}));
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("SMTP 451")));
  EXPECT_THAT(SmtpReplyCode(reply.status()), Optional(451));

  // The transport recovers: the next message goes through.
  ASSERT_OK(mail->Send(Envelope(*sink, {"ops@example.com"})));
  EXPECT_EQ(sink->Messages().size(), 1u);
}

TEST(CurlMailTransportTest, SlowServerIsDeadlineExceeded) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());

  MailEnvelope envelope = Envelope(*sink, {"slow@example.com"});
  envelope.timeout = absl::Milliseconds(500);
  absl::StatusOr<MailReply> reply = mail->Send(envelope);
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("SMTP smtp://")));
  EXPECT_EQ(SmtpReplyCode(reply.status()), std::nullopt);
}

TEST(CurlMailTransportTest, ConnectionRefusedIsUnavailable) {
  int closed_port = 0;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> gone, SmtpSink::Start());
    closed_port = gone->port();
  }
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());
  MailEnvelope envelope;
  envelope.smtp_url = absl::StrCat("smtp://127.0.0.1:", closed_port);
  envelope.from = "alerts@example.com";
  envelope.to = {"ops@example.com"};
  envelope.message = kMessage;
  EXPECT_THAT(mail->Send(envelope), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(CurlMailTransportTest, RefusesLoopbackUnlessAllowed) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(CurlOptions{});

  EXPECT_THAT(mail->Send(Envelope(*sink, {"ops@example.com"})),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("loopback")));
  MailEnvelope metadata = Envelope(*sink, {"ops@example.com"});
  metadata.smtp_url = "smtp://169.254.169.254:25";
  EXPECT_THAT(mail->Send(metadata), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(sink->Messages().empty());
}

TEST(CurlMailTransportTest, BadEnvelopesAreInvalidArgument) {
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());
  MailEnvelope base;
  base.smtp_url = "smtp://127.0.0.1:9";
  base.from = "alerts@example.com";
  base.to = {"ops@example.com"};
  base.message = kMessage;

  MailEnvelope e = base;
  e.smtp_url = "http://127.0.0.1:9";
  EXPECT_THAT(mail->Send(e), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("scheme")));
  e = base;
  e.smtp_url = "smtp://user:pw@127.0.0.1:9";
  EXPECT_THAT(mail->Send(e),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("credentials")));
  e = base;
  e.to = {"ops@example.com>\r\nRCPT TO:<victim@example.com"};
  EXPECT_THAT(mail->Send(e), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("recipient")));
  e = base;
  e.to.clear();
  EXPECT_THAT(mail->Send(e), StatusIs(absl::StatusCode::kInvalidArgument));
  e = base;
  e.from = "";
  EXPECT_THAT(mail->Send(e), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sender")));
}

}  // namespace
}  // namespace alerthub
