#include "alerthub/common/time.h"

#include "absl/strings/ascii.h"

namespace alerthub {

std::string FormatRfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text) {
  // RFC 3339 requires the 'T' separator and an explicit offset.
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't')) {
    return absl::InvalidArgumentError(
        "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z");
  }
  // RFC 3339 offsets are 'Z' or +hh:mm / -hh:mm exactly (absl also takes
  // +hhmm and +hh, which RFC 3339 does not).
  {
    const char last = text.back();
    const bool zulu = last == 'Z' || last == 'z';
    if (!zulu) {
      if (text.size() < 25) {
        return absl::InvalidArgumentError(
            "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z");
      }
      absl::string_view off = text.substr(text.size() - 6);
      if ((off[0] != '+' && off[0] != '-') || off[3] != ':') {
        return absl::InvalidArgumentError(
            "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z");
      }
    }
  }
  absl::Time t;
  std::string err;
  std::string upper = absl::AsciiStrToUpper(text);
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", upper, &t, &err) &&
      !absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", upper, &t, &err)) {
    return absl::InvalidArgumentError(
        "must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z");
  }
  return t;
}

}  // namespace alerthub
