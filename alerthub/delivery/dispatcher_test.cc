#include "alerthub/delivery/dispatcher.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/time.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/rule.h"
#include "alerthub/rules/rules_resolver.h"
#include "alerthub/pipeline/realtime.h"
#include "alerthub/testing/simulated_clock.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

using ::alerthub::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Answers each Send with the next scripted result (success when the script is
// empty) and records what it was asked to send.
class ScriptedSender : public ChannelSender {
 public:
  SendResult Send(const SendAttempt& a) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back({a.delivery->id, a.integration->id, a.attempt,
                     a.integration->config.value("secret", ""), a.message->index()});
    if (script_.empty()) return Result(AttemptOutcome::kSuccess, 200);
    SendResult r = script_.front();
    script_.pop_front();
    return r;
  }

  static SendResult Result(AttemptOutcome outcome, int code,
                           std::optional<absl::Duration> retry_after = std::nullopt) {
    SendResult r;
    r.outcome = outcome;
    r.code = code;
    r.retry_after = retry_after;
    r.latency = absl::Milliseconds(3);
    if (outcome != AttemptOutcome::kSuccess) r.error = absl::StrCat("HTTP ", code);
    r.response = "ok";
    return r;
  }

  void Then(SendResult r) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(r));
  }

  struct Sent {
    std::string delivery_id;
    std::string integration_id;
    int attempt;
    std::string secret;
    size_t message_index;
  };
  std::vector<Sent> sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }

 private:
  absl::Mutex mu_;
  std::deque<SendResult> script_ ABSL_GUARDED_BY(mu_);
  std::vector<Sent> sent_ ABSL_GUARDED_BY(mu_);
};

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.Set(absl::FromUnixSeconds(1'800'000'000));
    store_ = *OpenSqliteStore({.path = ":memory:", .clock = &clock_});
    queue_ = *store_->OpenTaskQueue();
    kv_ = NewMemoryKv({.clock = &clock_});
    tenant_.id = "tenant-1";
    tenant_.name = "acme";
    tenant_.created_at = clock_.Now();
    ASSERT_OK(store_->CreateTenant(tenant_));
    catalog_ = std::make_unique<Catalog>(store_.get(), &box_, &clock_);
    resolver_ = std::make_unique<DefaultTargetResolver>(store_.get());
    DispatcherOptions options;
    options.clock = &clock_;
    options.retry.jitter = 0;  // exact schedule in tests
    dispatcher_ = std::make_unique<Dispatcher>(store_.get(), queue_.get(), kv_.get(),
                                               catalog_.get(), &sender_, resolver_.get(),
                                               options);
    ASSERT_OK_AND_ASSIGN(updates_sub_,
                         kv_->Subscribe(UpdatesChannel(tenant_.id), [this](absl::string_view m) {
                           absl::StatusOr<StatusUpdate> u = StatusUpdateFromJson(m);
                           if (!u.ok()) return;
                           absl::MutexLock lock(&updates_mu_);
                           updates_.push_back(std::string(NotificationStatusName(u->status)));
                         }));
  }

  Integration AddWebhook(bool is_default = true, absl::string_view name = "hook") {
    nlohmann::json req = {{"name", name},
                          {"channel", "webhook"},
                          {"config", {{"url", "https://example.com/hook"}}},
                          {"default", is_default}};
    absl::StatusOr<CreatedIntegration> c = catalog_->CreateIntegration(tenant_.id, req);
    EXPECT_OK(c.status());
    secret_ = c->generated_secret;
    return c->integration;
  }

  // Commits a notification as the pipeline does and routes its created event.
  Notification SubmitAndRoute(Notification n = {}) {
    const absl::Time now = clock_.Now();
    n.id = NewUuidV7(now);
    n.tenant_id = tenant_.id;
    if (n.type.empty()) n.type = "deploy.finished";
    n.title = "v2 is live";
    n.created_at = n.updated_at = now;
    SubmissionWrite w;
    w.notification = n;
    w.accepted_event = MakeNotificationEvent(n, kEventAccepted, "/test", now, {});
    w.outbox_topic = std::string(kTopicCreated);
    w.outbox_payload = CloudEventToJson(w.accepted_event).dump();
    EXPECT_OK(store_->CommitSubmissions({w}).status());
    created_ = {std::string(kTopicCreated), n.id, w.outbox_payload, {}};
    EXPECT_OK(dispatcher_->Route(created_));
    return n;
  }

  // Leases every due task of `channel` and runs it; returns how many ran.
  int RunDue(Channel channel = Channel::kWebhook) {
    absl::StatusOr<std::vector<Task>> tasks =
        queue_->Lease(DeliveryQueue(channel), 100, absl::Seconds(60));
    EXPECT_OK(tasks.status());
    for (const Task& t : *tasks) EXPECT_OK(dispatcher_->ProcessTask(t));
    return static_cast<int>(tasks->size());
  }

  NotificationStatus StatusOf(const Notification& n) {
    return store_->GetNotification(tenant_.id, n.id)->status;
  }

  std::vector<Delivery> DeliveriesOf(const Notification& n) {
    return store_
        ->ListDeliveries(tenant_.id, DeliveryFilter{.status = std::nullopt, .notification_id = n.id},
                         {})
        ->items;
  }

  std::vector<std::string> Updates() {
    absl::MutexLock lock(&updates_mu_);
    return updates_;
  }

  SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<TaskQueue> queue_;
  std::unique_ptr<Kv> kv_;
  Tenant tenant_;
  SecretBox box_ = *SecretBox::FromKey(std::string(32, 'k'));
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<DefaultTargetResolver> resolver_;
  ScriptedSender sender_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::string secret_;
  EventMessage created_;
  absl::Mutex updates_mu_;
  std::vector<std::string> updates_ ABSL_GUARDED_BY(updates_mu_);
  std::unique_ptr<Subscription> updates_sub_;
};

