#include "alerthub/server/http/http_server.h"

#include <sched.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <deque>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "alerthub/common/status.h"
#include "alerthub/server/http/internal/http_connection.h"
#include "alerthub/server/http/internal/server_context.h"

namespace alerthub::http {

namespace {

// Writes access-log lines to stderr on a thread of its own, so a reader of
// stderr that stops reading stalls only this thread, never an I/O thread.
// Lines beyond the queue's bound are dropped and counted.
class StderrLogWriter {
 public:
  static constexpr size_t kMaxQueuedLines = 16384;

  static StderrLogWriter& Get() {
    static StderrLogWriter* writer = new StderrLogWriter();  // never destroyed
    return *writer;
  }

  void Push(absl::string_view json_line) {
    std::string line;
    line.reserve(json_line.size() + 1);
    line.append(json_line.data(), json_line.size());
    line.push_back('\n');
    absl::MutexLock lock(&mu_);
    if (queue_.size() >= kMaxQueuedLines) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(line));
  }

  bool Flush(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return queue_.empty() && !writing_;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&drained), timeout);
  }

  int64_t dropped() {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }

 private:
  StderrLogWriter() {
    std::thread([this] { Loop(); }).detach();
  }

  void Loop() {
    std::deque<std::string> batch;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        writing_ = false;
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty(); };
        mu_.Await(absl::Condition(&ready));
        batch.swap(queue_);
        writing_ = true;
      }
      for (const std::string& line : batch) std::fwrite(line.data(), 1, line.size(), stderr);
      std::fflush(stderr);
      batch.clear();
    }
  }

  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

void WriteAccessLogToStderr(absl::string_view json_line) {
  StderrLogWriter::Get().Push(json_line);
}

bool FlushAccessLog(absl::Duration timeout) { return StderrLogWriter::Get().Flush(timeout); }

int64_t AccessLogLinesDropped() { return StderrLogWriter::Get().dropped(); }

