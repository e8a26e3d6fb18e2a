// The contract suite of the Kv port (alerthub/ports/kv.h). Every Kv adapter's
// test instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(Memory, KvContractTest, ::testing::Values(KvFactory{
//       "memory", [](SimulatedClock* c) -> absl::StatusOr<std::unique_ptr<Kv>> {
//         return NewMemoryKv({.clock = c}); }}));
#ifndef ALERTHUB_TESTING_KV_CONTRACT_H_
#define ALERTHUB_TESTING_KV_CONTRACT_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "alerthub/ports/kv.h"
#include "alerthub/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace alerthub {

struct KvFactory {
  std::string name;
  // Opens a fresh, empty Kv that takes its time from `clock`.
  std::function<absl::StatusOr<std::unique_ptr<Kv>>(SimulatedClock* clock)> open;
  // True when expiry follows the server's own clock (redis): the suite then
  // also sleeps for the time it advances the simulated clock.
  bool server_side_expiry = false;
};

inline std::ostream& operator<<(std::ostream& os, const KvFactory& f) {
  return os << f.name;
}

class KvContractTest : public ::testing::TestWithParam<KvFactory> {
 protected:
  void SetUp() override;
  void Advance(absl::Duration d);

  SimulatedClock clock_;
  std::unique_ptr<Kv> kv_;
};

}  // namespace alerthub

#endif  // ALERTHUB_TESTING_KV_CONTRACT_H_