TEST_F(DispatcherTest, DeliversThroughTheDefaultIntegrationAndPublishesEachStatus) {
  Integration hook = AddWebhook();
  Notification n = SubmitAndRoute();
  EXPECT_EQ(StatusOf(n), NotificationStatus::kRouted);
  ASSERT_THAT(DeliveriesOf(n), SizeIs(1));
  EXPECT_EQ(RunDue(), 1);

  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
  std::vector<ScriptedSender::Sent> sent = sender_.sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].integration_id, hook.id);
  EXPECT_EQ(sent[0].attempt, 1);
  EXPECT_EQ(sent[0].secret, secret_);  // the sender gets the plaintext secret
  EXPECT_EQ(sent[0].message_index, 0u);  // a WebhookMessage
  EXPECT_THAT(Updates(), ElementsAre("routed", "delivering", "delivered"));

  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
  ASSERT_THAT(events, SizeIs(4));
  EXPECT_EQ(events[2].type, kEventDeliveryAttempt);
  EXPECT_EQ(events[2].data["attempt"], 1);
  EXPECT_EQ(events[2].data["outcome"], "success");
  EXPECT_EQ(events[2].data["code"], 200);
  EXPECT_EQ(events[2].data["integration_id"], hook.id);
  EXPECT_EQ(events[3].type, kEventDelivered);
  EXPECT_EQ(RunDue(), 0);  // the task is gone
}

