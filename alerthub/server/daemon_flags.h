// The command-line flags every AlertHub daemon shares (adapter URLs, HTTP
// server, rate limits, dedup), each also readable from ALERTHUB_<FLAG>
// (env_flags.h). A daemon's main() parses them and calls AppOptionsFromFlags.
//
//   int main(int argc, char** argv) {
//     absl::StatusOr<AppOptions> options = ParseDaemonFlags(argc, argv, "usage...");
//     ...
#ifndef ALERTHUB_SERVER_DAEMON_FLAGS_H_
#define ALERTHUB_SERVER_DAEMON_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "alerthub/server/app.h"

ABSL_DECLARE_FLAG(std::string, store);
ABSL_DECLARE_FLAG(std::string, bus);
ABSL_DECLARE_FLAG(std::string, queue);
ABSL_DECLARE_FLAG(std::string, kv);

namespace alerthub::server {

// Applies ALERTHUB_* variables, parses the command line (flags win), and
// builds AppOptions from the shared flags. kInvalidArgument naming the
// variable when an environment value does not parse.
absl::StatusOr<AppOptions> ParseDaemonFlags(int argc, char** argv, absl::string_view usage);

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_DAEMON_FLAGS_H_
