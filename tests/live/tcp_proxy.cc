#include "tests/live/tcp_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace alerthub::testing {
namespace {

int ConnectTo(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(const std::string& target_host,
                                                          int target_port) {
  std::unique_ptr<TcpProxy> proxy(new TcpProxy(target_host, target_port));
  absl::MutexLock lock(&proxy->mu_);
  if (absl::Status s = proxy->Listen(); !s.ok()) return s;
  return proxy;
}

TcpProxy::~TcpProxy() {
  (void)SetAccepting(false);
  SeverAll();
  std::vector<std::thread> pumps;
  {
    absl::MutexLock lock(&mu_);
    pumps = std::move(pumps_);
  }
  for (std::thread& t : pumps) t.join();
  absl::MutexLock lock(&mu_);
  for (int fd : sockets_) close(fd);
}

absl::Status TcpProxy::Listen() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("tcp proxy: cannot listen on 127.0.0.1:", port_, ": ", strerror(errno)));
    close(fd);
    return s;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listener_ = fd;
  acceptor_ = std::thread([this, fd] { AcceptLoop(fd); });
  return absl::OkStatus();
}

absl::Status TcpProxy::SetAccepting(bool accepting) {
  std::thread acceptor;
  {
    absl::MutexLock lock(&mu_);
    if (accepting) {
      if (listener_ >= 0) return absl::OkStatus();
      if (acceptor_.joinable()) acceptor = std::move(acceptor_);
    } else {
      if (listener_ < 0) return absl::OkStatus();
      shutdown(listener_, SHUT_RDWR);  // wakes accept()
      acceptor = std::move(acceptor_);
    }
  }
  if (acceptor.joinable()) acceptor.join();
  absl::MutexLock lock(&mu_);
  if (!accepting) {
    close(listener_);
    listener_ = -1;
    return absl::OkStatus();
  }
  return Listen();
}

void TcpProxy::SeverAll() {
  absl::MutexLock lock(&mu_);
  for (int fd : sockets_) {
    // A zero linger makes the close a reset, as when a server dies.
    linger l{.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    shutdown(fd, SHUT_RDWR);
  }
}

int TcpProxy::open_connections() {
  absl::MutexLock lock(&mu_);
  return open_;
}

void TcpProxy::AcceptLoop(int listener) {
  while (true) {
    int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // the listener was shut down
    }
    int server = ConnectTo(target_host_, target_port_);
    if (server < 0) {
      close(client);
      continue;
    }
    auto remaining = std::make_shared<std::atomic<int>>(2);
    auto done = [this, remaining, client, server] {
      shutdown(client, SHUT_RDWR);
      shutdown(server, SHUT_RDWR);
      if (remaining->fetch_sub(1) == 1) {
        absl::MutexLock lock(&mu_);
        --open_;
      }
    };
    absl::MutexLock lock(&mu_);
    sockets_.push_back(client);
    sockets_.push_back(server);
    ++open_;
    pumps_.emplace_back([client, server, done] {
      Pump(client, server);
      done();
    });
    pumps_.emplace_back([client, server, done] {
      Pump(server, client);
      done();
    });
  }
}

void TcpProxy::Pump(int from, int to) {
  char buf[65536];
  while (true) {
    ssize_t n = read(from, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;
      off += w;
    }
  }
}

}  // namespace alerthub::testing
