#include "alerthub/rules/preferences.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "alerthub/common/time.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::absl::StatusCode;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;
using Action = PreferenceDecision::Action;
using W = absl::Weekday;

const std::vector<W> kEveryDay = {W::monday, W::tuesday,  W::wednesday, W::thursday,
                                  W::friday, W::saturday, W::sunday};

absl::Time At(absl::string_view rfc3339) {
  absl::StatusOr<absl::Time> t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.value_or(absl::InfinitePast());
}

int Minute(int h, int m) { return h * 60 + m; }

Preferences Quiet(absl::string_view zone, std::vector<QuietHours> windows) {
  Preferences p;
  p.time_zone = std::string(zone);
  p.quiet_hours = std::move(windows);
  return p;
}

// "" when `t` is outside quiet hours, else the end in UTC.
std::string EndOf(const Preferences& p, absl::string_view t) {
  absl::StatusOr<std::optional<absl::Time>> end = QuietHoursEnd(p, At(t));
  EXPECT_TRUE(end.ok()) << end.status();
  if (!end.ok() || !end->has_value()) return "";
  return FormatRfc3339(**end);
}

struct QuietCase {
  const char* name;
  const char* zone;
  std::vector<QuietHours> windows;
  const char* at;        // UTC
  const char* want_end;  // UTC, "" for not quiet
};

class QuietHoursTest : public ::testing::TestWithParam<QuietCase> {};

TEST_P(QuietHoursTest, EndsWhereExpected) {
  const QuietCase& c = GetParam();
  EXPECT_EQ(EndOf(Quiet(c.zone, c.windows), c.at), c.want_end) << c.name;
}

const QuietHours kNights{kEveryDay, Minute(22, 0), Minute(7, 0)};
const QuietHours kWeeknights{{W::monday, W::tuesday, W::wednesday, W::thursday, W::friday},
                             Minute(22, 0), Minute(7, 0)};

