#include "alerthub/pipeline/group_commit.h"

#include <algorithm>
#include <utility>

namespace alerthub {

struct GroupCommitter::Writer {
  std::vector<SubmissionWrite> writes;
  absl::Status status;
  std::vector<SubmissionOutcome> outcomes;
  bool done = false;
  absl::CondVar cv;
};

GroupCommitter::GroupCommitter(Store* store, GroupCommitOptions options)
    : store_(store),
      options_(options),
      max_in_flight_(std::max(1, options.max_concurrent_transactions > 0
                                     ? options.max_concurrent_transactions
                                     : store->ConcurrentCommitLimit())) {}

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
  if (queue_.front() != &self && CanLead()) queue_.front()->cv.Signal();
  // A caller taken into another's transaction leaves the queue and waits
  // for `done`; the front caller leads when CanLead().
  while (!self.done && (queue_.front() != &self || !CanLead())) self.cv.Wait(&mu_);
  if (self.done) {
    if (!self.status.ok()) return self.status;
    return std::move(self.outcomes);
  }

  // Leader: take everything queued, up to the row budget.
  std::vector<Writer*> group;
  size_t rows = 0;
  while (!queue_.empty()) {
    Writer* w = queue_.front();
    if (!group.empty() && rows + w->writes.size() > options_.max_batch_rows) break;
    group.push_back(w);
    rows += w->writes.size();
    queue_.pop_front();
  }
  queued_rows_ -= rows;
  ++in_flight_;
  // The next caller may lead a transaction of its own beside this one.
  if (!queue_.empty() && CanLead()) queue_.front()->cv.Signal();

  std::vector<SubmissionWrite> batch;
  std::vector<SubmissionWrite>* to_commit = &self.writes;
  absl::StatusOr<std::vector<SubmissionOutcome>> result;
  {
    // Followers keep queueing while the transaction runs; the writes of
    // the group are only touched by this leader until `done`.
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
    if (w != &self) w->cv.Signal();
  }
  if (!queue_.empty()) queue_.front()->cv.Signal();
  if (!self.status.ok()) return self.status;
  return std::move(self.outcomes);
}

}  // namespace alerthub
