#include "alerthub/common/time.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

constexpr char kExpectedForm[] =
    "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z";

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

TEST(FormatRfc3339Test, UtcWithMicroseconds) {
  EXPECT_EQ(
      FormatRfc3339(Utc(2026, 11, 27, 3, 35, 38) + absl::Microseconds(123456)),
      "2026-11-27T03:35:38.123456Z");
  EXPECT_EQ(FormatRfc3339(Utc(2026, 1, 2, 15, 4, 5)),
            "2026-01-02T15:04:05.000000Z");
  EXPECT_EQ(FormatRfc3339(absl::UnixEpoch()), "1970-01-01T00:00:00.000000Z");
}

TEST(FormatRfc3339Test, TruncatesBelowMicroseconds) {
  EXPECT_EQ(FormatRfc3339(Utc(2026, 1, 2, 15, 4, 5) + absl::Nanoseconds(999)),
            "2026-01-02T15:04:05.000000Z");
}

TEST(ParseRfc3339Test, RoundTripsFormat) {
  absl::Time t = Utc(2026, 11, 27, 3, 35, 38) + absl::Microseconds(123456);
  absl::StatusOr<absl::Time> back = ParseRfc3339(FormatRfc3339(t));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
}

TEST(ParseRfc3339Test, Offsets) {
  const absl::Time t = Utc(2026, 11, 27, 3, 35, 38);
  for (const char* s :
       {"2026-11-27T03:35:38Z", "2026-11-27T03:35:38z", "2026-11-27t03:35:38Z",
        "2026-11-27T04:35:38+01:00", "2026-11-26T22:05:38-05:30",
        "2026-11-27T03:35:38+00:00", "2026-11-27T03:35:38-00:00"}) {
    absl::StatusOr<absl::Time> parsed = ParseRfc3339(s);
    ASSERT_TRUE(parsed.ok()) << s << ": " << parsed.status();
    EXPECT_EQ(*parsed, t) << s;
  }
}

TEST(ParseRfc3339Test, FractionalSeconds) {
  const absl::Time t = Utc(2026, 1, 2, 15, 4, 5);
  struct Row {
    const char* text;
    absl::Duration fraction;
  };
  for (const Row& row :
       {Row{"2026-01-02T15:04:05.5Z", absl::Milliseconds(500)},
        Row{"2026-01-02T15:04:05.123Z", absl::Milliseconds(123)},
        Row{"2026-01-02T15:04:05.123456Z", absl::Microseconds(123456)},
        Row{"2026-01-02T16:04:05.123456789+01:00",
            absl::Nanoseconds(123456789)}}) {
    absl::StatusOr<absl::Time> parsed = ParseRfc3339(row.text);
    ASSERT_TRUE(parsed.ok()) << row.text << ": " << parsed.status();
    EXPECT_EQ(*parsed, t + row.fraction) << row.text;
  }
}

TEST(ParseRfc3339Test, RejectsOtherForms) {
  for (const char* s : {
           "",
           "2026-01-02",            // date only
           "15:04:05Z",             // time only
           "2026-01-02T15:04:05",   // no offset
           "2026-01-02 15:04:05Z",  // space instead of T
           "2026-01-02T15:04Z",     // no seconds
           "2026-1-2T15:04:05Z",    // unpadded
           "2026-01-02T15:04:5Z",
           "26-01-02T15:04:05Z",         // two-digit year
           "2026-13-02T15:04:05Z",       // month 13
           "2026-02-30T15:04:05Z",       // no such day
           "2026-01-02T24:00:00Z",       // hour 24
           "2026-01-02T15:04:05.Z",      // empty fraction
           "2026-01-02T15:04:05+25:00",  // offset out of range
           "2026-01-02T15:04:05 +01:00",
           "2026-01-02T15:04:05UTC",
           "2026-01-02T15:04:05Z junk",
           " 2026-01-02T15:04:05Z",
           "2026-01-02T15:04:05+01:00Z",
           "1767362645",                     // Unix seconds
           "Fri, 02 Jan 2026 15:04:05 GMT",  // RFC 1123
       }) {
    absl::StatusOr<absl::Time> parsed = ParseRfc3339(s);
    EXPECT_EQ(parsed.status(), absl::InvalidArgumentError(kExpectedForm))
        << "'" << s << "'";
  }
}

// RFC 3339 offsets are "+hh:mm". ParseRfc3339 currently also accepts "+hhmm"
// and "+hh" (absl's %Ez parser is lenient); enable when time.cc checks the
// offset's shape itself.
TEST(ParseRfc3339Test, RejectsOffsetsWithoutColon) {
  for (const char* s : {"2026-01-02T15:04:05+0100", "2026-01-02T15:04:05+01"}) {
    EXPECT_EQ(ParseRfc3339(s).status(),
              absl::InvalidArgumentError(kExpectedForm))
        << s;
  }
}

TEST(ToUnixMicrosIntTest, Microseconds) {
  EXPECT_EQ(ToUnixMicrosInt(absl::UnixEpoch()), 0);
  EXPECT_EQ(ToUnixMicrosInt(absl::FromUnixMicros(1'800'000'000'123'456)),
            1'800'000'000'123'456);
  EXPECT_EQ(ToUnixMicrosInt(absl::FromUnixMicros(-5)), -5);
}

}  // namespace
}  // namespace alerthub