INSTANTIATE_TEST_SUITE_P(
    Table, QuietHoursTest,
    ::testing::Values(
        // Europe/Berlin: CET (+1) in winter, CEST (+2) in summer.
        QuietCase{"before the start", "Europe/Berlin", {kNights},
                  "2026-11-27T20:59:59.000000Z", ""},
        QuietCase{"the start is inclusive", "Europe/Berlin", {kNights},
                  "2026-11-27T21:00:00.000000Z", "2026-11-28T06:00:00.000000Z"},
        QuietCase{"after midnight, window of the day before", "Europe/Berlin", {kNights},
                  "2026-11-28T02:00:00.000000Z", "2026-11-28T06:00:00.000000Z"},
        QuietCase{"the end is exclusive", "Europe/Berlin", {kNights},
                  "2026-11-28T06:00:00.000000Z", ""},
        QuietCase{"spring forward: 8 hours of real time", "Europe/Berlin", {kNights},
                  "2026-03-28T21:00:00.000000Z", "2026-03-29T05:00:00.000000Z"},
        QuietCase{"fall back: 10 hours of real time", "Europe/Berlin", {kNights},
                  "2026-10-25T05:59:00.000000Z", "2026-10-25T06:00:00.000000Z"},
        QuietCase{"fall back: started in summer time", "Europe/Berlin", {kNights},
                  "2026-10-24T20:00:00.000000Z", "2026-10-25T06:00:00.000000Z"},
        // A start at 02:30 on 2026-03-29 does not exist in Berlin: the window
        // starts when the clocks jump (01:00Z).
        QuietCase{"start in the gap: before the jump", "Europe/Berlin",
                  {{{W::sunday}, Minute(2, 30), Minute(4, 0)}},
                  "2026-03-29T00:59:59.000000Z", ""},
        QuietCase{"start in the gap: at the jump", "Europe/Berlin",
                  {{{W::sunday}, Minute(2, 30), Minute(4, 0)}},
                  "2026-03-29T01:00:00.000000Z", "2026-03-29T02:00:00.000000Z"},
        // 02:30 happens twice on 2026-10-25 in Berlin: the first one counts.
        QuietCase{"start repeated: first occurrence", "Europe/Berlin",
                  {{{W::sunday}, Minute(2, 30), Minute(5, 0)}},
                  "2026-10-25T00:30:00.000000Z", "2026-10-25T04:00:00.000000Z"},
        // America/New_York: EST (-5), EDT (-4); changes on other dates.
        QuietCase{"New York spring forward", "America/New_York", {kNights},
                  "2026-03-08T05:00:00.000000Z", "2026-03-08T11:00:00.000000Z"},
        QuietCase{"New York fall back", "America/New_York", {kNights},
                  "2026-11-01T02:00:00.000000Z", "2026-11-01T12:00:00.000000Z"},
        QuietCase{"New York, Berlin's change does not matter", "America/New_York", {kNights},
                  "2026-03-29T03:00:00.000000Z", "2026-03-29T11:00:00.000000Z"},
        // Days: 2026-11-27 is a Friday.
        QuietCase{"weeknights: Friday night", "UTC", {kWeeknights},
                  "2026-11-27T23:00:00.000000Z", "2026-11-28T07:00:00.000000Z"},
        QuietCase{"weeknights: Saturday morning ends Friday's window", "UTC", {kWeeknights},
                  "2026-11-28T06:59:00.000000Z", "2026-11-28T07:00:00.000000Z"},
        QuietCase{"weeknights: Saturday night is not quiet", "UTC", {kWeeknights},
                  "2026-11-28T23:00:00.000000Z", ""},
        QuietCase{"weeknights: Sunday night is not quiet", "UTC", {kWeeknights},
                  "2026-11-29T23:00:00.000000Z", ""},
        QuietCase{"same-day window", "Asia/Tokyo", {{kEveryDay, Minute(12, 0), Minute(13, 0)}},
                  "2026-11-27T03:30:00.000000Z", "2026-11-27T04:00:00.000000Z"},
        // Touching windows are one hold: Monday 22:00-24:00 then Tuesday 00:00-07:00.
        QuietCase{"touching windows chain", "UTC",
                  {{{W::monday}, Minute(22, 0), Minute(0, 0)},
                   {{W::tuesday}, Minute(0, 0), Minute(7, 0)}},
                  "2026-11-23T23:00:00.000000Z", "2026-11-24T07:00:00.000000Z"},
        QuietCase{"overlapping windows: the later end", "UTC",
                  {{kEveryDay, Minute(1, 0), Minute(3, 0)},
                   {kEveryDay, Minute(2, 0), Minute(5, 0)}},
                  "2026-11-27T01:30:00.000000Z", "2026-11-27T05:00:00.000000Z"}),
    [](const ::testing::TestParamInfo<QuietCase>& info) {
      std::string name;
      for (const char* p = info.param.name; *p != '\0'; ++p) {
        name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      }
      return name;
    });

TEST(QuietHoursEndTest, NoWindowsIsNeverQuietAndAnUnknownZoneIsAnError) {
  EXPECT_EQ(EndOf(Preferences{}, "2026-11-27T23:00:00.000000Z"), "");
  EXPECT_THAT(QuietHoursEnd(Quiet("Mars/Olympus", {kNights}), At("2026-11-27T23:00:00Z")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("Mars/Olympus")));
}

TEST(QuietHoursEndTest, AWeekOfChainedWindowsEndsAtTheLastOne) {
  // Monday to Saturday, all day (00:00-23:59 and 23:59-00:00): held from
  // Monday morning until Sunday begins.
  const std::vector<W> days = {W::monday, W::tuesday, W::wednesday,
                               W::thursday, W::friday, W::saturday};
  const QuietHours day{days, Minute(0, 0), Minute(23, 59)};
  const QuietHours last_minute{days, Minute(23, 59), Minute(0, 0)};
  EXPECT_EQ(EndOf(Quiet("UTC", {day, last_minute}), "2026-11-23T10:00:00.000000Z"),
            "2026-11-29T00:00:00.000000Z");
}

