#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/testing/channel_fixture.h"
#include "alerthub/delivery/signing.h"
#include "alerthub/testing/fake_http_server.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::AttemptFixture;
using ::alerthub::testing::FakeHttpServer;
using ::alerthub::testing::LoopbackAllowed;
using ::alerthub::testing::MakeFixture;
using ::alerthub::testing::RecordedRequest;
using ::alerthub::testing::Respond;
using ::alerthub::testing::RespondAfter;
using ::alerthub::testing::ScriptedAnswers;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::SizeIs;

constexpr char kBody[] = R"({"id":"n1","type":"deploy.finished","title":"v2 – live ✅"})";
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

class WebhookSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = GenerateWebhookSecret();
    previous_secret_ = GenerateWebhookSecret();
    // Receivers check timestamps against their own clock: start near now.
    clock_.Set(absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())));
    ChannelOptions options;
    options.clock = &clock_;
    options.timeout = absl::Seconds(5);
    sender_ = NewWebhookSender(options, http_.get());
  }

  AttemptFixture Fixture(const std::string& url) {
    return MakeFixture(Channel::kWebhook, {{"url", url}, {"secret", secret_}},
                       WebhookMessage{kBody});
  }

  std::string Key(const std::string& whsec) { return DecodeWebhookSecret(whsec).value(); }

  std::string secret_;
  std::string previous_secret_;
  SimulatedClock clock_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient(LoopbackAllowed());
  std::unique_ptr<ChannelSender> sender_;
};

