#include "alerthub/server/metrics/metrics.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub::metrics {
namespace {

using ::testing::HasSubstr;

constexpr int kThreads = 8;
constexpr int kPerThread = 100'000;

// --- Rendering -------------------------------------------------------------------

TEST(RegistryTest, RendersCountersWithChildrenSortedByLabelValues) {
  Registry registry;
  CounterFamily& requests = registry.AddCounter(
      "alerthub_http_requests_total", "HTTP requests served.", {"method", "route", "code"});
  requests.WithLabels({"POST", "/api/v1/notifications", "202"}).Increment(3);
  requests.WithLabels({"GET", "/health/live", "200"}).Increment();
  requests.WithLabels({"POST", "/api/v1/notifications", "202"}).Increment();

  EXPECT_EQ(registry.Render(),
            "# HELP alerthub_http_requests_total HTTP requests served.\n"
            "# TYPE alerthub_http_requests_total counter\n"
            "alerthub_http_requests_total{method=\"GET\",route=\"/health/live\",code=\"200\"} 1\n"
            "alerthub_http_requests_total{method=\"POST\",route=\"/api/v1/notifications\","
            "code=\"202\"} 4\n");
}

TEST(RegistryTest, LabeledFamilyWithoutChildrenRendersOnlyHelpAndType) {
  Registry registry;
  registry.AddCounter("alerthub_deliveries_total", "Deliveries.", {"channel", "outcome"});
  registry.AddGauge("alerthub_queue_depth", "Queued tasks.", {"queue"});
  registry.AddHistogram("alerthub_delivery_duration_seconds", "Delivery latency.", {"channel"});
  EXPECT_EQ(registry.Render(),
            "# HELP alerthub_deliveries_total Deliveries.\n"
            "# TYPE alerthub_deliveries_total counter\n"
            "# HELP alerthub_delivery_duration_seconds Delivery latency.\n"
            "# TYPE alerthub_delivery_duration_seconds histogram\n"
            "# HELP alerthub_queue_depth Queued tasks.\n"
            "# TYPE alerthub_queue_depth gauge\n");
}

TEST(RegistryTest, UnlabeledMetricsRenderZeroBeforeTheirFirstUpdate) {
  Registry registry;
  CounterFamily& accepted =
      registry.AddCounter("alerthub_notifications_accepted_total", "Notifications accepted.");
  registry.AddGauge("alerthub_websocket_connections", "Open WebSocket connections.");
  EXPECT_EQ(registry.Render(),
            "# HELP alerthub_notifications_accepted_total Notifications accepted.\n"
            "# TYPE alerthub_notifications_accepted_total counter\n"
            "alerthub_notifications_accepted_total 0\n"
            "# HELP alerthub_websocket_connections Open WebSocket connections.\n"
            "# TYPE alerthub_websocket_connections gauge\n"
            "alerthub_websocket_connections 0\n");
  accepted.WithLabels({}).Increment(7);
  EXPECT_THAT(registry.Render(), HasSubstr("\nalerthub_notifications_accepted_total 7\n"));
}

TEST(RegistryTest, RendersGauges) {
  Registry registry;
  GaugeFamily& g = registry.AddGauge("alerthub_pool_in_use", "Connections in use.", {"pool"});
  Gauge& db = g.WithLabels({"db"});
  db.Set(5);
  db.Add(2.5);
  db.Decrement();
  Gauge& redis = g.WithLabels({"redis"});
  redis.Increment();
  redis.Add(-3);
  EXPECT_EQ(db.Value(), 6.5);
  EXPECT_EQ(registry.Render(),
            "# HELP alerthub_pool_in_use Connections in use.\n"
            "# TYPE alerthub_pool_in_use gauge\n"
            "alerthub_pool_in_use{pool=\"db\"} 6.5\n"
            "alerthub_pool_in_use{pool=\"redis\"} -2\n");
}

TEST(RegistryTest, FormatsValuesAsPrometheusClientsDo) {
  // Go's strconv.FormatFloat(v, 'g', -1, 64).
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},
      {1, "1"},
      {-1.5, "-1.5"},
      {0.1, "0.1"},
      {0.0005, "0.0005"},
      {0.00005, "5e-05"},
      {123456, "123456"},
      {1e6, "1e+06"},
      {1234567, "1.234567e+06"},
      {1.0 / 3, "0.3333333333333333"},
      {1e300, "1e+300"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  Registry registry;
  GaugeFamily& g = registry.AddGauge("v", "Values.", {"i"});
  std::string expected = "# HELP v Values.\n# TYPE v gauge\n";
  for (size_t i = 0; i < cases.size(); ++i) {
    // Zero-padded so that the children sort in case order.
    std::string label = absl::StrCat(i < 10 ? "0" : "", i);
    g.WithLabels({label}).Set(cases[i].first);
    absl::StrAppend(&expected, "v{i=\"", label, "\"} ", cases[i].second, "\n");
  }
  EXPECT_EQ(registry.Render(), expected);
}

TEST(RegistryTest, CallbackGaugesAreEvaluatedAtEachRender) {
  Registry registry;
  std::atomic<int> backlog{3};
  registry.AddCallbackGauge("alerthub_outbox_backlog", "Outbox messages not yet published.",
                            [&] { return static_cast<double>(backlog.load()); });
  const std::string header =
      "# HELP alerthub_outbox_backlog Outbox messages not yet published.\n"
      "# TYPE alerthub_outbox_backlog gauge\n";
  EXPECT_EQ(registry.Render(), header + "alerthub_outbox_backlog 3\n");
  backlog = 41;
  EXPECT_EQ(registry.Render(), header + "alerthub_outbox_backlog 41\n");
}

TEST(RegistryTest, CallbackCountersRenderAsCounters) {
  Registry registry;
  int64_t commits = 7;
  registry.AddCallbackCounter("alerthub_store_commits_total", "Transactions committed.",
                              [&] { return static_cast<double>(commits); });
  EXPECT_EQ(registry.Render(),
            "# HELP alerthub_store_commits_total Transactions committed.\n"
            "# TYPE alerthub_store_commits_total counter\n"
            "alerthub_store_commits_total 7\n");
  EXPECT_DEATH(Registry().AddCallbackCounter("commits", "H.", [] { return 0.0; }),
               "metric commits: counter names end in \"_total\"");
}

TEST(RegistryTest, RendersHistogramsWithCumulativeBuckets) {
  Registry registry;
  HistogramFamily& latency = registry.AddHistogram(
      "alerthub_http_request_duration_seconds", "Request latency.", {"route"}, {0.125, 1});
  Histogram& h = latency.WithLabels({"/api/v1/notifications"});
  h.Observe(0.0625);
  h.Observe(0.125);  // on the bound: counted in le="0.125"
  h.Observe(0.5);
  h.ObserveDuration(absl::Seconds(2));
  h.Observe(std::numeric_limits<double>::quiet_NaN());  // ignored

  EXPECT_EQ(registry.Render(),
            "# HELP alerthub_http_request_duration_seconds Request latency.\n"
            "# TYPE alerthub_http_request_duration_seconds histogram\n"
            "alerthub_http_request_duration_seconds_bucket{route=\"/api/v1/notifications\","
            "le=\"0.125\"} 2\n"
            "alerthub_http_request_duration_seconds_bucket{route=\"/api/v1/notifications\","
            "le=\"1\"} 3\n"
            "alerthub_http_request_duration_seconds_bucket{route=\"/api/v1/notifications\","
            "le=\"+Inf\"} 4\n"
            "alerthub_http_request_duration_seconds_sum{route=\"/api/v1/notifications\"} "
            "2.6875\n"
            "alerthub_http_request_duration_seconds_count{route=\"/api/v1/notifications\"} 4\n");

  Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.buckets, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(s.sum, 2.6875);
  EXPECT_EQ(s.count, 4u);
}

TEST(RegistryTest, RendersDefaultLatencyBuckets) {
  Registry registry;
  Histogram& h = registry.AddHistogram("d_seconds", "Latency.").WithLabels({});
  h.Observe(0.003);
  h.Observe(20);
  EXPECT_EQ(registry.Render(),
            "# HELP d_seconds Latency.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.0005\"} 0\n"
            "d_seconds_bucket{le=\"0.001\"} 0\n"
            "d_seconds_bucket{le=\"0.0025\"} 0\n"
            "d_seconds_bucket{le=\"0.005\"} 1\n"
            "d_seconds_bucket{le=\"0.01\"} 1\n"
            "d_seconds_bucket{le=\"0.025\"} 1\n"
            "d_seconds_bucket{le=\"0.05\"} 1\n"
            "d_seconds_bucket{le=\"0.1\"} 1\n"
            "d_seconds_bucket{le=\"0.25\"} 1\n"
            "d_seconds_bucket{le=\"0.5\"} 1\n"
            "d_seconds_bucket{le=\"1\"} 1\n"
            "d_seconds_bucket{le=\"2.5\"} 1\n"
            "d_seconds_bucket{le=\"5\"} 1\n"
            "d_seconds_bucket{le=\"10\"} 1\n"
            "d_seconds_bucket{le=\"+Inf\"} 2\n"
            "d_seconds_sum 20.003\n"
            "d_seconds_count 2\n");
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry
      .AddCounter("alerthub_escapes_total", "Help with \\ backslash,\nnewline and \"quotes\".",
                  {"v"})
      .WithLabels({"a\\b \"c\"\nd"})
      .Increment();
  EXPECT_EQ(registry.Render(),
            "# HELP alerthub_escapes_total Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
            "# TYPE alerthub_escapes_total counter\n"
            "alerthub_escapes_total{v=\"a\\\\b \\\"c\\\"\\nd\"} 1\n");
}

TEST(RegistryTest, FamiliesAreSortedByName) {
  Registry registry;
  registry.AddGauge("c", "C.");
  registry.AddCounter("a_total", "A.");
  registry.AddGauge("b", "B.");
  EXPECT_EQ(registry.Render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n"
            "# HELP b B.\n# TYPE b gauge\nb 0\n"
            "# HELP c C.\n# TYPE c gauge\nc 0\n");
}

TEST(AddBuildInfoTest, RendersOneGaugeSeries) {
  Registry registry;
  AddBuildInfo(registry, "1.4.0", "3f2a9c1");
  EXPECT_EQ(registry.Render(),
            "# HELP alerthub_build_info The version and commit AlertHub was built from; the "
            "value is always 1.\n"
            "# TYPE alerthub_build_info gauge\n"
            "alerthub_build_info{version=\"1.4.0\",commit=\"3f2a9c1\"} 1\n");
}

TEST(RegistryTest, ContentTypeIsTextFormat004) {
  EXPECT_EQ(kContentType, "text/plain; version=0.0.4; charset=utf-8");
}

// --- Children ----------------------------------------------------------------------

TEST(FamilyTest, WithLabelsReturnsTheSameChildForever) {
  Registry registry;
  CounterFamily& f = registry.AddCounter("x_total", "X.", {"k"});
  Counter& first = f.WithLabels({"a"});
  for (int i = 0; i < 1000; ++i) f.WithLabels({absl::StrCat("other", i)});  // rehashes
  EXPECT_EQ(&f.WithLabels({"a"}), &first);
  EXPECT_NE(&f.WithLabels({"b"}), &first);
  // Values are compared whole: ("ab", "c") and ("a", "bc") are different children.
  CounterFamily& two = registry.AddCounter("y_total", "Y.", {"k1", "k2"});
  EXPECT_NE(&two.WithLabels({"ab", "c"}), &two.WithLabels({"a", "bc"}));
  // Long values take the allocating path and still find their child.
  const std::string long_value(1000, 'v');
  EXPECT_EQ(&f.WithLabels({long_value}), &f.WithLabels({long_value}));
}

TEST(FamilyTest, ConcurrentIncrementsOfOneChildAreExact) {
  Registry registry;
  Counter& c = registry.AddCounter("c_total", "C.", {"k"}).WithLabels({"v"});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) c.Increment();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(c.Value(), uint64_t{kThreads} * kPerThread);
  EXPECT_THAT(registry.Render(), HasSubstr("\nc_total{k=\"v\"} 800000\n"));
}

