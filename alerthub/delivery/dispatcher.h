// Dispatcher: ARCHITECTURE §3 steps 3-4 — routing each accepted notification
// to its deliveries, and the workers that send them with retries.
//
// Routing (Route, the handler of `alerthub.notifications.created`, consumer
// group "alerthub-integrations"): a TargetResolver picks the integrations
// (the seam the rules engine plugs into) -- or, with
// DispatcherOptions::planner, the rules engine's whole RoutingPlan does, so
// a rule's delay holds the deliveries and a suppressing rule is named in
// the routing event, a recipient's quiet hours create their delivery held
// (kHeld, due when the window ends; a restart re-enqueues it at that time)
// and the plan's effective priority is what templates and senders see; one
// Delivery per (notification, integration, recipient) is written with the
// routing event in one transaction, then each unfinished delivery is
// enqueued on `integration.<channel>.delivery` (TaskQueue ids are delivery ids, so
// enqueueing twice is harmless). The bus hands over created events in batches
// (EventLog::SubscribeBatch): a batch's routings commit in one transaction and
// its tasks are enqueued in one call. A replayed event routes nothing twice: a
// notification already routed only has its unfinished deliveries re-enqueued.
//
// Delivery (the workers, `workers_per_channel` threads per channel): lease a
// task -> claim the delivery (a conditional update with a lease; a duplicate
// task for a claimed or finished delivery is dropped) -> render its template
// -> send -> record the attempt (event, delivery state and the notification's
// aggregate status in one transaction) -> ack, reschedule or dead-letter the
// task. Every status change is published to realtime subscribers.
//
// The only duplicate send left is a crash between the provider's answer and
// the record: at-least-once, with the same webhook-id.
//
// Thread-safe.
#ifndef ALERTHUB_DELIVERY_DISPATCHER_H_
#define ALERTHUB_DELIVERY_DISPATCHER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/delivery/catalog.h"
#include "alerthub/delivery/channels/channel_sender.h"
#include "alerthub/delivery/retry_policy.h"
#include "alerthub/delivery/target_resolver.h"
#include "alerthub/model/delivery.h"
#include "alerthub/model/integration.h"
#include "alerthub/model/notification.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/event_log.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ports/store.h"
#include "alerthub/ports/task_queue.h"
#include "alerthub/rules/rules_resolver.h"

namespace alerthub {

// The consumer group that routes created notifications.
inline constexpr absl::string_view kRoutingGroup = "alerthub-integrations";

// The TaskQueue queue of `channel`: "integration.<channel>.delivery".
std::string DeliveryQueue(Channel channel);

struct DispatcherOptions {
  // Concurrent sends per channel.
  int workers_per_channel = 4;
  // Tasks one worker leases at a time (then sends one by one).
  int lease_batch = 32;
  // How long a worker owns a task and its delivery (the whole leased batch,
  // sent one by one); longer than send_budget.
  absl::Duration lease = absl::Seconds(60);
  // The longest one send may take (the senders' 15 s timeout, and a
  // margin). A claimed delivery is sent only while its lease has this much
  // left, so a live worker never sends one whose lease another worker may
  // have taken over; the rest of a slow batch comes back when its lease ends.
  absl::Duration send_budget = absl::Seconds(20);
  // How often one idle worker per channel looks for due retries and work
  // other processes enqueued (work routed here wakes workers at once).
  absl::Duration idle_poll = absl::Milliseconds(500);
  // The retry schedule.
  RetryPolicy retry;
  // Routing by the tenant's rules (RulesTargetResolver::Plan): when set, it
  // decides instead of the TargetResolver, and its plan's `not_before` (a
  // rule's delay, after `scheduled_at`) holds the deliveries -- they are
  // created pending, due then, so the hold survives restarts --, a target's
  // `held_until` (the recipient's quiet hours) creates its delivery held
  // until then, its `effective_priority` is what templates and senders see
  // (carried by the task, and recorded in the routing event), and its
  // `suppression` names the rule in the routing event. Must be thread-safe.
  // Null: the TargetResolver's targets, due at `scheduled_at` or now.
  std::function<absl::StatusOr<RoutingPlan>(const Notification& n)> planner;
  // Source of time. Null: Clock::Real().
  Clock* clock = nullptr;
  // Called after every attempt that reached a sender, with how it ended
  // (metrics). Must be thread-safe and quick.
  std::function<void(Channel channel, const SendResult& result)> on_attempt;
};

// What POST /api/v1/integrations/{id}/test reports.
struct TestSendResult {
  SendResult send;
  int attempt = 1;
};

class Dispatcher {
 public:
  // Every pointer must outlive the dispatcher. `kv` carries realtime updates.
  Dispatcher(Store* store, TaskQueue* queue, Kv* kv, Catalog* catalog,
             ChannelSender* sender, TargetResolver* resolver, DispatcherOptions options);
  ~Dispatcher();  // Stop()s

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Subscribes Route to `alerthub.notifications.created` on `bus`, as group
  // kRoutingGroup. Call before the outbox relay starts.
  absl::Status SubscribeTo(EventLog* bus);

