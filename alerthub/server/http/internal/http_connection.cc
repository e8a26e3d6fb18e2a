#include "alerthub/server/http/internal/http_connection.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/uuid.h"
#include "alerthub/server/http/internal/access_log.h"
#include "alerthub/server/http/internal/uri.h"
#include "alerthub/server/http/internal/websocket_connection.h"
#include "alerthub/server/http/problem.h"
#include "alerthub/server/http/trace_context.h"

namespace alerthub::http::http_internal {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

// First read of an idle connection; a typical request fits.
constexpr size_t kFirstReadBytes = 4096;
// How long a closing connection keeps discarding input (see Linger()).
constexpr absl::Duration kLingerTimeout = absl::Seconds(2);
constexpr absl::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool IsParseError(const beast::error_code& ec) {
  static const beast::error_category& category =
      bhttp::make_error_code(bhttp::error::bad_target).category();
  return ec.category() == category;
}

// Headers the server owns; a handler's values for them are ignored.
bool IsManagedHeader(absl::string_view name) {
  for (absl::string_view managed :
       {"content-length", "transfer-encoding", "connection", "date", "server",
        "x-request-id", "traceparent", "content-type"}) {
    if (absl::EqualsIgnoreCase(name, managed)) return true;
  }
  return false;
}

// Refuses header injection (CR, LF, NUL) and empty or odd names.
bool IsSafeHeader(absl::string_view name, absl::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c >= 0x7F || c == ':') return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

HttpConnection::HttpConnection(ServerContext* ctx, tcp::socket socket,
                               std::string remote)
    : ctx_(ctx),
      strand_(socket.get_executor()),
      remote_(std::move(remote)),
      stream_(std::move(socket)) {}

void HttpConnection::Start() {
  if (state_ == State::kClosed) return;  // drained before it started
  ReadRequest();
}

void HttpConnection::ReadRequest() {
  if (ctx_->draining.load()) {
    Close();
    return;
  }
  state_ = State::kIdle;
  parser_.emplace();
  parser_->body_limit(ctx_->options->max_body_bytes);
  parser_->header_limit(static_cast<uint32_t>(ctx_->options->max_header_bytes));
  request_begun_ = false;
  if (first_request_ || buffer_.size() > 0) {
    // A new connection owes us a header within header_timeout of connecting;
    // a pipelined request is already (partly) here.
    ReadHeader();
    return;
  }
  // Keep-alive: wait up to idle_timeout for the next request's first bytes;
  // its header_timeout starts then.
  SetExpiry(stream_, ctx_->options->idle_timeout);
  stream_.async_read_some(
      buffer_.prepare(kFirstReadBytes),
      beast::bind_front_handler(&HttpConnection::OnFirstBytes,
                                shared_from_this()));
}

void HttpConnection::OnFirstBytes(beast::error_code ec, size_t bytes) {
  if (ec) {
    Close();  // idle timeout, peer closed, or shutdown
    return;
  }
  buffer_.commit(bytes);
  ReadHeader();
}

void HttpConnection::ReadHeader() {
  state_ = State::kReadingHeader;
  SetExpiry(stream_, ctx_->options->header_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&HttpConnection::OnHeader, shared_from_this()));
}

void HttpConnection::OnHeader(beast::error_code ec, size_t bytes) {
  if (ec) {
    OnReadError(ec);
    return;
  }
  BeginRequest();
  if (parser_->is_done()) {
    Dispatch();
    return;
  }
  const auto& msg = parser_->get();
  if (msg.version() >= 11 &&
      beast::iequals(msg[bhttp::field::expect], "100-continue")) {
    state_ = State::kReadingBody;
    SetExpiry(stream_, ctx_->options->body_timeout);
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) {
                         self->Close();
                       } else {
                         self->ReadBody();
                       }
                     });
    return;
  }
  ReadBody();
}

void HttpConnection::ReadBody() {
  state_ = State::kReadingBody;
  SetExpiry(stream_, ctx_->options->body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->OnBody(ec);
                    });
}

void HttpConnection::OnBody(beast::error_code ec) {
  if (ec) {
    OnReadError(ec);
    return;
  }
  Dispatch();
}

void HttpConnection::OnReadError(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    Fail(413, absl::StrCat("the request body exceeds ",
                           ctx_->options->max_body_bytes, " bytes"));
  } else if (ec == bhttp::error::header_limit) {
    Fail(431, absl::StrCat("the request header exceeds ",
                           ctx_->options->max_header_bytes, " bytes"));
  } else if (ec == bhttp::error::end_of_stream ||
             ec == bhttp::error::partial_message || !IsParseError(ec)) {
    Close();  // the peer left, a timeout, or shutdown: nobody to answer
  } else {
    Fail(400, absl::StrCat("malformed request: ", ec.message()));
  }
}

