#include "alerthub/server/env_flags.h"

#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace alerthub::server {

std::string EnvironmentVariableFor(absl::string_view flag, absl::string_view prefix) {
  return absl::StrCat(prefix, absl::AsciiStrToUpper(flag));
}

absl::Status ApplyEnvironmentToFlags(absl::string_view prefix) {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string file = flag->Filename();
    if (!absl::StrContains(file, "daemons/") && !absl::StrContains(file, "alerthub/") &&
        !absl::StrContains(file, "examples/") && !absl::StrContains(file, "tests/")) {
      continue;
    }
    const std::string var = EnvironmentVariableFor(name, prefix);
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(var, "=\"", value, "\": ", error));
    }
  }
  return absl::OkStatus();
}

}  // namespace alerthub::server