TEST(FamilyTest, ConcurrentObservationsAndGaugeAddsAreExact) {
  Registry registry;
  Histogram& h = registry.AddHistogram("h_seconds", "H.", {}, {0.5}).WithLabels({});
  Gauge& g = registry.AddGauge("g", "G.").WithLabels({});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        h.Observe(t % 2 == 0 ? 0.25 : 1.0);  // exact in binary: sums are exact
        g.Add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.buckets, (std::vector<uint64_t>{400'000, 800'000}));
  EXPECT_EQ(s.count, 800'000u);
  EXPECT_EQ(s.sum, 4 * kPerThread * 0.25 + 4 * kPerThread * 1.0);
  EXPECT_EQ(g.Value(), 800'000);
}

TEST(FamilyTest, ConcurrentLookupsCreateEachChildOnce) {
  Registry registry;
  CounterFamily& f = registry.AddCounter("l_total", "L.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) f.WithLabels({absl::StrCat(i % 100)}).Increment();
    });
  }
  for (std::thread& t : threads) t.join();
  for (int k = 0; k < 100; ++k) {
    EXPECT_EQ(f.WithLabels({absl::StrCat(k)}).Value(), uint64_t{kThreads} * 100) << k;
  }
}

TEST(FamilyTest, RenderWhileUpdatingIsSafe) {
  Registry registry;
  CounterFamily& f = registry.AddCounter("r_total", "R.", {"k"});
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20'000; ++i) f.WithLabels({absl::StrCat(i % 500)}).Increment();
    done = true;
  });
  int renders = 0;
  while (!done) {
    EXPECT_THAT(registry.Render(), HasSubstr("# TYPE r_total counter\n"));
    ++renders;
  }
  writer.join();
  EXPECT_GT(renders, 0);
  EXPECT_THAT(registry.Render(), HasSubstr("\nr_total{k=\"499\"} 40\n"));
}

