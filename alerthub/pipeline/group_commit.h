// GroupCommitter: turns concurrent CommitSubmissions calls into few store
// transactions (many rows, one commit, one fsync).
//
// It uses the leader/follower queue of leveldb's DBImpl::Write: callers queue
// up; the caller at the front commits everything queued behind it (up to
// max_batch_rows) in one transaction while new callers queue for the next
// one. An idle committer adds no wait at all: a lone caller commits at once,
// so single-request latency is one transaction, and under load a caller
// waits at most for the transaction in flight plus its own.
//
//   GroupCommitter committer(store, {});
//   absl::StatusOr<std::vector<SubmissionOutcome>> r = committer.Commit(std::move(writes));
#ifndef ALERTHUB_PIPELINE_GROUP_COMMIT_H_
#define ALERTHUB_PIPELINE_GROUP_COMMIT_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/ports/store.h"

namespace alerthub {

struct GroupCommitOptions {
  // Most submissions in one transaction. A single call larger than this is
  // still committed whole, on its own.
  size_t max_batch_rows = 1024;
};

class GroupCommitter {
 public:
  // `store` must outlive the committer.
  GroupCommitter(Store* store, GroupCommitOptions options);

  // Commits `writes` (atomically, possibly together with other callers'
  // writes) and returns their outcomes in order. Thread-safe; blocks until
  // the transaction holding them has committed or failed. On failure every
  // caller of that transaction gets the store's error.
  absl::StatusOr<std::vector<SubmissionOutcome>> Commit(
      std::vector<SubmissionWrite> writes);

  // Totals since construction, for metrics and benchmarks.
  int64_t transactions() const { return transactions_.load(std::memory_order_relaxed); }
  int64_t rows() const { return rows_.load(std::memory_order_relaxed); }

 private:
  struct Writer;

  Store* const store_;
  const GroupCommitOptions options_;
  absl::Mutex mu_;
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> transactions_{0};
  std::atomic<int64_t> rows_{0};
};

}  // namespace alerthub

#endif  // ALERTHUB_PIPELINE_GROUP_COMMIT_H_
