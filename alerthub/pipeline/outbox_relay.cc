#include "alerthub/pipeline/outbox_relay.h"

#include <utility>
#include <vector>

namespace alerthub {

OutboxRelay::OutboxRelay(Store* store, EventLog* log, OutboxRelayOptions options)
    : store_(store), log_(log), options_(options) {}

OutboxRelay::~OutboxRelay() { Stop(); }

absl::StatusOr<int64_t> OutboxRelay::RunRound() {
  absl::StatusOr<std::vector<OutboxRecord>> claimed =
      store_->ClaimOutbox(options_.batch_size, options_.claim_lease);
  if (!claimed.ok()) return claimed.status();
  if (claimed->empty()) return 0;

  std::vector<EventMessage> messages;
  messages.reserve(claimed->size());
  for (OutboxRecord& r : *claimed) {
    messages.push_back(EventMessage{std::move(r.topic), std::move(r.key),
                                    std::move(r.payload), {}});
  }
  std::vector<absl::Status> statuses = log_->PublishReliable(messages);

  std::vector<int64_t> sent;
  sent.reserve(claimed->size());
  absl::Status first_error;
  for (size_t i = 0; i < statuses.size() && i < claimed->size(); ++i) {
    if (statuses[i].ok()) {
      sent.push_back((*claimed)[i].seq);
    } else if (first_error.ok()) {
      first_error = statuses[i];
    }
  }
  // Unsent messages keep their claim until the lease passes, then are
  // claimed again.
  if (!sent.empty()) {
    absl::Status marked = store_->MarkOutboxSent(sent);
    if (!marked.ok()) return marked;
    published_.fetch_add(static_cast<int64_t>(sent.size()), std::memory_order_relaxed);
  }
  if (!first_error.ok()) return first_error;
  return static_cast<int64_t>(sent.size());
}

absl::StatusOr<int64_t> OutboxRelay::Drain() {
  int64_t total = 0;
  while (true) {
    absl::StatusOr<int64_t> n = RunRound();
    if (!n.ok()) return n.status();
    if (*n == 0) return total;
    total += *n;
  }
}

void OutboxRelay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRelay::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void OutboxRelay::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Loop() {
  absl::Duration wait = absl::ZeroDuration();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
      if (stop_) return;
      wake_ = false;
    }
    absl::StatusOr<int64_t> n = RunRound();
    if (!n.ok()) {
      failed_rounds_.fetch_add(1, std::memory_order_relaxed);
      wait = options_.retry_backoff;
    } else if (*n == options_.batch_size) {
      wait = absl::ZeroDuration();  // more may be waiting
    } else {
      wait = options_.idle_poll;
    }
  }
}

}  // namespace alerthub

