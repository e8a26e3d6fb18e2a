#include "alerthub/adapters/rabbitmq/internal/connection.h"

#include <amqp_tcp_socket.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alerthub/common/log.h"

namespace alerthub::rabbitmq_internal {
namespace {

constexpr char kHeaderQueue[] = "x-alerthub-queue";
constexpr char kHeaderAttempts[] = "x-alerthub-attempts";
constexpr char kHeaderAvailableAt[] = "x-alerthub-available-at-ns";
constexpr char kHeaderLastError[] = "x-alerthub-last-error";
constexpr char kHeaderDeadAt[] = "x-alerthub-dead-at-ns";
// Set by RabbitMQ when it dead-letters a message itself.
constexpr char kHeaderFirstDeathReason[] = "x-first-death-reason";

amqp_bytes_t Bytes(absl::string_view s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}
absl::string_view View(const amqp_bytes_t& b) {
  return absl::string_view(static_cast<const char*>(b.bytes), b.len);
}

timeval Timeval(absl::Duration d) {
  timeval tv = absl::ToTimeval(std::max(d, absl::ZeroDuration()));
  return tv;
}

amqp_table_entry_t StringEntry(const char* key, absl::string_view value) {
  amqp_table_entry_t e;
  e.key = amqp_cstring_bytes(key);
  e.value.kind = AMQP_FIELD_KIND_UTF8;
  e.value.value.bytes = Bytes(value);
  return e;
}
amqp_table_entry_t IntEntry(const char* key, int64_t value) {
  amqp_table_entry_t e;
  e.key = amqp_cstring_bytes(key);
  e.value.kind = AMQP_FIELD_KIND_I64;
  e.value.value.i64 = value;
  return e;
}

const amqp_field_value_t* Find(const amqp_table_t& table, absl::string_view key) {
  for (int i = 0; i < table.num_entries; ++i) {
    if (View(table.entries[i].key) == key) return &table.entries[i].value;
  }
  return nullptr;
}

std::optional<int64_t> IntOf(const amqp_field_value_t* v) {
  if (v == nullptr) return std::nullopt;
  switch (v->kind) {
    case AMQP_FIELD_KIND_I8:
      return v->value.i8;
    case AMQP_FIELD_KIND_U8:
      return v->value.u8;
    case AMQP_FIELD_KIND_I16:
      return v->value.i16;
    case AMQP_FIELD_KIND_U16:
      return v->value.u16;
    case AMQP_FIELD_KIND_I32:
      return v->value.i32;
    case AMQP_FIELD_KIND_U32:
      return v->value.u32;
    case AMQP_FIELD_KIND_I64:
      return v->value.i64;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      return static_cast<int64_t>(v->value.u64);
    default:
      return std::nullopt;
  }
}

std::optional<std::string> StringOf(const amqp_field_value_t* v) {
  if (v == nullptr) return std::nullopt;
  if (v->kind != AMQP_FIELD_KIND_UTF8 && v->kind != AMQP_FIELD_KIND_BYTES) return std::nullopt;
  return std::string(View(v->value.bytes));
}

TaskMessage Decode(const amqp_message_t& msg) {
  TaskMessage m;
  m.payload = std::string(View(msg.body));
  const amqp_basic_properties_t& p = msg.properties;
  if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG) m.id = std::string(View(p.message_id));
  if (p._flags & AMQP_BASIC_TIMESTAMP_FLAG) {
    m.available_at = absl::FromUnixSeconds(static_cast<int64_t>(p.timestamp));
  }
  if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
    const amqp_table_t& h = p.headers;
    if (auto q = StringOf(Find(h, kHeaderQueue))) m.queue = *q;
    if (auto a = IntOf(Find(h, kHeaderAttempts))) m.attempts = static_cast<int>(*a);
    if (auto t = IntOf(Find(h, kHeaderAvailableAt))) m.available_at = absl::FromUnixNanos(*t);
    if (auto e = StringOf(Find(h, kHeaderLastError))) {
      m.last_error = *e;
    } else if (auto r = StringOf(Find(h, kHeaderFirstDeathReason))) {
      m.last_error = absl::StrCat("dead-lettered by the broker: ", *r);
    }
    if (auto d = IntOf(Find(h, kHeaderDeadAt))) m.dead_at = absl::FromUnixNanos(*d);
  }
  return m;
}

