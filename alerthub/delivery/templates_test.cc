#include "alerthub/delivery/templates.h"

#include <algorithm>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "alerthub/common/status.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/template.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Key;
using Json = nlohmann::json;

constexpr absl::string_view kId = "0190a5d0-4b1e-7c3a-9f00-1234567890ab";

Notification Deploy() {
  Notification n;
  n.id = std::string(kId);
  n.tenant_id = "0190a5d0-0000-7000-8000-000000000001";
  n.type = "deploy.finished";
  n.title = "Deploy <v2> & done";
  n.body = "All \"good\"\nsecond line";
  n.priority = Priority::kHigh;
  n.created_at = absl::FromUnixSeconds(1'800'000'000);
  n.updated_at = n.created_at;
  n.tags = {{"env", "prod"}, {"team", "core"}};
  n.recipients = {"u1", "u2"};
  n.data = Json::parse(R"({"build": {"url": "https://ci.example.com/1?a=1&b=2",
      "ok": true, "failed": false, "n": 42, "ratio": 0.5,
      "items": [{"name": "api"}, {"name": "web"}], "none": null}})");
  return n;
}

Template MakeTemplate(Channel channel, std::map<std::string, std::string> fields) {
  Template t;
  t.name = "deploy.v1";
  t.channel = channel;
  t.fields = std::move(fields);
  return t;
}

std::string Render(absl::string_view tmpl, const Json& context, Escaping e) {
  absl::StatusOr<std::string> out = RenderTemplate(tmpl, context, e);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : "<error>";
}

// --- RenderTemplate ---------------------------------------------------------

TEST(RenderTemplateTest, EscapesValuesForWhereTheyLand) {
  const Json ctx = {{"v", "<b>\"Tom\" & 'Jerry'</b>"}};
  EXPECT_EQ(Render("<p>{{v}}</p>", ctx, Escaping::kHtml),
            "<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>");
  EXPECT_EQ(Render("<p>{{v}}</p>", ctx, Escaping::kNone), "<p><b>\"Tom\" & 'Jerry'</b></p>");
  EXPECT_EQ(Render("{\"v\": \"{{v}}\"}", ctx, Escaping::kJson),
            "{\"v\": \"<b>\\\"Tom\\\" & 'Jerry'</b>\"}");
  EXPECT_EQ(Render("<{{v}}|x>", ctx, Escaping::kSlack),
            "<&lt;b&gt;\"Tom\" &amp; 'Jerry'&lt;/b&gt;|x>");
  // Triple mustache and & insert the value unescaped.
  EXPECT_EQ(Render("{{{v}}}|{{& v}}", ctx, Escaping::kHtml),
            "<b>\"Tom\" & 'Jerry'</b>|<b>\"Tom\" & 'Jerry'</b>");
}

TEST(RenderTemplateTest, JsonEscapingHandlesControlCharacters) {
  const Json ctx = {{"v", "a\nb\t\\c\x01\x1f" "caf\xc3\xa9"}};
  const std::string out = Render("{\"v\": \"{{v}}\"}", ctx, Escaping::kJson);
  EXPECT_EQ(out, "{\"v\": \"a\\nb\\t\\\\c\\u0001\\u001fcaf\xc3\xa9\"}");
  EXPECT_EQ(Json::parse(out)["v"], ctx["v"]);
}

TEST(RenderTemplateTest, ReadsDataTagsListsAndScalars) {
  const Json ctx = TemplateContext(Deploy());
  EXPECT_EQ(Render("{{data.build.url}} {{tags.env}}/{{tags.team}} n={{data.build.n}} "
                   "r={{data.build.ratio}}",
                   ctx, Escaping::kNone),
            "https://ci.example.com/1?a=1&b=2 prod/core n=42 r=0.5");
  EXPECT_EQ(Render("{{#data.build.ok}}ok{{/data.build.ok}}"
                   "{{#data.build.failed}}failed{{/data.build.failed}}"
                   "{{^data.build.failed}} not-failed{{/data.build.failed}}"
                   "{{^data.build.none}} none{{/data.build.none}}",
                   ctx, Escaping::kNone),
            "ok not-failed none");
  EXPECT_EQ(Render("{{#data.build.items}}[{{name}}]{{/data.build.items}} "
                   "{{#recipients}}{{.}};{{/recipients}}",
                   ctx, Escaping::kNone),
            "[api][web] u1;u2;");
  EXPECT_EQ(Render("{{#data.build}}{{url}}{{/data.build}}", ctx, Escaping::kHtml),
            "https://ci.example.com/1?a=1&amp;b=2");
}

