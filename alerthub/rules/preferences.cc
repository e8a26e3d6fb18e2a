#include "alerthub/rules/preferences.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "alerthub/common/time.h"
#include "alerthub/rules/matcher.h"

namespace alerthub {
namespace {

// The instant of civil time `m` in `tz`: a skipped time (clocks jumped over
// it) is the jump itself; a repeated one is its first occurrence.
absl::Time Resolve(const absl::TimeZone& tz, absl::CivilMinute m) {
  const absl::TimeZone::TimeInfo info = tz.At(m);
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

bool OnDay(const QuietHours& w, absl::Weekday day) {
  return std::find(w.days.begin(), w.days.end(), day) != w.days.end();
}

// The latest end among the windows that contain `t`; nullopt when none does.
// A window that contains t started on t's civil day or, crossing midnight,
// on the day before.
std::optional<absl::Time> EndOfWindowsAt(const absl::TimeZone& tz,
                                         const std::vector<QuietHours>& windows, absl::Time t) {
  const absl::CivilDay today = absl::ToCivilDay(t, tz);
  std::optional<absl::Time> end;
  for (const absl::CivilDay day : {today - 1, today}) {
    const absl::Weekday weekday = absl::GetWeekday(day);
    const absl::CivilMinute midnight(day);
    for (const QuietHours& w : windows) {
      if (!OnDay(w, weekday)) continue;
      const int end_minute = w.end_minute + (w.end_minute < w.start_minute ? 24 * 60 : 0);
      const absl::Time start_at = Resolve(tz, midnight + w.start_minute);
      const absl::Time end_at = Resolve(tz, midnight + end_minute);
      if (start_at <= t && t < end_at && (!end.has_value() || end_at > *end)) end = end_at;
    }
  }
  return end;
}

absl::StatusOr<absl::TimeZone> LoadZone(absl::string_view name) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown time zone \"", name, "\" in the recipient's preferences"));
  }
  return tz;
}

}  // namespace

absl::StatusOr<std::optional<absl::Time>> QuietHoursEnd(const Preferences& prefs, absl::Time t) {
  if (prefs.quiet_hours.empty()) return std::optional<absl::Time>();
  absl::StatusOr<absl::TimeZone> tz = LoadZone(prefs.time_zone);
  if (!tz.ok()) return tz.status();
  std::optional<absl::Time> end = EndOfWindowsAt(*tz, prefs.quiet_hours, t);
  // Windows that touch or overlap hold on until the last one ends. Each step
  // moves to a later occurrence of some window, so a week of them ends after
  // at most 7 steps per window (windows covering the whole week end there).
  for (size_t i = 0; end.has_value() && i < 7 * prefs.quiet_hours.size(); ++i) {
    std::optional<absl::Time> next = EndOfWindowsAt(*tz, prefs.quiet_hours, *end);
    if (!next.has_value() || *next <= *end) break;
    end = next;
  }
  return end;
}

absl::StatusOr<PreferenceDecision> ApplyPreferences(const Preferences& prefs,
                                                    const Notification& n, Channel channel,
                                                    absl::Time now) {
  PreferenceDecision d;
  if (std::find(prefs.opt_out_channels.begin(), prefs.opt_out_channels.end(), channel) !=
      prefs.opt_out_channels.end()) {
    d.action = PreferenceDecision::Action::kSuppress;
    d.reason = absl::StrCat("recipient opted out of channel ", ChannelName(channel));
    return d;
  }
  for (const std::string& glob : prefs.opt_out_types) {
    if (TypeGlobMatches(glob, n.type)) {
      d.action = PreferenceDecision::Action::kSuppress;
      d.reason = absl::StrCat("recipient opted out of types \"", glob, "\"");
      return d;
    }
  }
  if (n.priority < prefs.min_priority) {
    d.action = PreferenceDecision::Action::kSuppress;
    d.reason = absl::StrCat("priority ", PriorityName(n.priority),
                            " is below the recipient's minimum ",
                            PriorityName(prefs.min_priority));
    return d;
  }
  if (n.priority == Priority::kCritical) return d;
  absl::StatusOr<std::optional<absl::Time>> quiet_until = QuietHoursEnd(prefs, now);
  if (!quiet_until.ok()) return quiet_until.status();
  if (quiet_until->has_value()) {
    d.action = PreferenceDecision::Action::kHold;
    d.hold_until = **quiet_until;
    d.reason = absl::StrCat("quiet hours until ", FormatRfc3339(d.hold_until));
  }
  return d;
}

}  // namespace alerthub
