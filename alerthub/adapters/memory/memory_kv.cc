#include "alerthub/adapters/memory/memory_kv.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/ratelimit/token_bucket.h"

namespace alerthub {
namespace {

// Keys are spread over shards so concurrent callers rarely share a lock.
constexpr int kShardBits = 5;
constexpr size_t kShards = size_t{1} << kShardBits;
// Every this many writes to a shard, expired entries of that shard go.
constexpr int kSweepEvery = 4096;

struct Entry {
  // A value (is_bucket false) or a token bucket.
  bool is_bucket = false;
  std::string value;
  absl::Time expires_at = absl::InfiniteFuture();
  TokenBucketState bucket;
  TokenBucketSpec spec;
};

// A key with its hash, computed once per call: the hash picks the shard and
// is handed to the shard's map, which then probes without hashing again.
struct HashedKey {
  explicit HashedKey(absl::string_view k) : key(k), hash(absl::HashOf(k)) {}
  absl::string_view key;
  size_t hash;
};

// Heterogeneous hash and equality for the shard maps: stored std::string
// keys and string_view lookups hash as absl::Hash<absl::string_view>, a
// HashedKey returns the hash it carries (the same value).
struct KeyHash {
  using is_transparent = void;
  size_t operator()(absl::string_view key) const { return absl::HashOf(key); }
  size_t operator()(const HashedKey& key) const { return key.hash; }
};
struct KeyEq {
  using is_transparent = void;
  bool operator()(absl::string_view a, absl::string_view b) const { return a == b; }
  bool operator()(absl::string_view a, const HashedKey& b) const { return a == b.key; }
  bool operator()(const HashedKey& a, absl::string_view b) const { return a.key == b; }
};

// Cache-line aligned so that threads working on different shards do not
// invalidate each other's lock word.
struct alignas(ABSL_CACHELINE_SIZE) Shard {
  absl::Mutex mu;
  absl::flat_hash_map<std::string, Entry, KeyHash, KeyEq> map ABSL_GUARDED_BY(mu);
  int writes_since_sweep ABSL_GUARDED_BY(mu) = 0;
};

// One subscriber: the destructor of its Subscription takes `mu` to wait for
// an in-flight handler call and then marks it closed.
struct Subscriber {
  absl::Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;
  Kv::MessageHandler handler;
};

class MemoryKv;

class MemorySubscription final : public Subscription {
 public:
  MemorySubscription(MemoryKv* kv, std::string channel,
                     std::shared_ptr<Subscriber> sub)
      : kv_(kv), channel_(std::move(channel)), sub_(std::move(sub)) {}
  ~MemorySubscription() override;

 private:
  MemoryKv* const kv_;
  const std::string channel_;
  const std::shared_ptr<Subscriber> sub_;
};

class MemoryKv final : public Kv, public TwoBucketTaker {
 public:
  explicit MemoryKv(Clock* clock) : clock_(clock) {}

  absl::StatusOr<TokenBucketDecision> TakeTokens(absl::string_view key,
                                                 const TokenBucketSpec& spec,
                                                 double cost) override {
    if (absl::Status s = ValidateTokenBucket(spec, cost); !s.ok()) return s;
    const absl::Time now = clock_->Now();
    const HashedKey hashed(key);
    Shard& shard = ShardFor(hashed);
    absl::MutexLock lock(&shard.mu);
    return TakeFromBucket(&BucketAt(shard, hashed, spec, now), spec, cost, now);
  }

  // Both shards stay locked for the whole exchange (the lower address first,
  // once when both keys share a shard), so no other call sees the first
  // bucket's tokens taken and then returned.
  absl::StatusOr<TwoBucketDecision> TakeTokensFromBoth(
      absl::string_view first_key, const TokenBucketSpec& first_spec,
      absl::string_view second_key, const TokenBucketSpec& second_spec,
      double cost) override {
    if (absl::Status s = ValidateTokenBucket(first_spec, cost); !s.ok()) return s;
    if (absl::Status s = ValidateTokenBucket(second_spec, cost); !s.ok()) return s;
    const absl::Time now = clock_->Now();
    const HashedKey first(first_key);
    const HashedKey second(second_key);
    Shard& first_shard = ShardFor(first);
    Shard& second_shard = ShardFor(second);
    Shard* lower = std::min(&first_shard, &second_shard);
    Shard* higher = std::max(&first_shard, &second_shard);
    absl::MutexLock lower_lock(&lower->mu);
    std::optional<absl::MutexLock> higher_lock;
    if (higher != lower) higher_lock.emplace(&higher->mu);

    // Each bucket reference is used before the next BucketAt, which may
    // insert (and rehash or sweep) in the same shard.
    TwoBucketDecision d;
    d.first = TakeFromBucket(&BucketAt(first_shard, first, first_spec, now), first_spec,
                             cost, now);
    if (!d.first.allowed) return d;
    d.second = TakeFromBucket(&BucketAt(second_shard, second, second_spec, now),
                              second_spec, cost, now);
    if (!d.second->allowed) {
      TakeFromBucket(&BucketAt(first_shard, first, first_spec, now), first_spec, -cost, now);
    }
    return d;
  }

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) override {
    const absl::Time now = clock_->Now();
    const HashedKey hashed(key);
    Shard& shard = ShardFor(hashed);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.map.find(hashed);
    if (it == shard.map.end() || it->second.is_bucket ||
        now >= it->second.expires_at) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(it->second.value);
  }

