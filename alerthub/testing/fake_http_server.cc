#include "alerthub/testing/fake_http_server.h"

#include <sys/socket.h>

#include <list>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"

namespace alerthub::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Request bodies larger than this are refused (tests send far less).
constexpr uint64_t kMaxRequestBodyBytes = uint64_t{16} << 20;

}  // namespace

std::string RecordedRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

std::string RecordedRequest::Path() const { return target.substr(0, target.find('?')); }

FakeResponse Respond(int status, std::string body, HttpHeaders headers) {
  FakeResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

FakeResponse RespondAfter(absl::Duration delay, int status, std::string body) {
  FakeResponse r = Respond(status, std::move(body));
  r.delay = delay;
  return r;
}

FakeResponse RespondAndClose(int status, std::string body) {
  FakeResponse r = Respond(status, std::move(body));
  r.close_connection = true;
  return r;
}

FakeResponse DropConnection() {
  FakeResponse r;
  r.drop_connection = true;
  return r;
}

FakeHandler ScriptedAnswers(std::vector<FakeResponse> answers, FakeResponse then) {
  struct Script {
    absl::Mutex mu;
    std::vector<FakeResponse> answers ABSL_GUARDED_BY(mu);
    size_t next ABSL_GUARDED_BY(mu) = 0;
    FakeResponse then;
  };
  auto script = std::make_shared<Script>();
  script->answers = std::move(answers);
  script->then = std::move(then);
  return [script](const RecordedRequest&) {
    absl::MutexLock lock(&script->mu);
    if (script->next < script->answers.size()) return script->answers[script->next++];
    return script->then;
  };
}

class FakeHttpServer::Impl {
 public:
  explicit Impl(FakeHandler handler) : acceptor_(io_), handler_(std::move(handler)) {}

  ~Impl() { Stop(); }

  absl::Status Listen() {
    boost::system::error_code ec;
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("fake HTTP server cannot listen on 127.0.0.1: ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
    return absl::OkStatus();
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      stopping_ = true;
      // shutdown() wakes threads blocked in accept() or read() on Linux;
      // the sockets are closed by their own threads.
      ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
      for (tcp::socket* s : open_sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    // No new connection threads start once the accept thread is gone.
    for (std::thread& t : connection_threads_) t.join();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  uint16_t port() const { return port_; }

  void SetHandler(FakeHandler handler) {
    absl::MutexLock lock(&mu_);
    handler_ = std::move(handler);
  }

  std::vector<RecordedRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

  int connections_accepted() const {
    absl::MutexLock lock(&mu_);
    return connections_accepted_;
  }

 private:
  void AcceptLoop() {
    for (;;) {
      auto socket = std::make_unique<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      if (ec) continue;
      const int id = ++connections_accepted_;
      open_sockets_.push_back(socket.get());
      connection_threads_.emplace_back(
          [this, id, s = std::move(socket)]() mutable { Serve(id, std::move(s)); });
    }
  }

  void Serve(int id, std::unique_ptr<tcp::socket> socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBodyBytes);
      boost::system::error_code ec;
      http::read(*socket, buffer, parser, ec);
      if (ec) break;
      const http::request<http::string_body>& req = parser.get();

      RecordedRequest recorded;
      recorded.method = std::string(req.method_string());
      recorded.target = std::string(req.target());
      for (const auto& field : req) {
        recorded.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      recorded.body = req.body();
      recorded.connection = id;
      FakeHandler handler;
      {
        absl::MutexLock lock(&mu_);
        requests_.push_back(recorded);
        handler = handler_;
      }
      const FakeResponse answer = handler(recorded);
      if (answer.delay > absl::ZeroDuration()) {
        absl::MutexLock lock(&mu_);
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), answer.delay);
        if (stopping_) break;
      }
      if (answer.drop_connection) break;

      http::response<http::string_body> res;
      res.version(req.version());
      res.result(static_cast<unsigned>(answer.status));
      for (const auto& [name, value] : answer.headers) res.insert(name, value);
      res.body() = answer.body;
      res.keep_alive(req.keep_alive() && !answer.close_connection);
      res.prepare_payload();
      http::write(*socket, res, ec);
      if (ec || !res.keep_alive()) break;
    }
    absl::MutexLock lock(&mu_);
    open_sockets_.remove(socket.get());
    boost::system::error_code ignored;
    socket->shutdown(tcp::socket::shutdown_both, ignored);
    socket->close(ignored);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread accept_thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  FakeHandler handler_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedRequest> requests_ ABSL_GUARDED_BY(mu_);
  int connections_accepted_ ABSL_GUARDED_BY(mu_) = 0;
  std::list<tcp::socket*> open_sockets_ ABSL_GUARDED_BY(mu_);
  // Appended by the accept thread under mu_, joined by Stop() after it ended.
  std::vector<std::thread> connection_threads_;
};

absl::StatusOr<std::unique_ptr<FakeHttpServer>> FakeHttpServer::Start(FakeHandler handler) {
  auto impl = std::make_unique<Impl>(std::move(handler));
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  return std::unique_ptr<FakeHttpServer>(new FakeHttpServer(std::move(impl)));
}

FakeHttpServer::FakeHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FakeHttpServer::~FakeHttpServer() = default;

uint16_t FakeHttpServer::port() const { return impl_->port(); }

std::string FakeHttpServer::Url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", impl_->port(), path);
}

void FakeHttpServer::SetHandler(FakeHandler handler) { impl_->SetHandler(std::move(handler)); }

std::vector<RecordedRequest> FakeHttpServer::requests() const { return impl_->requests(); }

int FakeHttpServer::connections_accepted() const { return impl_->connections_accepted(); }

}  // namespace alerthub::testing
