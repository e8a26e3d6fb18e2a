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

// Specific to inproc: a batch handler gets all of one publication's messages
// of its topic in one call, in order, and a message it fails (alone) is
// reported failed.
TEST(InprocEventLogTest, BatchHandlerGetsEachTopicsMessagesInOneCall) {
  std::unique_ptr<EventLog> log = NewInprocEventLog();
  std::vector<std::vector<std::string>> calls;
  auto sub = log->SubscribeBatch("t", "g", [&](absl::Span<const EventMessage> ms) {
    std::vector<std::string> payloads;
    std::vector<absl::Status> out;
    for (const EventMessage& m : ms) {
      payloads.push_back(m.payload);
      out.push_back(m.payload == "bad" ? absl::InternalError("no") : absl::OkStatus());
    }
    calls.push_back(std::move(payloads));
    return out;
  });
  ASSERT_OK(sub.status());
  int other = 0;
  auto other_sub = log->Subscribe("u", "g", [&](const EventMessage&) {
    ++other;
    return absl::OkStatus();
  });
  ASSERT_OK(other_sub.status());
  std::vector<absl::Status> statuses = log->PublishReliable(
      {EventMessage{"t", "k1", "a", {}}, EventMessage{"u", "k2", "x", {}},
       EventMessage{"t", "k3", "bad", {}}, EventMessage{"t", "k1", "c", {}}});
  ASSERT_EQ(statuses.size(), 4u);
  EXPECT_OK(statuses[0]);
  EXPECT_OK(statuses[1]);
  EXPECT_THAT(statuses[2], ::alerthub::testing::StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_OK(statuses[3]);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], (std::vector<std::string>{"a", "bad", "c"}));
  EXPECT_EQ(other, 1);
}

TEST(InprocEventLogTest, BatchHandlerReturningTheWrongCountFailsTheBatch) {
  std::unique_ptr<EventLog> log = NewInprocEventLog();
  auto sub = log->SubscribeBatch("t", "g", [](absl::Span<const EventMessage>) {
    return std::vector<absl::Status>();
  });
  ASSERT_OK(sub.status());
  for (const absl::Status& s :
       log->PublishReliable({EventMessage{"t", "k", "a", {}}, EventMessage{"t", "k", "b", {}}})) {
    EXPECT_THAT(s, ::alerthub::testing::StatusIs(absl::StatusCode::kUnavailable,
                                                 ::testing::HasSubstr("statuses")));
  }
}

}  // namespace
}  // namespace alerthub