void HttpConnection::BeginRequest() {
  request_begun_ = true;
  info_.start = std::chrono::steady_clock::now();
  info_.start_wall = absl::Now();
  info_.route = kUnmatchedRoute;
  const auto& msg = parser_->get();
  const absl::string_view method = ToAbsl(msg.method_string());
  info_.method.assign(method.data(), method.size());
  const absl::string_view target = ToAbsl(msg.target());
  const absl::string_view raw_path = target.substr(0, target.find('?'));
  info_.path.assign(raw_path.data(), raw_path.size());
  version_ = msg.version();
  keep_alive_ = parser_->is_header_done() && parser_->keep_alive();
  head_ = msg.method() == bhttp::verb::head;

  if (auto it = msg.find("X-Request-Id");
      it != msg.end() && IsValidRequestId(ToAbsl(it->value()))) {
    info_.request_id.assign(it->value().data(), it->value().size());
  } else {
    info_.request_id = NewUuidV7(info_.start_wall);
  }
  parent_traceparent_.clear();
  std::optional<TraceParent> parent;
  if (auto it = msg.find("traceparent"); it != msg.end()) {
    const absl::string_view value = ToAbsl(it->value());
    parent = ParseTraceparent(value);
    if (parent.has_value())
      parent_traceparent_.assign(value.data(), value.size());
  }
  info_.traceparent = parent.has_value() ? parent->NewChildSpan().ToString()
                                         : TraceParent::NewRoot().ToString();
}

void HttpConnection::Dispatch() {
  state_ = State::kHandling;
  stream_.expires_never();  // nothing pending while the handler works
  auto& msg = parser_->get();
  std::optional<ParsedTarget> target = ParseTarget(ToAbsl(msg.target()));
  if (!target.has_value()) {
    Fail(400, "malformed request target");
    return;
  }
  Router::Match match =
      ctx_->router->Find(ToAbsl(msg.method_string()), target->segments);
  const bool upgrade = match.websocket != nullptr && websocket::is_upgrade(msg);
  if (match.handler == nullptr && !upgrade) {
    // Answered by the server itself.
    Response response;
    if (!match.path_found) {
      response = ProblemResponse(404, "Not Found",
                                 absl::StrCat("no route for ", target->path));
    } else {
      info_.route = match.pattern;
      if (match.allow.empty()) {  // a WebSocket-only path
        response = ProblemResponse(426, "Upgrade Required",
                                   "this path only accepts WebSocket upgrades");
        response.headers.emplace_back("Upgrade", "websocket");
      } else {
        response = ProblemResponse(
            405, "Method Not Allowed",
            absl::StrCat("method ", info_.method, " is not allowed here"));
        response.headers.emplace_back("Allow", std::string(match.allow));
      }
    }
    WriteResponse(std::move(response));
    return;
  }

  Request request;
  request.method = info_.method;
  request.path = std::move(target->path);
  request.raw_target.assign(msg.target().data(), msg.target().size());
  request.query = std::move(target->query);
  request.headers.reserve(std::distance(msg.begin(), msg.end()));
  for (const auto& field : msg) {
    request.headers.emplace_back(
        std::string(field.name_string().data(), field.name_string().size()),
        std::string(field.value().data(), field.value().size()));
  }
  request.body = std::move(msg.body());
  request.remote_address = remote_;
  request.request_id = info_.request_id;
  request.traceparent = info_.traceparent;
  request.parent_traceparent = parent_traceparent_;
  request.path_params = std::move(match.params);

  if (upgrade) {
    info_.route = match.websocket_options->name;
    net::post(*ctx_->pool, [self = shared_from_this(),
                            acceptor = match.websocket,
                            request = std::move(request)]() mutable {
      WebSocketAcceptResult result;
      try {
        result = (*acceptor)(request);
      } catch (...) {
        result = ProblemResponse(500, "Internal Server Error",
                                 "the WebSocket acceptor failed");
      }
      net::post(self->strand_, [self, result = std::move(result)]() mutable {
        self->OnWebSocketDecision(std::move(result));
      });
    });
    return;
  }

  info_.route = match.options->name;
  ResponseWriter writer = ResponseWriterAccess::Make(
      ctx_->shared, std::static_pointer_cast<ResponseSink>(shared_from_this()));
  if (!match.options->blocking) {
    try {
      (*match.handler)(std::move(request), std::move(writer));
    } catch (...) {
      // The writer, destroyed unused, has answered 500.
    }
    return;
  }
  net::post(*ctx_->pool, [handler = match.handler, request = std::move(request),
                          writer = std::move(writer)]() mutable {
    try {
      (*handler)(std::move(request), std::move(writer));
    } catch (...) {
      // The writer, destroyed unused, has answered 500.
    }
  });
}

