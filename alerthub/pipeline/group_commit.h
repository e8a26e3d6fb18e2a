// GroupCommitter: turns concurrent CommitSubmissions calls into few store
// transactions (many rows, one commit, one fsync).
//
// It uses the leader/follower queue of leveldb's DBImpl::Write: callers queue
// up; the caller at the front commits everything queued behind it (up to
// max_batch_rows) in one transaction while new callers queue for the next
// one. An idle committer adds no wait at all: a lone caller commits at once,
// so single-request latency is one transaction, and under load a caller
// waits at most for the transactions in flight plus its own. With
// max_concurrent_transactions > 1 (stores whose transactions commit in
// parallel, Store::ConcurrentCommitLimit()), the front caller leads its own
// transaction beside the ones in flight once a slot is free and at least
// min_concurrent_batch_rows are queued (so batches, and the rows per WAL
// flush, stay large); transactions may then commit in any order.
//
// CommitAsync queues writes the same way without a waiting caller: the
// committer's own threads (started on first use, one per transaction slot)
// lead transactions whose front caller is asynchronous, and the callback
// runs on whichever thread committed it. A server thread serving many
// connections thus never blocks on a commit.
//
//   GroupCommitter committer(store, {});
//   absl::StatusOr<std::vector<SubmissionOutcome>> r = committer.Commit(std::move(writes));
//   committer.CommitAsync(std::move(more), [](auto outcomes) { ... });
#ifndef ALERTHUB_PIPELINE_GROUP_COMMIT_H_
#define ALERTHUB_PIPELINE_GROUP_COMMIT_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/ports/store.h"

namespace alerthub {

struct GroupCommitOptions {
  // Most submissions in one transaction. A single call larger than this is
  // still committed whole, on its own.
  size_t max_batch_rows = 1024;
  // Transactions in flight at once (>= 1); 0 takes the store's
  // ConcurrentCommitLimit().
  int max_concurrent_transactions = 0;
  // While a transaction is in flight, another starts only with at least this
  // many rows queued; fewer wait and join the next one.
  size_t min_concurrent_batch_rows = 32;
};

class GroupCommitter {
 public:
  // `store` must outlive the committer.
  GroupCommitter(Store* store, GroupCommitOptions options);
  // Commits everything queued (asynchronous callers' callbacks run), then
  // stops the committer's threads. REQUIRES: no Commit() call in progress.
  ~GroupCommitter();

  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Commits `writes` (atomically, possibly together with other callers'
  // writes) and returns their outcomes in order. Thread-safe; blocks until
  // the transaction holding them has committed or failed. On failure every
  // caller of that transaction gets the store's error.
  absl::StatusOr<std::vector<SubmissionOutcome>> Commit(
      std::vector<SubmissionWrite> writes);

  // Like Commit() but returns at once; `done` is called exactly once with
  // what Commit() would have returned, on the thread that committed the
  // transaction (a committer thread or a Commit() caller leading it), never
  // inside this call unless `writes` is empty. `done` runs with no lock of
  // the committer held (it may commit again) and should be quick: the thread
  // running it leads no other transaction meanwhile.
  using CommitCallback =
      absl::AnyInvocable<void(absl::StatusOr<std::vector<SubmissionOutcome>>) &&>;
  void CommitAsync(std::vector<SubmissionWrite> writes, CommitCallback done);

  // Totals since construction, for metrics and benchmarks.
  int64_t transactions() const { return transactions_.load(std::memory_order_relaxed); }
  int64_t rows() const { return rows_.load(std::memory_order_relaxed); }
  int max_concurrent_transactions() const { return max_in_flight_; }

 private:
  struct Writer;

  // Takes the queued writers (the front one first, up to the row budget) into
  // one transaction, commits it with mu_ released, and hands every writer
  // its outcome: sync writers are woken, async ones' callbacks run (with mu_
  // released). `self` is the calling sync writer, or nullptr for a committer
  // thread. REQUIRES: queue_ is not empty and CanLead().
  void LeadTransaction(Writer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes whoever should act on the queue's front writer now.
  void WakeFront() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Body of the committer threads: leads transactions whose front writer is
  // asynchronous until stopping_ and nothing asynchronous is queued.
  void CommitterLoop();
  bool AsyncFrontCanLead() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Whether the front caller may lead a transaction now.
  bool CanLead() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0 || (in_flight_ < max_in_flight_ &&
                               queued_rows_ >= options_.min_concurrent_batch_rows);
  }

  Store* const store_;
  const GroupCommitOptions options_;
  const int max_in_flight_;
  absl::Mutex mu_;
  // Callers not yet taken into a transaction, oldest first.
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_rows_ ABSL_GUARDED_BY(mu_) = 0;  // writes of queue_
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;       // transactions being committed
  int async_queued_ ABSL_GUARDED_BY(mu_) = 0;    // async writers in queue_
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);  // started by CommitAsync
  std::atomic<int64_t> transactions_{0};
  std::atomic<int64_t> rows_{0};
};

}  // namespace alerthub

#endif  // ALERTHUB_PIPELINE_GROUP_COMMIT_H_
