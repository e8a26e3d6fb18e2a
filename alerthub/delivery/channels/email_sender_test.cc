#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "alerthub/adapters/curl/testing/smtp_sink.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/testing/channel_fixture.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::AttemptFixture;
using ::alerthub::testing::LoopbackAllowed;
using ::alerthub::testing::MakeFixture;
using ::alerthub::testing::SmtpSink;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;
using Json = nlohmann::json;

constexpr char kSubject[] =
    "Déploiement terminé ✅ — build #42 of the payments service in eu-west-1 has finished";
const std::string& Text() {
  static const std::string* text = new std::string(
      "Build #42 finished.\n"
      "From here on, v2 serves all traffic.\n"
      ".\n"
      "Trailing spaces   \n"
      "A=B and tabs\tinside\n" +
      std::string(30, 'x') + " " + std::string(150, 'y') +
      " é ü 日本 🚀\n"
      "last line");
  return *text;
}
constexpr char kHtml[] =
    "<html><body><p>Build #42 &amp; v2 – <b>live</b></p>\n"
    "<p style=\"color:#333\">Déploiement terminé ✅</p></body></html>";

// The header's value, as Python's e-mail package decoded it.
std::string HeaderOf(const Json& message, absl::string_view name) {
  for (const Json& h : message["headers"]) {
    if (h[0].get<std::string>() == name) return h[1].get<std::string>();
  }
  return "<missing>";
}

std::string Lf(std::string s) { return absl::StrReplaceAll(s, {{"\r\n", "\n"}}); }

class EmailSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(sink_, SmtpSink::Start({.username = "relay", .password = "pw"}));
    clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 2, 3, 8, 9, 10), absl::UTCTimeZone()));
    ChannelOptions options;
    options.clock = &clock_;
    options.timeout = absl::Seconds(10);
    sender_ = NewEmailSender(options, mail_.get());
  }

  AttemptFixture Fixture(std::vector<std::string> to, EmailMessage message) {
    return MakeFixture(Channel::kEmail,
                       {{"smtp_url", sink_->Url()},
                        {"username", "relay"},
                        {"password", "pw"},
                        {"from", "alerts@example.com"},
                        {"to", to}},
                       std::move(message));
  }

  SimulatedClock clock_;
  std::unique_ptr<SmtpSink> sink_;
  std::unique_ptr<MailTransport> mail_ = NewCurlMailTransport(LoopbackAllowed());
  std::unique_ptr<ChannelSender> sender_;
};

TEST_F(EmailSenderTest, SendsAMultipartMessageAMailReaderDecodes) {
  const AttemptFixture f =
      Fixture({"ops@example.com", "oncall@example.com"}, EmailMessage{kSubject, Text(), kHtml});
  SendResult r = sender_->Send(f.Attempt());
  ASSERT_EQ(r.outcome, AttemptOutcome::kSuccess) << r.error;
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.response, "250 2.0.0 Ok: queued as 0001");
  EXPECT_EQ(r.error, "");

  const std::vector<Json> got = sink_->Messages();
  ASSERT_THAT(got, SizeIs(1));
  const Json& m = got[0];
  EXPECT_EQ(m["mail_from"], "alerts@example.com");
  EXPECT_EQ(m["rcpt_tos"], Json({"ops@example.com", "oncall@example.com"}));
  EXPECT_EQ(m["login"], "relay");
  EXPECT_EQ(m["defects"], Json::array());

  EXPECT_EQ(HeaderOf(m, "From"), "alerts@example.com");
  EXPECT_EQ(HeaderOf(m, "To"), "ops@example.com, oncall@example.com");
  EXPECT_EQ(HeaderOf(m, "Subject"), kSubject);
  EXPECT_EQ(HeaderOf(m, "Date"), "Tue, 03 Feb 2026 08:09:10 +0000");
  EXPECT_EQ(HeaderOf(m, "Message-ID"), absl::StrCat("<", f.delivery.id, "@alerthub>"));
  EXPECT_EQ(HeaderOf(m, "MIME-Version"), "1.0");
  EXPECT_EQ(HeaderOf(m, "Auto-Submitted"), "auto-generated");
  EXPECT_THAT(HeaderOf(m, "Content-Type"), StartsWith("multipart/alternative;"));

  ASSERT_THAT(m["parts"], SizeIs(2));
  const Json& text = m["parts"][0];
  EXPECT_EQ(text["content_type"], "text/plain");
  EXPECT_EQ(text["charset"], "utf-8");
  EXPECT_EQ(text["transfer_encoding"], "quoted-printable");
  EXPECT_EQ(Lf(text["content"].get<std::string>()), Text());
  const Json& html = m["parts"][1];
  EXPECT_EQ(html["content_type"], "text/html");
  EXPECT_EQ(html["charset"], "utf-8");
  EXPECT_EQ(Lf(html["content"].get<std::string>()), kHtml);

  // On the wire: 7-bit, CRLF line ends, lines of at most 78 characters.
  std::string raw;
  ASSERT_TRUE(absl::Base64Unescape(m["raw_b64"].get<std::string>(), &raw));
  ASSERT_TRUE(absl::EndsWith(raw, "\r\n"));
  for (absl::string_view line : absl::StrSplit(raw.substr(0, raw.size() - 2), "\r\n")) {
    EXPECT_LE(line.size(), 78u) << line;
    EXPECT_EQ(line.find('\n'), absl::string_view::npos) << "bare LF in " << line;
    EXPECT_EQ(line.find('\r'), absl::string_view::npos) << "bare CR in " << line;
    for (char c : line) EXPECT_LT(static_cast<unsigned char>(c), 0x80) << line;
  }
}

