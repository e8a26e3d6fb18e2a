#include "alerthub/delivery/dispatcher.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "alerthub/common/log.h"
#include "alerthub/common/status.h"
#include "alerthub/common/time.h"
#include "alerthub/common/uuid.h"
#include "alerthub/delivery/digest.h"
#include "alerthub/delivery/templates.h"
#include "alerthub/model/event.h"
#include "alerthub/pipeline/realtime.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

constexpr absl::string_view kSource = "/alerthub/delivery";
// What a delivery's event keeps of a provider's answer.
constexpr size_t kMaxEventResponse = 1024;

constexpr Channel kAllChannels[] = {Channel::kWebhook, Channel::kSlack, Channel::kDiscord,
                                    Channel::kEmail, Channel::kPush};

// Task payload: {"tenant_id", "delivery_id", "traceparent", "priority"};
// "priority" is the rules' effective priority when routing knew it.
std::string TaskPayload(const Delivery& d, absl::string_view traceparent,
                        std::optional<Priority> priority = std::nullopt) {
  nlohmann::json j = {{"tenant_id", d.tenant_id}, {"delivery_id", d.id}};
  if (!traceparent.empty()) j["traceparent"] = traceparent;
  if (priority.has_value()) j["priority"] = PriorityName(*priority);
  if (!d.digest_key.empty()) j["digest"] = true;  // --- Digests: see digest.h
  return j.dump();
}

struct TaskRef {
  std::string tenant_id;
  std::string delivery_id;
  std::string traceparent;
  std::optional<Priority> priority;
  bool digest = false;  // a digest member's task (digest.h)
};

std::optional<TaskRef> ParseTaskPayload(absl::string_view payload) {
  nlohmann::json j = nlohmann::json::parse(payload.begin(), payload.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto tenant = j.find("tenant_id");
  auto delivery = j.find("delivery_id");
  if (tenant == j.end() || !tenant->is_string() || delivery == j.end() ||
      !delivery->is_string()) {
    return std::nullopt;
  }
  TaskRef ref{tenant->get<std::string>(), delivery->get<std::string>(), "", std::nullopt, false};
  if (auto dg = j.find("digest"); dg != j.end() && dg->is_boolean()) ref.digest = dg->get<bool>();
  if (auto tp = j.find("traceparent"); tp != j.end() && tp->is_string()) {
    ref.traceparent = tp->get<std::string>();
  }
  if (auto p = j.find("priority"); p != j.end()) {
    absl::StatusOr<Priority> priority = ParsePriority(*p);
    if (priority.ok()) ref.priority = *priority;
  }
  return ref;
}

std::string Truncate(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

}  // namespace

std::string DeliveryQueue(Channel channel) {
  return absl::StrCat("integration.", ChannelName(channel), ".delivery");
}

// --- Dispatcher -----------------------------------------------------------------------

Dispatcher::Dispatcher(Store* store, TaskQueue* queue, Kv* kv, Catalog* catalog,
                       ChannelSender* sender, TargetResolver* resolver,
                       DispatcherOptions options)
    : store_(store),
      queue_(queue),
      kv_(kv),
      catalog_(catalog),
      sender_(sender),
      resolver_(resolver),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : Clock::Real()) {}

Dispatcher::~Dispatcher() {
  subscription_.reset();
  Stop();
}

absl::Status Dispatcher::SubscribeTo(EventLog* bus) {
  ALERTHUB_ASSIGN_OR_RETURN(
      subscription_,
      bus->SubscribeBatch(kTopicCreated, kRoutingGroup,
                          [this](absl::Span<const EventMessage> messages) {
                            return RouteBatch(messages);
                          }));
  return absl::OkStatus();
}

void Dispatcher::PublishUpdate(const Notification& n, const StatusTransition& t) {
  if (!t.changed() || kv_ == nullptr) return;
  StatusUpdate u;
  u.id = n.id;
  u.status = t.after;
  u.at = clock_->Now();
  u.notification_type = n.type;
  u.priority = n.priority;
  PublishStatusUpdate(kv_, n.tenant_id, u);
}

// One created event's routing, decided before the batch's transaction.
struct Dispatcher::PreparedRoute {
  size_t message = 0;  // its index in the batch
  Notification notification;
  std::string traceparent;
  // The rules' effective priority, carried by the tasks to the senders.
  std::optional<Priority> priority;
  // What to record while the notification is still accepted; unset for a
  // notification routed before (a replayed event).
  std::optional<RoutingWrite> write;
};

