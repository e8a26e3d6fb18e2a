// OutboxRelay: publishes the store's outbox to the EventLog (ARCHITECTURE §3
// step 2). A message is marked sent only after the EventLog acknowledged it,
// so delivery to the bus is at-least-once: a crash between the publish and
// the mark publishes that message again on the next start (consumers dedupe
// on the CloudEvent id). Safe to run in several processes at once: the
// store hands each batch to one taker.
//
// Rounds are pipelined: one thread takes a batch and hands it to the bus
// (EventLog::StartPublish) while the reports of up to
// max_rounds_in_flight - 1 earlier rounds are still outstanding, so the
// broker always has work; a round's batch (Store::TakeOutbox) is finished
// with its acknowledged rows once its reports are in. Batches are handed
// over in claim order from that one thread, so messages of one key reach
// the bus in outbox order. A message whose report failed goes back to the
// outbox (at once on PostgreSQL, when the claim's lease passes elsewhere)
// and is taken again; the relay stops taking batches after such a failure,
// settles the rounds in flight, and backs off.
//
//   OutboxRelay relay(store, event_log, {});
//   relay.Start();           // a background thread; Wake() after commits
//   ...
//   relay.Stop();            // returns after the thread's last batch
#ifndef ALERTHUB_PIPELINE_OUTBOX_RELAY_H_
#define ALERTHUB_PIPELINE_OUTBOX_RELAY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/ports/event_log.h"
#include "alerthub/ports/store.h"

namespace alerthub {

struct OutboxRelayOptions {
  // Messages claimed and published per round.
  int batch_size = 512;
  // Rounds whose delivery reports may be outstanding at once (values below 1
  // count as 1, which waits for every round's reports before the next
  // claim). A crash republishes at most batch_size * max_rounds_in_flight
  // messages that the bus already has; claim_lease should cover the time the
  // bus takes to report on that many. At most 4 on PostgreSQL, whose store
  // holds a connection per taken batch from a pool of four.
  int max_rounds_in_flight = 4;
  // The longest a batch may stay taken (Store::TakeOutbox): where batches
  // are leases, a relay that dies mid-round releases its messages when this
  // passes; where they are held transactions (PostgreSQL), a dead relay's
  // are released with its connection, and a stalled one's after this.
  absl::Duration claim_lease = absl::Seconds(30);
  // A round takes the rows after the previous round's last one (see
  // Store::TakeOutbox's after_seq), and every this many rounds looks again
  // from the lowest seq, for rows committed out of seq order.
  // A rescan walks past the rows of the rounds since the last one
  // (PostgreSQL cannot prune them while rounds are open): after 64 rounds it
  // took as long as about 25 ordinary takes.
  int rounds_per_rescan = 64;
  // Poll interval when nothing wakes the relay (other processes' commits).
  absl::Duration idle_poll = absl::Milliseconds(250);
  // Pause after a failed round (bus or store unavailable).
  absl::Duration retry_backoff = absl::Milliseconds(500);
};

class OutboxRelay {
 public:
  // `store` and `log` must outlive the relay.
  OutboxRelay(Store* store, EventLog* log, OutboxRelayOptions options);
  ~OutboxRelay();  // Stop()s

  // Publishes rounds until the outbox is empty or a round fails; returns how
  // many messages were published and marked sent. On failure the messages
  // acknowledged before it are marked sent all the same, and the error is
  // returned. For start-up replay and tests; thread-safe with a running relay
  // (claims keep them apart).
  absl::StatusOr<int64_t> Drain();

  // Starts the background thread. REQUIRES: not started.
  void Start();
  // Wakes the background thread now (after a commit).
  void Wake();
  // Stops the background thread once the rounds it has in flight are
  // settled (their reports in, the acknowledged rows marked). Idempotent.
  void Stop();

  int64_t published() const { return published_.load(std::memory_order_relaxed); }
  int64_t failed_rounds() const { return failed_rounds_.load(std::memory_order_relaxed); }

 private:
  // A batch taken from the outbox and handed to the bus; its reports may be
  // outstanding.
  struct Round {
    std::vector<int64_t> seqs;  // the batch's rows, in seq order
    std::unique_ptr<OutboxBatch> batch;
    std::unique_ptr<PendingPublish> publish;
  };

  // Takes a batch (rows after `after_seq`, as a hint) and hands it to the
  // bus; no seqs when nothing is claimable.
  absl::StatusOr<Round> StartRound(int64_t after_seq);
  // Waits for the reports of `rounds` and finishes each batch with its
  // acknowledged rows. The number marked sent, or the first failed report's
  // status (or a Finish's) after finishing every round.
  absl::StatusOr<int64_t> Settle(std::vector<Round> rounds);
  // Pipelined rounds until a claim comes back short of batch_size, a round
  // fails or `stop()`; every round started is settled before it returns. The
  // number marked sent, or the first error.
  absl::StatusOr<int64_t> RunRounds(absl::FunctionRef<bool()> stop);
  void Loop();

  Store* const store_;
  EventLog* const log_;
  const OutboxRelayOptions options_;
  std::atomic<int64_t> published_{0};
  std::atomic<int64_t> failed_rounds_{0};

  absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace alerthub

#endif  // ALERTHUB_PIPELINE_OUTBOX_RELAY_H_
