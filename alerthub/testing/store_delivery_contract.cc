// StoreContractTest cases for integrations, templates and deliveries
// (ports/store.h). Registered with the rest of the suite.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/testing/status_matchers.h"
#include "alerthub/testing/store_contract.h"
#include "gmock/gmock.h"

namespace alerthub::testing {
namespace {

using ::absl::StatusCode;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

Integration MakeIntegration(const Tenant& t, absl::Time now, absl::string_view name,
                            Channel channel = Channel::kWebhook, bool is_default = false) {
  Integration i;
  i.id = NewUuidV7(now);
  i.tenant_id = t.id;
  i.name = std::string(name);
  i.channel = channel;
  // Stores keep configs verbatim, including encrypted secrets that request
  // validation would refuse.
  i.config = {{"url", "https://example.com/hook"}, {"secret", "enc:v1:AAAA"}};
  i.is_default = is_default;
  i.created_at = now;
  i.updated_at = now;
  return i;
}

Template MakeTemplate(const Tenant& t, absl::Time now, absl::string_view name,
                      Channel channel = Channel::kEmail) {
  Template tmpl;
  tmpl.id = NewUuidV7(now);
  tmpl.tenant_id = t.id;
  tmpl.name = std::string(name);
  tmpl.channel = channel;
  if (channel == Channel::kEmail) {
    tmpl.fields = {{"subject", "{{title}}"}, {"text", "{{body}}"}};
  } else {
    tmpl.fields = {{"content", "{{title}}"}};
  }
  tmpl.created_at = now;
  tmpl.updated_at = now;
  return tmpl;
}

std::vector<std::string> IdsOf(const std::vector<Integration>& v) {
  std::vector<std::string> ids;
  for (const Integration& i : v) ids.push_back(i.id);
  return ids;
}

std::vector<std::string> DeliveryIds(const std::vector<Delivery>& v) {
  std::vector<std::string> ids;
  for (const Delivery& d : v) ids.push_back(d.id);
  return ids;
}

std::vector<std::string> EventTypes(const std::vector<CloudEvent>& events) {
  std::vector<std::string> types;
  for (const CloudEvent& e : events) types.push_back(e.type);
  return types;
}

// --- Integrations --------------------------------------------------------------------

TEST_P(StoreContractTest, IntegrationRoundTripsWithItsConfigVerbatim) {
  Tenant t = AddTenant("acme");
  Integration i = MakeIntegration(t, clock_.Now(), "ops hook", Channel::kWebhook, true);
  ASSERT_OK(store_->CreateIntegration(i));
  ASSERT_OK_AND_ASSIGN(Integration got, store_->GetIntegration(t.id, i.id));
  EXPECT_EQ(got.id, i.id);
  EXPECT_EQ(got.tenant_id, t.id);
  EXPECT_EQ(got.name, "ops hook");
  EXPECT_EQ(got.channel, Channel::kWebhook);
  EXPECT_EQ(got.config, i.config);
  EXPECT_TRUE(got.enabled);
  EXPECT_TRUE(got.is_default);
  EXPECT_EQ(got.created_at, i.created_at);
  EXPECT_EQ(got.updated_at, i.updated_at);
  EXPECT_THAT(store_->CreateIntegration(i), StatusIs(StatusCode::kAlreadyExists));
}

TEST_P(StoreContractTest, AnotherTenantsIntegrationIsNotFound) {
  Tenant a = AddTenant("a");
  Tenant b = AddTenant("b");
  Integration i = MakeIntegration(a, clock_.Now(), "hook");
  ASSERT_OK(store_->CreateIntegration(i));
  EXPECT_THAT(store_->GetIntegration(b.id, i.id), StatusIs(StatusCode::kNotFound));
  Integration hijack = i;
  hijack.tenant_id = b.id;
  EXPECT_THAT(store_->UpdateIntegration(hijack), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteIntegration(b.id, i.id), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Page<Integration> page, store_->ListIntegrations(b.id, {}, {}));
  EXPECT_THAT(page.items, IsEmpty());
  EXPECT_OK(store_->GetIntegration(a.id, i.id).status());
}

TEST_P(StoreContractTest, ListIntegrationsPagesOldestFirstAndFilters) {
  Tenant t = AddTenant("acme");
  std::vector<std::string> ids;
  for (int k = 0; k < 5; ++k) {
    clock_.Advance(absl::Milliseconds(1));
    Integration i = MakeIntegration(t, clock_.Now(), absl::StrCat("i", k),
                                    k % 2 == 0 ? Channel::kWebhook : Channel::kSlack,
                                    /*is_default=*/k < 2);
    i.enabled = k != 4;
    ASSERT_OK(store_->CreateIntegration(i));
    ids.push_back(i.id);
  }
  ASSERT_OK_AND_ASSIGN(Page<Integration> p1,
                       store_->ListIntegrations(t.id, {}, {.cursor = "", .limit = 2}));
  EXPECT_THAT(IdsOf(p1.items), ElementsAre(ids[0], ids[1]));
  EXPECT_TRUE(p1.has_more);
  ASSERT_OK_AND_ASSIGN(Page<Integration> p2,
                       store_->ListIntegrations(t.id, {}, {.cursor = ids[1], .limit = 3}));
  EXPECT_THAT(IdsOf(p2.items), ElementsAre(ids[2], ids[3], ids[4]));
  EXPECT_FALSE(p2.has_more);

  ASSERT_OK_AND_ASSIGN(Page<Integration> webhooks,
                       store_->ListIntegrations(t.id, IntegrationFilter{.channel = Channel::kWebhook, .enabled = std::nullopt, .is_default = std::nullopt}, {}));
  EXPECT_THAT(IdsOf(webhooks.items), ElementsAre(ids[0], ids[2], ids[4]));
  ASSERT_OK_AND_ASSIGN(Page<Integration> defaults,
                       store_->ListIntegrations(t.id, IntegrationFilter{.channel = std::nullopt, .enabled = std::nullopt, .is_default = true}, {}));
  EXPECT_THAT(IdsOf(defaults.items), ElementsAre(ids[0], ids[1]));
  ASSERT_OK_AND_ASSIGN(Page<Integration> disabled,
                       store_->ListIntegrations(t.id, IntegrationFilter{.channel = std::nullopt, .enabled = false, .is_default = std::nullopt}, {}));
  EXPECT_THAT(IdsOf(disabled.items), ElementsAre(ids[4]));

  EXPECT_THAT(store_->ListIntegrations(t.id, {}, {.cursor = "", .limit = 0}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->ListIntegrations(t.id, {}, {.cursor = "", .limit = 501}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreContractTest, UpdateAndDeleteIntegration) {
  Tenant t = AddTenant("acme");
  Integration i = MakeIntegration(t, clock_.Now(), "hook");
  ASSERT_OK(store_->CreateIntegration(i));
  clock_.Advance(absl::Seconds(1));
  i.name = "renamed";
  i.enabled = false;
  i.is_default = true;
  i.config["url"] = "https://example.org/other";
  i.updated_at = clock_.Now();
  ASSERT_OK(store_->UpdateIntegration(i));
  ASSERT_OK_AND_ASSIGN(Integration got, store_->GetIntegration(t.id, i.id));
  EXPECT_EQ(got.name, "renamed");
  EXPECT_FALSE(got.enabled);
  EXPECT_TRUE(got.is_default);
  EXPECT_EQ(got.config["url"], "https://example.org/other");
  EXPECT_EQ(got.updated_at, i.updated_at);
  EXPECT_EQ(got.created_at, i.created_at);

  ASSERT_OK(store_->DeleteIntegration(t.id, i.id));
  EXPECT_THAT(store_->GetIntegration(t.id, i.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->DeleteIntegration(t.id, i.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->UpdateIntegration(i), StatusIs(StatusCode::kNotFound));
}

// --- Templates -----------------------------------------------------------------------

TEST_P(StoreContractTest, TemplateRoundTripsAndIsFoundByNameAndChannel) {
  Tenant t = AddTenant("acme");
  Template email = MakeTemplate(t, clock_.Now(), "deploy.v1", Channel::kEmail);
  ASSERT_OK(store_->CreateTemplate(email));
  clock_.Advance(absl::Milliseconds(1));
  // The same name on another channel is another template.
  Template discord = MakeTemplate(t, clock_.Now(), "deploy.v1", Channel::kDiscord);
  ASSERT_OK(store_->CreateTemplate(discord));

  ASSERT_OK_AND_ASSIGN(Template got, store_->GetTemplate(t.id, email.id));
  EXPECT_EQ(got.name, "deploy.v1");
  EXPECT_EQ(got.channel, Channel::kEmail);
  EXPECT_EQ(got.fields, email.fields);
  ASSERT_OK_AND_ASSIGN(Template found,
                       store_->FindTemplate(t.id, "deploy.v1", Channel::kDiscord));
  EXPECT_EQ(found.id, discord.id);
  EXPECT_THAT(store_->FindTemplate(t.id, "deploy.v1", Channel::kPush),
              StatusIs(StatusCode::kNotFound));

  Template again = MakeTemplate(t, clock_.Now(), "deploy.v1", Channel::kEmail);
  EXPECT_THAT(store_->CreateTemplate(again),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("deploy.v1")));
  // Names are per tenant.
  Tenant other = AddTenant("other");
  EXPECT_OK(store_->CreateTemplate(MakeTemplate(other, clock_.Now(), "deploy.v1")));
  EXPECT_THAT(store_->GetTemplate(other.id, email.id), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, UpdateListAndDeleteTemplates) {
  Tenant t = AddTenant("acme");
  Template a = MakeTemplate(t, clock_.Now(), "a");
  ASSERT_OK(store_->CreateTemplate(a));
  clock_.Advance(absl::Milliseconds(1));
  Template b = MakeTemplate(t, clock_.Now(), "b");
  ASSERT_OK(store_->CreateTemplate(b));

  b.name = "a";  // taken by `a` on the same channel
  EXPECT_THAT(store_->UpdateTemplate(b), StatusIs(StatusCode::kAlreadyExists));
  b.name = "b2";
  b.fields["subject"] = "[{{priority}}] {{title}}";
  ASSERT_OK(store_->UpdateTemplate(b));
  ASSERT_OK_AND_ASSIGN(Template got, store_->GetTemplate(t.id, b.id));
  EXPECT_EQ(got.name, "b2");
  EXPECT_EQ(got.fields.at("subject"), "[{{priority}}] {{title}}");

  ASSERT_OK_AND_ASSIGN(Page<Template> p1, store_->ListTemplates(t.id, {.cursor = "", .limit = 1}));
  ASSERT_THAT(p1.items, SizeIs(1));
  EXPECT_EQ(p1.items[0].id, a.id);
  EXPECT_TRUE(p1.has_more);
  ASSERT_OK_AND_ASSIGN(Page<Template> p2,
                       store_->ListTemplates(t.id, {.cursor = a.id, .limit = 1}));
  ASSERT_THAT(p2.items, SizeIs(1));
  EXPECT_EQ(p2.items[0].id, b.id);
  EXPECT_FALSE(p2.has_more);

  ASSERT_OK(store_->DeleteTemplate(t.id, a.id));
  EXPECT_THAT(store_->DeleteTemplate(t.id, a.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->FindTemplate(t.id, "a", Channel::kEmail),
              StatusIs(StatusCode::kNotFound));
}

// --- Deliveries ----------------------------------------------------------------------

class DeliveryFixture {
 public:
  // One committed notification of `tenant` and a routing write creating one
  // delivery per integration id.
  static RoutingWrite Routing(const Notification& n, const std::vector<std::string>& integrations,
                              absl::Time now) {
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
      d.created_at = now;
      d.updated_at = now;
      w.deliveries.push_back(d);
    }
    w.status = NotificationStatus::kRouted;
    w.event = MakeNotificationEvent(n, kEventRouted, "/alerthub/delivery", now,
                                    {{"deliveries", integrations.size()}});
    return w;
  }

  static AttemptWrite Attempt(const Notification& n, const Delivery& d, DeliveryStatus status,
                              absl::Time now) {
    AttemptWrite w;
    w.tenant_id = n.tenant_id;
    w.delivery_id = d.id;
    w.status = status;
    if (status == DeliveryStatus::kPending) w.next_attempt_at = now + absl::Seconds(5);
    if (status != DeliveryStatus::kDelivered) w.last_error = "HTTP 503";
    w.attempt_event = MakeNotificationEvent(n, kEventDeliveryAttempt, "/alerthub/delivery",
                                            now, {{"delivery_id", d.id}});
    return w;
  }
};

TEST_P(StoreContractTest, RoutingCreatesDeliveriesOnceAndRoutesTheNotification) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  const Notification& n = s.notification;

  RoutingWrite w = DeliveryFixture::Routing(n, {"int-a", "int-b"}, clock_.Now());
  ASSERT_OK_AND_ASSIGN(RoutingOutcome first, store_->RecordRouting(w));
  EXPECT_THAT(DeliveryIds(first.deliveries), ElementsAre(w.deliveries[0].id, w.deliveries[1].id));
  EXPECT_EQ(first.notification.before, NotificationStatus::kAccepted);
  EXPECT_EQ(first.notification.after, NotificationStatus::kRouted);
  EXPECT_EQ(first.deliveries[0].status, DeliveryStatus::kPending);
  EXPECT_EQ(first.deliveries[0].attempts, 0);

  // A replay (fresh delivery ids, same integrations) creates nothing.
  clock_.Advance(absl::Seconds(1));
  RoutingWrite replay = DeliveryFixture::Routing(n, {"int-a", "int-b"}, clock_.Now());
  ASSERT_OK_AND_ASSIGN(RoutingOutcome second, store_->RecordRouting(replay));
  EXPECT_THAT(DeliveryIds(second.deliveries), DeliveryIds(first.deliveries));
  EXPECT_FALSE(second.notification.changed());

  ASSERT_OK_AND_ASSIGN(Notification got, store_->GetNotification(t.id, n.id));
  EXPECT_EQ(got.status, NotificationStatus::kRouted);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(t.id, n.id));
  EXPECT_THAT(EventTypes(events), ElementsAre(kEventAccepted, kEventRouted));

  // Both are unfinished, across tenants, oldest first, paged.
  ASSERT_OK_AND_ASSIGN(Page<Delivery> open1,
                       store_->ListUnfinishedDeliveries({.cursor = "", .limit = 1}));
  EXPECT_THAT(DeliveryIds(open1.items), ElementsAre(w.deliveries[0].id));
  EXPECT_TRUE(open1.has_more);
  ASSERT_OK_AND_ASSIGN(Page<Delivery> open2, store_->ListUnfinishedDeliveries(
                                                 {.cursor = w.deliveries[0].id, .limit = 5}));
  EXPECT_THAT(DeliveryIds(open2.items), ElementsAre(w.deliveries[1].id));

  RoutingWrite unknown = w;
  unknown.notification_id = "no-such-notification";
  EXPECT_THAT(store_->RecordRouting(unknown), StatusIs(StatusCode::kNotFound));
  Tenant other = AddTenant("other");
  RoutingWrite foreign = DeliveryFixture::Routing(n, {"int-c"}, clock_.Now());
  foreign.tenant_id = other.id;
  EXPECT_THAT(store_->RecordRouting(foreign), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, RoutingToNothingSuppresses) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  RoutingWrite w = DeliveryFixture::Routing(s.notification, {}, clock_.Now());
  w.status = NotificationStatus::kSuppressed;
  ASSERT_OK_AND_ASSIGN(RoutingOutcome out, store_->RecordRouting(w));
  EXPECT_THAT(out.deliveries, IsEmpty());
  EXPECT_EQ(out.notification.after, NotificationStatus::kSuppressed);
}

// Checks that `n` is stored with `status` and exactly the events `types`.
void ExpectStored(Store& store, const Notification& n, NotificationStatus status,
                  const std::vector<absl::string_view>& types) {
  ASSERT_OK_AND_ASSIGN(Notification got, store.GetNotification(n.tenant_id, n.id));
  EXPECT_EQ(got.status, status) << n.id;
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store.ListEvents(n.tenant_id, n.id));
  EXPECT_THAT(EventTypes(events), ElementsAreArray(types)) << n.id;
}

TEST_P(StoreContractTest, RoutingBatchReportsAnUnknownNotificationInItsSlot) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s1 = NewSubmission(t.id);
  SubmissionWrite s3 = NewSubmission(t.id);
  CommitAll({s1, s3});
  const Notification& n1 = s1.notification;
  const Notification& n3 = s3.notification;

  std::vector<RoutingWrite> writes = {
      DeliveryFixture::Routing(n1, {"int-a", "int-b"}, clock_.Now()),
      DeliveryFixture::Routing(n1, {"int-c"}, clock_.Now()),
      DeliveryFixture::Routing(n3, {"int-a"}, clock_.Now())};
  // The middle write is well formed but names no stored notification.
  writes[1].notification_id = "no-such-notification";
  writes[1].deliveries[0].notification_id = "no-such-notification";
  ASSERT_OK_AND_ASSIGN(std::vector<absl::StatusOr<RoutingOutcome>> out,
                       store_->RecordRoutings(writes));
  ASSERT_THAT(out, SizeIs(3));
  ASSERT_OK(out[0].status());
  EXPECT_THAT(out[1], StatusIs(StatusCode::kNotFound, HasSubstr("no-such-notification")));
  ASSERT_OK(out[2].status());
  EXPECT_THAT(DeliveryIds(out[0]->deliveries),
              ElementsAre(writes[0].deliveries[0].id, writes[0].deliveries[1].id));
  EXPECT_EQ(out[0]->notification.before, NotificationStatus::kAccepted);
  EXPECT_EQ(out[0]->notification.after, NotificationStatus::kRouted);
  EXPECT_THAT(DeliveryIds(out[2]->deliveries), ElementsAre(writes[2].deliveries[0].id));
  EXPECT_EQ(out[2]->notification.after, NotificationStatus::kRouted);

  // Both others committed; the unknown one stored nothing.
  for (const Notification* n : {&n1, &n3}) {
    ExpectStored(*store_, *n, NotificationStatus::kRouted, {kEventAccepted, kEventRouted});
  }
  ASSERT_OK_AND_ASSIGN(Page<Delivery> all, store_->ListDeliveries(t.id, {}, {}));
  EXPECT_THAT(DeliveryIds(all.items),
              ElementsAre(writes[2].deliveries[0].id, writes[0].deliveries[1].id,
                          writes[0].deliveries[0].id));
  EXPECT_THAT(store_->GetDelivery(t.id, writes[1].deliveries[0].id),
              StatusIs(StatusCode::kNotFound));

  ASSERT_OK_AND_ASSIGN(std::vector<absl::StatusOr<RoutingOutcome>> none,
                       store_->RecordRoutings({}));
  EXPECT_THAT(none, IsEmpty());
}

TEST_P(StoreContractTest, RoutingBatchNamingANotificationTwiceCreatesNothingTwice) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  const Notification& n = s.notification;

  // A replay within the batch: fresh delivery ids and event, same integrations.
  std::vector<RoutingWrite> writes = {
      DeliveryFixture::Routing(n, {"int-a", "int-b"}, clock_.Now()),
      DeliveryFixture::Routing(n, {"int-a", "int-b"}, clock_.Now())};
  ASSERT_OK_AND_ASSIGN(std::vector<absl::StatusOr<RoutingOutcome>> out,
                       store_->RecordRoutings(writes));
  ASSERT_THAT(out, SizeIs(2));
  ASSERT_OK(out[0].status());
  ASSERT_OK(out[1].status());
  EXPECT_THAT(DeliveryIds(out[0]->deliveries),
              ElementsAre(writes[0].deliveries[0].id, writes[0].deliveries[1].id));
  EXPECT_EQ(out[0]->notification.before, NotificationStatus::kAccepted);
  EXPECT_EQ(out[0]->notification.after, NotificationStatus::kRouted);
  EXPECT_THAT(DeliveryIds(out[1]->deliveries), DeliveryIds(out[0]->deliveries));
  EXPECT_FALSE(out[1]->notification.changed());
  EXPECT_EQ(out[1]->notification.after, NotificationStatus::kRouted);

  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(t.id, n.id));
  EXPECT_THAT(EventTypes(events), ElementsAre(kEventAccepted, kEventRouted));
  ASSERT_OK_AND_ASSIGN(Page<Delivery> all, store_->ListDeliveries(t.id, {}, {}));
  EXPECT_THAT(all.items, SizeIs(2));
  EXPECT_THAT(store_->GetDelivery(t.id, writes[1].deliveries[0].id),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, RoutingBatchWithAMalformedWriteStoresNothing) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s1 = NewSubmission(t.id);
  SubmissionWrite s2 = NewSubmission(t.id);
  CommitAll({s1, s2});
  const Notification& n1 = s1.notification;
  const Notification& n2 = s2.notification;