absl::Status Dispatcher::Route(const EventMessage& message) {
  return RouteBatch(absl::MakeConstSpan(&message, 1)).front();
}

absl::StatusOr<std::optional<Dispatcher::PreparedRoute>> Dispatcher::PrepareRoute(
    const EventMessage& message, absl::Time now) {
  nlohmann::json j = nlohmann::json::parse(message.payload, nullptr,
                                           /*allow_exceptions=*/false);
  absl::StatusOr<CloudEvent> event =
      j.is_discarded() ? absl::InvalidArgumentError("not JSON") : CloudEventFromJson(j);
  if (!event.ok() || event->subject.empty() || event->tenantid.empty()) {
    // A message that can never be routed must not block the topic.
    Log(LogLevel::kError, "routing: dropping a malformed created event",
        {{"key", message.key},
         {"error", event.ok() ? "no subject or tenantid" : event.status().ToString()}});
    return std::optional<PreparedRoute>();
  }
  absl::StatusOr<Notification> n = store_->GetNotification(event->tenantid, event->subject);
  if (absl::IsNotFound(n.status())) {
    Log(LogLevel::kWarning, "routing: the notification of a created event does not exist",
        {{"notification_id", event->subject}});
    return std::optional<PreparedRoute>();
  }
  ALERTHUB_RETURN_IF_ERROR(n.status());

  PreparedRoute route;
  route.traceparent = event->traceparent;
  std::optional<Priority>& priority = route.priority;
  if (n->status == NotificationStatus::kAccepted) {
    RoutingPlan plan;
    if (options_.planner) {
      ALERTHUB_ASSIGN_OR_RETURN(plan, options_.planner(*n));
      priority = plan.effective_priority;
    } else {
      ALERTHUB_ASSIGN_OR_RETURN(plan.decision, resolver_->Resolve(*n));
    }
    const TargetResolver::Decision& decision = plan.decision;
    // Due at the later of scheduled_at and the rules' not_before (which
    // already counts from scheduled_at); a past time is now.
    std::optional<absl::Time> due = n->scheduled_at;
    if (plan.not_before.has_value() && (!due.has_value() || *plan.not_before > *due)) {
      due = plan.not_before;
    }
    RoutingWrite w;
    w.tenant_id = n->tenant_id;
    w.notification_id = n->id;
    nlohmann::json targets = nlohmann::json::array();
    for (const TargetResolver::Target& t : decision.targets) {
      Delivery d;
      d.id = NewUuidV7(now);
      d.tenant_id = n->tenant_id;
      d.notification_id = n->id;
      d.integration_id = t.integration.id;
      d.channel = t.integration.channel;
      d.recipient = t.recipient;
      d.status = DeliveryStatus::kPending;
      if (due.has_value() && *due > now) d.next_attempt_at = *due;
      // The recipient's quiet hours (counted from `due`, so never earlier).
      if (t.held_until.has_value()) {
        d.status = DeliveryStatus::kHeld;
        d.next_attempt_at = *t.held_until;
      }
      d.created_at = now;
      d.updated_at = now;
      nlohmann::json target = {{"delivery_id", d.id},
                               {"integration_id", d.integration_id},
                               {"channel", std::string(ChannelName(d.channel))}};
      if (!d.recipient.empty()) target["recipient"] = d.recipient;
      if (t.held_until.has_value()) target["held_until"] = FormatRfc3339(*t.held_until);
      targets.push_back(std::move(target));
      w.deliveries.push_back(std::move(d));
    }
    nlohmann::json data = {{"deliveries", targets}};
    if (priority.has_value()) data["effective_priority"] = PriorityName(*priority);
    if (!plan.dropped_recipients.empty()) {
      data["dropped_recipients"] = DroppedRecipientsToJson(plan.dropped_recipients);
    }
    if (w.deliveries.empty()) {
      w.status = NotificationStatus::kSuppressed;
      data["status"] = "suppressed";
      data["reason"] = absl::StrCat("no target: ", decision.reason);
      if (plan.suppression.has_value()) data["rule_id"] = plan.suppression->rule_id;
    } else {
      data["status"] = "routed";
      if (due.has_value() && *due > now) data["not_before"] = FormatRfc3339(*due);
    }
    w.event = MakeNotificationEvent(*n, kEventRouted, kSource, now, std::move(data),
                                    event->traceparent);
    // --- Digests: the members are held until their group's flush (digest.h).
    if (plan.digest.has_value() && !w.deliveries.empty()) HoldForDigest(*plan.digest, &w);
    route.write = std::move(w);
  }
  route.notification = *std::move(n);
  return std::optional<PreparedRoute>(std::move(route));
}

