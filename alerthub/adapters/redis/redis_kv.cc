#include "alerthub/adapters/redis/redis_kv.h"

#include <openssl/evp.h>

#include <atomic>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "alerthub/adapters/redis/internal/connection.h"
#include "alerthub/adapters/redis/internal/subscriber.h"
#include "alerthub/ratelimit/token_bucket.h"

namespace alerthub {
namespace {

using redis_internal::PipelinedConnection;
using redis_internal::ReplyPtr;
using redis_internal::ServerConfig;
using redis_internal::Subscriber;

// Kv::TakeTokens in one atomic step: the arithmetic of TakeFromBucket()
// (ratelimit/token_bucket.cc) on a hash {tokens, updated}. A missing bucket
// is a full one. Numbers go back as strings: Redis would truncate Lua numbers
// to integers.
//   KEYS[1]  the bucket
//   ARGV     rate_per_second, burst, cost, now (Unix microseconds)
//   returns  {allowed (0|1), remaining, retry_after_s, reset_after_s}
constexpr char kTokenBucketLua[] = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
elseif now > updated then
  tokens = math.min(burst, tokens + (now - updated) / 1e6 * rate)
  updated = now
end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = math.min(burst, tokens - cost)
  allowed = 1
else
  retry = math.max(0, math.min(cost, burst) - tokens) / rate
end
local reset = (burst - tokens) / rate
local f = '%.17g'
redis.call('HSET', KEYS[1], 'tokens', string.format(f, tokens),
           'updated', string.format(f, updated))
-- Forgotten a minute after it would be full again (a full bucket and a
-- missing one are the same).
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil(reset * 1000) + 60000))
return {allowed, string.format(f, tokens), string.format(f, retry), string.format(f, reset)}
)lua";

std::string Sha1Hex(absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) absl::StrAppendFormat(&hex, "%02x", md[i]);
  return hex;
}

std::string Num(double d) { return absl::StrFormat("%.17g", d); }

absl::string_view Text(const redisReply& r) { return absl::string_view(r.str, r.len); }

// A Redis error reply as a status. Errors that mean "this server cannot serve
// now" are kUnavailable, so callers degrade as for an outage.
absl::Status FromErrorReply(const redisReply& r, absl::string_view command) {
  const absl::string_view text = Text(r);
  const std::string message = absl::StrCat("redis ", command, ": ", text);
  for (absl::string_view prefix :
       {"LOADING", "READONLY", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "OOM"}) {
    if (absl::StartsWith(text, prefix)) return absl::UnavailableError(message);
  }
  for (absl::string_view prefix : {"NOAUTH", "WRONGPASS", "NOPERM"}) {
    if (absl::StartsWith(text, prefix)) {
      return absl::UnavailableError(
          absl::StrCat(message, " (check the credentials in the redis:// URL)"));
    }
  }
  if (absl::StartsWith(text, "WRONGTYPE")) return absl::FailedPreconditionError(message);
  return absl::InternalError(message);
}

// PX argument: whole milliseconds, at least 1.
std::string Millis(absl::Duration ttl) {
  return absl::StrCat(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(ttl, absl::Milliseconds(1)))));
}

class RedisKv final : public Kv {
 public:
  RedisKv(const RedisKvOptions& options, const ServerConfig& config)
      : clock_(options.clock != nullptr ? options.clock : Clock::Real()),
        script_sha_(Sha1Hex(kTokenBucketLua)),
        subscriber_(config, options.subscriber_ping_interval) {
    ServerConfig commands = config;
    commands.preload_scripts = {kTokenBucketLua};
    for (int i = 0; i < options.connections; ++i) {
      connections_.push_back(std::make_unique<PipelinedConnection>(commands));
    }
  }