  // The second write carries a delivery of the first notification: the
  // whole call fails, so the first write (already applied inside the
  // transaction) is rolled back too.
  std::vector<RoutingWrite> writes = {
      DeliveryFixture::Routing(n1, {"int-a"}, clock_.Now()),
      DeliveryFixture::Routing(n2, {"int-a", "int-b"}, clock_.Now())};
  writes[1].deliveries[1].notification_id = n1.id;
  EXPECT_THAT(store_->RecordRoutings(writes),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(writes[1].deliveries[1].id)));

  for (const Notification* n : {&n1, &n2}) {
    ExpectStored(*store_, *n, NotificationStatus::kAccepted, {kEventAccepted});
  }
  ASSERT_OK_AND_ASSIGN(Page<Delivery> all, store_->ListDeliveries(t.id, {}, {}));
  EXPECT_THAT(all.items, IsEmpty());

  // Without the malformed write the same batch commits.
  writes[1].deliveries[1].notification_id = n2.id;
  ASSERT_OK_AND_ASSIGN(std::vector<absl::StatusOr<RoutingOutcome>> out,
                       store_->RecordRoutings(writes));
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_OK(out[0].status());
  EXPECT_OK(out[1].status());
  ASSERT_OK_AND_ASSIGN(Page<Delivery> routed, store_->ListDeliveries(t.id, {}, {}));
  EXPECT_THAT(routed.items, SizeIs(3));
}