  absl::Status Set(absl::string_view key, absl::string_view value,
                   absl::Duration ttl) override {
    if (ttl <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("Kv::Set ttl must be positive");
    }
    const absl::Time now = clock_->Now();
    Shard& shard = ShardFor(HashedKey(key));
    absl::MutexLock lock(&shard.mu);
    MaybeSweep(shard, now);
    Entry& e = shard.map[std::string(key)];
    e = Entry();
    e.value = std::string(value);
    e.expires_at = now + ttl;
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> SetIfAbsent(
      absl::string_view key, absl::string_view value, absl::Duration ttl) override {
    if (ttl <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("Kv::SetIfAbsent ttl must be positive");
    }
    const absl::Time now = clock_->Now();
    Shard& shard = ShardFor(HashedKey(key));
    absl::MutexLock lock(&shard.mu);
    MaybeSweep(shard, now);
    auto [it, inserted] = shard.map.try_emplace(std::string(key));
    Entry& e = it->second;
    if (!inserted && !e.is_bucket && now < e.expires_at) {
      return std::optional<std::string>(e.value);
    }
    e = Entry();
    e.value = std::string(value);
    e.expires_at = now + ttl;
    return std::optional<std::string>();
  }

  absl::Status Delete(absl::string_view key) override {
    const HashedKey hashed(key);
    Shard& shard = ShardFor(hashed);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.map.find(hashed);
    if (it != shard.map.end()) shard.map.erase(it);
    return absl::OkStatus();
  }

  absl::Status Publish(absl::string_view channel,
                       absl::string_view message) override {
    if (subscriber_count_.load(std::memory_order_acquire) == 0) {
      return absl::OkStatus();
    }
    std::vector<std::shared_ptr<Subscriber>> subs;
    {
      absl::MutexLock lock(&pubsub_mu_);
      auto it = channels_.find(channel);
      if (it == channels_.end()) return absl::OkStatus();
      subs = it->second;
    }
    for (const std::shared_ptr<Subscriber>& sub : subs) {
      absl::MutexLock lock(&sub->mu);
      if (!sub->closed) sub->handler(message);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      absl::string_view channel, MessageHandler handler) override {
    if (!handler) return absl::InvalidArgumentError("Kv::Subscribe needs a handler");
    auto sub = std::make_shared<Subscriber>();
    sub->handler = std::move(handler);
    {
      absl::MutexLock lock(&pubsub_mu_);
      channels_[channel].push_back(sub);
      subscriber_count_.fetch_add(1, std::memory_order_release);
    }
    return std::unique_ptr<Subscription>(
        new MemorySubscription(this, std::string(channel), std::move(sub)));
  }

  absl::Status Ping() override { return absl::OkStatus(); }

  void Unsubscribe(const std::string& channel, const std::shared_ptr<Subscriber>& sub) {
    {
      absl::MutexLock lock(&pubsub_mu_);
      auto it = channels_.find(channel);
      if (it != channels_.end()) {
        auto& v = it->second;
        for (size_t i = 0; i < v.size(); ++i) {
          if (v[i] == sub) {
            v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
            subscriber_count_.fetch_sub(1, std::memory_order_release);
            break;
          }
        }
        if (v.empty()) channels_.erase(it);
      }
    }
    absl::MutexLock lock(&sub->mu);  // waits for an in-flight handler call
    sub->closed = true;
  }

 private:
  // The shard is chosen by the hash's top bits: the maps use the low seven
  // bits as the control byte that filters probes, and a shard whose keys all
  // shared those bits would compare keys on most probes.
  Shard& ShardFor(const HashedKey& key) {
    return shards_[(key.hash >> (std::numeric_limits<size_t>::digits - kShardBits)) % kShards];
  }

  // The bucket at `key` in `shard`, created full when absent or when `key`
  // holds a value or an expired entry; remembers `spec` for the sweep.
  static TokenBucketState& BucketAt(Shard& shard, const HashedKey& key,
                                    const TokenBucketSpec& spec, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    auto it = shard.map.find(key);
    if (it == shard.map.end()) {
      MaybeSweep(shard, now);
      it = shard.map.try_emplace(std::string(key.key)).first;
    }
    Entry& e = it->second;
    if (!e.is_bucket || now >= e.expires_at) {
      e = Entry();
      e.is_bucket = true;
    }
    e.spec = spec;
    return e.bucket;
  }

  // Drops expired values and buckets that are full again (a full bucket is
  // the same as a missing one).
  static void MaybeSweep(Shard& shard, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    if (++shard.writes_since_sweep < kSweepEvery) return;
    shard.writes_since_sweep = 0;
    absl::erase_if(shard.map, [now](const auto& kv) {
      const Entry& e = kv.second;
      if (now >= e.expires_at) return true;
      return e.is_bucket && BucketIsFull(e.bucket, e.spec, now);
    });
  }

  Clock* const clock_;
  std::array<Shard, kShards> shards_;

  absl::Mutex pubsub_mu_;
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<Subscriber>>>
      channels_ ABSL_GUARDED_BY(pubsub_mu_);
  std::atomic<int> subscriber_count_{0};
};

MemorySubscription::~MemorySubscription() { kv_->Unsubscribe(channel_, sub_); }

}  // namespace

std::unique_ptr<Kv> NewMemoryKv(const MemoryKvOptions& options) {
  return std::make_unique<MemoryKv>(options.clock != nullptr ? options.clock
                                                             : Clock::Real());
}

}  // namespace alerthub
