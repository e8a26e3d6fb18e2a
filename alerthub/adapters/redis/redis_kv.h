// redis:// — the distributed Kv (ports/kv.h) on Redis 7 through hiredis:
// token buckets, values with expiry and pub/sub shared by every AlertHub
// process that names the same server.
//
//   ALERTHUB_ASSIGN_OR_RETURN(RedisKvOptions options,
//                             RedisKvOptionsFromUrl("redis://:secret@10.0.0.5:6379/2"));
//   options.clock = clock;
//   ALERTHUB_ASSIGN_OR_RETURN(std::unique_ptr<Kv> kv, OpenRedisKv(options));
//
// URL: redis://[[user]:password@]host[:port][/db][?param=value&...] with
// params connections (command connections, default 2), connect_timeout_ms
// (500), command_timeout_ms (1000), max_backoff_ms (5000). Port 6379 and
// database 0 by default. One Redis server (a primary); not Redis Cluster, no
// TLS (hiredis 0.14 has none).
//
// How each call maps onto Redis:
//   TakeTokens   one Lua script (kTokenBucketLua in redis_kv.cc, the same
//                arithmetic as ratelimit/token_bucket.h) run with EVALSHA;
//                loaded on every new connection and again after a NOSCRIPT
//                reply (SCRIPT FLUSH, a failover). "Now" comes from
//                options.clock and is passed to the script, so every process
//                must run a synchronized clock (as for the store); an idle
//                bucket expires (PEXPIRE) a minute after it would be full.
//   SetIfAbsent  SET key value NX PX ttl GET: one atomic command.
//   Set / Get / Delete / Publish   SET PX / GET / DEL / PUBLISH.
//   WriteBehind  SET PX / PUBLISH queued on the key's (channel's)
//                connection without waiting: they go out with the next
//                caller's batch, or from a background sender thread when no
//                caller is on the wire; their replies are dropped.
//   Subscribe    a dedicated subscriber connection and thread
//                (internal/subscriber.h): returns once Redis confirmed the
//                SUBSCRIBE, resubscribes after reconnecting.
// Expiry follows the Redis server's clock.
//
// Concurrency: commands of concurrent callers share a few connections and are
// pipelined (internal/connection.h), so many request threads cost few round
// trips. Every command on one key (or channel) takes the same connection, so
// a Get after a WriteBehind of its key sees the value.
//
// Failure (what "fails open" means): every call returns kUnavailable when
// Redis cannot be reached, within command_timeout for a live connection that
// stops answering and at once while reconnecting is in backoff (100 ms
// doubling to max_backoff, with jitter; as soon as one connection gets
// through, the others try again too). Opening never fails for an
// unreachable server: the Kv starts degraded and connects on first use, so
// ingest keeps running while Redis is down. The callers decide what
// kUnavailable means:
//   - rate limiting (ratelimit/rate_limiter.h): `--rate_limit_fail_open`
//     (default true) lets requests through and counts them in
//     alerthub_rate_limit_fail_open_total; false refuses them with 503;
//   - content dedup (dedup/dedup.h) finds no hit and relies on the store's
//     unique (tenant, dedup_key);
//   - realtime updates are dropped (the store holds the truth); WebSocket
//     subscriptions made while Redis is down are refused (1011), existing
//     ones are resubscribed when it returns.
// A call that fails with kUnavailable may or may not have reached Redis.
//
// Thread-safe. Subscriptions must be destroyed before the Kv.
#ifndef ALERTHUB_ADAPTERS_REDIS_REDIS_KV_H_
#define ALERTHUB_ADAPTERS_REDIS_REDIS_KV_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "alerthub/ports/clock.h"
#include "alerthub/ports/kv.h"

namespace alerthub {

struct RedisKvOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Redis 6 ACL user; empty means AUTH with the password alone.
  std::string username;
  // Empty: no AUTH.
  std::string password;
  // The logical database (SELECT).
  int database = 0;
  // Command connections; each pipelines its callers' commands.
  int connections = 2;
  // Limit on establishing a TCP connection.
  absl::Duration connect_timeout = absl::Milliseconds(500);
  // Limit on waiting for a reply; after it the connection is dropped.
  absl::Duration command_timeout = absl::Seconds(1);
  // Upper bound of the reconnect backoff (it starts at 100 ms).
  absl::Duration max_backoff = absl::Seconds(5);
  // How often the idle subscriber connection is PINGed to find dead ones.
  absl::Duration subscriber_ping_interval = absl::Seconds(5);
  // Source of "now" for token buckets. Must outlive the Kv; nullptr means
  // Clock::Real().
  Clock* clock = nullptr;
};

// Parses a redis:// URL (see above). kInvalidArgument naming the problem.
absl::StatusOr<RedisKvOptions> RedisKvOptionsFromUrl(absl::string_view url);

// Opens the Kv; does not wait for Redis (see "Failure" above).
// kInvalidArgument for bad options.
absl::StatusOr<std::unique_ptr<Kv>> OpenRedisKv(const RedisKvOptions& options);

}  // namespace alerthub

#endif  // ALERTHUB_ADAPTERS_REDIS_REDIS_KV_H_