// A delivery to one recipient goes to their address instead of config.to.
TEST_F(EmailSenderTest, ARecipientGetsItAtTheirAddress) {
  const AttemptFixture f = Fixture({"ops@example.com"}, EmailMessage{"s", "t", ""});
  User ada;
  ada.id = "user-ada";
  ada.email = "ada@example.com";
  ada.addresses.email = "ada.alerts@example.com";
  SendAttempt a = f.Attempt();
  a.recipient = &ada;
  ASSERT_EQ(sender_->Send(a).outcome, AttemptOutcome::kSuccess);
  User bob;  // no alerting address: the account's
  bob.id = "user-bob";
  bob.email = "bob@example.com";
  a.recipient = &bob;
  ASSERT_EQ(sender_->Send(a).outcome, AttemptOutcome::kSuccess);
  const std::vector<Json> got = sink_->Messages();
  ASSERT_THAT(got, SizeIs(2));
  EXPECT_EQ(got[0]["rcpt_tos"], Json({"ada.alerts@example.com"}));
  EXPECT_EQ(HeaderOf(got[0], "To"), "ada.alerts@example.com");
  EXPECT_EQ(got[1]["rcpt_tos"], Json({"bob@example.com"}));
}

TEST_F(EmailSenderTest, RetriesCarryTheSameMessageId) {
  const AttemptFixture f = Fixture({"ops@example.com"}, EmailMessage{"s", "t", "<p>t</p>"});
  ASSERT_EQ(sender_->Send(f.Attempt(1)).outcome, AttemptOutcome::kSuccess);
  clock_.Advance(absl::Minutes(5));
  ASSERT_EQ(sender_->Send(f.Attempt(2)).outcome, AttemptOutcome::kSuccess);
  const std::vector<Json> got = sink_->Messages();
  ASSERT_THAT(got, SizeIs(2));
  EXPECT_EQ(HeaderOf(got[0], "Message-ID"), HeaderOf(got[1], "Message-ID"));
  EXPECT_EQ(HeaderOf(got[1], "Date"), "Tue, 03 Feb 2026 08:14:10 +0000");
}

TEST_F(EmailSenderTest, TextOnlyIsASinglePart) {
  ASSERT_EQ(sender_->Send(Fixture({"ops@example.com"}, EmailMessage{"s", "plain é", ""}).Attempt())
                .outcome,
            AttemptOutcome::kSuccess);
  const Json m = sink_->Messages()[0];
  EXPECT_THAT(HeaderOf(m, "Content-Type"), StartsWith("text/plain"));
  ASSERT_THAT(m["parts"], SizeIs(1));
  EXPECT_EQ(Lf(m["parts"][0]["content"].get<std::string>()), "plain é\n");
}

TEST_F(EmailSenderTest, PermanentRefusalIsPermanentWithTheSmtpCode) {
  SendResult r = sender_->Send(
      Fixture({"ops@example.com", "reject-permanent@example.com"}, EmailMessage{"s", "t", ""})
          .Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.code, 550);
  EXPECT_THAT(r.error, HasSubstr("SMTP server refused the message"));
  EXPECT_THAT(r.error, HasSubstr("550 5.1.1 <reject-permanent@example.com>"));
  EXPECT_TRUE(sink_->Messages().empty());
}

TEST_F(EmailSenderTest, TemporaryRefusalIsRetriableWithTheSmtpCode) {
  SendResult r = sender_->Send(
      Fixture({"reject-temporary@example.com"}, EmailMessage{"s", "t", ""}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(r.code, 451);
}

TEST_F(EmailSenderTest, WrongPasswordIsPermanent) {
  AttemptFixture f = Fixture({"ops@example.com"}, EmailMessage{"s", "t", ""});
  f.integration.config["password"] = "not it";
  SendResult r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.code, 535);
  EXPECT_THAT(r.error, ::testing::Not(HasSubstr("not it")));
}

TEST_F(EmailSenderTest, BrokenConfigIsPermanentWithoutAConnection) {
  AttemptFixture f = Fixture({"ops@example.com"}, EmailMessage{"s", "t", ""});
  f.integration.config.erase("from");
  SendResult r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "config.from is required");

  f = Fixture({}, EmailMessage{"s", "t", ""});
  r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "config.to must list at least one address");

  f = Fixture({"ops@example.com"}, EmailMessage{"s", "", ""});
  r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_TRUE(sink_->Messages().empty());
}

}  // namespace
}  // namespace alerthub
