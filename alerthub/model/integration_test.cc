#include "alerthub/model/integration.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "alerthub/model/internal/test_util.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::model_test::HasFieldErrors;
using Json = nlohmann::json;

constexpr char kHttpRule[] = "must be an http or https URL";
constexpr char kSmtpRule[] =
    "must be an smtp:// or smtps:// URL without credentials";
constexpr char kSecretRule[] =
    "must be whsec_ followed by the base64 of 24-64 bytes";
constexpr char kEmailRule[] = "must be an e-mail address";
constexpr char kSlackEither[] =
    "must have either webhook_url or bot_token and channel";
constexpr char kAssigned[] = "is assigned by AlertHub and cannot be set";
// The Standard Webhooks example secret: 24 bytes.
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kPem[] =
    "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n";

struct Case {
  std::string name;
  Json request;
  std::vector<FieldError> errors;  // empty: accepted
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Json Request(const char* channel, Json config) {
  return {{"name", "ops"}, {"channel", channel}, {"config", std::move(config)}};
}

Json Webhook(const char* key, Json value) {
  Json config = {{"url", "https://example.com/hook"}};
  config[key] = std::move(value);
  return Request("webhook", std::move(config));
}

Json ValidEmail() {
  return Json::parse(R"({"smtp_url": "smtps://smtp.example.com:465",
      "username": "alerts", "password": "pw", "from": "alerts@example.com",
      "to": ["ops@example.com", "oncall@example.com"]})");
}

Json Email(const char* key, Json value) {
  Json config = ValidEmail();
  if (value.is_null()) {
    config.erase(key);
  } else {
    config[key] = std::move(value);
  }
  return Request("email", std::move(config));
}

Json ValidAccount() {
  return {{"type", "service_account"},
          {"project_id", "acme-prod"},
          {"private_key_id", "abc"},
          {"private_key", kPem},
          {"client_email", "fcm@acme-prod.iam.gserviceaccount.com"},
          {"client_id", "1234"},
          {"token_uri", "https://oauth2.googleapis.com/token"}};
}

Json Push(const char* key, Json value) {
  Json account = ValidAccount();
  if (value.is_null()) {
    account.erase(key);
  } else {
    account[key] = std::move(value);
  }
  return Request("push", {{"service_account", std::move(account)}});
}

