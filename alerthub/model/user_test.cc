#include "alerthub/model/user.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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

constexpr char kEmailRule[] = "must be an e-mail address";
constexpr char kAssigned[] = "is assigned by AlertHub and cannot be set";
constexpr char kChannelRule[] =
    "must be one of webhook, slack, discord, email, push";
constexpr char kGlobRule[] =
    "must be a type or a glob of a-z, 0-9, '.', '_', '-' and '*'";
constexpr char kTimeZoneRule[] =
    "must be an IANA time zone name such as Europe/Berlin";
constexpr char kDayRule[] = "must be one of mon, tue, wed, thu, fri, sat, sun";
constexpr char kTimeRule[] = "must be a time of day from 00:00 to 23:59";

struct Case {
  std::string name;
  Json request;
  std::vector<FieldError> errors;  // empty: accepted
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

Json UserWith(const char* key, Json value) {
  Json j = {{"email", "ada@example.com"}};
  j[key] = std::move(value);
  return j;
}

Json Addresses(const char* key, Json value) {
  return UserWith("addresses", Json{{key, std::move(value)}});
}

std::vector<Case> UserCases() {
  return {
      {"Minimal", Json{{"email", "ada@example.com"}}, {}},
      {"EmailMissing", Json::object(), {{"email", "is required"}}},
      {"EmailNumber", Json{{"email", 1}}, {{"email", "must be a string"}}},
      {"EmailNoAt",
       Json{{"email", "ada.example.com"}},
       {{"email", kEmailRule}}},
      {"EmailNoDomain", Json{{"email", "ada@"}}, {{"email", kEmailRule}}},
      {"EmailNoLocalPart",
       Json{{"email", "@example.com"}},
       {{"email", kEmailRule}}},
      {"EmailTwoAts",
       Json{{"email", "a@b@example.com"}},
       {{"email", kEmailRule}}},
      {"EmailSpace",
       Json{{"email", "a b@example.com"}},
       {{"email", kEmailRule}}},
      {"EmailControl",
       Json{{"email", "a\n@example.com"}},
       {{"email", kEmailRule}}},
      {"NameNumber", UserWith("name", 1), {{"name", "must be a string"}}},
      {"NameEmpty", UserWith("name", ""), {}},
      {"NameLongest", UserWith("name", std::string(256, 'n')), {}},
      {"NameTooLong",
       UserWith("name", std::string(257, 'n')),
       {{"name", "must be at most 256 characters"}}},
      {"RoleEach", UserWith("role", "viewer"), {}},
      {"RoleUnknown",
       UserWith("role", "root"),
       {{"role", "must be one of owner, admin, member, viewer"}}},
      {"RoleNumber",
       UserWith("role", 1),
       {{"role", "must be one of owner, admin, member, viewer"}}},
      {"AddressesString",
       UserWith("addresses", "x"),
       {{"addresses", "must be an object"}}},
      {"AddressUnknown",
       Addresses("phone", "+49"),
       {{"addresses.phone", "unknown field"}}},
      {"AddressEmail",
       Addresses("email", "nope"),
       {{"addresses.email", kEmailRule}}},
      {"FcmTokensString",
       Addresses("fcm_tokens", "t"),
       {{"addresses.fcm_tokens", "must be an array of strings"}}},
      {"FcmTokenEmpty",
       Addresses("fcm_tokens", Json::array({"t", ""})),
       {{"addresses.fcm_tokens[1]", "must not be empty"}}},
      {"FcmTokenTooLong",
       Addresses("fcm_tokens", Json::array({std::string(4097, 't')})),
       {{"addresses.fcm_tokens[0]", "must be at most 4096 characters"}}},
      {"FcmTokensTooMany",
       Addresses("fcm_tokens", Json(std::vector<std::string>(21, "t"))),
       {{"addresses.fcm_tokens", "must have at most 20 entries"}}},
      {"SlackUserId", Addresses("slack_user_id", "U024BE7LH"), {}},
      {"SlackUserIdBad",
       Addresses("slack_user_id", "U-1"),
       {{"addresses.slack_user_id", "must be 1-64 letters and digits"}}},
      {"SlackUserIdEmpty",
       Addresses("slack_user_id", ""),
       {{"addresses.slack_user_id", "must be 1-64 letters and digits"}}},
      {"DiscordUserId", Addresses("discord_user_id", "80351110224678912"), {}},
      {"DiscordUserIdBad",
       Addresses("discord_user_id", "80a"),
       {{"addresses.discord_user_id", "must be 1-64 digits"}}},
      {"DiscordUserIdNumber",
       Addresses("discord_user_id", 80351110224678912),
       {{"addresses.discord_user_id", "must be a string"}}},
      {"AssignedId", UserWith("id", "x"), {{"id", kAssigned}}},
      {"AssignedTenantId",
       UserWith("tenant_id", "x"),
       {{"tenant_id", kAssigned}}},
      {"AssignedCreatedAt",
       UserWith("created_at", "x"),
       {{"created_at", kAssigned}}},
      {"UnknownField",
       UserWith("password", "x"),
       {{"password", "unknown field"}}},
      {"NotAnObject", Json::array(), {{"", "must be a JSON object"}}},
      {"AllErrors",
       Json{{"name", 1}, {"role", "god"}, {"addresses", {{"email", "x"}}}},
       {{"email", "is required"},
        {"name", "must be a string"},
        {"role", "must be one of owner, admin, member, viewer"},
        {"addresses.email", kEmailRule}}},
  };
}

class UserRequestTest : public ::testing::TestWithParam<Case> {};

TEST_P(UserRequestTest, ReportsExactFieldErrors) {
  absl::StatusOr<User> u = UserFromRequestJson(GetParam().request);
  if (GetParam().errors.empty()) {
    EXPECT_OK(u);
  } else {
    EXPECT_THAT(u, HasFieldErrors(GetParam().errors));
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, UserRequestTest,
                         ::testing::ValuesIn(UserCases()), CaseName);

TEST(UserFromRequestJsonTest, ParsesEveryField) {
  ASSERT_OK_AND_ASSIGN(User u, UserFromRequestJson(Json::parse(R"({
    "email": "ada@example.com", "name": "Ada Lovelace", "role": "admin",
    "addresses": {"email": "ada+alerts@example.com", "fcm_tokens": ["t1", "t2"],
                  "slack_user_id": "U024BE7LH", "discord_user_id": "8035"}
  })")));
  EXPECT_EQ(u.email, "ada@example.com");
  EXPECT_EQ(u.name, "Ada Lovelace");
  EXPECT_EQ(u.role, Role::kAdmin);
  EXPECT_EQ(u.addresses.email, "ada+alerts@example.com");
  EXPECT_THAT(u.addresses.fcm_tokens, ElementsAre("t1", "t2"));
  EXPECT_EQ(u.addresses.slack_user_id, "U024BE7LH");
  EXPECT_EQ(u.addresses.discord_user_id, "8035");
  EXPECT_EQ(u.id, "");
}

TEST(UserFromRequestJsonTest, DefaultRoleIsMember) {
  ASSERT_OK_AND_ASSIGN(User u, UserFromRequestJson(UserWith("name", "Ada")));
  EXPECT_EQ(u.role, Role::kMember);
}

User FullUser() {
  User u;
  u.id = "01936f0e-7a3c-7b21-9d4e-000000000007";
  u.tenant_id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  u.email = "ada@example.com";
  u.name = "Ada";
  u.role = Role::kOwner;
  u.addresses.email = "ada+alerts@example.com";
  u.addresses.fcm_tokens = {"t1"};
  u.addresses.slack_user_id = "U1";
  u.addresses.discord_user_id = "42";
  u.created_at = absl::FromUnixMicros(1'800'000'000'000'007);
  return u;
}

void ExpectEqual(const User& a, const User& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.addresses.email, b.addresses.email);
  EXPECT_EQ(a.addresses.fcm_tokens, b.addresses.fcm_tokens);
  EXPECT_EQ(a.addresses.slack_user_id, b.addresses.slack_user_id);
  EXPECT_EQ(a.addresses.discord_user_id, b.addresses.discord_user_id);
  EXPECT_EQ(a.created_at, b.created_at);
}

TEST(UserJsonTest, WritesEveryField) {
  EXPECT_EQ(UserToJson(FullUser()), Json::parse(R"({
    "id": "01936f0e-7a3c-7b21-9d4e-000000000007",
    "tenant_id": "01936f0e-7a3c-7b21-9d4e-000000000002",
    "email": "ada@example.com",
    "name": "Ada",
    "role": "owner",
    "addresses": {"email": "ada+alerts@example.com", "fcm_tokens": ["t1"],
                  "slack_user_id": "U1", "discord_user_id": "42"},
    "created_at": "2027-01-15T08:00:00.000007Z"
  })"));
}

TEST(UserJsonTest, RoundTrips) {
  ASSERT_OK_AND_ASSIGN(User back, UserFromJson(UserToJson(FullUser())));
  ExpectEqual(back, FullUser());

  User bare;
  bare.id = "u";
  bare.tenant_id = "t";
  bare.email = "b@example.com";
  Json j = UserToJson(bare);
  EXPECT_EQ(j, Json::parse(R"({"id": "u", "tenant_id": "t",
                               "email": "b@example.com", "role": "member"})"));
  ASSERT_OK_AND_ASSIGN(User bare_back, UserFromJson(j));
  ExpectEqual(bare_back, bare);
}

TEST(UserFromJsonTest, ReadsAssignedFieldsAndIgnoresUnknown) {
  Json j = UserToJson(FullUser());
  j["added_later"] = 1;
  j["addresses"]["matrix"] = "@ada:example.com";
  ASSERT_OK_AND_ASSIGN(User back, UserFromJson(j));
  ExpectEqual(back, FullUser());
  EXPECT_THAT(
      UserFromJson(Json{{"email", "a@example.com"}}),
      HasFieldErrors({{"id", "is required"}, {"tenant_id", "is required"}}));
  EXPECT_THAT(UserFromJson(Json::parse(
                  R"({"id": 1, "tenant_id": "t", "email": "a@example.com",
                      "created_at": "then"})")),
              HasFieldErrors({{"id", "must be a string"},
                              {"created_at",
                               "must be an RFC 3339 date-time such as "
                               "2026-01-02T15:04:05Z"}}));
}

// --- Preferences. -----------------------------------------------------------

Json PrefsWith(const char* key, Json value) {
  Json j = Json::object();
  j[key] = std::move(value);
  return j;
}

Json Window(Json days, Json start, Json end) {
  Json w = Json::object();
  if (!days.is_null()) w["days"] = std::move(days);
  if (!start.is_null()) w["start"] = std::move(start);
  if (!end.is_null()) w["end"] = std::move(end);
  return PrefsWith("quiet_hours", Json::array({std::move(w)}));
}

std::vector<Case> PreferenceCases() {
  Json weekdays = Json::array({"mon", "tue", "wed", "thu", "fri"});
  return {
      {"Empty", Json::object(), {}},
      {"OptOutChannels", PrefsWith("opt_out_channels", {"email", "push"}), {}},
      {"OptOutChannelUnknown",
       PrefsWith("opt_out_channels", {"sms"}),
       {{"opt_out_channels[0]", kChannelRule}}},
      {"OptOutChannelRepeated",
       PrefsWith("opt_out_channels", {"push", "push"}),
       {{"opt_out_channels[1]", "is listed more than once"}}},
      {"OptOutChannelsString",
       PrefsWith("opt_out_channels", "email"),
       {{"opt_out_channels", "must be an array of strings"}}},
      {"OptOutTypes",
       PrefsWith("opt_out_types", {"marketing.*", "*.digest"}),
       {}},
      {"OptOutTypeUppercase",
       PrefsWith("opt_out_types", {"Marketing"}),
       {{"opt_out_types[0]", kGlobRule}}},
      {"OptOutTypeEmpty",
       PrefsWith("opt_out_types", {""}),
       {{"opt_out_types[0]", kGlobRule}}},
      {"OptOutTypeNumber",
       PrefsWith("opt_out_types", {1}),
       {{"opt_out_types[0]", "must be a string"}}},
      {"OptOutTypeRepeated",
       PrefsWith("opt_out_types", {"a.*", "a.*"}),
       {{"opt_out_types[1]", "is listed more than once"}}},
      {"OptOutTypesTooMany",
       PrefsWith("opt_out_types",
                 [] {
                   Json j = Json::array();
                   for (int i = 0; i < 65; ++i)
                     j.push_back(absl::StrCat("t", i));
                   return j;
                 }()),
       {{"opt_out_types", "must have at most 64 entries"}}},
      {"MinPriority", PrefsWith("min_priority", "high"), {}},
      {"MinPriorityBad",
       PrefsWith("min_priority", "urgent"),
       {{"min_priority",
         "must be one of min, low, normal, high, critical or 1-5"}}},
      {"TimeZoneBerlin", PrefsWith("time_zone", "Europe/Berlin"), {}},
      {"TimeZoneThreeLevels",
       PrefsWith("time_zone", "America/Argentina/Buenos_Aires"),
       {}},
      {"TimeZoneEtc", PrefsWith("time_zone", "Etc/GMT+5"), {}},
      {"TimeZoneUtc", PrefsWith("time_zone", "UTC"), {}},
      {"TimeZoneUnknown",
       PrefsWith("time_zone", "Mars/Olympus_Mons"),
       {{"time_zone", kTimeZoneRule}}},
      {"TimeZonePath",
       PrefsWith("time_zone", "../../etc/passwd"),
       {{"time_zone", kTimeZoneRule}}},
      {"TimeZoneAbsolute",
       PrefsWith("time_zone", "/usr/share/zoneinfo/UTC"),
       {{"time_zone", kTimeZoneRule}}},
      {"TimeZoneLocal",
       PrefsWith("time_zone", "localtime"),
       {{"time_zone", kTimeZoneRule}}},
      {"TimeZoneEmpty",
       PrefsWith("time_zone", ""),
       {{"time_zone", kTimeZoneRule}}},
      {"TimeZoneNumber",
       PrefsWith("time_zone", 1),
       {{"time_zone", "must be a string"}}},
      {"QuietHoursOvernight", Window(weekdays, "22:00", "07:00"), {}},
      {"QuietHoursString",
       PrefsWith("quiet_hours", "22-07"),
       {{"quiet_hours", "must be an array of objects"}}},
      {"QuietHoursEntryNumber",
       PrefsWith("quiet_hours", {5}),
       {{"quiet_hours[0]", "must be an object"}}},
      {"QuietHoursAllMissing",
       Window(nullptr, nullptr, nullptr),
       {{"quiet_hours[0].days", "is required"},
        {"quiet_hours[0].start", "is required"},
        {"quiet_hours[0].end", "is required"}}},
      {"QuietHoursNoDays",
       Window(Json::array(), "22:00", "07:00"),
       {{"quiet_hours[0].days", "must list at least one day"}}},
      {"QuietHoursDaysString",
       Window("mon", "22:00", "07:00"),
       {{"quiet_hours[0].days", "must be an array of strings"}}},
      {"QuietHoursBadDay",
       Window({"mon", "funday"}, "22:00", "07:00"),
       {{"quiet_hours[0].days[1]", kDayRule}}},
      {"QuietHoursCapitalDay",
       Window({"Mon"}, "22:00", "07:00"),
       {{"quiet_hours[0].days[0]", kDayRule}}},
      {"QuietHoursRepeatedDay",
       Window({"sun", "sun"}, "22:00", "07:00"),
       {{"quiet_hours[0].days[1]", "is listed more than once"}}},
      {"QuietHours24",
       Window({"mon"}, "24:00", "07:00"),
       {{"quiet_hours[0].start", kTimeRule}}},
      {"QuietHoursMinute60",
       Window({"mon"}, "22:00", "07:60"),
       {{"quiet_hours[0].end", kTimeRule}}},
      {"QuietHoursUnpadded",
       Window({"mon"}, "7:00", "9:00"),
       {{"quiet_hours[0].start", kTimeRule},
        {"quiet_hours[0].end", kTimeRule}}},
      {"QuietHoursSeconds",
       Window({"mon"}, "22:00:00", "07:00"),
       {{"quiet_hours[0].start", kTimeRule}}},
      {"QuietHoursNumber",
       Window({"mon"}, 2200, "07:00"),
       {{"quiet_hours[0].start", "must be a string"}}},
      {"QuietHoursEmptyWindow",
       Window({"mon"}, "09:00", "09:00"),
       {{"quiet_hours[0].end", "must differ from start"}}},
      {"QuietHoursUnknownMember",
       PrefsWith("quiet_hours", {{{"days", {"mon"}},
                                  {"start", "22:00"},
                                  {"end", "07:00"},
                                  {"tz", "UTC"}}}),
       {{"quiet_hours[0].tz", "unknown field"}}},
      {"QuietHoursTooMany",
       PrefsWith(
           "quiet_hours",
           Json(std::vector<Json>(
               29, {{"days", {"mon"}}, {"start", "22:00"}, {"end", "07:00"}}))),
       {{"quiet_hours", "must have at most 28 entries"}}},
      {"UnknownField", PrefsWith("dnd", true), {{"dnd", "unknown field"}}},
      {"NotAnObject", Json("x"), {{"", "must be a JSON object"}}},
  };
}

class PreferencesRequestTest : public ::testing::TestWithParam<Case> {};

TEST_P(PreferencesRequestTest, ReportsExactFieldErrors) {
  absl::StatusOr<Preferences> p =
      PreferencesFromRequestJson(GetParam().request);
  if (GetParam().errors.empty()) {
    EXPECT_OK(p);
  } else {
    EXPECT_THAT(p, HasFieldErrors(GetParam().errors));
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, PreferencesRequestTest,
                         ::testing::ValuesIn(PreferenceCases()), CaseName);

TEST(PreferencesTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(Preferences p,
                       PreferencesFromRequestJson(Json::object()));
  EXPECT_TRUE(p.opt_out_channels.empty());
  EXPECT_TRUE(p.opt_out_types.empty());
  EXPECT_EQ(p.min_priority, Priority::kMin);
  EXPECT_EQ(p.time_zone, "UTC");
  EXPECT_TRUE(p.quiet_hours.empty());
}

TEST(PreferencesTest, ParsesQuietHours) {
  ASSERT_OK_AND_ASSIGN(Preferences p,
                       PreferencesFromRequestJson(Json::parse(R"({
    "time_zone": "Europe/Berlin",
    "quiet_hours": [{"days": ["sat", "sun"], "start": "00:00", "end": "23:59"},
                    {"days": ["fri"], "start": "22:30", "end": "07:05"}]
  })")));
  ASSERT_EQ(p.quiet_hours.size(), 2u);
  EXPECT_THAT(p.quiet_hours[0].days,
              ElementsAre(absl::Weekday::saturday, absl::Weekday::sunday));
  EXPECT_EQ(p.quiet_hours[0].start_minute, 0);
  EXPECT_EQ(p.quiet_hours[0].end_minute, 23 * 60 + 59);
  EXPECT_THAT(p.quiet_hours[1].days, ElementsAre(absl::Weekday::friday));
  EXPECT_EQ(p.quiet_hours[1].start_minute, 22 * 60 + 30);
  EXPECT_EQ(p.quiet_hours[1].end_minute, 7 * 60 + 5);
}

TEST(PreferencesJsonTest, WritesEveryFieldAndRoundTrips) {
  Preferences p;
  p.opt_out_channels = {Channel::kEmail};
  p.opt_out_types = {"marketing.*"};
  p.min_priority = Priority::kLow;
  p.time_zone = "America/New_York";
  p.quiet_hours = {{{absl::Weekday::monday, absl::Weekday::sunday}, 1320, 420}};
  Json j = PreferencesToJson(p);
  EXPECT_EQ(j, Json::parse(R"({
    "opt_out_channels": ["email"],
    "opt_out_types": ["marketing.*"],
    "min_priority": "low",
    "time_zone": "America/New_York",
    "quiet_hours": [{"days": ["mon", "sun"], "start": "22:00", "end": "07:00"}]
  })"));
  ASSERT_OK_AND_ASSIGN(Preferences back, PreferencesFromJson(j));
  EXPECT_EQ(back.opt_out_channels, p.opt_out_channels);
  EXPECT_EQ(back.opt_out_types, p.opt_out_types);
  EXPECT_EQ(back.min_priority, p.min_priority);
  EXPECT_EQ(back.time_zone, p.time_zone);
  ASSERT_EQ(back.quiet_hours.size(), 1u);
  EXPECT_EQ(back.quiet_hours[0].days, p.quiet_hours[0].days);
  EXPECT_EQ(back.quiet_hours[0].start_minute, 1320);
  EXPECT_EQ(back.quiet_hours[0].end_minute, 420);
  EXPECT_EQ(PreferencesToJson(back), j);
}

TEST(PreferencesJsonTest, DefaultsRoundTrip) {
  Json j = PreferencesToJson(Preferences());
  EXPECT_EQ(j, Json::parse(R"({"opt_out_channels": [], "opt_out_types": [],
      "min_priority": "min", "time_zone": "UTC", "quiet_hours": []})"));
  ASSERT_OK_AND_ASSIGN(Preferences back, PreferencesFromJson(j));
  EXPECT_EQ(PreferencesToJson(back), j);
}

TEST(PreferencesFromJsonTest, IgnoresUnknownButChecksShape) {
  ASSERT_OK(PreferencesFromJson(Json{{"later", 1}}));
  EXPECT_THAT(PreferencesFromJson(Json{{"min_priority", 9}}),
              HasFieldErrors({{"min_priority",
                               "must be one of min, low, normal, high, "
                               "critical or 1-5"}}));
}

}  // namespace
}  // namespace alerthub
