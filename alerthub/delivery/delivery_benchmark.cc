// Costs of the per-delivery CPU work: signing a webhook (against the raw
// HMAC-SHA256 it is built on, measured in the same run) and rendering
// templates. Run optimized, with repetitions (one command):
//   tools/bazel.sh run -c opt //alerthub/delivery:delivery_benchmark --
//       --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "alerthub/common/crypto.h"
#include "alerthub/delivery/signing.h"
#include "alerthub/delivery/templates.h"
#include "alerthub/model/notification.h"
#include "benchmark/benchmark.h"
#include "nlohmann/json.hpp"

namespace alerthub {
namespace {

constexpr absl::string_view kMsgId = "0190a5d0-4b1e-7c3a-9f00-1234567890ab";
constexpr int64_t kTimestamp = 1'800'000'000;

const std::string& Key() {
  static const std::string* key = new std::string(RandomBytes(32));
  return *key;
}

std::string Body(size_t n) { return std::string(n, 'b'); }

// The baseline: the one HMAC a signature needs, over the same content.
void BM_HmacSha256(benchmark::State& state) {
  const std::string content =
      absl::StrCat(kMsgId, ".", kTimestamp, ".", Body(static_cast<size_t>(state.range(0))));
  for (auto _ : state) {
    benchmark::DoNotOptimize(HmacSha256(Key(), content));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_HmacSha256)->Arg(256)->Arg(4096)->Threads(1)->Threads(2);

// HMAC plus building the signed content and base64.
void BM_SignWebhook(benchmark::State& state) {
  const std::string body = Body(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(SignWebhook(Key(), kMsgId, kTimestamp, body));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SignWebhook)->Arg(256)->Arg(4096)->Threads(1)->Threads(2);

// All three headers, one secret (the common case outside rotation).
void BM_WebhookHeaders(benchmark::State& state) {
  const std::string body = Body(static_cast<size_t>(state.range(0)));
  const std::vector<std::string> secrets = {Key()};
  for (auto _ : state) {
    benchmark::DoNotOptimize(WebhookHeaders(secrets, kMsgId, kTimestamp, body));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_WebhookHeaders)->Arg(256)->Arg(4096)->Threads(1)->Threads(2);

Notification Sample() {
  Notification n;
  n.id = std::string(kMsgId);
  n.type = "deploy.finished";
  n.title = "Deploy <v2> finished";
  n.body = "All checks passed & the rollout is complete.";
  n.priority = Priority::kHigh;
  n.created_at = absl::FromUnixSeconds(kTimestamp);
  n.tags = {{"env", "prod"}, {"team", "core"}};
  n.recipients = {"u1", "u2", "u3"};
  n.data = nlohmann::json::parse(
      R"({"build": {"url": "https://ci.example.com/1", "n": 42,
          "items": [{"name": "api"}, {"name": "web"}, {"name": "worker"}]}})");
  return n;
}

// One short template over a prepared context (context conversion included).
void BM_RenderTemplate(benchmark::State& state) {
  const nlohmann::json context = TemplateContext(Sample());
  constexpr absl::string_view kTemplate =
      "[{{tags.env}}] {{title}}: {{body}} ({{#data.build.items}}{{name}} "
      "{{/data.build.items}}) {{data.build.url}}";
  for (auto _ : state) {
    absl::StatusOr<std::string> out = RenderTemplate(kTemplate, context, Escaping::kHtml);
    if (!out.ok()) state.SkipWithError("render failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_RenderTemplate)->Threads(1)->Threads(2);

// A whole default e-mail (subject, text, html) from the notification.
void BM_RenderEmailDefault(benchmark::State& state) {
  const Notification n = Sample();
  for (auto _ : state) {
    absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kEmail, nullptr, n);
    if (!m.ok()) state.SkipWithError("render failed");
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_RenderEmailDefault)->Threads(1)->Threads(2);

// The default webhook body (no template: the notification JSON).
void BM_RenderWebhookDefault(benchmark::State& state) {
  const Notification n = Sample();
  for (auto _ : state) {
    absl::StatusOr<RenderedMessage> m = RenderForChannel(Channel::kWebhook, nullptr, n);
    if (!m.ok()) state.SkipWithError("render failed");
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_RenderWebhookDefault)->Threads(1)->Threads(2);

}  // namespace
}  // namespace alerthub
