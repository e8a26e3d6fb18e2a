// Digests end to end through the dispatcher, with a simulated clock: routing
// holds the members, the first due task sends the group's summary once.
#include "alerthub/delivery/digest.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/status.h"
#include "alerthub/common/uuid.h"
#include "alerthub/delivery/dispatcher.h"
#include "alerthub/delivery/templates.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr absl::Duration kWait = absl::Seconds(30);
constexpr absl::Duration kInterval = absl::Minutes(5);

// Records every send (the rendered message) and answers from a script
// (success when it is empty).
class RecordingSender : public ChannelSender {
 public:
  struct Sent {
    std::string delivery_id;
    int attempt = 0;
    std::string notification_type;
    RenderedMessage message;
  };

  SendResult Send(const SendAttempt& a) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back({a.delivery->id, a.attempt, a.notification->type, *a.message});
    SendResult r;
    r.outcome = AttemptOutcome::kSuccess;
    r.code = 200;
    if (!script_.empty()) {
      r.outcome = script_.front();
      script_.pop_front();
      r.code = r.outcome == AttemptOutcome::kSuccess ? 200 : 503;
      if (r.outcome != AttemptOutcome::kSuccess) r.error = "HTTP 503";
    }
    return r;
  }
  void Then(AttemptOutcome o) {
    absl::MutexLock lock(&mu_);
    script_.push_back(o);
  }
  std::vector<Sent> sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

 private:
  absl::Mutex mu_;
  std::deque<AttemptOutcome> script_ ABSL_GUARDED_BY(mu_);
  std::vector<Sent> sent_ ABSL_GUARDED_BY(mu_);
};

class DigestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t0_ = absl::FromUnixSeconds(1'800'000'000);
    clock_.Set(t0_);
    store_ = *OpenSqliteStore({.path = ":memory:", .clock = &clock_});
    queue_ = *store_->OpenTaskQueue();
    kv_ = NewMemoryKv({.clock = &clock_});
    tenant_.id = "tenant-1";
    tenant_.name = "acme";
    tenant_.created_at = clock_.Now();
    ASSERT_OK(store_->CreateTenant(tenant_));
    catalog_ = std::make_unique<Catalog>(store_.get(), &box_, &clock_);
    resolver_ = std::make_unique<DefaultTargetResolver>(store_.get());
    nlohmann::json req = {{"name", "hook"},
                          {"channel", "webhook"},
                          {"config", {{"url", "https://example.com/hook"}}},
                          {"default", true}};
    absl::StatusOr<CreatedIntegration> c = catalog_->CreateIntegration(tenant_.id, req);
    ASSERT_OK(c.status());
    hook_ = c->integration;
    dispatcher_ = NewDispatcher();
  }

  // A dispatcher whose plan digests every notification by its "service" tag
  // (what a rule with `digest: {group_by: ["tags.service"]}` asks for).
  std::unique_ptr<Dispatcher> NewDispatcher() {
    DispatcherOptions options;
    options.clock = &clock_;
    options.retry.jitter = 0;
    DefaultTargetResolver* resolver = resolver_.get();
    options.planner = [resolver](const Notification& n) -> absl::StatusOr<RoutingPlan> {
      RoutingPlan plan;
      ALERTHUB_ASSIGN_OR_RETURN(plan.decision, resolver->Resolve(n));
      auto it = n.tags.find("service");
      plan.digest = DigestRequest{.rule_id = "rule-1",
                                  .group_key = it == n.tags.end() ? "" : it->second,
                                  .group_wait = kWait,
                                  .group_interval = kInterval};
      return plan;
    };
    return std::make_unique<Dispatcher>(store_.get(), queue_.get(), kv_.get(), catalog_.get(),
                                        &sender_, resolver_.get(), options);
  }

  Notification SubmitAndRoute(absl::string_view title, absl::string_view service = "api") {
    const absl::Time now = clock_.Now();
    Notification n;
    n.id = NewUuidV7(now);
    n.tenant_id = tenant_.id;
    n.type = "deploy.finished";
    n.title = std::string(title);
    n.tags = {{"service", std::string(service)}};
    n.created_at = n.updated_at = now;
    SubmissionWrite w;
    w.notification = n;
    w.accepted_event = MakeNotificationEvent(n, kEventAccepted, "/test", now, {});
    w.outbox_topic = std::string(kTopicCreated);
    w.outbox_payload = CloudEventToJson(w.accepted_event).dump();
    EXPECT_OK(store_->CommitSubmissions({w}).status());
    EXPECT_OK(dispatcher_->Route({std::string(kTopicCreated), n.id, w.outbox_payload, {}}));
    return n;
  }

  // Leases every due webhook task and runs it; returns how many ran.
  int RunDue() {
    absl::StatusOr<std::vector<Task>> tasks =
        queue_->Lease(DeliveryQueue(Channel::kWebhook), 100, absl::Seconds(60));
    EXPECT_OK(tasks.status());
    if (!tasks.ok()) return 0;
    EXPECT_OK(dispatcher_->ProcessTasks(*tasks));
    return static_cast<int>(tasks->size());
  }

  Delivery DeliveryOf(const Notification& n) {
    std::vector<Delivery> d =
        store_->ListDeliveries(tenant_.id, {.status = std::nullopt, .notification_id = n.id}, {})
            ->items;
    EXPECT_THAT(d, SizeIs(1));
    return d.empty() ? Delivery() : d[0];
  }

  NotificationStatus StatusOf(const Notification& n) {
    return store_->GetNotification(tenant_.id, n.id)->status;
  }

  // The titles a webhook summary lists.
  static std::vector<std::string> ListedTitles(const RecordingSender::Sent& s) {
    nlohmann::json body = nlohmann::json::parse(std::get<WebhookMessage>(s.message).body);
    std::vector<std::string> titles;
    for (const nlohmann::json& n : body["notifications"]) titles.push_back(n["title"]);
    return titles;
  }

  absl::Time t0_;
  SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<TaskQueue> queue_;
  std::unique_ptr<Kv> kv_;
  Tenant tenant_;
  SecretBox box_ = *SecretBox::FromKey(std::string(32, 'k'));
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<DefaultTargetResolver> resolver_;
  Integration hook_;
  RecordingSender sender_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DigestTest, NotificationsInTheWindowBecomeOneSummaryAfterGroupWait) {
  Notification a = SubmitAndRoute("a");
  clock_.Advance(absl::Seconds(10));
  Notification b = SubmitAndRoute("b");
  clock_.Advance(absl::Seconds(10));
  Notification c = SubmitAndRoute("c");
  EXPECT_EQ(DeliveryOf(a).status, DeliveryStatus::kHeld);
  EXPECT_EQ(DeliveryOf(a).digest_key, "rule-1/api");
  EXPECT_EQ(*DeliveryOf(c).next_attempt_at, t0_ + kWait);  // joined the first one's flush
  EXPECT_EQ(StatusOf(a), NotificationStatus::kRouted);

  clock_.Set(t0_ + kWait - absl::Seconds(1));
  EXPECT_EQ(RunDue(), 0);  // nothing is due before group_wait
  EXPECT_THAT(sender_.sent(), SizeIs(0));

  clock_.Set(t0_ + kWait);
  EXPECT_EQ(RunDue(), 3);  // three tasks, one send
  std::vector<RecordingSender::Sent> sent = sender_.sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].delivery_id, DeliveryOf(a).id);  // the oldest member's id: the webhook-id
  EXPECT_EQ(sent[0].notification_type, "alerthub.digest");
  EXPECT_THAT(ListedTitles(sent[0]), ElementsAre("a", "b", "c"));
  nlohmann::json body = nlohmann::json::parse(std::get<WebhookMessage>(sent[0].message).body);
  EXPECT_EQ(body["type"], "alerthub.digest");
  EXPECT_EQ(body["count"], 3);
  EXPECT_EQ(body["rule_id"], "rule-1");
  EXPECT_EQ(body["group_key"], "api");
  for (const Notification& n : {a, b, c}) {
    EXPECT_EQ(DeliveryOf(n).status, DeliveryStatus::kDelivered);
    EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
    ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
    ASSERT_THAT(events, SizeIs(4));  // accepted, routed, attempt, delivered
    EXPECT_EQ(events[1].data["digest"]["group_key"], "api");
    EXPECT_EQ(events[2].data["digest"]["count"], 3);
    EXPECT_EQ(events[2].data["digest"]["sent_as"], DeliveryOf(a).id);
  }
  EXPECT_EQ(RunDue(), 0);  // every task is done
}

