// The contract every Store adapter passes: a parameterized GoogleTest suite
// whose cases (in store_contract.cc) exercise each method of
// alerthub/ports/store.h and each error code its comments promise.
//
// An adapter's test instantiates it with one factory per configuration:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Sqlite, StoreContractTest,
//       ::testing::Values(StoreFactory{"memory", [](SimulatedClock* clock) {
//         return OpenSqliteStore({.path = ":memory:", .clock = clock});
//       }}),
//       StoreFactoryName);
//
// and depends on //alerthub/testing:store_contract (alwayslink, so the cases
// register themselves). Every case gets a fresh store from the factory. A
// factory for a shared server (PostgreSQL) must hand out an empty database
// or schema each time.
#ifndef ALERTHUB_TESTING_STORE_CONTRACT_H_
#define ALERTHUB_TESTING_STORE_CONTRACT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/model/notification.h"
#include "alerthub/model/tenant.h"
#include "alerthub/ports/store.h"
#include "alerthub/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace alerthub::testing {

struct StoreFactory {
  // A valid test-name fragment ([A-Za-z0-9_]), e.g. "memory" or "file".
  std::string name;
  // Opens a new, empty store whose time comes from `clock`. The clock
  // outlives the store.
  std::function<absl::StatusOr<std::unique_ptr<Store>>(SimulatedClock* clock)> open;
};

// For INSTANTIATE_TEST_SUITE_P: names each instantiation after its factory.
std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info);

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new tenant with a fresh id and the given name, stored.
  Tenant AddTenant(absl::string_view name);

  // A submission of a new notification of `tenant_id` created now (clock),
  // with its accepted event and its outbox message, as the pipeline builds
  // it. `dedup_key` may be empty.
  SubmissionWrite NewSubmission(absl::string_view tenant_id,
                                absl::string_view type = "deploy.finished",
                                absl::string_view dedup_key = "");

  // Commits `writes` and returns their ids; fails the test on error.
  std::vector<std::string> CommitAll(const std::vector<SubmissionWrite>& writes);

  SimulatedClock clock_;
  std::unique_ptr<Store> store_;
};

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTING_STORE_CONTRACT_H_
