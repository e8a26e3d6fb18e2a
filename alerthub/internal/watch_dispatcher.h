// WatchDispatcher: delivers status updates to a Client::Watch callback on its
// own thread through a bounded queue, so a slow callback never blocks the
// thread that produced the update (a commit, a socket reader).
#ifndef ALERTHUB_INTERNAL_WATCH_DISPATCHER_H_
#define ALERTHUB_INTERNAL_WATCH_DISPATCHER_H_

#include <atomic>
#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/pipeline/realtime.h"

namespace alerthub::client_internal {

class WatchDispatcher {
 public:
  using Callback = std::function<void(const StatusUpdate&)>;

  WatchDispatcher(Callback callback, size_t max_queue);
  // Stops the thread; updates still queued are discarded.
  ~WatchDispatcher();

  // Queues `u`; when the queue is full the oldest update is dropped.
  // Thread-safe, never blocks on the callback.
  void Push(StatusUpdate u);

  int64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void Loop();

  const Callback callback_;
  const size_t max_queue_;
  std::atomic<int64_t> dropped_{0};
  absl::Mutex mu_;
  std::deque<StatusUpdate> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace alerthub::client_internal

#endif  // ALERTHUB_INTERNAL_WATCH_DISPATCHER_H_
