#include "alerthub/pipeline/group_commit.h"

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
    : store_(store), options_(options) {}

absl::StatusOr<std::vector<SubmissionOutcome>> GroupCommitter::Commit(
    std::vector<SubmissionWrite> writes) {
  if (writes.empty()) return std::vector<SubmissionOutcome>();
  Writer self;
  self.writes = std::move(writes);

  absl::MutexLock lock(&mu_);
  queue_.push_back(&self);
  while (!self.done && queue_.front() != &self) self.cv.Wait(&mu_);
  if (self.done) {
    if (!self.status.ok()) return self.status;
    return std::move(self.outcomes);
  }

  // Leader: take everything queued, up to the row budget.
  std::vector<Writer*> group;
  size_t rows = 0;
  for (Writer* w : queue_) {
    if (!group.empty() && rows + w->writes.size() > options_.max_batch_rows) break;
    group.push_back(w);
    rows += w->writes.size();
  }

  std::vector<SubmissionWrite> batch;
  std::vector<SubmissionWrite>* to_commit = &self.writes;
  if (group.size() > 1) {
    batch.reserve(rows);
    for (Writer* w : group) {
      for (SubmissionWrite& s : w->writes) batch.push_back(std::move(s));
    }
    to_commit = &batch;
  }

  absl::StatusOr<std::vector<SubmissionOutcome>> result;
  {
    // Followers keep queueing while the transaction runs.
    mu_.Unlock();
    result = store_->CommitSubmissions(*to_commit);
    mu_.Lock();
  }
  transactions_.fetch_add(1, std::memory_order_relaxed);
  if (result.ok() && result->size() != rows) {
    result = absl::InternalError("store returned the wrong number of outcomes");
  }
  if (result.ok()) rows_.fetch_add(static_cast<int64_t>(rows), std::memory_order_relaxed);

  size_t offset = 0;
  for (Writer* w : group) {
    queue_.pop_front();
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
