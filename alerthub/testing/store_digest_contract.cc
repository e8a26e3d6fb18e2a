// StoreContractTest cases for digests (ports/store.h, "Digests"): routing
// holds digest members until their group's flush time, ClaimDigest claims a
// due group at once and records the flush. Registered with the rest of the
// suite.
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
using ::testing::SizeIs;

constexpr DigestWindow kWindow{.group_wait = absl::Seconds(30),
                               .group_interval = absl::Minutes(5)};

class DigestContract {
 public:
  // Routing of `n` to one held digest member per integration, with the
  // digest key `key`; `not_before` is the member's own earliest time.
  static RoutingWrite Routing(const Notification& n, const std::vector<std::string>& integrations,
                              absl::string_view key, absl::Time now,
                              std::optional<absl::Time> not_before = std::nullopt,
                              absl::string_view recipient = "") {
    RoutingWrite w;
    w.tenant_id = n.tenant_id;
    w.notification_id = n.id;
    for (const std::string& integration : integrations) {
      Delivery d;
      d.id = NewUuidV7(now);
      d.tenant_id = n.tenant_id;
      d.notification_id = n.id;
      d.integration_id = integration;
      d.channel = Channel::kWebhook;
      d.recipient = std::string(recipient);
      d.status = DeliveryStatus::kHeld;
      d.digest_key = std::string(key);
      d.next_attempt_at = not_before;
      d.created_at = now;
      d.updated_at = now;
      w.deliveries.push_back(d);
    }
    w.status = NotificationStatus::kRouted;
    w.event = MakeNotificationEvent(n, kEventRouted, "/alerthub/delivery", now, {});
    w.digest = kWindow;
    return w;
  }
};

// One attempt per claimed member, each ending `status` (a retry in 5 s when
// pending), as a digest's send records them.
std::vector<AttemptWrite> GroupOutcome(const DigestClaim& claim,
                                       DeliveryStatus status, absl::Time now) {
  std::vector<AttemptWrite> writes;
  for (const Delivery& d : claim.deliveries) {
    AttemptWrite w;
    w.tenant_id = d.tenant_id;
    w.delivery_id = d.id;
    w.status = status;
    if (status == DeliveryStatus::kPending) {
      w.next_attempt_at = now + absl::Seconds(5);
      w.last_error = "HTTP 503";
    }
    Notification n;
    n.id = d.notification_id;
    n.tenant_id = d.tenant_id;
    w.attempt_event = MakeNotificationEvent(n, kEventDeliveryAttempt, "/alerthub/delivery", now, {});
    writes.push_back(w);
  }
  return writes;
}

std::vector<std::string> Ids(const std::vector<Delivery>& v) {
  std::vector<std::string> ids;
  for (const Delivery& d : v) ids.push_back(d.id);
  return ids;
}

}  // namespace

