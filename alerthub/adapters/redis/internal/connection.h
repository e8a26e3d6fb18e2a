// Connections to one Redis server for the redis:// Kv: how to open one
// (connect, AUTH, SELECT, preload scripts) and a command connection that
// pipelines the commands of concurrent callers.
#ifndef ALERTHUB_ADAPTERS_REDIS_INTERNAL_CONNECTION_H_
#define ALERTHUB_ADAPTERS_REDIS_INTERNAL_CONNECTION_H_

#include <hiredis/hiredis.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace alerthub::redis_internal {

// Where and how to connect. Copied into every connection.
struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // empty: AUTH with the password only
  std::string password;  // empty: no AUTH
  int database = 0;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Seconds(1);
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Lua scripts loaded (SCRIPT LOAD) on every new command connection, so the
  // first EVALSHA finds them.
  std::vector<std::string> preload_scripts;
  // Shared by the connections to one server: when any of them connects, the
  // others stop waiting out their backoff (the server is back).
  std::shared_ptr<std::atomic<int64_t>> last_connect_ns = std::make_shared<std::atomic<int64_t>>(0);

  // "host:port", for messages.
  std::string Address() const;
};

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

// Opens a connection with `config`'s timeouts and TCP keepalive, then sends
// AUTH and SELECT (pipelined). kUnavailable naming the server when it cannot
// be reached or refuses the credentials.
absl::StatusOr<ContextPtr> Connect(const ServerConfig& config);

// True when the server has closed `c` (or it failed): checked before reusing
// an idle connection, so a Redis restart does not cost a failed command.
bool PeerClosed(redisContext* c);

// The exponential backoff between failed connection attempts.
class Backoff {
 public:
  explicit Backoff(const ServerConfig& config)
      : min_(config.min_backoff), max_(config.max_backoff) {}
  // Records a failure at `now`; returns the time the next attempt may start.
  absl::Time Failed(absl::Time now);
  void Succeeded() { current_ = absl::ZeroDuration(); }

 private:
  const absl::Duration min_, max_;
  absl::Duration current_ = absl::ZeroDuration();
};

// One command connection shared by many threads. Commands from concurrent
// callers are pipelined: while one caller has a batch on the wire, others
// queue theirs, and the next caller to run sends everything queued in one
// write and reads the replies in order (flat combining; no extra thread).
//
// Commands queued with Send() ride along with the next caller's batch; a
// background thread (started by the first Send) sends them when no caller is
// on the wire.
//
// Failure: an I/O error or timeout fails every command of the batch with
// kUnavailable and drops the connection; the next call reconnects. A failed
// connection attempt starts a backoff (doubling from min_backoff to
// max_backoff) during which calls fail at once with kUnavailable, so callers
// that fail open are not slowed down by a dead server.
//
// Thread-safe.
class PipelinedConnection {
 public:
  explicit PipelinedConnection(ServerConfig config);
  // Sends what Send() queued first. REQUIRES: no Run() call in progress.
  ~PipelinedConnection();

  PipelinedConnection(const PipelinedConnection&) = delete;
  PipelinedConnection& operator=(const PipelinedConnection&) = delete;

  // Sends `commands` (each an argument vector) back to back and returns one
  // reply per command, in order. A Redis error reply is returned as a reply
  // of type REDIS_REPLY_ERROR, not as a status; the status is kUnavailable
  // when the server could not be reached or the connection failed.
  absl::StatusOr<std::vector<ReplyPtr>> Run(std::vector<std::vector<std::string>> commands);

  // Queues `commands` and returns at once; their replies are read and
  // dropped, so an error reply or a failed connection loses them. They keep
  // their place in the connection's order: a command Run() or Send() queues
  // after this call returns reaches Redis after them.
  void Send(std::vector<std::vector<std::string>> commands);

 private:
  struct Pending {
    std::vector<std::vector<std::string>> commands;
    absl::StatusOr<std::vector<ReplyPtr>> result = absl::UnknownError("pending");
    bool done = false;
    bool detached = false;  // queued by Send(): owned by the queue, nobody waits
  };

  // Takes the flusher role, sends up to kMaxBatch queued callers' commands,
  // completes them (detached ones are deleted) and gives the role back.
  // REQUIRES: !flushing_ and queue_ is not empty.
  void FlushQueued() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `batch` on the connection and fills in each Pending. Called by the
  // one caller that holds the flusher role (flushing_), without mu_.
  void Flush(const std::vector<Pending*>& batch);
  // The background sender: sends detached commands nobody else is sending.
  void SendLoop();
  // Makes sure ctx_ is open; kUnavailable during backoff or when connecting
  // fails.
  absl::Status EnsureConnected();

  const ServerConfig config_;

  absl::Mutex mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  bool flushing_ ABSL_GUARDED_BY(mu_) = false;
  size_t detached_queued_ ABSL_GUARDED_BY(mu_) = 0;  // in queue_
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sender_ ABSL_GUARDED_BY(mu_);  // SendLoop, started by Send()

  // Owned by the caller holding the flusher role.
  ContextPtr ctx_;
  Backoff backoff_;
  absl::Time next_attempt_ = absl::InfinitePast();
  absl::Time last_failure_ = absl::InfinitePast();
  std::string last_error_;
  bool was_down_ = false;  // for logging transitions only
};

// kUnavailable "redis <address>: <what>: <hiredis error>".
absl::Status IoError(const ServerConfig& config, absl::string_view what, redisContext* c);

}  // namespace alerthub::redis_internal

#endif  // ALERTHUB_ADAPTERS_REDIS_INTERNAL_CONNECTION_H_
