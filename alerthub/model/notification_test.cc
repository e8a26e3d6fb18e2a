#include "alerthub/model/notification.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "alerthub/model/internal/test_util.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::model_test::HasFieldErrors;
using ::alerthub::model_test::IsOkAndHolds;
using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

constexpr char kSlugRule[] =
    "must be 1-128 characters of a-z, 0-9, '.', '_' or '-'";
constexpr char kPriorityRule[] =
    "must be one of min, low, normal, high, critical or 1-5";
constexpr char kChannelRule[] =
    "must be one of webhook, slack, discord, email, push";
constexpr char kTagKeyRule[] =
    "key must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'";
constexpr char kDedupRule[] = "must be 1-256 printable characters";
constexpr char kRfc3339Rule[] =
    "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z";
constexpr char kAssigned[] = "is assigned by AlertHub and cannot be set";
constexpr char kUuidA[] = "01936f0e-7a3c-7b21-9d4e-0123456789ab";
constexpr char kUuidB[] = "01936f0e-7a3c-7b22-8d4e-0123456789ab";

// A valid request with `key` set to `value`.
Json With(const char* key, Json value) {
  Json j = {{"type", "deploy.finished"}};
  j[key] = std::move(value);
  return j;
}

std::string Repeat(absl::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&out, s);
  return out;
}

// {"a": {"a": ... {}}} nesting `levels` objects.
Json Nested(int levels) {
  Json j = Json::object();
  for (int i = 1; i < levels; ++i) j = Json{{"a", std::move(j)}};
  return j;
}

Json Tags(size_t n) {
  Json j = Json::object();
  for (size_t i = 0; i < n; ++i) j[absl::StrCat("k", i)] = "v";
  return j;
}

Json Strings(size_t n, absl::string_view prefix = "user-") {
  Json j = Json::array();
  for (size_t i = 0; i < n; ++i) j.push_back(absl::StrCat(prefix, i));
  return j;
}

Json Uuids(size_t n) {
  Json j = Json::array();
  for (size_t i = 0; i < n; ++i) {
    j.push_back(absl::StrFormat("01936f0e-7a3c-7b21-9d4e-%012d", i));
  }
  return j;
}

struct RequestCase {
  std::string name;
  Json request;
  std::vector<FieldError> errors;  // empty: the request is accepted
};

void PrintTo(const RequestCase& c, std::ostream* os) { *os << c.name; }

