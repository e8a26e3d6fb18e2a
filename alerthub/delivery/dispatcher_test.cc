#include "alerthub/delivery/dispatcher.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <tuple>
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
using ::testing::UnorderedElementsAre;

// Answers each Send with the next scripted result (success when the script is
// empty) and records what it was asked to send.
class ScriptedSender : public ChannelSender {
 public:
  SendResult Send(const SendAttempt& a) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back({a.delivery->id, a.integration->id, a.attempt,
                     a.integration->config.value("secret", ""), a.message->index(),
                     a.recipient != nullptr ? a.recipient->id : "", a.notification->priority});
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
    std::string recipient;  // SendAttempt::recipient's id
    Priority priority;      // the notification's, as the sender saw it
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
    n = Submit(std::move(n));
    EXPECT_OK(dispatcher_->Route(created_));
    return n;
  }

  // Commits a notification as the pipeline does; created_ is its event.
  Notification Submit(Notification n) {
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

TEST_F(DispatcherTest, RouteBatchRoutesEveryEventOfTheBatch) {
  AddWebhook();
  std::vector<Notification> ns;
  std::vector<EventMessage> batch;
  for (int i = 0; i < 3; ++i) {
    ns.push_back(Submit({}));
    batch.push_back(created_);
  }
  batch.push_back(batch.front());  // a duplicate within the batch
  batch.push_back({std::string(kTopicCreated), "k", "not json", {}});  // dropped
  std::vector<absl::Status> statuses = dispatcher_->RouteBatch(batch);
  ASSERT_THAT(statuses, SizeIs(batch.size()));
  for (const absl::Status& s : statuses) EXPECT_OK(s);
  for (const Notification& n : ns) {
    EXPECT_THAT(DeliveriesOf(n), SizeIs(1));
    EXPECT_EQ(StatusOf(n), NotificationStatus::kRouted);
  }
  EXPECT_EQ(RunDue(), 3);
  EXPECT_THAT(sender_.sent(), SizeIs(3));
  for (const Notification& n : ns) EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
  // Replayed as a batch after delivery: nothing is created or sent again.
  for (const absl::Status& s : dispatcher_->RouteBatch(batch)) EXPECT_OK(s);
  EXPECT_EQ(RunDue(), 0);
}

// Each send takes `per_send` on the simulated clock.
class SlowSender : public ChannelSender {
 public:
  SlowSender(SimulatedClock* clock, absl::Duration per_send) : clock_(clock), per_send_(per_send) {}
  SendResult Send(const SendAttempt&) override {
    clock_->Advance(per_send_);
    ++sends_;
    SendResult r;
    r.outcome = AttemptOutcome::kSuccess;
    r.code = 200;
    return r;
  }
  int sends() const { return sends_; }

 private:
  SimulatedClock* const clock_;
  const absl::Duration per_send_;
  std::atomic<int> sends_{0};
};

TEST_F(DispatcherTest, ASlowBatchSendsOnlyWhatItsLeaseCovers) {
  AddWebhook();
  SlowSender slow(&clock_, absl::Seconds(30));
  DispatcherOptions options;
  options.clock = &clock_;
  options.lease = absl::Seconds(60);
  options.send_budget = absl::Seconds(20);
  Dispatcher dispatcher(store_.get(), queue_.get(), kv_.get(), catalog_.get(), &slow,
                        resolver_.get(), options);
  std::vector<Notification> ns;
  for (int i = 0; i < 3; ++i) {
    ns.push_back(Submit({}));
    ASSERT_OK(dispatcher.Route(created_));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Task> tasks,
                       queue_->Lease(DeliveryQueue(Channel::kWebhook), 10, options.lease));
  ASSERT_THAT(tasks, SizeIs(3));
  // Sends at 0 s and 30 s fit the 60 s lease with 20 s to spare; a third,
  // starting at 60 s, would not.
  EXPECT_OK(dispatcher.ProcessTasks(tasks));
  EXPECT_EQ(slow.sends(), 2);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> early,
                       queue_->Lease(DeliveryQueue(Channel::kWebhook), 10, options.lease));
  EXPECT_THAT(early, IsEmpty());  // back only once the claim's lease has ended
  clock_.Advance(absl::Seconds(2));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> later,
                       queue_->Lease(DeliveryQueue(Channel::kWebhook), 10, options.lease));
  ASSERT_THAT(later, SizeIs(1));
  EXPECT_OK(dispatcher.ProcessTasks(later));
  EXPECT_EQ(slow.sends(), 3);
  for (const Notification& n : ns) EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
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

