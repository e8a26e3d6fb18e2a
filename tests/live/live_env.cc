#include "tests/live/live_env.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace alerthub::testing {

absl::StatusOr<std::string> LiveServerUrl(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return absl::FailedPreconditionError(
        absl::StrCat(name,
                     " is not set: this test needs a live server. Run `tools/services.sh start`, "
                     "then `eval \"$(tools/services.sh env)\"`, and pass --test_env=",
                     name, " to `tools/bazel.sh test` (or use --config=live)."));
  }
  return std::string(value);
}

}  // namespace alerthub::testing