absl::StatusCode CodeOf(uint16_t reply_code) {
  switch (reply_code) {
    case AMQP_NOT_FOUND:
      return absl::StatusCode::kNotFound;
    case AMQP_PRECONDITION_FAILED:
    case AMQP_RESOURCE_LOCKED:
      return absl::StatusCode::kFailedPrecondition;
    case AMQP_ACCESS_REFUSED:
      return absl::StatusCode::kPermissionDenied;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

}  // namespace

std::string ConnectionConfig::Address() const { return absl::StrCat(host, ":", port); }

Connection::~Connection() {
  absl::MutexLock lock(&mu_);
  if (conn_ != nullptr) {
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn_);
    conn_ = nullptr;
  }
}

absl::Status Connection::EnsureOpen() {
  if (conn_ == nullptr) {
    const absl::Time now = absl::Now();
    const bool sibling_connected =
        absl::FromUnixNanos(config_.last_connect_ns->load()) > last_failure_;
    if (now < next_attempt_ && !sibling_connected) {
      return absl::UnavailableError(absl::StrCat(
          last_error_, " (next connection attempt in ",
          absl::FormatDuration(absl::Trunc(next_attempt_ - now, absl::Milliseconds(1))), ")"));
    }
    if (absl::Status s = Connect(); !s.ok()) {
      last_error_ = std::string(s.message());
      last_failure_ = absl::Now();
      backoff_ = backoff_ == absl::ZeroDuration() ? absl::Milliseconds(100)
                                                  : std::min(config_.max_backoff, backoff_ * 2);
      static absl::Mutex gen_mu(absl::kConstInit);
      static absl::BitGen* gen = new absl::BitGen();
      double jitter;
      {
        absl::MutexLock lock(&gen_mu);
        jitter = absl::Uniform(*gen, 0.0, 0.2);
      }
      next_attempt_ = absl::Now() + backoff_ + backoff_ * jitter;
      if (!was_down_) {
        was_down_ = true;
        Log(LogLevel::kWarning, "rabbitmq unavailable",
            {{"addr", config_.Address()}, {"error", last_error_}});
      }
      return s;
    }
    config_.last_connect_ns->store(absl::ToUnixNanos(absl::Now()));
    backoff_ = absl::ZeroDuration();
    next_attempt_ = absl::InfinitePast();
    if (was_down_) {
      was_down_ = false;
      Log(LogLevel::kInfo, "rabbitmq reconnected", {{"addr", config_.Address()}});
    }
  }
  if (!work_open_) {
    if (absl::Status s = OpenChannel(kWorkChannel); !s.ok()) return s;
    amqp_confirm_select(conn_, kWorkChannel);
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) return Failed(r, "confirm.select", kWorkChannel);
    next_publish_seq_ = 1;
    work_open_ = true;
  }
  return absl::OkStatus();
}

absl::Status Connection::Connect() {
  amqp_connection_state_t conn = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(conn);
  if (socket == nullptr) {
    amqp_destroy_connection(conn);
    return absl::UnavailableError("amqp: cannot create a socket");
  }
  timeval connect_tv = Timeval(config_.connect_timeout);
  int rc = amqp_socket_open_noblock(socket, config_.host.c_str(), config_.port, &connect_tv);
  if (rc != AMQP_STATUS_OK) {
    amqp_destroy_connection(conn);
    return absl::UnavailableError(
        absl::StrCat("amqp ", config_.Address(), ": connect: ", amqp_error_string2(rc)));
  }
  timeval command_tv = Timeval(config_.command_timeout);
  amqp_set_handshake_timeout(conn, &command_tv);
  amqp_set_rpc_timeout(conn, &command_tv);
  amqp_rpc_reply_t r =
      amqp_login(conn, config_.vhost.c_str(), /*channel_max=*/0, /*frame_max=*/131072,
                 static_cast<int>(absl::ToInt64Seconds(config_.heartbeat)), AMQP_SASL_METHOD_PLAIN,
                 config_.user.c_str(), config_.password.c_str());
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    std::string why;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
      why = amqp_error_string2(r.library_error);
    } else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      auto* close = static_cast<amqp_connection_close_t*>(r.reply.decoded);
      why = absl::StrCat(close->reply_code, " ", View(close->reply_text));
    }
    amqp_destroy_connection(conn);
    return absl::UnavailableError(absl::StrCat("amqp ", config_.Address(), ": login as \"",
                                               config_.user, "\" to vhost \"", config_.vhost,
                                               "\" failed: ", why, " (check the amqp:// URL)"));
  }
  conn_ = conn;
  work_open_ = false;
  browse_open_ = false;
  ++generation_;
  return absl::OkStatus();
}