TEST_F(DigestTest, TheNextSummaryWaitsGroupIntervalAfterTheLastFlush) {
  SubmitAndRoute("a");
  clock_.Set(t0_ + kWait);
  EXPECT_EQ(RunDue(), 1);
  clock_.Advance(absl::Seconds(10));
  Notification b = SubmitAndRoute("b");
  clock_.Advance(absl::Minutes(2));
  Notification c = SubmitAndRoute("c");
  EXPECT_EQ(*DeliveryOf(b).next_attempt_at, t0_ + kWait + kInterval);
  EXPECT_EQ(*DeliveryOf(c).next_attempt_at, t0_ + kWait + kInterval);

  clock_.Set(t0_ + kWait + kInterval - absl::Seconds(1));
  EXPECT_EQ(RunDue(), 0);
  clock_.Set(t0_ + kWait + kInterval);
  EXPECT_EQ(RunDue(), 2);
  std::vector<RecordingSender::Sent> sent = sender_.sent();
  ASSERT_THAT(sent, SizeIs(2));
  EXPECT_THAT(ListedTitles(sent[1]), ElementsAre("b", "c"));

  // Long after, a new notification waits group_wait again, not less.
  clock_.Advance(absl::Hours(1));
  Notification d = SubmitAndRoute("d");
  EXPECT_EQ(*DeliveryOf(d).next_attempt_at, clock_.Now() + kWait);
}

TEST_F(DigestTest, DifferentGroupKeysFlushSeparately) {
  SubmitAndRoute("a1", "api");
  SubmitAndRoute("d1", "db");
  clock_.Advance(absl::Seconds(5));
  SubmitAndRoute("a2", "api");
  clock_.Advance(absl::Seconds(10));
  Notification d2 = SubmitAndRoute("d2", "db");

  clock_.Set(t0_ + kWait);
  EXPECT_EQ(RunDue(), 4);
  std::vector<RecordingSender::Sent> sent = sender_.sent();
  ASSERT_THAT(sent, SizeIs(2));
  std::vector<std::vector<std::string>> groups = {ListedTitles(sent[0]), ListedTitles(sent[1])};
  std::sort(groups.begin(), groups.end());
  EXPECT_THAT(groups, ElementsAre(ElementsAre("a1", "a2"), ElementsAre("d1", "d2")));
  EXPECT_EQ(DeliveryOf(d2).status, DeliveryStatus::kDelivered);
}

TEST_F(DigestTest, AFailingSinkRetriesTheGroupThenDeadLettersEveryMember) {
  sender_.Then(AttemptOutcome::kRetriable);
  sender_.Then(AttemptOutcome::kPermanent);
  Notification a = SubmitAndRoute("a");
  Notification b = SubmitAndRoute("b");

  clock_.Set(t0_ + kWait);
  EXPECT_EQ(RunDue(), 2);
  // One failed send: the group retries together on the schedule (5 s).
  ASSERT_THAT(sender_.sent(), SizeIs(1));
  for (const Notification& n : {a, b}) {
    Delivery d = DeliveryOf(n);
    EXPECT_EQ(d.status, DeliveryStatus::kPending);
    EXPECT_EQ(d.attempts, 1);
    EXPECT_EQ(*d.next_attempt_at, t0_ + kWait + absl::Seconds(5));
    EXPECT_EQ(d.last_error, "HTTP 503");
  }
  EXPECT_EQ(RunDue(), 0);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(RunDue(), 2);
  std::vector<RecordingSender::Sent> sent = sender_.sent();
  ASSERT_THAT(sent, SizeIs(2));  // the retry is one send of the same group
  EXPECT_EQ(sent[1].attempt, 2);
  EXPECT_EQ(sent[1].delivery_id, sent[0].delivery_id);  // the same webhook-id
  EXPECT_THAT(ListedTitles(sent[1]), ElementsAre("a", "b"));

  // Permanent: every member is dead-lettered, task and all.
  for (const Notification& n : {a, b}) {
    EXPECT_EQ(DeliveryOf(n).status, DeliveryStatus::kFailed);
    EXPECT_EQ(StatusOf(n), NotificationStatus::kFailed);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Task> dead,
                       queue_->ListDead(DeliveryQueue(Channel::kWebhook), 10));
  EXPECT_THAT(dead, SizeIs(2));
}

