// The ceiling of the embedded store's hot path: CommitSubmissions on a file
// database with synchronous=FULL (every commit fsynced), by batch size, with
// synchronous=NORMAL and ":memory:" as baselines measured in the same run, and
// with 64 concurrent callers (the store's own group commit).
//
//   tools/bazel.sh run -c opt //alerthub/adapters/sqlite:sqlite_store_benchmark --
//       --benchmark_repetitions=3
//
// Database files go to $TEST_TMPDIR, else a fresh directory under /tmp, and
// are deleted afterwards. items_per_second is submissions per second.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "alerthub/adapters/sqlite/sqlite_store.h"
#include "alerthub/common/uuid.h"
#include "alerthub/model/event.h"
#include "alerthub/model/notification.h"
#include "benchmark/benchmark.h"

namespace alerthub {
namespace {

enum Mode : int64_t { kFileFull = 0, kFileNormal = 1, kMemory = 2 };

const std::string& BenchDir() {
  static const std::string* dir = [] {
    if (const char* tmp = getenv("TEST_TMPDIR"); tmp != nullptr) return new std::string(tmp);
    char templ[] = "/tmp/alerthub-sqlite-bench-XXXXXX";
    const char* made = mkdtemp(templ);
    return new std::string(made != nullptr ? made : "/tmp");
  }();
  return *dir;
}

void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove(absl::StrCat(path, suffix).c_str());
  }
}

std::string NewDbPath() {
  static int counter = 0;
  return absl::StrCat(BenchDir(), "/bench-", getpid(), "-", counter++, ".db");
}

// A representative submission: a few hundred bytes of notification and event.
SubmissionWrite Template(absl::string_view tenant_id) {
  const absl::Time now = absl::Now();
  SubmissionWrite w;
  Notification& n = w.notification;
  n.id = NewUuidV7(now);
  n.tenant_id = std::string(tenant_id);
  n.created_at = now;
  n.updated_at = now;
  n.type = "deploy.finished";
  n.title = "Deploy of api-server v2.14.3 to production finished";
  n.body = "All 12 instances are healthy. Rollout took 4m12s; no errors were reported.";
  n.priority = Priority::kHigh;
  n.data = {{"service", "api-server"}, {"version", "2.14.3"}, {"instances", 12}};
  n.tags = {{"env", "prod"}, {"team", "platform"}};
  w.accepted_event = MakeNotificationEvent(n, kEventAccepted, "/alerthub/pipeline", now,
                                           {{"status", "accepted"}});
  w.outbox_topic = std::string(kTopicCreated);
  w.outbox_payload = CloudEventToJson(w.accepted_event).dump();
  return w;
}

// Gives every submission of `batch` fresh ids (cheap next to the commit).
void Renew(std::vector<SubmissionWrite>& batch) {
  const absl::Time now = absl::Now();
  for (SubmissionWrite& w : batch) {
    w.notification.id = NewUuidV7(now);
    w.accepted_event.id = NewUuidV7(now);
    w.accepted_event.subject = w.notification.id;
  }
}

std::unique_ptr<SqliteStore> OpenForBench(Mode mode, std::string* path) {
  SqliteStoreOptions options;
  *path = mode == kMemory ? ":memory:" : NewDbPath();
  options.path = *path;
  options.synchronous_full = mode != kFileNormal;
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenSqliteStore(options);
  if (!store.ok()) return nullptr;
  return *std::move(store);
}

const char* ModeLabel(Mode mode) {
  switch (mode) {
    case kFileFull: return "file synchronous=FULL";
    case kFileNormal: return "file synchronous=NORMAL";
    case kMemory: return ":memory:";
  }
  return "";
}

// One caller, one batch per call.
void BM_CommitSubmissions(benchmark::State& state) {
  const int batch_size = static_cast<int>(state.range(0));
  const Mode mode = static_cast<Mode>(state.range(1));
  std::string path;
  std::unique_ptr<SqliteStore> store = OpenForBench(mode, &path);
  if (store == nullptr) {
    state.SkipWithError("cannot open the store");
    return;
  }
  std::vector<SubmissionWrite> batch(batch_size, Template("tenant-1"));
  for (auto _ : state) {
    Renew(batch);
    absl::StatusOr<std::vector<SubmissionOutcome>> out = store->CommitSubmissions(batch);
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
  state.SetLabel(ModeLabel(mode));
  store.reset();
  if (mode != kMemory) RemoveDb(path);
}
BENCHMARK(BM_CommitSubmissions)
    ->ArgNames({"batch", "mode"})
    ->ArgsProduct({{1, 16, 64, 256}, {kFileFull}})
    ->ArgsProduct({{1, 64, 256}, {kFileNormal, kMemory}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Baseline: rendering one submission's JSON (notification doc and event doc),
// which CommitSubmissions does in the caller's thread before queueing.
void BM_RenderSubmissionJson(benchmark::State& state) {
  const SubmissionWrite w = Template("tenant-1");
  size_t bytes = 0;
  for (auto _ : state) {
    std::string n = NotificationToJson(w.notification).dump();
    std::string e = CloudEventToJson(w.accepted_event).dump();
    bytes = n.size() + e.size();
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["json_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderSubmissionJson);

// Many callers at once, as the pipeline's submitters: the store groups
// concurrent calls into shared transactions.
std::unique_ptr<SqliteStore> shared_store;
std::string shared_path;

void BM_CommitSubmissionsConcurrent(benchmark::State& state) {
  const int batch_size = static_cast<int>(state.range(0));
  if (state.thread_index() == 0) {
    shared_store = OpenForBench(kFileFull, &shared_path);
  }
  std::vector<SubmissionWrite> batch(batch_size, Template("tenant-1"));
  for (auto _ : state) {
    if (shared_store == nullptr) {
      state.SkipWithError("cannot open the store");
      break;
    }
    Renew(batch);
    absl::StatusOr<std::vector<SubmissionOutcome>> out =
        shared_store->CommitSubmissions(batch);
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch_size);
  if (state.thread_index() == 0) {
    state.SetLabel(ModeLabel(kFileFull));
    shared_store.reset();
    RemoveDb(shared_path);
  }
}
BENCHMARK(BM_CommitSubmissionsConcurrent)
    ->ArgName("batch")
    ->Arg(1)
    ->Arg(16)
    ->Threads(64)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace alerthub