std::vector<RequestCase> RequestCases() {
  const std::string e_acute = "\xc3\xa9";  // é, two bytes, one character
  return {
      // type
      {"TypeMissing", Json::object(), {{"type", "is required"}}},
      {"TypeNull", Json{{"type", nullptr}}, {{"type", "is required"}}},
      {"TypeNumber", Json{{"type", 5}}, {{"type", "must be a string"}}},
      {"TypeEmpty", Json{{"type", ""}}, {{"type", kSlugRule}}},
      {"TypeUppercase", Json{{"type", "Deploy"}}, {{"type", kSlugRule}}},
      {"TypeSpace", Json{{"type", "a b"}}, {{"type", kSlugRule}}},
      {"TypeTooLong",
       Json{{"type", std::string(129, 'a')}},
       {{"type", kSlugRule}}},
      {"TypeLongest", Json{{"type", std::string(128, 'a')}}, {}},
      {"TypeAllClasses", Json{{"type", "a-z.0_9"}}, {}},
      // title
      {"TitleNumber", With("title", 5), {{"title", "must be a string"}}},
      {"TitleEmpty", With("title", ""), {{"title", "must not be empty"}}},
      {"TitleTooLong",
       With("title", std::string(257, 'a')),
       {{"title", "must be at most 256 characters"}}},
      {"TitleLongest", With("title", std::string(256, 'a')), {}},
      {"TitleCountsCharactersNotBytes",
       With("title", Repeat(e_acute, 256)),
       {}},
      {"TitleTooManyCharacters",
       With("title", Repeat(e_acute, 257)),
       {{"title", "must be at most 256 characters"}}},
      // body
      {"BodyArray",
       With("body", Json::array()),
       {{"body", "must be a string"}}},
      {"BodyEmpty", With("body", ""), {}},
      {"BodyLongest", With("body", std::string(16384, 'b')), {}},
      {"BodyTooLong",
       With("body", std::string(16385, 'b')),
       {{"body", "must be at most 16384 characters"}}},
      // priority
      {"PriorityName", With("priority", "critical"), {}},
      {"PriorityNumber", With("priority", 5), {}},
      {"PriorityNumericString", With("priority", "1"), {}},
      {"PriorityUnknownName",
       With("priority", "urgent"),
       {{"priority", kPriorityRule}}},
      {"PriorityUppercaseName",
       With("priority", "High"),
       {{"priority", kPriorityRule}}},
      {"PriorityZero", With("priority", 0), {{"priority", kPriorityRule}}},
      {"PrioritySix", With("priority", 6), {{"priority", kPriorityRule}}},
      {"PriorityNegative", With("priority", -1), {{"priority", kPriorityRule}}},
      {"PrioritySixString",
       With("priority", "6"),
       {{"priority", kPriorityRule}}},
      {"PriorityPaddedString",
       With("priority", "03"),
       {{"priority", kPriorityRule}}},
      {"PriorityFraction",
       With("priority", 3.5),
       {{"priority", kPriorityRule}}},
      {"PriorityBool", With("priority", true), {{"priority", kPriorityRule}}},
      // data
      {"DataArray",
       With("data", Json::array()),
       {{"data", "must be an object"}}},
      {"DataString", With("data", "x"), {{"data", "must be an object"}}},
      {"DataDeepest", With("data", Nested(16)), {}},
      {"DataTooDeep",
       With("data", Nested(17)),
       {{"data", "must be nested at most 16 levels deep"}}},
      {"DataArraysCountAsLevels",
       With("data", Json{{"a", Json::array({Nested(15)})}}),
       {{"data", "must be nested at most 16 levels deep"}}},
      // {"k":"..."} is the string's length plus 8 bytes.
      {"DataLargest", With("data", Json{{"k", std::string(65528, 'x')}}), {}},
      {"DataTooLarge",
       With("data", Json{{"k", std::string(65529, 'x')}}),
       {{"data", "must be at most 65536 bytes as JSON"}}},
      // tags
      {"TagsArray",
       With("tags", Json::array()),
       {{"tags", "must be an object"}}},
      {"TagValueNumber",
       With("tags", Json{{"env", 1}}),
       {{"tags.env", "must be a string"}}},
      {"TagKeySpace",
       With("tags", Json{{"bad key", "x"}}),
       {{"tags.bad key", kTagKeyRule}}},
      {"TagKeyEmpty", With("tags", Json{{"", "x"}}), {{"tags.", kTagKeyRule}}},
      {"TagKeyLongest", With("tags", Json{{std::string(64, 'K'), "x"}}), {}},
      {"TagKeyTooLong",
       With("tags", Json{{std::string(65, 'k'), "x"}}),
       {{absl::StrCat("tags.", std::string(65, 'k')), kTagKeyRule}}},
      {"TagValueEmpty", With("tags", Json{{"env", ""}}), {}},
      {"TagValueLongest",
       With("tags", Json{{"env", std::string(256, 'v')}}),
       {}},
      {"TagValueTooLong",
       With("tags", Json{{"env", std::string(257, 'v')}}),
       {{"tags.env", "must be at most 256 characters"}}},
      {"TagsMost", With("tags", Tags(64)), {}},
      {"TagsTooMany",
       With("tags", Tags(65)),
       {{"tags", "must have at most 64 entries"}}},
      // recipients
      {"RecipientsString",
       With("recipients", "u1"),
       {{"recipients", "must be an array of strings"}}},
      {"RecipientNumber",
       With("recipients", Json::array({"u1", 2})),
       {{"recipients[1]", "must be a string"}}},
      {"RecipientEmpty",
       With("recipients", Json::array({"u1", ""})),
       {{"recipients[1]", "must not be empty"}}},
      {"RecipientTooLong",
       With("recipients", Json::array({std::string(257, 'u')})),
       {{"recipients[0]", "must be at most 256 characters"}}},
      {"RecipientsMost", With("recipients", Strings(1000)), {}},
      {"RecipientsTooMany",
       With("recipients", Strings(1001)),
       {{"recipients", "must have at most 1000 entries"}}},
      // channels
      {"ChannelsString",
       With("channels", "email"),
       {{"channels", "must be an array of strings"}}},
      {"ChannelsAll",
       With("channels",
            Json::array({"webhook", "slack", "discord", "email", "push"})),
       {}},
      {"ChannelUnknown",
       With("channels", Json::array({"email", "sms"})),
       {{"channels[1]", kChannelRule}}},
      {"ChannelNumber",
       With("channels", Json::array({1})),
       {{"channels[0]", "must be a string"}}},
      {"ChannelRepeated",
       With("channels", Json::array({"email", "slack", "email"})),
       {{"channels[2]", "is listed more than once"}}},
      // integration_ids
      {"IntegrationIdsString",
       With("integration_ids", kUuidA),
       {{"integration_ids", "must be an array of strings"}}},
      {"IntegrationIdNotUuid",
       With("integration_ids", Json::array({kUuidA, "not-a-uuid"})),
       {{"integration_ids[1]", "must be a UUID"}}},
      {"IntegrationIdNumber",
       With("integration_ids", Json::array({7})),
       {{"integration_ids[0]", "must be a string"}}},
      {"IntegrationIdRepeated",
       With("integration_ids", Json::array({kUuidA, kUuidB, kUuidA})),
       {{"integration_ids[2]", "is listed more than once"}}},
      {"IntegrationIdRepeatedOtherCase",
       With("integration_ids",
            Json::array({kUuidA, "01936F0E-7A3C-7B21-9D4E-0123456789AB"})),
       {{"integration_ids[1]", "is listed more than once"}}},
      {"IntegrationIdsMost", With("integration_ids", Uuids(50)), {}},
      {"IntegrationIdsTooMany",
       With("integration_ids", Uuids(51)),
       {{"integration_ids", "must have at most 50 entries"}}},
      // template
      {"TemplateNumber",
       With("template", 5),
       {{"template", "must be a string"}}},
      {"TemplateEmpty", With("template", ""), {{"template", kSlugRule}}},
      {"TemplateUppercase",
       With("template", "Welcome"),
       {{"template", kSlugRule}}},
      {"TemplateTooLong",
       With("template", std::string(129, 't')),
       {{"template", kSlugRule}}},
      {"TemplateLongest", With("template", std::string(128, 't')), {}},
      // dedup_key
      {"DedupKeyNumber",
       With("dedup_key", 5),
       {{"dedup_key", "must be a string"}}},
      {"DedupKeyEmpty", With("dedup_key", ""), {{"dedup_key", kDedupRule}}},
      {"DedupKeyNewline",
       With("dedup_key", "a\nb"),
       {{"dedup_key", kDedupRule}}},
      {"DedupKeyDel", With("dedup_key", "a\x7f"), {{"dedup_key", kDedupRule}}},
      {"DedupKeyC1Control",
       With("dedup_key", "a\xc2\x85"),
       {{"dedup_key", kDedupRule}}},
      {"DedupKeyTooLong",
       With("dedup_key", std::string(257, 'd')),
       {{"dedup_key", kDedupRule}}},
      {"DedupKeyLongestInCharacters",
       With("dedup_key", Repeat(e_acute, 256)),
       {}},
      {"DedupKeySpacesAndSymbols",
       With("dedup_key", "order 42 / retry #1"),
       {}},
      // scheduled_at
      {"ScheduledAtNumber",
       With("scheduled_at", 5),
       {{"scheduled_at", "must be a string"}}},
      {"ScheduledAtNotATime",
       With("scheduled_at", "tomorrow"),
       {{"scheduled_at", kRfc3339Rule}}},
      {"ScheduledAtNoT",
       With("scheduled_at", "2027-01-15 08:00:00Z"),
       {{"scheduled_at", kRfc3339Rule}}},
      {"ScheduledAtNoOffset",
       With("scheduled_at", "2027-01-15T08:00:00"),
       {{"scheduled_at", kRfc3339Rule}}},
      {"ScheduledAtLatest",
       With("scheduled_at", FormatRfc3339(kNow + absl::Hours(24 * 30))),
       {}},
      {"ScheduledAtTooFar",
       With("scheduled_at",
            FormatRfc3339(kNow + absl::Hours(24 * 30) + absl::Seconds(1))),
       {{"scheduled_at", "must be at most 30 days ahead"}}},
      {"ScheduledAtPast", With("scheduled_at", "2001-01-01T00:00:00Z"), {}},
      // unknown and server-assigned members
      {"UnknownField", With("tittle", "x"), {{"tittle", "unknown field"}}},
      {"UnknownFieldNull",
       With("extra", nullptr),
       {{"extra", "unknown field"}}},
      {"AssignedId", With("id", kUuidA), {{"id", kAssigned}}},
      {"AssignedTenantId", With("tenant_id", "t"), {{"tenant_id", kAssigned}}},
      {"AssignedStatus", With("status", "delivered"), {{"status", kAssigned}}},
      {"AssignedCreatedAt",
       With("created_at", "2026-01-02T15:04:05Z"),
       {{"created_at", kAssigned}}},
      {"AssignedUpdatedAt",
       With("updated_at", "2026-01-02T15:04:05Z"),
       {{"updated_at", kAssigned}}},
      {"NullMeansAbsent", With("title", nullptr), {}},
      {"AssignedNullIsAbsent", With("id", nullptr), {}},
      // not an object
      {"BodyIsArray", Json::array(), {{"", "must be a JSON object"}}},
      {"BodyIsString", Json("x"), {{"", "must be a JSON object"}}},
      {"BodyIsNull", Json(), {{"", "must be a JSON object"}}},
      // every error is collected: unknown members first, then in field order
      {"AllErrorsCollected",
       Json{{"tpye", "x"},
            {"title", ""},
            {"priority", "urgent"},
            {"tags", {{"env", 1}}},
            {"channels", {"sms"}},
            {"id", "x"}},
       {{"id", kAssigned},
        {"tpye", "unknown field"},
        {"type", "is required"},
        {"title", "must not be empty"},
        {"priority", kPriorityRule},
        {"tags.env", "must be a string"},
        {"channels[0]", kChannelRule}}},
  };
}

class RequestValidationTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(RequestValidationTest, ReportsExactFieldErrors) {
  const RequestCase& c = GetParam();
  absl::StatusOr<Notification> n = NotificationFromRequestJson(c.request, kNow);
  if (c.errors.empty()) {
    EXPECT_OK(n);
  } else {
    EXPECT_THAT(n, HasFieldErrors(c.errors));
    EXPECT_THAT(n, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("invalid notification")));
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, RequestValidationTest,
                         ::testing::ValuesIn(RequestCases()),
                         [](const ::testing::TestParamInfo<RequestCase>& info) {
                           return info.param.name;
                         });

TEST(NotificationFromRequestJsonTest, ParsesEveryField) {
  Json request = Json::parse(R"({
    "type": "deploy.finished",
    "title": "v2 is live",
    "body": "All regions updated.",
    "priority": "high",
    "data": {"version": "2.0", "regions": ["eu", "us"]},
    "tags": {"env": "prod", "team": "core"},
    "recipients": ["user-1", "user-2"],
    "channels": ["slack", "email"],
    "integration_ids": ["01936F0E-7A3C-7B21-9D4E-0123456789AB"],
    "template": "deploy.v1",
    "dedup_key": "deploy-42",
    "scheduled_at": "2027-01-15T09:30:00.1234567+01:00"
  })");
  ASSERT_OK_AND_ASSIGN(Notification n,
                       NotificationFromRequestJson(request, kNow));
  EXPECT_EQ(n.id, "");
  EXPECT_EQ(n.tenant_id, "");
  EXPECT_EQ(n.status, NotificationStatus::kAccepted);
  EXPECT_EQ(n.type, "deploy.finished");
  EXPECT_EQ(n.title, "v2 is live");
  EXPECT_EQ(n.body, "All regions updated.");
  EXPECT_EQ(n.priority, Priority::kHigh);
  EXPECT_EQ(n.data,
            Json::parse(R"({"version": "2.0", "regions": ["eu", "us"]})"));
  EXPECT_EQ(n.tags, (std::map<std::string, std::string>{{"env", "prod"},
                                                        {"team", "core"}}));
  EXPECT_THAT(n.recipients, ElementsAre("user-1", "user-2"));
  EXPECT_THAT(n.channels, ElementsAre(Channel::kSlack, Channel::kEmail));
  // Lowercased to the canonical form.
  EXPECT_THAT(n.integration_ids, ElementsAre(kUuidA));
  EXPECT_EQ(n.template_name, "deploy.v1");
  EXPECT_EQ(n.dedup_key, "deploy-42");
  // Offset applied; truncated to the microseconds stores keep.
  ASSERT_TRUE(n.scheduled_at.has_value());
  EXPECT_EQ(FormatRfc3339(*n.scheduled_at), "2027-01-15T08:30:00.123456Z");
  EXPECT_EQ(*n.scheduled_at,
            absl::FromCivil(absl::CivilSecond(2027, 1, 15, 8, 30, 0),
                            absl::UTCTimeZone()) +
                absl::Microseconds(123456));
}

