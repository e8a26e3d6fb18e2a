#include "alerthub/adapters/rabbitmq/rabbitmq_task_queue.h"

#include <amqp.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/rabbitmq/internal/connection.h"
#include "alerthub/adapters/rabbitmq/internal/topology.h"
#include "alerthub/common/status.h"

namespace alerthub {
namespace {

using rabbitmq_internal::Connection;
using rabbitmq_internal::ConnectionConfig;
using rabbitmq_internal::DeadQueueName;
using rabbitmq_internal::DelayLevelFor;
using rabbitmq_internal::DelayOfLevel;
using rabbitmq_internal::DelayQueueName;
using rabbitmq_internal::Delivery;
using rabbitmq_internal::kBrowseChannel;
using rabbitmq_internal::kDeadExchange;
using rabbitmq_internal::kDelayLevels;
using rabbitmq_internal::kWorkChannel;
using rabbitmq_internal::QueueArgument;
using rabbitmq_internal::TaskMessage;
using rabbitmq_internal::ValidateQueueName;

// How often idle connections are polled (heartbeats, broker-side closes)
// and expired leases released without a caller.
constexpr absl::Duration kMaintenanceInterval = absl::Seconds(1);

class AmqpTaskQueue final : public TaskQueue {
 public:
  explicit AmqpTaskQueue(const AmqpTaskQueueOptions& options)
      : options_(options), clock_(options.clock != nullptr ? options.clock : Clock::Real()) {
    ConnectionConfig config;
    config.host = options.host;
    config.port = options.port;
    config.user = options.user;
    config.password = options.password;
    config.vhost = options.vhost;
    config.connect_timeout = options.connect_timeout;
    config.command_timeout = options.command_timeout;
    config.heartbeat = options.heartbeat;
    config.max_backoff = options.max_backoff;
    for (int i = 0; i < options.connections; ++i) {
      connections_.push_back(std::make_unique<Connection>(config));
    }
    maintenance_ = std::thread([this] { Maintain(); });
  }

  ~AmqpTaskQueue() override {
    {
      absl::MutexLock lock(&stop_mu_);
      stop_ = true;
    }
    maintenance_.join();
    // Closing the connections returns every unacknowledged lease to its
    // queue (the broker does it).
  }

  absl::Status Enqueue(absl::string_view queue, absl::string_view id, absl::string_view payload,
                       absl::Time available_at) override {
    ALERTHUB_RETURN_IF_ERROR(ValidateQueueName(queue));
    if (id.empty()) return absl::InvalidArgumentError("TaskQueue::Enqueue: empty task id");
    Connection& c = Pick();
    absl::MutexLock lock(&c.mu());
    ALERTHUB_RETURN_IF_ERROR(EnsureTopology(c, queue));
    TaskMessage m;
    m.queue = std::string(queue);
    m.id = std::string(id);
    m.payload = std::string(payload);
    m.available_at = available_at;
    return PublishTask(c, m);
  }

