// RFC 3339 timestamps as AlertHub writes and reads them on the wire.
//
//   FormatRfc3339(t)              -> "2026-11-27T03:35:38.123456Z" (UTC, micros)
//   ParseRfc3339("2026-11-27T04:35:38+01:00") -> the same instant
#ifndef ALERTHUB_COMMON_TIME_H_
#define ALERTHUB_COMMON_TIME_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace alerthub {

// UTC, always with six fractional digits and a trailing 'Z'.
std::string FormatRfc3339(absl::Time t);

// Accepts RFC 3339 date-times with an offset or 'Z' and optional fractional
// seconds. kInvalidArgument (message names the expected form) otherwise.
absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text);

// Microseconds since the Unix epoch, the unit stores persist.
inline int64_t ToUnixMicrosInt(absl::Time t) { return absl::ToUnixMicros(t); }

}  // namespace alerthub

#endif  // ALERTHUB_COMMON_TIME_H_