// Registered as StoreContractTest cases so every adapter runs them.
TEST_P(StoreContractTest, DigestMembersWaitForTheirGroupsFlushTime) {
  Tenant t = AddTenant("acme");
  const absl::Time t0 = clock_.Now();
  SubmissionWrite s1 = NewSubmission(t.id);
  CommitAll({s1});
  ASSERT_OK_AND_ASSIGN(RoutingOutcome r1,
                       store_->RecordRouting(DigestContract::Routing(
                           s1.notification, {"int-a", "int-b"}, "rule-1/svc=api", t0)));
  ASSERT_THAT(r1.deliveries, SizeIs(2));
  // The first member of a group waits group_wait; the key is stored.
  EXPECT_EQ(r1.deliveries[0].status, DeliveryStatus::kHeld);
  EXPECT_EQ(r1.deliveries[0].digest_key, "rule-1/svc=api");
  EXPECT_EQ(*r1.deliveries[0].next_attempt_at, t0 + absl::Seconds(30));
  EXPECT_EQ(r1.notification.after, NotificationStatus::kRouted);

  // A later member joins the waiting flush; another key does not.
  clock_.Advance(absl::Seconds(10));
  SubmissionWrite s2 = NewSubmission(t.id);
  SubmissionWrite s3 = NewSubmission(t.id);
  CommitAll({s2, s3});
  ASSERT_OK_AND_ASSIGN(RoutingOutcome r2,
                       store_->RecordRouting(DigestContract::Routing(
                           s2.notification, {"int-a"}, "rule-1/svc=api", clock_.Now())));
  EXPECT_EQ(*r2.deliveries[0].next_attempt_at, t0 + absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(RoutingOutcome r3,
                       store_->RecordRouting(DigestContract::Routing(
                           s3.notification, {"int-a"}, "rule-1/svc=db", clock_.Now())));
  EXPECT_EQ(*r3.deliveries[0].next_attempt_at, clock_.Now() + absl::Seconds(30));

  // The dry run predicts what routing gives.
  ASSERT_OK_AND_ASSIGN(absl::Time joined,
                       store_->PeekDigestFlush({t.id, "int-a", "", "rule-1/svc=api"}, kWindow,
                                               clock_.Now()));
  EXPECT_EQ(joined, t0 + absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(absl::Time fresh,
                       store_->PeekDigestFlush({t.id, "int-a", "", "rule-2/none"}, kWindow,
                                               clock_.Now()));
  EXPECT_EQ(fresh, clock_.Now() + absl::Seconds(30));

  // A member of a group without a window is refused.
  SubmissionWrite s4 = NewSubmission(t.id);
  CommitAll({s4});
  RoutingWrite bad =
      DigestContract::Routing(s4.notification, {"int-a"}, "rule-1/svc=api", clock_.Now());
  bad.digest.reset();
  EXPECT_THAT(store_->RecordRouting(bad), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreContractTest, ClaimDigestTakesTheWholeDueGroupOnce) {
  Tenant t = AddTenant("acme");
  const absl::Time t0 = clock_.Now();
  auto route = [&](absl::string_view key, const std::vector<std::string>& integrations) {
    SubmissionWrite s = NewSubmission(t.id);
    CommitAll({s});
    absl::StatusOr<RoutingOutcome> out = store_->RecordRouting(
        DigestContract::Routing(s.notification, integrations, key, clock_.Now()));
    EXPECT_OK(out.status());
    return out->deliveries;
  };
  std::vector<Delivery> a1 = route("k", {"int-a"});
  clock_.Advance(absl::Seconds(1));
  std::vector<Delivery> a2 = route("k", {"int-a", "int-b"});  // int-b: its own group
  clock_.Advance(absl::Seconds(1));
  std::vector<Delivery> a3 = route("k", {"int-a"});
  std::vector<Delivery> other = route("other", {"int-a"});

  // Not due: nothing is claimed.
  ASSERT_OK_AND_ASSIGN(DigestClaim early, store_->ClaimDigest(t.id, a3[0].id, absl::Seconds(60)));
  EXPECT_EQ(early.result, DeliveryClaim::Result::kNotDue);
  ASSERT_THAT(early.deliveries, SizeIs(1));
  EXPECT_EQ(*early.deliveries[0].next_attempt_at, t0 + absl::Seconds(30));

  // Due: any member's claim takes the whole group of (integration, key).
  clock_.Set(t0 + absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(DigestClaim claim, store_->ClaimDigest(t.id, a3[0].id, absl::Seconds(60)));
  EXPECT_EQ(claim.result, DeliveryClaim::Result::kClaimed);
  EXPECT_THAT(Ids(claim.deliveries), ElementsAre(a1[0].id, a2[0].id, a3[0].id));
  for (const Delivery& d : claim.deliveries) EXPECT_EQ(d.status, DeliveryStatus::kSending);
  ASSERT_THAT(claim.notifications, SizeIs(3));
  EXPECT_EQ(claim.notifications[0].before, NotificationStatus::kRouted);
  EXPECT_EQ(claim.notifications[0].after, NotificationStatus::kDelivering);

  // Another member's task finds the group busy; other groups are untouched.
  ASSERT_OK_AND_ASSIGN(DigestClaim busy, store_->ClaimDigest(t.id, a1[0].id, absl::Seconds(60)));
  EXPECT_EQ(busy.result, DeliveryClaim::Result::kBusy);
  ASSERT_OK_AND_ASSIGN(Delivery b, store_->GetDelivery(t.id, a2[1].id));
  EXPECT_EQ(b.status, DeliveryStatus::kHeld);
  ASSERT_OK_AND_ASSIGN(Delivery o, store_->GetDelivery(t.id, other[0].id));
  EXPECT_EQ(o.status, DeliveryStatus::kHeld);

  // A member routed during the flush waits group_interval after it.
  clock_.Advance(absl::Seconds(2));
  std::vector<Delivery> late = route("k", {"int-a"});
  EXPECT_EQ(*late[0].next_attempt_at, t0 + absl::Seconds(30) + absl::Minutes(5));

  // One outcome recorded for every member (one RecordAttempts call).
  ASSERT_OK_AND_ASSIGN(
      std::vector<absl::StatusOr<AttemptOutcomeRecord>> records,
      store_->RecordAttempts(GroupOutcome(claim, DeliveryStatus::kDelivered,
                                          clock_.Now())));
  for (const auto& r : records) ASSERT_OK(r.status());
  ASSERT_OK_AND_ASSIGN(DigestClaim done, store_->ClaimDigest(t.id, a1[0].id, absl::Seconds(60)));
  EXPECT_EQ(done.result, DeliveryClaim::Result::kFinished);
  EXPECT_EQ(done.deliveries[0].status, DeliveryStatus::kDelivered);

  EXPECT_THAT(store_->ClaimDigest(t.id, "nope", absl::Seconds(60)),
              StatusIs(StatusCode::kNotFound));
  Tenant stranger = AddTenant("other");
  EXPECT_THAT(store_->ClaimDigest(stranger.id, late[0].id, absl::Seconds(60)),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->ClaimDigest(t.id, late[0].id, absl::ZeroDuration()),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreContractTest, ClaimDigestRetakesARetryingOrAbandonedGroup) {
  Tenant t = AddTenant("acme");
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    SubmissionWrite s = NewSubmission(t.id);
    CommitAll({s});
    ASSERT_OK_AND_ASSIGN(RoutingOutcome out,
                         store_->RecordRouting(DigestContract::Routing(
                             s.notification, {"int-a"}, "k", clock_.Now())));
    ids.push_back(out.deliveries[0].id);
  }
  clock_.Advance(absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(DigestClaim first, store_->ClaimDigest(t.id, ids[0], absl::Seconds(60)));
  ASSERT_THAT(first.deliveries, SizeIs(2));

  // The worker died: after the lease, any member's claim retakes the group.
  clock_.Advance(absl::Seconds(61));
  ASSERT_OK_AND_ASSIGN(DigestClaim again, store_->ClaimDigest(t.id, ids[1], absl::Seconds(60)));
  EXPECT_EQ(again.result, DeliveryClaim::Result::kClaimed);
  EXPECT_THAT(Ids(again.deliveries), ElementsAre(ids[0], ids[1]));

  // A failed attempt puts both back to pending; the retry takes both again.
  ASSERT_OK(store_->RecordAttempts(
                    GroupOutcome(again, DeliveryStatus::kPending, clock_.Now()))
                .status());
  ASSERT_OK_AND_ASSIGN(DigestClaim wait, store_->ClaimDigest(t.id, ids[0], absl::Seconds(60)));
  EXPECT_EQ(wait.result, DeliveryClaim::Result::kNotDue);
  clock_.Advance(absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(DigestClaim retry, store_->ClaimDigest(t.id, ids[0], absl::Seconds(60)));
  EXPECT_EQ(retry.result, DeliveryClaim::Result::kClaimed);
  EXPECT_THAT(Ids(retry.deliveries), ElementsAre(ids[0], ids[1]));
  for (const Delivery& d : retry.deliveries) EXPECT_EQ(d.attempts, 1);
}

TEST_P(StoreContractTest, ADelayedDigestMemberJoinsNoEarlierFlush) {
  Tenant t = AddTenant("acme");
  const absl::Time t0 = clock_.Now();
  auto route = [&](std::optional<absl::Time> not_before) {
    SubmissionWrite s = NewSubmission(t.id);
    CommitAll({s});
    absl::StatusOr<RoutingOutcome> out = store_->RecordRouting(
        DigestContract::Routing(s.notification, {"int-a"}, "k", clock_.Now(), not_before));
    EXPECT_OK(out.status());
    return out->deliveries[0];
  };
  EXPECT_EQ(*route(std::nullopt).next_attempt_at, t0 + absl::Seconds(30));
  // Delayed past the waiting flush: its own window from its due time.
  EXPECT_EQ(*route(t0 + absl::Minutes(10)).next_attempt_at,
            t0 + absl::Minutes(10) + absl::Seconds(30));
  // Delayed, but a flush after its due time is waiting: it joins that one.
  EXPECT_EQ(*route(t0 + absl::Minutes(10)).next_attempt_at,
            t0 + absl::Minutes(10) + absl::Seconds(30));
  // A non-delayed member joins the earliest waiting flush.
  EXPECT_EQ(*route(std::nullopt).next_attempt_at, t0 + absl::Seconds(30));
  // A delivery without a digest key is claimed alone by ClaimDigest.
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  RoutingWrite plain = DigestContract::Routing(s.notification, {"int-b"}, "", clock_.Now());
  plain.deliveries[0].status = DeliveryStatus::kPending;
  ASSERT_OK_AND_ASSIGN(RoutingOutcome routed, store_->RecordRouting(plain));
  ASSERT_OK_AND_ASSIGN(DigestClaim alone,
                       store_->ClaimDigest(t.id, routed.deliveries[0].id, absl::Seconds(60)));
  EXPECT_EQ(alone.result, DeliveryClaim::Result::kClaimed);
  EXPECT_THAT(Ids(alone.deliveries), ElementsAre(routed.deliveries[0].id));
}

TEST_P(StoreContractTest, EachRecipientHasItsOwnDigestGroup) {
  Tenant t = AddTenant("acme");
  std::vector<std::string> ann, bob;
  for (int i = 0; i < 2; ++i) {
    SubmissionWrite s = NewSubmission(t.id);
    CommitAll({s});
    for (const char* user : {"ann", "bob"}) {
      RoutingWrite w = DigestContract::Routing(s.notification, {"int-a"}, "k", clock_.Now(),
                                               std::nullopt, user);
      ASSERT_OK_AND_ASSIGN(RoutingOutcome out, store_->RecordRouting(w));
      (std::string(user) == "ann" ? ann : bob).push_back(w.deliveries[0].id);
    }
    clock_.Advance(absl::Seconds(40));
    if (i == 0) {
      ASSERT_OK_AND_ASSIGN(DigestClaim flushed,
                           store_->ClaimDigest(t.id, ann[0], absl::Seconds(60)));
      EXPECT_THAT(Ids(flushed.deliveries), ElementsAre(ann[0]));  // not bob's
    }
  }
  ASSERT_OK_AND_ASSIGN(DigestClaim b, store_->ClaimDigest(t.id, bob[0], absl::Seconds(60)));
  EXPECT_EQ(b.result, DeliveryClaim::Result::kClaimed);
  // Bob's group had not flushed: his second one joined the (overdue)
  // waiting flush, while ann's waits group_interval after hers.
  EXPECT_THAT(Ids(b.deliveries), ElementsAre(bob[0], bob[1]));
  ASSERT_OK_AND_ASSIGN(Delivery ann1, store_->GetDelivery(t.id, ann[1]));
  EXPECT_EQ(ann1.status, DeliveryStatus::kHeld);
}

}  // namespace alerthub::testing