absl::Status Connection::OpenChannel(int channel) {
  amqp_channel_open(conn_, static_cast<amqp_channel_t>(channel));
  amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) return Failed(r, "channel.open", channel);
  return absl::OkStatus();
}

void Connection::Reset(absl::string_view why) {
  if (conn_ == nullptr) return;
  Log(LogLevel::kWarning, "rabbitmq connection dropped; will reconnect",
      {{"addr", config_.Address()}, {"reason", std::string(why)}});
  // No close handshake: the socket may be dead.
  amqp_destroy_connection(conn_);
  conn_ = nullptr;
  work_open_ = false;
  browse_open_ = false;
  ++generation_;
}

absl::Status Connection::ServerClosed(const amqp_method_t& method, int channel,
                                      absl::string_view what) {
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* close = static_cast<amqp_connection_close_t*>(method.decoded);
    absl::Status s(CodeOf(close->reply_code),
                   absl::StrCat("amqp ", config_.Address(), ": ", what,
                                ": broker closed the connection: ", close->reply_code, " ",
                                View(close->reply_text)));
    amqp_connection_close_ok_t ok;
    amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    Reset(s.message());
    // An outage, whatever the code: the caller retries.
    return absl::UnavailableError(s.message());
  }
  auto* close = static_cast<amqp_channel_close_t*>(method.decoded);
  absl::Status s(CodeOf(close->reply_code),
                 absl::StrCat("amqp ", config_.Address(), ": ", what, ": ", close->reply_code, " ",
                              View(close->reply_text)));
  amqp_channel_close_ok_t ok;
  if (amqp_send_method(conn_, static_cast<amqp_channel_t>(channel), AMQP_CHANNEL_CLOSE_OK_METHOD,
                       &ok) != AMQP_STATUS_OK) {
    Reset(s.message());
    return s;
  }
  // Channel recovery: reopened on next use; its deliveries went back.
  if (channel == kWorkChannel) {
    work_open_ = false;
    ++generation_;
  } else {
    browse_open_ = false;
  }
  return s;
}

absl::Status Connection::Failed(const amqp_rpc_reply_t& reply, absl::string_view what,
                                int channel) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      return ServerClosed(reply.reply, channel, what);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: {
      absl::Status s = absl::UnavailableError(absl::StrCat(
          "amqp ", config_.Address(), ": ", what, ": ", amqp_error_string2(reply.library_error)));
      Reset(s.message());
      return s;
    }
    default: {
      absl::Status s = absl::UnavailableError(
          absl::StrCat("amqp ", config_.Address(), ": ", what, ": no reply"));
      Reset(s.message());
      return s;
    }
  }
}

absl::Status Connection::Publish(absl::string_view exchange, absl::string_view routing_key,
                                 const TaskMessage& m) {
  const Publication p{exchange, routing_key, &m};
  return PublishMany(absl::MakeConstSpan(&p, 1)).front();
}