std::vector<absl::Status> Dispatcher::RouteBatch(absl::Span<const EventMessage> messages) {
  std::vector<absl::Status> out(messages.size());
  const absl::Time now = clock_->Now();
  std::vector<PreparedRoute> routes;
  routes.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    absl::StatusOr<std::optional<PreparedRoute>> r = PrepareRoute(messages[i], now);
    if (!r.ok()) {
      out[i] = r.status();
    } else if (r->has_value()) {
      (*r)->message = i;
      routes.push_back(*std::move(*r));
    }
  }

  // First routings are recorded together, in one transaction; a notification
  // routed before (a replayed event) only has what is unfinished re-enqueued.
  std::vector<absl::StatusOr<RoutingOutcome>> outcomes(routes.size());
  std::vector<RoutingWrite> writes;
  std::vector<size_t> written;  // routes[written[k]] made writes[k]
  for (size_t j = 0; j < routes.size(); ++j) {
    if (routes[j].write.has_value()) {
      writes.push_back(*std::move(routes[j].write));
      written.push_back(j);
    } else {
      outcomes[j] = RoutedBefore(routes[j].notification);
    }
  }
  if (!writes.empty()) {
    absl::StatusOr<std::vector<absl::StatusOr<RoutingOutcome>>> recorded =
        store_->RecordRoutings(writes);
    if (absl::IsInvalidArgument(recorded.status()) && writes.size() > 1) {
      // One malformed write fails the whole transaction: record one by one,
      // so only that one is refused. (Any other failure is the store's: the
      // whole batch comes again.)
      recorded.emplace();
      for (const RoutingWrite& w : writes) recorded->push_back(store_->RecordRouting(w));
    }
    for (size_t k = 0; k < written.size(); ++k) {
      outcomes[written[k]] =
          recorded.ok() ? std::move((*recorded)[k]) : absl::StatusOr<RoutingOutcome>(recorded.status());
    }
  }

  std::vector<NewTask> tasks;
  std::vector<size_t> enqueued_by;  // messages that have tasks in `tasks`
  int ready[std::size(kAllChannels)] = {};
  for (size_t j = 0; j < routes.size(); ++j) {
    const PreparedRoute& route = routes[j];
    absl::StatusOr<RoutingOutcome>& outcome = outcomes[j];
    if (absl::IsNotFound(outcome.status())) {
      // Deleted (or erased) since it was read: nothing left to route.
      Log(LogLevel::kWarning, "routing: the notification of a created event is gone",
          {{"notification_id", route.notification.id}});
      continue;
    }
    if (!outcome.ok()) {
      out[route.message] = outcome.status();
      continue;
    }
    PublishUpdate(route.notification, outcome->notification);
    bool any = false;
    for (const Delivery& d : outcome->deliveries) {
      if (d.status != DeliveryStatus::kPending && d.status != DeliveryStatus::kHeld &&
          d.status != DeliveryStatus::kSending) {
        continue;
      }
      absl::Time at = now;
      if (d.next_attempt_at.has_value() && *d.next_attempt_at > now) at = *d.next_attempt_at;
      tasks.push_back(NewTask{DeliveryQueue(d.channel), d.id,
                              TaskPayload(d, route.traceparent, route.priority), at});
      if (at <= now) ++ready[static_cast<int>(d.channel) - 1];
      any = true;
    }
    if (any) enqueued_by.push_back(route.message);
  }
  if (tasks.empty()) return out;
  absl::Status enqueued = queue_->EnqueueMany(tasks);
  if (!enqueued.ok()) {
    // Every message whose tasks may be missing comes back; routing it again
    // only re-enqueues (idempotent).
    for (size_t i : enqueued_by) out[i] = enqueued;
    return out;
  }
  for (Channel c : kAllChannels) {
    if (ready[static_cast<int>(c) - 1] > 0) Wake(c, ready[static_cast<int>(c) - 1]);
  }
  return out;
}

absl::StatusOr<RoutingOutcome> Dispatcher::RoutedBefore(const Notification& n) {
  RoutingOutcome outcome;
  PageRequest page{.cursor = "", .limit = 500};
  while (true) {
    ALERTHUB_ASSIGN_OR_RETURN(
        Page<Delivery> p,
        store_->ListDeliveries(n.tenant_id,
                               DeliveryFilter{.status = std::nullopt, .notification_id = n.id},
                               page));
    for (Delivery& d : p.items) outcome.deliveries.push_back(std::move(d));
    if (!p.has_more || outcome.deliveries.empty()) break;
    page.cursor = outcome.deliveries.back().id;
  }
  return outcome;
}

