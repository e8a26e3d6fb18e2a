// StoreContractTest cases for the analytics aggregates (ports/store.h
// "Analytics"). Registered with the rest of the suite.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "gmock/gmock.h"

namespace alerthub::testing {
namespace {

using ::absl::StatusCode;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// An OK StatusOr whose value matches `m`.
MATCHER_P(HoldsRows, m, "") {
  if (!arg.ok()) {
    *result_listener << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(m, *arg, result_listener);
}

// Routes the committed notification `n` to one delivery on `channel`,
// created now, and returns it.
Delivery RouteTo(Store& store, const Notification& n, Channel channel, absl::Time now) {
  RoutingWrite w;
  w.tenant_id = n.tenant_id;
  w.notification_id = n.id;
  Delivery d;
  d.id = NewUuidV7(now);
  d.tenant_id = n.tenant_id;
  d.notification_id = n.id;
  d.integration_id = std::string(ChannelName(channel)) + "-integration";
  d.channel = channel;
  d.created_at = now;
  d.updated_at = now;
  w.deliveries.push_back(d);
  w.event = MakeNotificationEvent(n, kEventRouted, "/alerthub/delivery", now, {{"deliveries", 1}});
  absl::StatusOr<RoutingOutcome> routed = store.RecordRouting(w);
  EXPECT_OK(routed.status());
  return d;
}

// Claims `d` and records one attempt ending in `status` (a retry is due
// one second later).
void Attempt(Store& store, const Notification& n, const Delivery& d, DeliveryStatus status,
             absl::Time now) {
  ASSERT_OK(store.ClaimDelivery(d.tenant_id, d.id, absl::Seconds(30)).status());
  AttemptWrite w;
  w.tenant_id = d.tenant_id;
  w.delivery_id = d.id;
  w.status = status;
  if (status == DeliveryStatus::kPending) w.next_attempt_at = now + absl::Seconds(1);
  if (status != DeliveryStatus::kDelivered) w.last_error = "HTTP 503";
  w.attempt_event =
      MakeNotificationEvent(n, kEventDeliveryAttempt, "/alerthub/delivery", now, {});
  ASSERT_OK(store.RecordAttempt(w).status());
}

TEST_P(StoreContractTest, AnalyticsCountTheWindowsRowsPerBucket) {
  Tenant t = AddTenant("acme");
  Tenant other = AddTenant("other");
  const absl::Time start = clock_.Now();
  const AnalyticsWindow window{start, start + absl::Minutes(2), absl::Minutes(1)};

  // Bucket 0: a webhook delivery delivered at once after 200 ms, a slack
  // one delivered on its second attempt after 3.2 s.
  SubmissionWrite s1 = NewSubmission(t.id, "deploy");
  SubmissionWrite s2 = NewSubmission(t.id, "deploy");
  CommitAll({s1, s2});
  Delivery d1 = RouteTo(*store_, s1.notification, Channel::kWebhook, clock_.Now());
  Delivery d2 = RouteTo(*store_, s2.notification, Channel::kSlack, clock_.Now());
  clock_.Advance(absl::Milliseconds(200));
  Attempt(*store_, s1.notification, d1, DeliveryStatus::kDelivered, clock_.Now());
  Attempt(*store_, s2.notification, d2, DeliveryStatus::kPending, clock_.Now());
  clock_.Advance(absl::Seconds(3));
  Attempt(*store_, s2.notification, d2, DeliveryStatus::kDelivered, clock_.Now());

  // Bucket 1: a billing notification dead-lettered, one never routed, and
  // another tenant's delivered one.
  clock_.Advance(absl::Minutes(1) - absl::Milliseconds(3200));
  ASSERT_EQ(clock_.Now(), start + absl::Minutes(1));
  SubmissionWrite s3 = NewSubmission(t.id, "billing");
  SubmissionWrite s4 = NewSubmission(t.id, "billing");
  SubmissionWrite foreign = NewSubmission(other.id, "deploy");
  CommitAll({s3, s4, foreign});
  Delivery d3 = RouteTo(*store_, s3.notification, Channel::kWebhook, clock_.Now());
  Attempt(*store_, s3.notification, d3, DeliveryStatus::kFailed, clock_.Now());
  Delivery df = RouteTo(*store_, foreign.notification, Channel::kWebhook, clock_.Now());
  Attempt(*store_, foreign.notification, df, DeliveryStatus::kDelivered, clock_.Now());

  // At the window's end (exclusive): left out.
  clock_.Advance(absl::Minutes(1));
  SubmissionWrite late = NewSubmission(t.id, "deploy");
  CommitAll({late});
  Delivery dl = RouteTo(*store_, late.notification, Channel::kWebhook, clock_.Now());
  Attempt(*store_, late.notification, dl, DeliveryStatus::kDelivered, clock_.Now());

  using N = NotificationCountRow;
  EXPECT_THAT(store_->CountNotifications(t.id, window, ""),
              HoldsRows(ElementsAre(N{0, NotificationStatus::kDelivered, 2},
                                       N{1, NotificationStatus::kAccepted, 1},
                                       N{1, NotificationStatus::kFailed, 1})));
  EXPECT_THAT(store_->CountNotifications(t.id, window, "billing"),
              HoldsRows(ElementsAre(N{1, NotificationStatus::kAccepted, 1},
                                       N{1, NotificationStatus::kFailed, 1})));

  using D = DeliveryCountRow;
  EXPECT_THAT(store_->CountDeliveries(t.id, window, std::nullopt),
              HoldsRows(ElementsAre(D{0, Channel::kWebhook, DeliveryStatus::kDelivered, 1, 0},
                                       D{0, Channel::kSlack, DeliveryStatus::kDelivered, 1, 1},
                                       D{1, Channel::kWebhook, DeliveryStatus::kFailed, 1, 0})));
  EXPECT_THAT(store_->CountDeliveries(t.id, window, Channel::kSlack),
              HoldsRows(ElementsAre(D{0, Channel::kSlack, DeliveryStatus::kDelivered, 1, 1})));

  // 200 ms is in (100, 250]; 3,200 ms in (2,500, 5,000].
  using L = LatencyHistogramRow;
  EXPECT_THAT(store_->DeliveryLatencyHistogram(t.id, window, std::nullopt),
              HoldsRows(ElementsAre(L{0, Channel::kWebhook, 4, 1}, L{0, Channel::kSlack, 8, 1})));
  EXPECT_THAT(store_->DeliveryLatencyHistogram(t.id, window, Channel::kWebhook),
              HoldsRows(ElementsAre(L{0, Channel::kWebhook, 4, 1})));

  // One bucket over the whole window.
  const AnalyticsWindow whole{window.start, window.end, window.end - window.start};
  EXPECT_THAT(store_->CountDeliveries(t.id, whole, Channel::kWebhook),
              HoldsRows(ElementsAre(D{0, Channel::kWebhook, DeliveryStatus::kDelivered, 1, 0},
                                       D{0, Channel::kWebhook, DeliveryStatus::kFailed, 1, 0})));
}

TEST_P(StoreContractTest, AnalyticsOfAQuietTenantAreEmpty) {
  Tenant t = AddTenant("acme");
  const AnalyticsWindow window{clock_.Now(), clock_.Now() + absl::Hours(1), absl::Minutes(5)};
  EXPECT_THAT(store_->CountNotifications(t.id, window, ""), HoldsRows(IsEmpty()));
  EXPECT_THAT(store_->CountDeliveries(t.id, window, std::nullopt), HoldsRows(IsEmpty()));
  EXPECT_THAT(store_->DeliveryLatencyHistogram(t.id, window, Channel::kEmail),
              HoldsRows(IsEmpty()));
}

TEST_P(StoreContractTest, AnalyticsRefuseAnEmptyWindowOrBucket) {
  Tenant t = AddTenant("acme");
  const absl::Time now = clock_.Now();
  EXPECT_THAT(store_->CountNotifications(t.id, {now, now, absl::Minutes(1)}, ""),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(
      store_->CountDeliveries(t.id, {now, now + absl::Hours(1), absl::ZeroDuration()},
                              std::nullopt),
      StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->DeliveryLatencyHistogram(t.id, {now + absl::Hours(1), now, absl::Minutes(1)},
                                               std::nullopt),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace alerthub::testing
