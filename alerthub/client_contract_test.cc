// ClientContractTest over both modes of alerthub::Client, plus what only
// remote mode can do wrong. Remote mode runs against the real `alerthub`
// daemon (a runfile of this test) started on a free loopback port: one
// shared by the contract cases, and dedicated ones for rate limits and
// restarts.
#include "alerthub/testing/client_contract.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alerthub/client.h"
#include "alerthub/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::alerthub::testing::ClientContractTest;
using ::alerthub::testing::ClientFactory;
using ::alerthub::testing::ClientFactoryName;
using ::alerthub::testing::StatusIs;
using ::alerthub::testing::UniqueName;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A loopback TCP port nothing listens on right now.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "no free port: " << std::strerror(errno);
  }
  close(fd);
  return ntohs(addr.sin_port);
}

bool Accepting(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

std::string ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  std::getline(in, key);
  return std::string(absl::StripAsciiWhitespace(key));
}

// The `alerthub` daemon as a child process, on 127.0.0.1 and its own data
// directory under TEST_TMPDIR. SIGTERM on destruction; SIGKILL if this
// process dies first.
class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(absl::string_view name,
                                                       std::vector<std::string> flags = {}) {
    const char* srcdir = std::getenv("TEST_SRCDIR");
    const char* workspace = std::getenv("TEST_WORKSPACE");
    const char* tmpdir = std::getenv("TEST_TMPDIR");
    if (srcdir == nullptr || workspace == nullptr || tmpdir == nullptr) {
      return absl::FailedPreconditionError("run under bazel test (TEST_SRCDIR etc. unset)");
    }
    std::unique_ptr<Daemon> d(new Daemon());
    d->binary_ = absl::StrCat(srcdir, "/", workspace, "/daemons/alerthub/alerthub");
    d->data_dir_ =
        absl::StrCat(tmpdir, "/", name, "-", getpid(), "-", absl::ToUnixMicros(absl::Now()));
    d->flags_ = std::move(flags);
    // Another process may take the port between FreePort() and the bind.
    absl::Status s;
    for (int attempt = 0; attempt < 3; ++attempt) {
      d->port_ = FreePort();
      s = d->Launch();
      if (s.ok()) return d;
    }
    return s;
  }

  ~Daemon() { Stop(); }

  // SIGTERM, then the same binary, port and data directory again.
  absl::Status Restart() {
    Stop();
    return Launch();
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        ADD_FAILURE() << "the daemon ignored SIGTERM for 15 s";
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    pid_ = -1;
  }

  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }
  const std::string& api_key() const { return api_key_; }

  ClientOptions Options() const {
    ClientOptions o;
    o.endpoint = endpoint();
    o.api_key = api_key_;
    return o;
  }

 private:
  Daemon() = default;

  absl::Status Launch() {
    std::vector<std::string> args = {
        binary_,
        "--http_address=127.0.0.1",
        absl::StrCat("--http_port=", port_),
        "--grpc_port=0",
        absl::StrCat("--data_dir=", data_dir_),
        "--dedup_window_s=300",
        "--access_log=false",
        "--shutdown_grace_s=2",
    };
    args.insert(args.end(), flags_.begin(), flags_.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    mkdir(data_dir_.c_str(), 0700);
    // The daemon prints the bootstrap key on stdout; keep it out of the log.
    const std::string out = absl::StrCat(data_dir_, "/stdout");
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
    if (pid == 0) {  // only async-signal-safe calls until execv
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      if (out_fd >= 0) dup2(out_fd, STDOUT_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (out_fd >= 0) close(out_fd);
    pid_ = pid;

    const std::string key_file = absl::StrCat(data_dir_, "/bootstrap-api-key");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::UnavailableError(
            absl::StrCat(binary_, " exited early with status ", status, " (see its stderr above)"));
      }
      if (Accepting(port_)) {
        api_key_ = ReadKeyFile(key_file);
        if (!api_key_.empty()) return absl::OkStatus();
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    Stop();
    return absl::DeadlineExceededError("the daemon did not listen within 30 s");
  }

  std::string binary_;
  std::string data_dir_;
  std::vector<std::string> flags_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string api_key_;
};

// Starts the daemon the contract cases share on first use; stops it after
// the last test.
class SharedDaemonEnvironment : public ::testing::Environment {
 public:
  absl::StatusOr<Daemon*> Get() {
    if (daemon_ == nullptr && status_.ok()) {
      // Without delivery, so submitted notifications keep the `accepted`
      // status the embedded engine (which has no delivery workers) reports.
      absl::StatusOr<std::unique_ptr<Daemon>> d = Daemon::Start("shared", {"--deliver=false"});
      if (d.ok()) {
        daemon_ = *std::move(d);
      } else {
        status_ = d.status();
      }
    }
    if (!status_.ok()) return status_;
    return daemon_.get();
  }

  void TearDown() override { daemon_.reset(); }

 private:
  std::unique_ptr<Daemon> daemon_;
  absl::Status status_;
};

SharedDaemonEnvironment* const shared_daemon = static_cast<SharedDaemonEnvironment*>(
    ::testing::AddGlobalTestEnvironment(new SharedDaemonEnvironment()));

absl::StatusOr<std::unique_ptr<Client>> OpenEmbedded() {
  ClientOptions o;
  o.store = "sqlite://:memory:";
  return Client::Open(o);
}

absl::StatusOr<std::unique_ptr<Client>> OpenRemote() {
  ALERTHUB_ASSIGN_OR_RETURN(Daemon * daemon, shared_daemon->Get());
  return Client::Open(daemon->Options());
}

INSTANTIATE_TEST_SUITE_P(Embedded, ClientContractTest,
                         ::testing::Values(ClientFactory{"embedded", &OpenEmbedded}),
                         ClientFactoryName);
INSTANTIATE_TEST_SUITE_P(Remote, ClientContractTest,
                         ::testing::Values(ClientFactory{"remote", &OpenRemote}),
                         ClientFactoryName);

// --- Remote mode only ---------------------------------------------------------

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const FieldError& e : FieldErrorsOf(s)) out.push_back(e.field);
  return out;
}