TEST_P(StoreContractTest, ClaimLeasesADeliveryAndStartsDelivering) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  ASSERT_OK_AND_ASSIGN(RoutingOutcome routed,
                       store_->RecordRouting(DeliveryFixture::Routing(
                           s.notification, {"int-a"}, clock_.Now())));
  const std::string id = routed.deliveries[0].id;

  ASSERT_OK_AND_ASSIGN(DeliveryClaim c1, store_->ClaimDelivery(t.id, id, absl::Seconds(30)));
  EXPECT_EQ(c1.result, DeliveryClaim::Result::kClaimed);
  EXPECT_EQ(c1.delivery.status, DeliveryStatus::kSending);
  EXPECT_EQ(c1.notification.before, NotificationStatus::kRouted);
  EXPECT_EQ(c1.notification.after, NotificationStatus::kDelivering);

  ASSERT_OK_AND_ASSIGN(DeliveryClaim c2, store_->ClaimDelivery(t.id, id, absl::Seconds(30)));
  EXPECT_EQ(c2.result, DeliveryClaim::Result::kBusy);
  // The worker died: once its lease ends the delivery can be claimed again.
  clock_.Advance(absl::Seconds(31));
  ASSERT_OK_AND_ASSIGN(DeliveryClaim c3, store_->ClaimDelivery(t.id, id, absl::Seconds(30)));
  EXPECT_EQ(c3.result, DeliveryClaim::Result::kClaimed);
  EXPECT_FALSE(c3.notification.changed());

  EXPECT_THAT(store_->ClaimDelivery(t.id, "nope", absl::Seconds(30)),
              StatusIs(StatusCode::kNotFound));
  Tenant other = AddTenant("other");
  EXPECT_THAT(store_->ClaimDelivery(other.id, id, absl::Seconds(30)),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, SuccessfulAttemptDeliversAndAnnounces) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  const Notification& n = s.notification;
  ASSERT_OK_AND_ASSIGN(RoutingOutcome routed,
                       store_->RecordRouting(DeliveryFixture::Routing(n, {"int-a"}, clock_.Now())));
  const Delivery& d = routed.deliveries[0];

  // Recording an attempt needs a claim.
  EXPECT_THAT(store_->RecordAttempt(
                  DeliveryFixture::Attempt(n, d, DeliveryStatus::kDelivered, clock_.Now())),
              StatusIs(StatusCode::kFailedPrecondition));

  // Drain the submission's own outbox message first.
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> created, store_->ClaimOutbox(10, absl::Minutes(1)));
  std::vector<int64_t> seqs;
  for (const OutboxRecord& r : created) seqs.push_back(r.seq);
  ASSERT_OK(store_->MarkOutboxSent(seqs));

  ASSERT_OK(store_->ClaimDelivery(t.id, d.id, absl::Seconds(30)).status());
  ASSERT_OK_AND_ASSIGN(AttemptOutcomeRecord rec,
                       store_->RecordAttempt(DeliveryFixture::Attempt(
                           n, d, DeliveryStatus::kDelivered, clock_.Now())));
  EXPECT_EQ(rec.delivery.status, DeliveryStatus::kDelivered);
  EXPECT_EQ(rec.delivery.attempts, 1);
  EXPECT_EQ(rec.notification.before, NotificationStatus::kDelivering);
  EXPECT_EQ(rec.notification.after, NotificationStatus::kDelivered);

  ASSERT_OK_AND_ASSIGN(Notification got, store_->GetNotification(t.id, n.id));
  EXPECT_EQ(got.status, NotificationStatus::kDelivered);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(t.id, n.id));
  EXPECT_THAT(EventTypes(events), ElementsAre(kEventAccepted, kEventRouted,
                                              kEventDeliveryAttempt, kEventDelivered));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxRecord> announced,
                       store_->ClaimOutbox(10, absl::Minutes(1)));
  ASSERT_THAT(announced, SizeIs(1));
  EXPECT_EQ(announced[0].topic, kTopicDelivered);
  EXPECT_EQ(announced[0].key, n.id);

  // A finished delivery is not claimed again.
  ASSERT_OK_AND_ASSIGN(DeliveryClaim again, store_->ClaimDelivery(t.id, d.id, absl::Seconds(30)));
  EXPECT_EQ(again.result, DeliveryClaim::Result::kFinished);
  EXPECT_THAT(store_->RecordAttempt(
                  DeliveryFixture::Attempt(n, d, DeliveryStatus::kDelivered, clock_.Now())),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(StoreContractTest, RetryWaitsUntilDueThenMixedOutcomesArePartial) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  const Notification& n = s.notification;
  ASSERT_OK_AND_ASSIGN(RoutingOutcome routed, store_->RecordRouting(DeliveryFixture::Routing(
                                                  n, {"int-a", "int-b"}, clock_.Now())));
  const Delivery& a = routed.deliveries[0];
  const Delivery& b = routed.deliveries[1];

  ASSERT_OK(store_->ClaimDelivery(t.id, a.id, absl::Seconds(30)).status());
  ASSERT_OK_AND_ASSIGN(AttemptOutcomeRecord retry,
                       store_->RecordAttempt(DeliveryFixture::Attempt(
                           n, a, DeliveryStatus::kPending, clock_.Now())));
  EXPECT_EQ(retry.delivery.status, DeliveryStatus::kPending);
  ASSERT_TRUE(retry.delivery.next_attempt_at.has_value());
  EXPECT_EQ(*retry.delivery.next_attempt_at, clock_.Now() + absl::Seconds(5));
  EXPECT_EQ(retry.delivery.last_error, "HTTP 503");
  EXPECT_EQ(retry.notification.after, NotificationStatus::kDelivering);

  ASSERT_OK_AND_ASSIGN(DeliveryClaim early, store_->ClaimDelivery(t.id, a.id, absl::Seconds(30)));
  EXPECT_EQ(early.result, DeliveryClaim::Result::kNotDue);
  clock_.Advance(absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(DeliveryClaim due, store_->ClaimDelivery(t.id, a.id, absl::Seconds(30)));
  EXPECT_EQ(due.result, DeliveryClaim::Result::kClaimed);
  ASSERT_OK_AND_ASSIGN(AttemptOutcomeRecord ok,
                       store_->RecordAttempt(DeliveryFixture::Attempt(
                           n, a, DeliveryStatus::kDelivered, clock_.Now())));
  EXPECT_EQ(ok.delivery.attempts, 2);
  EXPECT_EQ(ok.notification.after, NotificationStatus::kDelivering);  // b is open

  ASSERT_OK(store_->ClaimDelivery(t.id, b.id, absl::Seconds(30)).status());
  ASSERT_OK_AND_ASSIGN(AttemptOutcomeRecord dead,
                       store_->RecordAttempt(DeliveryFixture::Attempt(
                           n, b, DeliveryStatus::kFailed, clock_.Now())));
  EXPECT_EQ(dead.delivery.status, DeliveryStatus::kFailed);
  EXPECT_EQ(dead.notification.after, NotificationStatus::kPartiallyDelivered);
}

TEST_P(StoreContractTest, BatchesClaimAndRecordEachItemOnItsOwn) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  const Notification& n = s.notification;
  ASSERT_OK_AND_ASSIGN(RoutingOutcome routed, store_->RecordRouting(DeliveryFixture::Routing(
                                                  n, {"int-a", "int-b"}, clock_.Now())));
  const Delivery& a = routed.deliveries[0];
  const Delivery& b = routed.deliveries[1];

  std::vector<DeliveryRef> refs = {{t.id, a.id}, {t.id, "missing"}};
  ASSERT_OK_AND_ASSIGN(std::vector<absl::StatusOr<DeliveryClaim>> claims,
                       store_->ClaimDeliveries(refs, absl::Seconds(30)));
  ASSERT_THAT(claims, SizeIs(2));
  ASSERT_OK(claims[0].status());
  EXPECT_EQ(claims[0]->result, DeliveryClaim::Result::kClaimed);
  EXPECT_THAT(claims[1], StatusIs(StatusCode::kNotFound));

  // `b` was never claimed: its record is refused, `a`'s commits.
  std::vector<AttemptWrite> writes = {
      DeliveryFixture::Attempt(n, a, DeliveryStatus::kDelivered, clock_.Now()),
      DeliveryFixture::Attempt(n, b, DeliveryStatus::kDelivered, clock_.Now())};
  ASSERT_OK_AND_ASSIGN(std::vector<absl::StatusOr<AttemptOutcomeRecord>> records,
                       store_->RecordAttempts(writes));
  ASSERT_THAT(records, SizeIs(2));
  ASSERT_OK(records[0].status());
  EXPECT_EQ(records[0]->delivery.status, DeliveryStatus::kDelivered);
  EXPECT_THAT(records[1], StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(Delivery got_b, store_->GetDelivery(t.id, b.id));
  EXPECT_EQ(got_b.status, DeliveryStatus::kPending);
  EXPECT_EQ(got_b.attempts, 0);

  AttemptWrite bad = DeliveryFixture::Attempt(n, a, DeliveryStatus::kSending, clock_.Now());
  EXPECT_THAT(store_->RecordAttempts({bad}), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreContractTest, ReplayPutsADeadDeliveryBackWithAFreshSchedule) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  const Notification& n = s.notification;
  ASSERT_OK_AND_ASSIGN(RoutingOutcome routed,
                       store_->RecordRouting(DeliveryFixture::Routing(n, {"int-a"}, clock_.Now())));
  const Delivery& d = routed.deliveries[0];
  CloudEvent replay_event = MakeNotificationEvent(n, kEventDeliveryAttempt, "/alerthub/api",
                                                  clock_.Now(), {{"replay", true}});
  EXPECT_THAT(store_->ReplayDelivery(t.id, d.id, replay_event),
              StatusIs(StatusCode::kFailedPrecondition));

  ASSERT_OK(store_->ClaimDelivery(t.id, d.id, absl::Seconds(30)).status());
  ASSERT_OK_AND_ASSIGN(AttemptOutcomeRecord dead,
                       store_->RecordAttempt(DeliveryFixture::Attempt(
                           n, d, DeliveryStatus::kFailed, clock_.Now())));
  EXPECT_EQ(dead.notification.after, NotificationStatus::kFailed);

  ASSERT_OK_AND_ASSIGN(Page<Delivery> dead_letters,
                       store_->ListDeliveries(t.id, DeliveryFilter{.status = DeliveryStatus::kFailed, .notification_id = ""}, {}));
  EXPECT_THAT(DeliveryIds(dead_letters.items), ElementsAre(d.id));

  clock_.Advance(absl::Minutes(1));
  replay_event.id = NewUuidV7(clock_.Now());
  ASSERT_OK_AND_ASSIGN(AttemptOutcomeRecord replayed,
                       store_->ReplayDelivery(t.id, d.id, replay_event));
  EXPECT_EQ(replayed.delivery.status, DeliveryStatus::kPending);
  EXPECT_EQ(replayed.delivery.attempts, 0);
  EXPECT_EQ(replayed.notification.before, NotificationStatus::kFailed);
  EXPECT_EQ(replayed.notification.after, NotificationStatus::kRouted);
  ASSERT_OK_AND_ASSIGN(DeliveryClaim claim, store_->ClaimDelivery(t.id, d.id, absl::Seconds(30)));
  EXPECT_EQ(claim.result, DeliveryClaim::Result::kClaimed);
  EXPECT_THAT(store_->ReplayDelivery(t.id, "nope", replay_event),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, CancelBeforeRoutingStopsRoutingFromWriting) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  const Notification& n = s.notification;
  const CloudEvent cancel =
      MakeNotificationEvent(n, kEventCancelled, "/alerthub/api", clock_.Now(), {});

  ASSERT_OK_AND_ASSIGN(CancelOutcome out, store_->CancelNotification(t.id, n.id, cancel));
  EXPECT_EQ(out.notification.id, n.id);
  EXPECT_EQ(out.notification.status, NotificationStatus::kCancelled);
  EXPECT_EQ(out.deliveries_cancelled, 0);

  // Routing that arrives afterwards (the outbox message was on its way)
  // creates nothing and leaves the status alone.
  ASSERT_OK_AND_ASSIGN(RoutingOutcome late, store_->RecordRouting(DeliveryFixture::Routing(
                                                n, {"int-a"}, clock_.Now())));
  EXPECT_FALSE(late.notification.changed());
  ASSERT_OK_AND_ASSIGN(Notification got, store_->GetNotification(t.id, n.id));
  EXPECT_EQ(got.status, NotificationStatus::kCancelled);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(t.id, n.id));
  EXPECT_THAT(EventTypes(events), ElementsAre(kEventAccepted, kEventCancelled));

  // Cancelled is final.
  EXPECT_THAT(store_->CancelNotification(t.id, n.id, cancel),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(store_->CancelNotification(t.id, "nope", cancel),
              StatusIs(StatusCode::kNotFound));
  Tenant other = AddTenant("other");
  EXPECT_THAT(store_->CancelNotification(other.id, n.id, cancel),
              StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreContractTest, CancelSuppressesWaitingDeliveriesButNotStartedOnes) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s1 = NewSubmission(t.id);
  SubmissionWrite s2 = NewSubmission(t.id);
  CommitAll({s1, s2});

  // s1: routed, its deliveries due in an hour (scheduled) and one held.
  RoutingWrite w1 = DeliveryFixture::Routing(s1.notification, {"int-a", "int-b"}, clock_.Now());
  w1.deliveries[0].next_attempt_at = clock_.Now() + absl::Hours(1);
  w1.deliveries[1].status = DeliveryStatus::kHeld;
  w1.deliveries[1].next_attempt_at = clock_.Now() + absl::Hours(2);
  ASSERT_OK(store_->RecordRouting(w1).status());
  const CloudEvent cancel1 =
      MakeNotificationEvent(s1.notification, kEventCancelled, "/alerthub/api", clock_.Now(), {});
  ASSERT_OK_AND_ASSIGN(CancelOutcome out,
                       store_->CancelNotification(t.id, s1.notification.id, cancel1));
  EXPECT_EQ(out.notification.status, NotificationStatus::kCancelled);
  EXPECT_EQ(out.deliveries_cancelled, 2);
  for (const Delivery& d : w1.deliveries) {
    ASSERT_OK_AND_ASSIGN(Delivery got, store_->GetDelivery(t.id, d.id));
    EXPECT_EQ(got.status, DeliveryStatus::kSuppressed);
    EXPECT_EQ(got.last_error, "cancelled");
    // Nothing is left for a worker, even once it would have been due.
    clock_.Advance(absl::Hours(3));
    ASSERT_OK_AND_ASSIGN(DeliveryClaim claim,
                         store_->ClaimDelivery(t.id, d.id, absl::Seconds(30)));
    EXPECT_EQ(claim.result, DeliveryClaim::Result::kFinished);
  }
  ASSERT_OK_AND_ASSIGN(Page<Delivery> open, store_->ListUnfinishedDeliveries({}));
  EXPECT_THAT(open.items, IsEmpty());

  // s2: one delivery has been claimed: too late to cancel, nothing changes.
  RoutingWrite w2 = DeliveryFixture::Routing(s2.notification, {"int-a", "int-b"}, clock_.Now());
  ASSERT_OK(store_->RecordRouting(w2).status());
  ASSERT_OK(store_->ClaimDelivery(t.id, w2.deliveries[0].id, absl::Seconds(30)).status());
  const CloudEvent cancel2 =
      MakeNotificationEvent(s2.notification, kEventCancelled, "/alerthub/api", clock_.Now(), {});
  EXPECT_THAT(store_->CancelNotification(t.id, s2.notification.id, cancel2),
              StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(Delivery untouched, store_->GetDelivery(t.id, w2.deliveries[1].id));
  EXPECT_EQ(untouched.status, DeliveryStatus::kPending);
  ASSERT_OK_AND_ASSIGN(Notification n2, store_->GetNotification(t.id, s2.notification.id));
  EXPECT_EQ(n2.status, NotificationStatus::kDelivering);
}

TEST_P(StoreContractTest, HeldDeliveryIsClaimableOnceDue) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s = NewSubmission(t.id);
  CommitAll({s});
  RoutingWrite w = DeliveryFixture::Routing(s.notification, {"int-a"}, clock_.Now());
  w.deliveries[0].status = DeliveryStatus::kHeld;
  w.deliveries[0].next_attempt_at = clock_.Now() + absl::Hours(8);
  ASSERT_OK_AND_ASSIGN(RoutingOutcome routed, store_->RecordRouting(w));
  EXPECT_EQ(routed.deliveries[0].status, DeliveryStatus::kHeld);
  EXPECT_EQ(routed.notification.after, NotificationStatus::kRouted);
  const std::string id = w.deliveries[0].id;

  ASSERT_OK_AND_ASSIGN(DeliveryClaim early, store_->ClaimDelivery(t.id, id, absl::Seconds(30)));
  EXPECT_EQ(early.result, DeliveryClaim::Result::kNotDue);
  ASSERT_OK_AND_ASSIGN(Page<Delivery> open, store_->ListUnfinishedDeliveries({}));
  EXPECT_THAT(DeliveryIds(open.items), ElementsAre(id));

  clock_.Advance(absl::Hours(8));
  ASSERT_OK_AND_ASSIGN(DeliveryClaim due, store_->ClaimDelivery(t.id, id, absl::Seconds(30)));
  EXPECT_EQ(due.result, DeliveryClaim::Result::kClaimed);
  EXPECT_EQ(due.delivery.status, DeliveryStatus::kSending);
}

TEST_P(StoreContractTest, ListDeliveriesNewestFirstFilteredAndTenantScoped) {
  Tenant t = AddTenant("acme");
  SubmissionWrite s1 = NewSubmission(t.id);
  clock_.Advance(absl::Milliseconds(1));
  SubmissionWrite s2 = NewSubmission(t.id);
  CommitAll({s1, s2});
  ASSERT_OK_AND_ASSIGN(RoutingOutcome r1, store_->RecordRouting(DeliveryFixture::Routing(
                                              s1.notification, {"a", "b"}, clock_.Now())));
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_OK_AND_ASSIGN(RoutingOutcome r2, store_->RecordRouting(DeliveryFixture::Routing(
                                              s2.notification, {"a"}, clock_.Now())));

  ASSERT_OK_AND_ASSIGN(Page<Delivery> all, store_->ListDeliveries(t.id, {}, {}));
  EXPECT_THAT(DeliveryIds(all.items),
              ElementsAre(r2.deliveries[0].id, r1.deliveries[1].id, r1.deliveries[0].id));
  ASSERT_OK_AND_ASSIGN(Page<Delivery> page1,
                       store_->ListDeliveries(t.id, {}, {.cursor = "", .limit = 2}));
  EXPECT_TRUE(page1.has_more);
  ASSERT_OK_AND_ASSIGN(Page<Delivery> page2,
                       store_->ListDeliveries(t.id, {}, {.cursor = page1.items[1].id, .limit = 2}));
  EXPECT_THAT(DeliveryIds(page2.items), ElementsAre(r1.deliveries[0].id));
  EXPECT_FALSE(page2.has_more);
  ASSERT_OK_AND_ASSIGN(Page<Delivery> of_s1,
                       store_->ListDeliveries(t.id, DeliveryFilter{.status = std::nullopt, .notification_id = s1.notification.id}, {}));
  EXPECT_THAT(of_s1.items, SizeIs(2));
  ASSERT_OK_AND_ASSIGN(Delivery got, store_->GetDelivery(t.id, r2.deliveries[0].id));
  EXPECT_EQ(got.notification_id, s2.notification.id);

  Tenant other = AddTenant("other");
  ASSERT_OK_AND_ASSIGN(Page<Delivery> none, store_->ListDeliveries(other.id, {}, {}));
  EXPECT_THAT(none.items, IsEmpty());
  EXPECT_THAT(store_->GetDelivery(other.id, got.id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->ListDeliveries(t.id, {}, {.cursor = "", .limit = 0}),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace alerthub::testing