TEST(NotificationFromRequestJsonTest, DefaultsAreApplied) {
  ASSERT_OK_AND_ASSIGN(Notification n,
                       NotificationFromRequestJson(With("title", "t"), kNow));
  EXPECT_EQ(n.priority, Priority::kNormal);
  EXPECT_EQ(n.data, Json::object());
  EXPECT_TRUE(n.tags.empty());
  EXPECT_FALSE(n.scheduled_at.has_value());
}

TEST(NotificationFromRequestJsonTest, PriorityForms) {
  for (const auto& [value, expected] :
       std::vector<std::pair<Json, Priority>>{{"min", Priority::kMin},
                                              {"low", Priority::kLow},
                                              {"normal", Priority::kNormal},
                                              {"high", Priority::kHigh},
                                              {"critical", Priority::kCritical},
                                              {1, Priority::kMin},
                                              {"2", Priority::kLow},
                                              {3, Priority::kNormal},
                                              {"4", Priority::kHigh},
                                              {5, Priority::kCritical}}) {
    ASSERT_OK_AND_ASSIGN(Notification n, NotificationFromRequestJson(
                                             With("priority", value), kNow));
    EXPECT_EQ(n.priority, expected) << value;
  }
}

TEST(NotificationFromRequestJsonTest, ErrorListIsCapped) {
  Json request = With("recipients", Json(std::vector<std::string>(150, "")));
  std::vector<FieldError> expected;
  for (int i = 0; i < 100; ++i) {
    expected.push_back(
        {absl::StrCat("recipients[", i, "]"), "must not be empty"});
  }
  expected.push_back({"", "and 50 more errors not listed"});
  EXPECT_THAT(NotificationFromRequestJson(request, kNow),
              HasFieldErrors(expected));
}

