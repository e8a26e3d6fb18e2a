#include "alerthub/delivery/channels/channel_sender.h"

#include <memory>
#include <string>
#include <vector>

#include "alerthub/adapters/curl/testing/smtp_sink.h"
#include "alerthub/delivery/channels/testing/channel_fixture.h"
#include "alerthub/delivery/signing.h"
#include "alerthub/testing/fake_http_server.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::AttemptFixture;
using ::alerthub::testing::FakeHttpServer;
using ::alerthub::testing::LoopbackAllowed;
using ::alerthub::testing::MakeFixture;
using ::alerthub::testing::Respond;
using ::alerthub::testing::ScriptedAnswers;
using ::alerthub::testing::SmtpSink;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using Json = nlohmann::json;

EmailMessage Email() { return EmailMessage{"disk full", "Disk is full.", "<p>Disk is full.</p>"}; }

TEST(ChannelSendersTest, DispatchesOnTheIntegrationsChannel) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(200, "ok"))));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
  std::unique_ptr<HttpClient> http = NewCurlHttpClient(LoopbackAllowed());
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());
  std::unique_ptr<ChannelSender> senders =
      NewChannelSenders(ChannelOptions{}, http.get(), mail.get());

  const std::vector<AttemptFixture> fixtures = {
      MakeFixture(Channel::kWebhook,
                  {{"url", server->Url("/webhook")}, {"secret", GenerateWebhookSecret()}},
                  WebhookMessage{"{}"}),
      MakeFixture(Channel::kSlack, {{"webhook_url", server->Url("/slack")}},
                  SlackMessage{"hi", std::nullopt}),
      MakeFixture(Channel::kDiscord, {{"webhook_url", server->Url("/discord")}},
                  DiscordMessage{"hi"}),
      MakeFixture(
          Channel::kEmail,
          {{"smtp_url", sink->Url()}, {"from", "alerts@example.com"}, {"to", {"ops@example.com"}}},
          Email()),
  };
  for (const AttemptFixture& f : fixtures) {
    SendResult r = senders->Send(f.Attempt());
    EXPECT_EQ(r.outcome, AttemptOutcome::kSuccess)
        << ChannelName(f.integration.channel) << ": " << r.error;
  }
  const std::vector<::alerthub::testing::RecordedRequest> got = server->requests();
  ASSERT_THAT(got, SizeIs(3));
  EXPECT_EQ(got[0].Path(), "/webhook");
  EXPECT_EQ(got[1].Path(), "/slack");
  EXPECT_EQ(got[2].Path(), "/discord");
  EXPECT_THAT(sink->Messages(), SizeIs(1));
}

// The deployment default: deliveries to loopback (and private networks) are
// refused before anything is sent, and the refusal is permanent.
TEST(ChannelSendersTest, RefusesLoopbackByDefault) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(200))));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SmtpSink> sink, SmtpSink::Start());
  std::unique_ptr<HttpClient> http = NewCurlHttpClient(CurlOptions{});
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(CurlOptions{});
  std::unique_ptr<ChannelSender> senders =
      NewChannelSenders(ChannelOptions{}, http.get(), mail.get());

  const AttemptFixture webhook = MakeFixture(
      Channel::kWebhook, {{"url", server->Url("/webhook")}, {"secret", GenerateWebhookSecret()}},
      WebhookMessage{"{}"});
  SendResult r = senders->Send(webhook.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.error, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(r.error, HasSubstr("127.0.0.1 is a loopback address"));

  const AttemptFixture email = MakeFixture(
      Channel::kEmail,
      {{"smtp_url", sink->Url()}, {"from", "alerts@example.com"}, {"to", {"ops@example.com"}}},
      Email());
  r = senders->Send(email.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("PERMISSION_DENIED"));

  EXPECT_EQ(server->connections_accepted(), 0);
  EXPECT_TRUE(sink->Messages().empty());
}

TEST(ChannelSendersTest, BrokenAttemptsArePermanent) {
  std::unique_ptr<HttpClient> http = NewCurlHttpClient(LoopbackAllowed());
  std::unique_ptr<MailTransport> mail = NewCurlMailTransport(LoopbackAllowed());
  std::unique_ptr<ChannelSender> senders =
      NewChannelSenders(ChannelOptions{}, http.get(), mail.get());

  SendResult r = senders->Send(SendAttempt{});
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "send attempt lacks its integration");

  const AttemptFixture mismatched = MakeFixture(Channel::kWebhook, {{"url", "http://127.0.0.1:9/"}},
                                                SlackMessage{"hi", std::nullopt});
  r = senders->Send(mismatched.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "the message was not rendered for channel webhook");

  AttemptFixture no_delivery =
      MakeFixture(Channel::kDiscord, {{"webhook_url", "http://x/"}}, DiscordMessage{"hi"});
  SendAttempt attempt = no_delivery.Attempt();
  attempt.delivery = nullptr;
  r = senders->Send(attempt);
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("lacks its integration, delivery"));

  // A single-channel sender refuses other channels.
  std::unique_ptr<ChannelSender> slack = NewSlackSender(ChannelOptions{}, http.get());
  r = slack->Send(no_delivery.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("is for channel discord, not slack"));
}

}  // namespace
}  // namespace alerthub
