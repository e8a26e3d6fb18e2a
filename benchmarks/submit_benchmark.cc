// Embedded Submit throughput on a SQLite file with synchronous=FULL: group
// commit (many submissions per transaction) against one commit per
// submission, measured in the same binary and run.
//
//   tools/bazel.sh run -c opt //benchmarks:submit_benchmark --
//       --benchmark_min_time=2 --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true      (one command line)
//
// items_per_second is durable submissions/s across all threads;
// rows_per_commit is the mean number of submissions per transaction.
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alerthub/engine/engine.h"
#include "benchmark/benchmark.h"

namespace alerthub {
namespace {

struct Setup {
  std::unique_ptr<Engine> engine;
  std::string tenant_id;
};

// One engine per mode, opened on first use and shared by all threads.
Setup& GetSetup(bool group_commit) {
  static Setup setups[2];
  static std::once_flag once[2];
  Setup& s = setups[group_commit ? 1 : 0];
  std::call_once(once[group_commit ? 1 : 0], [&] {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string dir = tmp != nullptr ? tmp : "/tmp";
    EngineOptions options;
    options.store = absl::StrCat("sqlite://", dir, "/submit-bench-", group_commit ? "group" : "single",
                                 "-", absl::ToUnixNanos(absl::Now()), ".db");
    options.pipeline.rate_limit.enabled = false;
    options.pipeline.group_commit.max_batch_rows = group_commit ? 1024 : 1;
    auto engine = Engine::Open(options);
    if (!engine.ok()) std::abort();
    auto tenant = (*engine)->EnsureTenant("bench");
    if (!tenant.ok()) std::abort();
    s.tenant_id = tenant->id;
    s.engine = std::move(*engine);
  });
  return s;
}

void BM_Submit(benchmark::State& state, bool group_commit) {
  Setup& s = GetSetup(group_commit);
  static std::atomic<int64_t> counter{0};
  SubmitContext ctx;
  ctx.tenant_id = s.tenant_id;
  Notification n;
  n.type = "deploy.finished";
  n.priority = Priority::kHigh;
  n.tags = {{"env", "prod"}, {"service", "checkout"}};
  n.data = {{"version", "2.3.1"}, {"commit", "9f2c1e7"}};
  n.body = std::string(300, 'x');

  const int64_t tx0 = s.engine->pipeline().committer().transactions();
  const int64_t rows0 = s.engine->pipeline().committer().rows();
  for (auto _ : state) {
    n.title = absl::StrCat("release ", counter.fetch_add(1, std::memory_order_relaxed));
    absl::StatusOr<SubmitResult> r = s.engine->pipeline().Submit(ctx, n);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    const int64_t tx = s.engine->pipeline().committer().transactions() - tx0;
    const int64_t rows = s.engine->pipeline().committer().rows() - rows0;
    state.counters["rows_per_commit"] = tx > 0 ? static_cast<double>(rows) / tx : 0;
  }
}

BENCHMARK_CAPTURE(BM_Submit, one_commit_per_submission, false)
    ->Threads(1)->Threads(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_Submit, group_commit, true)
    ->Threads(1)->Threads(64)->UseRealTime();

}  // namespace
}  // namespace alerthub

int main(int argc, char** argv) {
  // As in the daemons: no lock-graph bookkeeping on every mutex acquisition.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
