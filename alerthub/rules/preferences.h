// What a recipient's preferences (alerthub/model/user.h) do to one delivery:
// channel and type opt-outs and the minimum priority drop it; quiet hours
// hold it until their window ends, unless the notification is critical.
//
//   absl::StatusOr<PreferenceDecision> d =
//       ApplyPreferences(prefs, notification, Channel::kSlack, clock->Now());
//   if (d->action == PreferenceDecision::Action::kHold) {
//     delivery.status = DeliveryStatus::kHeld;
//     delivery.next_attempt_at = d->hold_until;
//   }
//
// Quiet hours are weekly windows of civil time in the user's IANA time zone
// (Abseil time zones, from the system's tzdata): a window on day D starts at
// D + start and ends at D + end, or at D+1 + end when end < start (it
// crosses midnight); start inclusive, end exclusive. Windows that touch or
// overlap are one hold: it lasts until the last of them ends. Daylight-saving
// changes: a boundary whose civil time does not exist (the clocks jump over
// it) is the instant of the jump; one that exists twice (the clocks go back)
// is its first occurrence. So "22:00-07:00" is 9 hours of real time on most
// nights, 8 on the night the clocks go forward and 10 when they go back.
//
// Pure functions; thread-safe.
#ifndef ALERTHUB_RULES_PREFERENCES_H_
#define ALERTHUB_RULES_PREFERENCES_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/user.h"

namespace alerthub {

struct PreferenceDecision {
  enum class Action {
    kDeliver,   // send now
    kHold,      // quiet hours: send at hold_until
    kSuppress,  // the recipient does not want it; `reason` says why
  };
  Action action = Action::kDeliver;
  // For people and the delivery's last_error, e.g. "recipient opted out of
  // channel slack", "priority low is below the recipient's minimum high",
  // "quiet hours until 2026-11-28T06:00:00Z".
  std::string reason;
  absl::Time hold_until = absl::InfinitePast();  // kHold only
};

// Whether `prefs` let `n` reach the recipient on `channel` at `now`. Checks,
// in order: channel opt-out, type opt-out (globs as rules' `match.type`),
// minimum priority, then quiet hours (skipped for critical notifications).
// kInvalidArgument when prefs.time_zone is not a known zone (stored
// preferences were validated, so this means tzdata changed).
absl::StatusOr<PreferenceDecision> ApplyPreferences(const Preferences& prefs,
                                                    const Notification& n, Channel channel,
                                                    absl::Time now);

// When the quiet hours that contain `t` end, or nullopt when `t` is outside
// every window. kInvalidArgument for an unknown time zone.
absl::StatusOr<std::optional<absl::Time>> QuietHoursEnd(const Preferences& prefs, absl::Time t);

}  // namespace alerthub

#endif  // ALERTHUB_RULES_PREFERENCES_H_