std::vector<absl::Status> Connection::PublishMany(absl::Span<const Publication> publications) {
  std::vector<absl::Status> out(publications.size());
  if (publications.empty()) return out;
  if (absl::Status s = EnsureOpen(); !s.ok()) {
    std::fill(out.begin(), out.end(), s);
    return out;
  }
  auto where = [&publications](size_t i) {
    const Publication& p = publications[i];
    return absl::StrCat("publishing task ", p.message->id, " to ",
                        p.exchange.empty() ? "queue " : "exchange ",
                        p.exchange.empty() ? p.routing_key : p.exchange);
  };

  // 1. Send them all. Delivery tags (publish sequence numbers) are
  // consecutive: publication i is first_seq + i.
  const uint64_t first_seq = next_publish_seq_;
  for (size_t i = 0; i < publications.size(); ++i) {
    const Publication& p = publications[i];
    const TaskMessage& m = *p.message;
    std::vector<amqp_table_entry_t> headers = {
        StringEntry(kHeaderQueue, m.queue),
        IntEntry(kHeaderAttempts, m.attempts),
        IntEntry(kHeaderAvailableAt, absl::ToUnixNanos(m.available_at)),
    };
    if (!m.last_error.empty()) headers.push_back(StringEntry(kHeaderLastError, m.last_error));
    if (m.dead_at != absl::InfinitePast()) {
      headers.push_back(IntEntry(kHeaderDeadAt, absl::ToUnixNanos(m.dead_at)));
    }
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                   AMQP_BASIC_TIMESTAMP_FLAG;
    props.content_type = amqp_cstring_bytes("application/octet-stream");
    props.delivery_mode = 2;  // persistent
    props.headers.num_entries = static_cast<int>(headers.size());
    props.headers.entries = headers.data();
    props.message_id = Bytes(m.id);
    props.timestamp = static_cast<uint64_t>(absl::ToUnixSeconds(absl::Now()));
    const int rc = amqp_basic_publish(conn_, kWorkChannel, Bytes(p.exchange),
                                      Bytes(p.routing_key), /*mandatory=*/1, /*immediate=*/0,
                                      &props, Bytes(m.payload));
    if (rc != AMQP_STATUS_OK) {
      absl::Status s = absl::UnavailableError(
          absl::StrCat("amqp ", config_.Address(), ": ", where(i), ": ", amqp_error_string2(rc)));
      Reset(s.message());
      // The connection is gone: none of them is confirmed.
      std::fill(out.begin(), out.end(), s);
      return out;
    }
    ++next_publish_seq_;
  }

  // 2. Await every confirm. A basic.return (unroutable) comes before the
  // ack of the message it returns.
  std::vector<std::string> returned(publications.size());
  std::vector<bool> confirmed(publications.size(), false);
  size_t pending = publications.size();
  auto fail_pending = [&](const absl::Status& s) {
    for (size_t i = 0; i < publications.size(); ++i) {
      if (!confirmed[i]) out[i] = s;
    }
  };
  const absl::Time deadline = absl::Now() + config_.command_timeout;
  while (pending > 0) {
    timeval tv = Timeval(deadline - absl::Now());
    amqp_frame_t frame;
    const int rc = amqp_simple_wait_frame_noblock(conn_, &frame, &tv);
    if (rc != AMQP_STATUS_OK) {
      size_t first = 0;
      while (confirmed[first]) ++first;
      absl::Status s = absl::UnavailableError(absl::StrCat(
          "amqp ", config_.Address(), ": ", where(first), ": not confirmed: ",
          rc == AMQP_STATUS_TIMEOUT
              ? absl::StrCat("no answer within ", absl::FormatDuration(config_.command_timeout))
              : amqp_error_string2(rc)));
      Reset(s.message());
      fail_pending(s);
      return out;
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    const amqp_method_t& method = frame.payload.method;
    if (method.id == AMQP_CONNECTION_CLOSE_METHOD ||
        (method.id == AMQP_CHANNEL_CLOSE_METHOD && frame.channel == kWorkChannel)) {
      size_t first = 0;
      while (confirmed[first]) ++first;
      fail_pending(
          absl::UnavailableError(ServerClosed(method, frame.channel, where(first)).message()));
      return out;
    }
    if (frame.channel != kWorkChannel) continue;
    if (method.id == AMQP_BASIC_RETURN_METHOD) {
      auto* ret = static_cast<amqp_basic_return_t*>(method.decoded);
      const std::string reason = absl::StrCat(ret->reply_code, " ", View(ret->reply_text));
      const std::string routing_key(View(ret->routing_key));
      amqp_message_t msg;
      amqp_rpc_reply_t r = amqp_read_message(conn_, kWorkChannel, &msg, 0);
      if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        size_t first = 0;
        while (confirmed[first]) ++first;
        fail_pending(Failed(r, where(first), kWorkChannel));
        return out;
      }
      const absl::string_view id =
          (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0
              ? View(msg.properties.message_id)
              : absl::string_view();
      for (size_t i = 0; i < publications.size(); ++i) {
        if (!confirmed[i] && returned[i].empty() && publications[i].routing_key == routing_key &&
            publications[i].message->id == id) {
          returned[i] = reason;
          break;
        }
      }
      amqp_destroy_message(&msg);
      continue;
    }
    if (method.id == AMQP_BASIC_ACK_METHOD || method.id == AMQP_BASIC_NACK_METHOD) {
      uint64_t tag;
      bool multiple;
      const bool nack = method.id == AMQP_BASIC_NACK_METHOD;
      if (!nack) {
        auto* ack = static_cast<amqp_basic_ack_t*>(method.decoded);
        tag = ack->delivery_tag;
        multiple = ack->multiple;
      } else {
        auto* n = static_cast<amqp_basic_nack_t*>(method.decoded);
        tag = n->delivery_tag;
        multiple = n->multiple;
      }
      for (size_t i = 0; i < publications.size(); ++i) {
        const uint64_t seq = first_seq + i;
        if (confirmed[i] || !(seq == tag || (multiple && seq <= tag))) continue;
        confirmed[i] = true;
        --pending;
        if (nack) {
          out[i] = absl::UnavailableError(absl::StrCat("amqp ", config_.Address(), ": ", where(i),
                                                       ": the broker refused it (nack)"));
        } else if (!returned[i].empty()) {
          out[i] = absl::FailedPreconditionError(absl::StrCat(
              "amqp ", config_.Address(), ": ", where(i), ": unroutable (", returned[i], ")"));
        }
      }
    }
  }
  amqp_maybe_release_buffers(conn_);
  return out;
}

absl::StatusOr<std::optional<Delivery>> Connection::Get(int channel, absl::string_view queue) {
  if (absl::Status s = EnsureOpen(); !s.ok()) return s;
  if (channel == kBrowseChannel && !browse_open_) {
    return absl::FailedPreconditionError("amqp: the browse channel is not open");
  }
  const std::string what = absl::StrCat("basic.get from ", queue);
  amqp_rpc_reply_t r = amqp_basic_get(conn_, static_cast<amqp_channel_t>(channel), Bytes(queue),
                                      /*no_ack=*/0);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) return Failed(r, what, channel);
  if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) {
    amqp_maybe_release_buffers_on_channel(conn_, static_cast<amqp_channel_t>(channel));
    return std::optional<Delivery>();
  }
  auto* ok = static_cast<amqp_basic_get_ok_t*>(r.reply.decoded);
  Delivery d;
  d.tag = ok->delivery_tag;
  d.redelivered = ok->redelivered != 0;
  amqp_message_t msg;
  r = amqp_read_message(conn_, static_cast<amqp_channel_t>(channel), &msg, 0);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) return Failed(r, what, channel);
  d.message = Decode(msg);
  amqp_destroy_message(&msg);
  amqp_maybe_release_buffers_on_channel(conn_, static_cast<amqp_channel_t>(channel));
  return std::optional<Delivery>(std::move(d));
}