TEST_F(DispatcherTest, FailsTwiceThenSucceedsWithExactlyThreeAttempts) {
  AddWebhook();
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kRetriable, 500));
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kRetriable, 503));
  Notification n = SubmitAndRoute();

  EXPECT_EQ(RunDue(), 1);  // attempt 1: 500; the schedule's second step is 5 s
  Delivery d = DeliveriesOf(n)[0];
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_EQ(*d.next_attempt_at, clock_.Now() + absl::Seconds(5));
  EXPECT_EQ(d.last_error, "HTTP 500");
  EXPECT_EQ(RunDue(), 0);  // not due yet
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(RunDue(), 1);  // attempt 2: 503; next in 5 min
  EXPECT_EQ(*DeliveriesOf(n)[0].next_attempt_at, clock_.Now() + absl::Minutes(5));
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(RunDue(), 1);  // attempt 3: success

  EXPECT_THAT(sender_.sent(), SizeIs(3));
  for (const ScriptedSender::Sent& s : sender_.sent()) EXPECT_EQ(s.delivery_id, d.id);
  ASSERT_THAT(DeliveriesOf(n), SizeIs(1));
  EXPECT_EQ(DeliveriesOf(n)[0].attempts, 3);
  EXPECT_EQ(DeliveriesOf(n)[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
}

TEST_F(DispatcherTest, RetryAfterPostponesTheNextAttempt) {
  AddWebhook();
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kRetriable, 429, absl::Minutes(2)));
  Notification n = SubmitAndRoute();
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(*DeliveriesOf(n)[0].next_attempt_at, clock_.Now() + absl::Minutes(2));
}

TEST_F(DispatcherTest, GoneDisablesTheIntegrationAndDeadLetters) {
  Integration hook = AddWebhook();
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kGone, 410));
  Notification n = SubmitAndRoute();
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(StatusOf(n), NotificationStatus::kFailed);
  EXPECT_FALSE(store_->GetIntegration(tenant_.id, hook.id)->enabled);
  ASSERT_OK_AND_ASSIGN(
      Page<Delivery> dead,
      store_->ListDeliveries(tenant_.id,
                             DeliveryFilter{.status = DeliveryStatus::kFailed, .notification_id = ""},
                             {}));
  ASSERT_THAT(dead.items, SizeIs(1));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> dead_tasks,
                       queue_->ListDead(DeliveryQueue(Channel::kWebhook), 10));
  EXPECT_THAT(dead_tasks, SizeIs(1));
  // A disabled integration is not routed to.
  Notification next = SubmitAndRoute();
  EXPECT_EQ(StatusOf(next), NotificationStatus::kSuppressed);
}

TEST_F(DispatcherTest, PermanentFailureThenReplaySucceeds) {
  AddWebhook();
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kPermanent, 400));
  Notification n = SubmitAndRoute();
  EXPECT_EQ(RunDue(), 1);
  Delivery d = DeliveriesOf(n)[0];
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.last_error, "HTTP 400");
  EXPECT_EQ(StatusOf(n), NotificationStatus::kFailed);

  ASSERT_OK_AND_ASSIGN(Delivery replayed, dispatcher_->Replay(tenant_.id, d.id));
  EXPECT_EQ(replayed.status, DeliveryStatus::kPending);
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(DeliveriesOf(n)[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
  EXPECT_THAT(dispatcher_->Replay(tenant_.id, d.id),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(dispatcher_->Replay("other-tenant", d.id), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DispatcherTest, ExhaustedScheduleDeadLetters) {
  AddWebhook();
  DispatcherOptions options;
  options.clock = &clock_;
  options.retry.schedule = {absl::ZeroDuration(), absl::Seconds(1)};
  options.retry.jitter = 0;
  Dispatcher short_schedule(store_.get(), queue_.get(), kv_.get(), catalog_.get(), &sender_,
                            resolver_.get(), options);
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kRetriable, 500));
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kRetriable, 502));
  Notification n = SubmitAndRoute();
  auto run = [&] {
    absl::StatusOr<std::vector<Task>> tasks =
        queue_->Lease(DeliveryQueue(Channel::kWebhook), 10, absl::Seconds(60));
    ASSERT_OK(tasks.status());
    for (const Task& t : *tasks) EXPECT_OK(short_schedule.ProcessTask(t));
  };
  run();
  clock_.Advance(absl::Seconds(1));
  run();
  Delivery d = DeliveriesOf(n)[0];
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.last_error, "HTTP 502");
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
  EXPECT_EQ(events.back().type, kEventFailed);
  EXPECT_EQ(events[events.size() - 2].data["dead_lettered"], true);
}