std::vector<Case> Cases() {
  return {
      // Top level.
      {"WebhookMinimal",
       Request("webhook", {{"url", "https://example.com/h"}}),
       {}},
      {"NameMissing",
       Json{{"channel", "webhook"}, {"config", {{"url", "https://x.io"}}}},
       {{"name", "is required"}}},
      {"NameEmpty",
       [] {
         Json j = Webhook("url", "https://x.io");
         j["name"] = "";
         return j;
       }(),
       {{"name", "must not be empty"}}},
      {"NameTooLong",
       [] {
         Json j = Webhook("url", "https://x.io");
         j["name"] = std::string(129, 'n');
         return j;
       }(),
       {{"name", "must be at most 128 characters"}}},
      {"ChannelMissing",
       Json{{"name", "ops"}, {"config", Json::object()}},
       {{"channel", "is required"}}},
      {"ChannelMissingConfigNotObject",
       Json{{"name", "ops"}, {"config", 1}},
       {{"channel", "is required"}, {"config", "must be an object"}}},
      {"ChannelUnknown",
       Request("sms", Json::object()),
       {{"channel", "must be one of webhook, slack, discord, email, push"}}},
      {"ChannelNumber",
       Json{{"name", "ops"}, {"channel", 1}, {"config", Json::object()}},
       {{"channel", "must be a string"}}},
      {"ConfigMissing",
       Json{{"name", "ops"}, {"channel", "webhook"}},
       {{"config", "is required"}}},
      {"ConfigArray",
       Request("webhook", Json::array()),
       {{"config", "must be an object"}}},
      {"EnabledString",
       [] {
         Json j = Webhook("url", "https://x.io");
         j["enabled"] = "yes";
         return j;
       }(),
       {{"enabled", "must be a boolean"}}},
      {"DefaultNumber",
       [] {
         Json j = Webhook("url", "https://x.io");
         j["default"] = 1;
         return j;
       }(),
       {{"default", "must be a boolean"}}},
      {"AssignedId",
       [] {
         Json j = Webhook("url", "https://x.io");
         j["id"] = "x";
         return j;
       }(),
       {{"id", kAssigned}}},
      {"AssignedUpdatedAt",
       [] {
         Json j = Webhook("url", "https://x.io");
         j["updated_at"] = "x";
         return j;
       }(),
       {{"updated_at", kAssigned}}},
      {"UnknownField",
       [] {
         Json j = Webhook("url", "https://x.io");
         j["url"] = "x";
         return j;
       }(),
       {{"url", "unknown field"}}},
      {"NotAnObject", Json::array(), {{"", "must be a JSON object"}}},
      // Webhook.
      {"WebhookUrlMissing",
       Request("webhook", Json::object()),
       {{"config.url", "is required"}}},
      {"WebhookUrlNumber",
       Webhook("url", 1),
       {{"config.url", "must be a string"}}},
      {"WebhookUrlFtp",
       Webhook("url", "ftp://example.com/x"),
       {{"config.url", kHttpRule}}},
      {"WebhookUrlRelative",
       Webhook("url", "/hook"),
       {{"config.url", kHttpRule}}},
      {"WebhookUrlNoHost",
       Webhook("url", "https:///hook"),
       {{"config.url", kHttpRule}}},
      {"WebhookUrlSpace",
       Webhook("url", "https://exa mple.com/"),
       {{"config.url", kHttpRule}}},
      {"WebhookUrlBadPort",
       Webhook("url", "https://example.com:http/"),
       {{"config.url", kHttpRule}}},
      {"WebhookUrlIpv6", Webhook("url", "http://[::1]:8080/hook"), {}},
      {"WebhookUrlUppercaseScheme", Webhook("url", "HTTPS://EXAMPLE.COM"), {}},
      {"WebhookUrlLocalTestServer",
       Webhook("url", "http://127.0.0.1:9000/x?y=1"),
       {}},
      {"WebhookSecret", Webhook("secret", kSecret), {}},
      {"WebhookSecretNoPrefix",
       Webhook("secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
       {{"config.secret", kSecretRule}}},
      {"WebhookSecretShort",
       Webhook("secret", "whsec_eHh4eHh4eHh4eHh4eHh4eA=="),
       {{"config.secret", kSecretRule}}},
      {"WebhookSecretNotBase64",
       Webhook("secret", "whsec_!!!!"),
       {{"config.secret", kSecretRule}}},
      {"WebhookSecretNumber",
       Webhook("secret", 5),
       {{"config.secret", "must be a string"}}},
      {"WebhookUnknownConfig",
       Webhook("headers", Json::object()),
       {{"config.headers", "unknown field"}}},
      // Slack.
      {"SlackWebhook",
       Request("slack",
               {{"webhook_url", "https://hooks.slack.com/services/T/B/X"}}),
       {}},
      {"SlackBot",
       Request("slack", {{"bot_token", "xoxb-1-2"}, {"channel", "#ops"}}),
       {}},
      {"SlackNeither",
       Request("slack", Json::object()),
       {{"config", kSlackEither}}},
      {"SlackBoth",
       Request("slack",
               {{"webhook_url", "https://x.io"}, {"bot_token", "xoxb-1"}}),
       {{"config", std::string(kSlackEither) + ", not both"}}},
      {"SlackBotWithoutChannel",
       Request("slack", {{"bot_token", "xoxb-1"}}),
       {{"config.channel", "is required"}}},
      {"SlackChannelWithoutBot",
       Request("slack", {{"channel", "#ops"}}),
       {{"config.bot_token", "is required"}}},
      {"SlackBotTokenSpace",
       Request("slack", {{"bot_token", "xoxb 1"}, {"channel", "#ops"}}),
       {{"config.bot_token",
         "must be 1-256 printable characters without spaces"}}},
      {"SlackChannelTooLong",
       Request("slack",
               {{"bot_token", "xoxb-1"}, {"channel", std::string(81, 'c')}}),
       {{"config.channel", "must be at most 80 characters"}}},
      {"SlackWebhookUrlBad",
       Request("slack", {{"webhook_url", "hooks.slack.com"}}),
       {{"config.webhook_url", kHttpRule}}},
      // Discord.
      {"Discord",
       Request("discord",
               {{"webhook_url", "https://discord.com/api/webhooks/1/x"}}),
       {}},
      {"DiscordMissing",
       Request("discord", Json::object()),
       {{"config.webhook_url", "is required"}}},
      {"DiscordUnknown",
       Request("discord",
               {{"webhook_url", "https://d.io/x"}, {"bot_token", "t"}}),
       {{"config.bot_token", "unknown field"}}},
      // Email.
      {"Email", Request("email", ValidEmail()), {}},
      {"EmailNoCredentials",
       [] {
         Json c = ValidEmail();
         c.erase("username");
         c.erase("password");
         return Request("email", c);
       }(),
       {}},
      {"EmailSmtpUrlMissing",
       Email("smtp_url", nullptr),
       {{"config.smtp_url", "is required"}}},
      {"EmailSmtpUrlHttp",
       Email("smtp_url", "https://smtp.example.com"),
       {{"config.smtp_url", kSmtpRule}}},
      {"EmailSmtpUrlCredentials",
       Email("smtp_url", "smtp://u:p@smtp.example.com"),
       {{"config.smtp_url", kSmtpRule}}},
      {"EmailPasswordWithoutUsername",
       Email("username", nullptr),
       {{"config.username", "is required when password is set"}}},
      {"EmailUsernameEmpty",
       Email("username", ""),
       {{"config.username", "must not be empty"}}},
      {"EmailFromMissing",
       Email("from", nullptr),
       {{"config.from", "is required"}}},
      {"EmailFromBad", Email("from", "alerts"), {{"config.from", kEmailRule}}},
      {"EmailToMissing", Email("to", nullptr), {{"config.to", "is required"}}},
      {"EmailToString",
       Email("to", "ops@example.com"),
       {{"config.to", "must be an array of strings"}}},
      {"EmailToEmpty",
       Email("to", Json::array()),
       {{"config.to", "must list at least one address"}}},
      {"EmailToBad",
       Email("to", {"ops@example.com", "ops"}),
       {{"config.to[1]", kEmailRule}}},
      {"EmailToNumber",
       Email("to", {1}),
       {{"config.to[0]", "must be a string"}}},
      {"EmailToRepeated",
       Email("to", {"a@example.com", "a@example.com"}),
       {{"config.to[1]", "is listed more than once"}}},
      {"EmailToTooMany",
       Email("to", Json(std::vector<std::string>(101, "a@example.com"))),
       {{"config.to", "must have at most 100 entries"}}},
      // Push.
      {"Push",
       Request("push",
               {{"service_account", ValidAccount()}, {"tokens", {"tok"}}}),
       {}},
      {"PushNoTokenUri", Push("token_uri", nullptr), {}},
      {"PushAccountMissing",
       Request("push", Json::object()),
       {{"config.service_account", "is required"}}},
      {"PushAccountString",
       Request("push", {{"service_account", "{}"}}),
       {{"config.service_account", "must be an object"}}},
      {"PushAccountEmpty",
       Request("push", {{"service_account", Json::object()}}),
       {{"config.service_account.project_id", "is required"},
        {"config.service_account.client_email", "is required"},
        {"config.service_account.private_key", "is required"}}},
      {"PushProjectEmpty",
       Push("project_id", ""),
       {{"config.service_account.project_id", "must not be empty"}}},
      {"PushClientEmailBad",
       Push("client_email", "fcm"),
       {{"config.service_account.client_email", kEmailRule}}},
      {"PushPrivateKeyNotPem",
       Push("private_key", "secret"),
       {{"config.service_account.private_key", "must be a PEM private key"}}},
      {"PushTokenUriBad",
       Push("token_uri", "oauth2.googleapis.com"),
       {{"config.service_account.token_uri", kHttpRule}}},
      {"PushTokensString",
       Request("push", {{"service_account", ValidAccount()}, {"tokens", "t"}}),
       {{"config.tokens", "must be an array of strings"}}},
      {"PushTokenEmpty",
       Request("push", {{"service_account", ValidAccount()}, {"tokens", {""}}}),
       {{"config.tokens[0]", "must not be empty"}}},
      {"PushUnknown",
       Request("push", {{"service_account", ValidAccount()}, {"topic", "x"}}),
       {{"config.topic", "unknown field"}}},
  };
}

class IntegrationRequestTest : public ::testing::TestWithParam<Case> {};

TEST_P(IntegrationRequestTest, ReportsExactFieldErrors) {
  absl::StatusOr<Integration> i =
      IntegrationFromRequestJson(GetParam().request);
  if (GetParam().errors.empty()) {
    EXPECT_OK(i);
  } else {
    EXPECT_THAT(i, HasFieldErrors(GetParam().errors));
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, IntegrationRequestTest,
                         ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(IntegrationFromRequestJsonTest, ParsesEveryField) {
  ASSERT_OK_AND_ASSIGN(Integration i,
                       IntegrationFromRequestJson(Json::parse(R"({
    "name": "ops hook", "channel": "webhook", "enabled": false, "default": true,
    "config": {"url": "https://example.com/hook",
               "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
  })")));
  EXPECT_EQ(i.name, "ops hook");
  EXPECT_EQ(i.channel, Channel::kWebhook);
  EXPECT_FALSE(i.enabled);
  EXPECT_TRUE(i.is_default);
  EXPECT_EQ(i.config, Json::parse(R"({"url": "https://example.com/hook",
      "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})"));
}

TEST(IntegrationFromRequestJsonTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(Integration i, IntegrationFromRequestJson(
                                          Webhook("url", "https://x.io")));
  EXPECT_TRUE(i.enabled);
  EXPECT_FALSE(i.is_default);
}

TEST(ValidateIntegrationConfigTest, PathsStartWithConfig) {
  EXPECT_OK(ValidateIntegrationConfig(Channel::kDiscord,
                                      {{"webhook_url", "https://d.io/x"}}));
  EXPECT_THAT(ValidateIntegrationConfig(Channel::kSlack, Json::object()),
              HasFieldErrors({{"config", kSlackEither}}));
  EXPECT_THAT(ValidateIntegrationConfig(Channel::kEmail, Json::object()),
              HasFieldErrors({{"config.smtp_url", "is required"},
                              {"config.from", "is required"},
                              {"config.to", "is required"}}));
  EXPECT_THAT(ValidateIntegrationConfig(Channel::kWebhook, Json("x")),
              HasFieldErrors({{"config", "must be an object"}}));
  EXPECT_THAT(
      ValidateIntegrationConfig(static_cast<Channel>(9), Json::object()),
      HasFieldErrors({{"channel",
                       "must be one of webhook, slack, discord, "
                       "email, push"}}));
}

Integration Stored(Channel channel, Json config) {
  Integration i;
  i.id = "01936f0e-7a3c-7b21-9d4e-000000000004";
  i.tenant_id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  i.name = "ops";
  i.channel = channel;
  i.config = std::move(config);
  i.enabled = false;
  i.is_default = true;
  i.created_at = absl::FromUnixSeconds(1'800'000'000);
  i.updated_at = absl::FromUnixSeconds(1'800'000'001);
  return i;
}

TEST(IntegrationJsonTest, WritesEveryFieldWithSecrets) {
  Integration i =
      Stored(Channel::kWebhook,
             {{"url", "https://example.com/hook"}, {"secret", kSecret}});
  EXPECT_EQ(IntegrationToJson(i, SecretHandling::kInclude), Json::parse(R"({
    "id": "01936f0e-7a3c-7b21-9d4e-000000000004",
    "tenant_id": "01936f0e-7a3c-7b21-9d4e-000000000002",
    "name": "ops",
    "channel": "webhook",
    "config": {"url": "https://example.com/hook",
               "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    "enabled": false,
    "default": true,
    "created_at": "2027-01-15T08:00:00.000000Z",
    "updated_at": "2027-01-15T08:00:01.000000Z"
  })"));
}

TEST(IntegrationJsonTest, RedactsSecretsOfEveryChannel) {
  struct Row {
    Channel channel;
    Json config;
    Json redacted;
  };
  std::vector<Row> rows = {
      {Channel::kWebhook,
       {{"url", "https://x.io"}, {"secret", kSecret}},
       {{"url", "https://x.io"}, {"secret", "[redacted]"}}},
      {Channel::kWebhook, {{"url", "https://x.io"}}, {{"url", "https://x.io"}}},
      {Channel::kSlack,
       {{"webhook_url", "https://hooks.slack.com/services/T/B/X"}},
       {{"webhook_url", "[redacted]"}}},
      {Channel::kSlack,
       {{"bot_token", "xoxb-1"}, {"channel", "#ops"}},
       {{"bot_token", "[redacted]"}, {"channel", "#ops"}}},
      {Channel::kDiscord,
       {{"webhook_url", "https://d.io/api/webhooks/1/x"}},
       {{"webhook_url", "[redacted]"}}},
      {Channel::kEmail, ValidEmail(),
       [] {
         Json j = ValidEmail();
         j["password"] = "[redacted]";
         return j;
       }()},
      {Channel::kPush,
       {{"service_account", ValidAccount()}},
       [] {
         Json a = ValidAccount();
         a["private_key"] = "[redacted]";
         return Json{{"service_account", a}};
       }()},
  };
  for (const Row& row : rows) {
    Integration i = Stored(row.channel, row.config);
    EXPECT_EQ(IntegrationToJson(i, SecretHandling::kRedact)["config"],
              row.redacted)
        << row.config;
    EXPECT_EQ(IntegrationToJson(i, SecretHandling::kInclude)["config"],
              row.config);
  }
}

TEST(IntegrationJsonTest, RoundTripsEveryChannel) {
  const std::vector<std::pair<Channel, Json>> configs = {
      {Channel::kWebhook, {{"url", "https://x.io"}, {"secret", kSecret}}},
      {Channel::kSlack, {{"bot_token", "xoxb-1"}, {"channel", "#ops"}}},
      {Channel::kDiscord, {{"webhook_url", "https://d.io/x"}}},
      {Channel::kEmail, ValidEmail()},
      {Channel::kPush,
       {{"service_account", ValidAccount()}, {"tokens", {"t"}}}},
  };
  for (const auto& [channel, config] : configs) {
    Integration i = Stored(channel, config);
    ASSERT_OK_AND_ASSIGN(
        Integration back,
        IntegrationFromJson(IntegrationToJson(i, SecretHandling::kInclude)));
    EXPECT_EQ(back.id, i.id);
    EXPECT_EQ(back.tenant_id, i.tenant_id);
    EXPECT_EQ(back.name, i.name);
    EXPECT_EQ(back.channel, i.channel);
    EXPECT_EQ(back.config, i.config);
    EXPECT_EQ(back.enabled, i.enabled);
    EXPECT_EQ(back.is_default, i.is_default);
    EXPECT_EQ(back.created_at, i.created_at);
    EXPECT_EQ(back.updated_at, i.updated_at);
  }
}

TEST(IntegrationFromJsonTest, ChecksShapeAndIgnoresUnknown) {
  Json j = IntegrationToJson(
      Stored(Channel::kDiscord, {{"webhook_url", "https://d.io/x"}}),
      SecretHandling::kInclude);
  j["later"] = true;
  j["config"]["thread_id"] = "1";
  EXPECT_OK(IntegrationFromJson(j));
  // A redacted record is not a usable record.
  Json redacted = IntegrationToJson(
      Stored(Channel::kDiscord, {{"webhook_url", "https://d.io/x"}}),
      SecretHandling::kRedact);
  EXPECT_THAT(IntegrationFromJson(redacted),
              HasFieldErrors({{"config.webhook_url", kHttpRule}}));
  EXPECT_THAT(
      IntegrationFromJson(Json{{"name", "n"},
                               {"channel", "discord"},
                               {"config", {{"webhook_url", "https://d.io"}}}}),
      HasFieldErrors({{"id", "is required"}, {"tenant_id", "is required"}}));
}

}  // namespace
}  // namespace alerthub

namespace alerthub {
namespace {

TEST(IntegrationSecretsTest, PreviousSecretsAreValidatedAndRedacted) {
  const std::string good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  EXPECT_TRUE(ValidateIntegrationConfig(
                  Channel::kWebhook,
                  {{"url", "https://x.example/h"}, {"secret", good}, {"previous_secrets", {good}}})
                  .ok());
  absl::Status bad = ValidateIntegrationConfig(
      Channel::kWebhook,
      {{"url", "https://x.example/h"}, {"previous_secrets", {good, "nope"}}});
  ASSERT_FALSE(bad.ok());
  ASSERT_EQ(FieldErrorsOf(bad).size(), 1u);
  EXPECT_EQ(FieldErrorsOf(bad)[0].field, "config.previous_secrets[1]");
  EXPECT_FALSE(ValidateIntegrationConfig(
                   Channel::kWebhook,
                   {{"url", "https://x.example/h"},
                    {"previous_secrets", nlohmann::json::array({good, good, good, good, good, good})}})
                   .ok());

  Integration i;
  i.channel = Channel::kWebhook;
  i.config = {{"url", "https://x.example/h"}, {"secret", good}, {"previous_secrets", {good}}};
  nlohmann::json shown = IntegrationToJson(i, SecretHandling::kRedact);
  EXPECT_EQ(shown["config"]["previous_secrets"][0], "[redacted]");
  EXPECT_EQ(shown["config"]["url"], "https://x.example/h");
}

TEST(IntegrationSecretsTest, ForEachConfigSecretVisitsEverySecretPath) {
  nlohmann::json push = {{"service_account", {{"private_key", "PEM"}, {"client_email", "a@b"}}},
                         {"tokens", {"t1"}}};
  std::vector<std::string> paths;
  ForEachConfigSecret(Channel::kPush, push, [&](absl::string_view path, nlohmann::json& v) {
    paths.push_back(std::string(path));
    v = "replaced";
  });
  EXPECT_EQ(paths, std::vector<std::string>{"service_account.private_key"});
  EXPECT_EQ(push["service_account"]["private_key"], "replaced");
  nlohmann::json slack = {{"bot_token", "xoxb"}, {"channel", "#c"}};
  paths.clear();
  ForEachConfigSecret(Channel::kSlack, slack,
                      [&](absl::string_view path, nlohmann::json&) { paths.push_back(std::string(path)); });
  EXPECT_EQ(paths, std::vector<std::string>{"bot_token"});
}

}  // namespace
}  // namespace alerthub
