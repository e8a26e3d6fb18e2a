#include "alerthub/ports/clock.h"

#include "absl/time/clock.h"

namespace alerthub {
namespace {

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

Clock* Clock::Real() {
  static Clock* clock = new RealClock();
  return clock;
}

}  // namespace alerthub
