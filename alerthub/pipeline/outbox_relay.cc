#include "alerthub/pipeline/outbox_relay.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

namespace alerthub {

OutboxRelay::OutboxRelay(Store* store, EventLog* log, OutboxRelayOptions options)
    : store_(store), log_(log), options_(options) {}

OutboxRelay::~OutboxRelay() { Stop(); }

absl::StatusOr<OutboxRelay::Round> OutboxRelay::StartRound(int64_t after_seq) {
  absl::StatusOr<std::unique_ptr<OutboxBatch>> taken =
      store_->TakeOutbox(options_.batch_size, options_.claim_lease, after_seq);
  if (!taken.ok()) return taken.status();
  Round round;
  std::vector<OutboxRecord>& records = (*taken)->records();
  if (records.empty()) return round;
  std::vector<EventMessage> messages;
  messages.reserve(records.size());
  round.seqs.reserve(records.size());
  for (OutboxRecord& r : records) {
    round.seqs.push_back(r.seq);
    messages.push_back(EventMessage{std::move(r.topic), std::move(r.key),
                                    std::move(r.payload), {}});
  }
  round.batch = *std::move(taken);
  round.publish = log_->StartPublish(messages);
  return round;
}

absl::StatusOr<int64_t> OutboxRelay::Settle(std::vector<Round> rounds) {
  int64_t marked = 0;
  absl::Status first_error;
  for (Round& round : rounds) {
    std::vector<absl::Status> statuses = round.publish->Wait();
    std::vector<int64_t> sent;
    sent.reserve(round.seqs.size());
    for (size_t i = 0; i < round.seqs.size(); ++i) {
      absl::Status s =
          i < statuses.size() ? std::move(statuses[i]) : absl::InternalError("no report");
      if (s.ok()) {
        sent.push_back(round.seqs[i]);
      } else if (first_error.ok()) {
        first_error = std::move(s);
      }
    }
    // Unsent messages go back to the outbox (at once or when the lease
    // passes; Store::TakeOutbox) and are taken again.
    absl::Status finished = round.batch->Finish(sent);
    if (!finished.ok()) {
      if (first_error.ok()) first_error = std::move(finished);
      continue;
    }
    marked += static_cast<int64_t>(sent.size());
  }
  published_.fetch_add(marked, std::memory_order_relaxed);
  if (!first_error.ok()) return first_error;
  return marked;
}

absl::StatusOr<int64_t> OutboxRelay::RunRounds(absl::FunctionRef<bool()> stop) {
  const size_t max_in_flight = static_cast<size_t>(std::max(1, options_.max_rounds_in_flight));
  const int rounds_per_rescan = std::max(1, options_.rounds_per_rescan);
  std::deque<Round> in_flight;
  int64_t marked = 0;
  absl::Status first_error;
  bool claiming = true;
  int64_t after_seq = 0;  // the last row taken; 0 looks from the lowest seq
  int rounds = 0;
  while (claiming || !in_flight.empty()) {
    if (claiming && stop()) claiming = false;
    if (claiming) {
      if (rounds++ % rounds_per_rescan == 0) after_seq = 0;
      absl::StatusOr<Round> round = StartRound(after_seq);
      if (!round.ok()) {
        first_error = round.status();
        claiming = false;
      } else {
        // A short batch: the outbox has nothing more to take for now.
        if (round->seqs.size() < static_cast<size_t>(options_.batch_size)) claiming = false;
        if (!round->seqs.empty()) {
          after_seq = round->seqs.back();
          in_flight.push_back(*std::move(round));
        }
      }
    }
    // Settle the oldest round when no further one may start before it, and
    // with it every following round whose reports are in already.
    std::vector<Round> ready;
    bool must = !claiming || in_flight.size() >= max_in_flight;
    while (!in_flight.empty() && (must || in_flight.front().publish->Done())) {
      ready.push_back(std::move(in_flight.front()));
      in_flight.pop_front();
      must = false;
    }
    if (ready.empty()) continue;
    absl::StatusOr<int64_t> n = Settle(std::move(ready));
    if (n.ok()) {
      marked += *n;
    } else {
      // The bus or the store fails: take nothing new, settle the rest.
      if (first_error.ok()) first_error = n.status();
      claiming = false;
    }
  }
  if (!first_error.ok()) return first_error;
  return marked;
}

absl::StatusOr<int64_t> OutboxRelay::Drain() {
  int64_t total = 0;
  while (true) {
    absl::StatusOr<int64_t> n = RunRounds([] { return false; });
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
  auto stopping = [this] {
    absl::MutexLock lock(&mu_);
    return stop_;
  };
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
      if (stop_) return;
      wake_ = false;
    }
    // Runs while full batches come back; returns when the outbox is empty
    // for now (or on failure or Stop()).
    absl::StatusOr<int64_t> n = RunRounds(stopping);
    if (!n.ok()) {
      failed_rounds_.fetch_add(1, std::memory_order_relaxed);
      wait = options_.retry_backoff;
    } else {
      wait = options_.idle_poll;
    }
  }
}

}  // namespace alerthub