// --- Validation ----------------------------------------------------------------------

TEST(ValidateTest, MetricNames) {
  for (absl::string_view good : {"a", "_", ":", "alerthub_http_requests_total", "a:b_c9", "A"}) {
    EXPECT_TRUE(ValidateMetricName(good).ok()) << good;
  }
  for (absl::string_view bad : {"", "9a", "a-b", "a b", "a.b", "é", "a\n"}) {
    EXPECT_EQ(ValidateMetricName(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateMetricName("a-b").message(),
            "invalid metric name \"a-b\": must match [a-zA-Z_:][a-zA-Z0-9_:]*");
}

TEST(ValidateTest, LabelNames) {
  for (absl::string_view good : {"a", "_", "_a", "method", "code2", "A_b"}) {
    EXPECT_TRUE(ValidateLabelName(good).ok()) << good;
  }
  for (absl::string_view bad : {"", "9a", "a:b", "a-b", "__name__", "__x"}) {
    EXPECT_EQ(ValidateLabelName(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateLabelName("__x").message(),
            "invalid label name \"__x\": \"__\" prefixes are reserved");
}

using RegistryDeathTest = ::testing::Test;

TEST_F(RegistryDeathTest, InvalidRegistrationsAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(Registry().AddGauge("a-b", "H."), "invalid metric name \"a-b\"");
  EXPECT_DEATH(Registry().AddGauge("g", "H.", {"__x"}),
               "metric g: invalid label name \"__x\"");
  EXPECT_DEATH(Registry().AddGauge("g", "H.", {"k", "k"}), "metric g: label \"k\" repeats");
  EXPECT_DEATH(Registry().AddGauge("g", ""), "metric g: help text is required");
  EXPECT_DEATH(Registry().AddCounter("requests", "H."),
               "metric requests: counter names end in \"_total\"");
  EXPECT_DEATH(Registry().AddGauge("g_total", "H."),
               "metric g_total: only counter names end in \"_total\"");
  EXPECT_DEATH(Registry().AddHistogram("h", "H.", {"le"}),
               "metric h: histograms cannot have label \"le\"");
  EXPECT_DEATH(Registry().AddHistogram("h", "H.", {}, {1, 1}),
               "metric h: buckets must be finite and strictly increasing");
  EXPECT_DEATH(
      Registry().AddHistogram("h", "H.", {}, {1, std::numeric_limits<double>::infinity()}),
      "metric h: buckets must be finite");
  EXPECT_DEATH(Registry().AddCallbackGauge("g", "H.", nullptr), "metric g: callback is empty");
}

TEST_F(RegistryDeathTest, TakenNamesAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddGauge("g", "H.");
        r.AddCounter("g_total", "H.");  // fine: a different name
        r.AddCallbackGauge("g", "H.", [] { return 1.0; });
      },
      "metric g: name \"g\" is already registered");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddHistogram("h", "H.");
        r.AddGauge("h_count", "H.");
      },
      "metric h_count: name \"h_count\" is already registered");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddGauge("h_sum", "H.");
        r.AddHistogram("h", "H.");
      },
      "metric h: name \"h_sum\" is already registered");
}