TEST_F(WebhookSenderTest, SignsEveryAttemptWithTheSameWebhookId) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<FakeHttpServer> server,
      FakeHttpServer::Start(ScriptedAnswers({Respond(503, "busy")}, Respond(200, "thanks"))));
  const AttemptFixture f = Fixture(server->Url("/hooks/alerthub"));

  const absl::Time first_at = clock_.Now();
  SendResult first = sender_->Send(f.Attempt(1, kTraceparent));
  EXPECT_EQ(first.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(first.code, 503);
  EXPECT_EQ(first.error, "webhook receiver answered HTTP 503: busy");
  EXPECT_EQ(first.response, "busy");

  clock_.Advance(absl::Seconds(5));
  SendResult second = sender_->Send(f.Attempt(2, kTraceparent));
  EXPECT_EQ(second.outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(second.code, 200);
  EXPECT_EQ(second.error, "");
  EXPECT_EQ(second.response, "thanks");
  EXPECT_GT(second.latency, absl::ZeroDuration());

  const std::vector<RecordedRequest> got = server->requests();
  ASSERT_THAT(got, SizeIs(2));
  for (size_t i = 0; i < got.size(); ++i) {
    const RecordedRequest& r = got[i];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hooks/alerthub");
    EXPECT_EQ(r.body, kBody);
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
    EXPECT_EQ(r.Header("User-Agent"), "AlertHub-Webhooks/1.0");
    EXPECT_EQ(r.Header("traceparent"), kTraceparent);
    EXPECT_EQ(r.Header("webhook-id"), f.delivery.id);
    EXPECT_EQ(r.Header("webhook-timestamp"),
              std::to_string(absl::ToUnixSeconds(first_at + absl::Seconds(5) * i)));
    EXPECT_OK(VerifyWebhook(Key(secret_), r.headers, r.body, clock_.Now()));
    // The signature covers the exact body: another body fails.
    EXPECT_THAT(VerifyWebhook(Key(secret_), r.headers, std::string(kBody) + " ", clock_.Now()),
                ::alerthub::testing::StatusIs(absl::StatusCode::kUnauthenticated));
  }
}

TEST_F(WebhookSenderTest, SignsWithEverySecretWhileRotating) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(204))));
  AttemptFixture f = Fixture(server->Url("/hook"));
  f.integration.config["previous_secrets"] = {previous_secret_};

  EXPECT_EQ(sender_->Send(f.Attempt()).outcome, AttemptOutcome::kSuccess);
  ASSERT_THAT(server->requests(), SizeIs(1));
  const RecordedRequest r = server->requests()[0];
  const std::vector<std::string> signatures = absl::StrSplit(r.Header("webhook-signature"), ' ');
  ASSERT_THAT(signatures, SizeIs(2));
  // Receivers on either secret accept it.
  EXPECT_OK(VerifyWebhook(Key(secret_), r.headers, r.body, clock_.Now()));
  EXPECT_OK(VerifyWebhook(Key(previous_secret_), r.headers, r.body, clock_.Now()));
  EXPECT_THAT(VerifyWebhook(Key(GenerateWebhookSecret()), r.headers, r.body, clock_.Now()),
              ::alerthub::testing::StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(WebhookSenderTest, HonoursRetryAfterInSecondsAndAsADate) {
  const std::string in_90s = absl::FormatTime(
      "%a, %d %b %Y %H:%M:%S GMT", clock_.Now() + absl::Seconds(90), absl::UTCTimeZone());
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<FakeHttpServer> server,
      FakeHttpServer::Start(ScriptedAnswers({Respond(429, "", {{"Retry-After", "120"}}),
                                             Respond(503, "", {{"Retry-After", in_90s}})})));
  const AttemptFixture f = Fixture(server->Url("/hook"));

  SendResult limited = sender_->Send(f.Attempt(1));
  EXPECT_EQ(limited.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(limited.code, 429);
  EXPECT_THAT(limited.retry_after, Optional(absl::Seconds(120)));
  SendResult unavailable = sender_->Send(f.Attempt(2));
  EXPECT_EQ(unavailable.outcome, AttemptOutcome::kRetriable);
  EXPECT_THAT(unavailable.retry_after, Optional(absl::Seconds(90)));
}

TEST_F(WebhookSenderTest, ClassifiesAnswersByStatus) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({
                           Respond(410, "endpoint deleted"),
                           Respond(400, "bad signature\nmore detail"),
                           Respond(301, "", {{"Location", "http://127.0.0.1:1/elsewhere"}}),
                           Respond(500, std::string(3000, 'e')),
                       })));
  const AttemptFixture f = Fixture(server->Url("/hook"));

  EXPECT_EQ(sender_->Send(f.Attempt()).outcome, AttemptOutcome::kGone);
  SendResult bad = sender_->Send(f.Attempt());
  EXPECT_EQ(bad.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(bad.error, "webhook receiver answered HTTP 400: bad signature");
  SendResult moved = sender_->Send(f.Attempt());
  EXPECT_EQ(moved.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(moved.code, 301);
  SendResult error = sender_->Send(f.Attempt());
  EXPECT_EQ(error.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(error.response.size(), 1024u);
  // The redirect was not followed.
  EXPECT_THAT(server->requests(), SizeIs(4));
}

TEST_F(WebhookSenderTest, TimeoutIsRetriableWithoutACode) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<FakeHttpServer> server,
      FakeHttpServer::Start(ScriptedAnswers({}, RespondAfter(absl::Seconds(5), 200))));
  ChannelOptions options;
  options.clock = &clock_;
  options.timeout = absl::Milliseconds(300);
  std::unique_ptr<ChannelSender> sender = NewWebhookSender(options, http_.get());

  SendResult r = sender->Send(Fixture(server->Url("/slow")).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.error, HasSubstr("no answer from webhook receiver: DEADLINE_EXCEEDED"));
}

TEST_F(WebhookSenderTest, NeverSendsUnsigned) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(200))));
  AttemptFixture f = Fixture(server->Url("/hook"));
  f.integration.config.erase("secret");
  SendResult r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("no secret"));

  f.integration.config["secret"] = "whsec_not base64!";
  r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("config.secret"));
  EXPECT_THAT(r.error, ::testing::Not(HasSubstr("not base64!")));
  EXPECT_TRUE(server->requests().empty());
}

TEST_F(WebhookSenderTest, DropsAMalformedTraceparent) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeHttpServer> server,
                       FakeHttpServer::Start(ScriptedAnswers({}, Respond(200))));
  const AttemptFixture f = Fixture(server->Url("/hook"));
  EXPECT_EQ(sender_->Send(f.Attempt(1, "00-zz\r\nX-Injected: 1")).outcome,
            AttemptOutcome::kSuccess);
  EXPECT_EQ(server->requests()[0].Header("traceparent"), "");
  EXPECT_EQ(server->requests()[0].Header("X-Injected"), "");
}

}  // namespace
}  // namespace alerthub
