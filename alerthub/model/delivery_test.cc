#include "alerthub/model/delivery.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "alerthub/model/event.h"
#include "alerthub/model/internal/test_util.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::model_test::HasFieldErrors;
using ::alerthub::model_test::IsOkAndHolds;
using ::alerthub::testing::StatusIs;
using ::testing::HasSubstr;
using Json = nlohmann::json;

TEST(DeliveryStatusTest, NamesRoundTrip) {
  const std::vector<std::pair<DeliveryStatus, std::string>> names = {
      {DeliveryStatus::kPending, "pending"},
      {DeliveryStatus::kSending, "sending"},
      {DeliveryStatus::kDelivered, "delivered"},
      {DeliveryStatus::kFailed, "failed"},
      {DeliveryStatus::kHeld, "held"},
      {DeliveryStatus::kSuppressed, "suppressed"}};
  for (const auto& [status, name] : names) {
    EXPECT_EQ(DeliveryStatusName(status), name);
    EXPECT_THAT(ParseDeliveryStatus(name), IsOkAndHolds(status));
  }
  EXPECT_EQ(DeliveryStatusName(static_cast<DeliveryStatus>(42)), "unknown");
  EXPECT_THAT(ParseDeliveryStatus("sent"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown delivery status \"sent\"; must be one of "
                       "pending, sending, delivered, failed, held, "
                       "suppressed"));
}

