#include "alerthub/server/http/internal/websocket_connection.h"

#include <boost/asio/post.hpp>
#include <utility>

namespace alerthub::http::http_internal {
namespace {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace bhttp = boost::beast::http;

// What route code holds: keeps SharedState (the io_context) alive as long as
// it can reach the connection.
class SessionHandle final : public WebSocketSession {
 public:
  SessionHandle(std::shared_ptr<SharedState> shared,
                std::shared_ptr<WebSocketConnection> connection)
      : shared_(std::move(shared)), connection_(std::move(connection)) {}

  bool Send(std::string text) override {
    return connection_->Send(std::move(text));
  }
  void Close(uint16_t code, std::string reason) override {
    connection_->Close(code, std::move(reason));
  }

 private:
  std::shared_ptr<SharedState> shared_;  // destroyed after connection_
  std::shared_ptr<WebSocketConnection> connection_;
};

websocket::stream_base::duration ToBeastDuration(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return websocket::stream_base::none();
  return std::chrono::duration_cast<websocket::stream_base::duration>(
      absl::ToChronoNanoseconds(d));
}

}  // namespace

WebSocketConnection::WebSocketConnection(
    ServerContext* ctx, beast::tcp_stream stream, std::string remote,
    std::unique_ptr<WebSocketHandler> handler,
    bhttp::request<bhttp::string_body> upgrade, RequestInfo info)
    : ctx_(ctx),
      shared_(ctx->shared.get()),
      strand_(stream.get_executor()),
      remote_(std::move(remote)),
      max_queue_(ctx->options->ws_max_queue),
      ws_(std::move(stream)),
      upgrade_(std::move(upgrade)),
      info_(std::move(info)),
      handler_(std::move(handler)) {}

void WebSocketConnection::Run() {
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = ToBeastDuration(ctx_->options->header_timeout);
  timeout.idle_timeout = ToBeastDuration(ctx_->options->ws_idle_timeout);
  timeout.keep_alive_pings = true;
  ws_.set_option(timeout);
  ws_.read_message_max(ctx_->options->ws_max_message_bytes);
  ws_.auto_fragment(false);
  ws_.set_option(websocket::stream_base::decorator(
      [request_id = info_.request_id,
       traceparent = info_.traceparent](websocket::response_type& res) {
        res.set(bhttp::field::server, "alerthub");
        res.set("X-Request-Id", request_id);
        res.set("traceparent", traceparent);
      }));
  ws_.async_accept(upgrade_,
                   beast::bind_front_handler(&WebSocketConnection::OnAccept,
                                             shared_from_this()));
}

void WebSocketConnection::OnAccept(beast::error_code ec) {
  upgrade_ = {};
  if (ec) {
    // Beast answered the bad handshake itself (400 or 426).
    ctx_->Record(info_, remote_, 400, 0);
    Finish();
    return;
  }
  ctx_->Record(info_, remote_, 101, 0);
  open_ = true;
  shared_->ws_connections.fetch_add(1, std::memory_order_relaxed);
  try {
    handler_->OnOpen(
        std::make_shared<SessionHandle>(ctx_->shared, shared_from_this()));
  } catch (...) {
    CloseNow(CloseReason(websocket::close_code::internal_error));
  }
  if (ctx_->draining.load()) {
    CloseNow(CloseReason(websocket::close_code::going_away, "going away"));
  }
  ReadNext();
}

void WebSocketConnection::ReadNext() {
  ws_.async_read(read_buffer_,
                 beast::bind_front_handler(&WebSocketConnection::OnRead,
                                           shared_from_this()));
}

void WebSocketConnection::OnRead(beast::error_code ec, size_t bytes) {
  if (ec) {
    Finish();
    return;
  }
  if (!ws_.got_text()) {
    read_buffer_.consume(read_buffer_.size());
    CloseNow(
        CloseReason(websocket::close_code::unknown_data, "text frames only"));
  } else {
    std::string text = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.consume(read_buffer_.size());
    if (handler_ != nullptr && !close_started_) {
      try {
        handler_->OnMessage(std::move(text));
      } catch (...) {
        CloseNow(CloseReason(websocket::close_code::internal_error));
      }
    }
  }
  ReadNext();  // also receives the peer's reply to our close frame
}

bool WebSocketConnection::Send(std::string text) {
  {
    absl::MutexLock lock(&mu_);
    if (closing_) return false;
    if (queue_.size() < max_queue_) {
      queue_.push_back(std::move(text));
      if (write_scheduled_) return true;
      write_scheduled_ = true;
    } else {
      // Slow consumer: drop its backlog and close; the sender never waits.
      closing_ = true;
      queue_.clear();
      close_after_queue_.reset();
      shared_->ws_slow_closed.fetch_add(1, std::memory_order_relaxed);
      net::post(strand_, [self = shared_from_this()] {
        self->StartClose(CloseReason(websocket::close_code::try_again_later,
                                     "try again later"));
      });
      return false;
    }
  }
  net::post(strand_, [self = shared_from_this()] { self->WriteNext(); });
  return true;
}

void WebSocketConnection::Close(uint16_t code, std::string reason) {
  if (reason.size() > 123) reason.resize(123);  // control frame payload limit
  CloseReason close_reason(static_cast<websocket::close_code>(code),
                           ToBeast(reason));
  {
    absl::MutexLock lock(&mu_);
    if (closing_) return;
    closing_ = true;
    if (write_scheduled_) {
      close_after_queue_ = std::move(close_reason);
      return;
    }
  }
  net::post(strand_, [self = shared_from_this(),
                      close_reason = std::move(close_reason)] {
    self->StartClose(close_reason);
  });
}

void WebSocketConnection::CloseNow(CloseReason reason) {
  {
    absl::MutexLock lock(&mu_);
    // Already closing at once (or finished)? A pending Close() is overridden.
    if (closing_ && !close_after_queue_.has_value()) return;
    closing_ = true;
    queue_.clear();
    close_after_queue_.reset();
  }
  net::post(strand_, [self = shared_from_this(), reason = std::move(reason)] {
    self->StartClose(reason);
  });
}

void WebSocketConnection::WriteNext() {
  bool have_message = false;
  std::optional<CloseReason> close;
  {
    absl::MutexLock lock(&mu_);
    if (!queue_.empty() && !finished_) {
      writing_ = std::move(queue_.front());
      queue_.pop_front();
      have_message = true;
    } else {
      write_scheduled_ = false;
      close = std::move(close_after_queue_);
      close_after_queue_.reset();
    }
  }
  if (have_message) {
    ws_.text(true);
    ws_.async_write(net::buffer(writing_),
                    beast::bind_front_handler(&WebSocketConnection::OnWrite,
                                              shared_from_this()));
  } else if (close.has_value()) {
    StartClose(std::move(*close));
  }
}

void WebSocketConnection::OnWrite(beast::error_code ec, size_t bytes) {
  writing_.clear();
  if (ec) {
    Finish();
    return;
  }
  WriteNext();
}

void WebSocketConnection::StartClose(CloseReason reason) {
  if (close_started_ || finished_ || !open_) return;
  close_started_ = true;
  ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {
    self->Finish();
  });
}

void WebSocketConnection::Drain() {
  if (open_) {
    CloseNow(CloseReason(websocket::close_code::going_away, "going away"));
  }
  // Not yet open: OnAccept() sees the server draining and closes.
}

void WebSocketConnection::ForceClose() { Finish(); }

void WebSocketConnection::Finish() {
  if (finished_) return;
  finished_ = true;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    queue_.clear();
    close_after_queue_.reset();
  }
  beast::get_lowest_layer(ws_).close();
  if (open_) {
    shared_->ws_connections.fetch_sub(1, std::memory_order_relaxed);
    try {
      handler_->OnClose();
    } catch (...) {
    }
  }
  handler_.reset();  // breaks handler -> session handle -> connection cycles
  ctx_->Unregister(this);
}

}  // namespace alerthub::http::http_internal
