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

constexpr char kGoodToken[] = "xoxb-1234-5678-good";
constexpr size_t kMaxTextLength = 40000;

FakeResponse ApiAnswer(Json body, int status = 200, HttpHeaders headers = {}) {
  headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return Respond(status, body.dump(), std::move(headers));
}

// Slack as its docs describe it, for the two ways AlertHub posts.
//
// Incoming webhooks (/services/...): 200 "ok"; 400 "invalid_payload" for a
// body that is not JSON, "no_text" without text or blocks; 404 "no_service"
// for a removed webhook; 410 "channel_is_archived"; 429 with Retry-After.
//
// chat.postMessage (/api/chat.postMessage): HTTP 200 and {"ok": true, ...}
// or {"ok": false, "error"}: not_authed, invalid_auth, token_revoked,
// channel_not_found, not_in_channel, no_text, msg_too_long, invalid_blocks,
// internal_error; HTTP 429 {"ok": false, "error": "ratelimited"} with
// Retry-After.
FakeResponse FakeSlack(const RecordedRequest& r) {
  const Json body = Json::parse(r.body, nullptr, false);
  if (absl::StartsWith(r.target, "/services/")) {
    if (r.target == "/services/removed") return Respond(404, "no_service");
    if (r.target == "/services/archived") return Respond(410, "channel_is_archived");
    if (r.target == "/services/busy") {
      return Respond(429, "rate_limited", {{"Retry-After", "30"}});
    }
    if (!body.is_object()) return Respond(400, "invalid_payload");
    if (!body.contains("text") && !body.contains("blocks")) return Respond(400, "no_text");
    return Respond(200, "ok");
  }
  if (r.target != "/api/chat.postMessage") return Respond(404, "unknown_method");
  const std::string auth = r.Header("Authorization");
  if (auth.empty()) return ApiAnswer({{"ok", false}, {"error", "not_authed"}});
  if (auth == "Bearer xoxb-revoked") return ApiAnswer({{"ok", false}, {"error", "token_revoked"}});
  if (auth != absl::StrCat("Bearer ", kGoodToken)) {
    return ApiAnswer({{"ok", false}, {"error", "invalid_auth"}});
  }
  if (!body.is_object()) return ApiAnswer({{"ok", false}, {"error", "invalid_json"}});
  const std::string channel = body.value("channel", "");
  if (channel == "#busy") {
    return ApiAnswer({{"ok", false}, {"error", "ratelimited"}}, 429, {{"Retry-After", "3"}});
  }
  if (channel == "#flaky") return ApiAnswer({{"ok", false}, {"error", "internal_error"}});
  if (channel == "#proxy") return Respond(200, "<html>gateway</html>");
  if (channel == "#nowhere") return ApiAnswer({{"ok", false}, {"error", "channel_not_found"}});
  if (channel == "#private") return ApiAnswer({{"ok", false}, {"error", "not_in_channel"}});
  if (body.contains("blocks") && !body["blocks"].is_array()) {
    return ApiAnswer({{"ok", false}, {"error", "invalid_blocks"}});
  }
  const std::string text = body.value("text", "");
  if (text.empty() && !body.contains("blocks")) {
    return ApiAnswer({{"ok", false}, {"error", "no_text"}});
  }
  if (text.size() > kMaxTextLength) return ApiAnswer({{"ok", false}, {"error", "msg_too_long"}});
  return ApiAnswer({{"ok", true},
                    {"channel", "C0123456"},
                    {"ts", "1503435956.000247"},
                    {"message", {{"text", text}, {"type", "message"}}}});
}

class SlackSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(server_, FakeHttpServer::Start(&FakeSlack));
    ChannelOptions options;
    options.clock = &clock_;
    options.slack_api_base_url = server_->Url("/api");
    sender_ = NewSlackSender(options, http_.get());
  }

  AttemptFixture Webhook(const std::string& path, SlackMessage message) {
    return MakeFixture(Channel::kSlack, {{"webhook_url", server_->Url(path)}}, std::move(message));
  }
  AttemptFixture Bot(const std::string& channel, SlackMessage message,
                     const std::string& token = kGoodToken) {
    return MakeFixture(Channel::kSlack, {{"bot_token", token}, {"channel", channel}},
                       std::move(message));
  }

  SimulatedClock clock_;
  std::unique_ptr<HttpClient> http_ = NewCurlHttpClient(LoopbackAllowed());
  std::unique_ptr<FakeHttpServer> server_;
  std::unique_ptr<ChannelSender> sender_;
};

TEST_F(SlackSenderTest, IncomingWebhookPostsTextAndBlocks) {
  const Json blocks = Json::parse(R"([{"type":"section","text":{"type":"mrkdwn","text":"*v2*"}}])");
  SendResult r =
      sender_->Send(Webhook("/services/T1/B1/x", SlackMessage{"v2 is live", blocks}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.response, "ok");

  ASSERT_THAT(server_->requests(), SizeIs(1));
  const RecordedRequest req = server_->requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.Header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(req.Header("Authorization"), "");
  EXPECT_EQ(Json::parse(req.body), Json({{"text", "v2 is live"}, {"blocks", blocks}}));

  // Without blocks, none are sent.
  ASSERT_EQ(
      sender_->Send(Webhook("/services/T1/B1/x", SlackMessage{"plain", std::nullopt}).Attempt())
          .outcome,
      AttemptOutcome::kSuccess);
  EXPECT_EQ(Json::parse(server_->requests()[1].body), Json({{"text", "plain"}}));
}

// A delivery to one recipient: chat.postMessage writes to the user, an
// incoming webhook mentions them in its channel.
TEST_F(SlackSenderTest, ARecipientIsWrittenToOrMentioned) {
  User ada;
  ada.id = "user-ada";
  ada.addresses.slack_user_id = "U024BE7LH";
  AttemptFixture bot = Bot("#ops", SlackMessage{"deploy done", std::nullopt});
  bot.delivery.recipient = ada.id;
  SendAttempt a = bot.Attempt();
  a.recipient = &ada;
  ASSERT_EQ(sender_->Send(a).outcome, AttemptOutcome::kSuccess);
  AttemptFixture hook = Webhook("/services/T1/B1/x", SlackMessage{"deploy done", std::nullopt});
  a = hook.Attempt();
  a.recipient = &ada;
  ASSERT_EQ(sender_->Send(a).outcome, AttemptOutcome::kSuccess);
  ASSERT_THAT(server_->requests(), SizeIs(2));
  EXPECT_EQ(Json::parse(server_->requests()[0].body),
            Json({{"channel", "U024BE7LH"}, {"text", "deploy done"}}));
  EXPECT_EQ(Json::parse(server_->requests()[1].body), Json({{"text", "<@U024BE7LH> deploy done"}}));

  // Without a Slack id (removed since routing): permanent, nothing sent.
  User bob;
  bob.id = "user-bob";
  a.recipient = &bob;
  SendResult r = sender_->Send(a);
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(r.error, "recipient user-bob has no addresses.slack_user_id");
  EXPECT_THAT(server_->requests(), SizeIs(2));
}

TEST_F(SlackSenderTest, IncomingWebhookErrors) {
  SendResult removed =
      sender_->Send(Webhook("/services/removed", SlackMessage{"x", std::nullopt}).Attempt());
  EXPECT_EQ(removed.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(removed.code, 404);
  EXPECT_EQ(removed.error, "Slack incoming webhook answered HTTP 404: no_service");

  SendResult archived =
      sender_->Send(Webhook("/services/archived", SlackMessage{"x", std::nullopt}).Attempt());
  EXPECT_EQ(archived.outcome, AttemptOutcome::kGone);

  SendResult busy =
      sender_->Send(Webhook("/services/busy", SlackMessage{"x", std::nullopt}).Attempt());
  EXPECT_EQ(busy.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(busy.code, 429);
  EXPECT_THAT(busy.retry_after, Optional(absl::Seconds(30)));
}

TEST_F(SlackSenderTest, PostMessageWithBotToken) {
  SendResult r = sender_->Send(Bot("#ops", SlackMessage{"deploy done", std::nullopt}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kSuccess);
  EXPECT_EQ(r.code, 200);
  EXPECT_THAT(r.response, HasSubstr("\"ok\":true"));

  ASSERT_THAT(server_->requests(), SizeIs(1));
  const RecordedRequest req = server_->requests()[0];
  EXPECT_EQ(req.target, "/api/chat.postMessage");
  EXPECT_EQ(req.Header("Authorization"), absl::StrCat("Bearer ", kGoodToken));
  EXPECT_EQ(req.Header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(Json::parse(req.body), Json({{"channel", "#ops"}, {"text", "deploy done"}}));
}

TEST_F(SlackSenderTest, PostMessageErrorsAreMappedByCode) {
  struct Case {
    std::string channel;
    std::string token;
    AttemptOutcome outcome;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"#nowhere", kGoodToken, AttemptOutcome::kPermanent, "channel_not_found"},
      {"#private", kGoodToken, AttemptOutcome::kPermanent, "not_in_channel"},
      {"#ops", "xoxb-wrong", AttemptOutcome::kPermanent, "invalid_auth"},
      {"#ops", "xoxb-revoked", AttemptOutcome::kPermanent, "token_revoked"},
      {"#flaky", kGoodToken, AttemptOutcome::kRetriable, "internal_error"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    SendResult r =
        sender_->Send(Bot(c.channel, SlackMessage{"x", std::nullopt}, c.token).Attempt());
    EXPECT_EQ(r.outcome, c.outcome);
    EXPECT_EQ(r.code, 200);
    EXPECT_EQ(r.error, absl::StrCat("Slack chat.postMessage answered ", c.error));
  }
  SendResult too_long = sender_->Send(
      Bot("#ops", SlackMessage{std::string(kMaxTextLength + 1, 'x'), std::nullopt}).Attempt());
  EXPECT_EQ(too_long.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(too_long.error, "Slack chat.postMessage answered msg_too_long");
  SendResult bad_blocks = sender_->Send(Bot("#ops", SlackMessage{"x", Json::object()}).Attempt());
  EXPECT_EQ(bad_blocks.outcome, AttemptOutcome::kPermanent);
  EXPECT_EQ(bad_blocks.error, "Slack chat.postMessage answered invalid_blocks");
}

TEST_F(SlackSenderTest, PostMessageRateLimitIsRetriableWithRetryAfter) {
  SendResult r = sender_->Send(Bot("#busy", SlackMessage{"x", std::nullopt}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetriable);
  EXPECT_EQ(r.code, 429);
  EXPECT_THAT(r.retry_after, Optional(absl::Seconds(3)));
  EXPECT_THAT(r.error, HasSubstr("ratelimited"));
}

TEST_F(SlackSenderTest, PostMessageAnswerThatIsNotSlacksIsRetriable) {
  SendResult r = sender_->Send(Bot("#proxy", SlackMessage{"x", std::nullopt}).Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kRetriable);
  EXPECT_THAT(r.error, HasSubstr("without an \"ok\" member"));
}

TEST_F(SlackSenderTest, ConfigWithoutAWayToPostIsPermanent) {
  AttemptFixture f =
      MakeFixture(Channel::kSlack, {{"channel", "#ops"}}, SlackMessage{"x", std::nullopt});
  SendResult r = sender_->Send(f.Attempt());
  EXPECT_EQ(r.outcome, AttemptOutcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("config.bot_token is required"));
  EXPECT_TRUE(server_->requests().empty());
}

}  // namespace
}  // namespace alerthub