TEST(NotificationFromRequestJsonTest, TopLevelMessageListsFields) {
  EXPECT_THAT(NotificationFromRequestJson(Json::object(), kNow),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "invalid notification: type: is required"));
}

// --- ValidateNotification over the struct. ---------------------------------

Notification Valid() {
  Notification n;
  n.type = "deploy.finished";
  return n;
}

TEST(ValidateNotificationTest, MinimalIsValid) {
  EXPECT_OK(ValidateNotification(Valid(), kNow));
}

TEST(ValidateNotificationTest, EmptyTypeIsRequired) {
  Notification n = Valid();
  n.type = "";
  EXPECT_THAT(ValidateNotification(n, kNow),
              HasFieldErrors({{"type", "is required"}}));
}

TEST(ValidateNotificationTest, EmptyOptionalFieldsMeanAbsent) {
  Notification n = Valid();
  n.title = "";
  n.template_name = "";
  n.dedup_key = "";
  EXPECT_OK(ValidateNotification(n, kNow));
}

TEST(ValidateNotificationTest, OutOfRangeEnums) {
  Notification n = Valid();
  n.priority = static_cast<Priority>(0);
  n.channels = {Channel::kEmail, static_cast<Channel>(9)};
  EXPECT_THAT(ValidateNotification(n, kNow),
              HasFieldErrors({{"priority", kPriorityRule},
                              {"channels[1]", kChannelRule}}));
}

TEST(ValidateNotificationTest, InvalidUtf8) {
  Notification n = Valid();
  n.title = "bad \xff";
  n.body = "\xc3";                   // truncated sequence
  n.tags["env"] = "\xed\xa0\x80";    // a surrogate
  n.data = Json{{"k", "\xc0\x80"}};  // overlong
  EXPECT_THAT(ValidateNotification(n, kNow),
              HasFieldErrors({{"title", "must be valid UTF-8"},
                              {"body", "must be valid UTF-8"},
                              {"data", "must be valid UTF-8"},
                              {"tags.env", "must be valid UTF-8"}}));
}

TEST(ValidateNotificationTest, InvalidUtf8InATagKeyIsReportedSafely) {
  Notification n = Valid();
  n.tags["k\xff"] = "v";
  EXPECT_THAT(ValidateNotification(n, kNow),
              HasFieldErrors({{"tags.k?", kTagKeyRule}}));
}

