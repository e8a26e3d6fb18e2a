// The pub/sub side of the redis:// Kv: one connection in subscribe mode,
// owned by one thread that reads messages and calls handlers.
#ifndef ALERTHUB_ADAPTERS_REDIS_INTERNAL_SUBSCRIBER_H_
#define ALERTHUB_ADAPTERS_REDIS_INTERNAL_SUBSCRIBER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/adapters/redis/internal/connection.h"
#include "alerthub/ports/kv.h"
#include "alerthub/ports/subscription.h"

namespace alerthub::redis_internal {

// Subscribes to channels on one connection shared by every subscription of
// the Kv; several local subscriptions to a channel share one server-side
// SUBSCRIBE.
//
// Subscribe() returns once Redis has confirmed the channel's subscription,
// so every message published afterwards reaches the handler. When the
// connection fails, the thread reconnects (with backoff) and subscribes to
// every channel that still has handlers, in one pipelined SUBSCRIBE; messages
// published while it was down are lost (pub/sub keeps nothing). A PING every
// `ping_interval` finds connections that died silently.
//
// Handlers run on the subscriber thread, one at a time, in the order Redis
// delivers messages. Thread-safe.
class Subscriber {
 public:
  Subscriber(ServerConfig config, absl::Duration ping_interval);
  // REQUIRES: every Subscription it returned is destroyed.
  ~Subscriber();

  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // kUnavailable when Redis does not confirm the subscription within the
  // connect and command timeouts, or at once while reconnecting is in
  // backoff.
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view channel,
                                                          Kv::MessageHandler handler);

 private:
  class Sub;
  struct Handler {
    explicit Handler(Kv::MessageHandler fn) : fn(std::move(fn)) {}
    absl::Mutex mu;  // held while fn runs, so unsubscribing waits for it
    bool closed ABSL_GUARDED_BY(mu) = false;
    const Kv::MessageHandler fn;
  };
  // Where the server-side subscription of a channel stands.
  enum class State { kNone, kSubscribing, kSubscribed, kUnsubscribing };
  struct Channel {
    std::vector<std::shared_ptr<Handler>> handlers;
    State state = State::kNone;
  };

  void Remove(const std::string& channel, const std::shared_ptr<Handler>& handler);
  void Wake();
  void Run();
  // One pass of the thread over an open connection; returns false when the
  // connection failed (and logs why).
  bool Serve(redisContext* c, absl::Time* last_io, bool* ping_outstanding);
  void HandleReply(const redisReply& reply, bool* ping_outstanding);
  // Marks every channel unsubscribed after the connection went away.
  void Disconnected(absl::string_view error);

  const ServerConfig config_;
  const absl::Duration ping_interval_;
  int wake_fd_ = -1;  // eventfd: wakes the thread for (un)subscriptions and stop

  absl::Mutex mu_;
  absl::node_hash_map<std::string, Channel> channels_ ABSL_GUARDED_BY(mu_);
  // The latest connection attempt failed and the thread is in backoff.
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);  // started by the first Subscribe
};

}  // namespace alerthub::redis_internal

#endif  // ALERTHUB_ADAPTERS_REDIS_INTERNAL_SUBSCRIBER_H_
