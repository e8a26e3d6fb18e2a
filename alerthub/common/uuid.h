// UUIDv7 identifiers (RFC 9562): 48 bits of Unix milliseconds, then random
// bits. IDs made by one process are strictly increasing, so sorting by ID
// sorts by creation time, which keyset pagination relies on.
//
//   std::string id = NewUuidV7(absl::Now());  // "01936f0e-7a3c-7b21-9d4e-..."
#ifndef ALERTHUB_COMMON_UUID_H_
#define ALERTHUB_COMMON_UUID_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace alerthub {

// A new UUIDv7 in canonical lowercase 8-4-4-4-12 form. Thread-safe. IDs from
// one process are strictly increasing, even within one millisecond and when
// `now` goes backwards (the previous timestamp is kept instead).
std::string NewUuidV7(absl::Time now);

// True when `s` is a UUID in canonical lowercase or uppercase 8-4-4-4-12 form.
bool IsUuid(absl::string_view s);

// The timestamp embedded in a UUIDv7 (millisecond precision); InfinitePast()
// when `id` is not a UUIDv7.
absl::Time UuidV7Time(absl::string_view id);

}  // namespace alerthub

#endif  // ALERTHUB_COMMON_UUID_H_