  absl::StatusOr<TokenBucketDecision> TakeTokens(absl::string_view key, const TokenBucketSpec& spec,
                                                 double cost) override {
    if (absl::Status s = ValidateTokenBucket(spec, cost); !s.ok()) return s;
    const double now_us = static_cast<double>(absl::ToUnixMicros(clock_->Now()));
    std::vector<std::string> evalsha = {
        "EVALSHA",       script_sha_, "1",        std::string(key), Num(spec.rate_per_second),
        Num(spec.burst), Num(cost),   Num(now_us)};
    absl::StatusOr<ReplyPtr> reply = RunOn(key, evalsha);
    if (reply.ok() && (*reply)->type == REDIS_REPLY_ERROR &&
        absl::StartsWith(Text(**reply), "NOSCRIPT")) {
      // The server lost its script cache (SCRIPT FLUSH, a restart behind a
      // proxy, a failover): load it again and retry once.
      absl::StatusOr<ReplyPtr> loaded = RunOn(key, {"SCRIPT", "LOAD", kTokenBucketLua});
      if (!loaded.ok()) return loaded.status();
      if ((*loaded)->type == REDIS_REPLY_ERROR) return FromErrorReply(**loaded, "SCRIPT LOAD");
      reply = RunOn(key, std::move(evalsha));
    }
    if (!reply.ok()) return reply.status();
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_ERROR) return FromErrorReply(r, "EVALSHA (token bucket)");
    double remaining, retry_s, reset_s;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 4 ||
        r.element[0]->type != REDIS_REPLY_INTEGER || r.element[1]->type != REDIS_REPLY_STRING ||
        !absl::SimpleAtod(Text(*r.element[1]), &remaining) ||
        r.element[2]->type != REDIS_REPLY_STRING ||
        !absl::SimpleAtod(Text(*r.element[2]), &retry_s) ||
        r.element[3]->type != REDIS_REPLY_STRING ||
        !absl::SimpleAtod(Text(*r.element[3]), &reset_s)) {
      return absl::InternalError("redis token bucket script returned an unexpected reply");
    }
    TokenBucketDecision d;
    d.allowed = r.element[0]->integer == 1;
    d.remaining = remaining;
    d.retry_after = absl::Seconds(retry_s);
    d.reset_after = absl::Seconds(reset_s);
    return d;
  }

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) override {
    absl::StatusOr<ReplyPtr> reply = RunOn(key, {"GET", std::string(key)});
    if (!reply.ok()) return reply.status();
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if (r.type == REDIS_REPLY_STRING) return std::optional<std::string>(std::string(Text(r)));
    // A token bucket under this key is not a value (as in memory://).
    if (r.type == REDIS_REPLY_ERROR && absl::StartsWith(Text(r), "WRONGTYPE")) {
      return std::optional<std::string>();
    }
    if (r.type == REDIS_REPLY_ERROR) return FromErrorReply(r, "GET");
    return absl::InternalError("redis GET returned an unexpected reply");
  }

  absl::Status Set(absl::string_view key, absl::string_view value, absl::Duration ttl) override {
    if (ttl <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("Kv::Set ttl must be positive");
    }
    absl::StatusOr<ReplyPtr> reply =
        RunOn(key, {"SET", std::string(key), std::string(value), "PX", Millis(ttl)});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) return FromErrorReply(**reply, "SET");
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> SetIfAbsent(absl::string_view key,
                                                         absl::string_view value,
                                                         absl::Duration ttl) override {
    if (ttl <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("Kv::SetIfAbsent ttl must be positive");
    }
    // NX with GET (Redis 7.0+): stores when absent and returns nil, else
    // returns the present value and stores nothing — one atomic command.
    absl::StatusOr<ReplyPtr> reply =
        RunOn(key, {"SET", std::string(key), std::string(value), "NX", "PX", Millis(ttl), "GET"});
    if (!reply.ok()) return reply.status();
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if (r.type == REDIS_REPLY_STRING) return std::optional<std::string>(std::string(Text(r)));
    if (r.type == REDIS_REPLY_ERROR) {
      absl::Status s = FromErrorReply(r, "SET NX GET");
      if (absl::StartsWith(Text(r), "ERR syntax")) {
        return absl::FailedPreconditionError(
            absl::StrCat(s.message(), " (redis:// needs Redis 7.0 or later)"));
      }
      return s;
    }
    return absl::InternalError("redis SET NX GET returned an unexpected reply");
  }

  absl::Status Delete(absl::string_view key) override {
    absl::StatusOr<ReplyPtr> reply = RunOn(key, {"DEL", std::string(key)});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) return FromErrorReply(**reply, "DEL");
    return absl::OkStatus();
  }

  absl::Status Publish(absl::string_view channel, absl::string_view message) override {
    absl::StatusOr<ReplyPtr> reply =
        RunOn(channel, {"PUBLISH", std::string(channel), std::string(message)});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) return FromErrorReply(**reply, "PUBLISH");
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(absl::string_view channel,
                                                          MessageHandler handler) override {
    return subscriber_.Subscribe(channel, std::move(handler));
  }

  absl::Status Ping() override {
    absl::StatusOr<ReplyPtr> reply =
        RunOn(*connections_[next_.fetch_add(1, std::memory_order_relaxed) % connections_.size()],
              {"PING"});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) return FromErrorReply(**reply, "PING");
    return absl::OkStatus();
  }

  void WriteBehind(std::vector<KvWrite> writes) override {
    // Each connection's share goes out in one Send, in call order.
    std::vector<std::vector<std::vector<std::string>>> per_connection(connections_.size());
    for (KvWrite& w : writes) {
      std::vector<std::string> command;
      switch (w.kind) {
        case KvWrite::Kind::kSet:
          if (w.ttl <= absl::ZeroDuration()) continue;  // invalid: dropped
          command = {"SET", w.key, std::move(w.value), "PX", Millis(w.ttl)};
          break;
        case KvWrite::Kind::kPublish:
          command = {"PUBLISH", w.key, std::move(w.value)};
          break;
      }
      per_connection[ConnectionIndex(w.key)].push_back(std::move(command));
    }
    for (size_t i = 0; i < per_connection.size(); ++i) {
      if (!per_connection[i].empty()) connections_[i]->Send(std::move(per_connection[i]));
    }
  }

 private:
  // Commands on one key (or channel) always take the same connection, so
  // they reach Redis in the order they were made, WriteBehind's included.
  size_t ConnectionIndex(absl::string_view key) const {
    return absl::HashOf(key) % connections_.size();
  }

  absl::StatusOr<ReplyPtr> RunOn(absl::string_view key, std::vector<std::string> command) {
    return RunOn(*connections_[ConnectionIndex(key)], std::move(command));
  }

  static absl::StatusOr<ReplyPtr> RunOn(PipelinedConnection& c, std::vector<std::string> command) {
    absl::StatusOr<std::vector<ReplyPtr>> replies = c.Run({std::move(command)});
    if (!replies.ok()) return replies.status();
    return std::move(replies->front());
  }

  Clock* const clock_;
  const std::string script_sha_;
  std::vector<std::unique_ptr<PipelinedConnection>> connections_;
  std::atomic<size_t> next_{0};
  // Declared last, destroyed first: its thread stops before the rest goes.
  Subscriber subscriber_;
};

