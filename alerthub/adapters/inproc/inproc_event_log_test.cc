#include "alerthub/adapters/inproc/inproc_event_log.h"

#include "alerthub/testing/event_log_contract.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Inproc, EventLogContractTest,
    ::testing::Values(EventLogFactory{
        "inproc", []() -> absl::StatusOr<std::unique_ptr<EventLog>> {
          return NewInprocEventLog();
        }}),
    [](const auto& info) { return info.param.name; });

// Specific to inproc: publication is acknowledged only when every group's
// handler succeeded, which is what makes the outbox relay safe.
TEST(InprocEventLogTest, HandlerFailureFailsThePublish) {
  std::unique_ptr<EventLog> log = NewInprocEventLog();
  auto ok_sub = log->Subscribe("t", "a", [](const EventMessage&) { return absl::OkStatus(); });
  auto bad_sub = log->Subscribe("t", "b", [](const EventMessage&) {
    return absl::InternalError("disk full");
  });
  ASSERT_OK(ok_sub.status());
  ASSERT_OK(bad_sub.status());
  EXPECT_THAT(log->PublishReliable(EventMessage{"t", "k", "p", {}}),
              ::alerthub::testing::StatusIs(absl::StatusCode::kUnavailable,
                                            ::testing::HasSubstr("disk full")));
}

TEST(InprocEventLogTest, TopicWithoutSubscribersIsAcknowledged) {
  std::unique_ptr<EventLog> log = NewInprocEventLog();
  EXPECT_OK(log->PublishReliable(EventMessage{"nobody.listens", "k", "p", {}}));
}

}  // namespace
}  // namespace alerthub
