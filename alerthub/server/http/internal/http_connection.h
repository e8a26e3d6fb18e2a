// One HTTP/1.1 connection: reads requests one at a time, routes them, runs
// or dispatches their handlers, writes responses, and hands the socket to a
// WebSocketConnection on an accepted upgrade.
#ifndef ALERTHUB_SERVER_HTTP_INTERNAL_HTTP_CONNECTION_H_
#define ALERTHUB_SERVER_HTTP_INTERNAL_HTTP_CONNECTION_H_

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>

#include "alerthub/server/http/internal/response_sink.h"
#include "alerthub/server/http/internal/server_context.h"
#include "alerthub/server/http/router.h"

namespace alerthub::http::http_internal {

class HttpConnection final
    : public Connection,
      public ResponseSink,
      public std::enable_shared_from_this<HttpConnection> {
 public:
  // `socket`'s executor must be a strand of ctx->shared->ioc.
  HttpConnection(ServerContext* ctx, boost::asio::ip::tcp::socket socket,
                 std::string remote);

  // Starts serving; call on the strand.
  void Start();

  net::any_io_executor executor() const override { return strand_; }
  void Drain() override;
  void ForceClose() override;
  // The pending request's response, from any thread.
  void Deliver(Response response) override;

 private:
  enum class State {
    kIdle,  // waiting for a request's first byte
    kReadingHeader,
    kReadingBody,
    kHandling,  // a handler or acceptor owns the request
    kWriting,
    kLingering,  // response sent, send side shut, draining input
    kClosed,
  };

  void ReadRequest();
  void OnFirstBytes(boost::beast::error_code ec, size_t bytes);
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec, size_t bytes);
  void ReadBody();
  void OnBody(boost::beast::error_code ec);
  void OnReadError(boost::beast::error_code ec);
  void Dispatch();
  void OnWebSocketDecision(WebSocketAcceptResult result);
  // Answers with a problem+json and closes the connection afterwards.
  void Fail(int status, absl::string_view detail);
  void WriteResponse(Response response);
  void OnWrite(boost::beast::error_code ec, size_t bytes);
  // Shuts our side, then discards input until the peer closes (bounded), so
  // unread request bytes do not turn our close into a reset that destroys
  // the response in flight.
  void Linger();
  void DiscardInput();
  void Close();
  void BeginRequest();
  void StartWebSocket(std::unique_ptr<WebSocketHandler> handler);

  ServerContext* const ctx_;
  const net::any_io_executor strand_;
  const std::string remote_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<
      boost::beast::http::request_parser<boost::beast::http::string_body>>
      parser_;
  std::optional<boost::beast::http::response<boost::beast::http::string_body>>
      response_;
  State state_ = State::kIdle;
  bool first_request_ = true;
  bool request_begun_ = false;

  // The request being served.
  RequestInfo info_;
  std::string parent_traceparent_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;
  size_t response_bytes_ = 0;
  int response_status_ = 0;
};

}  // namespace alerthub::http::http_internal

#endif  // ALERTHUB_SERVER_HTTP_INTERNAL_HTTP_CONNECTION_H_