namespace {

namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using http_internal::Connection;
using http_internal::HttpConnection;
using http_internal::ServerContext;
using http_internal::SharedState;

// Accept failures that go away when descriptors or memory free up: retry
// after a pause instead of spinning.
bool IsResourceError(const boost::system::error_code& ec) {
  return ec == net::error::no_descriptors ||
         ec == net::error::no_buffer_space || ec == net::error::no_memory ||
         ec.value() == ENFILE;
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const net::ip::address address = endpoint.address();
  if (address.is_v6()) {
    return absl::StrCat("[", address.to_string(), "]:", endpoint.port());
  }
  return absl::StrCat(address.to_string(), ":", endpoint.port());
}

absl::Status ValidateOptions(const HttpServerOptions& o) {
  const auto invalid = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("HttpServerOptions.", field, " ", why));
  };
  if (o.port < 0 || o.port > 65535) return invalid("port", "must be 0-65535");
  if (o.io_threads < 0) return invalid("io_threads", "must be >= 0");
  if (o.handler_threads < 1) return invalid("handler_threads", "must be >= 1");
  if (o.max_body_bytes == 0) return invalid("max_body_bytes", "must be > 0");
  if (o.max_header_bytes < 1024 || o.max_header_bytes > (1u << 30)) {
    return invalid("max_header_bytes", "must be 1 KiB-1 GiB");
  }
  if (o.ws_max_queue == 0) return invalid("ws_max_queue", "must be > 0");
  if (o.ws_max_message_bytes == 0) {
    return invalid("ws_max_message_bytes", "must be > 0");
  }
  for (const auto& [name, d] : {std::pair<absl::string_view, absl::Duration>{
                                    "header_timeout", o.header_timeout},
                                {"idle_timeout", o.idle_timeout},
                                {"body_timeout", o.body_timeout},
                                {"ws_idle_timeout", o.ws_idle_timeout}}) {
    if (d <= absl::ZeroDuration()) return invalid(name, "must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(Router router, HttpServerOptions options)
      : router_(std::move(router)),
        options_(std::move(options)),
        shared_(std::make_shared<SharedState>(IoThreadCount(options_))),
        pool_(static_cast<size_t>(options_.handler_threads)),
        ctx_(&router_, &options_, shared_, &pool_),
        acceptor_(net::make_strand(shared_->ioc)),
        accept_retry_(acceptor_.get_executor()),
        work_(net::make_work_guard(shared_->ioc)) {}

  ~Impl() { Shutdown(absl::ZeroDuration()); }

  absl::Status Listen() {
    boost::system::error_code ec;
    const net::ip::address address =
        net::ip::make_address(options_.address, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("HttpServerOptions.address \"", options_.address,
                       "\" is not an IP address"));
    }
    const tcp::endpoint endpoint(address,
                                 static_cast<unsigned short>(options_.port));
    const std::string where = FormatEndpoint(endpoint);
    const auto failed = [&](absl::string_view step) {
      const std::string message =
          absl::StrCat("cannot ", step, " ", where, ": ", ec.message());
      if (ec == net::error::address_in_use) {
        return absl::UnavailableError(message);
      }
      if (ec == net::error::access_denied) {
        return absl::PermissionDeniedError(message);
      }
      if (ec.value() == EADDRNOTAVAIL || ec == net::error::invalid_argument ||
          ec == net::error::address_family_not_supported) {
        return absl::InvalidArgumentError(message);
      }
      return absl::UnavailableError(message);
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return failed("open a socket for");
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return failed("set SO_REUSEADDR for");
    acceptor_.bind(endpoint, ec);
    if (ec) return failed("bind");
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return failed("listen on");
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return failed("read the port of");
    return absl::OkStatus();
  }

  void Run() {
    net::post(acceptor_.get_executor(), [this] { Accept(); });
    const int n = IoThreadCount(options_);
    io_threads_.reserve(n);
    for (int i = 0; i < n; ++i) {
      io_threads_.emplace_back([this] { shared_->ioc.run(); });
    }
  }

  void Shutdown(absl::Duration grace) {
    {
      absl::MutexLock lock(&shutdown_mu_);
      if (shut_down_) return;
      shut_down_ = true;
    }
    ctx_.draining.store(true);
    net::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      accept_retry_.cancel();
    });
    for (const std::shared_ptr<Connection>& c : ctx_.Snapshot()) {
      net::post(c->executor(), [c] { c->Drain(); });
    }
    if (!ctx_.AwaitEmpty(absl::Now() + grace)) {
      for (const std::shared_ptr<Connection>& c : ctx_.Snapshot()) {
        net::post(c->executor(), [c] { c->ForceClose(); });
      }
      // ForceClose() is immediate; this only waits for the I/O threads.
      ctx_.AwaitEmpty(absl::Now() + absl::Seconds(5));
    }
    // Blocking handlers still queued are dropped (their writers answer into
    // closed connections); running ones are waited for.
    pool_.stop();
    pool_.join();
    work_.reset();
    shared_->ioc.stop();
    for (std::thread& t : io_threads_) t.join();
    io_threads_.clear();
  }

  int port() const { return port_; }
  int64_t ws_connections() const { return shared_->ws_connections.load(); }
  int64_t ws_slow_closed() const { return shared_->ws_slow_closed.load(); }
  int64_t connections() { return ctx_.size(); }

 private:
  static int IoThreadCount(const HttpServerOptions& options) {
    if (options.io_threads > 0) return options.io_threads;
    // The CPUs this process may run on (taskset, cgroup cpusets), not the
    // machine's: two I/O threads sharing one CPU only contend.
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0) return std::max(1, CPU_COUNT(&cpus));
    return std::max(1u, std::thread::hardware_concurrency());
  }

  // On the acceptor's strand.
  void Accept() {
    if (!acceptor_.is_open()) return;
    acceptor_.async_accept(
        net::make_strand(shared_->ioc),
        [this](boost::system::error_code ec, tcp::socket socket) {
          OnAccept(ec, std::move(socket));
        });
  }

  void OnAccept(boost::system::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      if (IsResourceError(ec)) {
        accept_retry_.expires_after(std::chrono::milliseconds(50));
        accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec) Accept();
        });
      } else {
        Accept();  // the peer gave up before we accepted: ignore
      }
      return;
    }
    if (!ctx_.draining.load()) {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      const tcp::endpoint remote = socket.remote_endpoint(ignored);
      auto connection = std::make_shared<HttpConnection>(
          &ctx_, std::move(socket), FormatEndpoint(remote));
      ctx_.Register(connection);
      net::post(connection->executor(), [connection] { connection->Start(); });
    }
    Accept();
  }

  // Destroyed in reverse order: threads and pool before the context and the
  // router they use; shared_ (the io_context) after everything on it.
  Router router_;
  HttpServerOptions options_;
  std::shared_ptr<SharedState> shared_;
  net::thread_pool pool_;
  ServerContext ctx_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::vector<std::thread> io_threads_;
  int port_ = 0;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    Router router, HttpServerOptions options) {
  ALERTHUB_RETURN_IF_ERROR(router.status());
  ALERTHUB_RETURN_IF_ERROR(ValidateOptions(options));
  auto impl = std::make_unique<Impl>(std::move(router), std::move(options));
  ALERTHUB_RETURN_IF_ERROR(impl->Listen());
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;  // Impl's destructor shuts down
int HttpServer::port() const { return impl_->port(); }
void HttpServer::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }
int64_t HttpServer::ws_connections() const { return impl_->ws_connections(); }
int64_t HttpServer::ws_slow_closed() const { return impl_->ws_slow_closed(); }
int64_t HttpServer::connections() const { return impl_->connections(); }

}  // namespace alerthub::http