void Dispatcher::Wake(Channel channel, int tasks) {
  absl::MutexLock lock(&wake_mu_);
  announced_[static_cast<int>(channel) - 1] += tasks;
}

absl::Status Dispatcher::RequeueUnfinished() {
  const absl::Time now = clock_->Now();
  PageRequest page{.cursor = "", .limit = 500};
  int64_t requeued = 0;
  while (true) {
    ALERTHUB_ASSIGN_OR_RETURN(Page<Delivery> p, store_->ListUnfinishedDeliveries(page));
    std::vector<NewTask> tasks;
    tasks.reserve(p.items.size());
    for (const Delivery& d : p.items) {
      absl::Time at = now;
      if (d.next_attempt_at.has_value() && *d.next_attempt_at > now) at = *d.next_attempt_at;
      tasks.push_back(NewTask{DeliveryQueue(d.channel), d.id, TaskPayload(d, ""), at});
    }
    ALERTHUB_RETURN_IF_ERROR(queue_->EnqueueMany(tasks));
    requeued += static_cast<int64_t>(tasks.size());
    if (!p.has_more || p.items.empty()) break;
    page.cursor = p.items.back().id;
  }
  if (requeued > 0) {
    Log(LogLevel::kInfo, "delivery: unfinished deliveries re-enqueued", {{"count", requeued}});
  }
  return absl::OkStatus();
}

absl::Status Dispatcher::Start() {
  {
    absl::MutexLock lock(&wake_mu_);
    if (!workers_.empty()) return absl::OkStatus();
    stopping_ = false;
  }
  ALERTHUB_RETURN_IF_ERROR(RequeueUnfinished());
  for (Channel c : kAllChannels) {
    for (int k = 0; k < options_.workers_per_channel; ++k) {
      workers_.emplace_back([this, c, k] { WorkerLoop(c, /*poller=*/k == 0); });
    }
  }
  return absl::OkStatus();
}

void Dispatcher::Stop() {
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_ = true;
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void Dispatcher::WorkerLoop(Channel channel, bool poller) {
  const std::string queue = DeliveryQueue(channel);
  const int slot = static_cast<int>(channel) - 1;
  absl::Duration backoff = absl::ZeroDuration();
  while (true) {
    {
      // Sleep until tasks are announced or a stop. One worker per channel
      // (the poller) also wakes every idle_poll, for due retries and work
      // other processes enqueued; the rest sleep until it recruits them.
      absl::MutexLock lock(&wake_mu_);
      auto woken = [this, slot]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(wake_mu_) {
        return stopping_ || announced_[slot] > 0;
      };
      const absl::Duration wait = backoff > absl::ZeroDuration() ? backoff
                                  : poller                       ? options_.idle_poll
                                                                 : absl::InfiniteDuration();
      wake_mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
      if (stopping_) return;
      // Take a batch's worth of the announcement; other workers take the rest.
      announced_[slot] -= std::min<int64_t>(announced_[slot], options_.lease_batch);
    }
    // Drain: lease until the queue has nothing ready.
    while (true) {
      absl::StatusOr<std::vector<Task>> tasks =
          queue_->Lease(queue, options_.lease_batch, options_.lease);
      if (!tasks.ok()) {
        Log(LogLevel::kWarning, "delivery worker: leasing failed; backing off",
            {{"queue", queue}, {"error", tasks.status().ToString()}});
        backoff = std::min(absl::Seconds(5), backoff * 2 + absl::Milliseconds(100));
        break;
      }
      backoff = absl::ZeroDuration();
      if (!tasks->empty()) {
        absl::Status s = ProcessTasks(*tasks);
        if (!s.ok()) {
          // Leases run out and unfinished tasks come back: nothing is lost.
          Log(LogLevel::kWarning, "delivery worker: a task failed; it will be retried",
              {{"queue", queue}, {"error", s.ToString()}});
        }
      }
      if (static_cast<int>(tasks->size()) < options_.lease_batch) break;
      // A full batch: there may be more; recruit another worker.
      absl::MutexLock lock(&wake_mu_);
      if (stopping_) return;
      announced_[slot] += options_.lease_batch;
    }
  }
}

// One claimed delivery's attempt, made and waiting to be recorded.
struct Dispatcher::Attempt {
  const Task* task = nullptr;
  Notification notification;  // for realtime updates (id, tenant, type, priority)
  AttemptWrite write;
  bool gone = false;  // 410: disable the integration
  std::string integration_id;
};

Dispatcher::Attempt Dispatcher::FailWithoutSending(const Task& task, const Delivery& d,
                                                   const Notification* n,
                                                   const std::string& reason) {
  Attempt a;
  a.task = &task;
  if (n != nullptr) {
    a.notification = *n;
  } else {
    a.notification.id = d.notification_id;
    a.notification.tenant_id = d.tenant_id;
  }
  a.write.tenant_id = d.tenant_id;
  a.write.delivery_id = d.id;
  a.write.status = DeliveryStatus::kFailed;
  a.write.last_error = reason;
  a.write.attempt_event = MakeNotificationEvent(
      a.notification, kEventDeliveryAttempt, kSource, clock_->Now(),
      {{"delivery_id", d.id},
       {"integration_id", d.integration_id},
       {"channel", std::string(ChannelName(d.channel))},
       {"attempt", d.attempts + 1},
       {"outcome", "permanent"},
       {"error", reason},
       {"dead_lettered", true}});
  return a;
}

absl::StatusOr<std::optional<Priority>> Dispatcher::RoutedPriority(const Delivery& d) {
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<CloudEvent> events,
                            store_->ListEvents(d.tenant_id, d.notification_id));
  for (const CloudEvent& e : events) {
    if (e.type != kEventRouted || !e.data.is_object()) continue;
    auto p = e.data.find("effective_priority");
    if (p == e.data.end()) break;
    absl::StatusOr<Priority> priority = ParsePriority(*p);
    if (priority.ok()) return std::optional<Priority>(*priority);
    break;
  }
  return std::optional<Priority>();
}

