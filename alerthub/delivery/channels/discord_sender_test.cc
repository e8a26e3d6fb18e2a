#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/channels/testing/channel_fixture.h"
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
using ::alerthub::testing::FakeResponse;
using ::alerthub::testing::LoopbackAllowed;
using ::alerthub::testing::MakeFixture;
using ::alerthub::testing::RecordedRequest;
using ::alerthub::testing::Respond;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::SizeIs;
using Json = nlohmann::json;

constexpr size_t kMaxContentLength = 2000;

FakeResponse JsonAnswer(int status, const Json& body, HttpHeaders headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  return Respond(status, body.dump(), std::move(headers));
}

// Discord's "Execute Webhook" as documented: POST /api/webhooks/{id}/{token}
// with {"content", "allowed_mentions"}; 200 with the message when
// ?wait=true, else 204; 400 {"message", "code"} for a bad body (50006 empty
// message, 50035 invalid form body); 404 {"message": "Unknown Webhook",
// "code": 10015}; 429 {"message", "retry_after": seconds, "global"} with
// Retry-After (whole seconds, rounded up) and X-RateLimit headers.
FakeResponse FakeDiscord(const RecordedRequest& r) {
  const std::string path = r.Path();
  if (!absl::StartsWith(path, "/api/webhooks/")) {
    return JsonAnswer(404, {{"message", "404: Not Found"}, {"code", 0}});
  }
  if (path == "/api/webhooks/1/deleted") {
    return JsonAnswer(404, {{"message", "Unknown Webhook"}, {"code", 10015}});
  }
  if (path == "/api/webhooks/1/limited") {
    return JsonAnswer(
        429,
        {{"message", "You are being rate limited."}, {"retry_after", 1.234}, {"global", false}},
        {{"Retry-After", "2"}, {"X-RateLimit-Reset-After", "1.234"}});
  }
  if (path == "/api/webhooks/1/global") {
    return JsonAnswer(
        429, {{"message", "You are being rate limited."}, {"retry_after", 64.57}, {"global", true}},
        {{"Retry-After", "65"}, {"X-RateLimit-Global", "true"}});
  }
  if (path == "/api/webhooks/1/cloudflare") {
    // An edge rate limit: a header, no JSON.
    return Respond(429, "error code: 1015", {{"Retry-After", "7"}});
  }
  const Json body = Json::parse(r.body, nullptr, false);
  if (!body.is_object()) {
    return JsonAnswer(400, {{"message", "Cannot send an empty message"}, {"code", 50006}});
  }
  const std::string content = body.value("content", "");
  if (content.empty()) {
    return JsonAnswer(400, {{"message", "Cannot send an empty message"}, {"code", 50006}});
  }
  if (content.size() > kMaxContentLength) {
    return JsonAnswer(400, {{"message", "Invalid Form Body"}, {"code", 50035}});
  }
  if (!absl::StrContains(r.target, "wait=true")) return Respond(204);
  return JsonAnswer(200, {{"id", "1100000000000000000"},
                          {"channel_id", "1000000000000000000"},
                          {"content", content},
                          {"webhook_id", "1"}});
}

class DiscordSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, FakeHttpServer::Start(&FakeDiscord));
    ChannelOptions options;
    options.clock = &clock_;
    sender_ = NewDiscordSender(options, http_.get());
  }

  AttemptFixture Fixture(const std::string& path, std::string content) {
    return MakeFixture(Channel::kDiscord, {{"webhook_url", server_->Url(path)}},
                       DiscordMessage{std::move(content)});
  }

  SimulatedClock clock_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient(LoopbackAllowed());
  std::unique_ptr<FakeHttpServer> server_;
  std::unique_ptr<ChannelSender> sender_;
};