absl::Status Connection::Ack(int channel, uint64_t tag) {
  if (conn_ == nullptr) return absl::UnavailableError("amqp: not connected");
  int rc = amqp_basic_ack(conn_, static_cast<amqp_channel_t>(channel), tag, /*multiple=*/0);
  if (rc != AMQP_STATUS_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("amqp ", config_.Address(), ": basic.ack: ", amqp_error_string2(rc)));
    Reset(s.message());
    return s;
  }
  return absl::OkStatus();
}

absl::Status Connection::Requeue(int channel, uint64_t tag) {
  if (conn_ == nullptr) return absl::UnavailableError("amqp: not connected");
  int rc = amqp_basic_reject(conn_, static_cast<amqp_channel_t>(channel), tag, /*requeue=*/1);
  if (rc != AMQP_STATUS_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("amqp ", config_.Address(), ": basic.reject: ", amqp_error_string2(rc)));
    Reset(s.message());
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Connection::DeclareQueue(absl::string_view name,
                                                  const std::vector<QueueArgument>& arguments) {
  if (absl::Status s = EnsureOpen(); !s.ok()) return s;
  std::vector<amqp_table_entry_t> entries;
  for (const auto& [key, value] : arguments) {
    if (std::holds_alternative<int64_t>(value)) {
      entries.push_back(IntEntry(key.c_str(), std::get<int64_t>(value)));
    } else {
      entries.push_back(StringEntry(key.c_str(), std::get<std::string>(value)));
    }
  }
  amqp_table_t table{static_cast<int>(entries.size()), entries.data()};
  amqp_queue_declare_ok_t* ok =
      amqp_queue_declare(conn_, kWorkChannel, Bytes(name), /*passive=*/0, /*durable=*/1,
                         /*exclusive=*/0, /*auto_delete=*/0, table);
  amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (ok == nullptr || r.reply_type != AMQP_RESPONSE_NORMAL) {
    return Failed(r, absl::StrCat("declaring queue ", name), kWorkChannel);
  }
  return ok->message_count;
}

absl::Status Connection::DeclareDirectExchange(absl::string_view name) {
  if (absl::Status s = EnsureOpen(); !s.ok()) return s;
  amqp_exchange_declare(conn_, kWorkChannel, Bytes(name), amqp_cstring_bytes("direct"),
                        /*passive=*/0, /*durable=*/1, /*auto_delete=*/0, /*internal=*/0,
                        amqp_empty_table);
  amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    return Failed(r, absl::StrCat("declaring exchange ", name), kWorkChannel);
  }
  return absl::OkStatus();
}

