// A TCP forwarder for fault tests against live servers: clients connect to
// the proxy's port and talk to the real server through it, and the test cuts
// the line — every open connection at once (SeverAll, what a server crash or
// a network failure looks like to the client) or new connections too
// (SetAccepting(false): "connection refused", an unreachable server).
//
//   ALERTHUB_ASSIGN_OR_RETURN(auto proxy, TcpProxy::Start("127.0.0.1", 6379));
//   ... connect to 127.0.0.1:proxy->port() ...
//   proxy->SetAccepting(false); proxy->SeverAll();   // server "down"
//   proxy->SetAccepting(true);                       // back
//
// Thread-safe.
#ifndef ALERTHUB_TESTS_LIVE_TCP_PROXY_H_
#define ALERTHUB_TESTS_LIVE_TCP_PROXY_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace alerthub::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1 at a free port and forwards to target_host:target_port.
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(const std::string& target_host,
                                                         int target_port);
  ~TcpProxy();

  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // The port clients connect to.
  int port() const { return port_; }

  // Resets every forwarded connection (both ends see it closed).
  void SeverAll();

  // false closes the listening socket, so connecting is refused; true listens
  // on the same port again.
  absl::Status SetAccepting(bool accepting);

  // Connections currently forwarded.
  int open_connections();

 private:
  TcpProxy(std::string target_host, int target_port)
      : target_host_(std::move(target_host)), target_port_(target_port) {}
  absl::Status Listen();
  void AcceptLoop(int listener);
  static void Pump(int from, int to);

  const std::string target_host_;
  const int target_port_;
  int port_ = 0;

  absl::Mutex mu_;
  int listener_ ABSL_GUARDED_BY(mu_) = -1;
  std::thread acceptor_ ABSL_GUARDED_BY(mu_);
  // Both sockets of every connection, closed by SeverAll/the destructor.
  std::vector<int> sockets_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> pumps_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTS_LIVE_TCP_PROXY_H_
