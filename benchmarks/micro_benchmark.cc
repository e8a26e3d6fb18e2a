// Micro-benchmarks of issue 9 that no package benchmark covers yet, each
// beside a baseline measured in the same binary and the same run:
//
//   token bucket (memory)    TakeFromBucket, memory:// Kv::TakeTokens and
//                            RateLimiter::Check  vs  std::unordered_map lookup
//                            (and vs the absl::Now() each of them reads)
//   dedup key                ContentHash  vs  bare SHA-256 of the same bytes
//   parse + validate         NotificationFromRequestJson over a ~512-byte body
//                            vs  bare nlohmann::json::parse of the same body
//   template render          RenderTemplate (and TemplateContext + render)
//                            vs  absl::StrCat of the same text
//
// Covered elsewhere (not repeated here; see docs/benchmarks.md):
//   rule evaluation at 10 / 100 / 1,000 / 10,000 rules   alerthub/rules/rules_benchmark.cc
//   webhook signing vs raw HMAC-SHA256 (OpenSSL HMAC())  alerthub/delivery/delivery_benchmark.cc
//   SQLite group-commit insert                           alerthub/adapters/sqlite/sqlite_store_benchmark.cc
//                                                        and benchmarks/submit_benchmark.cc
//
// Run optimized (one command line):
//   tools/bazel.sh run -c opt //benchmarks:micro_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "alerthub/adapters/memory/memory_kv.h"
#include "alerthub/common/crypto.h"
#include "alerthub/dedup/dedup.h"
#include "alerthub/delivery/templates.h"
#include "alerthub/model/notification.h"
#include "alerthub/ratelimit/rate_limiter.h"
#include "alerthub/ratelimit/token_bucket.h"
#include "benchmark/benchmark.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

// ---------------------------------------------------------------------------
// Token bucket (memory). Every variant cycles over the same kKeys bucket keys
// (one per tenant-endpoint pair, as the daemon's limiter keys them), so the
// baseline pays the same hashing of a string key as the buckets do. Buckets
// are generous enough never to deny, so each call is a refill and a take.

constexpr int kKeys = 1024;
constexpr TokenBucketSpec kGenerous = {.rate_per_second = 1e12, .burst = 1e12};

const std::vector<std::string>& BucketKeys() {
  static const std::vector<std::string>* keys = [] {
    auto* v = new std::vector<std::string>();
    for (int i = 0; i < kKeys; ++i) {
      v->push_back(absl::StrCat("rl:tenant-", 100000 + i, ":notifications.submit"));
    }
    return v;
  }();
  return *keys;
}

// Baseline: the clock read every bucket operation starts with (absl::Now();
// clock_gettime through the vDSO, when the clock source allows it).
void BM_Baseline_ClockNow(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(absl::Now());
  }
}
BENCHMARK(BM_Baseline_ClockNow)->Threads(1)->Threads(2);

// For comparison: a coarse clock (CLOCK_REALTIME_COARSE: the kernel's last
// tick, 1-4 ms resolution, read from the vDSO page without a clock source).
void BM_Baseline_CoarseClock(benchmark::State& state) {
  for (auto _ : state) {
    timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_Baseline_CoarseClock)->Threads(1)->Threads(2);

// Baseline: find the key's state in an std::unordered_map (read-only, shared
// by the threads) — the floor of any keyed in-memory bucket table.
void BM_Baseline_UnorderedMapLookup(benchmark::State& state) {
  static const std::unordered_map<std::string, TokenBucketState>* map = [] {
    auto* m = new std::unordered_map<std::string, TokenBucketState>();
    for (const std::string& k : BucketKeys()) (*m)[k] = TokenBucketState{};
    return m;
  }();
  const std::vector<std::string>& keys = BucketKeys();
  size_t i = static_cast<size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    auto it = map->find(keys[i++ % kKeys]);
    benchmark::DoNotOptimize(it);
  }
}
BENCHMARK(BM_Baseline_UnorderedMapLookup)->Threads(1)->Threads(2);