TEST(ValidateNotificationTest, DataMustBeAnObject) {
  Notification n = Valid();
  n.data = Json::array({1});
  EXPECT_THAT(ValidateNotification(n, kNow),
              HasFieldErrors({{"data", "must be an object"}}));
}

TEST(ValidateNotificationTest, CollectsEveryRuleInFieldOrder) {
  Notification n;
  n.type = "Bad";
  n.title = std::string(257, 't');
  n.body = std::string(16385, 'b');
  n.data = Nested(17);
  for (int i = 0; i < 65; ++i) n.tags[absl::StrCat("k", i)] = "v";
  n.tags["bad key"] = "v";
  n.recipients = {"u", ""};
  n.channels = {Channel::kSlack, Channel::kSlack};
  n.integration_ids = {kUuidA, "x", "01936F0E-7A3C-7B21-9D4E-0123456789AB"};
  n.template_name = "T";
  n.dedup_key = "a\tb";
  n.scheduled_at = kNow + absl::Hours(24 * 31);
  EXPECT_THAT(
      ValidateNotification(n, kNow),
      HasFieldErrors({{"type", kSlugRule},
                      {"title", "must be at most 256 characters"},
                      {"body", "must be at most 16384 characters"},
                      {"data", "must be nested at most 16 levels deep"},
                      {"tags", "must have at most 64 entries"},
                      {"tags.bad key", kTagKeyRule},
                      {"recipients[1]", "must not be empty"},
                      {"channels[1]", "is listed more than once"},
                      {"integration_ids[1]", "must be a UUID"},
                      {"integration_ids[2]", "is listed more than once"},
                      {"template", kSlugRule},
                      {"dedup_key", kDedupRule},
                      {"scheduled_at", "must be at most 30 days ahead"}}));
}

TEST(ValidateNotificationTest, Limits) {
  Notification n = Valid();
  n.recipients.assign(1001, "u");
  for (int i = 0; i < 51; ++i) {
    n.integration_ids.push_back(
        absl::StrFormat("01936f0e-7a3c-7b21-9d4e-%012d", i));
  }
  EXPECT_THAT(
      ValidateNotification(n, kNow),
      HasFieldErrors({{"recipients", "must have at most 1000 entries"},
                      {"integration_ids", "must have at most 50 entries"}}));
}

// --- Names. ---------------------------------------------------------------

TEST(PriorityTest, NamesRoundTrip) {
  const std::vector<std::pair<Priority, std::string>> names = {
      {Priority::kMin, "min"},
      {Priority::kLow, "low"},
      {Priority::kNormal, "normal"},
      {Priority::kHigh, "high"},
      {Priority::kCritical, "critical"}};
  for (const auto& [p, name] : names) {
    EXPECT_EQ(PriorityName(p), name);
    EXPECT_THAT(ParsePriority(Json(name)), IsOkAndHolds(p)) << name;
  }
  EXPECT_EQ(PriorityName(static_cast<Priority>(7)), "unknown");
}

TEST(PriorityTest, Rejects) {
  for (const Json& bad : {Json("urgent"), Json("Critical"), Json(0), Json(6),
                          Json(2.5), Json(3.0), Json(""), Json(" 3"),
                          Json(nullptr), Json::array({3}), Json(true)}) {
    EXPECT_THAT(ParsePriority(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "priority must be one of min, low, normal, high, "
                         "critical or 1-5"))
        << bad;
  }
}

TEST(NotificationStatusTest, NamesRoundTripAndTerminality) {
  struct Row {
    NotificationStatus status;
    std::string name;
    bool terminal;
  };
  for (const Row& row :
       std::vector<Row>{{NotificationStatus::kAccepted, "accepted", false},
                        {NotificationStatus::kRouted, "routed", false},
                        {NotificationStatus::kDelivering, "delivering", false},
                        {NotificationStatus::kDelivered, "delivered", true},
                        {NotificationStatus::kPartiallyDelivered,
                         "partially_delivered", true},
                        {NotificationStatus::kFailed, "failed", true},
                        {NotificationStatus::kSuppressed, "suppressed", true},
                        {NotificationStatus::kCancelled, "cancelled", true}}) {
    EXPECT_EQ(NotificationStatusName(row.status), row.name);
    EXPECT_THAT(ParseNotificationStatus(row.name), IsOkAndHolds(row.status));
    EXPECT_EQ(IsTerminal(row.status), row.terminal) << row.name;
  }
  EXPECT_THAT(ParseNotificationStatus("done"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown notification status \"done\"; expected one of "
                       "accepted, routed, delivering, delivered, "
                       "partially_delivered, failed, suppressed, cancelled"));
}

