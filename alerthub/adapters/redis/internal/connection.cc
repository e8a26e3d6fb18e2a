#include "alerthub/adapters/redis/internal/connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "alerthub/common/log.h"

namespace alerthub::redis_internal {
namespace {

// At most this many callers' commands go into one pipelined write.
constexpr size_t kMaxBatch = 256;

timeval Timeval(absl::Duration d) {
  timeval tv = absl::ToTimeval(d);
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1000;  // 0 would mean "block"
  return tv;
}

void Append(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
}

}  // namespace

std::string ServerConfig::Address() const { return absl::StrCat(host, ":", port); }

absl::Status IoError(const ServerConfig& config, absl::string_view what, redisContext* c) {
  return absl::UnavailableError(
      absl::StrCat("redis ", config.Address(), ": ", what, ": ",
                   c != nullptr && c->err != 0 ? c->errstr : "connection failed"));
}

absl::StatusOr<ContextPtr> Connect(const ServerConfig& config) {
  ContextPtr c(
      redisConnectWithTimeout(config.host.c_str(), config.port, Timeval(config.connect_timeout)));
  if (c == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("redis ", config.Address(), ": cannot allocate a connection"));
  }
  if (c->err != 0) return IoError(config, "connect", c.get());
  if (redisSetTimeout(c.get(), Timeval(config.command_timeout)) != REDIS_OK ||
      redisEnableKeepAlive(c.get()) != REDIS_OK) {
    return IoError(config, "setting socket options", c.get());
  }

  // AUTH, SELECT and the scripts go out in one write.
  std::vector<std::vector<std::string>> setup;
  if (!config.password.empty()) {
    if (config.username.empty()) {
      setup.push_back({"AUTH", config.password});
    } else {
      setup.push_back({"AUTH", config.username, config.password});
    }
  }
  if (config.database != 0) setup.push_back({"SELECT", absl::StrCat(config.database)});
  for (const std::string& script : config.preload_scripts) {
    setup.push_back({"SCRIPT", "LOAD", script});
  }
  for (const auto& command : setup) Append(c.get(), command);
  for (const auto& command : setup) {
    void* raw = nullptr;
    if (redisGetReply(c.get(), &raw) != REDIS_OK) {
      return IoError(config, absl::StrCat("setting up the connection (", command[0], ")"), c.get());
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) {
      // Never echo the command: AUTH carries the password.
      return absl::UnavailableError(
          absl::StrCat("redis ", config.Address(), ": ", command[0],
                       " failed: ", absl::string_view(reply->str, reply->len)));
    }
  }
  return c;
}

bool PeerClosed(redisContext* c) {
  if (c == nullptr || c->err != 0) return true;
  pollfd p{.fd = c->fd, .events = POLLIN, .revents = 0};
  if (poll(&p, 1, 0) <= 0) return false;  // nothing pending: still open
  if ((p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return true;
  char byte;
  ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
  // EOF, an error, or bytes nobody asked for (the stream is out of step).
  return true;
}

absl::Time Backoff::Failed(absl::Time now) {
  current_ = current_ == absl::ZeroDuration() ? min_ : std::min(max_, current_ * 2);
  // Up to 20% jitter, so many clients do not reconnect in lockstep.
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  double jitter;
  {
    absl::MutexLock lock(&mu);
    jitter = absl::Uniform(*gen, 0.0, 0.2);
  }
  return now + current_ + current_ * jitter;
}

PipelinedConnection::PipelinedConnection(ServerConfig config)
    : config_(std::move(config)), backoff_(config_) {}

PipelinedConnection::~PipelinedConnection() {
  std::thread sender;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    sender = std::move(sender_);
  }
  if (sender.joinable()) sender.join();
}

absl::StatusOr<std::vector<ReplyPtr>> PipelinedConnection::Run(
    std::vector<std::vector<std::string>> commands) {
  Pending mine;
  mine.commands = std::move(commands);
  absl::MutexLock lock(&mu_);
  queue_.push_back(&mine);
  while (!mine.done) {
    if (flushing_) {
      // Another caller is on the wire; it or the next flusher takes ours.
      auto turn = [this, &mine]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return mine.done || !flushing_; };
      mu_.Await(absl::Condition(&turn));
      continue;
    }
    FlushQueued();
  }
  return std::move(mine.result);
}

