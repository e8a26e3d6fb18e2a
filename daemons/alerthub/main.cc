// alerthub: the all-in-one daemon. Every REST route and the WebSocket on one
// port, on embedded defaults: a SQLite file under --data_dir, the in-process
// bus, the in-memory Kv. Every flag can also be set as ALERTHUB_<FLAG>.
//
//   alerthub --data_dir=/var/lib/alerthub --http_port=8080
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "alerthub/common/log.h"
#include "alerthub/server/app.h"
#include "alerthub/server/daemon_flags.h"

ABSL_FLAG(std::string, data_dir, "./alerthub-data",
          "Directory for the SQLite database, the bootstrap API key, the secrets key "
          "(secrets.key, unless --secrets_key_file is set) and the JWT signing key "
          "(jwt-signing-key.pem, unless --jwt_signing_key_file is set); created if missing. "
          "The store defaults to sqlite://<data_dir>/alerthub.db.");

int main(int argc, char** argv) {
  absl::StatusOr<alerthub::server::AppOptions> options = alerthub::server::ParseDaemonFlags(
      argc, argv,
      "AlertHub all-in-one daemon. Every flag may also be set as ALERTHUB_<FLAG>.");
  if (!options.ok()) {
    std::fprintf(stderr, "alerthub: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "alerthub: cannot create --data_dir %s: %s\n", data_dir.c_str(),
                 std::strerror(errno));
    return 2;
  }
  if (options->engine.store.empty()) {
    options->engine.store = absl::StrCat("sqlite://", data_dir, "/alerthub.db");
  }
  if (options->admin.grpc_port < 0) options->admin.grpc_port = 9090;
  options->admin.serve_rest = true;
  if (options->bootstrap_key_file.empty()) {
    options->bootstrap_key_file = absl::StrCat(data_dir, "/bootstrap-api-key");
  }
  if (options->admin.jwt.signing_key_file.empty()) {
    // First start: an RSA key pair for login access tokens (PKCS#8, 0600);
    // later starts reuse it.
    options->admin.jwt.signing_key_file = absl::StrCat(data_dir, "/jwt-signing-key.pem");
    options->admin.jwt.create_signing_key = true;
    options->admin.jwt.public_key_file = absl::StrCat(data_dir, "/jwt-signing-key.pub.pem");
  }
  if (options->delivery.secrets_key_file.empty()) {
    // First start: a fresh key in the data dir (0600).
    options->delivery.secrets_key_file = absl::StrCat(data_dir, "/secrets.key");
    options->delivery.create_secrets_key = true;
  }

  absl::Status s = alerthub::server::RunRouterApp(*std::move(options));
  if (!s.ok()) {
    alerthub::Log(alerthub::LogLevel::kError, "alerthub failed", {{"error", s.ToString()}});
    return 1;
  }
  return 0;
}