TEST_F(DiscordSenderTest, ExecutesTheWebhookWithMentionsDisabled) {
  SendResult r = sender_->Send(Fixture("/api/webhooks/1/tok", "@everyone v2 is live").Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(r.code, 200);
  EXPECT_THAT(r.response, HasSubstr("\"webhook_id\":\"1\""));

  ASSERT_THAT(server_->requests(), SizeIs(1));
  const RecordedRequest req = server_->requests()[0];
  EXPECT_EQ(req.target, "/api/webhooks/1/tok?wait=true");
  EXPECT_EQ(req.Header("Content-Type"), "application/json");
  EXPECT_EQ(Json::parse(req.body), Json({{"content", "@everyone v2 is live"},
                                         {"allowed_mentions", {{"parse", Json::array()}}}}));
}

TEST_F(DiscordSenderTest, ARecipientIsMentionedAndTheOnlyOnePinged) {
  User ada;
  ada.id = "user-ada";
  ada.addresses.discord_user_id = "80351110224678912";
  const AttemptFixture f = Fixture("/api/webhooks/1/tok", "@everyone v2 is live");
  SendAttempt a = f.Attempt();
  a.recipient = &ada;
  ASSERT_EQ(sender_->Send(a).outcome, AttemptOutcome::kSuccess);
  ASSERT_THAT(server_->requests(), SizeIs(1));
  EXPECT_EQ(Json::parse(server_->requests()[0].body),
            Json({{"content", "<@80351110224678912> @everyone v2 is live"},
                  {"allowed_mentions",
                   {{"parse", Json::array()}, {"users", {"80351110224678912"}}}}}));

  User bob;
  bob.id = "user-bob";
  a.recipient = &bob;
  SendResult r = sender_->Send(a);
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "recipient user-bob has no addresses.discord_user_id");
  EXPECT_THAT(server_->requests(), SizeIs(1));
}

TEST_F(DiscordSenderTest, KeepsTheQueryOfTheWebhookUrl) {
  EXPECT_EQ(sender_->Send(Fixture("/api/webhooks/1/tok?thread_id=42", "x").Attempt()).outcome,
            AttemptOutcome::kSuccess);
  EXPECT_EQ(server_->requests()[0].target, "/api/webhooks/1/tok?thread_id=42&wait=true");
}

TEST_F(DiscordSenderTest, RateLimitUsesTheBodysFractionalRetryAfter) {
  SendResult r = sender_->Send(Fixture("/api/webhooks/1/limited", "x").Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(r.code, 429);
  EXPECT_THAT(r.retry_after, Optional(absl::Milliseconds(1234)));
  EXPECT_EQ(r.error, "Discord webhook answered HTTP 429: rate limited; retry after 1.234s");

  SendResult global = sender_->Send(Fixture("/api/webhooks/1/global", "x").Attempt());
  EXPECT_EQ(global.outcome, AttemptOutcome::kRetriable);
  EXPECT_THAT(global.retry_after, Optional(absl::Milliseconds(64570)));
  EXPECT_THAT(global.error, HasSubstr("(global limit)"));
}

TEST_F(DiscordSenderTest, RateLimitWithoutABodyUsesRetryAfter) {
  SendResult r = sender_->Send(Fixture("/api/webhooks/1/cloudflare", "x").Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetriable);
  EXPECT_THAT(r.retry_after, Optional(absl::Seconds(7)));
  EXPECT_EQ(r.error, "Discord webhook answered HTTP 429: error code: 1015");
}

TEST_F(DiscordSenderTest, ErrorsNameDiscordsMessageAndCode) {
  SendResult deleted = sender_->Send(Fixture("/api/webhooks/1/deleted", "x").Attempt());
  EXPECT_EQ(deleted.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(deleted.code, 404);
  EXPECT_EQ(deleted.error, "Discord webhook answered HTTP 404: Unknown Webhook (code 10015)");

  SendResult empty = sender_->Send(Fixture("/api/webhooks/1/tok", "").Attempt());
  EXPECT_EQ(empty.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(empty.error,
            "Discord webhook answered HTTP 400: Cannot send an empty message (code 50006)");

  SendResult too_long = sender_->Send(
      Fixture("/api/webhooks/1/tok", std::string(kMaxContentLength + 1, 'x')).Attempt());
  EXPECT_EQ(too_long.outcome, AttemptOutcome::kPermanent);
  EXPECT_THAT(too_long.error, HasSubstr("(code 50035)"));
}

TEST_F(DiscordSenderTest, MissingWebhookUrlIsPermanent) {
  AttemptFixture f = MakeFixture(Channel::kDiscord, Json::object(), DiscordMessage{"x"});
  SendResult r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "config.webhook_url is required");
}

}  // namespace
}  // namespace alerthub