TEST(RenderTemplateTest, MissingVariablesRenderEmpty) {
  EXPECT_EQ(Render("a{{missing}}b{{data.nope.deeper}}c{{#missing}}x{{/missing}}d", Json::object(),
                   Escaping::kHtml),
            "abcd");
  EXPECT_EQ(Render("{{^missing}}shown{{/missing}}", Json::object(), Escaping::kHtml), "shown");
}

TEST(RenderTemplateTest, MalformedTemplatesAreInvalidArgumentWithTheReason) {
  EXPECT_THAT(RenderTemplate("Hello {{name", Json::object(), Escaping::kHtml),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template is malformed: Unclosed tag at 6"));
  EXPECT_THAT(RenderTemplate("{{#items}}x", Json::object(), Escaping::kHtml),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template is malformed: Unclosed section \"items\" at 0"));
  EXPECT_THAT(RenderTemplate("x{{/items}}", Json::object(), Escaping::kHtml),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template is malformed: Unopened section \"items\" at 1"));
  EXPECT_THAT(RenderTemplate("{{=<% =}}", Json::object(), Escaping::kHtml),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template is malformed: Invalid set delimiter tag at 0"));
}

TEST(RenderTemplateTest, ContextMustBeAnObject) {
  EXPECT_THAT(RenderTemplate("x", Json::array(), Escaping::kNone),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template context must be a JSON object"));
}

TEST(RenderTemplateTest, CustomDelimitersWork) {
  EXPECT_EQ(Render("{{=<% %>=}}<%v%> {{v}}", {{"v", "x"}}, Escaping::kNone), "x {{v}}");
}

TEST(RenderTemplateTest, PartialsRenderNothingSoDataCannotInjectTemplates) {
  const Json ctx = {{"title", "{{secret}}"}, {"secret", "s3cr3t"}};
  EXPECT_EQ(Render("[{{> title}}]", ctx, Escaping::kNone), "[]");
}

TEST(RenderTemplateTest, RefusesDeepSectionNesting) {
  auto nested = [](int depth, absl::string_view open, absl::string_view close) {
    std::string t;
    for (int i = 0; i < depth; ++i) absl::StrAppend(&t, open);
    t += "x";
    for (int i = 0; i < depth; ++i) absl::StrAppend(&t, close);
    return t;
  };
  const Json ctx = {{"a", "truthy"}};
  EXPECT_EQ(Render(nested(32, "{{#a}}", "{{/a}}"), ctx, Escaping::kNone), "x");
  EXPECT_THAT(RenderTemplate(nested(33, "{{#a}}", "{{/a}}"), ctx, Escaping::kNone),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template nests sections deeper than 32"));
  EXPECT_THAT(RenderTemplate(nested(33, "{{^b}}", "{{/b}}"), ctx, Escaping::kNone),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template nests sections deeper than 32"));
  // Changing the delimiters does not hide the nesting.
  EXPECT_THAT(RenderTemplate("{{=| |=}}" + nested(33, "|#a|", "|/a|"), ctx, Escaping::kNone),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template nests sections deeper than 32"));
  // 20,000 levels would overflow the stack without the check.
  EXPECT_THAT(RenderTemplate(nested(20'000, "{{#a}}", "{{/a}}"), ctx, Escaping::kNone),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template nests sections deeper than 32"));
}

TEST(RenderTemplateTest, RefusesRendersThatWouldExplode) {
  Json xs = Json::array();
  for (int i = 0; i < 1000; ++i) xs.push_back(i);
  // 1000^3 iterations.
  EXPECT_THAT(RenderTemplate("{{#xs}}{{#xs}}{{#xs}}{{.}}{{/xs}}{{/xs}}{{/xs}}",
                             {{"xs", xs}}, Escaping::kNone),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template needs too much work to render (sections iterate too "
                       "much data)"));
  // One level over the same list is fine.
  absl::StatusOr<std::string> once =
      RenderTemplate("{{#xs}}{{.}},{{/xs}}", {{"xs", xs}}, Escaping::kNone);
  ASSERT_TRUE(once.ok()) << once.status();
  EXPECT_EQ(once->substr(0, 8), "0,1,2,3,");

  const Json big = {{"big", std::string(600 * 1024, 'x')}};
  EXPECT_THAT(RenderTemplate("{{big}}{{big}}", big, Escaping::kNone),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template renders 1228800 bytes; the limit is 1048576"));
}

TEST(RenderTemplateTest, RefusesDeeplyNestedContexts) {
  Json deep = "leaf";
  for (int i = 0; i < 70; ++i) deep = Json{{"d", deep}};
  EXPECT_THAT(RenderTemplate("x", deep, Escaping::kNone),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template context nests deeper than 64"));
}

// --- TemplateContext ----------------------------------------------------------

TEST(TemplateContextTest, ExposesTheNotification) {
  EXPECT_EQ(TemplateContext(Deploy()), Json::parse(R"({
      "id": "0190a5d0-4b1e-7c3a-9f00-1234567890ab",
      "type": "deploy.finished",
      "priority": "high",
      "title": "Deploy <v2> & done",
      "body": "All \"good\"\nsecond line",
      "data": {"build": {"url": "https://ci.example.com/1?a=1&b=2", "ok": true,
               "failed": false, "n": 42, "ratio": 0.5,
               "items": [{"name": "api"}, {"name": "web"}], "none": null}},
      "tags": {"env": "prod", "team": "core"},
      "recipients": ["u1", "u2"],
      "created_at": "2027-01-15T08:00:00.000000Z"})"));
}

TEST(TemplateContextTest, OmitsEmptyTitleBodyAndUnsetTime) {
  Notification n;
  n.id = "i";
  n.type = "t";
  EXPECT_EQ(TemplateContext(n), Json::parse(R"({"id": "i", "type": "t",
      "priority": "normal", "data": {}, "tags": {}, "recipients": []})"));
}

// --- RenderForChannel: defaults -------------------------------------------------

TEST(RenderForChannelTest, DefaultEmailEscapesHtmlButNotText) {
  absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kEmail, nullptr, Deploy());
  ASSERT_TRUE(m.ok()) << m.status();
  const EmailMessage& email = std::get<EmailMessage>(*m);
  EXPECT_EQ(email.subject, "Deploy <v2> & done");
  EXPECT_EQ(email.text,
            "Deploy <v2> & done\n\nAll \"good\"\nsecond line\n\n-- \n"
            "deploy.finished | priority high | 0190a5d0-4b1e-7c3a-9f00-1234567890ab\n");
  EXPECT_EQ(email.html,
            "<!DOCTYPE html>\n<html><body>\n"
            "<h2>Deploy &lt;v2&gt; &amp; done</h2>\n"
            "<p style=\"white-space: pre-wrap\">All &quot;good&quot;\nsecond line</p>\n"
            "<p style=\"color: #888888; font-size: 12px\">deploy.finished | priority "
            "high | 0190a5d0-4b1e-7c3a-9f00-1234567890ab</p>\n"
            "</body></html>\n");
}

TEST(RenderForChannelTest, DefaultsFallBackToTheTypeWithoutATitle) {
  Notification n = Deploy();
  n.title.clear();
  absl::StatusOr<RenderedMessage> email = RenderForChannel(Channel::kEmail, nullptr, n);
  ASSERT_TRUE(email.ok()) << email.status();
  EXPECT_EQ(std::get<EmailMessage>(*email).subject, "deploy.finished");
  EXPECT_EQ(std::get<EmailMessage>(*email).text.substr(0, 9), "All \"good");
  absl::StatusOr<RenderedMessage> slack = RenderForChannel(Channel::kSlack, nullptr, n);
  ASSERT_TRUE(slack.ok()) << slack.status();
  EXPECT_EQ(std::get<SlackMessage>(*slack).text, "All \"good\"\nsecond line");
  absl::StatusOr<RenderedMessage> push = RenderForChannel(Channel::kPush, nullptr, n);
  ASSERT_TRUE(push.ok()) << push.status();
  EXPECT_EQ(std::get<PushMessage>(*push).title, "deploy.finished");
}

TEST(RenderForChannelTest, DefaultSlackEscapesMrkdwnControlCharacters) {
  Notification n = Deploy();
  n.body = "ping <!channel> & <https://evil.example|click>";
  absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kSlack, nullptr, n);
  ASSERT_TRUE(m.ok()) << m.status();
  const SlackMessage& slack = std::get<SlackMessage>(*m);
  EXPECT_EQ(slack.text,
            "*Deploy &lt;v2&gt; &amp; done*\n"
            "ping &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;");
  EXPECT_EQ(slack.blocks, std::nullopt);
}

TEST(RenderForChannelTest, DefaultDiscordPushAndWebhook) {
  const Notification n = Deploy();
  absl::StatusOr<RenderedMessage> discord = RenderForChannel(Channel::kDiscord, nullptr, n);
  ASSERT_TRUE(discord.ok()) << discord.status();
  EXPECT_EQ(std::get<DiscordMessage>(*discord).content,
            "**Deploy <v2> & done**\nAll \"good\"\nsecond line");

  absl::StatusOr<RenderedMessage> push = RenderForChannel(Channel::kPush, nullptr, n);
  ASSERT_TRUE(push.ok()) << push.status();
  EXPECT_EQ(std::get<PushMessage>(*push).title, "Deploy <v2> & done");
  EXPECT_EQ(std::get<PushMessage>(*push).body, "All \"good\"\nsecond line");

  absl::StatusOr<RenderedMessage> webhook = RenderForChannel(Channel::kWebhook, nullptr, n);
  ASSERT_TRUE(webhook.ok()) << webhook.status();
  EXPECT_EQ(std::get<WebhookMessage>(*webhook).body, NotificationToJson(n).dump());
}

TEST(RenderForChannelTest, ChatDefaultsShowTheTypeWhenThereIsNoText) {
  Notification n = Deploy();
  n.title.clear();
  n.body.clear();
  absl::StatusOr<RenderedMessage> slack = RenderForChannel(Channel::kSlack, nullptr, n);
  ASSERT_TRUE(slack.ok()) << slack.status();
  EXPECT_EQ(std::get<SlackMessage>(*slack).text, "deploy.finished");
  absl::StatusOr<RenderedMessage> discord = RenderForChannel(Channel::kDiscord, nullptr, n);
  ASSERT_TRUE(discord.ok()) << discord.status();
  EXPECT_EQ(std::get<DiscordMessage>(*discord).content, "deploy.finished");
  n.body = "only a body";
  discord = RenderForChannel(Channel::kDiscord, nullptr, n);
  ASSERT_TRUE(discord.ok()) << discord.status();
  EXPECT_EQ(std::get<DiscordMessage>(*discord).content, "only a body");
}

TEST(RenderForChannelTest, DiscordContentIsCutAtTwoThousandCharacters) {
  Notification n = Deploy();
  n.title.clear();
  n.body.clear();
  for (int i = 0; i < 2500; ++i) n.body += "\xc3\xa9";  // é, two bytes
  absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kDiscord, nullptr, n);
  ASSERT_TRUE(m.ok()) << m.status();
  const std::string& content = std::get<DiscordMessage>(*m).content;
  std::string expected;
  for (int i = 0; i < 1999; ++i) expected += "\xc3\xa9";
  expected += "\xe2\x80\xa6";
  EXPECT_EQ(content, expected);

  n.body = std::string(2000, 'x');  // exactly at the limit: untouched
  m = RenderForChannel(Channel::kDiscord, nullptr, n);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(std::get<DiscordMessage>(*m).content, std::string(2000, 'x'));
}

TEST(RenderForChannelTest, DefaultFieldsAreFieldsTheModelAllows) {
  for (Channel c : {Channel::kWebhook, Channel::kSlack, Channel::kDiscord, Channel::kEmail,
                    Channel::kPush}) {
    absl::Span<const absl::string_view> allowed = TemplateFieldsFor(c);
    for (const auto& [field, text] : DefaultTemplateFields(c)) {
      EXPECT_NE(std::find(allowed.begin(), allowed.end(), field), allowed.end())
          << ChannelName(c) << "." << field;
    }
  }
  EXPECT_TRUE(DefaultTemplateFields(Channel::kWebhook).empty());
  EXPECT_THAT(DefaultTemplateFields(Channel::kEmail),
              ElementsAre(Key("html"), Key("subject"), Key("text")));
}

// --- RenderForChannel: stored templates -------------------------------------------

TEST(RenderForChannelTest, TemplateFieldsReplaceDefaultsOneByOne) {
  const Template t = MakeTemplate(
      Channel::kEmail, {{"subject", "[{{tags.env}}] {{title}}\nBcc: evil@example.com"}});
  absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kEmail, &t, Deploy());
  ASSERT_TRUE(m.ok()) << m.status();
  const EmailMessage& email = std::get<EmailMessage>(*m);
  // One line, whatever the template does: no header injection.
  EXPECT_EQ(email.subject, "[prod] Deploy <v2> & done Bcc: evil@example.com");
  EXPECT_EQ(email.text.substr(0, 20), "Deploy <v2> & done\n\n");
  EXPECT_EQ(email.html.substr(0, 15), "<!DOCTYPE html>");
}

TEST(RenderForChannelTest, SlackBlocksAreJsonWithValuesEscapedTwice) {
  Notification n = Deploy();
  n.title = "Deploy <v2> & \"q\"";
  const Template t = MakeTemplate(
      Channel::kSlack,
      {{"text", "{{title}}"},
       {"blocks",
        R"([{"type": "section", "text": {"type": "mrkdwn", "text": "*{{title}}* {{data.build.n}}"}}])"}});
  absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kSlack, &t, n);
  ASSERT_TRUE(m.ok()) << m.status();
  const SlackMessage& slack = std::get<SlackMessage>(*m);
  EXPECT_EQ(slack.text, "Deploy &lt;v2&gt; &amp; \"q\"");
  EXPECT_EQ(slack.blocks, Json::parse(R"([{"type": "section", "text": {"type": "mrkdwn",
      "text": "*Deploy &lt;v2&gt; &amp; \"q\"* 42"}}])"));
}

TEST(RenderForChannelTest, WebhookBodyTemplateRendersJsonAsWritten) {
  Notification n = Deploy();
  n.title = "say \"hi\"\n";
  const Template t = MakeTemplate(
      Channel::kWebhook,
      {{"body", R"({"text": "{{title}}", "n": {{data.build.n}}, "env": "{{tags.env}}"})"}});
  absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kWebhook, &t, n);
  ASSERT_TRUE(m.ok()) << m.status();
  const std::string& body = std::get<WebhookMessage>(*m).body;
  EXPECT_EQ(body, R"({"text": "say \"hi\"\n", "n": 42, "env": "prod"})");
  EXPECT_EQ(Json::parse(body)["text"], "say \"hi\"\n");
}