absl::StatusOr<Dispatcher::Attempt> Dispatcher::MakeAttempt(const Task& task,
                                                            const Delivery& d,
                                                            const std::string& traceparent,
                                                            std::optional<Priority> priority,
                                                            IntegrationCache* integrations) {
  absl::StatusOr<Notification> n = store_->GetNotification(d.tenant_id, d.notification_id);
  if (absl::IsNotFound(n.status())) {
    return FailWithoutSending(task, d, nullptr, "the notification no longer exists");
  }
  ALERTHUB_RETURN_IF_ERROR(n.status());
  // Templates ({{priority}}) and senders (FCM's android priority) see the
  // rules' effective priority. A task re-created from the store after a
  // restart does not carry it: the routing event does.
  if (!priority.has_value() && options_.planner) {
    ALERTHUB_ASSIGN_OR_RETURN(priority, RoutedPriority(d));
  }
  if (priority.has_value()) n->priority = *priority;

  // The batch's deliveries mostly share their integrations: each is read
  // and opened once per batch.
  auto [cached, first_use] =
      integrations->try_emplace(std::make_pair(d.tenant_id, d.integration_id),
                                absl::UnknownError("not read"));
  absl::StatusOr<Integration>& integration = cached->second;
  if (first_use) {
    absl::StatusOr<Integration> sealed = store_->GetIntegration(d.tenant_id, d.integration_id);
    if (absl::IsNotFound(sealed.status())) {
      integration = absl::NotFoundError(absl::StrCat("integration ", d.integration_id,
                                                     " was deleted"));
    } else if (!sealed.ok()) {
      integrations->erase(cached);  // a store error: the next delivery asks again
      return sealed.status();
    } else if (!sealed->enabled) {
      integration = absl::FailedPreconditionError(
          absl::StrCat("integration ", d.integration_id, " is disabled"));
    } else {
      integration = catalog_->OpenIntegration(*std::move(sealed));
    }
  }
  if (!integration.ok()) {
    return FailWithoutSending(task, d, &*n, std::string(integration.status().message()));
  }

  // A delivery to one recipient goes to the address they have now (read
  // here, not copied into the delivery at routing).
  std::optional<User> recipient;
  if (!d.recipient.empty()) {
    ALERTHUB_ASSIGN_OR_RETURN(std::vector<Recipient> found,
                              store_->GetRecipients(d.tenant_id, {d.recipient}));
    if (found.empty()) {
      return FailWithoutSending(task, d, &*n,
                                absl::StrCat("recipient ", d.recipient, " no longer exists"));
    }
    recipient = std::move(found.front().user);
  }

  std::optional<Template> tmpl;
  if (!n->template_name.empty()) {
    absl::StatusOr<Template> t = store_->FindTemplate(d.tenant_id, n->template_name, d.channel);
    if (absl::IsNotFound(t.status())) {
      return FailWithoutSending(task, d, &*n,
                                absl::StrCat("template \"", n->template_name, "\" has no ",
                                             ChannelName(d.channel), " version"));
    }
    ALERTHUB_RETURN_IF_ERROR(t.status());
    tmpl = *std::move(t);
  }
  absl::StatusOr<RenderedMessage> message =
      RenderForChannel(d.channel, tmpl.has_value() ? &*tmpl : nullptr, *n);
  if (!message.ok()) {
    std::string reason = absl::StrCat("template failed to render: ", message.status().message());
    for (const FieldError& e : FieldErrorsOf(message.status())) {
      absl::StrAppend(&reason, "; ", e.field, ": ", e.message);
    }
    return FailWithoutSending(task, d, &*n, reason);
  }

  const int attempt = d.attempts + 1;
  SendAttempt send{.integration = &*integration,
                   .delivery = &d,
                   .notification = &*n,
                   .message = &*message,
                   .attempt = attempt,
                   .traceparent = traceparent,
                   .recipient = recipient.has_value() ? &*recipient : nullptr};
  SendResult result = sender_->Send(send);
  if (options_.on_attempt) options_.on_attempt(d.channel, result);

  const absl::Time now = clock_->Now();
  // The integration's own schedule when it has one (checked when saved).
  RetryPolicy policy = options_.retry;
  if (!integration->retry.is_null()) {
    absl::StatusOr<RetryPolicy> own = RetryPolicyFromJson(integration->retry);
    if (own.ok()) policy = *std::move(own);
  }
  RetryDecision decision;
  {
    absl::MutexLock lock(&rng_mu_);
    decision = NextAttempt(policy, attempt, result.outcome, result.retry_after, now, rng_);
  }
  Attempt a;
  a.task = &task;
  a.gone = result.outcome == AttemptOutcome::kGone;
  a.integration_id = d.integration_id;
  AttemptWrite& w = a.write;
  w.tenant_id = d.tenant_id;
  w.delivery_id = d.id;
  if (result.outcome == AttemptOutcome::kSuccess) {
    w.status = DeliveryStatus::kDelivered;
  } else if (decision.retry) {
    w.status = DeliveryStatus::kPending;
    w.next_attempt_at = decision.next_attempt_at;
    w.last_error = result.error;
  } else {
    w.status = DeliveryStatus::kFailed;
    w.last_error = result.error;
  }
  nlohmann::json data = {{"delivery_id", d.id},
                         {"integration_id", d.integration_id},
                         {"channel", std::string(ChannelName(d.channel))},
                         {"attempt", attempt},
                         {"outcome", std::string(AttemptOutcomeName(result.outcome))},
                         {"latency_ms", absl::ToDoubleMilliseconds(result.latency)}};
  if (result.code != 0) data["code"] = result.code;
  if (!result.error.empty()) data["error"] = result.error;
  if (!result.response.empty()) {
    data["response"] = Truncate(result.response, kMaxEventResponse);
  }
  if (!result.targets.empty()) {
    nlohmann::json targets = nlohmann::json::array();
    for (const TargetResult& t : result.targets) {
      nlohmann::json tj = {{"target", t.target},
                           {"outcome", std::string(AttemptOutcomeName(t.outcome))}};
      if (t.code != 0) tj["code"] = t.code;
      if (!t.error.empty()) tj["error"] = t.error;
      targets.push_back(std::move(tj));
    }
    data["targets"] = std::move(targets);
  }
  if (w.status == DeliveryStatus::kPending) {
    data["next_attempt_at"] = FormatRfc3339(*w.next_attempt_at);
  }
  if (w.status == DeliveryStatus::kFailed) {
    data["dead_lettered"] = true;
    data["reason"] = decision.reason;
  }
  w.attempt_event =
      MakeNotificationEvent(*n, kEventDeliveryAttempt, kSource, now, std::move(data), traceparent);
  a.notification = *std::move(n);
  return a;
}

