// OutboxRelay: publishes the store's outbox to the EventLog (ARCHITECTURE §3
// step 2). A message is marked sent only after the EventLog acknowledged it,
// so delivery to the bus is at-least-once: a crash between the publish and
// the mark publishes that message again on the next start (consumers dedupe
// on the CloudEvent id). Safe to run in several processes at once: claims are
// leased by the store.
//
//   OutboxRelay relay(store, event_log, {});
//   relay.Start();           // a background thread; Wake() after commits
//   ...
//   relay.Stop();            // returns after the thread's last batch
#ifndef ALERTHUB_PIPELINE_OUTBOX_RELAY_H_
#define ALERTHUB_PIPELINE_OUTBOX_RELAY_H_

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alerthub/ports/event_log.h"
#include "alerthub/ports/store.h"

namespace alerthub {

struct OutboxRelayOptions {
  // Messages claimed and published per round.
  int batch_size = 512;
  // How long a claim hides messages from other relays; a relay that dies
  // mid-round releases its messages when this passes.
  absl::Duration claim_lease = absl::Seconds(30);
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
  // many messages were published and marked sent. For start-up replay and
  // tests; thread-safe with a running relay (claims keep them apart).
  absl::StatusOr<int64_t> Drain();

  // Starts the background thread. REQUIRES: not started.
  void Start();
  // Wakes the background thread now (after a commit).
  void Wake();
  // Stops the background thread after its current round. Idempotent.
  void Stop();

  int64_t published() const { return published_.load(std::memory_order_relaxed); }
  int64_t failed_rounds() const { return failed_rounds_.load(std::memory_order_relaxed); }

 private:
  // One claim/publish/mark round: the number published, 0 when empty.
  absl::StatusOr<int64_t> RunRound();
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
