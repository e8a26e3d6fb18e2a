#include "alerthub/adapters/redis/internal/subscriber.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/common/log.h"

namespace alerthub::redis_internal {
namespace {

absl::string_view Str(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) {
    return {};
  }
  return absl::string_view(r->str, r->len);
}

// The thread's longest sleep: it also bounds how late a PING goes out.
constexpr absl::Duration kMaxPoll = absl::Seconds(1);

}  // namespace

class Subscriber::Sub final : public Subscription {
 public:
  Sub(Subscriber* owner, std::string channel, std::shared_ptr<Handler> handler)
      : owner_(owner), channel_(std::move(channel)), handler_(std::move(handler)) {}
  ~Sub() override { owner_->Remove(channel_, handler_); }

 private:
  Subscriber* const owner_;
  const std::string channel_;
  const std::shared_ptr<Handler> handler_;
};

Subscriber::Subscriber(ServerConfig config, absl::Duration ping_interval)
    : config_(std::move(config)),
      ping_interval_(ping_interval),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Subscriber::~Subscriber() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    thread = std::move(thread_);
  }
  Wake();
  if (thread.joinable()) thread.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Subscriber::Wake() {
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

absl::StatusOr<std::unique_ptr<Subscription>> Subscriber::Subscribe(absl::string_view channel,
                                                                    Kv::MessageHandler handler) {
  if (!handler) return absl::InvalidArgumentError("Kv::Subscribe needs a handler");
  if (wake_fd_ < 0) return absl::InternalError("redis subscriber: eventfd failed");
  auto h = std::make_shared<Handler>(std::move(handler));
  const std::string name(channel);

  absl::MutexLock lock(&mu_);
  if (stop_) return absl::FailedPreconditionError("redis subscriber is shutting down");
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  Channel& c = channels_[name];
  c.handlers.push_back(h);
  if (c.state == State::kSubscribed) {
    return std::unique_ptr<Subscription>(new Sub(this, name, std::move(h)));
  }

  auto confirmed = [this, &name]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = channels_.find(name);
    return it != channels_.end() && it->second.state == State::kSubscribed;
  };
  if (!down_) {
    Wake();
    auto settled = [&]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || down_ || confirmed(); };
    mu_.AwaitWithTimeout(absl::Condition(&settled),
                         config_.connect_timeout + 2 * config_.command_timeout);
    if (confirmed()) return std::unique_ptr<Subscription>(new Sub(this, name, std::move(h)));
  }
  // Not subscribed: take the handler back (the thread unsubscribes the
  // channel if nobody else wants it).
  auto it = channels_.find(name);
  if (it != channels_.end()) {
    auto& handlers = it->second.handlers;
    handlers.erase(std::remove(handlers.begin(), handlers.end(), h), handlers.end());
  }
  Wake();
  return absl::UnavailableError(down_ ? absl::StrCat("redis subscribe ", name, ": ", last_error_)
                                      : absl::StrCat("redis ", config_.Address(), ": SUBSCRIBE ",
                                                     name, " not confirmed in time"));
}

void Subscriber::Remove(const std::string& channel, const std::shared_ptr<Handler>& handler) {
  {
    absl::MutexLock lock(&mu_);
    auto it = channels_.find(channel);
    if (it != channels_.end()) {
      auto& handlers = it->second.handlers;
      handlers.erase(std::remove(handlers.begin(), handlers.end(), handler), handlers.end());
    }
  }
  Wake();
  absl::MutexLock lock(&handler->mu);  // waits for a call in progress
  handler->closed = true;
}

void Subscriber::Run() {
  ContextPtr ctx;
  Backoff backoff(config_);
  absl::Time next_attempt = absl::InfinitePast();
  absl::Time last_io;
  bool ping_outstanding = false;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    if (ctx == nullptr) {
      const absl::Time now = absl::Now();
      if (now < next_attempt) {
        pollfd p{.fd = wake_fd_, .events = POLLIN, .revents = 0};
        poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(next_attempt - now)) + 1);
        uint64_t drained;
        (void)!read(wake_fd_, &drained, sizeof(drained));
        continue;
      }
      absl::StatusOr<ContextPtr> c = Connect(config_);
      if (!c.ok()) {
        next_attempt = backoff.Failed(absl::Now());
        absl::MutexLock lock(&mu_);
        if (!down_) {
          Log(LogLevel::kWarning, "redis subscriber unavailable",
              {{"addr", config_.Address()}, {"error", std::string(c.status().message())}});
        }
        down_ = true;
        last_error_ = std::string(c.status().message());
        continue;
      }
      ctx = *std::move(c);
      backoff.Succeeded();
      last_io = absl::Now();
      ping_outstanding = false;
      absl::MutexLock lock(&mu_);
      if (down_)
        Log(LogLevel::kInfo, "redis subscriber reconnected", {{"addr", config_.Address()}});
      down_ = false;
    }
    if (!Serve(ctx.get(), &last_io, &ping_outstanding)) {
      Disconnected(ctx->err != 0 ? ctx->errstr : "PING not answered");
      ctx.reset();
      // One immediate attempt; failures from there on back off.
      next_attempt = absl::InfinitePast();
    }
  }
}

