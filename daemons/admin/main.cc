// alerthub-admin: the admin API alone — gRPC (package alerthub.admin.v1,
// with server reflection) on --grpc_port (default 9090) and its REST mapping
// beside the rule and user routes on --http_port — on the store its URL flag
// names. Any number may run against one store.
//
//   alerthub-admin --store=postgres://alerthub@db/alerthub --http_port=8082
//       --jwt_signing_key_file=/etc/alerthub/jwt-signing-key.pem
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "alerthub/common/log.h"
#include "alerthub/server/app.h"
#include "alerthub/server/daemon_flags.h"

int main(int argc, char** argv) {
  absl::StatusOr<alerthub::server::AppOptions> options = alerthub::server::ParseDaemonFlags(
      argc, argv, "AlertHub admin API (gRPC + REST). Every flag may also be set as ALERTHUB_<FLAG>.");
  if (!options.ok()) {
    std::fprintf(stderr, "alerthub-admin: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  if (options->engine.store.empty()) {
    std::fprintf(stderr, "alerthub-admin: --store is required (e.g. postgres://host/db)\n");
    return 2;
  }
  options->serve_router = false;
  options->delivery.enabled = false;
  // Nothing of the admin API publishes to the bus: the routers' relays do.
  options->engine.run_relay = false;
  options->admin.serve_rest = true;
  if (options->admin.grpc_port < 0) options->admin.grpc_port = 9090;
  absl::Status s = alerthub::server::RunRouterApp(*std::move(options));
  if (!s.ok()) {
    alerthub::Log(alerthub::LogLevel::kError, "alerthub-admin failed", {{"error", s.ToString()}});
    return 1;
  }
  return 0;
}
