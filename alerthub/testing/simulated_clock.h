// A Clock that moves only when told to, for tests of time-driven behaviour.
//
//   SimulatedClock clock(absl::FromUnixSeconds(1'800'000'000));
//   clock.Advance(absl::Seconds(5));
#ifndef ALERTHUB_TESTING_SIMULATED_CLOCK_H_
#define ALERTHUB_TESTING_SIMULATED_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/ports/clock.h"

namespace alerthub {

// Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000))
      : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace alerthub

#endif  // ALERTHUB_TESTING_SIMULATED_CLOCK_H_