absl::Status Connection::Bind(absl::string_view queue, absl::string_view exchange,
                              absl::string_view routing_key) {
  if (absl::Status s = EnsureOpen(); !s.ok()) return s;
  amqp_queue_bind(conn_, kWorkChannel, Bytes(queue), Bytes(exchange), Bytes(routing_key),
                  amqp_empty_table);
  amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    return Failed(r, absl::StrCat("binding ", queue, " to ", exchange), kWorkChannel);
  }
  return absl::OkStatus();
}

absl::Status Connection::OpenBrowse() {
  if (absl::Status s = EnsureOpen(); !s.ok()) return s;
  if (browse_open_) return absl::OkStatus();
  if (absl::Status s = OpenChannel(kBrowseChannel); !s.ok()) return s;
  browse_open_ = true;
  return absl::OkStatus();
}

void Connection::CloseBrowse() {
  if (conn_ == nullptr || !browse_open_) return;
  browse_open_ = false;
  // Closing returns every unacknowledged message of the channel to its
  // place in its queue.
  amqp_rpc_reply_t r = amqp_channel_close(conn_, kBrowseChannel, AMQP_REPLY_SUCCESS);
  if (r.reply_type != AMQP_RESPONSE_NORMAL)
    (void)Failed(r, "closing the browse channel", kBrowseChannel);
}

void Connection::Poll() {
  if (conn_ == nullptr) return;
  while (true) {
    timeval zero{0, 0};
    amqp_frame_t frame;
    int rc = amqp_simple_wait_frame_noblock(conn_, &frame, &zero);
    if (rc == AMQP_STATUS_TIMEOUT) return;  // nothing waiting; heartbeat sent if due
    if (rc != AMQP_STATUS_OK) {
      Reset(absl::StrCat("idle connection: ", amqp_error_string2(rc)));
      return;
    }
    if (frame.frame_type == AMQP_FRAME_METHOD &&
        (frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ||
         frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD)) {
      (void)ServerClosed(frame.payload.method, frame.channel, "idle connection");
      if (conn_ == nullptr) return;
    }
  }
}

}  // namespace alerthub::rabbitmq_internal