TEST_F(DigestTest, ARestartBeforeOrDuringTheFlushStillSendsOnce) {
  Notification a = SubmitAndRoute("a");
  Notification b = SubmitAndRoute("b");
  // A restart while the group waits: a new dispatcher on the same store.
  dispatcher_.reset();
  dispatcher_ = NewDispatcher();
  ASSERT_OK(dispatcher_->Start());  // re-enqueues the held members
  dispatcher_->Stop();
  Notification c = SubmitAndRoute("c");
  EXPECT_EQ(*DeliveryOf(c).next_attempt_at, t0_ + kWait);

  // A worker claims the group and dies before sending.
  clock_.Set(t0_ + kWait);
  ASSERT_OK_AND_ASSIGN(DigestClaim claim,
                       store_->ClaimDigest(tenant_.id, DeliveryOf(b).id, absl::Seconds(60)));
  ASSERT_THAT(claim.deliveries, SizeIs(3));
  dispatcher_.reset();
  dispatcher_ = NewDispatcher();
  ASSERT_OK(dispatcher_->Start());
  dispatcher_->Stop();
  EXPECT_EQ(RunDue(), 3);  // the group is busy under the dead worker's lease
  EXPECT_THAT(sender_.sent(), SizeIs(0));

  clock_.Advance(absl::Seconds(61));
  EXPECT_GE(RunDue(), 1);
  std::vector<RecordingSender::Sent> sent = sender_.sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_THAT(ListedTitles(sent[0]), ElementsAre("a", "b", "c"));
  for (const Notification& n : {a, b, c}) EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
  clock_.Advance(absl::Minutes(2));
  RunDue();
  EXPECT_THAT(sender_.sent(), SizeIs(1));
}

TEST_F(DigestTest, AStoredDigestTemplateRendersTheSummary) {
  Template t;
  t.id = NewUuidV7(clock_.Now());
  t.tenant_id = tenant_.id;
  t.name = std::string(kDigestTemplateName);
  t.channel = Channel::kWebhook;
  t.fields = {{"body",
               "{\"text\": \"{{count}} for {{group_key}}:{{#notifications}} "
               "{{title}}/{{priority}}{{/notifications}}\"}"}};
  t.created_at = t.updated_at = clock_.Now();
  ASSERT_OK(store_->CreateTemplate(t));
  SubmitAndRoute("x \"quoted\"");
  SubmitAndRoute("y");
  clock_.Set(t0_ + kWait);
  RunDue();
  ASSERT_THAT(sender_.sent(), SizeIs(1));
  nlohmann::json body =
      nlohmann::json::parse(std::get<WebhookMessage>(sender_.sent()[0].message).body);
  EXPECT_EQ(body["text"], "2 for api: x \"quoted\"/normal y/normal");
}

TEST(DigestRenderingTest, BuiltInSummariesListEveryNotification) {
  Notification a;
  a.id = "n-1";
  a.type = "deploy.finished";
  a.title = "v2 is live";
  a.body = "all green";
  a.priority = Priority::kHigh;
  Notification b;
  b.id = "n-2";
  b.type = "disk.full";  // no title: its type stands in
  ASSERT_OK_AND_ASSIGN(RenderedMessage slack,
                       RenderDigest(Channel::kSlack, nullptr, "rule-1/api", {a, b}));
  EXPECT_EQ(std::get<SlackMessage>(slack).text,
            "*2 notifications* (api)\n• v2 is live: all green\n• disk.full\n");
  ASSERT_OK_AND_ASSIGN(RenderedMessage email,
                       RenderDigest(Channel::kEmail, nullptr, "rule-1/api", {a, b}));
  EXPECT_EQ(std::get<EmailMessage>(email).subject, "2 notifications: api");
  EXPECT_THAT(std::get<EmailMessage>(email).text, HasSubstr("disk.full | priority normal | n-2"));
  EXPECT_THAT(std::get<EmailMessage>(email).html, HasSubstr("<strong>v2 is live</strong>"));
  ASSERT_OK_AND_ASSIGN(RenderedMessage push,
                       RenderDigest(Channel::kPush, nullptr, "rule-1/api", {a}));
  EXPECT_EQ(std::get<PushMessage>(push).title, "1 notification");
  nlohmann::json context = DigestContext("rule-1/api", {a, b});
  EXPECT_EQ(context["priority"], "high");
  EXPECT_EQ(context["count"], 2);
}

}  // namespace
}  // namespace alerthub