Notification Note(absl::string_view type, Priority priority) {
  Notification n;
  n.type = std::string(type);
  n.priority = priority;
  return n;
}

TEST(ApplyPreferencesTest, DefaultsDeliverEverything) {
  ASSERT_OK_AND_ASSIGN(PreferenceDecision d,
                       ApplyPreferences(Preferences{}, Note("deploy.done", Priority::kMin),
                                        Channel::kEmail, At("2026-11-27T23:00:00Z")));
  EXPECT_EQ(d.action, Action::kDeliver);
  EXPECT_EQ(d.reason, "");
}

TEST(ApplyPreferencesTest, OptOutsAndMinimumPrioritySuppressWithAReason) {
  Preferences p;
  p.opt_out_channels = {Channel::kSlack};
  p.opt_out_types = {"marketing.*", "digest"};
  p.min_priority = Priority::kNormal;
  const absl::Time now = At("2026-11-27T12:00:00Z");

  ASSERT_OK_AND_ASSIGN(PreferenceDecision slack,
                       ApplyPreferences(p, Note("deploy.done", Priority::kHigh), Channel::kSlack,
                                        now));
  EXPECT_EQ(slack.action, Action::kSuppress);
  EXPECT_EQ(slack.reason, "recipient opted out of channel slack");

  ASSERT_OK_AND_ASSIGN(PreferenceDecision type,
                       ApplyPreferences(p, Note("marketing.weekly", Priority::kHigh),
                                        Channel::kEmail, now));
  EXPECT_EQ(type.action, Action::kSuppress);
  EXPECT_EQ(type.reason, "recipient opted out of types \"marketing.*\"");

  ASSERT_OK_AND_ASSIGN(PreferenceDecision exact_type_only,
                       ApplyPreferences(p, Note("digest.daily", Priority::kHigh),
                                        Channel::kEmail, now));
  EXPECT_EQ(exact_type_only.action, Action::kDeliver);

  ASSERT_OK_AND_ASSIGN(PreferenceDecision low,
                       ApplyPreferences(p, Note("deploy.done", Priority::kLow), Channel::kEmail,
                                        now));
  EXPECT_EQ(low.action, Action::kSuppress);
  EXPECT_EQ(low.reason, "priority low is below the recipient's minimum normal");
}

TEST(ApplyPreferencesTest, QuietHoursHoldAllButCritical) {
  Preferences p = Quiet("Europe/Berlin", {kNights});
  const absl::Time night = At("2026-11-27T23:00:00Z");
  ASSERT_OK_AND_ASSIGN(PreferenceDecision held,
                       ApplyPreferences(p, Note("deploy.done", Priority::kHigh),
                                        Channel::kPush, night));
  EXPECT_EQ(held.action, Action::kHold);
  EXPECT_EQ(held.hold_until, At("2026-11-28T06:00:00Z"));
  EXPECT_EQ(held.reason, "quiet hours until 2026-11-28T06:00:00.000000Z");

  ASSERT_OK_AND_ASSIGN(PreferenceDecision critical,
                       ApplyPreferences(p, Note("db.down", Priority::kCritical),
                                        Channel::kPush, night));
  EXPECT_EQ(critical.action, Action::kDeliver);

  // Opt-outs win over quiet hours: nothing to hold.
  p.opt_out_channels = {Channel::kPush};
  ASSERT_OK_AND_ASSIGN(PreferenceDecision opted_out,
                       ApplyPreferences(p, Note("db.down", Priority::kCritical),
                                        Channel::kPush, night));
  EXPECT_EQ(opted_out.action, Action::kSuppress);

  p.time_zone = "Nowhere/Special";
  p.opt_out_channels.clear();
  EXPECT_THAT(ApplyPreferences(p, Note("deploy.done", Priority::kHigh), Channel::kPush, night),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace alerthub
