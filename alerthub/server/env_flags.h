// Every daemon flag can also come from the environment: --http_port from
// ALERTHUB_HTTP_PORT, and so on (ARCHITECTURE §4). Flags given on the command
// line win over the environment.
//
//   int main(int argc, char** argv) {
//     if (absl::Status s = ApplyEnvironmentToFlags(); !s.ok()) { ... }
//     absl::ParseCommandLine(argc, argv);
#ifndef ALERTHUB_SERVER_ENV_FLAGS_H_
#define ALERTHUB_SERVER_ENV_FLAGS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace alerthub::server {

// For every flag defined in a file under daemons/ or alerthub/ (that is,
// AlertHub's own flags), sets it from ALERTHUB_<FLAG NAME IN UPPER CASE>
// when that variable is set. kInvalidArgument naming the variable when a
// value does not parse. Call before absl::ParseCommandLine.
absl::Status ApplyEnvironmentToFlags(absl::string_view prefix = "ALERTHUB_");

// "ALERTHUB_HTTP_PORT" for "http_port".
std::string EnvironmentVariableFor(absl::string_view flag, absl::string_view prefix = "ALERTHUB_");

}  // namespace alerthub::server

#endif  // ALERTHUB_SERVER_ENV_FLAGS_H_