// The bucket arithmetic alone (refill, take one) on a thread's own state,
// time advancing 1 us per call without reading a clock.
void BM_TakeFromBucket_NoClock(benchmark::State& state) {
  TokenBucketState bucket;
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  for (auto _ : state) {
    now += absl::Microseconds(1);
    TokenBucketDecision d = TakeFromBucket(&bucket, kGenerous, 1, now);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_TakeFromBucket_NoClock)->Threads(1)->Threads(2);

// The bucket arithmetic (refill to now, take one) on a thread's own state,
// clock read included: what memory:// and the Redis Lua script share.
void BM_TakeFromBucket(benchmark::State& state) {
  TokenBucketState bucket;
  for (auto _ : state) {
    TokenBucketDecision d = TakeFromBucket(&bucket, kGenerous, 1, absl::Now());
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_TakeFromBucket)->Threads(1)->Threads(2);

// memory:// Kv::TakeTokens: spec check, clock, sharded mutex, map find,
// arithmetic. The threads share the Kv and the key set (different keys at a
// time, so lock contention is only that of sharing shards).
void BM_MemoryKvTakeTokens(benchmark::State& state) {
  static Kv* kv = NewMemoryKv().release();
  const std::vector<std::string>& keys = BucketKeys();
  size_t i = static_cast<size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    absl::StatusOr<TokenBucketDecision> d = kv->TakeTokens(keys[i++ % kKeys], kGenerous, 1);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_MemoryKvTakeTokens)->Threads(1)->Threads(2);

// What a request pays: RateLimiter::Check on memory:// — the tenant bucket
// and the (tenant, endpoint) bucket, both taken (keys built, then one
// TwoBucketTaker call; on a Kv without it, two TakeTokens calls).
void BM_RateLimiterCheck(benchmark::State& state) {
  static Kv* kv = NewMemoryKv().release();
  static RateLimiter* limiter =
      new RateLimiter(kv, {.tenant = kGenerous, .endpoint = kGenerous});
  std::vector<std::string> tenants;
  for (int t = 0; t < kKeys; ++t) tenants.push_back(absl::StrCat("tenant-", 100000 + t));
  size_t i = static_cast<size_t>(state.thread_index()) * 7;
  for (auto _ : state) {
    absl::StatusOr<RateLimitInfo> r =
        limiter->Check(tenants[i++ % kKeys], "notifications.submit", 1);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RateLimiterCheck)->Threads(1)->Threads(2);

// ---------------------------------------------------------------------------
// A ~512-byte submission: the body benchmarks/load/submit.lua POSTs.

std::string SubmissionBody() {
  return absl::StrCat(
      R"({"type":"deploy.finished","title":"release 12345-678901234","priority":"high",)",
      R"("body":")", std::string(300, 'x'), R"(","tags":{"env":"prod","service":"checkout"},)",
      R"("data":{"version":"2.3.1","commit":"9f2c1e7"},"recipients":["u1","u2"]})");
}

Notification ParsedSubmission() {
  absl::StatusOr<Notification> n =
      NotificationFromRequestJson(nlohmann::json::parse(SubmissionBody()), absl::Now());
  if (!n.ok()) {
    fprintf(stderr, "bad benchmark notification: %s\n", n.status().ToString().c_str());
    abort();
  }
  n->id = "0190a5d0-4b1e-7c3a-9f00-1234567890ab";
  n->created_at = absl::FromUnixSeconds(1'800'000'000);
  return *std::move(n);
}

// ---------------------------------------------------------------------------
// Dedup key.

// The canonical bytes ContentHash() hashes for `n` (alerthub/dedup/dedup.cc:
// each field as "<length>:<bytes>;", priority, data with sorted keys, counted
// lists), rebuilt here once so the baseline hashes exactly as many bytes.
std::string CanonicalBytes(const Notification& n) {
  std::string canon;
  auto field = [&canon](absl::string_view s) { absl::StrAppend(&canon, s.size(), ":", s, ";"); };
  field(n.type);
  field(n.title);
  field(n.body);
  absl::StrAppend(&canon, static_cast<int>(n.priority), ";");
  field(n.data.dump());
  absl::StrAppend(&canon, "t", n.tags.size(), ";");
  for (const auto& [k, v] : n.tags) {
    field(k);
    field(v);
  }
  absl::StrAppend(&canon, "r", n.recipients.size(), ";");
  for (const std::string& r : n.recipients) field(r);
  absl::StrAppend(&canon, "c0;i0;");
  field("");
  field("");
  return canon;
}

// Baseline: SHA-256 (OpenSSL EVP, via common/crypto) of the canonical bytes.
void BM_Baseline_Sha256(benchmark::State& state) {
  const std::string canon = CanonicalBytes(ParsedSubmission());
  for (auto _ : state) {
    benchmark::DoNotOptimize(Sha256(canon));
  }
  state.counters["bytes"] =
      benchmark::Counter(static_cast<double>(canon.size()), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_Baseline_Sha256)->Threads(1)->Threads(2);

// ContentHash: canonical form (data re-serialized with sorted keys), SHA-256,
// hex — the key of the content-dedup window.
void BM_ContentHash(benchmark::State& state) {
  const Notification n = ParsedSubmission();
  for (auto _ : state) {
    benchmark::DoNotOptimize(ContentHash(n));
  }
}
BENCHMARK(BM_ContentHash)->Threads(1)->Threads(2);

// ---------------------------------------------------------------------------
// JSON parse + validate of the ~512-byte submission.

// Baseline: nlohmann::json::parse alone.
void BM_Baseline_JsonParse(benchmark::State& state) {
  const std::string body = SubmissionBody();
  for (auto _ : state) {
    nlohmann::json j = nlohmann::json::parse(body);
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
  state.counters["body_bytes"] =
      benchmark::Counter(static_cast<double>(body.size()), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_Baseline_JsonParse)->Threads(1)->Threads(2);

// What the submit handler does with a body: parse, then
// NotificationFromRequestJson (field decoding + ValidateNotification).
void BM_ParseAndValidate(benchmark::State& state) {
  const std::string body = SubmissionBody();
  for (auto _ : state) {
    absl::StatusOr<Notification> n =
        NotificationFromRequestJson(nlohmann::json::parse(body), absl::Now());
    if (!n.ok()) state.SkipWithError("invalid notification");
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ParseAndValidate)->Threads(1)->Threads(2);

// ---------------------------------------------------------------------------
// Template render. The template is the one of delivery_benchmark's
// BM_RenderTemplate; the baseline builds the same text by concatenation.

Notification TemplateSample() {
  Notification n;
  n.id = "0190a5d0-4b1e-7c3a-9f00-1234567890ab";
  n.type = "deploy.finished";
  n.title = "Deploy v2 finished";
  n.body = "All checks passed and the rollout is complete.";
  n.priority = Priority::kHigh;
  n.created_at = absl::FromUnixSeconds(1'800'000'000);
  n.tags = {{"env", "prod"}, {"team", "core"}};
  n.recipients = {"u1", "u2", "u3"};
  n.data = nlohmann::json::parse(
      R"({"build": {"url": "https://ci.example.com/1", "n": 42,
          "items": [{"name": "api"}, {"name": "web"}, {"name": "worker"}]}})");
  return n;
}

constexpr absl::string_view kTemplate =
    "[{{tags.env}}] {{title}}: {{body}} ({{#data.build.items}}{{name}} "
    "{{/data.build.items}}) {{data.build.url}}";

// Baseline: the same output from the same Notification with absl::StrCat
// (no escaping needed: the sample has no special characters).
void BM_Baseline_StringConcat(benchmark::State& state) {
  const Notification n = TemplateSample();
  const nlohmann::json& build = n.data["build"];
  for (auto _ : state) {
    std::string out = absl::StrCat("[", n.tags.at("env"), "] ", n.title, ": ", n.body, " (");
    for (const nlohmann::json& item : build["items"]) {
      absl::StrAppend(&out, item["name"].get_ref<const std::string&>(), " ");
    }
    absl::StrAppend(&out, ") ", build["url"].get_ref<const std::string&>());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Baseline_StringConcat)->Threads(1)->Threads(2);

// RenderTemplate over a prepared context (parse + render of the template).
void BM_RenderTemplate(benchmark::State& state) {
  const nlohmann::json context = TemplateContext(TemplateSample());
  for (auto _ : state) {
    absl::StatusOr<std::string> out = RenderTemplate(kTemplate, context, Escaping::kHtml);
    if (!out.ok()) state.SkipWithError("render failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_RenderTemplate)->Threads(1)->Threads(2);

// What one delivery pays: TemplateContext (Notification -> JSON) + render.
void BM_ContextAndRenderTemplate(benchmark::State& state) {
  const Notification n = TemplateSample();
  for (auto _ : state) {
    absl::StatusOr<std::string> out =
        RenderTemplate(kTemplate, TemplateContext(n), Escaping::kHtml);
    if (!out.ok()) state.SkipWithError("render failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ContextAndRenderTemplate)->Threads(1)->Threads(2);

// Checks once that the baseline and the template produce the same text, so
// the comparison stays honest if either changes.
bool SameOutput() {
  const Notification n = TemplateSample();
  absl::StatusOr<std::string> rendered =
      RenderTemplate(kTemplate, TemplateContext(n), Escaping::kHtml);
  const nlohmann::json& build = n.data["build"];
  std::string concat = absl::StrCat("[", n.tags.at("env"), "] ", n.title, ": ", n.body, " (");
  for (const nlohmann::json& item : build["items"]) {
    absl::StrAppend(&concat, item["name"].get_ref<const std::string&>(), " ");
  }
  absl::StrAppend(&concat, ") ", build["url"].get_ref<const std::string&>());
  if (!rendered.ok() || *rendered != concat) {
    fprintf(stderr, "template and concat differ:\n  %s\n  %s\n",
            rendered.ok() ? rendered->c_str() : rendered.status().ToString().c_str(),
            concat.c_str());
    return false;
  }
  return true;
}

}  // namespace
}  // namespace alerthub

int main(int argc, char** argv) {
  // As in the daemons: no lock-graph bookkeeping on every mutex acquisition.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (!alerthub::SameOutput()) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
