// The contract every TaskQueue adapter passes: a parameterized GoogleTest
// suite whose cases (in task_queue_contract.cc) exercise each method of
// alerthub/ports/task_queue.h: idempotent enqueue, delayed availability,
// exclusive leases (also across threads), lease expiry, ack, retry,
// dead-lettering and replay, depth, and the batches EnqueueMany and Settle
// (which WithOwner() forwards, so an adapter's own versions are the ones
// tested; every case also holds for the port's default loops).
//
//   INSTANTIATE_TEST_SUITE_P(
//       Sqlite, TaskQueueContractTest,
//       ::testing::Values(TaskQueueFactory{"memory", [](SimulatedClock* clock)
//           -> absl::StatusOr<std::unique_ptr<TaskQueue>> {
//         ALERTHUB_ASSIGN_OR_RETURN(auto store, OpenSqliteStore({.path = ":memory:", .clock = clock}));
//         return store->OpenTaskQueue();  // the queue keeps the database alive
//       }}),
//       TaskQueueFactoryName);
//
// and depends on //alerthub/testing:task_queue_contract (alwayslink). Every
// case gets a fresh queue from the factory and uses queue names unique to
// the case, so a factory for a shared broker may reuse one connection.
//
// Time: Enqueue's available_at and lease expiry are measured on the clock
// handed to the factory; an adapter passes the suite only if it takes "now"
// from that clock.
#ifndef ALERTHUB_TESTING_TASK_QUEUE_CONTRACT_H_
#define ALERTHUB_TESTING_TASK_QUEUE_CONTRACT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "alerthub/ports/task_queue.h"
#include "alerthub/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace alerthub::testing {

struct TaskQueueFactory {
  // A valid test-name fragment ([A-Za-z0-9_]), e.g. "sqlite_file".
  std::string name;
  // A new queue whose time comes from `clock` (which outlives it). The queue
  // must own, or share ownership of, whatever it needs; see WithOwner().
  std::function<absl::StatusOr<std::unique_ptr<TaskQueue>>(SimulatedClock* clock)> open;
};

// For INSTANTIATE_TEST_SUITE_P: names each instantiation after its factory.
std::string TaskQueueFactoryName(const ::testing::TestParamInfo<TaskQueueFactory>& info);

// A TaskQueue forwarding to `queue` that also keeps `owner` alive (and
// destroys it after `queue`), for adapters whose queue borrows from another
// object such as a connection or a store.
std::unique_ptr<TaskQueue> WithOwner(std::unique_ptr<TaskQueue> queue,
                                     std::shared_ptr<void> owner);

class TaskQueueContractTest : public ::testing::TestWithParam<TaskQueueFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A queue name unique to this test case (and process), with `suffix`.
  std::string QueueName(const std::string& suffix = "") const;

  SimulatedClock clock_;
  std::unique_ptr<TaskQueue> queue_;
  std::string q_;  // QueueName(), the queue most cases use
};

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTING_TASK_QUEUE_CONTRACT_H_