TEST_F(DispatcherTest, AnIntegrationsOwnScheduleWins) {
  ASSERT_OK_AND_ASSIGN(CreatedIntegration c,
                       catalog_->CreateIntegration(
                           tenant_.id, {{"name", "h"},
                                        {"channel", "webhook"},
                                        {"default", true},
                                        {"config", {{"url", "https://example.com/h"}}},
                                        {"retry", {{"schedule", {"0s", "42s"}}, {"jitter", 0}}}}));
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kRetriable, 500));
  sender_.Then(ScriptedSender::Result(AttemptOutcome::kRetriable, 500));
  Notification n = SubmitAndRoute();
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(*DeliveriesOf(n)[0].next_attempt_at, clock_.Now() + absl::Seconds(42));
  clock_.Advance(absl::Seconds(42));
  EXPECT_EQ(RunDue(), 1);  // two attempts: the schedule is exhausted
  EXPECT_EQ(DeliveriesOf(n)[0].status, DeliveryStatus::kFailed);
}

TEST_F(DispatcherTest, ReplayedCreatedEventCreatesNothingTwice) {
  AddWebhook();
  Notification n = SubmitAndRoute();
  ASSERT_OK(dispatcher_->Route(created_));
  ASSERT_OK(dispatcher_->Route(created_));
  EXPECT_THAT(DeliveriesOf(n), SizeIs(1));
  EXPECT_EQ(RunDue(), 1);
  ASSERT_OK(dispatcher_->Route(created_));  // after delivery: nothing to enqueue
  EXPECT_EQ(RunDue(), 0);
  EXPECT_THAT(sender_.sent(), SizeIs(1));
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
  int routed = 0;
  for (const CloudEvent& e : events) routed += e.type == kEventRouted;
  EXPECT_EQ(routed, 1);
}

TEST_F(DispatcherTest, ADuplicateTaskForAFinishedDeliveryIsDropped) {
  AddWebhook();
  Notification n = SubmitAndRoute();
  EXPECT_EQ(RunDue(), 1);
  Delivery d = DeliveriesOf(n)[0];
  // A stale copy of the task (a crash before its ack) finds the delivery done.
  ASSERT_OK(queue_->Enqueue(DeliveryQueue(Channel::kWebhook), d.id,
                            nlohmann::json({{"tenant_id", tenant_.id}, {"delivery_id", d.id}}).dump(),
                            clock_.Now()));
  EXPECT_EQ(RunDue(), 1);
  EXPECT_THAT(sender_.sent(), SizeIs(1));
  EXPECT_EQ(RunDue(), 0);
}

TEST_F(DispatcherTest, ExplicitTargetsAndNoTargets) {
  Integration a = AddWebhook(/*is_default=*/false, "a");
  Integration b = AddWebhook(/*is_default=*/false, "b");
  Notification by_id;
  by_id.integration_ids = {b.id, "missing-integration"};
  Notification n1 = SubmitAndRoute(by_id);
  ASSERT_THAT(DeliveriesOf(n1), SizeIs(1));
  EXPECT_EQ(DeliveriesOf(n1)[0].integration_id, b.id);

  Notification by_channel;
  by_channel.channels = {Channel::kWebhook};
  Notification n2 = SubmitAndRoute(by_channel);
  EXPECT_THAT(DeliveriesOf(n2), SizeIs(2));

  Notification nothing;  // no default integration exists
  Notification n3 = SubmitAndRoute(nothing);
  EXPECT_THAT(DeliveriesOf(n3), IsEmpty());
  EXPECT_EQ(StatusOf(n3), NotificationStatus::kSuppressed);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n3.id));
  EXPECT_THAT(events.back().data["reason"].get<std::string>(), HasSubstr("no enabled default integration"));
}

