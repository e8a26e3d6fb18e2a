#include "alerthub/internal/watch_dispatcher.h"

#include <utility>

namespace alerthub::client_internal {

WatchDispatcher::WatchDispatcher(Callback callback, size_t max_queue)
    : callback_(std::move(callback)), max_queue_(max_queue == 0 ? 1 : max_queue) {
  thread_ = std::thread([this] { Loop(); });
}

WatchDispatcher::~WatchDispatcher() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void WatchDispatcher::Push(StatusUpdate u) {
  absl::MutexLock lock(&mu_);
  if (stop_) return;
  if (queue_.size() >= max_queue_) {
    queue_.pop_front();
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  queue_.push_back(std::move(u));
}

void WatchDispatcher::Loop() {
  while (true) {
    StatusUpdate u;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      u = std::move(queue_.front());
      queue_.pop_front();
    }
    callback_(u);
  }
}

}  // namespace alerthub::client_internal