  // Publishes them all on one connection and awaits their confirms
  // together; an unroutable one is published again on its own (PublishTo).
  absl::Status EnqueueMany(absl::Span<const NewTask> tasks) override {
    for (size_t i = 0; i < tasks.size(); ++i) {
      ALERTHUB_RETURN_IF_ERROR(ValidateQueueName(tasks[i].queue));
      if (tasks[i].id.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("TaskQueue::EnqueueMany: tasks[", i, "].id is empty"));
      }
    }
    if (tasks.empty()) return absl::OkStatus();
    Connection& c = Pick();
    absl::MutexLock lock(&c.mu());
    std::vector<TaskMessage> messages(tasks.size());
    std::vector<std::string> routing_keys(tasks.size());
    std::vector<Connection::Publication> publications(tasks.size());
    const absl::Time now = clock_->Now();
    for (size_t i = 0; i < tasks.size(); ++i) {
      ALERTHUB_RETURN_IF_ERROR(EnsureTopology(c, tasks[i].queue));
      TaskMessage& m = messages[i];
      m.queue = tasks[i].queue;
      m.id = tasks[i].id;
      m.payload = tasks[i].payload;
      m.available_at = tasks[i].available_at;
      const int level = DelayLevelFor(m.available_at - now);
      routing_keys[i] = level < 0 ? m.queue : DelayQueueName(m.queue, level);
      publications[i] = {"", routing_keys[i], &m};
    }
    std::vector<absl::Status> published = c.PublishMany(publications);
    for (size_t i = 0; i < tasks.size(); ++i) {
      absl::Status s = std::move(published[i]);
      if (absl::IsFailedPrecondition(s)) s = PublishTo(c, "", routing_keys[i], messages[i]);
      ALERTHUB_RETURN_IF_ERROR(s);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<Task>> Lease(absl::string_view queue, int max,
                                          absl::Duration lease) override {
    ALERTHUB_RETURN_IF_ERROR(ValidateQueueName(queue));
    if (max <= 0) return absl::InvalidArgumentError("TaskQueue::Lease: max must be positive");
    if (lease <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("TaskQueue::Lease: lease must be positive");
    }
    ReleaseExpired();
    {
      absl::MutexLock lock(&leases_mu_);
      max = std::min<int64_t>(max, options_.max_leases - static_cast<int64_t>(leases_.size()));
    }
    std::vector<Task> tasks;
    if (max <= 0) return tasks;  // at the bound: finish some first

    const size_t index = PickIndex();
    Connection& c = *connections_[index];
    absl::MutexLock lock(&c.mu());
    ALERTHUB_RETURN_IF_ERROR(EnsureTopology(c, queue));
    ALERTHUB_RETURN_IF_ERROR(c.EnsureOpen());  // receipts name this channel's generation
    const absl::Time now = clock_->Now();
    const uint64_t generation = c.generation();
    std::vector<std::string> receipts;
    absl::Status failure;
    // Early arrivals are passed on to a delay queue without counting; the
    // budget keeps one call from spinning on them.
    for (int budget = max + 64; static_cast<int>(tasks.size()) < max && budget > 0; --budget) {
      absl::StatusOr<std::optional<Delivery>> d = c.Get(kWorkChannel, queue);
      if (!d.ok()) {
        failure = d.status();
        break;
      }
      if (!d->has_value()) break;
      Delivery& delivery = **d;
      TaskMessage& m = delivery.message;
      if (m.queue.empty()) m.queue = std::string(queue);  // not published by AlertHub
      if (m.available_at > now) {
        absl::Status s = PublishTask(c, m);
        if (s.ok()) {
          s = c.Ack(kWorkChannel, delivery.tag);
        } else if (c.generation() == generation) {
          (void)c.Requeue(kWorkChannel, delivery.tag);
        }
        if (!s.ok()) {
          failure = s;
          break;
        }
        continue;
      }
      // Redelivered by the broker: a consumer took it and went away without
      // acknowledging it — that lease counts.
      if (delivery.redelivered) ++m.attempts;
      const std::string receipt = absl::StrCat("amqp/", index, "/", generation, "/", delivery.tag);
      tasks.push_back(Task{.queue = m.queue,
                           .id = m.id,
                           .payload = m.payload,
                           .attempts = m.attempts,
                           .available_at = m.available_at,
                           .last_error = m.last_error,
                           .receipt = receipt});
      absl::MutexLock leases(&leases_mu_);
      leases_[receipt] = LeaseRecord{index, generation, delivery.tag, now + lease, std::move(m)};
      receipts.push_back(receipt);
    }
    if (!failure.ok()) {
      if (c.generation() != generation) {
        // The channel went, and the leases taken so far with it (the broker
        // has them back).
        absl::MutexLock leases(&leases_mu_);
        for (const std::string& r : receipts) leases_.erase(r);
        return failure;
      }
      if (tasks.empty()) return failure;
    }
    return tasks;
  }

  absl::Status Ack(const Task& task) override {
    return WithLease(
        task, [&](Connection& c, const LeaseRecord& rec) { return c.Ack(kWorkChannel, rec.tag); });
  }

  absl::Status Retry(const Task& task, absl::Time available_at, absl::string_view error) override {
    return WithLease(task, [&](Connection& c, const LeaseRecord& rec) -> absl::Status {
      TaskMessage copy = rec.message;
      ++copy.attempts;
      copy.available_at = available_at;
      copy.last_error = std::string(error);
      ALERTHUB_RETURN_IF_ERROR(PublishTask(c, copy));
      // Should this ack fail, the broker delivers the original again: a
      // duplicate, which the worker's claim in the store absorbs.
      (void)c.Ack(kWorkChannel, rec.tag);
      return absl::OkStatus();
    });
  }

  absl::Status DeadLetter(const Task& task, absl::string_view reason) override {
    return WithLease(task, [&](Connection& c, const LeaseRecord& rec) -> absl::Status {
      TaskMessage copy = rec.message;
      ++copy.attempts;
      copy.last_error = std::string(reason);
      copy.dead_at = clock_->Now();
      ALERTHUB_RETURN_IF_ERROR(PublishTo(c, kDeadExchange, copy.queue, copy));
      (void)c.Ack(kWorkChannel, rec.tag);
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<Task>> ListDead(absl::string_view queue, int limit) override {
    ALERTHUB_RETURN_IF_ERROR(ValidateQueueName(queue));
    std::vector<Task> dead;
    if (limit <= 0) return dead;
    Connection& c = Pick();
    absl::MutexLock lock(&c.mu());
    ALERTHUB_RETURN_IF_ERROR(EnsureTopology(c, queue));
    ALERTHUB_RETURN_IF_ERROR(c.OpenBrowse());
    const std::string dead_queue = DeadQueueName(queue);
    while (static_cast<int>(dead.size()) < limit) {
      absl::StatusOr<std::optional<Delivery>> d = c.Get(kBrowseChannel, dead_queue);
      if (!d.ok()) {
        c.CloseBrowse();
        return d.status();
      }
      if (!d->has_value()) break;
      const TaskMessage& m = (*d)->message;
      dead.push_back(Task{.queue = std::string(queue),
                          .id = m.id,
                          .payload = m.payload,
                          .attempts = m.attempts,
                          .available_at = m.available_at,
                          .last_error = m.last_error,
                          .receipt = ""});
    }
    c.CloseBrowse();  // every message goes back to its place
    return dead;
  }

  absl::Status Replay(absl::string_view queue, absl::string_view id) override {
    ALERTHUB_RETURN_IF_ERROR(ValidateQueueName(queue));
    Connection& c = Pick();
    absl::MutexLock lock(&c.mu());
    ALERTHUB_RETURN_IF_ERROR(EnsureTopology(c, queue));
    ALERTHUB_RETURN_IF_ERROR(c.OpenBrowse());
    const std::string dead_queue = DeadQueueName(queue);
    while (true) {
      absl::StatusOr<std::optional<Delivery>> d = c.Get(kBrowseChannel, dead_queue);
      if (!d.ok()) {
        c.CloseBrowse();
        return d.status();
      }
      if (!d->has_value()) break;
      if ((*d)->message.id != id) continue;
      TaskMessage fresh = (*d)->message;
      fresh.queue = std::string(queue);
      fresh.attempts = 0;
      fresh.available_at = clock_->Now();
      fresh.last_error.clear();
      fresh.dead_at = absl::InfinitePast();
      absl::Status s = PublishTask(c, fresh);
      if (s.ok()) s = c.Ack(kBrowseChannel, (*d)->tag);
      c.CloseBrowse();
      return s;
    }
    c.CloseBrowse();
    return absl::NotFoundError(absl::StrCat("no dead task ", id, " in queue ", queue));
  }

  absl::StatusOr<int64_t> Depth(absl::string_view queue) override {
    ALERTHUB_RETURN_IF_ERROR(ValidateQueueName(queue));
    ReleaseExpired();
    int64_t depth = 0;
    {
      Connection& c = Pick();
      absl::MutexLock lock(&c.mu());
      ALERTHUB_RETURN_IF_ERROR(EnsureTopology(c, queue));
      absl::StatusOr<uint32_t> ready = c.DeclareQueue(queue, ReadyArguments(queue));
      if (!ready.ok()) return ready.status();
      depth += *ready;
      for (int level = 0; level < kDelayLevels; ++level) {
        absl::StatusOr<uint32_t> waiting =
            c.DeclareQueue(DelayQueueName(queue, level), DelayArguments(queue, level));
        if (!waiting.ok()) return waiting.status();
        depth += *waiting;
      }
    }
    absl::MutexLock lock(&leases_mu_);
    for (const auto& [receipt, rec] : leases_) {
      if (rec.message.queue == queue) ++depth;
    }
    return depth;
  }

  absl::Status Ping() override {
    Connection& c = Pick();
    absl::MutexLock lock(&c.mu());
    ALERTHUB_RETURN_IF_ERROR(c.EnsureOpen());
    c.Poll();
    return c.EnsureOpen();
  }

 private:
  // An unacknowledged delivery handed out by Lease.
  struct LeaseRecord {
    size_t connection = 0;
    uint64_t generation = 0;  // of the connection's work channel
    uint64_t tag = 0;
    absl::Time deadline;
    TaskMessage message;  // attempts as leased
  };

  size_t PickIndex() { return next_.fetch_add(1, std::memory_order_relaxed) % connections_.size(); }
  Connection& Pick() { return *connections_[PickIndex()]; }

  std::vector<QueueArgument> WithExpiry(std::vector<QueueArgument> args) const {
    if (options_.queue_expires.has_value()) {
      args.push_back({"x-expires", absl::ToInt64Milliseconds(*options_.queue_expires)});
    }
    return args;
  }
  std::vector<QueueArgument> ReadyArguments(absl::string_view queue) const {
    return WithExpiry({{"x-dead-letter-exchange", std::string(kDeadExchange)},
                       {"x-dead-letter-routing-key", std::string(queue)}});
  }
  std::vector<QueueArgument> DelayArguments(absl::string_view queue, int level) const {
    return WithExpiry({{"x-message-ttl", absl::ToInt64Milliseconds(DelayOfLevel(level))},
                       {"x-dead-letter-exchange", std::string()},
                       {"x-dead-letter-routing-key", std::string(queue)}});
  }

  // Declares Q's queues, exchange and binding once per adapter (they are
  // durable; a publish that comes back unroutable declares them again).
  absl::Status EnsureTopology(Connection& c, absl::string_view queue)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(c.mu()) {
    {
      absl::MutexLock lock(&topology_mu_);
      if (declared_.contains(queue)) return absl::OkStatus();
    }
    const std::string dead = DeadQueueName(queue);
    ALERTHUB_RETURN_IF_ERROR(c.DeclareDirectExchange(kDeadExchange));
    ALERTHUB_RETURN_IF_ERROR(c.DeclareQueue(dead, WithExpiry({})).status());
    ALERTHUB_RETURN_IF_ERROR(c.Bind(dead, kDeadExchange, queue));
    ALERTHUB_RETURN_IF_ERROR(c.DeclareQueue(queue, ReadyArguments(queue)).status());
    for (int level = 0; level < kDelayLevels; ++level) {
      ALERTHUB_RETURN_IF_ERROR(
          c.DeclareQueue(DelayQueueName(queue, level), DelayArguments(queue, level)).status());
    }
    absl::MutexLock lock(&topology_mu_);
    declared_.insert(std::string(queue));
    return absl::OkStatus();
  }

  // Publishes to `exchange`; when the broker returns it as unroutable (a
  // queue was deleted behind our back) declares the topology again and
  // retries once. Unroutable in the end is kUnavailable: retry later.
  absl::Status PublishTo(Connection& c, absl::string_view exchange, absl::string_view routing_key,
                         const TaskMessage& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c.mu()) {
    absl::Status s = c.Publish(exchange, routing_key, m);
    if (s.code() != absl::StatusCode::kFailedPrecondition) return s;
    {
      absl::MutexLock lock(&topology_mu_);
      declared_.erase(m.queue);
    }
    ALERTHUB_RETURN_IF_ERROR(EnsureTopology(c, m.queue));
    s = c.Publish(exchange, routing_key, m);
    if (s.code() == absl::StatusCode::kFailedPrecondition)
      return absl::UnavailableError(s.message());
    return s;
  }

  // Publishes `m` to its ready queue, or to the delay queue its
  // available_at calls for.
  absl::Status PublishTask(Connection& c, const TaskMessage& m)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(c.mu()) {
    const int level = DelayLevelFor(m.available_at - clock_->Now());
    return PublishTo(c, "", level < 0 ? m.queue : DelayQueueName(m.queue, level), m);
  }

  // Runs `end` on a live lease of this adapter and forgets the lease when
  // `end` succeeded (or the lease turned out to be gone).
  template <typename End>
  absl::Status WithLease(const Task& task, End end) {
    auto ended = [&task](absl::string_view why) {
      return absl::FailedPreconditionError(
          absl::StrCat("the lease of task ", task.id, " in ", task.queue, " has ended: ", why));
    };
    size_t index;
    {
      absl::MutexLock lock(&leases_mu_);
      auto it = leases_.find(task.receipt);
      if (it == leases_.end()) {
        return ended("it expired, was finished already, or is not this adapter's");
      }
      index = it->second.connection;
    }
    Connection& c = *connections_[index];
    absl::MutexLock lock(&c.mu());
    LeaseRecord rec;
    {
      absl::MutexLock leases(&leases_mu_);
      auto it = leases_.find(task.receipt);
      if (it == leases_.end()) return ended("it expired and was released");
      rec = it->second;
    }
    if (c.generation() != rec.generation) {
      Forget(task.receipt);
      return ended("the connection to RabbitMQ was replaced, so the broker returned the task");
    }
    if (clock_->Now() >= rec.deadline) {
      Release(c, task.receipt, rec);
      return ended("it expired");
    }
    absl::Status s = end(c, rec);
    if (s.ok() || c.generation() != rec.generation) Forget(task.receipt);
    return s;
  }

  void Forget(const std::string& receipt) {
    absl::MutexLock lock(&leases_mu_);
    leases_.erase(receipt);
  }

  // Ends an expired lease: a copy with one more attempt goes back to the
  // ready queue, then the delivery is acknowledged.
  void Release(Connection& c, const std::string& receipt, const LeaseRecord& rec)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(c.mu()) {
    if (c.generation() == rec.generation) {
      TaskMessage copy = rec.message;
      ++copy.attempts;
      if (!PublishTo(c, "", copy.queue, copy).ok() && c.generation() == rec.generation) {
        return;  // still ours; try again on the next pass
      }
      if (c.generation() == rec.generation) (void)c.Ack(kWorkChannel, rec.tag);
    }
    Forget(receipt);
  }

  void ReleaseExpired() {
    const absl::Time now = clock_->Now();
    std::map<size_t, std::vector<std::string>> due;
    {
      absl::MutexLock lock(&leases_mu_);
      for (const auto& [receipt, rec] : leases_) {
        if (rec.deadline <= now) due[rec.connection].push_back(receipt);
      }
    }
    for (const auto& [index, receipts] : due) {
      Connection& c = *connections_[index];
      absl::MutexLock lock(&c.mu());
      for (const std::string& receipt : receipts) {
        LeaseRecord rec;
        {
          absl::MutexLock leases(&leases_mu_);
          auto it = leases_.find(receipt);
          if (it == leases_.end()) continue;
          rec = it->second;
        }
        Release(c, receipt, rec);
      }
    }
  }

  void Maintain() {
    while (true) {
      {
        absl::MutexLock lock(&stop_mu_);
        if (stop_mu_.AwaitWithTimeout(absl::Condition(&stop_), kMaintenanceInterval)) return;
      }
      ReleaseExpired();
      for (const auto& c : connections_) {
        // A busy connection does its own reading.
        if (!c->mu().TryLock()) continue;
        c->Poll();
        c->mu().Unlock();
      }
    }
  }

  const AmqpTaskQueueOptions options_;
  Clock* const clock_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::atomic<size_t> next_{0};

  absl::Mutex leases_mu_;  // after a connection's mu when both are held
  absl::flat_hash_map<std::string, LeaseRecord> leases_ ABSL_GUARDED_BY(leases_mu_);

  absl::Mutex topology_mu_;
  absl::flat_hash_set<std::string> declared_ ABSL_GUARDED_BY(topology_mu_);

  absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread maintenance_;
};

absl::StatusOr<absl::Duration> MillisParam(absl::string_view url, absl::string_view name,
                                           absl::string_view value, int64_t min) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(value, &ms) || ms < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue URL \"", url, "\": ", name, " must be an integer >= ", min));
  }
  return absl::Milliseconds(ms);
}

}  // namespace

absl::StatusOr<AmqpTaskQueueOptions> AmqpTaskQueueOptionsFromUrl(absl::string_view url) {
  constexpr absl::string_view kForm =
      "expected amqp://[user[:password]@]host[:port][/vhost][?connections=N&heartbeat_s=N&"
      "connect_timeout_ms=N&command_timeout_ms=N&max_backoff_ms=N&max_leases=N&"
      "queue_expires_ms=N]";
  if (!absl::StartsWithIgnoreCase(url, "amqp://")) {
    return absl::InvalidArgumentError(absl::StrCat("queue URL \"", url, "\": ", kForm));
  }
  absl::string_view base = url;
  absl::string_view query;
  if (size_t q = url.find('?'); q != absl::string_view::npos) {
    base = url.substr(0, q);
    query = url.substr(q + 1);
  }
  const absl::string_view authority = base.substr(7, base.find('/', 7) - 7);
  if (authority.empty() || absl::EndsWith(authority, "@") || absl::StartsWith(authority, ":")) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue URL \"", url, "\" names no host; ", kForm));
  }
  std::string buffer(base);
  amqp_connection_info info;
  amqp_default_connection_info(&info);
  if (amqp_parse_url(buffer.data(), &info) != AMQP_STATUS_OK || info.host == nullptr ||
      *info.host == '\0' || info.port < 1 || info.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("queue URL \"", url, "\": ", kForm));
  }
  AmqpTaskQueueOptions options;
  options.host = info.host;
  options.port = info.port;
  options.user = info.user;
  options.password = info.password;
  // "amqp://host/" names the empty vhost by the URI spec; RabbitMQ has none,
  // so it means the default one.
  options.vhost = (info.vhost == nullptr || *info.vhost == '\0') ? "/" : info.vhost;

  for (absl::string_view param : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(param, absl::MaxSplits('=', 1));
    absl::StatusOr<absl::Duration> d = absl::ZeroDuration();
    if (kv.first == "connections" || kv.first == "max_leases") {
      int n = 0;
      if (!absl::SimpleAtoi(kv.second, &n) || n < 1 || (kv.first == "connections" && n > 64)) {
        return absl::InvalidArgumentError(
            absl::StrCat("queue URL \"", url, "\": ", kv.first, " must be a positive integer",
                         kv.first == "connections" ? " up to 64" : ""));
      }
      (kv.first == "connections" ? options.connections : options.max_leases) = n;
    } else if (kv.first == "heartbeat_s") {
      if (!(d = MillisParam(url, kv.first, kv.second, 0)).ok()) return d.status();
      options.heartbeat = absl::Seconds(absl::ToInt64Milliseconds(*d));
    } else if (kv.first == "connect_timeout_ms") {
      if (!(d = MillisParam(url, kv.first, kv.second, 1)).ok()) return d.status();
      options.connect_timeout = *d;
    } else if (kv.first == "command_timeout_ms") {
      if (!(d = MillisParam(url, kv.first, kv.second, 1)).ok()) return d.status();
      options.command_timeout = *d;
    } else if (kv.first == "max_backoff_ms") {
      if (!(d = MillisParam(url, kv.first, kv.second, 1)).ok()) return d.status();
      options.max_backoff = *d;
    } else if (kv.first == "queue_expires_ms") {
      if (!(d = MillisParam(url, kv.first, kv.second, 1)).ok()) return d.status();
      options.queue_expires = *d;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("queue URL \"", url, "\": unknown parameter \"", kv.first, "\"; ", kForm));
    }
  }
  return options;
}

absl::StatusOr<std::unique_ptr<TaskQueue>> OpenAmqpTaskQueue(const AmqpTaskQueueOptions& options) {
  if (options.host.empty() || options.port < 1 || options.port > 65535) {
    return absl::InvalidArgumentError("amqp TaskQueue: host and port 1-65535 required");
  }
  if (options.connections < 1 || options.max_leases < 1) {
    return absl::InvalidArgumentError("amqp TaskQueue: connections and max_leases must be >= 1");
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.command_timeout <= absl::ZeroDuration() ||
      options.max_backoff <= absl::ZeroDuration() || options.heartbeat < absl::ZeroDuration() ||
      (options.queue_expires.has_value() && *options.queue_expires <= absl::ZeroDuration())) {
    return absl::InvalidArgumentError("amqp TaskQueue: timeouts must be positive");
  }
  return std::unique_ptr<TaskQueue>(new AmqpTaskQueue(options));
}

}  // namespace alerthub