void HttpConnection::OnWebSocketDecision(WebSocketAcceptResult result) {
  if (state_ != State::kHandling) return;  // closed meanwhile
  if (Response* response = std::get_if<Response>(&result)) {
    WriteResponse(std::move(*response));
    return;
  }
  std::unique_ptr<WebSocketHandler> handler =
      std::move(std::get<std::unique_ptr<WebSocketHandler>>(result));
  if (handler == nullptr) {
    WriteResponse(
        ProblemResponse(500, "Internal Server Error",
                        "the WebSocket acceptor returned no handler"));
    return;
  }
  if (ctx_->draining.load()) {
    WriteResponse(ProblemResponse(503, "Service Unavailable",
                                  "the server is shutting down"));
    return;
  }
  StartWebSocket(std::move(handler));
}

void HttpConnection::StartWebSocket(std::unique_ptr<WebSocketHandler> handler) {
  auto connection = std::make_shared<WebSocketConnection>(
      ctx_, std::move(stream_), remote_, std::move(handler), parser_->release(),
      std::move(info_));
  ctx_->Register(connection);
  state_ = State::kClosed;  // the socket is the WebSocket's now
  ctx_->Unregister(this);
  connection->Run();
}

void HttpConnection::Fail(int status, absl::string_view detail) {
  if (!request_begun_) BeginRequest();  // from what the parser got, if any
  keep_alive_ = false;
  state_ = State::kHandling;
  WriteResponse(ProblemResponse(status, StatusReason(status), detail));
}

void HttpConnection::Deliver(Response response) {
  net::post(strand_, [self = shared_from_this(),
                      response = std::move(response)]() mutable {
    self->WriteResponse(std::move(response));
  });
}

void HttpConnection::WriteResponse(Response r) {
  if (state_ != State::kHandling) return;  // closed, or a second response
  state_ = State::kWriting;
  const int status = r.status >= 200 && r.status <= 599 ? r.status : 500;
  const bool body_allowed = status != 204 && status != 304;

  response_.emplace();
  auto& res = *response_;
  res.result(static_cast<unsigned>(status));
  // The reason phrase matches the problem titles (RFC 9110 renamed 422 and
  // 413; Beast still sends the old phrases).
  res.reason(ToBeast(StatusReason(status)));
  res.version(version_);
  res.set(bhttp::field::server, "alerthub");
  res.set(bhttp::field::date, ToBeast(HttpDate(absl::Now())));
  if (body_allowed && !r.body.empty() && !r.content_type.empty()) {
    res.set(bhttp::field::content_type, r.content_type);
  }
  res.set("X-Request-Id", info_.request_id);
  res.set("traceparent", info_.traceparent);
  for (const auto& [name, value] : r.headers) {
    if (!IsManagedHeader(name) && IsSafeHeader(name, value)) {
      res.insert(name, value);
    }
  }
  keep_alive_ = keep_alive_ && !ctx_->draining.load();
  res.keep_alive(keep_alive_);
  response_status_ = status;
  response_bytes_ = body_allowed && !head_ ? r.body.size() : 0;
  if (body_allowed && head_) {
    res.content_length(r.body.size());  // the GET's length, no body
  } else {
    if (body_allowed) res.body() = std::move(r.body);
    res.prepare_payload();
  }
  SetExpiry(stream_, ctx_->options->body_timeout);
  bhttp::async_write(
      stream_, res,
      beast::bind_front_handler(&HttpConnection::OnWrite, shared_from_this()));
}

void HttpConnection::OnWrite(beast::error_code ec, size_t bytes) {
  ctx_->Record(info_, remote_, response_status_, response_bytes_);
  response_.reset();
  if (ec) {
    Close();
    return;
  }
  first_request_ = false;
  if (!keep_alive_) {
    Linger();
    return;
  }
  ReadRequest();
}

void HttpConnection::Linger() {
  state_ = State::kLingering;
  ctx_->Unregister(this);  // the exchange is over; shutdown need not wait
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  SetExpiry(stream_, kLingerTimeout);
  DiscardInput();
}

void HttpConnection::DiscardInput() {
  buffer_.clear();
  stream_.async_read_some(
      buffer_.prepare(kFirstReadBytes),
      [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec || self->state_ != State::kLingering) {
          self->Close();  // the peer closed, or the linger time is up
        } else {
          self->DiscardInput();
        }
      });
}

void HttpConnection::Drain() {
  if (state_ == State::kIdle || state_ == State::kReadingHeader) Close();
  // Otherwise the response in progress says Connection: close.
}

void HttpConnection::ForceClose() { Close(); }

void HttpConnection::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  stream_.close();
  ctx_->Unregister(this);
}

}  // namespace alerthub::http::http_internal