// Decodes %XX escapes of a URL component.
absl::StatusOr<std::string> PercentDecode(absl::string_view in, absl::string_view url,
                                          absl::string_view part) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || !absl::ascii_isxdigit(in[i + 1]) ||
        !absl::ascii_isxdigit(in[i + 2])) {
      return absl::InvalidArgumentError(
          absl::StrCat("kv URL \"", url, "\": bad percent-escape in the ", part));
    }
    auto hex = [](char c) {
      return absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
    };
    const int value = hex(in[i + 1]) * 16 + hex(in[i + 2]);
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

absl::StatusOr<absl::Duration> MillisParam(absl::string_view url, absl::string_view name,
                                           absl::string_view value) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(value, &ms) || ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("kv URL \"", url, "\": ", name, " must be a positive number of milliseconds"));
  }
  return absl::Milliseconds(ms);
}

}  // namespace

absl::StatusOr<RedisKvOptions> RedisKvOptionsFromUrl(absl::string_view url) {
  constexpr absl::string_view kScheme = "redis://";
  constexpr absl::string_view kForm =
      "expected redis://[[user]:password@]host[:port][/db][?connections=N&"
      "connect_timeout_ms=N&command_timeout_ms=N&max_backoff_ms=N]";
  if (!absl::StartsWithIgnoreCase(url, kScheme)) {
    return absl::InvalidArgumentError(absl::StrCat("kv URL \"", url, "\": ", kForm));
  }
  absl::string_view rest = url.substr(kScheme.size());
  if (rest.find('#') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("kv URL \"", url, "\" must not have a #fragment"));
  }
  absl::string_view query;
  if (size_t q = rest.find('?'); q != absl::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  absl::string_view path;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }

  RedisKvOptions options;
  if (size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kv URL \"", url, "\": credentials must be user:password or :password; ", kForm));
    }
    absl::StatusOr<std::string> user = PercentDecode(userinfo.substr(0, colon), url, "user");
    if (!user.ok()) return user.status();
    absl::StatusOr<std::string> password =
        PercentDecode(userinfo.substr(colon + 1), url, "password");
    if (!password.ok()) return password.status();
    options.username = *std::move(user);
    options.password = *std::move(password);
  }

  absl::string_view host = rest;
  absl::string_view port;
  if (absl::StartsWith(rest, "[")) {  // [IPv6]:port
    size_t close = rest.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("kv URL \"", url, "\": unclosed [ in the host"));
    }
    host = rest.substr(1, close - 1);
    absl::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return absl::InvalidArgumentError(absl::StrCat("kv URL \"", url, "\": bad host; ", kForm));
      }
      port = after.substr(1);
    }
  } else if (size_t colon = rest.rfind(':'); colon != absl::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("kv URL \"", url, "\" names no host; ", kForm));
  }
  options.host = std::string(host);
  if (!port.empty() &&
      (!absl::SimpleAtoi(port, &options.port) || options.port < 1 || options.port > 65535)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kv URL \"", url, "\": port \"", port, "\" is not 1-65535"));
  }
  if (!path.empty() && (!absl::SimpleAtoi(path, &options.database) || options.database < 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kv URL \"", url, "\": the path must be a database number, not \"", path, "\""));
  }

  for (absl::string_view param : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(param, absl::MaxSplits('=', 1));
    if (kv.first == "connections") {
      if (!absl::SimpleAtoi(kv.second, &options.connections) || options.connections < 1 ||
          options.connections > 64) {
        return absl::InvalidArgumentError(
            absl::StrCat("kv URL \"", url, "\": connections must be 1-64"));
      }
    } else if (kv.first == "connect_timeout_ms") {
      absl::StatusOr<absl::Duration> d = MillisParam(url, kv.first, kv.second);
      if (!d.ok()) return d.status();
      options.connect_timeout = *d;
    } else if (kv.first == "command_timeout_ms") {
      absl::StatusOr<absl::Duration> d = MillisParam(url, kv.first, kv.second);
      if (!d.ok()) return d.status();
      options.command_timeout = *d;
    } else if (kv.first == "max_backoff_ms") {
      absl::StatusOr<absl::Duration> d = MillisParam(url, kv.first, kv.second);
      if (!d.ok()) return d.status();
      options.max_backoff = *d;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("kv URL \"", url, "\": unknown parameter \"", kv.first, "\"; ", kForm));
    }
  }
  return options;
}

absl::StatusOr<std::unique_ptr<Kv>> OpenRedisKv(const RedisKvOptions& options) {
  if (options.host.empty() || options.port < 1 || options.port > 65535) {
    return absl::InvalidArgumentError("redis Kv: host and port 1-65535 required");
  }
  if (options.connections < 1) {
    return absl::InvalidArgumentError("redis Kv: connections must be at least 1");
  }
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.command_timeout <= absl::ZeroDuration() ||
      options.max_backoff <= absl::ZeroDuration() ||
      options.subscriber_ping_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("redis Kv: timeouts and intervals must be positive");
  }
  ServerConfig config;
  config.host = options.host;
  config.port = options.port;
  config.username = options.username;
  config.password = options.password;
  config.database = options.database;
  config.connect_timeout = options.connect_timeout;
  config.command_timeout = options.command_timeout;
  config.min_backoff = std::min(absl::Milliseconds(100), options.max_backoff);
  config.max_backoff = options.max_backoff;
  return std::unique_ptr<Kv>(new RedisKv(options, config));
}

}  // namespace alerthub
