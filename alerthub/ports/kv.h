// Kv: fast shared state with expiry and pub/sub — rate-limit buckets, the
// content-dedup window and realtime status updates. Embedded default
// `memory://` (adapters/memory), distributed `redis://`.
//
// Thread safety: safe for concurrent access from multiple threads.
//
// Kv holds no data whose loss loses notifications: the store is the source of
// truth. Callers degrade when Kv answers kUnavailable (see pipeline/).
//
//   absl::StatusOr<TokenBucketDecision> d =
//       kv->TakeTokens("rl:tenant:t1", {.rate_per_second = 100, .burst = 200}, 1);
#ifndef ALERTHUB_PORTS_KV_H_
#define ALERTHUB_PORTS_KV_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/subscription.h"

namespace alerthub {

// A token bucket: holds at most `burst` tokens and refills at
// `rate_per_second`. A new bucket starts full.
struct TokenBucketSpec {
  double rate_per_second = 0;
  double burst = 0;
};

struct TokenBucketDecision {
  bool allowed = false;
  double remaining = 0;          // tokens left after this call
  absl::Duration retry_after;    // zero when allowed; else until `cost` tokens exist
  absl::Duration reset_after;    // until the bucket is full again
};

// One write of Kv::WriteBehind: a Set (key, value, ttl) or a Publish
// (channel, message).
struct KvWrite {
  enum class Kind { kSet, kPublish };

  static KvWrite Set(std::string key, std::string value, absl::Duration ttl) {
    return KvWrite{Kind::kSet, std::move(key), std::move(value), ttl};
  }
  static KvWrite Publish(std::string channel, std::string message) {
    return KvWrite{Kind::kPublish, std::move(channel), std::move(message),
                   absl::ZeroDuration()};
  }

  Kind kind = Kind::kSet;
  std::string key;    // the channel of a publish
  std::string value;  // the message of a publish
  absl::Duration ttl;  // sets only; > 0
};

class Kv {
 public:
  virtual ~Kv() = default;

  // Atomically refills the bucket stored at `key` to the adapter clock's now
  // and takes `cost` tokens if that many are present. A denied call takes
  // nothing. Buckets idle long enough to be full may be forgotten.
  // kInvalidArgument when spec.rate_per_second or spec.burst is not positive
  // or cost < 0; kUnavailable when the server cannot be reached.
  virtual absl::StatusOr<TokenBucketDecision> TakeTokens(
      absl::string_view key, const TokenBucketSpec& spec, double cost) = 0;

  // The value at `key`, or std::nullopt when absent or expired.
  // kUnavailable when the server cannot be reached.
  virtual absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) = 0;

  // Stores `value` at `key` for `ttl` (> 0), replacing any value.
  virtual absl::Status Set(absl::string_view key, absl::string_view value,
                           absl::Duration ttl) = 0;

  // Stores `value` at `key` for `ttl` only when `key` is absent or expired.
  // Returns std::nullopt when it stored the value, else the value present.
  virtual absl::StatusOr<std::optional<std::string>> SetIfAbsent(
      absl::string_view key, absl::string_view value, absl::Duration ttl) = 0;

  // Removes `key`; OK when it was absent.
  virtual absl::Status Delete(absl::string_view key) = 0;

  // Sends `message` to every current subscriber of `channel` (fire and
  // forget: no delivery guarantee, no persistence).
  virtual absl::Status Publish(absl::string_view channel,
                               absl::string_view message) = 0;

  // Calls `handler(message)` for every message published to `channel` after
  // this returns, in publication order per publisher. The handler runs on an
  // adapter thread (or the publisher's, for memory://) and must not block:
  // hand slow work to a queue.
  using MessageHandler = std::function<void(absl::string_view message)>;
  virtual absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view channel, MessageHandler handler) = 0;

  // OK when the adapter can serve requests now; kUnavailable otherwise.
  virtual absl::Status Ping() = 0;

  // Best-effort writes whose outcome the caller does not need (remembering
  // a dedup hash, a realtime update): applies `writes` in order and may
  // return before they are applied; a write that fails (server unreachable,
  // a set without a positive ttl) is dropped. Ordering holds as if each were
  // made by a blocking call here: a Get of the same key by any thread of
  // this process that starts after WriteBehind returned sees the value (or
  // a later one), and publishes to one channel reach subscribers in the
  // order of the calls. The default runs Set and Publish in turn.
  virtual void WriteBehind(std::vector<KvWrite> writes);
};

}  // namespace alerthub

#endif  // ALERTHUB_PORTS_KV_H_