Notification Make(absl::string_view type, absl::string_view title) {
  Notification n;
  n.type = std::string(type);
  n.title = std::string(title);
  return n;
}

TEST(RemoteClientTest, OpenValidatesEndpointAndKey) {
  ClientOptions o;
  o.api_key = "ahk_anything";
  for (const char* bad : {"localhost:8080", "ftp://127.0.0.1", "http://127.0.0.1:8080/api/v1",
                          "http://127.0.0.1:8080?x=1", "http://:8080", "http://127.0.0.1:99999"}) {
    SCOPED_TRACE(bad);
    o.endpoint = bad;
    absl::StatusOr<std::unique_ptr<Client>> c = Client::Open(o);
    EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(Fields(c.status()), ElementsAre("endpoint"));
  }
  o.endpoint = "http://127.0.0.1:8080/";
  EXPECT_OK(Client::Open(o));
  o.api_key = "";
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Open(o);
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Fields(c.status()), ElementsAre("api_key"));
}

TEST(RemoteClientTest, UnreachableRouterIsUnavailableQuickly) {
  ClientOptions o;
  o.endpoint = absl::StrCat("http://127.0.0.1:", FreePort());
  o.api_key = "ahk_anything";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(o));
  const Notification n = Make("unreachable", "x");
  auto quickly = [](auto call) {
    const absl::Time start = absl::Now();
    auto result = call();
    EXPECT_LT(absl::Now() - start, absl::Seconds(2));
    return result;
  };
  EXPECT_THAT(quickly([&] { return client->Submit(n); }),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1")));
  EXPECT_THAT(quickly([&] { return client->Submit(n, {.idempotency_key = "k"}); }),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(quickly([&] { return client->SubmitBatch({n}); }),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(quickly([&] { return client->Get("00000000-0000-7000-8000-000000000000"); }),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(quickly([&] { return client->ListEvents("00000000-0000-7000-8000-000000000000"); }),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(quickly([&] { return client->List({}); }), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(quickly([&] { return client->Watch({}, [](const StatusUpdate&) {}); }),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(RemoteClientTest, WrongApiKeyIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(Daemon * daemon, shared_daemon->Get());
  ClientOptions o = daemon->Options();
  o.api_key = "ahk_thisIsNotAKeyOfThisRouter0000000000000";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(o));
  const Notification n = Make(UniqueName("wrong-key"), "x");
  const std::string id = "00000000-0000-7000-8000-000000000000";
  EXPECT_THAT(client->Submit(n), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(client->SubmitBatch({n}), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(client->Get(id), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(client->ListEvents(id), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(client->List({}), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(client->Watch({}, [](const StatusUpdate&) {}),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(RemoteClientTest, RateLimitedRouterSaysWhenToRetry) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Daemon> daemon,
      Daemon::Start("ratelimited", {"--rate_limit_per_second=1", "--rate_limit_burst=1"}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(daemon->Options()));
  const std::string type = UniqueName("limited");
  ASSERT_OK_AND_ASSIGN(SubmitResult first, client->Submit(Make(type, "first")));
  EXPECT_EQ(first.rate_limit.limit, 1);
  EXPECT_EQ(first.rate_limit.remaining, 0);

  absl::StatusOr<SubmitResult> second = client->Submit(Make(type, "second"));
  ASSERT_THAT(second, StatusIs(absl::StatusCode::kResourceExhausted));
  std::optional<RateLimitInfo> info = RateLimitInfoOf(second.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_GT(info->retry_after, absl::ZeroDuration());
  EXPECT_LE(info->retry_after, absl::Seconds(1));
  EXPECT_EQ(info->limit, 1);
  EXPECT_EQ(info->remaining, 0);

  absl::StatusOr<std::vector<absl::StatusOr<SubmitResult>>> batch =
      client->SubmitBatch({Make(type, "batch")});
  ASSERT_THAT(batch, StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_TRUE(RateLimitInfoOf(batch.status()).has_value());
  EXPECT_GT(RateLimitInfoOf(batch.status())->retry_after, absl::ZeroDuration());
  // Reads are not rate limited.
  EXPECT_OK(client->Get(first.id).status());
}

TEST(RemoteClientTest, WatchSurvivesRouterRestart) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Daemon> daemon, Daemon::Start("restart"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(daemon->Options()));
  const std::string type = UniqueName("restart");
  absl::Mutex mu;
  std::vector<std::string> seen;
  WatchOptions wo;
  wo.types = {type};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WatchHandle> watch,
                       client->Watch(wo, [&](const StatusUpdate& u) {
                         absl::MutexLock lock(&mu);
                         seen.push_back(u.id);
                       }));
  auto wait_for = [&](const std::string& id, absl::Duration timeout) {
    absl::MutexLock lock(&mu);
    auto has = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return std::find(seen.begin(), seen.end(), id) != seen.end();
    };
    return mu.AwaitWithTimeout(absl::Condition(&has), timeout);
  };
  ASSERT_OK_AND_ASSIGN(SubmitResult before, client->Submit(Make(type, "before")));
  ASSERT_TRUE(wait_for(before.id, absl::Seconds(10)));

  ASSERT_OK(daemon->Restart());
  // The watch reconnects in the background; updates committed before it has
  // subscribed again are missed, so submit until one arrives.
  bool delivered = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (int i = 0; !delivered && absl::Now() < deadline; ++i) {
    absl::StatusOr<SubmitResult> r = client->Submit(Make(type, absl::StrCat("after ", i)));
    ASSERT_OK(r.status());
    delivered = wait_for(r->id, absl::Milliseconds(500));
  }
  EXPECT_TRUE(delivered) << "no update after the restart";
  EXPECT_OK(client->Get(before.id).status());  // the data survived too
  EXPECT_EQ(watch->dropped(), 0);
}

// A stand-in router answering every request with one canned response (after
// `delay`), to see what the client sends and how often.
class CannedRouter {
 public:
  explicit CannedRouter(std::string response, absl::Duration delay = absl::ZeroDuration())
      : response_(std::move(response)), delay_(delay) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd_, 16) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen: " << std::strerror(errno);
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~CannedRouter() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }

  std::vector<std::string> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const int conn = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      std::string request;
      char buf[4096];
      size_t need = std::string::npos;
      while (need == std::string::npos || request.size() < need) {
        const ssize_t n = read(conn, buf, sizeof(buf));
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
        const size_t end = request.find("\r\n\r\n");
        if (need == std::string::npos && end != std::string::npos) {
          size_t length = 0;
          const std::string head = absl::AsciiStrToLower(request.substr(0, end));
          const size_t cl = head.find("content-length:");
          if (cl != std::string::npos) {
            absl::SimpleAtoi(
                absl::StripAsciiWhitespace(head.substr(cl + 15, head.find("\r\n", cl) - cl - 15)),
                &length);
          }
          need = end + 4 + length;
        }
      }
      {
        absl::MutexLock lock(&mu_);
        requests_.push_back(request);
      }
      const absl::Time answer_at = absl::Now() + delay_;
      while (!stop_ && absl::Now() < answer_at) absl::SleepFor(absl::Milliseconds(10));
      (void)!write(conn, response_.data(), response_.size());
      close(conn);
    }
  }

  const std::string response_;
  const absl::Duration delay_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
};

TEST(RemoteClientTest, RetriesOnlyWhatIsSafeToRepeat) {
  CannedRouter router(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
      "Connection: close\r\nContent-Length: 50\r\n\r\n"
      R"({"status":503,"detail":"the store is unavailable"})");
  ClientOptions o;
  o.endpoint = router.endpoint();
  o.api_key = "ahk_canned";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(o));

  // A plain submission may have been stored: not repeated.
  EXPECT_THAT(client->Submit(Make("plain", "x")),
              StatusIs(absl::StatusCode::kUnavailable, "the store is unavailable"));
  std::vector<std::string> sent = router.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_THAT(sent[0], HasSubstr("POST /api/v1/notifications HTTP/1.1\r\n"));
  EXPECT_THAT(sent[0], HasSubstr("X-API-Key: ahk_canned\r\n"));
  EXPECT_THAT(sent[0], HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(sent[0],
              HasSubstr("\r\n\r\n{\"priority\":\"normal\",\"title\":\"x\",\"type\":\"plain\"}"));

  // Keyed submissions and reads are: 1 + 3 retries.
  EXPECT_THAT(client->Submit(Make("keyed", "x"), {.idempotency_key = "key-1"}),
              StatusIs(absl::StatusCode::kUnavailable));
  sent = router.requests();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_THAT(sent[4], HasSubstr("Idempotency-Key: key-1\r\n"));
  Notification deduped = Make("deduped", "x");
  deduped.dedup_key = "d-1";
  EXPECT_THAT(client->Submit(deduped), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(router.requests().size(), 9u);
  EXPECT_THAT(client->SubmitBatch({Make("plain", "y")}), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(router.requests().size(), 10u);
  EXPECT_THAT(client->Get("00000000-0000-7000-8000-000000000000"),
              StatusIs(absl::StatusCode::kUnavailable));
  sent = router.requests();
  ASSERT_EQ(sent.size(), 14u);
  EXPECT_THAT(sent[13],
              HasSubstr("GET /api/v1/notifications/00000000-0000-7000-8000-000000000000 HTTP/1.1"));

  ListOptions lo;
  lo.type = "a b&c";
  lo.status = NotificationStatus::kDelivered;
  lo.since = absl::FromUnixSeconds(1767225600);
  lo.limit = 7;
  lo.cursor = "abc-_";
  EXPECT_THAT(client->List(lo), StatusIs(absl::StatusCode::kUnavailable));
  sent = router.requests();
  ASSERT_EQ(sent.size(), 18u);
  EXPECT_THAT(sent[17],
              HasSubstr("GET /api/v1/notifications?limit=7&status=delivered&type=a%20b%26c"
                        "&since=2026-01-01T00%3A00%3A00.000000Z&cursor=abc-_ HTTP/1.1"));
}

TEST(RemoteClientTest, RedirectsAreNotFollowed) {
  CannedRouter router(
      "HTTP/1.1 308 Permanent Redirect\r\nLocation: http://127.0.0.1:1/elsewhere\r\n"
      "Connection: close\r\nContent-Length: 0\r\n\r\n");
  ClientOptions o;
  o.endpoint = router.endpoint();
  o.api_key = "ahk_canned";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(o));
  EXPECT_THAT(client->List({}), StatusIs(absl::StatusCode::kUnknown, HasSubstr("308")));
  EXPECT_EQ(router.requests().size(), 1u);
}

TEST(RemoteClientTest, TimeoutAppliesToEachRequest) {
  CannedRouter router("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", absl::Seconds(5));
  ClientOptions o;
  o.endpoint = router.endpoint();
  o.api_key = "ahk_canned";
  o.timeout = absl::Milliseconds(200);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(o));
  const absl::Time start = absl::Now();
  EXPECT_THAT(client->Submit(Make("slow", "x")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("timed out")));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(200));
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_EQ(router.requests().size(), 1u);
}

TEST(RemoteClientTest, HttpsToAPlainRouterIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(Daemon * daemon, shared_daemon->Get());
  ClientOptions o = daemon->Options();
  o.endpoint = absl::StrReplaceAll(o.endpoint, {{"http://", "https://"}});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Open(o));
  EXPECT_THAT(client->List({}), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(client->Watch({}, [](const StatusUpdate&) {}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("TLS")));
}

}  // namespace
}  // namespace alerthub