absl::Status Dispatcher::ProcessTask(const Task& task) {
  return ProcessTasks(absl::MakeConstSpan(&task, 1));
}

absl::Status Dispatcher::ProcessTasks(absl::Span<const Task> tasks) {
  std::vector<TaskSettlement> settlements;
  absl::Status status = RunTasks(tasks, &settlements);
  for (absl::Status& s : queue_->Settle(settlements)) status.Update(std::move(s));
  return status;
}

absl::Status Dispatcher::RunTasks(absl::Span<const Task> tasks,
                                  std::vector<TaskSettlement>* settlements) {
  absl::Status status;  // the first error; the other tasks still run
  auto note = [&status](absl::Status s) { status.Update(std::move(s)); };
  auto ack = [settlements](const Task& task) {
    TaskSettlement s;
    s.task = &task;
    settlements->push_back(std::move(s));
  };
  auto retry = [settlements](const Task& task, absl::Time at, std::string error) {
    settlements->push_back({.task = &task, .kind = TaskSettlement::Kind::kRetry,
                            .available_at = at, .error = std::move(error)});
  };
  auto dead_letter = [settlements](const Task& task, std::string reason) {
    settlements->push_back({.task = &task,
                            .kind = TaskSettlement::Kind::kDeadLetter,
                            .available_at = absl::InfinitePast(),
                            .error = std::move(reason)});
  };

  // 1. Which deliveries the tasks name.
  std::vector<const Task*> named;
  std::vector<TaskRef> refs_of;
  std::vector<DeliveryRef> refs;
  std::optional<DigestFlusher> digests;  // made for the first digest task
  for (const Task& task : tasks) {
    std::optional<TaskRef> ref = ParseTaskPayload(task.payload);
    if (!ref.has_value()) {
      dead_letter(task, "malformed delivery task payload");
      continue;
    }
    if (ref->digest) {
      // --- Digests: the member's task sends its whole group (digest.h).
      if (!digests.has_value()) {
        digests.emplace(DigestFlusherDeps{
            .store = store_, .queue = queue_, .catalog = catalog_, .sender = sender_,
            .clock = clock_, .retry = options_.retry, .lease = options_.lease,
            .on_attempt = options_.on_attempt,
            .publish = [this](const Notification& n, const StatusTransition& t) {
              PublishUpdate(n, t);
            }});
      }
      note(digests->ProcessTask(task, ref->tenant_id, ref->delivery_id, ref->traceparent));
      continue;
    }
    named.push_back(&task);
    refs.push_back({ref->tenant_id, ref->delivery_id});
    refs_of.push_back(*std::move(ref));
  }
  if (named.empty()) return status;

  // 2. Claim them together (one transaction).
  const absl::Time lease_ends = clock_->Now() + options_.lease;  // no later than the claims'
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<absl::StatusOr<DeliveryClaim>> claims,
                            store_->ClaimDeliveries(refs, options_.lease));

  // 3. Attempt the claimed ones.
  IntegrationCache integrations;
  std::vector<Attempt> attempts;
  attempts.reserve(named.size());
  for (size_t i = 0; i < named.size(); ++i) {
    const Task& task = *named[i];
    if (!claims[i].ok()) {  // the delivery is gone: nothing to do
      ack(task);
      continue;
    }
    const DeliveryClaim& claim = *claims[i];
    switch (claim.result) {
      case DeliveryClaim::Result::kFinished:
        // A duplicate task, or the redelivery of one whose outcome was
        // recorded but whose ack or dead-lettering was lost (the lease ended,
        // the worker died). A dead delivery must still reach the
        // dead-letter queue: at least once there too.
        if (claim.delivery.status == DeliveryStatus::kFailed) {
          dead_letter(task, claim.delivery.last_error);
        } else {
          ack(task);
        }
        continue;
      case DeliveryClaim::Result::kBusy:
        retry(task, clock_->Now() + options_.lease, "delivery is being sent");
        continue;
      case DeliveryClaim::Result::kNotDue:
        retry(task, *claim.delivery.next_attempt_at, "not due yet");
        continue;
      case DeliveryClaim::Result::kClaimed:
        break;
    }
    if (clock_->Now() + options_.send_budget > lease_ends) {
      // Earlier sends of the batch were slow: this one could outlast the
      // claim. Its task comes back when the claim's lease has ended.
      if (claim.notification.changed()) {
        absl::StatusOr<Notification> n =
            store_->GetNotification(claim.delivery.tenant_id, claim.delivery.notification_id);
        if (n.ok()) PublishUpdate(*n, claim.notification);
      }
      retry(task, lease_ends + absl::Seconds(1), "the batch's lease ran short; not sent");
      continue;
    }
    absl::StatusOr<Attempt> a =
        MakeAttempt(task, claim.delivery, refs_of[i].traceparent, refs_of[i].priority,
                    &integrations);
    if (!a.ok()) {
      // The store failed; the claim's lease runs out and the task comes back.
      note(a.status());
      continue;
    }
    PublishUpdate(a->notification, claim.notification);
    attempts.push_back(*std::move(a));
  }
  if (attempts.empty()) return status;

  // 4. Record every attempt together (one transaction, one fsync).
  std::vector<AttemptWrite> writes;
  writes.reserve(attempts.size());
  for (const Attempt& a : attempts) writes.push_back(a.write);
  ALERTHUB_ASSIGN_OR_RETURN(std::vector<absl::StatusOr<AttemptOutcomeRecord>> records,
                            store_->RecordAttempts(writes));

  // 5. Announce, then finish each task.
  for (size_t i = 0; i < attempts.size(); ++i) {
    const Attempt& a = attempts[i];
    const Task& task = *a.task;
    if (!records[i].ok()) {
      // Claimed by another worker after our lease ran out, which recorded
      // its own attempt: this task is a duplicate.
      Log(LogLevel::kWarning, "delivery: attempt not recorded",
          {{"delivery_id", a.write.delivery_id}, {"error", records[i].status().ToString()}});
      ack(task);
      continue;
    }
    PublishUpdate(a.notification, records[i]->notification);
    if (a.gone) {
      absl::Status s = catalog_->DisableIntegration(a.write.tenant_id, a.integration_id);
      Log(LogLevel::kWarning, "integration disabled: its endpoint answered 410 Gone",
          {{"integration_id", a.integration_id},
           {"tenant_id", a.write.tenant_id},
           {"disable_status", s.ToString()}});
    }
    switch (a.write.status) {
      case DeliveryStatus::kDelivered:
        ack(task);
        break;
      case DeliveryStatus::kPending:
        retry(task, *a.write.next_attempt_at, a.write.last_error);
        break;
      default:
        dead_letter(task, a.write.last_error);
        break;
    }
  }
  return status;
}