void PipelinedConnection::Send(std::vector<std::vector<std::string>> commands) {
  auto p = std::make_unique<Pending>();
  p->commands = std::move(commands);
  p->detached = true;
  absl::MutexLock lock(&mu_);
  queue_.push_back(p.release());
  ++detached_queued_;
  if (!sender_.joinable()) sender_ = std::thread([this] { SendLoop(); });
}

void PipelinedConnection::SendLoop() {
  absl::MutexLock lock(&mu_);
  auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return (detached_queued_ > 0 && !flushing_) || (stopping_ && detached_queued_ == 0);
  };
  while (true) {
    mu_.Await(absl::Condition(&work));
    if (detached_queued_ == 0) return;  // stopping, and all sent
    FlushQueued();
  }
}

void PipelinedConnection::FlushQueued() {
  flushing_ = true;
  std::vector<Pending*> batch;
  while (!queue_.empty() && batch.size() < kMaxBatch) {
    if (queue_.front()->detached) --detached_queued_;
    batch.push_back(queue_.front());
    queue_.pop_front();
  }
  mu_.Unlock();
  Flush(batch);
  for (Pending*& p : batch) {
    if (p->detached) {
      delete p;
      p = nullptr;
    }
  }
  mu_.Lock();
  for (Pending* p : batch) {
    if (p != nullptr) p->done = true;
  }
  flushing_ = false;
}

absl::Status PipelinedConnection::EnsureConnected() {
  if (ctx_ != nullptr && !PeerClosed(ctx_.get())) return absl::OkStatus();
  ctx_.reset();
  const absl::Time now = absl::Now();
  const bool sibling_connected =
      absl::FromUnixNanos(config_.last_connect_ns->load()) > last_failure_;
  if (now < next_attempt_ && !sibling_connected) {
    return absl::UnavailableError(absl::StrCat(
        last_error_, " (next connection attempt in ",
        absl::FormatDuration(absl::Trunc(next_attempt_ - now, absl::Milliseconds(1))), ")"));
  }
  absl::StatusOr<ContextPtr> c = Connect(config_);
  if (!c.ok()) {
    last_error_ = std::string(c.status().message());
    last_failure_ = absl::Now();
    next_attempt_ = backoff_.Failed(last_failure_);
    if (!was_down_) {
      was_down_ = true;
      Log(LogLevel::kWarning, "redis unavailable",
          {{"addr", config_.Address()}, {"error", last_error_}});
    }
    return c.status();
  }
  ctx_ = *std::move(c);
  config_.last_connect_ns->store(absl::ToUnixNanos(absl::Now()));
  backoff_.Succeeded();
  next_attempt_ = absl::InfinitePast();
  if (was_down_) {
    was_down_ = false;
    Log(LogLevel::kInfo, "redis reconnected", {{"addr", config_.Address()}});
  }
  return absl::OkStatus();
}

void PipelinedConnection::Flush(const std::vector<Pending*>& batch) {
  if (absl::Status s = EnsureConnected(); !s.ok()) {
    for (Pending* p : batch) p->result = s;
    return;
  }
  for (Pending* p : batch) {
    for (const auto& command : p->commands) Append(ctx_.get(), command);
  }
  absl::Status failure;
  for (Pending* p : batch) {
    if (!failure.ok()) {
      p->result = failure;
      continue;
    }
    std::vector<ReplyPtr> replies;
    replies.reserve(p->commands.size());
    for (size_t i = 0; i < p->commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx_.get(), &raw) != REDIS_OK) {
        failure =
            IoError(config_, absl::StrCat("reading the reply to ", p->commands[i][0]), ctx_.get());
        break;
      }
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
    if (failure.ok()) {
      p->result = std::move(replies);
    } else {
      p->result = failure;
    }
  }
  if (!failure.ok()) {
    // The reply stream is out of step now; the next call reconnects.
    ctx_.reset();
    last_error_ = std::string(failure.message());
    last_failure_ = absl::Now();
    if (!was_down_) {
      was_down_ = true;
      Log(LogLevel::kWarning, "redis unavailable",
          {{"addr", config_.Address()}, {"error", last_error_}});
    }
  }
}

}  // namespace alerthub::redis_internal
