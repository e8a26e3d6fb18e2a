// Kills a process mid-stream with SIGKILL while it submits notifications and
// checks ARCHITECTURE §3's promise: every acknowledged notification is in the
// store after reopening, and the relay publishes every outbox message the
// dead process left unpublished exactly once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alerthub/engine/engine.h"
#include "alerthub/model/event.h"
#include "alerthub/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string SubmitterPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "alerthub",
                      "/tests/crash/crash_submitter");
}

// Runs the submitter until it has acknowledged at least `min_acks`, then
// kills it with SIGKILL.
void RunAndKill(const std::string& dir, int min_acks) {
  const std::string acks = dir + "/acks";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string bin = SubmitterPath();
    std::string db = "--db=" + dir + "/alerthub.db";
    std::string a = "--acks=" + acks;
    std::string p = "--published=" + dir + "/published";
    execl(bin.c_str(), bin.c_str(), db.c_str(), a.c_str(), p.c_str(), "--threads=8",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (static_cast<int>(ReadLines(acks).size()) < min_acks && absl::Now() < deadline) {
    int status;
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "submitter exited early";
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Let it run on a little so the kill lands mid-commit at a random point.
  absl::SleepFor(absl::Milliseconds(50 + std::rand() % 200));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
}

class CrashTest : public ::testing::TestWithParam<int> {};

TEST_P(CrashTest, AcknowledgedSurvivesAndOutboxReplaysExactlyOnce) {
  std::srand(GetParam());
  const std::string dir = absl::StrCat(::testing::TempDir(), "/crash-", GetParam(), "-",
                                       absl::ToUnixNanos(absl::Now()));
  ASSERT_EQ(system(("mkdir -p " + dir).c_str()), 0);
  RunAndKill(dir, 2000);

  const std::vector<std::string> acked = ReadLines(dir + "/acks");
  const std::vector<std::string> published_before = ReadLines(dir + "/published");
  ASSERT_GE(acked.size(), 2000u);

  EngineOptions options;
  options.store = absl::StrCat("sqlite://", dir, "/alerthub.db");
  options.run_relay = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Engine> engine, Engine::Open(options));
  ASSERT_OK_AND_ASSIGN(Tenant tenant, engine->EnsureTenant("default"));

  // 1. Every acknowledged id is in the store.
  for (const std::string& id : acked) {
    ASSERT_OK(engine->store().GetNotification(tenant.id, id).status()) << id;
  }

  // 2. The relay publishes exactly the pending messages, each once.
  ASSERT_OK_AND_ASSIGN(int64_t pending, engine->store().CountOutboxPending());
  std::cout << "acknowledged " << acked.size() << ", published before the kill "
            << published_before.size() << ", pending at reopen " << pending << "\n";
  absl::Mutex mu;
  std::vector<std::string> replayed;
  ASSERT_OK_AND_ASSIGN(auto sub, engine->event_log().Subscribe(
                                     kTopicCreated, "crash-test", [&](const EventMessage& m) {
                                       absl::MutexLock lock(&mu);
                                       replayed.push_back(m.key);
                                       return absl::OkStatus();
                                     }));
  // Claims the dead process held expire after the lease; drain until empty.
  ASSERT_OK_AND_ASSIGN(int64_t first, engine->relay().Drain());
  int64_t total = first;
  absl::Time deadline = absl::Now() + absl::Seconds(45);
  while (absl::Now() < deadline) {
    ASSERT_OK_AND_ASSIGN(int64_t left, engine->store().CountOutboxPending());
    if (left == 0) break;
    absl::SleepFor(absl::Milliseconds(250));
    ASSERT_OK_AND_ASSIGN(int64_t n, engine->relay().Drain());
    total += n;
  }
  ASSERT_OK_AND_ASSIGN(int64_t left, engine->store().CountOutboxPending());
  EXPECT_EQ(left, 0);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(static_cast<int64_t>(replayed.size()), pending);
  EXPECT_EQ(total, pending);
  std::set<std::string> unique(replayed.begin(), replayed.end());
  EXPECT_EQ(unique.size(), replayed.size()) << "a message was published twice on replay";

  // 3. Nothing acknowledged was left out of the bus: each acked id was
  // published before the crash or on replay.
  std::set<std::string> on_bus(published_before.begin(), published_before.end());
  on_bus.insert(replayed.begin(), replayed.end());
  for (const std::string& id : acked) EXPECT_TRUE(on_bus.count(id)) << id;
  // A second drain finds nothing.
  ASSERT_OK_AND_ASSIGN(int64_t again, engine->relay().Drain());
  EXPECT_EQ(again, 0);
}

INSTANTIATE_TEST_SUITE_P(Runs, CrashTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace alerthub
