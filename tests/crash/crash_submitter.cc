// Child process of crash_test: submits notifications from several threads
// through the embedded engine and appends each acknowledged id to --acks
// (after Submit returned OK), and each message the relay published to
// --published. It runs until killed.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "alerthub/engine/engine.h"
#include "alerthub/model/event.h"

ABSL_FLAG(std::string, db, "", "SQLite database file");
ABSL_FLAG(std::string, acks, "", "file receiving acknowledged ids");
ABSL_FLAG(std::string, published, "", "file receiving published notification ids");
ABSL_FLAG(int, threads, 8, "concurrent submitters");

namespace {

// Appends one line with a single write(2): O_APPEND keeps lines whole, and
// SIGKILL cannot lose a write that returned (the page cache survives).
void AppendLine(int fd, const std::string& line) {
  std::string l = line + "\n";
  if (write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::abort();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  int acks = open(absl::GetFlag(FLAGS_acks).c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int published = open(absl::GetFlag(FLAGS_published).c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (acks < 0 || published < 0) return 2;

  alerthub::EngineOptions options;
  options.store = absl::StrCat("sqlite://", absl::GetFlag(FLAGS_db));
  options.run_relay = false;
  // Short claims so the reopening test need not wait long for the claims
  // this process holds when it is killed.
  options.relay.claim_lease = absl::Seconds(2);
  options.pipeline.rate_limit.enabled = false;
  options.pipeline.default_dedup_window = absl::ZeroDuration();
  auto engine = alerthub::Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return 2;
  }
  auto tenant = (*engine)->EnsureTenant("default");
  if (!tenant.ok()) return 2;
  auto sub = (*engine)->event_log().Subscribe(
      alerthub::kTopicCreated, "crash-test", [published](const alerthub::EventMessage& m) {
        AppendLine(published, m.key);
        return absl::OkStatus();
      });
  if (!sub.ok()) return 2;
  (*engine)->StartRelay();

  std::vector<std::thread> threads;
  for (int t = 0; t < absl::GetFlag(FLAGS_threads); ++t) {
    threads.emplace_back([&, t] {
      alerthub::SubmitContext ctx;
      ctx.tenant_id = tenant->id;
      for (int i = 0;; ++i) {
        alerthub::Notification n;
        n.type = "crash.test";
        n.title = absl::StrCat("thread ", t, " item ", i);
        auto r = (*engine)->pipeline().Submit(ctx, n);
        if (r.ok()) AppendLine(acks, r->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}