absl::StatusOr<Delivery> Dispatcher::Replay(absl::string_view tenant_id,
                                            absl::string_view delivery_id) {
  ALERTHUB_ASSIGN_OR_RETURN(Delivery d, store_->GetDelivery(tenant_id, delivery_id));
  ALERTHUB_ASSIGN_OR_RETURN(Notification n, store_->GetNotification(tenant_id, d.notification_id));
  const absl::Time now = clock_->Now();
  CloudEvent e = MakeNotificationEvent(n, kEventDeliveryAttempt, "/alerthub/api", now,
                                       {{"delivery_id", d.id},
                                        {"integration_id", d.integration_id},
                                        {"channel", std::string(ChannelName(d.channel))},
                                        {"replayed", true}});
  ALERTHUB_ASSIGN_OR_RETURN(AttemptOutcomeRecord rec, store_->ReplayDelivery(tenant_id, d.id, e));
  PublishUpdate(n, rec.notification);
  const std::string queue = DeliveryQueue(d.channel);
  // The dead task comes back; when the queue no longer has it, a new one.
  absl::Status s = queue_->Replay(queue, d.id);
  if (absl::IsNotFound(s) || absl::IsFailedPrecondition(s)) {
    s = queue_->Enqueue(queue, d.id, TaskPayload(rec.delivery, ""), now);
  }
  ALERTHUB_RETURN_IF_ERROR(s);
  Wake(d.channel, 1);
  return rec.delivery;
}

