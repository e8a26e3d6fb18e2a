#include "alerthub/pipeline/realtime.h"

#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

TEST(RealtimeTest, RoundTrip) {
  StatusUpdate u{"0192a0b0-0000-7000-8000-000000000001", NotificationStatus::kDelivered,
                 absl::FromUnixMicros(1'800'000'000'123'456), "deploy.done", Priority::kHigh};
  std::string json = StatusUpdateToJson(u);
  EXPECT_EQ(nlohmann::json::parse(json),
            nlohmann::json::parse(R"({"type": "notification.updated",
              "id": "0192a0b0-0000-7000-8000-000000000001", "status": "delivered",
              "at": "2027-01-15T08:00:00.123456Z", "notification_type": "deploy.done",
              "priority": "high"})"));
  ASSERT_OK_AND_ASSIGN(StatusUpdate back, StatusUpdateFromJson(json));
  EXPECT_EQ(back.id, u.id);
  EXPECT_EQ(back.status, u.status);
  EXPECT_EQ(back.at, u.at);
  EXPECT_EQ(back.notification_type, u.notification_type);
  EXPECT_EQ(back.priority, u.priority);
}

TEST(RealtimeTest, RejectsOtherMessages) {
  EXPECT_THAT(StatusUpdateFromJson("not json"),
              ::alerthub::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(StatusUpdateFromJson(R"({"type": "other", "id": "x", "status": "accepted"})"),
              ::alerthub::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(UpdatesChannel("t1"), "alerthub.updates.t1");
}

}  // namespace
}  // namespace alerthub
