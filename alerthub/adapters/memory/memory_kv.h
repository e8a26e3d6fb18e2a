// memory:// — the embedded Kv: token buckets, values with expiry and pub/sub
// in this process. A real implementation (not a test double), and the one
// tests use for the Kv port.
//
//   std::unique_ptr<Kv> kv = NewMemoryKv({.clock = &clock});
//
// Subscriptions must be destroyed before the Kv.
//
// The Kv also implements TwoBucketTaker (alerthub/ratelimit/token_bucket.h),
// with which RateLimiter takes a request's tenant and endpoint buckets in one
// call: one clock read and one locking of their shards.
//
// Pub/sub handlers run on the publisher's thread, in the order of Publish
// calls; they must be quick (see Kv::Subscribe) and must not publish to a
// channel they are subscribed to.
#ifndef ALERTHUB_ADAPTERS_MEMORY_MEMORY_KV_H_
#define ALERTHUB_ADAPTERS_MEMORY_MEMORY_KV_H_

#include <memory>

#include "alerthub/ports/clock.h"
#include "alerthub/ports/kv.h"

namespace alerthub {

struct MemoryKvOptions {
  // Source of time for buckets and expiry. Must outlive the Kv.
  Clock* clock = nullptr;  // nullptr: Clock::Real()
};

std::unique_ptr<Kv> NewMemoryKv(const MemoryKvOptions& options = {});

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_MEMORY_MEMORY_KV_H_