// --- Recipients (issue 5) ---------------------------------------------------------------

class RecipientDispatchTest : public RulesRoutingTest {
 protected:
  Integration AddIntegration(Channel channel, bool is_default, absl::string_view name) {
    nlohmann::json config;
    switch (channel) {
      case Channel::kEmail:
        config = {{"smtp_url", "smtp://mail.example.com:25"},
                  {"from", "alerts@example.com"},
                  {"to", {"ops@example.com"}}};
        break;
      case Channel::kWebhook:
        config = {{"url", "https://example.com/hook"}};
        break;
      default:
        config = {{"webhook_url", "https://example.com/chat"}};
        break;
    }
    absl::StatusOr<CreatedIntegration> c = catalog_->CreateIntegration(
        tenant_.id, {{"name", name},
                     {"channel", std::string(ChannelName(channel))},
                     {"config", config},
                     {"default", is_default}});
    EXPECT_OK(c.status());
    return c.ok() ? c->integration : Integration();
  }

  std::string AddUser(absl::string_view email, ChannelAddresses addresses = {},
                      std::optional<Preferences> prefs = std::nullopt) {
    User u;
    u.id = NewUuidV7(clock_.Now());
    u.tenant_id = tenant_.id;
    u.email = std::string(email);
    u.addresses = std::move(addresses);
    u.created_at = clock_.Now();
    EXPECT_OK(store_->CreateUser(u));
    if (prefs.has_value()) {
      EXPECT_OK(store_->SetPreferences(tenant_.id, u.id, *prefs));
    }
    return u.id;
  }

  static Preferences Quiet(absl::string_view zone, int start_hour, int end_hour,
                           std::vector<absl::Weekday> days = {
                               absl::Weekday::monday, absl::Weekday::tuesday,
                               absl::Weekday::wednesday, absl::Weekday::thursday,
                               absl::Weekday::friday, absl::Weekday::saturday,
                               absl::Weekday::sunday}) {
    Preferences p;
    p.time_zone = std::string(zone);
    p.quiet_hours = {{.days = std::move(days),
                      .start_minute = start_hour * 60,
                      .end_minute = end_hour * 60}};
    return p;
  }

