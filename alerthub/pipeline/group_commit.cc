#include "alerthub/pipeline/group_commit.h"

#include <algorithm>
#include <utility>

namespace alerthub {

// One caller's writes while queued and committed. A Commit() caller's writer
// lives on its stack and is woken through `cv`; a CommitAsync() writer is
// heap-allocated, owned by the committer from CommitAsync() until its
// callback has run, then deleted.
struct GroupCommitter::Writer {
  std::vector<SubmissionWrite> writes;
  absl::Status status;
  std::vector<SubmissionOutcome> outcomes;
  bool done = false;
  absl::CondVar cv;
  CommitCallback callback;  // set only for CommitAsync() writers

  bool is_async() const { return static_cast<bool>(callback); }
};

GroupCommitter::GroupCommitter(Store* store, GroupCommitOptions options)
    : store_(store),
      options_(options),
      max_in_flight_(std::max(1, options.max_concurrent_transactions > 0
                                     ? options.max_concurrent_transactions
                                     : store->ConcurrentCommitLimit())) {}

GroupCommitter::~GroupCommitter() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  // Each thread returns once no asynchronous writer is left in the queue.
  for (std::thread& t : threads) t.join();
}

absl::StatusOr<std::vector<SubmissionOutcome>> GroupCommitter::Commit(
    std::vector<SubmissionWrite> writes) {
  if (writes.empty()) return std::vector<SubmissionOutcome>();
  Writer self;
  self.writes = std::move(writes);

  absl::MutexLock lock(&mu_);
  queue_.push_back(&self);
  queued_rows_ += self.writes.size();
  // These rows may let a waiting front caller start beside the transactions
  // in flight.
  if (queue_.front() != &self && CanLead()) WakeFront();
  // A caller taken into another's transaction leaves the queue and waits
  // for `done`; the front caller leads when CanLead().
  while (!self.done && (queue_.front() != &self || !CanLead())) self.cv.Wait(&mu_);
  if (!self.done) LeadTransaction(&self);
  if (!self.status.ok()) return self.status;
  return std::move(self.outcomes);
}

void GroupCommitter::CommitAsync(std::vector<SubmissionWrite> writes, CommitCallback done) {
  if (writes.empty()) {
    std::move(done)(std::vector<SubmissionOutcome>());
    return;
  }
  auto* w = new Writer;
  w->writes = std::move(writes);
  w->callback = std::move(done);

  absl::MutexLock lock(&mu_);
  if (threads_.empty()) {
    threads_.reserve(static_cast<size_t>(max_in_flight_));
    for (int i = 0; i < max_in_flight_; ++i) threads_.emplace_back([this] { CommitterLoop(); });
  }
  queue_.push_back(w);
  queued_rows_ += w->writes.size();
  ++async_queued_;
  if (queue_.front() != w && CanLead()) WakeFront();
  // A front async writer wakes a committer thread through its Await condition.
}

void GroupCommitter::WakeFront() {
  if (!queue_.empty() && !queue_.front()->is_async()) queue_.front()->cv.Signal();
}

bool GroupCommitter::AsyncFrontCanLead() const {
  return !queue_.empty() && queue_.front()->is_async() && CanLead();
}

void GroupCommitter::CommitterLoop() {
  absl::MutexLock lock(&mu_);
  auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return AsyncFrontCanLead() || (stopping_ && async_queued_ == 0);
  };
  while (true) {
    mu_.Await(absl::Condition(&wake));
    if (!AsyncFrontCanLead()) return;  // stopping, and nothing of ours is queued
    LeadTransaction(nullptr);
  }
}

void GroupCommitter::LeadTransaction(Writer* self) {
  // Take everything queued, up to the row budget.
  std::vector<Writer*> group;
  size_t rows = 0;
  while (!queue_.empty()) {
    Writer* w = queue_.front();
    if (!group.empty() && rows + w->writes.size() > options_.max_batch_rows) break;
    group.push_back(w);
    rows += w->writes.size();
    if (w->is_async()) --async_queued_;
    queue_.pop_front();
  }
  queued_rows_ -= rows;
  ++in_flight_;
  // The next caller may lead a transaction of its own beside this one.
  if (!queue_.empty() && CanLead()) WakeFront();

  std::vector<SubmissionWrite> batch;
  std::vector<SubmissionWrite>* to_commit = &group.front()->writes;
  absl::StatusOr<std::vector<SubmissionOutcome>> result;
  {
    // Others keep queueing while the transaction runs; the writes of the
    // group are only touched by this leader until `done`.
    mu_.Unlock();
    if (group.size() > 1) {
      batch.reserve(rows);
      for (Writer* w : group) {
        for (SubmissionWrite& s : w->writes) batch.push_back(std::move(s));
      }
      to_commit = &batch;
    }
    result = store_->CommitSubmissions(*to_commit);
    mu_.Lock();
  }
  --in_flight_;
  transactions_.fetch_add(1, std::memory_order_relaxed);
  if (result.ok() && result->size() != rows) {
    result = absl::InternalError("store returned the wrong number of outcomes");
  }
  if (result.ok()) rows_.fetch_add(static_cast<int64_t>(rows), std::memory_order_relaxed);

  std::vector<Writer*> finished_async;
  size_t offset = 0;
  for (Writer* w : group) {
    const size_t n = w->writes.size();
    if (result.ok()) {
      w->outcomes.assign(std::make_move_iterator(result->begin() + offset),
                         std::make_move_iterator(result->begin() + offset + n));
    } else {
      w->status = result.status();
    }
    offset += n;
    w->done = true;
    if (w->is_async()) {
      finished_async.push_back(w);
    } else if (w != self) {
      w->cv.Signal();
    }
  }
  if (!queue_.empty()) WakeFront();
  if (finished_async.empty()) return;
  mu_.Unlock();
  for (Writer* w : finished_async) {
    absl::StatusOr<std::vector<SubmissionOutcome>> r = std::move(w->outcomes);
    if (!w->status.ok()) r = w->status;
    std::move(w->callback)(std::move(r));
    delete w;
  }
  mu_.Lock();
}

}  // namespace alerthub