bool Subscriber::Serve(redisContext* c, absl::Time* last_io, bool* ping_outstanding) {
  // Bring the server's subscriptions in line with the handlers.
  std::vector<std::string> subscribe = {"SUBSCRIBE"};
  std::vector<std::string> unsubscribe = {"UNSUBSCRIBE"};
  {
    absl::MutexLock lock(&mu_);
    for (auto it = channels_.begin(); it != channels_.end();) {
      Channel& ch = it->second;
      const bool wanted = !ch.handlers.empty();
      if (wanted && ch.state == State::kNone) {
        subscribe.push_back(it->first);
        ch.state = State::kSubscribing;
      } else if (!wanted && ch.state == State::kSubscribed) {
        unsubscribe.push_back(it->first);
        ch.state = State::kUnsubscribing;
      } else if (!wanted && ch.state == State::kNone) {
        channels_.erase(it++);
        continue;
      }
      ++it;
    }
  }
  std::vector<std::vector<std::string>> commands;
  if (subscribe.size() > 1) commands.push_back(std::move(subscribe));
  if (unsubscribe.size() > 1) commands.push_back(std::move(unsubscribe));
  const absl::Time now = absl::Now();
  if (*ping_outstanding && now - *last_io > ping_interval_ + config_.command_timeout) {
    return false;  // the PING went unanswered: the connection is dead
  }
  if (!*ping_outstanding && now - *last_io >= ping_interval_) {
    commands.push_back({"PING"});
    *ping_outstanding = true;
  }
  if (!commands.empty()) {
    for (const auto& args : commands) {
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const std::string& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
    }
    int done = 0;
    while (!done) {
      if (redisBufferWrite(c, &done) != REDIS_OK) return false;
    }
  }

  pollfd fds[2] = {{.fd = c->fd, .events = POLLIN, .revents = 0},
                   {.fd = wake_fd_, .events = POLLIN, .revents = 0}};
  const absl::Duration wait = std::min(kMaxPoll, ping_interval_);
  if (poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(wait))) < 0) return true;
  if (fds[1].revents != 0) {
    uint64_t drained;
    (void)!read(wake_fd_, &drained, sizeof(drained));
  }
  if (fds[0].revents == 0) return true;
  if (redisBufferRead(c) != REDIS_OK) return false;
  *last_io = absl::Now();
  while (true) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(c, &raw) != REDIS_OK) return false;
    if (raw == nullptr) break;
    ReplyPtr reply(static_cast<redisReply*>(raw));
    HandleReply(*reply, ping_outstanding);
  }
  return true;
}

void Subscriber::HandleReply(const redisReply& reply, bool* ping_outstanding) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 1) return;
  const absl::string_view kind = Str(reply.element[0]);
  if (kind == "message" && reply.elements == 3) {
    const std::string channel(Str(reply.element[1]));
    const absl::string_view payload = Str(reply.element[2]);
    std::vector<std::shared_ptr<Handler>> handlers;
    {
      absl::MutexLock lock(&mu_);
      auto it = channels_.find(channel);
      if (it == channels_.end()) return;
      handlers = it->second.handlers;
    }
    for (const std::shared_ptr<Handler>& h : handlers) {
      absl::MutexLock lock(&h->mu);
      if (!h->closed) h->fn(payload);
    }
  } else if ((kind == "subscribe" || kind == "unsubscribe") && reply.elements >= 2) {
    absl::MutexLock lock(&mu_);
    auto it = channels_.find(std::string(Str(reply.element[1])));
    if (it == channels_.end()) return;
    if (kind == "subscribe" && it->second.state == State::kSubscribing) {
      it->second.state = State::kSubscribed;
    } else if (kind == "unsubscribe" && it->second.state == State::kUnsubscribing) {
      it->second.state = State::kNone;
    }
  } else if (kind == "pong") {
    *ping_outstanding = false;
  }
}

void Subscriber::Disconnected(absl::string_view error) {
  Log(LogLevel::kWarning, "redis subscriber connection lost; resubscribing",
      {{"addr", config_.Address()}, {"error", std::string(error)}});
  absl::MutexLock lock(&mu_);
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->second.handlers.empty()) {
      channels_.erase(it++);
    } else {
      it->second.state = State::kNone;
      ++it;
    }
  }
}

}  // namespace alerthub::redis_internal
