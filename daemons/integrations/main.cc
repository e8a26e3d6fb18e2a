// alerthub-integrations: the integrations service alone — the routes for
// integrations, templates and deliveries, the routing of accepted
// notifications (consumer group alerthub-integrations) and the delivery
// workers — on the adapters its URL flags name.
//
//   alerthub-integrations --store=sqlite:///var/lib/alerthub/alerthub.db
//       --secrets_key_file=/etc/alerthub/secrets.key --http_port=8081
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "alerthub/common/log.h"
#include "alerthub/server/app.h"
#include "alerthub/server/daemon_flags.h"

int main(int argc, char** argv) {
  absl::StatusOr<alerthub::server::AppOptions> options = alerthub::server::ParseDaemonFlags(
      argc, argv,
      "AlertHub integrations service. Every flag may also be set as ALERTHUB_<FLAG>.");
  if (!options.ok()) {
    std::fprintf(stderr, "alerthub-integrations: %s\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->engine.store.empty()) {
    std::fprintf(stderr, "alerthub-integrations: --store is required (e.g. sqlite:///path.db)\n");
    return 2;
  }
  if (options->delivery.secrets_key.empty() && options->delivery.secrets_key_file.empty()) {
    std::fprintf(stderr,
                 "alerthub-integrations: set --secrets_key_file or ALERTHUB_SECRETS_KEY "
                 "(generate a key with: openssl rand -base64 32)\n");
    return 2;
  }
  options->serve_router = false;
  options->delivery.enabled = true;
  absl::Status s = alerthub::server::RunRouterApp(*std::move(options));
  if (!s.ok()) {
    alerthub::Log(alerthub::LogLevel::kError, "alerthub-integrations failed",
                  {{"error", s.ToString()}});
    return 1;
  }
  return 0;
}