TEST(ChannelTest, NamesRoundTrip) {
  const std::vector<std::pair<Channel, std::string>> names = {
      {Channel::kWebhook, "webhook"},
      {Channel::kSlack, "slack"},
      {Channel::kDiscord, "discord"},
      {Channel::kEmail, "email"},
      {Channel::kPush, "push"}};
  for (const auto& [c, name] : names) {
    EXPECT_EQ(ChannelName(c), name);
    EXPECT_THAT(ParseChannel(name), IsOkAndHolds(c));
  }
  EXPECT_THAT(ParseChannel("sms"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown channel \"sms\"; expected one of webhook, "
                       "slack, discord, email, push"));
  EXPECT_THAT(ParseChannel("Email"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- Codec. ---------------------------------------------------------------

Notification Full() {
  Notification n;
  n.id = "01936f0e-7a3c-7b21-9d4e-000000000001";
  n.tenant_id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  n.status = NotificationStatus::kPartiallyDelivered;
  n.created_at = absl::FromUnixMicros(1'800'000'000'123'456);
  n.updated_at = absl::FromUnixMicros(1'800'000'100'000'001);
  n.type = "deploy.finished";
  n.title = "v2 is live";
  n.body = "All regions updated.";
  n.priority = Priority::kCritical;
  n.data = Json::parse(R"({"version": "2.0", "n": 3, "nested": {"ok": true}})");
  n.tags = {{"env", "prod"}, {"team", "core"}};
  n.recipients = {"user-1", "user-2"};
  n.channels = {Channel::kDiscord, Channel::kPush};
  n.integration_ids = {kUuidA, kUuidB};
  n.template_name = "deploy.v1";
  n.dedup_key = "deploy-42";
  n.scheduled_at = absl::FromUnixMicros(1'800'000'500'000'000);
  return n;
}

void ExpectEqual(const Notification& a, const Notification& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.recipients, b.recipients);
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.integration_ids, b.integration_ids);
  EXPECT_EQ(a.template_name, b.template_name);
  EXPECT_EQ(a.dedup_key, b.dedup_key);
  EXPECT_EQ(a.scheduled_at, b.scheduled_at);
}

TEST(NotificationJsonTest, WritesEveryField) {
  EXPECT_EQ(NotificationToJson(Full()), Json::parse(R"({
    "id": "01936f0e-7a3c-7b21-9d4e-000000000001",
    "tenant_id": "01936f0e-7a3c-7b21-9d4e-000000000002",
    "type": "deploy.finished",
    "title": "v2 is live",
    "body": "All regions updated.",
    "priority": "critical",
    "data": {"version": "2.0", "n": 3, "nested": {"ok": true}},
    "tags": {"env": "prod", "team": "core"},
    "recipients": ["user-1", "user-2"],
    "channels": ["discord", "push"],
    "integration_ids": ["01936f0e-7a3c-7b21-9d4e-0123456789ab",
                        "01936f0e-7a3c-7b22-8d4e-0123456789ab"],
    "template": "deploy.v1",
    "dedup_key": "deploy-42",
    "scheduled_at": "2027-01-15T08:08:20.000000Z",
    "status": "partially_delivered",
    "created_at": "2027-01-15T08:00:00.123456Z",
    "updated_at": "2027-01-15T08:01:40.000001Z"
  })"));
}

TEST(NotificationJsonTest, OmitsEmptyOptionalFields) {
  Notification n = Valid();
  n.id = "01936f0e-7a3c-7b21-9d4e-000000000001";
  n.tenant_id = "t";
  n.created_at = n.updated_at = kNow;
  EXPECT_EQ(NotificationToJson(n), Json::parse(R"({
    "id": "01936f0e-7a3c-7b21-9d4e-000000000001",
    "tenant_id": "t",
    "type": "deploy.finished",
    "priority": "normal",
    "status": "accepted",
    "created_at": "2027-01-15T08:00:00.000000Z",
    "updated_at": "2027-01-15T08:00:00.000000Z"
  })"));
}

TEST(NotificationJsonTest, UnsetTimesAreOmitted) {
  Json j = NotificationToJson(Valid());
  EXPECT_FALSE(j.contains("created_at"));
  EXPECT_FALSE(j.contains("updated_at"));
  ASSERT_OK_AND_ASSIGN(Notification back, NotificationFromJson(j));
  ExpectEqual(back, Valid());
}

TEST(NotificationJsonTest, RoundTripsFull) {
  ASSERT_OK_AND_ASSIGN(Notification back,
                       NotificationFromJson(NotificationToJson(Full())));
  ExpectEqual(back, Full());
  // And through text, as stores and the bus carry it.
  ASSERT_OK_AND_ASSIGN(
      Notification from_text,
      NotificationFromJson(Json::parse(NotificationToJson(Full()).dump())));
  ExpectEqual(from_text, Full());
}

TEST(NotificationJsonTest, RoundTripsEveryStatusAndPriority) {
  for (int s = 1; s <= 8; ++s) {
    for (int p = 1; p <= 5; ++p) {
      Notification n = Valid();
      n.status = static_cast<NotificationStatus>(s);
      n.priority = static_cast<Priority>(p);
      ASSERT_OK_AND_ASSIGN(Notification back,
                           NotificationFromJson(NotificationToJson(n)));
      EXPECT_EQ(back.status, n.status);
      EXPECT_EQ(back.priority, n.priority);
    }
  }
}

TEST(NotificationJsonTest, RoundTripsAnAcceptedRequest) {
  Json request = Json::parse(R"({"type": "a.b", "title": "t", "priority": 4,
      "tags": {"k": "v"}, "channels": ["email"],
      "scheduled_at": "2027-01-15T09:30:00.1234567+01:00"})");
  ASSERT_OK_AND_ASSIGN(Notification n,
                       NotificationFromRequestJson(request, kNow));
  ASSERT_OK_AND_ASSIGN(Notification back,
                       NotificationFromJson(NotificationToJson(n)));
  ExpectEqual(back, n);
}

TEST(NotificationFromJsonTest, RejectsWrongShapes) {
  EXPECT_THAT(NotificationFromJson(Json::array()),
              HasFieldErrors({{"", "must be a JSON object"}}));
  EXPECT_THAT(NotificationFromJson(Json::object()),
              HasFieldErrors({{"id", "is required"},
                              {"tenant_id", "is required"},
                              {"type", "is required"},
                              {"priority", "is required"},
                              {"status", "is required"}}));
  Json j = NotificationToJson(Full());
  j["title"] = 5;
  j["priority"] = "urgent";
  j["data"] = "x";
  j["tags"] = Json{{"a", 1}};
  j["recipients"] = Json::array({1});
  j["channels"] = Json::array({"email", "sms"});
  j["scheduled_at"] = "soon";
  j["status"] = "done";
  j["created_at"] = 5;
  EXPECT_THAT(NotificationFromJson(j),
              HasFieldErrors({{"title", "must be a string"},
                              {"priority", kPriorityRule},
                              {"data", "must be an object"},
                              {"tags.a", "must be a string"},
                              {"recipients", "must be an array of strings"},
                              {"channels[1]", kChannelRule},
                              {"scheduled_at", kRfc3339Rule},
                              {"status",
                               "must be one of accepted, routed, delivering, "
                               "delivered, partially_delivered, failed, "
                               "suppressed, cancelled"},
                              {"created_at", "must be a string"}}));
  EXPECT_THAT(NotificationFromJson(j),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid notification record")));
}

TEST(NotificationFromJsonTest, IgnoresUnknownMembers) {
  Json j = NotificationToJson(Full());
  j["added_in_a_later_version"] = true;
  ASSERT_OK_AND_ASSIGN(Notification back, NotificationFromJson(j));
  ExpectEqual(back, Full());
}

}  // namespace
}  // namespace alerthub

namespace alerthub {
namespace {

TEST(ValidateIdempotencyKeyTest, PrintableAsciiUpTo256) {
  EXPECT_TRUE(ValidateIdempotencyKey("order-42").ok());
  EXPECT_TRUE(ValidateIdempotencyKey(std::string(256, 'k')).ok());
  for (const std::string& bad : {std::string(), std::string(257, 'k'), std::string("tab\there"),
                                 std::string("caf\xc3\xa9")}) {
    absl::Status s = ValidateIdempotencyKey(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(FieldErrorsOf(s),
              (std::vector<FieldError>{
                  {"Idempotency-Key", "must be 1-256 printable ASCII characters"}}))
        << bad;
  }
}

}  // namespace
}  // namespace alerthub
