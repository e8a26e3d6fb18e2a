// Live-server tests: where the servers are. tools/services.sh starts
// PostgreSQL, Redis, RabbitMQ and a Kafka broker and prints their URLs as
// ALERTHUB_TEST_*_URL exports; Bazel passes them to tests named with
// --test_env (tools/test.sh does both).
#ifndef ALERTHUB_TESTS_LIVE_LIVE_ENV_H_
#define ALERTHUB_TESTS_LIVE_LIVE_ENV_H_

#include <string>

#include "absl/status/statusor.h"

namespace alerthub::testing {

// The value of environment variable `name` (e.g. "ALERTHUB_TEST_REDIS_URL").
// kFailedPrecondition when it is unset or empty, with a message that says how
// to start the servers: a live test fails, never skips, without its server.
absl::StatusOr<std::string> LiveServerUrl(const char* name);

}  // namespace alerthub::testing

#endif  // ALERTHUB_TESTS_LIVE_LIVE_ENV_H_
