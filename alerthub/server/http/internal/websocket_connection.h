// One WebSocket connection: the upgrade handshake, the read loop feeding a
// WebSocketHandler, and a bounded send queue that any thread may fill.
#ifndef ALERTHUB_SERVER_HTTP_INTERNAL_WEBSOCKET_CONNECTION_H_
#define ALERTHUB_SERVER_HTTP_INTERNAL_WEBSOCKET_CONNECTION_H_

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/server/http/internal/server_context.h"
#include "alerthub/server/http/router.h"

namespace alerthub::http::http_internal {

class WebSocketConnection final
    : public Connection,
      public std::enable_shared_from_this<WebSocketConnection> {
 public:
  // Takes over `stream`, whose executor is a strand, after the acceptor
  // agreed to upgrade `upgrade`. Call Run() on the strand next.
  WebSocketConnection(
      ServerContext* ctx, boost::beast::tcp_stream stream, std::string remote,
      std::unique_ptr<WebSocketHandler> handler,
      boost::beast::http::request<boost::beast::http::string_body> upgrade,
      RequestInfo info);

  // Completes the upgrade, then calls the handler's OnOpen() and reads.
  void Run();

  // WebSocketSession's contract, callable from any thread. The caller must
  // hold a reference to SharedState (the session handle does).
  bool Send(std::string text);
  void Close(uint16_t code, std::string reason);

  net::any_io_executor executor() const override { return strand_; }
  void Drain() override;
  void ForceClose() override;

 private:
  using CloseReason = boost::beast::websocket::close_reason;

  void OnAccept(boost::beast::error_code ec);
  void ReadNext();
  void OnRead(boost::beast::error_code ec, size_t bytes);
  void WriteNext();
  void OnWrite(boost::beast::error_code ec, size_t bytes);
  // Closes at once, dropping queued messages (from any thread).
  void CloseNow(CloseReason reason);
  void StartClose(CloseReason reason);
  // The connection is over: OnClose(), release the handler, unregister.
  void Finish();

  ServerContext* const ctx_;
  SharedState* const shared_;  // outlives every Send() caller (see above)
  const net::any_io_executor strand_;
  const std::string remote_;
  const size_t max_queue_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::http::request<boost::beast::http::string_body> upgrade_;
  RequestInfo info_;

  // Strand only.
  std::unique_ptr<WebSocketHandler> handler_;
  boost::beast::flat_buffer read_buffer_;
  std::string writing_;  // the message being written
  bool open_ = false;
  bool close_started_ = false;
  bool finished_ = false;

  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool write_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;  // Send() refuses
  // Close() requested while writes were pending: sent after the queue.
  std::optional<CloseReason> close_after_queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace alerthub::http::http_internal

#endif  // ALERTHUB_SERVER_HTTP_INTERNAL_WEBSOCKET_CONNECTION_H_
