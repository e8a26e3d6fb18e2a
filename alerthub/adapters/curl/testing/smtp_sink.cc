#include "alerthub/adapters/curl/testing/smtp_sink.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace alerthub::testing {
namespace {

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kScript[] = "alerthub/adapters/curl/testing/smtp_sink.py";
constexpr char kBootstrapHint[] = "run tools/bootstrap.sh to install it";
// How long the server may take to start listening.
constexpr int kStartTimeoutMs = 20000;

// The script in the test's runfiles (or relative to the working directory
// outside Bazel).
std::string ScriptPath() {
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    std::string path = absl::StrCat(srcdir, "/alerthub/", kScript);
    if (access(path.c_str(), R_OK) == 0) return path;
  }
  return kScript;
}

// Reads the child's first line ("PORT <n>").
absl::StatusOr<int> ReadPort(int fd) {
  std::string line;
  char buf[256];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, kStartTimeoutMs);
    if (ready == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("smtp_sink.py did not start listening within ", kStartTimeoutMs, " ms"));
    }
    if (ready < 0 && errno == EINTR) continue;
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
    if (line.find('\n') != std::string::npos) break;
  }
  absl::string_view first = absl::string_view(line).substr(0, line.find('\n'));
  int port = 0;
  if (!absl::ConsumePrefix(&first, "PORT ") || !absl::SimpleAtoi(first, &port)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "smtp_sink.py exited before listening (its error is in the test log above); if "
        "aiosmtpd is missing, ",
        kBootstrapHint));
  }
  return port;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SmtpSink>> SmtpSink::Start(const Options& options) {
  if (access(kPython, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kPython, " is missing; the SMTP test server needs it: ", kBootstrapHint));
  }
  const std::string script = ScriptPath();
  if (access(script.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot find ", kScript, " in the runfiles"));
  }
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/smtp_sink_XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<std::string> args = {kPython, script, "--out_dir", dir};
  if (!options.username.empty()) {
    args.insert(args.end(), {"--username", options.username, "--password", options.password});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, kPython, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", kPython, ": ", std::strerror(rc), "; ", kBootstrapHint));
  }
  absl::StatusOr<int> port = ReadPort(out[0]);
  close(out[0]);
  if (!port.ok()) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return port.status();
  }
  return std::unique_ptr<SmtpSink>(new SmtpSink(pid, *port, std::move(dir)));
}

SmtpSink::~SmtpSink() {
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
}

std::string SmtpSink::Url() const { return absl::StrCat("smtp://127.0.0.1:", port_); }

std::vector<nlohmann::json> SmtpSink::Messages() const {
  std::vector<std::string> names;
  if (DIR* d = opendir(out_dir_.c_str())) {
    while (dirent* e = readdir(d)) {
      if (absl::EndsWith(e->d_name, ".json")) names.emplace_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::vector<nlohmann::json> messages;
  for (const std::string& name : names) {
    std::ifstream in(absl::StrCat(out_dir_, "/", name));
    messages.push_back(nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false));
  }
  return messages;
}

}  // namespace alerthub::testing
