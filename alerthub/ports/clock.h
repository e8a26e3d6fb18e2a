// Clock: the only source of "now" in AlertHub, so retry schedules, token
// buckets, dedup windows and leases are tested without sleeping
// (alerthub/testing/simulated_clock.h).
//
// Implementations are safe for concurrent use from multiple threads.
#ifndef ALERTHUB_PORTS_CLOCK_H_
#define ALERTHUB_PORTS_CLOCK_H_

#include "absl/time/time.h"

namespace alerthub {

class Clock {
 public:
  virtual ~Clock() = default;

  // The current time. Wall-clock implementations may go backwards when the
  // system clock is adjusted; callers that need monotonic IDs cope with that.
  virtual absl::Time Now() const = 0;

  // The process-wide wall clock (absl::Now()). Never destroyed.
  static Clock* Real();
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_CLOCK_H_