TEST(RenderForChannelTest, ReportsEveryBrokenFieldOfATemplate) {
  const Template email = MakeTemplate(
      Channel::kEmail, {{"subject", "{{title"}, {"html", "{{#a}}"}, {"text", "fine"}});
  absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kEmail, &email, Deploy());
  EXPECT_THAT(m, StatusIs(absl::StatusCode::kInvalidArgument,
                          ::testing::StartsWith(
                              "cannot render template \"deploy.v1\" for email")));
  EXPECT_EQ(FieldErrorsOf(m.status()),
            (std::vector<FieldError>{
                {"fields.subject", "template is malformed: Unclosed tag at 0"},
                {"fields.html", "template is malformed: Unclosed section \"a\" at 0"},
            }));

  const Template webhook = MakeTemplate(Channel::kWebhook, {{"body", "{\"t\": {{title}}}"}});
  EXPECT_EQ(FieldErrorsOf(RenderForChannel(Channel::kWebhook, &webhook, Deploy()).status()),
            (std::vector<FieldError>{{"fields.body", "must render valid JSON"}}));

  const Template slack =
      MakeTemplate(Channel::kSlack, {{"blocks", R"({"type": "section"})"}});
  EXPECT_EQ(FieldErrorsOf(RenderForChannel(Channel::kSlack, &slack, Deploy()).status()),
            (std::vector<FieldError>{{"fields.blocks", "must render a JSON array"}}));
}

TEST(RenderForChannelTest, RefusesATemplateOfAnotherChannel) {
  const Template t = MakeTemplate(Channel::kEmail, {{"subject", "x"}});
  EXPECT_THAT(RenderForChannel(Channel::kSlack, &t, Deploy()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "template \"deploy.v1\" is for email, not slack"));
}

}  // namespace
}  // namespace alerthub