TEST_F(DispatcherTest, MissingTemplateIsAPermanentFailureWithItsReason) {
  AddWebhook();
  Notification with_template;
  with_template.template_name = "nope.v1";
  Notification n = SubmitAndRoute(with_template);
  EXPECT_EQ(RunDue(), 1);
  EXPECT_THAT(sender_.sent(), IsEmpty());
  Delivery d = DeliveriesOf(n)[0];
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_THAT(d.last_error, HasSubstr("nope.v1"));
}

TEST_F(DispatcherTest, ScheduledNotificationsWaitForTheirTime) {
  AddWebhook();
  Notification later;
  later.scheduled_at = clock_.Now() + absl::Hours(1);
  Notification n = SubmitAndRoute(later);
  EXPECT_EQ(RunDue(), 0);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
}

TEST_F(DispatcherTest, WorkersDeliverWithoutBeingAsked) {
  // Real time, real threads: the workers pick up routed work by themselves.
  AddWebhook();
  ASSERT_OK(dispatcher_->Start());
  Notification n = SubmitAndRoute();
  for (int i = 0; i < 200 && StatusOf(n) != NotificationStatus::kDelivered; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  dispatcher_->Stop();
  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
}

TEST_F(DispatcherTest, StartReenqueuesDeliveriesWhoseTaskWasLost) {
  AddWebhook();
  Notification n = SubmitAndRoute();
  // The task vanishes (a power loss undid its enqueue).
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks,
                       queue_->Lease(DeliveryQueue(Channel::kWebhook), 10, absl::Seconds(60)));
  ASSERT_THAT(tasks, SizeIs(1));
  ASSERT_OK(queue_->Ack(tasks[0]));
  EXPECT_EQ(RunDue(), 0);
  ASSERT_OK(dispatcher_->Start());
  for (int i = 0; i < 200 && StatusOf(n) != NotificationStatus::kDelivered; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  dispatcher_->Stop();
  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
  EXPECT_THAT(sender_.sent(), SizeIs(1));
}

// Routing by the tenant's stored rules (DispatcherOptions::planner).
class RulesRoutingTest : public DispatcherTest {
 protected:
  void SetUp() override {
    DispatcherTest::SetUp();
    RulesTargetResolverOptions ro;
    ro.clock = &clock_;
    Store* store = store_.get();
    rules_ = std::make_unique<RulesTargetResolver>(
        store, kv_.get(), [store](absl::string_view t) { return store->ListRules(t); }, ro);
    DispatcherOptions options;
    options.clock = &clock_;
    options.retry.jitter = 0;
    RulesTargetResolver* rules = rules_.get();
    options.planner = [rules](const Notification& n) { return rules->Plan(n); };
    dispatcher_ = std::make_unique<Dispatcher>(store_.get(), queue_.get(), kv_.get(),
                                               catalog_.get(), &sender_, resolver_.get(),
                                               options);
  }
  void TearDown() override { dispatcher_.reset(); }

  Rule AddRule(const nlohmann::json& request) {
    absl::StatusOr<Rule> r = RuleFromRequestJson(request);
    EXPECT_OK(r.status());
    r->id = NewUuidV7(clock_.Now());
    r->tenant_id = tenant_.id;
    r->created_at = r->updated_at = clock_.Now();
    EXPECT_OK(store_->CreateRule(*r));
    rules_->Invalidate(tenant_.id);
    return *r;
  }

  std::unique_ptr<RulesTargetResolver> rules_;
};

TEST_F(RulesRoutingTest, ARulesDelayHoldsTheDeliveriesUntilItEnds) {
  AddWebhook();
  AddRule({{"name", "later"}, {"actions", {{"delay_s", 600}}}});
  const absl::Time created = clock_.Now();
  Notification n = SubmitAndRoute();
  ASSERT_THAT(DeliveriesOf(n), SizeIs(1));
  Delivery d = DeliveriesOf(n)[0];
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_EQ(d.next_attempt_at, created + absl::Seconds(600));
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
  EXPECT_EQ(events.back().data["not_before"], FormatRfc3339(created + absl::Seconds(600)));
  EXPECT_EQ(RunDue(), 0);
  clock_.Advance(absl::Seconds(599));
  EXPECT_EQ(RunDue(), 0);
  EXPECT_THAT(sender_.sent(), IsEmpty());
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(RunDue(), 1);
  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
}

TEST_F(RulesRoutingTest, ADelayCountsFromScheduledAt) {
  AddWebhook();
  AddRule({{"name", "later"}, {"actions", {{"delay_s", 60}}}});
  Notification later;
  later.scheduled_at = clock_.Now() + absl::Hours(1);
  Notification n = SubmitAndRoute(later);
  ASSERT_THAT(DeliveriesOf(n), SizeIs(1));
  EXPECT_EQ(DeliveriesOf(n)[0].next_attempt_at, *later.scheduled_at + absl::Seconds(60));
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(RunDue(), 0);
  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(RunDue(), 1);
}

TEST_F(RulesRoutingTest, WithoutADelayScheduledAtStillHolds) {
  AddWebhook();
  AddRule({{"name", "raise"}, {"actions", {{"priority", {{"raise", 1}}}}}});
  Notification later;
  later.scheduled_at = clock_.Now() + absl::Hours(1);
  Notification n = SubmitAndRoute(later);
  ASSERT_THAT(DeliveriesOf(n), SizeIs(1));
  EXPECT_EQ(DeliveriesOf(n)[0].next_attempt_at, later.scheduled_at);
  EXPECT_EQ(RunDue(), 0);
}

TEST_F(RulesRoutingTest, ASuppressRuleSuppressesAndTheEventNamesIt) {
  AddWebhook();
  Rule mute = AddRule({{"name", "mute"}, {"match", {{"type", "deploy.*"}}},
                       {"actions", {{"suppress", true}}}});
  Notification n = SubmitAndRoute();
  EXPECT_THAT(DeliveriesOf(n), IsEmpty());
  EXPECT_EQ(StatusOf(n), NotificationStatus::kSuppressed);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
  EXPECT_EQ(events.back().type, kEventRouted);
  EXPECT_EQ(events.back().data["rule_id"], mute.id);
  EXPECT_EQ(events.back().data["status"], "suppressed");
  EXPECT_THAT(events.back().data["reason"].get<std::string>(), HasSubstr(mute.id));
  // Another type is not.
  Notification other;
  other.type = "billing.paid";
  Notification m = SubmitAndRoute(other);
  EXPECT_EQ(StatusOf(m), NotificationStatus::kRouted);
  EXPECT_EQ(RunDue(), 1);
}

TEST_F(RulesRoutingTest, AThrottledNotificationIsSuppressedNamingTheRule) {
  AddWebhook();
  Rule limit = AddRule({{"name", "one a minute"},
                        {"actions", {{"throttle", {{"limit", 1}, {"window_s", 60}}}}}});
  Notification first = SubmitAndRoute();
  EXPECT_EQ(StatusOf(first), NotificationStatus::kRouted);
  Notification second = SubmitAndRoute();
  EXPECT_EQ(StatusOf(second), NotificationStatus::kSuppressed);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, second.id));
  EXPECT_EQ(events.back().data["rule_id"], limit.id);
}

TEST_F(DispatcherTest, TestIntegrationSendsWithoutStoring) {
  Integration hook = AddWebhook();
  ASSERT_OK_AND_ASSIGN(TestSendResult r, dispatcher_->TestIntegration(tenant_.id, hook.id));
  EXPECT_EQ(r.send.outcome, AttemptOutcome::kSuccess);
  EXPECT_THAT(sender_.sent(), SizeIs(1));
  EXPECT_THAT(store_->ListDeliveries(tenant_.id, {}, {})->items, IsEmpty());
  EXPECT_THAT(dispatcher_->TestIntegration(tenant_.id, "missing"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace alerthub
