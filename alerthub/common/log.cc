#include "alerthub/common/log.h"

#include <unistd.h>

#include "absl/time/clock.h"
#include "alerthub/common/time.h"

namespace alerthub {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

std::string FormatLogLine(LogLevel level, absl::string_view msg, const nlohmann::json& fields) {
  // Ordered so every line starts with ts, level, msg.
  nlohmann::ordered_json j;
  j["ts"] = FormatRfc3339(absl::Now());
  j["level"] = LevelName(level);
  j["msg"] = std::string(msg);
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) {
      if (k != "ts" && k != "level" && k != "msg") j[k] = v;
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Log(LogLevel level, absl::string_view msg, const nlohmann::json& fields) {
  std::string line = FormatLogLine(level, msg, fields);
  line.push_back('\n');
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

std::string MaskEmail(absl::string_view email) {
  size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0) return std::string(email);
  return std::string(email.substr(0, 1)) + "***" + std::string(email.substr(at));
}

}  // namespace alerthub
