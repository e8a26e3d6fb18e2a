// WebSocketWatch: remote mode's Client::Watch. Follows the router's realtime
// stream (GET /api/v1/ws, docs/api.md) on a thread of its own: connects,
// authenticates with X-API-Key, sends the subscribe filter, and hands each
// matching `notification.updated` message to a WatchDispatcher, which calls
// the callback on its own thread. When the connection drops (router restart,
// network failure, a 1013 "too slow" close) it reconnects with exponential
// backoff (100 ms doubling to 5 s, jittered) and subscribes again, until the
// watch is destroyed; updates published while disconnected are missed (read
// current states back with Get).
//
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<WebSocketWatch> w,
//                             WebSocketWatch::Start(endpoint, key, timeout, options, cb));
//   ...
//   w.reset();  // closes the socket (close frame, then TCP) within ~0.5 s
#ifndef ALERTHUB_REMOTE_INTERNAL_WS_WATCH_H_
#define ALERTHUB_REMOTE_INTERNAL_WS_WATCH_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alerthub/client.h"
#include "alerthub/remote/internal/endpoint.h"

namespace alerthub::remote_internal {

class WebSocketWatch final : public WatchHandle {
 public:
  // Opens the stream and waits until the router confirms the subscription,
  // so every update committed after this returns is delivered. Errors:
  // kUnauthenticated / kPermissionDenied from the upgrade answer;
  // kUnavailable when the router cannot be reached (after 3 quick retries)
  // or does not confirm within `timeout`; kInvalidArgument when the router
  // rejects the filter.
  static absl::StatusOr<std::unique_ptr<WebSocketWatch>> Start(const Endpoint& endpoint,
                                                               const std::string& api_key,
                                                               absl::Duration timeout,
                                                               const WatchOptions& options,
                                                               Client::UpdateCallback callback);

  // Closes the connection, stops the thread, then the callback thread (an
  // update still queued is not delivered).
  ~WebSocketWatch() override;

  int64_t dropped() const override;

 private:
  class Impl;
  explicit WebSocketWatch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace alerthub::remote_internal

#endif  // ALERTHUB_REMOTE_INTERNAL_WS_WATCH_H_