  // Routes the notification a `created` event names. OK when done or when
  // there is nothing to do (unknown notification); an error has the bus
  // deliver the event again.
  absl::Status Route(const EventMessage& message);
  // Route for several events: their routings are recorded in one
  // transaction and their tasks enqueued in one call. One status per
  // message, in order.
  std::vector<absl::Status> RouteBatch(absl::Span<const EventMessage> messages);

  // Re-enqueues every unfinished delivery (a restart's recovery: tasks whose
  // enqueue a crash undid come back), then starts the workers. Idempotent.
  absl::Status Start();
  // Stops the workers after their current send. Idempotent.
  void Stop();

  // Runs leased tasks to their end: claims their deliveries in one
  // transaction, sends each, and records every attempt in one transaction
  // (the workers' step; tests call it directly). Returns the first error; a
  // task it could not finish comes back when its lease ends.
  // The tasks' acks, retries and dead-letterings are settled together at the
  // end (TaskQueue::Settle).
  absl::Status ProcessTasks(absl::Span<const Task> tasks);
  absl::Status ProcessTask(const Task& task);

  // Puts a dead-lettered delivery back on its queue with a fresh schedule.
  // kFailedPrecondition when it is not failed.
  absl::StatusOr<Delivery> Replay(absl::string_view tenant_id, absl::string_view delivery_id);

  // Sends a test message through the tenant's integration now, outside any
  // notification, and reports how it went. Nothing is stored.
  absl::StatusOr<TestSendResult> TestIntegration(absl::string_view tenant_id,
                                                 absl::string_view integration_id);

 private:
  struct Attempt;  // one claimed delivery's attempt, waiting to be recorded
  struct PreparedRoute;  // one event's routing, waiting to be recorded

  // Reads the notification a created event names and decides its routing.
  // Unset when there is nothing to do (malformed event, unknown notification).
  absl::StatusOr<std::optional<PreparedRoute>> PrepareRoute(const EventMessage& message,
                                                            absl::Time now);
  // The deliveries of a notification routed before.
  absl::StatusOr<RoutingOutcome> RoutedBefore(const Notification& n);

  void WorkerLoop(Channel channel, bool poller);
  // ProcessTasks' work: how each task is to end goes to `settlements`.
  absl::Status RunTasks(absl::Span<const Task> tasks, std::vector<TaskSettlement>* settlements);
  // Tells `channel`'s idle workers that `tasks` more are ready.
  void Wake(Channel channel, int tasks);
  absl::Status RequeueUnfinished();
  // Opened integrations of one batch by (tenant id, integration id), or why
  // one cannot be used (deleted, disabled, unreadable secrets).
  using IntegrationCache =
      std::map<std::pair<std::string, std::string>, absl::StatusOr<Integration>>;
  // Loads what a claimed delivery needs (its recipient's addresses too; its
  // integration through `integrations`), renders and sends it, with
  // `priority` (the rules' effective priority from the task; unset: from
  // the routing event, else the notification's).
  absl::StatusOr<Attempt> MakeAttempt(const Task& task, const Delivery& d,
                                      const std::string& traceparent,
                                      std::optional<Priority> priority,
                                      IntegrationCache* integrations);
  // The effective priority the routing event of d's notification recorded.
  absl::StatusOr<std::optional<Priority>> RoutedPriority(const Delivery& d);
  // A permanent failure that needs no send (integration gone, template
  // broken): recorded failed, the task dead-lettered.
  Attempt FailWithoutSending(const Task& task, const Delivery& d, const Notification* n,
                             const std::string& reason);
  void PublishUpdate(const Notification& n, const StatusTransition& t);

  Store* const store_;
  TaskQueue* const queue_;
  Kv* const kv_;
  Catalog* const catalog_;
  ChannelSender* const sender_;
  TargetResolver* const resolver_;
  const DispatcherOptions options_;
  Clock* const clock_;

  absl::Mutex rng_mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(rng_mu_);

  absl::Mutex wake_mu_;
  // Per channel: tasks announced and not yet taken by a worker's lease.
  int64_t announced_[5] ABSL_GUARDED_BY(wake_mu_) = {};
  bool stopping_ ABSL_GUARDED_BY(wake_mu_) = false;
  std::vector<std::thread> workers_;
  std::unique_ptr<Subscription> subscription_;
};

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_DISPATCHER_H_
