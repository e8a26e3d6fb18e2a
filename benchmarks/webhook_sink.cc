// webhook_sink: a local webhook receiver for the delivery benchmarks
// (benchmarks/load/delivery.py, benchmarks/load/alertmanager.py). It answers
// POSTs at once (200, or 500 for a chosen fraction), counts them, and
// records, per received notification, the time from its `created_at` to
// arrival. It also records the arrival time (Unix ns) of every item that
// carries a benchmark id: an AlertHub notification's `data.bench_id`, or the
// `bench_id` label of each alert of an Alertmanager webhook message
// (`{"alerts": [{"labels": {...}}, ...]}`), so one sink times both systems.
// GET /stats reports the counts and latency percentiles as JSON; GET
// /arrivals the recorded ids ({"id": unix_ns, ...}); POST /reset clears them.
//
//   webhook_sink --port=9100 --fail_every=100   # every 100th request: 500
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alerthub/common/time.h"
#include "alerthub/server/http/http_server.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(int, port, 9100, "Port to listen on (127.0.0.1).");
ABSL_FLAG(int, fail_every, 0, "Answer 500 to every Nth request (0: never).");
ABSL_FLAG(int, io_threads, 1, "I/O threads.");

namespace {

struct Stats {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> failed{0};
  absl::Mutex mu;
  std::vector<double> latencies_ms ABSL_GUARDED_BY(mu);
  // (bench id, arrival in Unix ns) per item that carried a bench id.
  std::vector<std::pair<std::string, int64_t>> arrivals ABSL_GUARDED_BY(mu);
};

// The bench id of an AlertHub notification body or of one Alertmanager alert
// (`field` is "data" or "labels"); empty when absent.
std::string BenchId(const nlohmann::json& item, const char* field) {
  if (!item.is_object()) return "";
  auto f = item.find(field);
  if (f == item.end() || !f->is_object()) return "";
  auto id = f->find("bench_id");
  if (id == f->end() || !id->is_string()) return "";
  return id->get<std::string>();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  static Stats stats;
  const int fail_every = absl::GetFlag(FLAGS_fail_every);
  using alerthub::http::Request;
  using alerthub::http::Response;
  using alerthub::http::ResponseWriter;
  alerthub::http::Router router;
  router.Add(
      "POST", "/hook",
      [fail_every](Request req, ResponseWriter w) {
        const int64_t n = stats.requests.fetch_add(1) + 1;
        Response r;
        if (fail_every > 0 && n % fail_every == 0) {
          stats.failed.fetch_add(1);
          r.status = 500;
        } else {
          r.status = 200;
          // Delivery latency: from the notification's created_at to now.
          nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
          const int64_t arrived_ns = absl::ToUnixNanos(absl::Now());
          std::vector<std::string> ids;
          if (std::string id = BenchId(j, "data"); !id.empty()) ids.push_back(std::move(id));
          if (j.is_object() && j.contains("alerts") && j["alerts"].is_array()) {
            for (const nlohmann::json& alert : j["alerts"]) {
              if (std::string id = BenchId(alert, "labels"); !id.empty()) {
                ids.push_back(std::move(id));
              }
            }
          }
          if (!ids.empty()) {
            absl::MutexLock lock(&stats.mu);
            for (std::string& id : ids) stats.arrivals.emplace_back(std::move(id), arrived_ns);
          }
          if (j.is_object() && j.contains("created_at") && j["created_at"].is_string()) {
            absl::StatusOr<absl::Time> created =
                alerthub::ParseRfc3339(j["created_at"].get<std::string>());
            if (created.ok()) {
              absl::MutexLock lock(&stats.mu);
              stats.latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - *created));
            }
          }
        }
        r.body = "ok";
        std::move(w).Send(std::move(r));
      },
      {.blocking = false, .name = "/hook"});
  router.Add(
      "GET", "/stats",
      [](Request, ResponseWriter w) {
        std::vector<double> copy;
        size_t items = 0;
        {
          absl::MutexLock lock(&stats.mu);
          copy = stats.latencies_ms;
          items = stats.arrivals.size();
        }
        nlohmann::json j = {{"requests", stats.requests.load()},
                            {"failed", stats.failed.load()},
                            {"delivered", copy.size()},
                            {"items", items},
                            {"latency_ms",
                             {{"p50", Percentile(copy, 0.50)},
                              {"p99", Percentile(copy, 0.99)},
                              {"max", Percentile(copy, 1.0)}}}};
        Response r;
        r.status = 200;
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = j.dump();
        std::move(w).Send(std::move(r));
      },
      {.blocking = false, .name = "/stats"});
  router.Add(
      "GET", "/arrivals",
      [](Request, ResponseWriter w) {
        nlohmann::json j = nlohmann::json::object();
        {
          absl::MutexLock lock(&stats.mu);
          for (const auto& [id, ns] : stats.arrivals) {
            if (!j.contains(id)) j[id] = ns;  // the first arrival of each id
          }
        }
        Response r;
        r.status = 200;
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = j.dump();
        std::move(w).Send(std::move(r));
      },
      {.blocking = false, .name = "/arrivals"});
  router.Add(
      "POST", "/reset",
      [](Request, ResponseWriter w) {
        stats.requests = 0;
        stats.failed = 0;
        {
          absl::MutexLock lock(&stats.mu);
          stats.latencies_ms.clear();
          stats.arrivals.clear();
        }
        Response r;
        r.status = 204;
        std::move(w).Send(std::move(r));
      },
      {.blocking = false, .name = "/reset"});

  alerthub::http::HttpServerOptions options;
  options.port = absl::GetFlag(FLAGS_port);
  options.io_threads = absl::GetFlag(FLAGS_io_threads);
  options.access_log = nullptr;
  absl::StatusOr<std::unique_ptr<alerthub::http::HttpServer>> server =
      alerthub::http::HttpServer::Start(std::move(router), options);
  if (!server.ok()) {
    std::fprintf(stderr, "webhook_sink: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("webhook_sink listening on 127.0.0.1:%d\n", (*server)->port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Shutdown(absl::Seconds(1));
  return 0;
}