Delivery Full() {
  Delivery d;
  d.id = "01936f0e-7a3c-7b21-9d4e-000000000005";
  d.tenant_id = "01936f0e-7a3c-7b21-9d4e-000000000002";
  d.notification_id = "01936f0e-7a3c-7b21-9d4e-000000000001";
  d.integration_id = "01936f0e-7a3c-7b21-9d4e-000000000004";
  d.channel = Channel::kEmail;
  d.recipient = "user-1";
  d.status = DeliveryStatus::kHeld;
  d.attempts = 3;
  d.next_attempt_at = absl::FromUnixSeconds(1'800'000'300);
  d.last_error = "smtp: 451 try again later";
  d.created_at = absl::FromUnixSeconds(1'800'000'000);
  d.updated_at = absl::FromUnixMicros(1'800'000'010'000'500);
  return d;
}

void ExpectEqual(const Delivery& a, const Delivery& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  EXPECT_EQ(a.notification_id, b.notification_id);
  EXPECT_EQ(a.integration_id, b.integration_id);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.recipient, b.recipient);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.next_attempt_at, b.next_attempt_at);
  EXPECT_EQ(a.last_error, b.last_error);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

TEST(DeliveryJsonTest, WritesEveryField) {
  EXPECT_EQ(DeliveryToJson(Full()), Json::parse(R"({
    "id": "01936f0e-7a3c-7b21-9d4e-000000000005",
    "tenant_id": "01936f0e-7a3c-7b21-9d4e-000000000002",
    "notification_id": "01936f0e-7a3c-7b21-9d4e-000000000001",
    "integration_id": "01936f0e-7a3c-7b21-9d4e-000000000004",
    "channel": "email",
    "recipient": "user-1",
    "status": "held",
    "attempts": 3,
    "next_attempt_at": "2027-01-15T08:05:00.000000Z",
    "last_error": "smtp: 451 try again later",
    "created_at": "2027-01-15T08:00:00.000000Z",
    "updated_at": "2027-01-15T08:00:10.000500Z"
  })"));
}

TEST(DeliveryJsonTest, OmitsEmptyOptionalFields) {
  Delivery d = Full();
  d.recipient.clear();
  d.next_attempt_at.reset();
  d.last_error.clear();
  Json j = DeliveryToJson(d);
  EXPECT_FALSE(j.contains("recipient"));
  EXPECT_FALSE(j.contains("next_attempt_at"));
  EXPECT_FALSE(j.contains("last_error"));
  ASSERT_OK_AND_ASSIGN(Delivery back, DeliveryFromJson(Json::parse(j.dump())));
  ExpectEqual(back, d);
}

TEST(DeliveryJsonTest, RoundTripsEveryStatusAndChannel) {
  for (int s = 1; s <= 6; ++s) {
    for (int c = 1; c <= 5; ++c) {
      Delivery d = Full();
      d.status = static_cast<DeliveryStatus>(s);
      d.channel = static_cast<Channel>(c);
      ASSERT_OK_AND_ASSIGN(Delivery back, DeliveryFromJson(DeliveryToJson(d)));
      ExpectEqual(back, d);
    }
  }
}

TEST(DeliveryFromJsonTest, RejectsWrongShapes) {
  EXPECT_THAT(DeliveryFromJson(Json("x")),
              HasFieldErrors({{"", "must be a JSON object"}}));
  EXPECT_THAT(DeliveryFromJson(Json::object()),
              HasFieldErrors({{"id", "is required"},
                              {"tenant_id", "is required"},
                              {"notification_id", "is required"},
                              {"integration_id", "is required"},
                              {"channel", "is required"},
                              {"status", "is required"},
                              {"attempts", "is required"}}));
  Json j = DeliveryToJson(Full());
  j["channel"] = "sms";
  j["status"] = 3;
  j["attempts"] = 1.5;
  j["next_attempt_at"] = "later";
  j["last_error"] = Json::array();
  EXPECT_THAT(DeliveryFromJson(j),
              HasFieldErrors({{"channel",
                               "must be one of webhook, slack, discord, "
                               "email, push"},
                              {"status",
                               "must be one of pending, sending, delivered, "
                               "failed, held, suppressed"},
                              {"attempts", "must be an integer"},
                              {"next_attempt_at",
                               "must be an RFC 3339 date-time such as "
                               "2026-01-02T15:04:05Z"},
                              {"last_error", "must be a string"}}));
  EXPECT_THAT(DeliveryFromJson(j),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid delivery record")));
}

}  // namespace
}  // namespace alerthub

namespace alerthub {
namespace {

DeliveryTally Tally(std::initializer_list<std::pair<DeliveryStatus, int>> deliveries) {
  DeliveryTally t;
  for (const auto& [status, attempts] : deliveries) {
    Delivery d;
    d.status = status;
    d.attempts = attempts;
    CountDelivery(d, &t);
  }
  return t;
}

TEST(AggregateNotificationStatusTest, FollowsTheDeliveries) {
  using S = DeliveryStatus;
  using N = NotificationStatus;
  const N routed = N::kRouted;
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kPending, 0}})), N::kRouted);
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kSending, 0}})), N::kDelivering);
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kPending, 1}})), N::kDelivering);
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kPending, 0}, {S::kDelivered, 1}})),
            N::kDelivering);
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kDelivered, 1}, {S::kDelivered, 2}})),
            N::kDelivered);
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kFailed, 8}})), N::kFailed);
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kFailed, 8}, {S::kDelivered, 1}})),
            N::kPartiallyDelivered);
  // Suppressed deliveries do not count, unless they are all there is.
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kSuppressed, 0}, {S::kDelivered, 1}})),
            N::kDelivered);
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kSuppressed, 0}})), N::kSuppressed);
  // Held (quiet hours) and not yet tried is still routed.
  EXPECT_EQ(AggregateNotificationStatus(routed, Tally({{S::kHeld, 0}})), N::kRouted);
  // No deliveries, or cancelled: unchanged.
  EXPECT_EQ(AggregateNotificationStatus(N::kAccepted, Tally({})), N::kAccepted);
  EXPECT_EQ(AggregateNotificationStatus(N::kCancelled, Tally({{S::kDelivered, 1}})),
            N::kCancelled);
}

TEST(AggregateNotificationStatusTest, AnnouncesOnlyFinalDeliveryOutcomes) {
  ASSERT_TRUE(AnnouncementFor(NotificationStatus::kDelivered).has_value());
  EXPECT_EQ(AnnouncementFor(NotificationStatus::kDelivered)->topic, kTopicDelivered);
  EXPECT_EQ(AnnouncementFor(NotificationStatus::kPartiallyDelivered)->event_type,
            kEventDelivered);
  EXPECT_EQ(AnnouncementFor(NotificationStatus::kFailed)->topic, kTopicFailed);
  EXPECT_FALSE(AnnouncementFor(NotificationStatus::kDelivering).has_value());
  EXPECT_FALSE(AnnouncementFor(NotificationStatus::kSuppressed).has_value());
}

}  // namespace
}  // namespace alerthub
