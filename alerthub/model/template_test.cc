#include "alerthub/model/template.h"

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
using ::testing::ElementsAre;
using Json = nlohmann::json;

constexpr char kSlugRule[] =
    "must be 1-128 characters of a-z, 0-9, '.', '_' or '-'";

struct Case {
  std::string name;
  Json request;
  std::vector<FieldError> errors;  // empty: accepted
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Json Request(Json name, Json channel, Json fields) {
  Json j = Json::object();
  if (!name.is_null()) j["name"] = std::move(name);
  if (!channel.is_null()) j["channel"] = std::move(channel);
  if (!fields.is_null()) j["fields"] = std::move(fields);
  return j;
}

std::vector<Case> Cases() {
  Json email_fields = {{"subject", "{{title}}"}, {"text", "{{body}}"}};
  return {
      {"Email", Request("deploy.v1", "email", email_fields), {}},
      {"EmailAllFields",
       Request("deploy.v1", "email",
               {{"subject", "s"}, {"text", "t"}, {"html", "<p>h</p>"}}),
       {}},
      {"Webhook",
       Request("w", "webhook", {{"body", "{\"t\": \"{{title}}\"}"}}),
       {}},
      {"Slack", Request("s", "slack", {{"text", "t"}, {"blocks", "[]"}}), {}},
      {"Discord", Request("d", "discord", {{"content", "c"}}), {}},
      {"Push", Request("p", "push", {{"title", "t"}, {"body", "b"}}), {}},
      {"NameMissing",
       Request(nullptr, "email", email_fields),
       {{"name", "is required"}}},
      {"NameNumber",
       Request(1, "email", email_fields),
       {{"name", "must be a string"}}},
      {"NameUppercase",
       Request("Deploy", "email", email_fields),
       {{"name", kSlugRule}}},
      {"NameTooLong",
       Request(std::string(129, 'n'), "email", email_fields),
       {{"name", kSlugRule}}},
      {"ChannelMissing",
       Request("n", nullptr, email_fields),
       {{"channel", "is required"}}},
      {"ChannelUnknown",
       Request("n", "sms", email_fields),
       {{"channel", "must be one of webhook, slack, discord, email, push"}}},
      {"ChannelUnknownFieldsNotObject",
       Request("n", "sms", "x"),
       {{"channel", "must be one of webhook, slack, discord, email, push"},
        {"fields", "must be an object"}}},
      {"FieldsMissing",
       Request("n", "email", nullptr),
       {{"fields", "is required"}}},
      {"FieldsArray",
       Request("n", "email", Json::array()),
       {{"fields", "must be an object"}}},
      {"FieldsEmpty",
       Request("n", "email", Json::object()),
       {{"fields", "must have at least one of subject, text, html"}}},
      {"FieldNotForChannel",
       Request("n", "slack", {{"html", "<p/>"}}),
       {{"fields.html",
         "is not a field of slack templates; expected one of text, blocks"}}},
      {"FieldNotForPush",
       Request("n", "push", {{"text", "t"}, {"title", "t"}}),
       {{"fields.text",
         "is not a field of push templates; expected one of title, body"}}},
      {"FieldNumber",
       Request("n", "discord", {{"content", 1}}),
       {{"fields.content", "must be a string"}}},
      {"FieldEmpty",
       Request("n", "discord", {{"content", ""}}),
       {{"fields.content", "must not be empty"}}},
      {"FieldLongest",
       Request("n", "webhook", {{"body", std::string(65536, 'b')}}),
       {}},
      {"FieldTooLong",
       Request("n", "webhook", {{"body", std::string(65537, 'b')}}),
       {{"fields.body", "must be at most 65536 characters"}}},
      {"AssignedId",
       [] {
         Json j = Request("n", "discord", {{"content", "c"}});
         j["id"] = "x";
         return j;
       }(),
       {{"id", "is assigned by AlertHub and cannot be set"}}},
      {"UnknownField",
       [] {
         Json j = Request("n", "discord", {{"content", "c"}});
         j["engine"] = "x";
         return j;
       }(),
       {{"engine", "unknown field"}}},
      {"NotAnObject", Json("x"), {{"", "must be a JSON object"}}},
  };
}

class TemplateRequestTest : public ::testing::TestWithParam<Case> {};

TEST_P(TemplateRequestTest, ReportsExactFieldErrors) {
  absl::StatusOr<Template> t = TemplateFromRequestJson(GetParam().request);
  if (GetParam().errors.empty()) {
    EXPECT_OK(t);
  } else {
    EXPECT_THAT(t, HasFieldErrors(GetParam().errors));
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, TemplateRequestTest,
                         ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(TemplateFieldsForTest, EveryChannel) {
  EXPECT_THAT(TemplateFieldsFor(Channel::kWebhook), ElementsAre("body"));
  EXPECT_THAT(TemplateFieldsFor(Channel::kSlack),
              ElementsAre("text", "blocks"));
  EXPECT_THAT(TemplateFieldsFor(Channel::kDiscord), ElementsAre("content"));
  EXPECT_THAT(TemplateFieldsFor(Channel::kEmail),
              ElementsAre("subject", "text", "html"));
  EXPECT_THAT(TemplateFieldsFor(Channel::kPush), ElementsAre("title", "body"));
  EXPECT_TRUE(TemplateFieldsFor(static_cast<Channel>(0)).empty());
}

TEST(TemplateJsonTest, WritesEveryFieldAndRoundTrips) {
  Template t;
  t.id = "01936f0e-7a3c-7b21-9d4e-000000000008";
  t.tenant_id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  t.name = "deploy.v1";
  t.channel = Channel::kEmail;
  t.fields = {{"subject", "Deployed {{data.version}}"}, {"html", "<b>ok</b>"}};
  t.created_at = absl::FromUnixSeconds(1'800'000'000);
  t.updated_at = absl::FromUnixSeconds(1'800'000'002);
  Json j = TemplateToJson(t);
  EXPECT_EQ(j, Json::parse(R"({
    "id": "01936f0e-7a3c-7b21-9d4e-000000000008",
    "tenant_id": "01936f0e-7a3c-7b21-9d4e-000000000002",
    "name": "deploy.v1",
    "channel": "email",
    "fields": {"subject": "Deployed {{data.version}}", "html": "<b>ok</b>"},
    "created_at": "2027-01-15T08:00:00.000000Z",
    "updated_at": "2027-01-15T08:00:02.000000Z"
  })"));
  ASSERT_OK_AND_ASSIGN(Template back, TemplateFromJson(j));
  EXPECT_EQ(back.id, t.id);
  EXPECT_EQ(back.tenant_id, t.tenant_id);
  EXPECT_EQ(back.name, t.name);
  EXPECT_EQ(back.channel, t.channel);
  EXPECT_EQ(back.fields, t.fields);
  EXPECT_EQ(back.created_at, t.created_at);
  EXPECT_EQ(back.updated_at, t.updated_at);

  j["later"] = 1;
  EXPECT_OK(TemplateFromJson(j));
  j.erase("id");
  EXPECT_THAT(TemplateFromJson(j), HasFieldErrors({{"id", "is required"}}));
}

TEST(TemplateFromRequestJsonTest, ParsesFields) {
  ASSERT_OK_AND_ASSIGN(
      Template t,
      TemplateFromRequestJson(Json::parse(
          R"({"name": "n", "channel": "push", "fields": {"title": "T", "body": "B"}})")));
  EXPECT_EQ(t.name, "n");
  EXPECT_EQ(t.channel, Channel::kPush);
  EXPECT_EQ(t.fields, (std::map<std::string, std::string>{{"body", "B"},
                                                          {"title", "T"}}));
}

}  // namespace
}  // namespace alerthub