  // (integration, recipient, held_until or "") of the plan's deliveries and
  // of the stored ones, sorted, for comparing the two.
  using Row = std::tuple<std::string, std::string, std::string>;
  static std::vector<Row> Rows(const RoutingPlan& plan) {
    std::vector<Row> rows;
    for (const TargetResolver::Target& t : plan.decision.targets) {
      rows.emplace_back(t.integration.id, t.recipient,
                        t.held_until.has_value() ? FormatRfc3339(*t.held_until) : "");
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  }
  static std::vector<Row> Rows(const std::vector<Delivery>& deliveries) {
    std::vector<Row> rows;
    for (const Delivery& d : deliveries) {
      rows.emplace_back(d.integration_id, d.recipient,
                        d.status == DeliveryStatus::kHeld ? FormatRfc3339(*d.next_attempt_at)
                                                          : "");
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  }
};

TEST_F(RecipientDispatchTest, FansOutToEachRecipientWithTheirAddress) {
  Integration hook = AddIntegration(Channel::kWebhook, true, "hook");
  Integration mail = AddIntegration(Channel::kEmail, true, "mail");
  const std::string ada = AddUser("ada@example.com");
  const std::string bob = AddUser("bob@example.com");
  Notification n;
  n.recipients = {ada, bob, "nobody"};
  n = SubmitAndRoute(n);
  std::vector<Delivery> ds = DeliveriesOf(n);
  ASSERT_THAT(ds, SizeIs(3));
  EXPECT_THAT(Rows(ds), UnorderedElementsAre(Row{hook.id, "", ""}, Row{mail.id, ada, ""},
                                             Row{mail.id, bob, ""}));
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
  EXPECT_EQ(events.back().data["dropped_recipients"],
            (nlohmann::json{{{"recipient", "nobody"},
                             {"reason", "no user with this id in the tenant"}}}));
  EXPECT_EQ(RunDue(Channel::kEmail), 2);
  EXPECT_EQ(RunDue(Channel::kWebhook), 1);
  std::vector<std::string> sent_to;
  for (const ScriptedSender::Sent& s : sender_.sent()) sent_to.push_back(s.recipient);
  std::sort(sent_to.begin(), sent_to.end());
  std::vector<std::string> expected = {"", ada, bob};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(sent_to, expected);
  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
}

TEST_F(RecipientDispatchTest, EveryRecipientDroppedSuppressesNamingWhy) {
  AddIntegration(Channel::kEmail, true, "mail");
  Preferences no_mail;
  no_mail.opt_out_channels = {Channel::kEmail};
  const std::string ada = AddUser("ada@example.com", {}, no_mail);
  Notification n;
  n.recipients = {ada};
  n = SubmitAndRoute(n);
  EXPECT_THAT(DeliveriesOf(n), IsEmpty());
  EXPECT_EQ(StatusOf(n), NotificationStatus::kSuppressed);
  ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
  EXPECT_EQ(events.back().data["reason"],
            absl::StrCat("no target: every recipient was dropped: ", ada,
                         " on mail: recipient opted out of channel email"));
}

TEST_F(RecipientDispatchTest, QuietHoursHoldAcrossARestartThenDeliverAfterTheWindow) {
  AddIntegration(Channel::kEmail, true, "mail");
  // Clocks go forward in Berlin at 02:00 on 2027-03-28: 22:00-07:00 that
  // night is 8 hours.
  const std::string ada = AddUser("ada@example.com", {}, Quiet("Europe/Berlin", 22, 7));
  clock_.Set(absl::FromCivil(absl::CivilMinute(2027, 3, 27, 22, 30), absl::UTCTimeZone()));
  AddRule({{"name", "raise"}, {"actions", {{"priority", {{"raise", 1}}}}}});
  Notification n;
  n.recipients = {ada};
  n = SubmitAndRoute(n);
  const absl::Time end =
      absl::FromCivil(absl::CivilMinute(2027, 3, 28, 5, 0), absl::UTCTimeZone());  // 07:00 CEST
  ASSERT_THAT(DeliveriesOf(n), SizeIs(1));
  Delivery d = DeliveriesOf(n)[0];
  EXPECT_EQ(d.status, DeliveryStatus::kHeld);
  EXPECT_EQ(d.next_attempt_at, end);
  EXPECT_EQ(d.recipient, ada);
  EXPECT_EQ(StatusOf(n), NotificationStatus::kRouted);
  EXPECT_EQ(RunDue(Channel::kEmail), 0);

  // A restart whose queue lost the task: Start() re-enqueues the held
  // delivery at the window's end, not now.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqliteStore> other,
                       OpenSqliteStore({.path = ":memory:", .clock = &clock_}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TaskQueue> fresh_queue, other->OpenTaskQueue());
  DispatcherOptions options;
  options.clock = &clock_;
  RulesTargetResolver* rules = rules_.get();
  options.planner = [rules](const Notification& m) { return rules->Plan(m); };
  dispatcher_ = std::make_unique<Dispatcher>(store_.get(), fresh_queue.get(), kv_.get(),
                                             catalog_.get(), &sender_, resolver_.get(), options);
  ASSERT_OK(dispatcher_->Start());
  dispatcher_->Stop();
  clock_.Set(end - absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(std::vector<Task> early,
                       fresh_queue->Lease(DeliveryQueue(Channel::kEmail), 10, absl::Seconds(60)));
  EXPECT_THAT(early, IsEmpty());
  clock_.Set(end);
  ASSERT_OK_AND_ASSIGN(std::vector<Task> due,
                       fresh_queue->Lease(DeliveryQueue(Channel::kEmail), 10, absl::Seconds(60)));
  ASSERT_THAT(due, SizeIs(1));
  EXPECT_EQ(due[0].id, d.id);
  ASSERT_OK(dispatcher_->ProcessTask(due[0]));
  ASSERT_THAT(sender_.sent(), SizeIs(1));
  EXPECT_EQ(sender_.sent()[0].recipient, ada);
  // The re-created task carried no priority: the routing event's is used.
  EXPECT_EQ(sender_.sent()[0].priority, Priority::kHigh);
  EXPECT_EQ(StatusOf(n), NotificationStatus::kDelivered);
}

TEST_F(RecipientDispatchTest, TheEffectivePriorityReachesTheSenderAndBypassesQuietHours) {
  AddIntegration(Channel::kEmail, true, "mail");
  const std::string ada = AddUser("ada@example.com", {}, Quiet("UTC", 0, 23));
  clock_.Set(absl::FromCivil(absl::CivilMinute(2027, 1, 15, 12, 0), absl::UTCTimeZone()));
  AddRule({{"name", "page"},
           {"match", {{"type", "outage.*"}}},
           {"actions", {{"priority", {{"set", "critical"}}}}}});
  Notification n;
  n.type = "outage.db";
  n.priority = Priority::kLow;
  n.recipients = {ada};
  n = SubmitAndRoute(n);
  ASSERT_THAT(DeliveriesOf(n), SizeIs(1));
  EXPECT_EQ(DeliveriesOf(n)[0].status, DeliveryStatus::kPending);
  EXPECT_EQ(RunDue(Channel::kEmail), 1);
  ASSERT_THAT(sender_.sent(), SizeIs(1));
  EXPECT_EQ(sender_.sent()[0].priority, Priority::kCritical);
  EXPECT_EQ(store_->GetNotification(tenant_.id, n.id)->priority, Priority::kLow);  // as submitted
}

TEST_F(RecipientDispatchTest, ARecipientDeletedAfterRoutingFailsTheDeliveryWithAReason) {
  AddIntegration(Channel::kEmail, true, "mail");
  const std::string ada = AddUser("ada@example.com");
  Notification n;
  n.recipients = {ada};
  n = SubmitAndRoute(n);
  ASSERT_OK(store_->DeleteUser(tenant_.id, ada));
  EXPECT_EQ(RunDue(Channel::kEmail), 1);
  EXPECT_THAT(sender_.sent(), IsEmpty());
  Delivery d = DeliveriesOf(n)[0];
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_EQ(d.last_error, absl::StrCat("recipient ", ada, " no longer exists"));
}

// Issue 5's property: over generated rules, users, preferences and
// notifications, the dry run's deliveries (integration, recipient, held
// until) are exactly what routing stores.
TEST_F(RecipientDispatchTest, DryRunEqualsWhatRoutingStores) {
  const std::vector<Integration> integrations = {
      AddIntegration(Channel::kWebhook, true, "hook"),
      AddIntegration(Channel::kEmail, true, "mail"),
      AddIntegration(Channel::kSlack, false, "slack"),
      AddIntegration(Channel::kDiscord, false, "discord")};
  std::mt19937 rng(11);
  auto chance = [&](int percent) {
    return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
  };
  auto below = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const std::vector<std::string> zones = {"UTC", "Europe/Berlin", "America/New_York",
                                          "Australia/Lord_Howe"};
  std::vector<std::string> users;
  for (int i = 0; i < 6; ++i) {
    ChannelAddresses a;
    if (chance(50)) a.email = absl::StrCat("alt", i, "@example.com");
    if (chance(60)) a.slack_user_id = absl::StrCat("U", 100 + i);
    if (chance(60)) a.discord_user_id = absl::StrCat(8000 + i);
    Preferences p;
    if (chance(30)) p.opt_out_channels = {chance(50) ? Channel::kEmail : Channel::kSlack};
    if (chance(20)) p.opt_out_types = {"billing.*"};
    if (chance(40)) p.min_priority = static_cast<Priority>(1 + below(5));
    if (chance(70)) {
      const int start = below(24);
      const Preferences quiet =
          Quiet(zones[below(zones.size())], start, (start + 1 + below(23)) % 24);
      p.time_zone = quiet.time_zone;
      p.quiet_hours = quiet.quiet_hours;
      if (chance(50)) p.quiet_hours[0].days = {absl::Weekday::saturday, absl::Weekday::sunday};
    }
    users.push_back(AddUser(absl::StrCat("user", i, "@example.com"), a, p));
  }
  AddRule({{"name", "raise deploys"},
           {"position", 1},
           {"continue", true},
           {"match", {{"type", "deploy.*"}}},
           {"actions", {{"priority", {{"raise", 2}}}}}});
  AddRule({{"name", "page outages"},
           {"position", 2},
           {"continue", true},
           {"match", {{"type", "outage.*"}}},
           {"actions", {{"priority", {{"set", "critical"}}}, {"delay_s", 120}}}});
  AddRule({{"name", "chat for jobs"},
           {"position", 3},
           {"match", {{"type", "job.*"}}},
           {"actions", {{"route", {{"channels", {"slack", "discord", "email"}}}}}}});

  const std::vector<std::string> types = {"deploy.done", "outage.db", "job.failed",
                                          "billing.paid", "misc"};
  clock_.Set(absl::FromCivil(absl::CivilMinute(2026, 10, 30, 0, 0), absl::UTCTimeZone()));
  int held = 0, dropped = 0, suppressed = 0;
  for (int k = 0; k < 120; ++k) {
    clock_.Advance(absl::Minutes(17 + below(300)));  // across days and a DST change
    Notification n;
    n.type = types[below(types.size())];
    n.priority = static_cast<Priority>(1 + below(5));
    for (const std::string& u : users) {
      if (chance(40)) n.recipients.push_back(u);
    }
    if (chance(10)) n.recipients.push_back("ghost");
    if (chance(15)) n.scheduled_at = clock_.Now() + absl::Hours(below(12));
    n = Submit(n);
    ASSERT_OK_AND_ASSIGN(Notification stored, store_->GetNotification(tenant_.id, n.id));
    ASSERT_OK_AND_ASSIGN(RoutingPlan dry, rules_->DryRun(stored));
    ASSERT_OK(dispatcher_->Route(created_));
    std::vector<Delivery> ds = DeliveriesOf(n);
    ASSERT_EQ(Rows(dry), Rows(ds)) << "notification " << k << " " << RoutingPlanToJson(dry);
    EXPECT_EQ(StatusOf(n) == NotificationStatus::kSuppressed, ds.empty()) << k;
    ASSERT_OK_AND_ASSIGN(std::vector<CloudEvent> events, store_->ListEvents(tenant_.id, n.id));
    EXPECT_EQ(events.back().data.value("dropped_recipients", nlohmann::json::array()),
              DroppedRecipientsToJson(dry.dropped_recipients))
        << k;
    for (const Delivery& d : ds) held += d.status == DeliveryStatus::kHeld;
    dropped += static_cast<int>(dry.dropped_recipients.size());
    suppressed += ds.empty();
  }
  // The generator reaches every case.
  EXPECT_GT(held, 0);
  EXPECT_GT(dropped, 0);
  EXPECT_GT(suppressed, 0);
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