absl::StatusOr<TestSendResult> Dispatcher::TestIntegration(absl::string_view tenant_id,
                                                          absl::string_view integration_id) {
  ALERTHUB_ASSIGN_OR_RETURN(Integration sealed,
                            store_->GetIntegration(tenant_id, integration_id));
  ALERTHUB_ASSIGN_OR_RETURN(Integration integration,
                            catalog_->OpenIntegration(std::move(sealed)));
  const absl::Time now = clock_->Now();
  Notification n;
  n.id = NewUuidV7(now);
  n.tenant_id = std::string(tenant_id);
  n.type = "alerthub.test";
  n.title = "Test notification from AlertHub";
  n.body = absl::StrCat("This is a test message for the integration \"", integration.name,
                        "\". If you can read it, the integration works.");
  n.priority = Priority::kNormal;
  n.status = NotificationStatus::kDelivering;
  n.created_at = now;
  n.updated_at = now;
  Delivery d;
  d.id = NewUuidV7(now);
  d.tenant_id = n.tenant_id;
  d.notification_id = n.id;
  d.integration_id = integration.id;
  d.channel = integration.channel;
  ALERTHUB_ASSIGN_OR_RETURN(RenderedMessage message, RenderForChannel(d.channel, nullptr, n));
  TestSendResult out;
  out.send = sender_->Send({.integration = &integration,
                            .delivery = &d,
                            .notification = &n,
                            .message = &message,
                            .attempt = 1,
                            .traceparent = ""});
  return out;
}

}  // namespace alerthub
