// alerthub-router: the notification router (REST + WebSocket) alone, on the
// adapters its URL flags name. Any number may run against one store.
// Deliveries are made by alerthub-integrations; with the in-process bus
// (inproc://) the router leaves the outbox to that daemon's relay, which
// routes what it publishes.
//
//   alerthub-router --store=sqlite:///var/lib/alerthub/alerthub.db --http_port=8080
#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "alerthub/common/log.h"
#include "alerthub/server/app.h"
#include "alerthub/server/daemon_flags.h"

int main(int argc, char** argv) {
  absl::StatusOr<alerthub::server::AppOptions> options = alerthub::server::ParseDaemonFlags(
      argc, argv,
      "AlertHub notification router. Every flag may also be set as ALERTHUB_<FLAG>.");
  if (!options.ok()) {
    std::fprintf(stderr, "alerthub-router: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->engine.store.empty()) {
    std::fprintf(stderr, "alerthub-router: --store is required (e.g. sqlite:///path.db)\n");
    return 2;
  }
  options->delivery.enabled = false;
  if (absl::StartsWith(options->engine.bus, "inproc://")) {
    // Only the process whose consumers subscribe to an in-process bus may
    // publish the outbox to it.
    options->engine.run_relay = false;
  }
  absl::Status s = alerthub::server::RunRouterApp(*std::move(options));
  if (!s.ok()) {
    alerthub::Log(alerthub::LogLevel::kError, "alerthub-router failed",
                  {{"error", s.ToString()}});
    return 1;
  }
  return 0;
}
