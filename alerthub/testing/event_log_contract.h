// The contract suite of the EventLog port (alerthub/ports/event_log.h). Every
// EventLog adapter's test instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Inproc, EventLogContractTest,
//       ::testing::Values(EventLogFactory{"inproc", [] { return ...; }}));
//
// Topics and groups are unique per test, so a live broker can be shared.
#ifndef ALERTHUB_TESTING_EVENT_LOG_CONTRACT_H_
#define ALERTHUB_TESTING_EVENT_LOG_CONTRACT_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "alerthub/ports/event_log.h"
#include "gtest/gtest.h"

namespace alerthub {

struct EventLogFactory {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<EventLog>>()> open;
};

inline std::ostream& operator<<(std::ostream& os, const EventLogFactory& f) {
  return os << f.name;
}

class EventLogContractTest : public ::testing::TestWithParam<EventLogFactory> {
 protected:
  void SetUp() override;
  // A topic name unique to this test.
  std::string Topic(absl::string_view suffix);

  std::unique_ptr<EventLog> log_;
};

}  // namespace alerthub

#endif  // ALERTHUB_TESTING_EVENT_LOG_CONTRACT_H_