TEST_F(RegistryDeathTest, WrongNumberOfLabelValuesAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry registry;
  CounterFamily& f = registry.AddCounter("x_total", "X.", {"a", "b"});
  EXPECT_DEATH(f.WithLabels({"only-one"}), "metric x_total: 1 label values for 2 labels");
  EXPECT_DEATH(f.WithLabels({}), "metric x_total: 0 label values for 2 labels");
}

// --- promtool -------------------------------------------------------------------------

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

constexpr char kPromtool[] = "/usr/bin/promtool";

struct PromtoolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
  std::string input;
};

// Runs `promtool check metrics` (parse and lint) on `text`.
PromtoolResult RunPromtoolCheckMetrics(const std::string& text) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  const std::string input = dir + "/metrics.txt";
  const std::string output = dir + "/promtool.out";
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out << text;
  }
  const std::string command =
      absl::StrCat(kPromtool, " check metrics < '", input, "' > '", output, "' 2>&1");
  const int status = std::system(command.c_str());
  PromtoolResult result;
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.output = ReadFile(output);
  result.input = text;
  return result;
}

TEST(PromtoolTest, RenderedTextPassesPromtoolCheckMetrics) {
  if (access(kPromtool, X_OK) != 0) {
    GTEST_SKIP() << kPromtool << " not found (Debian package `prometheus`); not checking "
                 << "the text format with Prometheus' own parser and linter";
  }
  Registry registry;
  AddBuildInfo(registry, "1.4.0", "3f2a9c1");
  CounterFamily& requests = registry.AddCounter(
      "alerthub_http_requests_total", "HTTP requests served.", {"method", "route", "code"});
  requests.WithLabels({"POST", "/api/v1/notifications", "202"}).Increment(3);
  requests.WithLabels({"GET", "/api/v1/notifications/{id}", "404"}).Increment();
  registry.AddCounter("alerthub_deliveries_total", "Deliveries by channel and outcome.",
                      {"channel", "outcome"});  // no children
  registry.AddCounter("alerthub_notifications_accepted_total", "Notifications accepted.")
      .WithLabels({})
      .Increment(12);
  GaugeFamily& depth = registry.AddGauge("alerthub_queue_depth", "Tasks waiting, by queue.",
                                         {"queue"});
  depth.WithLabels({"integration.slack.delivery"}).Set(4);
  depth.WithLabels({"weird \"quoted\\\" \n value"}).Set(-0.5);
  registry.AddCallbackGauge("alerthub_outbox_backlog", "Outbox messages not yet published.",
                            [] { return 17.0; });
  HistogramFamily& latency = registry.AddHistogram(
      "alerthub_http_request_duration_seconds", "HTTP request latency.", {"route"});
  latency.WithLabels({"/api/v1/notifications"}).Observe(0.004);
  latency.WithLabels({"/api/v1/notifications"}).Observe(12);
  registry.AddHistogram("alerthub_delivery_duration_seconds", "Delivery latency.", {},
                        {0.1, 1, 10})
      .WithLabels({})
      .Observe(0.3);

  PromtoolResult result = RunPromtoolCheckMetrics(registry.Render());
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n--- input ---\n" << result.input;
  EXPECT_EQ(result.output, "");
}

// The harness above would notice a problem: promtool fails on text it
// objects to.
TEST(PromtoolTest, PromtoolRejectsBrokenText) {
  if (access(kPromtool, X_OK) != 0) GTEST_SKIP() << kPromtool << " not found";
  PromtoolResult lint = RunPromtoolCheckMetrics("# HELP foo F.\n# TYPE foo counter\nfoo 1\n");
  EXPECT_NE(lint.exit_code, 0);
  EXPECT_THAT(lint.output, HasSubstr("counter metrics should have \"_total\" suffix"));
  PromtoolResult parse = RunPromtoolCheckMetrics("# HELP foo F.\n# TYPE foo gauge\nfoo{a=\"b} 1\n");
  EXPECT_NE(parse.exit_code, 0);
}

}  // namespace
}  // namespace alerthub::metrics
